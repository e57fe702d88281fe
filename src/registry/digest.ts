/**
 * Content digests (OCI image spec, "Digests"): `algorithm:encoded`. Gantry computes sha256 (what every client
 * sends) and also verifies sha512 when a client names it. Everything the registry stores is addressed by one.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';

export type Algorithm = 'sha256' | 'sha512';

export interface Digest {
  readonly algorithm: Algorithm;
  readonly hex: string;
  /** `algorithm:hex`, the canonical form. */
  readonly text: string;
}

const HEX_LENGTH: Record<Algorithm, number> = { sha256: 64, sha512: 128 };
const SHAPE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Parses a digest; undefined when it is not one Gantry can verify (unknown algorithm, bad encoding). */
export function parseDigest(text: string): Digest | undefined {
  const m = SHAPE.exec(text);
  if (!m) return undefined;
  const algorithm = m[1] as Algorithm;
  const hex = m[2]!;
  if (HEX_LENGTH[algorithm] === undefined || hex.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(hex)) return undefined;
  return { algorithm, hex, text };
}

/** True when `text` looks like a digest at all (to tell a digest reference from a tag). */
export function looksLikeDigest(text: string): boolean {
  return text.includes(':');
}

export function digestOf(data: Buffer | string, algorithm: Algorithm = 'sha256'): Digest {
  const hex = createHash(algorithm).update(data).digest('hex');
  return { algorithm, hex, text: `${algorithm}:${hex}` };
}

export function newHash(algorithm: Algorithm = 'sha256'): Hash {
  return createHash(algorithm);
}
