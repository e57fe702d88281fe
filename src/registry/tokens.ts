/**
 * Registry tokens: what GetAuthorizationToken hands out and `docker login` sends back as Basic `AWS:<token>`.
 *
 *   gtr1.<payload>.<signature>     payload = base64url(JSON {a, p, k, i, e, s?}), signature = HMAC-SHA256
 *
 * A token names the access key and principal it was issued to, when (i) and until when (e, 12 hours as ECR),
 * and optionally a scope (one repository and action, for the pre-signed layer URLs of GetDownloadUrlForLayer).
 * It is self-contained, so checking one costs an HMAC, not a store read. It is revoked when its access key
 * no longer exists (a rotated root key, a deregistered container instance), when its principal's tokens are
 * revoked (everything issued before a recorded instant), or when the signing key is replaced.
 * Base64url has no ':', so the password never breaks `docker login`'s user:password split.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../util/clock.js';

export const TOKEN_TTL_MS = 12 * 60 * 60 * 1000;
const PREFIX = 'gtr1.';

export type TokenPrincipalKind = 'root' | 'user' | 'agent';

export interface TokenClaims {
  /** Access key id the token was issued to. */
  readonly accessKeyId: string;
  readonly principalArn: string;
  readonly kind: TokenPrincipalKind;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  /** Limits the token to one repository (and, when given, one blob). */
  readonly scope?: { readonly repository: string; readonly digest?: string };
}

export class TokenError extends Error {
  override name = 'TokenError';
}

export class RegistryTokens {
  readonly #key: Buffer;
  readonly #clock: Clock;

  constructor(deps: { readonly signingKey: Buffer; readonly clock: Clock }) {
    if (deps.signingKey.length < 32) throw new Error('the token signing key must be at least 32 bytes');
    this.#key = deps.signingKey;
    this.#clock = deps.clock;
  }

  issue(claims: Omit<TokenClaims, 'issuedAtMs' | 'expiresAtMs'>, ttlMs = TOKEN_TTL_MS): { token: string; claims: TokenClaims } {
    const now = this.#clock.now();
    const full: TokenClaims = { ...claims, issuedAtMs: now, expiresAtMs: now + ttlMs };
    const payload = Buffer.from(
      JSON.stringify({ a: full.accessKeyId, p: full.principalArn, k: full.kind, i: full.issuedAtMs, e: full.expiresAtMs, ...(full.scope ? { s: full.scope } : {}) }),
    ).toString('base64url');
    return { token: `${PREFIX}${payload}.${this.#sign(payload)}`, claims: full };
  }

  /** The claims of a genuine, unexpired token; TokenError otherwise (revocation is the caller's check). */
  verify(token: string): TokenClaims {
    if (!token.startsWith(PREFIX)) throw new TokenError('not a Gantry registry token');
    const rest = token.slice(PREFIX.length);
    const dot = rest.indexOf('.');
    if (dot < 0) throw new TokenError('malformed token');
    const payload = rest.slice(0, dot);
    const given = Buffer.from(rest.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.#sign(payload), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new TokenError('the token signature is not valid');
    let p: { a?: unknown; p?: unknown; k?: unknown; i?: unknown; e?: unknown; s?: unknown };
    try {
      p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof p;
    } catch {
      throw new TokenError('malformed token');
    }
    if (typeof p.a !== 'string' || typeof p.p !== 'string' || typeof p.i !== 'number' || typeof p.e !== 'number' || (p.k !== 'root' && p.k !== 'user' && p.k !== 'agent')) {
      throw new TokenError('malformed token');
    }
    if (this.#clock.now() >= p.e) throw new TokenError('the token has expired; get a new one with GetAuthorizationToken (aws ecr get-login-password)');
    const s = p.s as { repository?: unknown; digest?: unknown } | undefined;
    const scope =
      s !== undefined && typeof s.repository === 'string'
        ? { repository: s.repository, ...(typeof s.digest === 'string' ? { digest: s.digest } : {}) }
        : undefined;
    return { accessKeyId: p.a, principalArn: p.p, kind: p.k, issuedAtMs: p.i, expiresAtMs: p.e, ...(scope ? { scope } : {}) };
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(PREFIX).update(payload).digest('base64url');
  }
}
