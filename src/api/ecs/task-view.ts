/**
 * Tasks as the API shows and names them: the ECS Task wire shape projected from a record (internal fields
 * left out), and task references (an ID, or a task ARN in the long or legacy form) resolved to records.
 */
import type { Container, Task } from '@aws-sdk/client-ecs';
import type { Arns } from '../../domain/arn.js';
import type { Wire } from '../../domain/records.js';
import type { TaskContainerRecord, TaskRecord } from '../../domain/task.js';
import type { Versioned } from '../../state/catalog.js';
import type { EcsState } from '../../state/ecs-state.js';
import { parseClusterScopedRef } from './resolve.js';
import type { ClusterScopedRef } from './resolve.js';

export type WireTask = Wire<Task>;

/** The Task wire shape. Tags are shown only when asked for (DescribeTasks include TAGS) or to the launching call. */
export function taskView(t: TaskRecord, opts: { readonly tags: boolean }): WireTask {
  const out: WireTask = {
    attachments: [],
    attributes: t.attributes ?? [],
    clusterArn: t.clusterArn,
    containers: t.containers.map(containerView),
    createdAt: t.createdAt,
    desiredStatus: t.desiredStatus,
    enableExecuteCommand: t.enableExecuteCommand,
    group: t.group,
    healthStatus: t.healthStatus,
    lastStatus: t.lastStatus,
    launchType: t.launchType,
    overrides: t.overrides,
    tags: opts.tags ? t.tags : [],
    taskArn: t.taskArn,
    taskDefinitionArn: t.taskDefinitionArn,
    version: t.version,
  };
  const optional = {
    availabilityZone: t.availabilityZone,
    connectivity: t.connectivity,
    connectivityAt: t.connectivityAt,
    containerInstanceArn: t.containerInstanceArn,
    cpu: t.cpu,
    executionStoppedAt: t.executionStoppedAt,
    memory: t.memory,
    pullStartedAt: t.pullStartedAt,
    pullStoppedAt: t.pullStoppedAt,
    startedAt: t.startedAt,
    startedBy: t.startedBy,
    stopCode: t.stopCode,
    stoppedAt: t.stoppedAt,
    stoppedReason: t.stoppedReason,
    stoppingAt: t.stoppingAt,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function containerView(c: TaskContainerRecord): Wire<Container> {
  const out: Wire<Container> = {
    containerArn: c.containerArn,
    taskArn: c.taskArn,
    name: c.name,
    image: c.image,
    lastStatus: c.lastStatus,
    networkBindings: c.networkBindings,
    networkInterfaces: [],
    healthStatus: c.healthStatus,
  };
  const optional = {
    imageDigest: c.imageDigest,
    runtimeId: c.runtimeId,
    exitCode: c.exitCode,
    reason: c.reason,
    cpu: c.cpu,
    memory: c.memory,
    memoryReservation: c.memoryReservation,
    gpuIds: c.gpuIds,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

export type TaskRef = ClusterScopedRef;

/** A task ID, or its ARN in the long (`task/<cluster>/<id>`) or legacy (`task/<id>`) form; undefined if neither. */
export function parseTaskRef(arns: Arns, ref: string): TaskRef | undefined {
  return parseClusterScopedRef(arns, ref, 'task');
}

/** The task `ref` names in `cluster`; an ARN naming another cluster names nothing here. */
export function findTask(state: EcsState, arns: Arns, cluster: string, ref: string): Versioned<TaskRecord> | undefined {
  const parsed = parseTaskRef(arns, ref);
  if (!parsed || (parsed.cluster !== undefined && parsed.cluster !== cluster)) return undefined;
  return state.task(cluster, parsed.id);
}

/** The ARN a failure reports for `ref`: the ARN itself, or the one the ID would have in `cluster`. */
export function taskArnFor(arns: Arns, cluster: string, ref: string): string {
  return ref.startsWith('arn:') ? ref : arns.task(cluster, ref);
}

/** The family of a task, from its task definition ARN (`…:task-definition/<family>:<revision>`). */
export function familyOf(t: Pick<TaskRecord, 'taskDefinitionArn'>): string {
  const slash = t.taskDefinitionArn.lastIndexOf('/');
  const colon = t.taskDefinitionArn.lastIndexOf(':');
  return t.taskDefinitionArn.slice(slash + 1, colon > slash ? colon : undefined);
}
