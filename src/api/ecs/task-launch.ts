/**
 * What RunTask and StartTask share: the launch parameters checked once at the edge (before any decision),
 * the task definition checked inside the decision, and the task records built from a placement.
 *
 * Order of checks, as ECS answers them: request shape (group, startedBy, tags, propagateTags, …) → cluster →
 * task definition (exists, ACTIVE, runs on EC2) → overrides against its containers → network configuration
 * against its network mode → placement.
 */
import { createHash } from 'node:crypto';
import type { ContainerDefinition, NetworkConfiguration, PropagateTags, Tag, TaskOverride } from '@aws-sdk/client-ecs';
import type { Arns } from '../../domain/arn.js';
import { Ecs } from '../../domain/errors.js';
import { Kind } from '../../domain/records.js';
import type { ContainerInstanceRecord, TaskDefinitionRecord, Wire } from '../../domain/records.js';
import { MAX_TAGS, mergeTags, validateTags } from '../../domain/tags.js';
import type { WireTag } from '../../domain/tags.js';
import type { TaskContainerRecord, TaskRecord } from '../../domain/task.js';
import { applyContainerOverrides, normaliseOverrides } from '../../domain/task-overrides.js';
import { demandOf, gpuCount } from '../../placement/demand.js';
import type { EngineAttempt } from '../../placement/engine/cluster-index.js';
import type { PlacementFailure, TaskDemand, TaskPlacement } from '../../placement/types.js';
import { putOp } from '../../state/catalog.js';
import { taskKey } from '../../state/ecs-state.js';
import type { InstanceVersions } from '../../state/ecs-state.js';
import type { Versioned } from '../../state/catalog.js';
import type { EcsState } from '../../state/ecs-state.js';
import type { WriteOp } from '../../store/types.js';
import { findTaskDefinition, parseTaskDefinitionRef } from './task-definitions.js';
import type { TaskDefinitionRef } from './task-definitions.js';

const MAX_GROUP = 255;
/** [BC RunTaskRequest.startedBy]: up to 128 letters, numbers, hyphens, forward slashes and underscores. */
const STARTED_BY = /^[A-Za-z0-9\-/_]{1,128}$/;
/** [BC RunTaskRequest.clientToken]: up to 64 characters in the range 33–126. */
const CLIENT_TOKEN = /^[\x21-\x7e]{1,64}$/;

/** The launch parameters RunTask and StartTask have in common, as sent. */
export interface LaunchRequest {
  readonly taskDefinition?: string | undefined;
  readonly group?: string | undefined;
  readonly startedBy?: string | undefined;
  readonly overrides?: TaskOverride | undefined;
  readonly tags?: Tag[] | undefined;
  readonly propagateTags?: PropagateTags | string | undefined;
  readonly enableECSManagedTags?: boolean | undefined;
  readonly enableExecuteCommand?: boolean | undefined;
  readonly networkConfiguration?: NetworkConfiguration | undefined;
  readonly volumeConfigurations?: unknown[] | undefined;
}

/** The launch parameters checked: everything that can be judged without reading state. */
export interface Launch {
  readonly definition: TaskDefinitionRef;
  readonly group?: string;
  readonly startedBy?: string;
  readonly overrides: TaskOverride | undefined;
  readonly tags: WireTag[];
  readonly propagateFromDefinition: boolean;
  readonly managedTags: boolean;
  readonly enableExecuteCommand: boolean;
  readonly hasNetworkConfiguration: boolean;
}

export function parseLaunch(arns: Arns, input: LaunchRequest): Launch {
  const definition = parseTaskDefinitionRef(arns, input.taskDefinition ?? '');
  if (input.group !== undefined && (input.group.length < 1 || input.group.length > MAX_GROUP)) {
    throw Ecs.invalidParameter(`group must be 1-${MAX_GROUP} characters; the default is family:<task definition family>.`);
  }
  if (input.startedBy !== undefined && !STARTED_BY.test(input.startedBy)) {
    throw Ecs.invalidParameter('startedBy can have up to 128 letters (uppercase and lowercase), numbers, hyphens (-), forward slashes (/) and underscores (_).');
  }
  if (input.propagateTags === 'SERVICE') {
    throw Ecs.invalidParameter('propagateTags SERVICE applies only to tasks a service starts; use TASK_DEFINITION or NONE for a standalone task.');
  }
  if ((input.volumeConfigurations?.length ?? 0) > 0) {
    throw Ecs.unsupportedFeature('volumeConfigurations (Amazon EBS volumes configured at launch) are not supported by Gantry.');
  }
  return {
    definition,
    ...(input.group !== undefined ? { group: input.group } : {}),
    ...(input.startedBy !== undefined ? { startedBy: input.startedBy } : {}),
    overrides: input.overrides,
    tags: validateTags(input.tags),
    propagateFromDefinition: input.propagateTags === 'TASK_DEFINITION',
    managedTags: input.enableECSManagedTags === true,
    enableExecuteCommand: input.enableExecuteCommand === true,
    hasNetworkConfiguration: input.networkConfiguration !== undefined,
  };
}

export function checkClientToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  if (!CLIENT_TOKEN.test(token)) throw Ecs.invalidParameter('clientToken must be 1-64 characters in the ASCII range 33-126.');
  return token;
}

/** A digest of the request, clientToken aside: a retry with the same token must be this same request. */
export function requestDigest(input: object): string {
  const { clientToken: _token, ...rest } = input as { clientToken?: unknown };
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The revision a launch runs: it must exist, be ACTIVE and run on EC2 capacity. */
export function launchDefinition(state: EcsState, ref: TaskDefinitionRef): Versioned<TaskDefinitionRecord> {
  const found = findTaskDefinition(state, ref);
  if (!found) throw Ecs.client('TaskDefinition not found.');
  if (found.value.status !== 'ACTIVE') throw Ecs.client('TaskDefinition is inactive');
  if (!(found.value.compatibilities ?? []).includes('EC2')) {
    throw Ecs.invalidParameter(`Task definition does not support launch_type EC2. ${found.value.taskDefinitionArn} is compatible with ${(found.value.compatibilities ?? []).join(', ') || 'nothing'} only.`);
  }
  return found;
}

/** A launch made concrete for one definition: overrides checked, what each task needs, how it is recorded. */
export interface PreparedLaunch {
  readonly def: TaskDefinitionRecord;
  readonly overrides: Wire<TaskOverride>;
  readonly containers: Wire<ContainerDefinition>[];
  readonly demand: TaskDemand;
  readonly networkMode: 'bridge' | 'host' | 'awsvpc' | 'none';
  readonly group: string;
  readonly tags: WireTag[];
  readonly cpu?: string;
  readonly memory?: string;
}

export function prepareLaunch(launch: Launch, def: TaskDefinitionRecord, cluster: string): PreparedLaunch {
  const overrides = normaliseOverrides(launch.overrides, def.containerDefinitions ?? []);
  const containers = applyContainerOverrides(def.containerDefinitions ?? [], overrides);
  const networkMode = def.networkMode ?? 'bridge';
  if (networkMode === 'awsvpc' && !launch.hasNetworkConfiguration) {
    throw Ecs.invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  }
  if (networkMode !== 'awsvpc' && launch.hasNetworkConfiguration) {
    throw Ecs.invalidParameter('Network Configuration is not valid for the given networkMode of this task definition.');
  }
  if (launch.enableExecuteCommand && overrides.taskRoleArn === undefined && def.taskRoleArn === undefined) {
    throw Ecs.invalidParameter('enableExecuteCommand needs a task role: give the task definition a taskRoleArn, or pass one in overrides.');
  }
  let tags = launch.propagateFromDefinition ? mergeTags(def.tags, launch.tags) : launch.tags;
  if (tags.length > MAX_TAGS) throw Ecs.invalidParameter(`A task can have at most ${MAX_TAGS} tags; the task definition's and the request's together make ${tags.length}.`);
  if (launch.managedTags) tags = mergeTags(tags, [{ key: 'aws:ecs:clusterName', value: cluster }]);
  const cpu = overrides.cpu ?? def.cpu;
  const memory = overrides.memory ?? def.memory;
  const demand = demandOf({ networkMode, cpu, memory, containers, requiresAttributes: def.requiresAttributes });
  return {
    def,
    overrides,
    containers,
    demand,
    networkMode,
    group: launch.group ?? `family:${def.family}`,
    tags,
    cpu: cpu ?? String(demand.cpu),
    memory: memory ?? String(demand.memory),
  };
}

export interface NewTask {
  readonly arns: Arns;
  readonly cluster: string;
  readonly id: string;
  readonly launch: Launch;
  readonly prepared: PreparedLaunch;
  readonly instance: ContainerInstanceRecord;
  readonly placement: TaskPlacement;
  readonly nowSec: number;
  readonly clientToken?: string | undefined;
  readonly requestDigest?: string | undefined;
  /** The service that starts the task, if any. */
  readonly serviceName?: string | undefined;
}

/** The record of a task just placed: PENDING (PROVISIONING while an awsvpc task waits for its network), version 1. */
export function newTaskRecord(n: NewTask): TaskRecord {
  const { arns, cluster, id, launch, prepared, instance, placement } = n;
  const taskArn = arns.task(cluster, id);
  const attr = (name: string) => instance.attributes.find((a) => a.name === name)?.value;
  const gpus = [...placement.gpuIds];
  const containers = prepared.containers.map((c): TaskContainerRecord => {
    const name = c.name ?? '';
    const out: TaskContainerRecord = {
      containerArn: arns.container(cluster, id, containerId(taskArn, name)),
      taskArn,
      name,
      image: c.image ?? '',
      lastStatus: 'PENDING',
      networkBindings: [],
      healthStatus: 'UNKNOWN',
      cpu: String(c.cpu ?? 0),
      essential: c.essential !== false,
      hasHealthCheck: c.healthCheck !== undefined,
    };
    if (c.memory !== undefined) out.memory = String(c.memory);
    if (c.memoryReservation !== undefined) out.memoryReservation = String(c.memoryReservation);
    const mine = gpus.splice(0, gpuCount(c));
    if (mine.length > 0) out.gpuIds = mine;
    return out;
  });
  const az = attr('ecs.availability-zone');
  const arch = attr('ecs.cpu-architecture');
  const record: TaskRecord = {
    cluster,
    id,
    taskArn,
    clusterArn: arns.cluster(cluster),
    taskDefinitionArn: prepared.def.taskDefinitionArn,
    containerInstanceArn: instance.containerInstanceArn,
    containerInstanceId: instance.id,
    launchType: 'EC2',
    lastStatus: prepared.networkMode === 'awsvpc' ? 'PROVISIONING' : 'PENDING',
    desiredStatus: 'RUNNING',
    version: 1,
    createdAt: n.nowSec,
    group: prepared.group,
    healthStatus: 'UNKNOWN',
    overrides: prepared.overrides,
    containers,
    tags: prepared.tags,
    enableExecuteCommand: launch.enableExecuteCommand,
    reservation: {
      cpu: prepared.demand.cpu,
      memory: prepared.demand.memory,
      portsTcp: [...prepared.demand.portsTcp],
      portsUdp: [...prepared.demand.portsUdp],
      gpuIds: [...placement.gpuIds],
    },
  };
  if (az !== undefined) record.availabilityZone = az;
  if (arch !== undefined) record.attributes = [{ name: 'ecs.cpu-architecture', value: arch }];
  if (launch.startedBy !== undefined) record.startedBy = launch.startedBy;
  if (prepared.cpu !== undefined) record.cpu = prepared.cpu;
  if (prepared.memory !== undefined) record.memory = prepared.memory;
  if (n.clientToken !== undefined) record.clientToken = n.clientToken;
  if (n.requestDigest !== undefined) record.requestDigest = n.requestDigest;
  if (n.serviceName !== undefined) record.serviceName = n.serviceName;
  return record;
}

/** What the tasks of one launch share; each placed task takes the next of `ids`. */
export interface LaunchWrites {
  readonly state: EcsState;
  readonly arns: Arns;
  readonly cluster: string;
  readonly launch: Launch;
  readonly prepared: PreparedLaunch;
  readonly ids: readonly string[];
  readonly nowSec: number;
  readonly clientToken?: string | undefined;
  readonly requestDigest?: string | undefined;
  readonly serviceName?: string | undefined;
}

/**
 * The task records for placed attempts (RunTask, StartTask, the service scheduler): each new task's write goes to
 * `ops`, carrying the version its instance reaches (from `versions`). Failures are returned in order.
 */
export function writePlacedTasks(w: LaunchWrites, attempts: readonly EngineAttempt[], ops: WriteOp[], versions: InstanceVersions): { tasks: TaskRecord[]; failures: PlacementFailure[] } {
  const tasks: TaskRecord[] = [];
  const failures: PlacementFailure[] = [];
  attempts.forEach((a, n) => {
    if (a.failure) failures.push(a.failure);
    if (!a.placement) return;
    const instance = w.state.instanceByArn(w.cluster, a.placement.containerInstanceArn);
    if (!instance) throw new Error(`placement chose ${a.placement.containerInstanceArn}, which the catalog does not hold`);
    const task = newTaskRecord({ ...w, id: w.ids[n]!, instance: instance.value, placement: a.placement });
    const instanceVersion = versions.next(a.placement.containerInstanceArn);
    if (instanceVersion !== undefined) task.instanceVersion = instanceVersion;
    tasks.push(task);
    ops.push(putOp(Kind.task, taskKey(w.cluster, task.id), task, undefined));
  });
  return { tasks, failures };
}

/** Container ids are UUIDs, as ECS's are; derived from the task ARN and name so a retried decision mints the same. */
function containerId(taskArn: string, name: string): string {
  const h = createHash('sha256').update(`${taskArn}\u0000${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
