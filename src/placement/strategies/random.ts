/** `random`: any instance that fits, chosen uniformly with the injected Rng; `field` is unused [BC PlacementStrategy]. */
import type { Strategy } from '../types.js';

export const randomStrategy: Strategy = {
  narrow(candidates, _rule, { rng }) {
    const i = Math.min(Math.floor(rng.float() * candidates.length), candidates.length - 1);
    return [candidates[i]!];
  },
};
