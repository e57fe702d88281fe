/**
 * Tagging: TagResource, UntagResource, ListTagsForResource, for every record that carries `tags`.
 *
 * A request resolves its ARN first (resource-arn.ts: malformed or foreign ARNs never reach the store), then
 * validates the tags, then finds the record and rewrites its `tags` inside `catalog.transact`, so a tag added
 * concurrently by another request — or any other change to the record — is never lost.
 *
 * Which exception a missing resource gets (the model lists different ones per operation):
 *  - the cluster of the ARN does not exist → ClusterNotFoundException, modelled on all three operations;
 *  - TagResource / UntagResource on any other missing resource → ResourceNotFoundException, as modelled;
 *  - ListTagsForResource on any other missing resource → InvalidParameterException: the model does not list
 *    ResourceNotFoundException for it, and typed clients only map the exceptions the model lists.
 * A resource that has been deleted but is still describable (INACTIVE cluster, service or container instance,
 * task definition DELETE_IN_PROGRESS) can still be listed — Describe* shows its tags too — but not re-tagged:
 * ECS drops a resource's tags with the resource. Capacity providers and task sets have no records yet, so
 * their ARNs answer as missing resources.
 */
import type { ListTagsForResourceRequest, TagResourceRequest, UntagResourceRequest } from '@aws-sdk/client-ecs';
import { Ecs } from '../../domain/errors.js';
import { Kind } from '../../domain/records.js';
import { MAX_TAGS, mergeTags, validateTags } from '../../domain/tags.js';
import type { WireTag } from '../../domain/tags.js';
import type { Versioned } from '../../state/catalog.js';
import { checkOp, putOp } from '../../state/catalog.js';
import type { WriteOp } from '../../store/types.js';
import type { EcsDeps } from './context.js';
import { RESOURCE_LABEL, resolveResourceArn } from './resource-arn.js';
import type { EcsResourceType, ResourceRef } from './resource-arn.js';

/** What tagging needs of any record: its tags and, where it has one, its lifecycle status. */
interface TaggableRecord {
  readonly tags?: WireTag[];
  readonly status?: string;
}

/** The status at which each type counts as deleted (tasks have none: a STOPPED task keeps its tags until purged). */
const DELETED_STATUS: Partial<Record<EcsResourceType, string>> = {
  cluster: 'INACTIVE',
  'container-instance': 'INACTIVE',
  service: 'INACTIVE',
  'task-definition': 'DELETE_IN_PROGRESS',
};

/** `aws:` tags are AWS's: users can neither set nor remove them, and they do not count towards the 50. */
const isAwsTag = (key: string): boolean => key.toLowerCase().startsWith('aws:');

type Access = 'read' | 'write';

export class TaggingOperations {
  constructor(private readonly deps: EcsDeps) {}

  TagResource = async (input: TagResourceRequest): Promise<Record<string, never>> => {
    const ref = resolveResourceArn(this.deps.arns, input.resourceArn ?? '');
    const add = validateTags(input.tags);
    const { catalog } = this.deps.state;
    await catalog.transact(() => {
      const { kind, cur, guards } = this.find(ref, 'write');
      const tags = mergeTags(cur.value.tags ?? [], add);
      const counted = tags.filter((t) => !isAwsTag(t.key)).length;
      if (counted > MAX_TAGS) {
        throw Ecs.limitExceeded(
          `A resource can have at most ${MAX_TAGS} tags: ${RESOURCE_LABEL[ref.type]} '${ref.arn}' would have ${counted}. Remove tags with UntagResource first.`,
        );
      }
      if (sameTags(cur.value.tags ?? [], tags)) return { ops: [], result: undefined };
      return { ops: [...guards, putOp(kind, ref.key, { ...cur.value, tags }, cur)], result: undefined };
    });
    return {};
  };

  UntagResource = async (input: UntagResourceRequest): Promise<Record<string, never>> => {
    const ref = resolveResourceArn(this.deps.arns, input.resourceArn ?? '');
    const remove = new Set(input.tagKeys ?? []);
    for (const key of remove) {
      if (isAwsTag(key)) throw Ecs.invalidParameter(`Tag key '${key}' uses the 'aws:' prefix, which is reserved for AWS use; such tags cannot be removed.`);
    }
    const { catalog } = this.deps.state;
    await catalog.transact(() => {
      const { kind, cur, guards } = this.find(ref, 'write');
      const before = cur.value.tags ?? [];
      const tags = before.filter((t) => !remove.has(t.key));
      // Removing keys the resource does not have is not an error: the request's intent already holds.
      if (tags.length === before.length) return { ops: [], result: undefined };
      return { ops: [...guards, putOp(kind, ref.key, { ...cur.value, tags }, cur)], result: undefined };
    });
    return {};
  };

  ListTagsForResource = async (input: ListTagsForResourceRequest): Promise<{ tags: WireTag[] }> => {
    const ref = resolveResourceArn(this.deps.arns, input.resourceArn ?? '');
    return { tags: this.find(ref, 'read').cur.value.tags ?? [] };
  };

  /**
   * The record an ARN names, or the exception ECS gives for it (see the header for which one). `guards` hold
   * the parent cluster at the revision read, since a write depends on it staying ACTIVE.
   */
  private find(ref: ResourceRef, access: Access): { kind: Kind; cur: Versioned<TaggableRecord>; guards: WriteOp[] } {
    const { state } = this.deps;
    const label = RESOURCE_LABEL[ref.type];
    const guards: WriteOp[] = [];
    if (ref.cluster !== undefined) {
      const cluster = state.cluster(ref.cluster);
      if (!cluster) throw Ecs.clusterNotFound(`Cluster not found: '${ref.cluster}' (from '${ref.arn}').`);
      if (access === 'write' && cluster.value.status === 'INACTIVE') {
        throw Ecs.clusterNotFound(`The referenced cluster was inactive: '${ref.cluster}' has been deleted, so its resources cannot be tagged.`);
      }
      if (ref.type !== 'cluster') guards.push(checkOp(Kind.cluster, ref.cluster, cluster));
    }
    const { kind } = ref;
    const found = kind === undefined ? undefined : state.catalog.get<TaggableRecord>(kind, ref.key);
    const deletedStatus = DELETED_STATUS[ref.type];
    const deleted = access === 'write' && deletedStatus !== undefined && found?.value.status === deletedStatus;
    if (kind !== undefined && found && !deleted) return { kind, cur: found, guards };
    const message = deleted
      ? `The specified ${label} has been deleted and can no longer be tagged: '${ref.arn}'.`
      : `The specified ${label} does not exist: '${ref.arn}'.`;
    throw access === 'write' ? Ecs.resourceNotFound(message) : Ecs.invalidParameter(message);
  }
}

function sameTags(a: readonly WireTag[], b: readonly WireTag[]): boolean {
  return a.length === b.length && a.every((t, i) => t.key === b[i]?.key && t.value === b[i]?.value);
}
