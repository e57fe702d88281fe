/**
 * Attributes: PutAttributes, DeleteAttributes, ListAttributes. The only target type ECS has is
 * `container-instance`, so attributes live on the instance record (ContainerInstanceRecord.attributes), beside
 * those the agent registered; the rules for names, values and the custom limit are the instance's own
 * (container-instances.ts).
 *
 * A batch is all or nothing: every attribute is checked, every target found and every limit checked before
 * anything is written, and all changed instances are written in one guarded commit.
 */
import type { Attribute, DeleteAttributesRequest, ListAttributesRequest, PutAttributesRequest } from '@aws-sdk/client-ecs';
import { Ecs } from '../../domain/errors.js';
import { Kind } from '../../domain/records.js';
import type { ContainerInstanceRecord } from '../../domain/records.js';
import { checkOp, putOp } from '../../state/catalog.js';
import type { Versioned } from '../../state/catalog.js';
import { instanceKey } from '../../state/ecs-state.js';
import type { WriteOp } from '../../store/types.js';
import { paginate } from '../pagination.js';
import {
  customAttributeCount,
  MAX_CUSTOM_ATTRIBUTES,
  mergeAttributes,
  parseInstanceRef,
  validateAttribute,
} from './container-instances.js';
import type { InstanceAttribute, InstanceRef } from './container-instances.js';
import type { EcsDeps } from './context.js';
import { activeCluster } from './resolve.js';

const MAX_PER_CALL = 10;
const TARGET_TYPE = 'container-instance';

/** One attribute of a request, checked, with the instance it targets. */
interface Targeted {
  readonly attribute: InstanceAttribute;
  readonly target: InstanceRef;
  /** The attribute exactly as the request gave it: what the response echoes. */
  readonly echo: Attribute;
}

export class AttributeOperations {
  constructor(private readonly deps: EcsDeps) {}

  PutAttributes = async (input: PutAttributesRequest): Promise<{ attributes: Attribute[] }> => {
    const items = this.checkBatch(input.attributes, 'PutAttributes');
    return this.apply(input.cluster, items, (cur, mine) => {
      const next = mergeAttributes(cur.attributes, mine);
      const custom = customAttributeCount(next);
      if (custom > MAX_CUSTOM_ATTRIBUTES) {
        throw Ecs.attributeLimitExceeded(
          `You can apply up to ${MAX_CUSTOM_ATTRIBUTES} custom attributes to each resource; ${cur.containerInstanceArn} would have ${custom}. View its attributes with ListAttributes and remove some with DeleteAttributes first. (Names starting with 'ecs.' or 'com.amazonaws.ecs.' do not count.)`,
        );
      }
      return next;
    });
  };

  DeleteAttributes = async (input: DeleteAttributesRequest): Promise<{ attributes: Attribute[] }> => {
    const items = this.checkBatch(input.attributes, 'DeleteAttributes');
    // Deleting goes by name; deleting an attribute the instance does not have is not an error.
    return this.apply(input.cluster, items, (cur, mine) => {
      const names = new Set(mine.map((a) => a.name));
      return cur.attributes.filter((a) => a.name === undefined || !names.has(a.name));
    });
  };

  ListAttributes = async (input: ListAttributesRequest) => {
    const { state, arns } = this.deps;
    if (input.targetType !== TARGET_TYPE) {
      throw Ecs.invalidParameter(`targetType must be '${TARGET_TYPE}', the only type of resource that has attributes.`);
    }
    if (input.attributeValue !== undefined && input.attributeName === undefined) {
      throw Ecs.invalidParameter('attributeValue filters the values of one attribute: pass attributeName with it.');
    }
    const cluster = activeCluster(state, arns, input.cluster).value.clusterName;
    const found: { key: string; attribute: Attribute }[] = [];
    for (const { value: instance } of state.instancesOf(cluster)) {
      if (instance.status === 'INACTIVE') continue;
      for (const a of instance.attributes) {
        if (a.name === undefined) continue;
        if (input.attributeName !== undefined && a.name !== input.attributeName) continue;
        if (input.attributeValue !== undefined && a.value !== input.attributeValue) continue;
        // ECS lists each attribute with the full ARN of its instance as targetId, and no targetType.
        const attribute: Attribute = a.value === undefined ? { name: a.name } : { name: a.name, value: a.value };
        attribute.targetId = instance.containerInstanceArn;
        // NUL sorts first, so an instance's attributes stay together whatever their names.
        found.push({ key: `${instance.id}\u0000${a.name}`, attribute });
      }
    }
    const page = paginate(found, (f) => f.key, input, { defaultSize: 100, maxSize: 100, scope: `ListAttributes:${cluster}` }, Ecs.invalidParameter);
    return { attributes: page.items.map((f) => f.attribute), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  };

  /** Checks everything about a batch that does not depend on stored state. */
  private checkBatch(attributes: readonly Attribute[] | undefined, operation: string): Targeted[] {
    const list = attributes ?? [];
    if (list.length === 0) throw Ecs.invalidParameter(`${operation} needs at least one attribute.`);
    if (list.length > MAX_PER_CALL) {
      throw Ecs.invalidParameter(`${operation} accepts at most ${MAX_PER_CALL} attributes per call; got ${list.length}. Split the request.`);
    }
    return list.map((a, i) => {
      const where = `attributes[${i}]`;
      const attribute = validateAttribute(a, where);
      const targetId = a.targetId;
      if (targetId === undefined || targetId === '') {
        throw Ecs.invalidParameter(`${where} ('${attribute.name}') has no targetId: give the ID or full ARN of the container instance it applies to.`);
      }
      if (!targetId.startsWith('arn:') && a.targetType === undefined) {
        throw Ecs.invalidParameter(
          `${where} ('${attribute.name}') names its target by the short ID '${targetId}', so targetType is required: set targetType to '${TARGET_TYPE}', or give the full container instance ARN.`,
        );
      }
      const target = parseInstanceRef(this.deps.arns, targetId);
      if (!target) {
        throw Ecs.invalidParameter(
          `${where} ('${attribute.name}') has targetId '${targetId}', which is not a container instance ID or ARN of account ${this.deps.arns.accountId} in ${this.deps.arns.region}.`,
        );
      }
      return { attribute, target, echo: a };
    });
  }

  /**
   * Finds every target in the cluster, then lets `change` compute each instance's new attributes from all of
   * the batch's attributes for it. Instances whose attributes did not change are not written (nor versioned).
   */
  private async apply(
    clusterRef: string | undefined,
    items: readonly Targeted[],
    change: (cur: ContainerInstanceRecord, mine: InstanceAttribute[]) => Attribute[],
  ): Promise<{ attributes: Attribute[] }> {
    const { state, arns } = this.deps;
    await state.catalog.transact(() => {
      const clusterRead = activeCluster(state, arns, clusterRef);
      const cluster = clusterRead.value.clusterName;
      const byInstance = new Map<string, { read: Versioned<ContainerInstanceRecord>; mine: InstanceAttribute[] }>();
      for (const { attribute, target, echo } of items) {
        const read = target.cluster === undefined || target.cluster === cluster ? state.instance(cluster, target.id) : undefined;
        if (!read || read.value.status === 'INACTIVE') {
          const why = target.cluster !== undefined && target.cluster !== cluster ? ` (its ARN names cluster '${target.cluster}')` : '';
          throw Ecs.targetNotFound(
            `Could not find the target ${echo.targetId ?? ''} in cluster '${cluster}'${why}. Pass the cluster the container instance is registered in, and its ID or ARN as ListContainerInstances shows it.`,
          );
        }
        let entry = byInstance.get(target.id);
        if (!entry) byInstance.set(target.id, (entry = { read, mine: [] }));
        entry.mine.push(attribute);
      }
      const ops: WriteOp[] = [];
      for (const { read, mine } of byInstance.values()) {
        const cur = read.value;
        const attributes = change(cur, mine);
        if (sameAttributes(cur.attributes, attributes)) continue;
        const value: ContainerInstanceRecord = { ...cur, attributes, version: state.latestInstanceVersion(cur) + 1 };
        ops.push(putOp(Kind.containerInstance, instanceKey(cluster, cur.id), value, read));
      }
      if (ops.length > 0) ops.push(checkOp(Kind.cluster, cluster, clusterRead));
      return { ops, result: undefined };
    });
    return { attributes: items.map((i) => echoOf(i.echo)) };
  }
}

/** The response repeats each attribute as the request gave it, without members the request left out. */
function echoOf(a: Attribute): Attribute {
  const out: Attribute = { name: a.name };
  if (a.value !== undefined) out.value = a.value;
  if (a.targetType !== undefined) out.targetType = a.targetType;
  if (a.targetId !== undefined) out.targetId = a.targetId;
  return out;
}

function sameAttributes(a: readonly Attribute[], b: readonly Attribute[]): boolean {
  return a.length === b.length && a.every((x, i) => x.name === b[i]?.name && x.value === b[i]?.value);
}
