/**
 * Static host ports: none of the task's may already be in use on the instance, whether reserved by the agent
 * (ECS_RESERVED_PORTS) or held by another task. TCP is checked before UDP, each with its own ECS reason.
 */
import type { Filter, Rejection } from '../types.js';

export const portsFilter: Filter = {
  name: 'ports',
  check(c, demand) {
    return clash('TCP', demand.portsTcp, c.remaining.portsTcp) ?? clash('UDP', demand.portsUdp, c.remaining.portsUdp);
  },
};

function clash(protocol: 'TCP' | 'UDP', wanted: readonly number[], used: ReadonlySet<number>): Rejection | undefined {
  const taken = wanted.filter((p) => used.has(p));
  if (taken.length === 0) return undefined;
  return {
    reason: `RESOURCE:PORTS_${protocol}`,
    detail: `${protocol} host port${taken.length > 1 ? 's' : ''} ${taken.join(', ')} ${taken.length > 1 ? 'are' : 'is'} already in use on the instance.`,
    shortfall: taken.length,
  };
}
