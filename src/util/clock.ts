import { randomBytes } from 'node:crypto';

/** Time comes through here so tests and pure cores can control it (STYLE.md: injected Clock and Rng). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** Epoch seconds with millisecond precision: the AWS JSON 1.1 timestamp format. */
export const epochSeconds = (ms: number): number => Math.round(ms) / 1000;

export interface Rng {
  /** `bytes` random bytes as lower-case hex. */
  hex(bytes: number): string;
  /** A float in [0, 1). */
  float(): number;
}

export const cryptoRng: Rng = {
  hex: (bytes) => randomBytes(bytes).toString('hex'),
  float: () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48,
};

/** A seeded, reproducible generator (mulberry32) for tests, benchmarks and simulations. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    float: next,
    hex: (bytes) => {
      let s = '';
      for (let i = 0; i < bytes; i++) s += Math.floor(next() * 256).toString(16).padStart(2, '0');
      return s;
    },
  };
}
