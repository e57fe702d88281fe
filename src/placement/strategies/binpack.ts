/**
 * `binpack` on `cpu` or `memory`: the instances with the least remaining amount of that resource (all of which
 * fit the task: the filters ran first), "minimizing the number of container instances in use" [BC PlacementStrategy].
 */
import type { Candidate, Strategy } from '../types.js';

export const binpackStrategy: Strategy = {
  narrow(candidates, rule) {
    const amount = rule.field === 'cpu' ? (c: Candidate) => c.remaining.cpu : (c: Candidate) => c.remaining.memory;
    let least = Infinity;
    for (const c of candidates) least = Math.min(least, amount(c));
    return candidates.filter((c) => amount(c) === least);
  },
};
