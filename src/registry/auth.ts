/**
 * Authentication on the OCI API, as ECR does it: `Authorization: Basic base64("AWS:" + token)` with a token
 * from GetAuthorizationToken (./tokens.ts); no credentials → 401 with a Basic challenge (that is what makes
 * `docker login` send them). A token is accepted only if it is genuine, unexpired, its access key still
 * exists and still belongs to the same principal, and its principal's tokens were not revoked after it was
 * issued. The signing key lives in the store, sealed with the registry master key, so every replica shares it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Credential } from '../auth/principals.js';
import { putOp } from '../state/catalog.js';
import type { Catalog } from '../state/catalog.js';
import type { Clock } from '../util/clock.js';
import type { RegistryPrincipal } from './access.js';
import { OciError } from './oci-errors.js';
import { RegistryKind } from './records.js';
import type { TokenRevocationRecord } from './records.js';
import type { MasterKey } from './storage/sealed-format.js';
import { RegistryTokens, TokenError } from './tokens.js';
import type { TokenClaims } from './tokens.js';

export interface Authenticated {
  readonly principal: RegistryPrincipal;
  readonly claims: TokenClaims;
}

export interface RegistryAuthDeps {
  readonly catalog: Catalog;
  readonly tokens: RegistryTokens;
  readonly clock: Clock;
  /** Access keys Gantry accepts (the same lookup SigV4 uses). */
  readonly lookup: (accessKeyId: string) => Credential | undefined;
  /** The Basic realm in challenges, e.g. `http://127.0.0.1:7400/` (ECR sends `https://<host>/`). */
  readonly realm: () => string;
}

export class RegistryAuth {
  readonly #deps: RegistryAuthDeps;

  constructor(deps: RegistryAuthDeps) {
    this.#deps = deps;
  }

  get tokens(): RegistryTokens {
    return this.#deps.tokens;
  }

  challenge(message: string): OciError {
    return new OciError('UNAUTHORIZED', 401, message, { 'WWW-Authenticate': `Basic realm="${this.#deps.realm()}",service="ecr.amazonaws.com"` });
  }

  /** The principal a request's credentials name; OciError 401 (with the challenge) otherwise. */
  authenticate(req: IncomingMessage, queryToken: string | undefined): Authenticated {
    const header = req.headers.authorization;
    let token: string | undefined;
    if (header !== undefined) {
      const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
      if (!m) throw this.challenge('authentication required: send Basic credentials (docker login -u AWS with a token from aws ecr get-login-password)');
      const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0 || decoded.slice(0, colon) !== 'AWS') throw this.challenge('the user name must be AWS, with a token from GetAuthorizationToken as the password');
      token = decoded.slice(colon + 1);
    } else if (queryToken !== undefined) {
      token = queryToken;
    }
    if (token === undefined) throw this.challenge('authentication required');
    const claims = this.verify(token);
    return { claims, principal: { arn: claims.principalArn, kind: claims.kind } };
  }

  /** Checks a token fully (signature, expiry, its access key, revocation); OciError 401 otherwise. */
  verify(token: string): TokenClaims {
    let claims: TokenClaims;
    try {
      claims = this.#deps.tokens.verify(token);
    } catch (e) {
      if (e instanceof TokenError) throw this.challenge(`the authorization token is not valid: ${e.message}`);
      throw e;
    }
    const credential = this.#deps.lookup(claims.accessKeyId);
    if (!credential || credential.principal.arn !== claims.principalArn) {
      throw this.challenge('the authorization token is not valid: the access key it was issued to no longer exists');
    }
    const revokedBefore = this.revokedBefore(claims.principalArn);
    if (revokedBefore !== undefined && claims.issuedAtMs < revokedBefore) throw this.challenge('the authorization token has been revoked');
    return claims;
  }

  /** Tokens of `principalArn` issued before this instant (epoch ms) are refused; undefined if none were revoked. */
  revokedBefore(principalArn: string): number | undefined {
    return this.#deps.catalog.get<TokenRevocationRecord>(RegistryKind.tokenRevocation, principalArn)?.value.notBeforeMs;
  }

  /**
   * Revokes every token issued to `principalArn` until now. Answers once the record is durable in the store
   * (every replica and every restart then refuses those tokens) with the instant before which tokens are refused:
   * never earlier than an earlier revocation's.
   */
  async revokeTokens(principalArn: string): Promise<TokenRevocationRecord> {
    const notBeforeMs = this.#deps.clock.now() + 1;
    return this.#deps.catalog.transact(() => {
      const cur = this.#deps.catalog.get<TokenRevocationRecord>(RegistryKind.tokenRevocation, principalArn);
      const record: TokenRevocationRecord = { principalArn, notBeforeMs: Math.max(notBeforeMs, cur?.value.notBeforeMs ?? 0) };
      return { ops: [putOp(RegistryKind.tokenRevocation, principalArn, record, cur)], result: record };
    });
  }
}

const SIGNING_KEY = 'token-signing-key';

/** The token signing key from the store (sealed with the master key), created on first start. */
export async function loadSigningKey(catalog: Catalog, master: MasterKey): Promise<Buffer> {
  return catalog.transact(() => {
    const cur = catalog.get<{ nonce: string; sealed: string; tag: string }>(RegistryKind.secret, SIGNING_KEY);
    if (cur) {
      const d = createDecipheriv('aes-256-gcm', master.key, Buffer.from(cur.value.nonce, 'base64'));
      d.setAAD(Buffer.from(SIGNING_KEY));
      d.setAuthTag(Buffer.from(cur.value.tag, 'base64'));
      try {
        return { ops: [], result: Buffer.concat([d.update(Buffer.from(cur.value.sealed, 'base64')), d.final()]) };
      } catch {
        throw new Error('the registry token signing key in the store cannot be opened with the configured master key (was GANTRY_REGISTRY_MASTER_KEY or <data-dir>/registry/master.key changed?)');
      }
    }
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', master.key, nonce);
    c.setAAD(Buffer.from(SIGNING_KEY));
    const sealed = Buffer.concat([c.update(key), c.final()]);
    const value = { nonce: nonce.toString('base64'), sealed: sealed.toString('base64'), tag: c.getAuthTag().toString('base64') };
    return { ops: [putOp(RegistryKind.secret, SIGNING_KEY, value, undefined)], result: key };
  });
}
