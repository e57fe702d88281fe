/**
 * Registry authorization tokens: GetAuthorizationToken (the `docker login` password) and Gantry's extension
 * RevokeAuthorizationTokens (models/ecr.gantry.json), which makes every token a principal holds now stop working
 * — on the OCI API and for download URLs — while tokens issued afterwards work. The revocation is a record in the
 * store (src/registry/auth.ts), durable before the call answers.
 */
import type { GetAuthorizationTokenRequest } from '@aws-sdk/client-ecr';
import { Ecr } from '../../domain/errors.js';
import { epochSeconds } from '../../util/clock.js';
import type { RequestContext } from '../ecs/context.js';
import { checkRegistryId, principalOf } from './context.js';
import type { EcrDeps } from './context.js';

/** RevokeAuthorizationTokens' input (models/ecr.gantry.json). */
export interface RevokeAuthorizationTokensRequest {
  readonly registryId?: string;
  readonly principalArn?: string;
}

/** arn:<partition>:<service>:<region>:<account>:<resource>, e.g. arn:aws:iam::123456789012:root. */
const PRINCIPAL_ARN = /^arn:[a-z][a-z0-9-]*:[a-z][a-z0-9-]*:[a-z0-9-]*:(\d{12}):\S+$/;

const invalidPrincipal = (constraint: string) => Ecr.invalidParameter(`Invalid parameter at 'principalArn' failed to satisfy constraint: '${constraint}'`);

export function authorizationOperations(deps: EcrDeps) {
  return {
    GetAuthorizationToken: async (input: GetAuthorizationTokenRequest, ctx: RequestContext) => {
      for (const id of input.registryIds ?? []) checkRegistryId(deps, id);
      const principal = principalOf(ctx);
      deps.access.check(principal, 'ecr:GetAuthorizationToken', undefined, '*');
      const accessKeyId = deps.accessKeyFor(ctx.principalArn);
      if (accessKeyId === undefined) throw Ecr.accessDenied(`${ctx.principalArn} has no access key to bind a registry token to.`);
      const { token, claims } = deps.auth.tokens.issue({ accessKeyId, principalArn: principal.arn, kind: principal.kind === 'root' ? 'root' : 'user' });
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${token}`).toString('base64'),
            expiresAt: epochSeconds(claims.expiresAtMs),
            proxyEndpoint: `http://${deps.endpoint()}`,
          },
        ],
      };
    },

    /**
     * Syntax first (any caller may learn that an ARN is malformed), then the caller's permission
     * (`ecr:RevokeAuthorizationTokens` on the principal's ARN), and only then whether the principal exists, so a
     * caller without the permission cannot probe for principals.
     */
    RevokeAuthorizationTokens: async (input: RevokeAuthorizationTokensRequest, ctx: RequestContext) => {
      checkRegistryId(deps, input.registryId);
      const principalArn = input.principalArn ?? ctx.principalArn;
      const account = PRINCIPAL_ARN.exec(principalArn)?.[1];
      if (account === undefined) throw invalidPrincipal(`must be an ARN such as arn:aws:iam::${deps.registry.registryId}:root or a container instance ARN; got ${principalArn}`);
      if (account !== deps.registry.registryId) throw invalidPrincipal(`must be a principal of account ${deps.registry.registryId}; got account ${account}`);
      deps.access.check(principalOf(ctx), 'ecr:RevokeAuthorizationTokens', undefined, principalArn);
      if (!deps.hasAccessKey(principalArn)) {
        throw invalidPrincipal(`no principal ${principalArn} holds an access key here (tokens of a principal without one are refused already)`);
      }
      const revoked = await deps.auth.revokeTokens(principalArn);
      return { registryId: deps.registry.registryId, principalArn, revokedBefore: epochSeconds(revoked.notBeforeMs) };
    },
  };
}
