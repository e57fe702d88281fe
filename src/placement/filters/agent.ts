/**
 * First stage: only ACTIVE instances whose agent is connected take tasks. "Only instances connected to an
 * agent can accept task placement requests" [BC ContainerInstance.agentConnected]; a disconnected one is
 * reported as `AGENT` so callers are not left waiting [DG:api_failures_messages]. A DRAINING or INACTIVE
 * instance is reported under its status, as StartTask reports `INACTIVE` (ECS-SEMANTICS.md §2.7).
 */
import type { Filter } from '../types.js';

export const agentFilter: Filter = {
  name: 'agent',
  check(c) {
    if (c.status !== 'ACTIVE') {
      return { reason: c.status, detail: `The container instance is ${c.status}; only ACTIVE instances take new tasks.` };
    }
    if (!c.agentConnected) {
      return { reason: 'AGENT', detail: 'The container agent is not connected, so the instance cannot take tasks until it reconnects.' };
    }
    return undefined;
  },
};
