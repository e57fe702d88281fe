/** GPUs: the instance must have as many unassigned GPU ids as the task's containers ask for. */
import type { Filter } from '../types.js';

export const gpuFilter: Filter = {
  name: 'gpu',
  check(c, demand) {
    const free = c.remaining.freeGpus.length;
    if (demand.gpus <= free) return undefined;
    return {
      reason: 'RESOURCE:GPU',
      detail: `The task needs ${demand.gpus} GPU${demand.gpus > 1 ? 's' : ''}; the instance has ${free} free.`,
      shortfall: demand.gpus - free,
    };
  },
};
