/**
 * The ECR API operations Gantry serves (ECS-SEMANTICS.md §1.7), by name, and Gantry's extension RevokeAuthorizationTokens
 * (models/ecr.gantry.json). The protocol layer validates every
 * input against the ECR model first; operations absent here answer as unsupported.
 */
import type { OperationTable } from '../ecs/context.js';
import { authorizationOperations } from './authorization.js';
import type { EcrDeps } from './context.js';
import { imageOperations } from './images.js';
import { lifecycleOperations } from './lifecycle.js';
import { repositoryOperations } from './repositories.js';

export type { EcrDeps } from './context.js';
export { enforceLifecyclePolicies } from './lifecycle.js';

export function ecrOperations(deps: EcrDeps): OperationTable {
  return {
    ...authorizationOperations(deps),
    ...repositoryOperations(deps),
    ...imageOperations(deps),
    ...lifecycleOperations(deps),
  } as OperationTable;
}
