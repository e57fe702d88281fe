/** CPU units: the task's reservation must fit in what the instance has left. */
import type { Filter } from '../types.js';

export const cpuFilter: Filter = {
  name: 'cpu',
  check(c, demand) {
    const left = c.remaining.cpu;
    if (demand.cpu <= left) return undefined;
    return {
      reason: 'RESOURCE:CPU',
      detail: `The task needs ${demand.cpu} CPU units; the instance has ${Math.max(left, 0)} left.`,
      shortfall: demand.cpu - left,
    };
  },
};
