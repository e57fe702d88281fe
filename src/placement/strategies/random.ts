/**
 * `random`: any instance that fits, uniformly [BC PlacementStrategy] (`field` is unused), drawn with the injected
 * Rng by probing: an instance of the whole cluster (ARN order) is drawn until one in the candidate set comes up,
 * at most PROBES times, then one of the candidates is drawn directly. Either way every candidate is equally
 * likely; probing lets the engine answer a random-first request without first listing every instance that fits.
 */
import type { Strategy } from '../types.js';

/** Draws from the whole cluster before falling back to a draw among the candidates. */
export const RANDOM_PROBES = 32;

export const randomStrategy: Strategy = {
  narrow(candidates, _rule, { rng, all }) {
    if (all.length > 0) {
      const inSet = new Set(candidates);
      for (let p = 0; p < RANDOM_PROBES; p++) {
        const c = all[Math.min(Math.floor(rng.float() * all.length), all.length - 1)]!;
        if (inSet.has(c)) return [c];
      }
    }
    return [candidates[Math.min(Math.floor(rng.float() * candidates.length), candidates.length - 1)]!];
  },
};
