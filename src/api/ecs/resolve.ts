import { NAME_PATTERN } from '../../domain/arn.js';
import type { Arns } from '../../domain/arn.js';
import { Ecs } from '../../domain/errors.js';
import type { ClusterRecord } from '../../domain/records.js';
import type { Versioned } from '../../state/catalog.js';
import type { EcsState } from '../../state/ecs-state.js';

/**
 * Turns a `cluster` parameter (short name, full ARN, or absent = `default`) into a cluster name.
 * Returns undefined when it cannot name a cluster of this account and region.
 */
export function clusterNameOf(arns: Arns, cluster: string | undefined): string | undefined {
  if (cluster === undefined || cluster === '') return 'default';
  if (cluster.startsWith('arn:')) {
    const p = arns.own(cluster);
    return p && p.resourceType === 'cluster' && NAME_PATTERN.test(p.resource) ? p.resource : undefined;
  }
  return NAME_PATTERN.test(cluster) ? cluster : undefined;
}

/** The ACTIVE cluster a request names, or ClusterNotFoundException as ECS answers. */
export function activeCluster(state: EcsState, arns: Arns, cluster: string | undefined): Versioned<ClusterRecord> {
  const name = clusterNameOf(arns, cluster);
  const found = name === undefined ? undefined : state.cluster(name);
  if (!found) throw Ecs.clusterNotFound('Cluster not found.');
  if (found.value.status === 'INACTIVE') throw Ecs.clusterNotFound('The referenced cluster was inactive.');
  return found;
}

/** A cluster-scoped resource named by its ID or ARN; `cluster` is present when a long-format ARN named it. */
export interface ClusterScopedRef {
  readonly cluster?: string;
  readonly id: string;
}

/**
 * An ID, or an ARN of `resourceType` in the long (`<type>/<cluster>/<id>`) or legacy (`<type>/<id>`) form,
 * of this account and region; undefined if it is neither.
 */
export function parseClusterScopedRef(arns: Arns, ref: string, resourceType: 'task' | 'container-instance'): ClusterScopedRef | undefined {
  if (!ref.startsWith('arn:')) return NAME_PATTERN.test(ref) ? { id: ref } : undefined;
  const p = arns.own(ref);
  if (!p || p.resourceType !== resourceType) return undefined;
  const parts = p.resource.split('/');
  const [first, second] = parts;
  if (parts.length === 1 && first !== undefined && NAME_PATTERN.test(first)) return { id: first };
  if (parts.length === 2 && first !== undefined && second !== undefined && NAME_PATTERN.test(first) && NAME_PATTERN.test(second)) {
    return { cluster: first, id: second };
  }
  return undefined;
}
