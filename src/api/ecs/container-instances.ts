/**
 * Container instances: RegisterContainerInstance (the agent's call), DeregisterContainerInstance,
 * DescribeContainerInstances, ListContainerInstances, UpdateContainerInstancesState; and the rules for the
 * attributes an instance carries, which PutAttributes (attributes.ts) applies too.
 *
 * What the instance's tasks hold (remainingResources, running/pending counts) is computed on every read from
 * the task records (src/domain/resources.ts) and never stored, so it cannot drift from the tasks themselves.
 */
import { createHash } from 'node:crypto';
import type {
  AgentUpdateStatus,
  Attribute,
  ContainerInstance,
  ContainerInstanceHealthStatus,
  DeregisterContainerInstanceRequest,
  DescribeContainerInstancesRequest,
  ListContainerInstancesRequest,
  RegisterContainerInstanceRequest,
  UpdateContainerInstancesStateRequest,
  VersionInfo,
} from '@aws-sdk/client-ecs';
import type { Arns } from '../../domain/arn.js';
import { Ecs } from '../../domain/errors.js';
import { Kind } from '../../domain/records.js';
import type { ContainerInstanceRecord, ContainerInstanceStatus, Wire } from '../../domain/records.js';
import { instanceTaskCounts, registeredResourcesOf, remainingResources } from '../../domain/resources.js';
import type { TaskReservation } from '../../domain/resources.js';
import { mergeTags, validateTags } from '../../domain/tags.js';
import { checkOp, putOp } from '../../state/catalog.js';
import type { Versioned } from '../../state/catalog.js';
import { instanceKey } from '../../state/ecs-state.js';
import type { EcsState } from '../../state/ecs-state.js';
import type { WriteOp } from '../../store/types.js';
import { epochSeconds } from '../../util/clock.js';
import { paginate } from '../pagination.js';
import type { EcsDeps } from './context.js';
import { evaluateCql, parseCql } from '../../placement/cql/index.js';
import type { CqlSubject } from '../../placement/cql/index.js';
import { activeCluster, parseClusterScopedRef } from './resolve.js';
import type { ClusterScopedRef } from './resolve.js';

type WireContainerInstance = Wire<ContainerInstance>;
interface Failure {
  arn: string;
  reason: string;
  detail?: string;
}

const MAX_DESCRIBE = 100;
const MAX_UPDATE_STATE = 10;

// ---------------------------------------------------------------------------------------------------------------
// Attributes of a container instance (ECS-SEMANTICS.md §1.2)

export const MAX_CUSTOM_ATTRIBUTES = 10;
const ATTRIBUTE_NAME = /^[A-Za-z0-9\-_/\\.]{1,128}$/;
const ATTRIBUTE_VALUE = /^[A-Za-z0-9\-_.@/\\: ]{1,128}$/;

/** An attribute as an instance stores it: targetType/targetId only exist in requests and listings. */
export interface InstanceAttribute {
  name: string;
  value?: string;
}

/** Attributes ECS itself sets (built-in ones and agent capabilities) do not count towards the custom limit. */
export function isEcsManagedAttribute(name: string): boolean {
  return name.startsWith('ecs.') || name.startsWith('com.amazonaws.ecs.');
}

export function customAttributeCount(attributes: readonly Attribute[]): number {
  let n = 0;
  for (const a of attributes) if (a.name !== undefined && !isEcsManagedAttribute(a.name)) n++;
  return n;
}

/** Checks one attribute's name and value; `where` names it in the message (e.g. `attributes[2]`). */
export function validateAttribute(a: Attribute, where: string): InstanceAttribute {
  const name = a.name;
  if (name === undefined || !ATTRIBUTE_NAME.test(name)) {
    throw Ecs.invalidParameter(
      `Invalid attribute name '${name ?? ''}' at ${where}: a name is 1-128 characters of letters, numbers, hyphens (-), underscores (_), forward slashes (/), back slashes (\\) or periods (.).`,
    );
  }
  if (a.value === undefined) return { name };
  if (!ATTRIBUTE_VALUE.test(a.value) || a.value.startsWith(' ') || a.value.endsWith(' ')) {
    throw Ecs.invalidParameter(
      `Invalid value '${a.value}' for attribute '${name}' at ${where}: a value is 1-128 characters of letters, numbers, hyphens (-), underscores (_), periods (.), at signs (@), forward slashes (/), back slashes (\\), colons (:) or spaces, and cannot start or end with a space. Omit value for a name-only attribute.`,
    );
  }
  return { name, value: a.value };
}

/** `base` with `changes` applied by name (a changed attribute keeps its place; new ones are appended). */
export function mergeAttributes(base: readonly Attribute[], changes: readonly InstanceAttribute[]): InstanceAttribute[] {
  const m = new Map<string, InstanceAttribute>();
  for (const a of base) if (a.name !== undefined) m.set(a.name, a.value === undefined ? { name: a.name } : { name: a.name, value: a.value });
  for (const a of changes) m.set(a.name, a);
  return [...m.values()];
}

// ---------------------------------------------------------------------------------------------------------------
// Naming an instance

export type InstanceRef = ClusterScopedRef;

/** A container instance ID, or its ARN in the long (`container-instance/<cluster>/<id>`) or legacy (`container-instance/<id>`) form. */
export function parseInstanceRef(arns: Arns, ref: string): InstanceRef | undefined {
  return parseClusterScopedRef(arns, ref, 'container-instance');
}

/** The instance `ref` names in `cluster`; an ARN naming another cluster names nothing here. */
export function findInstance(state: EcsState, arns: Arns, cluster: string, ref: string): Versioned<ContainerInstanceRecord> | undefined {
  const parsed = parseInstanceRef(arns, ref);
  if (!parsed || (parsed.cluster !== undefined && parsed.cluster !== cluster)) return undefined;
  return state.instance(cluster, parsed.id);
}

/** The ARN a failure reports for `ref`: the ARN itself, or the one the ID would have in `cluster`. */
export function instanceArnFor(arns: Arns, cluster: string, ref: string): string {
  return ref.startsWith('arn:') ? ref : arns.containerInstance(cluster, ref);
}

// ---------------------------------------------------------------------------------------------------------------
// Tasks on instances

/** A task record as far as instances care: where it runs and what it holds there (its wire shape). */
export interface PlacedTask extends TaskReservation {
  readonly containerInstanceArn?: string | undefined;
}

export interface PlacedTaskRead {
  readonly key: string;
  readonly read: Versioned<PlacedTask>;
}

/** The tasks placed on one instance, from the per-instance index (registration and deregistration touch one instance). */
export function tasksOnInstance(state: EcsState, containerInstanceArn: string): PlacedTaskRead[] {
  const out: PlacedTaskRead[] = [];
  for (const key of state.tasksByInstance.keys(containerInstanceArn)) {
    const read = state.catalog.get<PlacedTask>(Kind.task, key);
    if (read && read.value.containerInstanceArn === containerInstanceArn) out.push({ key, read });
  }
  return out;
}

/** The cluster's tasks grouped by the instance they were placed on, in one pass over the cluster's tasks. */
export function tasksByInstance(state: EcsState, cluster: string): Map<string, PlacedTaskRead[]> {
  const out = new Map<string, PlacedTaskRead[]>();
  for (const key of state.tasksByCluster.keys(cluster)) {
    const read = state.catalog.get<PlacedTask>(Kind.task, key);
    const arn = read?.value.containerInstanceArn;
    if (!read || arn === undefined) continue;
    let list = out.get(arn);
    if (!list) out.set(arn, (list = []));
    list.push({ key, read });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Operations

export class ContainerInstanceOperations {
  constructor(private readonly deps: EcsDeps) {}

  RegisterContainerInstance = async (input: RegisterContainerInstanceRequest): Promise<{ containerInstance: WireContainerInstance }> => {
    const { state, arns, clock, rng } = this.deps;
    const clientToken = registrationToken(input);
    const registeredResources = registeredResourcesOf(input.totalResources, input.platformDevices);
    const sent = validateAttributeList(input.attributes);
    const identity = parseIdentityDocument(input.instanceIdentityDocument);
    const tags = validateTags(input.tags);
    const versionInfo = input.versionInfo === undefined ? undefined : versionInfoOf(input.versionInfo);
    const reregister = input.containerInstanceArn ? parseReregistration(arns, input.containerInstanceArn) : undefined;
    // Drawn once, outside the decision: a decision retried after a lost race must not mint different ids.
    const freshId = rng.hex(16);
    const ec2InstanceId = identity?.ec2InstanceId ?? `i-${rng.hex(9).slice(0, 17)}`;
    const now = clock.now();

    const record = await state.catalog.transact(() => {
      const clusterRead = activeCluster(state, arns, input.cluster);
      const cluster = clusterRead.value.clusterName;
      // Every write below depends on the cluster staying ACTIVE (a concurrent DeleteCluster must not win).
      const clusterGuard = checkOp(Kind.cluster, cluster, clusterRead);
      if (reregister) {
        const cur = this.reregistrationTarget(cluster, reregister, input.containerInstanceArn!);
        // The agent retries a registration with the same token: the retry gets what the first attempt did.
        if (clientToken !== undefined && cur.value.clientToken === clientToken) return { ops: [], result: cur.value };
        checkInstanceType(cur.value, identity);
        // The agent sends its custom attributes only on first registration, so those (and any added with
        // PutAttributes) are kept; ECS-managed ones are replaced by what the agent reports now.
        const kept = cur.value.attributes.filter(
          (a) => a.name !== undefined && (!isEcsManagedAttribute(a.name) || IDENTITY_ATTRIBUTES.has(a.name)),
        );
        const attributes = mergeAttributes(mergeAttributes(kept, identity?.attributes ?? []), sent);
        checkRegistrationCustomLimit(attributes);
        const value: ContainerInstanceRecord = {
          ...cur.value,
          registeredResources,
          attributes,
          versionInfo: versionInfo ?? cur.value.versionInfo,
          tags: mergeTags(cur.value.tags, tags),
          agentConnected: true,
          version: state.latestInstanceVersion(cur.value) + 1,
          lastHeartbeatMs: now,
          ...(clientToken !== undefined ? { clientToken } : {}),
        };
        return { ops: [clusterGuard, putOp(Kind.containerInstance, instanceKey(cluster, value.id), value, cur)], result: value };
      }
      // A registration token fixes the instance id, so concurrent retries race for one key: exactly one creates
      // the instance and the others, deciding again, find it.
      const id = clientToken === undefined ? freshId : tokenInstanceId(cluster, clientToken);
      const prior = state.instance(cluster, id);
      if (prior) return { ops: [], result: prior.value };
      const attributes = mergeAttributes(identity?.attributes ?? [], sent);
      checkRegistrationCustomLimit(attributes);
      const value: ContainerInstanceRecord = {
        cluster,
        id,
        containerInstanceArn: arns.containerInstance(cluster, id),
        ec2InstanceId,
        version: 1,
        versionInfo: versionInfo ?? {},
        registeredResources,
        status: 'ACTIVE',
        agentConnected: true,
        attributes,
        registeredAt: epochSeconds(now),
        tags,
        lastHeartbeatMs: now,
        ...(clientToken !== undefined ? { clientToken } : {}),
      };
      return { ops: [clusterGuard, putOp(Kind.containerInstance, instanceKey(cluster, id), value, undefined)], result: value };
    });
    return { containerInstance: this.view(record, this.tasksOf(record), { tags: true, health: false }) };
  };

  DeregisterContainerInstance = async (input: DeregisterContainerInstanceRequest): Promise<{ containerInstance: WireContainerInstance }> => {
    const { state, arns, clock } = this.deps;
    const ref = input.containerInstance ?? '';
    const record = await state.catalog.transact(() => {
      const clusterRead = activeCluster(state, arns, input.cluster);
      const cluster = clusterRead.value.clusterName;
      const cur = findInstance(state, arns, cluster, ref);
      if (!cur) throw instanceNotFound(ref, cluster);
      // Deregistration is final; repeating it changes nothing.
      if (cur.value.status === 'INACTIVE') return { ops: [], result: cur.value };
      const onInstance = tasksOnInstance(state, cur.value.containerInstanceArn);
      const live = onInstance.filter((t) => t.read.value.lastStatus !== 'STOPPED');
      if (live.length > 0 && input.force !== true) {
        throw Ecs.invalidParameter(
          `Found running tasks on the instance. ${live.length} task(s) on ${cur.value.containerInstanceArn} have not stopped: stop them first (StopTask), drain the instance (UpdateContainerInstancesState DRAINING), or deregister with force to orphan them.`,
        );
      }
      const value: ContainerInstanceRecord = { ...cur.value, status: 'INACTIVE', version: state.latestInstanceVersion(cur.value) + 1 };
      const ops: WriteOp[] = [
        checkOp(Kind.cluster, cluster, clusterRead),
        putOp(Kind.containerInstance, instanceKey(cluster, value.id), value, cur),
      ];
      // Forced: the tasks are orphaned. Their containers keep running on the host, but ECS no longer tracks or
      // counts them, so a service starts replacements elsewhere. Guarded like the instance, so a concurrent
      // state report from the agent makes this decision run again rather than be overwritten.
      const at = epochSeconds(clock.now());
      for (const t of live) ops.push(putOp(Kind.task, t.key, orphaned(t.read.value, at), t.read));
      return { ops, result: value };
    });
    return { containerInstance: this.view(record, this.tasksOf(record), { tags: false, health: false }) };
  };

  DescribeContainerInstances = async (input: DescribeContainerInstancesRequest) => {
    const { state, arns } = this.deps;
    const refs = input.containerInstances ?? [];
    if (refs.length === 0) throw Ecs.invalidParameter('containerInstances must name at least one container instance, by ID or full ARN.');
    if (refs.length > MAX_DESCRIBE) {
      throw Ecs.invalidParameter(`containerInstances can name at most ${MAX_DESCRIBE} container instances per call; got ${refs.length}. Split the request.`);
    }
    const include = new Set<string>(input.include ?? []);
    const parts = { tags: include.has('TAGS'), health: include.has('CONTAINER_INSTANCE_HEALTH') };
    const cluster = activeCluster(state, arns, input.cluster).value.clusterName;
    const tasks = tasksByInstance(state, cluster);
    const containerInstances: WireContainerInstance[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const found = findInstance(state, arns, cluster, ref);
      if (!found) failures.push({ arn: instanceArnFor(arns, cluster, ref), reason: 'MISSING' });
      else containerInstances.push(this.view(found.value, values(tasks.get(found.value.containerInstanceArn)), parts));
    }
    return { containerInstances, failures };
  };

  ListContainerInstances = async (input: ListContainerInstancesRequest) => {
    const { state, arns } = this.deps;
    // A syntax error is reported before anything else, as InvalidParameterException saying where.
    const filter = input.filter !== undefined && input.filter.trim() !== '' ? parseCql(input.filter) : undefined;
    const cluster = activeCluster(state, arns, input.cluster).value.clusterName;
    const wanted = input.status;
    const matching: ContainerInstanceRecord[] = [];
    for (const { value } of state.instancesOf(cluster)) {
      if (!(wanted === undefined ? value.status !== 'INACTIVE' : value.status === wanted)) continue;
      if (filter && !evaluateCql(filter, this.querySubject(value))) continue;
      matching.push(value);
    }
    const limits = { defaultSize: 100, maxSize: 100, scope: `ListContainerInstances:${cluster}` };
    const page = paginate(matching, (r) => r.id, input, limits, Ecs.invalidParameter);
    return {
      containerInstanceArns: page.items.map((r) => r.containerInstanceArn),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  };

  UpdateContainerInstancesState = async (input: UpdateContainerInstancesStateRequest) => {
    const { state, arns } = this.deps;
    const given = input.containerInstances ?? [];
    if (given.length === 0) throw Ecs.invalidParameter('containerInstances must name at least one container instance, by ID or full ARN.');
    if (given.length > MAX_UPDATE_STATE) {
      throw Ecs.invalidParameter(`containerInstances can name at most ${MAX_UPDATE_STATE} container instances per call; got ${given.length}. Split the request.`);
    }
    const refs = [...new Set(given)];
    const status = input.status;
    if (status !== 'ACTIVE' && status !== 'DRAINING') {
      throw Ecs.invalidParameter(
        `Invalid status '${String(status)}': only ACTIVE and DRAINING can be set. ECS sets the other statuses itself as an instance registers or deregisters.`,
      );
    }
    const { cluster, records, failures } = await state.catalog.transact(() => {
      const clusterRead = activeCluster(state, arns, input.cluster);
      const cluster = clusterRead.value.clusterName;
      const records: ContainerInstanceRecord[] = [];
      const failures: Failure[] = [];
      const ops: WriteOp[] = [];
      // An ID and an ARN may name the same instance: it is answered, and written, once.
      const seen = new Set<string>();
      for (const ref of refs) {
        const cur = findInstance(state, arns, cluster, ref);
        if (!cur) {
          failures.push({ arn: instanceArnFor(arns, cluster, ref), reason: 'MISSING' });
          continue;
        }
        if (seen.has(cur.value.id)) continue;
        seen.add(cur.value.id);
        const from = cur.value.status;
        if (from !== 'ACTIVE' && from !== 'DRAINING') {
          failures.push({ arn: cur.value.containerInstanceArn, reason: from, detail: notSettable(from) });
          continue;
        }
        if (from === status) {
          records.push(cur.value);
          continue;
        }
        const value: ContainerInstanceRecord = { ...cur.value, status, version: state.latestInstanceVersion(cur.value) + 1 };
        ops.push(putOp(Kind.containerInstance, instanceKey(cluster, value.id), value, cur));
        records.push(value);
      }
      if (ops.length > 0) ops.push(checkOp(Kind.cluster, cluster, clusterRead));
      return { ops, result: { cluster, records, failures } };
    });
    const tasks = tasksByInstance(state, cluster);
    return {
      containerInstances: records.map((r) => this.view(r, values(tasks.get(r.containerInstanceArn)), { tags: false, health: false })),
      failures,
    };
  };

  /** The ContainerInstance wire shape: the record, plus what its tasks hold, computed now. */
  view(r: ContainerInstanceRecord, tasks: readonly TaskReservation[], include: { tags: boolean; health: boolean }): WireContainerInstance {
    const out: WireContainerInstance = {
      containerInstanceArn: r.containerInstanceArn,
      ec2InstanceId: r.ec2InstanceId,
      version: this.deps.state.instanceVersion(r),
      versionInfo: r.versionInfo,
      remainingResources: remainingResources(r.registeredResources, tasks),
      registeredResources: r.registeredResources,
      status: r.status,
      agentConnected: r.agentConnected,
      ...instanceTaskCounts(tasks),
      attributes: r.attributes.map((a) => (a.value === undefined ? { name: a.name } : { name: a.name, value: a.value })),
      registeredAt: r.registeredAt,
      attachments: [],
      tags: include.tags ? r.tags : [],
    };
    if (r.capacityProviderName !== undefined) out.capacityProviderName = r.capacityProviderName;
    if (r.statusReason !== undefined) out.statusReason = r.statusReason;
    if (r.agentUpdateStatus !== undefined) out.agentUpdateStatus = r.agentUpdateStatus as AgentUpdateStatus;
    if (include.health) out.healthStatus = healthOf(r);
    return out;
  }

  /** What the cluster query language sees of an instance. */
  private querySubject(r: ContainerInstanceRecord): CqlSubject {
    const tasks = this.tasksOf(r);
    return {
      attribute: (name) => {
        const a = r.attributes.find((x) => x.name === name);
        return a === undefined ? undefined : (a.value ?? '');
      },
      agentConnected: r.agentConnected,
      agentVersion: r.versionInfo.agentVersion,
      ec2InstanceId: r.ec2InstanceId,
      registeredAt: r.registeredAt,
      runningTasksCount: instanceTaskCounts(tasks).runningTasksCount,
      taskGroups: () => {
        const groups = new Set<string>();
        for (const t of tasks as (PlacedTask & { group?: string })[]) if (t.lastStatus !== 'STOPPED' && t.group !== undefined) groups.add(t.group);
        return groups;
      },
    };
  }

  private tasksOf(r: ContainerInstanceRecord): PlacedTask[] {
    return values(tasksOnInstance(this.deps.state, r.containerInstanceArn));
  }

  private reregistrationTarget(cluster: string, ref: InstanceRef, arn: string): Versioned<ContainerInstanceRecord> {
    if (ref.cluster !== undefined && ref.cluster !== cluster) {
      throw Ecs.invalidParameter(
        `containerInstanceArn ${arn} belongs to cluster '${ref.cluster}', but this request registers into cluster '${cluster}'. An instance cannot move between clusters: register it without containerInstanceArn to join '${cluster}' as a new instance.`,
      );
    }
    const cur = this.deps.state.instance(cluster, ref.id);
    if (!cur) {
      throw Ecs.client(
        `The container instance ${arn} is not registered in cluster '${cluster}'. Register without containerInstanceArn (clear the agent's saved state) to join as a new instance.`,
      );
    }
    if (cur.value.status === 'INACTIVE') {
      throw Ecs.client(
        `The container instance ${arn} was deregistered (INACTIVE), and deregistration is final. Register without containerInstanceArn (clear the agent's saved state) to join as a new instance.`,
      );
    }
    return cur;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Registration input

/** Built-in attributes ECS derives from the instance identity document (on EC2 they come from EC2 itself). */
const IDENTITY_ATTRIBUTES: ReadonlyMap<string, string> = new Map([
  ['ecs.availability-zone', 'availabilityZone'],
  ['ecs.instance-type', 'instanceType'],
  ['ecs.ami-id', 'imageId'],
  ['ecs.cpu-architecture', 'architecture'],
]);
const EC2_INSTANCE_ID = /^(?:i|mi)-[0-9a-f]{8,17}$/;
const MAX_CLIENT_TOKEN = 64;

/** `clientToken` is not in the public model, but the agent sends it (its private model): read it from the raw input. */
function registrationToken(input: object): string | undefined {
  const token: unknown = (input as { clientToken?: unknown }).clientToken;
  if (token === undefined || token === null || token === '') return undefined;
  if (typeof token !== 'string' || token.length > MAX_CLIENT_TOKEN || !/^[\x21-\x7e]+$/.test(token)) {
    throw Ecs.invalidParameter(`clientToken must be a string of up to ${MAX_CLIENT_TOKEN} printable ASCII characters.`);
  }
  return token;
}

function tokenInstanceId(cluster: string, token: string): string {
  return createHash('sha256').update(`${cluster}\0${token}`).digest('hex').slice(0, 32);
}

function parseReregistration(arns: Arns, arn: string): InstanceRef {
  const ref = parseInstanceRef(arns, arn);
  if (!ref) {
    throw Ecs.invalidParameter(
      `containerInstanceArn '${arn}' is not a container instance ARN of account ${arns.accountId} in ${arns.region}. Pass the ARN a previous registration returned, or omit it to register a new instance.`,
    );
  }
  return ref;
}

interface Identity {
  readonly ec2InstanceId: string;
  readonly attributes: InstanceAttribute[];
}

/**
 * Gantry has no EC2 to ask, so what ECS learns from EC2 comes from the identity document: the instance ID (an
 * `i-`/`mi-` ID as is; anything else hashed into a stable `i-` + 17 hex ID) and the built-in attributes.
 */
function parseIdentityDocument(doc: string | undefined): Identity | undefined {
  if (doc === undefined || doc.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(doc);
  } catch {
    parsed = undefined;
  }
  const fields = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  const instanceId = fields?.['instanceId'];
  if (!fields || typeof instanceId !== 'string' || instanceId === '') {
    throw Ecs.invalidParameter(
      'instanceIdentityDocument must be the instance identity document: a JSON object with an instanceId. Send an empty string when the instance has none.',
    );
  }
  const attributes: InstanceAttribute[] = [];
  for (const [name, field] of IDENTITY_ATTRIBUTES) {
    const v = fields[field];
    if (typeof v === 'string' && ATTRIBUTE_VALUE.test(v) && v.trim() === v) attributes.push({ name, value: v });
  }
  const ec2InstanceId = EC2_INSTANCE_ID.test(instanceId) ? instanceId : `i-${createHash('sha256').update(instanceId).digest('hex').slice(0, 17)}`;
  return { ec2InstanceId, attributes };
}

/** Only the members the model defines: unknown ones would otherwise be stored and echoed forever. */
function versionInfoOf(v: VersionInfo): VersionInfo {
  const out: VersionInfo = {};
  if (v.agentVersion !== undefined) out.agentVersion = v.agentVersion;
  if (v.agentHash !== undefined) out.agentHash = v.agentHash;
  if (v.dockerVersion !== undefined) out.dockerVersion = v.dockerVersion;
  return out;
}

function validateAttributeList(attributes: readonly Attribute[] | undefined): InstanceAttribute[] {
  return mergeAttributes([], (attributes ?? []).map((a, i) => validateAttribute(a, `attributes[${i}]`)));
}

function checkRegistrationCustomLimit(attributes: readonly Attribute[]): void {
  const n = customAttributeCount(attributes);
  if (n > MAX_CUSTOM_ATTRIBUTES) {
    throw Ecs.invalidParameter(
      `A container instance can have at most ${MAX_CUSTOM_ATTRIBUTES} custom attributes (names not starting with 'ecs.' or 'com.amazonaws.ecs.'); this registration would give it ${n}. Remove some from ECS_INSTANCE_ATTRIBUTES.`,
    );
  }
}

function checkInstanceType(cur: ContainerInstanceRecord, identity: Identity | undefined): void {
  const was = cur.attributes.find((a) => a.name === 'ecs.instance-type')?.value;
  const now = identity?.attributes.find((a) => a.name === 'ecs.instance-type')?.value;
  if (was !== undefined && now !== undefined && was !== now) {
    // The agent recognises this exact sentence and stops instead of retrying.
    throw Ecs.client(
      `Container instance type changes are not supported. ${cur.containerInstanceArn} registered as ${was} and is now ${now}: revert the type change, or register a new instance.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

function values(tasks: readonly PlacedTaskRead[] | undefined): PlacedTask[] {
  return (tasks ?? []).map((t) => t.read.value);
}

function instanceNotFound(ref: string, cluster: string) {
  return Ecs.invalidParameter(
    `The referenced container instance '${ref}' was not found in cluster '${cluster}'. Pass its ID or full ARN, and the cluster it is registered in (see ListContainerInstances).`,
  );
}

function notSettable(status: ContainerInstanceStatus): string {
  return status === 'INACTIVE'
    ? 'The container instance was deregistered (INACTIVE); its state can no longer be changed.'
    : `The container instance is ${status}; its state can be changed only once it is ACTIVE.`;
}

/** What a forced deregistration leaves of a task it orphans: stopped, as far as ECS is concerned. */
function orphaned(task: PlacedTask, at: number): PlacedTask {
  const t = task as PlacedTask & { version?: unknown; stoppingAt?: unknown };
  return {
    ...t,
    desiredStatus: 'STOPPED',
    lastStatus: 'STOPPED',
    stopCode: 'UserInitiated',
    stoppedReason: 'Container instance deregistered with force: the task was orphaned.',
    stoppingAt: t.stoppingAt ?? at,
    stoppedAt: at,
    ...(typeof t.version === 'number' ? { version: t.version + 1 } : {}),
  } as PlacedTask;
}

/**
 * Health as far as Gantry observes it: the agent's connection. Runtime and accelerator checks are reported
 * by the agent's health checks once it sends them; until then they are simply absent.
 */
function healthOf(r: ContainerInstanceRecord): Wire<ContainerInstanceHealthStatus> {
  const status = r.agentConnected ? 'OK' : 'IMPAIRED';
  return {
    overallStatus: status,
    details: [{ type: 'AGENT_CONNECTIVITY', status, lastUpdated: r.lastHeartbeatMs !== undefined ? epochSeconds(r.lastHeartbeatMs) : r.registeredAt }],
  };
}
