import type { Arns } from '../../domain/arn.js';
import { Ecr } from '../../domain/errors.js';
import type { Access, RegistryPrincipal } from '../../registry/access.js';
import type { RegistryAuth } from '../../registry/auth.js';
import type { RepositoryRecord } from '../../registry/records.js';
import type { Registry } from '../../registry/registry.js';
import type { Clock } from '../../util/clock.js';
import type { RequestContext } from '../ecs/context.js';

/** What every ECR operation module is constructed with (one deps object; STYLE.md). */
export interface EcrDeps {
  readonly registry: Registry;
  readonly access: Access;
  readonly auth: RegistryAuth;
  readonly arns: Arns;
  readonly clock: Clock;
  /** `host:port` clients reach the registry at (repositoryUri, proxyEndpoint). */
  readonly endpoint: () => string;
  /** The access key a principal signs with (tokens are bound to it); undefined when it has none. */
  readonly accessKeyFor: (principalArn: string) => string | undefined;
  /** Whether a principal (the root user, a container instance's agent) holds an access key, so tokens of its can be valid. */
  readonly hasAccessKey: (principalArn: string) => boolean;
}

export function principalOf(ctx: RequestContext): RegistryPrincipal {
  return { arn: ctx.principalArn, kind: /^arn:[^:]+:iam::\d{12}:root$/.test(ctx.principalArn) ? 'root' : 'user' };
}

/** ECR's registryId is the account id; any other is refused. */
export function checkRegistryId(deps: EcrDeps, registryId: string | undefined): void {
  if (registryId !== undefined && registryId !== deps.registry.registryId) {
    throw Ecr.invalidParameter(`Invalid parameter at 'registryId' failed to satisfy constraint: 'this registry is ${deps.registry.registryId}; got ${registryId}'`);
  }
}

/** The repository, after checking the caller may do `action` on it. */
export function authorizedRepository(deps: EcrDeps, ctx: RequestContext, input: { registryId?: string | undefined; repositoryName?: string | undefined }): RepositoryRecord {
  checkRegistryId(deps, input.registryId);
  const repo = deps.registry.repository(input.repositoryName ?? '').value;
  deps.access.check(principalOf(ctx), `ecr:${ctx.operation}`, repo);
  return repo;
}
