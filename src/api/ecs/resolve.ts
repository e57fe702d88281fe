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
