/** Memory in MiB: the task's reservation (soft limits where given) must fit in what the instance has left. */
import type { Filter } from '../types.js';

export const memoryFilter: Filter = {
  name: 'memory',
  check(c, demand) {
    const left = c.remaining.memory;
    if (demand.memory <= left) return undefined;
    return {
      reason: 'RESOURCE:MEMORY',
      detail: `The task needs ${demand.memory} MiB of memory; the instance has ${Math.max(left, 0)} MiB left.`,
      shortfall: demand.memory - left,
    };
  },
};
