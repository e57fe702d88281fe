/**
 * Task definitions: RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions,
 * ListTaskDefinitionFamilies, DeregisterTaskDefinition, DeleteTaskDefinitions.
 *
 * The rules of what makes a valid definition live in the pure core (src/domain/task-definition); this module
 * assigns revisions, stores and finds them. Revision numbers come from the family record, which remembers
 * the highest number ever issued, so a number is never reused — not after deregistration, nor deletion.
 */
import type {
  DeleteTaskDefinitionsRequest,
  DeregisterTaskDefinitionRequest,
  DescribeTaskDefinitionRequest,
  ListTaskDefinitionFamiliesRequest,
  ListTaskDefinitionsRequest,
  RegisterTaskDefinitionRequest,
} from '@aws-sdk/client-ecs';
import { NAME_PATTERN } from '../../domain/arn.js';
import type { Arns } from '../../domain/arn.js';
import { Ecs } from '../../domain/errors.js';
import { Kind } from '../../domain/records.js';
import type { TaskDefinitionFamilyRecord, TaskDefinitionRecord } from '../../domain/records.js';
import { normaliseTaskDefinition } from '../../domain/task-definition/validate.js';
import { epochSeconds } from '../../util/clock.js';
import type { Versioned } from '../../state/catalog.js';
import { putOp } from '../../state/catalog.js';
import { taskDefinitionKey } from '../../state/ecs-state.js';
import type { EcsState } from '../../state/ecs-state.js';
import type { WriteOp } from '../../store/types.js';
import { paginate } from '../pagination.js';
import type { EcsDeps, RequestContext } from './context.js';

export interface TaskDefinitionRef {
  readonly family: string;
  /** Absent: the latest ACTIVE revision. */
  readonly revision?: number;
}

/** Parses `family`, `family:revision` or a task definition ARN. */
export function parseTaskDefinitionRef(arns: Arns, ref: string): TaskDefinitionRef {
  let text = ref;
  if (ref.startsWith('arn:')) {
    const p = arns.own(ref);
    if (!p || p.resourceType !== 'task-definition') {
      throw Ecs.client(`'${ref}' is not a task definition ARN of account ${arns.accountId} in ${arns.region}.`);
    }
    text = p.resource;
  }
  const colon = text.lastIndexOf(':');
  const family = colon < 0 ? text : text.slice(0, colon);
  if (!NAME_PATTERN.test(family)) {
    throw Ecs.client(`Invalid task definition '${ref}'. Use family, family:revision or the task definition ARN.`);
  }
  if (colon < 0) {
    if (ref.startsWith('arn:')) throw Ecs.client(`The task definition ARN '${ref}' must include a revision.`);
    return { family };
  }
  const revText = text.slice(colon + 1);
  const revision = Number(revText);
  if (!/^\d+$/.test(revText) || revision < 1 || !Number.isSafeInteger(revision)) {
    throw Ecs.client(`Invalid revision '${revText}' in task definition '${ref}'. Revisions are positive integers.`);
  }
  return { family, revision };
}

/** Finds the revision a reference names (latest ACTIVE for a bare family), or undefined. */
export function findTaskDefinition(state: EcsState, ref: TaskDefinitionRef): Versioned<TaskDefinitionRecord> | undefined {
  const cat = state.catalog;
  if (ref.revision !== undefined) return cat.get<TaskDefinitionRecord>(Kind.taskDefinition, taskDefinitionKey(ref.family, ref.revision));
  let best: Versioned<TaskDefinitionRecord> | undefined;
  for (const key of state.revisionsByFamily.keys(ref.family)) {
    const v = cat.get<TaskDefinitionRecord>(Kind.taskDefinition, key);
    if (v && v.value.status === 'ACTIVE' && (!best || v.value.revision > best.value.revision)) best = v;
  }
  return best;
}

/** The TaskDefinition as the API returns it (tags travel beside it, never inside). */
export function taskDefinitionView(r: TaskDefinitionRecord): object {
  const { tags: _tags, ...rest } = r;
  return rest;
}

const revisionSortKey = (family: string, revision: number) => `${family}\u0000${String(revision).padStart(12, '0')}`;

export class TaskDefinitionOperations {
  constructor(private readonly deps: EcsDeps) {}

  RegisterTaskDefinition = async (input: RegisterTaskDefinitionRequest, ctx: RequestContext) => {
    const { arns, state, clock } = this.deps;
    const normalised = normaliseTaskDefinition(input, { accountId: arns.accountId, region: arns.region, registeredBy: ctx.principalArn });
    const { tags, ...definition } = normalised;
    const record = await state.catalog.transact(() => {
      const family = state.family(definition.family);
      const revision = (family?.value.lastRevision ?? 0) + 1;
      const value = {
        ...definition,
        taskDefinitionArn: arns.taskDefinition(definition.family, revision),
        revision,
        status: 'ACTIVE',
        registeredAt: epochSeconds(clock.now()),
        registeredBy: ctx.principalArn,
        tags: tags.map((t) => ({ key: t.key!, value: t.value ?? '' })),
      } as TaskDefinitionRecord;
      const famValue: TaskDefinitionFamilyRecord = { family: definition.family, lastRevision: revision };
      return {
        ops: [
          putOp(Kind.taskDefinitionFamily, definition.family, famValue, family),
          putOp(Kind.taskDefinition, taskDefinitionKey(definition.family, revision), value, undefined),
        ],
        result: value,
      };
    });
    return { taskDefinition: taskDefinitionView(record), tags: record.tags };
  };

  DescribeTaskDefinition = async (input: DescribeTaskDefinitionRequest) => {
    const ref = parseTaskDefinitionRef(this.deps.arns, input.taskDefinition!);
    const found = findTaskDefinition(this.deps.state, ref);
    if (!found) throw Ecs.client('Unable to describe task definition.');
    const include = new Set(input.include ?? []);
    return { taskDefinition: taskDefinitionView(found.value), ...(include.has('TAGS') ? { tags: found.value.tags } : {}) };
  };

  ListTaskDefinitions = async (input: ListTaskDefinitionsRequest) => {
    const { state } = this.deps;
    const status = input.status ?? 'ACTIVE';
    const familyFilter = input.familyPrefix;
    const candidates: TaskDefinitionRecord[] = [];
    const pick = (key: string) => {
      const v = state.catalog.get<TaskDefinitionRecord>(Kind.taskDefinition, key)?.value;
      if (v && v.status === status) candidates.push(v);
    };
    if (familyFilter !== undefined) for (const key of state.revisionsByFamily.keys(familyFilter)) pick(key);
    else for (const [key] of state.catalog.all(Kind.taskDefinition)) pick(key);
    const page = paginate(
      candidates,
      (r) => revisionSortKey(r.family, r.revision),
      input,
      { defaultSize: 100, maxSize: 100, scope: `ListTaskDefinitions:${status}:${familyFilter ?? ''}`, order: input.sort === 'DESC' ? 'desc' : 'asc' },
      Ecs.invalidParameter,
    );
    return { taskDefinitionArns: page.items.map((r) => r.taskDefinitionArn), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  };

  ListTaskDefinitionFamilies = async (input: ListTaskDefinitionFamiliesRequest) => {
    const { state } = this.deps;
    const status = input.status ?? 'ALL';
    const prefix = input.familyPrefix ?? '';
    const families: string[] = [];
    for (const [family] of state.catalog.all<TaskDefinitionFamilyRecord>(Kind.taskDefinitionFamily)) {
      if (!family.startsWith(prefix)) continue;
      let active = false;
      let any = false;
      for (const key of state.revisionsByFamily.keys(family)) {
        const v = state.catalog.get<TaskDefinitionRecord>(Kind.taskDefinition, key)?.value;
        if (!v) continue;
        any = true;
        if (v.status === 'ACTIVE') active = true;
      }
      // A family whose revisions are all deleted is no longer listed (its name and revision counter are kept).
      if (!any) continue;
      if (status === 'ALL' || (status === 'ACTIVE' ? active : !active)) families.push(family);
    }
    const page = paginate(families, (f) => f, input, { defaultSize: 100, maxSize: 100, scope: `ListTaskDefinitionFamilies:${status}:${prefix}` }, Ecs.invalidParameter);
    return { families: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  };

  DeregisterTaskDefinition = async (input: DeregisterTaskDefinitionRequest) => {
    const { arns, state, clock } = this.deps;
    const ref = parseTaskDefinitionRef(arns, input.taskDefinition!);
    if (ref.revision === undefined) {
      throw Ecs.client(`Revision must be specified: use ${ref.family}:<revision> or the task definition ARN.`);
    }
    const record = await state.catalog.transact(() => {
      const cur = findTaskDefinition(state, ref);
      if (!cur || cur.value.status === 'DELETE_IN_PROGRESS') throw Ecs.client('The specified task definition does not exist.');
      if (cur.value.status === 'INACTIVE') return { ops: [], result: cur.value };
      const value: TaskDefinitionRecord = { ...cur.value, status: 'INACTIVE', deregisteredAt: epochSeconds(clock.now()) };
      return { ops: [putOp(Kind.taskDefinition, taskDefinitionKey(ref.family, ref.revision!), value, cur)], result: value };
    });
    return { taskDefinition: taskDefinitionView(record) };
  };

  DeleteTaskDefinitions = async (input: DeleteTaskDefinitionsRequest) => {
    const { arns, state, clock } = this.deps;
    const refs = input.taskDefinitions ?? [];
    if (refs.length === 0) throw Ecs.invalidParameter('taskDefinitions must name at least one task definition revision.');
    if (refs.length > 10) throw Ecs.invalidParameter(`taskDefinitions can name at most 10 task definition revisions; got ${refs.length}.`);
    return state.catalog.transact(() => {
      const ops: WriteOp[] = [];
      const taskDefinitions: object[] = [];
      const failures: { arn: string; reason: string; detail?: string }[] = [];
      const seen = new Set<string>();
      for (const ref of refs) {
        let parsed: TaskDefinitionRef;
        try {
          parsed = parseTaskDefinitionRef(arns, ref);
        } catch (e) {
          failures.push({ arn: ref, reason: 'The specified task definition identifier is invalid.', detail: (e as Error).message });
          continue;
        }
        if (parsed.revision === undefined) {
          failures.push({ arn: ref, reason: 'The specified task definition identifier is invalid. Specify a revision.' });
          continue;
        }
        const key = taskDefinitionKey(parsed.family, parsed.revision);
        const arn = arns.taskDefinition(parsed.family, parsed.revision);
        const cur = state.catalog.get<TaskDefinitionRecord>(Kind.taskDefinition, key);
        if (!cur) {
          failures.push({ arn, reason: 'The specified task definition does not exist.' });
          continue;
        }
        if (cur.value.status === 'ACTIVE') {
          failures.push({ arn, reason: 'The specified task definition is still in ACTIVE status. Please deregister the target and try again.' });
          continue;
        }
        if (seen.has(key)) continue;
        seen.add(key);
        const value: TaskDefinitionRecord =
          cur.value.status === 'DELETE_IN_PROGRESS' ? cur.value : { ...cur.value, status: 'DELETE_IN_PROGRESS', deleteRequestedAt: epochSeconds(clock.now()) };
        if (value !== cur.value) ops.push(putOp(Kind.taskDefinition, key, value, cur));
        taskDefinitions.push(taskDefinitionView(value));
      }
      return { ops, result: { taskDefinitions, failures } };
    });
  };
}

/**
 * Removes DELETE_IN_PROGRESS revisions that no task or service uses any more (the family record, and so
 * the revision counter, stays). Run periodically by the server.
 */
export async function reapDeletedTaskDefinitions(state: EcsState): Promise<number> {
  const inUse = new Set<string>();
  for (const [, t] of state.catalog.all<{ taskDefinitionArn?: string; lastStatus?: string }>(Kind.task)) {
    if (t.value.lastStatus !== 'STOPPED' && t.value.taskDefinitionArn) inUse.add(t.value.taskDefinitionArn);
  }
  for (const [, s] of state.catalog.all<{ status?: string; taskDefinition?: string; deployments?: { taskDefinition?: string }[] }>(Kind.service)) {
    if (s.value.status === 'INACTIVE') continue;
    if (s.value.taskDefinition) inUse.add(s.value.taskDefinition);
    for (const d of s.value.deployments ?? []) if (d.taskDefinition) inUse.add(d.taskDefinition);
  }
  const ops: WriteOp[] = [];
  for (const [key, v] of state.catalog.all<TaskDefinitionRecord>(Kind.taskDefinition)) {
    if (v.value.status === 'DELETE_IN_PROGRESS' && !inUse.has(v.value.taskDefinitionArn)) ops.push({ op: 'delete', kind: Kind.taskDefinition, key, ifRev: v.rev });
  }
  if (ops.length > 0) await state.catalog.commit(ops);
  return ops.length;
}
