/**
 * Tasks: the record Gantry keeps for each ECS task, the lifecycle vocabulary, and the shapes exchanged with
 * agents about them. Wire names follow the ECS model exactly (Task, Container, NetworkBinding).
 */
import type { Attribute, ContainerDefinition, NetworkBinding, TaskOverride, Volume } from '@aws-sdk/client-ecs';
import type { Wire } from './records.js';
import type { WireTag } from './tags.js';

/** Control-plane task states (ECS-SEMANTICS.md §4.1), in lifecycle order. */
export const TASK_STATUSES = [
  'PROVISIONING',
  'PENDING',
  'ACTIVATING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
  'DELETED',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type DesiredTaskStatus = 'RUNNING' | 'STOPPED';

export type TaskStopCode =
  | 'TaskFailedToStart'
  | 'EssentialContainerExited'
  | 'UserInitiated'
  | 'ServiceSchedulerInitiated'
  | 'SpotInterruption'
  | 'TerminationNotice'
  | 'InfrastructureHealth';

export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

/** What the agent reports of one container: the agent only knows PENDING, RUNNING and STOPPED. */
export type AgentContainerStatus = 'PENDING' | 'RUNNING' | 'STOPPED';

export interface TaskContainerRecord {
  containerArn: string;
  taskArn: string;
  name: string;
  image: string;
  imageDigest?: string;
  runtimeId?: string;
  lastStatus: AgentContainerStatus;
  exitCode?: number;
  reason?: string;
  networkBindings: NetworkBinding[];
  healthStatus: HealthStatus;
  cpu?: string;
  memory?: string;
  memoryReservation?: string;
  /** GPUs placement assigned to this container (from the instance's GPU set). */
  gpuIds?: string[];
  /** Internal, from the definition: whether its exit stops the task, and whether its health is monitored. */
  essential: boolean;
  hasHealthCheck: boolean;
}

/**
 * Resources a task holds on its container instance while neither its desiredStatus nor its lastStatus is
 * STOPPED: exactly what placement reserved, so accounting (src/domain/resources.ts) never re-derives it.
 */
export interface TaskReservation {
  /** CPU units. */
  cpu: number;
  /** MiB (memoryReservation where given, else memory, summed over containers; or the task-level memory). */
  memory: number;
  /** Static host ports held, by protocol. Dynamic ports are not reserved at placement. */
  portsTcp: number[];
  portsUdp: number[];
  /** The instance's GPU ids assigned to the task. */
  gpuIds: string[];
}

/**
 * Key: `cluster/taskId`. The ECS Task wire shape plus what the control plane needs internally: the
 * resolved definition the agent runs (so a later deregistration changes nothing), the reservation held on
 * the instance, and bookkeeping for idempotency and retention.
 */
export interface TaskRecord {
  cluster: string;
  id: string;
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  containerInstanceArn?: string;
  /** Short id of the container instance (the last part of its ARN). */
  containerInstanceId?: string;
  availabilityZone?: string;
  launchType: 'EC2' | 'FARGATE' | 'EXTERNAL';
  lastStatus: TaskStatus;
  desiredStatus: DesiredTaskStatus;
  version: number;
  createdAt: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  executionStoppedAt?: number;
  stoppedAt?: number;
  connectivity?: 'CONNECTED' | 'DISCONNECTED';
  connectivityAt?: number;
  stopCode?: TaskStopCode;
  stoppedReason?: string;
  group?: string;
  startedBy?: string;
  cpu?: string;
  memory?: string;
  healthStatus: HealthStatus;
  overrides: Wire<TaskOverride>;
  containers: TaskContainerRecord[];
  attributes?: Attribute[];
  tags: WireTag[];
  enableExecuteCommand: boolean;
  /** Internal: what this task holds on its instance. */
  reservation: TaskReservation;
  /** Internal: the RunTask clientToken and a digest of the request it came with (idempotency). */
  clientToken?: string;
  requestDigest?: string;
  /**
   * Internal: the `version` its container instance reached when this task last changed what the instance holds
   * (placed, stop requested). An instance's version is the highest of its record's and its tasks' (EcsState).
   */
  instanceVersion?: number;
  /** Internal: the service that owns the task, if any. */
  serviceName?: string;
  /** Internal: task scale-in protection, until this time (epoch seconds); scale-in and deployments leave the task alone. */
  protectedUntil?: number;
  /**
   * Internal: when the instance's agent first reported on the task (epoch seconds). Until then no agent has
   * started anything for it, so a stop needs no agent and completes at once.
   */
  reportedAt?: number;
}

/** One task as the server wants an agent to run it: everything needed, nothing looked up later. */
export interface DesiredTask {
  taskArn: string;
  family: string;
  revision: number;
  desiredStatus: DesiredTaskStatus;
  /**
   * The task's `version` when the set was built. Informational: a set is re-sent when what the agent must do
   * changes (membership, desiredStatus), not after every report, so it may lag the record.
   */
  version: number;
  networkMode: 'bridge' | 'host' | 'awsvpc' | 'none';
  cpu?: string;
  memory?: string;
  pidMode?: string;
  ipcMode?: string;
  /** Container definitions with the task's overrides already applied. */
  containers: Wire<ContainerDefinition>[];
  volumes: Wire<Volume>[];
  /** Static host ports the server reserved for the task, for checking. */
  reservedPorts: { tcp: number[]; udp: number[] };
  /** GPU ids placement assigned, by container name; absent when the task has no GPUs. */
  gpuIds?: Record<string, string[]>;
  /** Registry credentials for images of Gantry's registry (added with the registry). */
  registryAuth?: Record<string, { username: string; password: string }>;
}

/** One container's observed state, as the agent reports it. */
export interface ContainerReport {
  name: string;
  runtimeId?: string;
  lastStatus: AgentContainerStatus;
  exitCode?: number;
  reason?: string;
  networkBindings?: NetworkBinding[];
  healthStatus?: HealthStatus;
  imageDigest?: string;
}

/** A task transition observed by an agent. Timestamps are epoch seconds. */
export interface TaskReport {
  taskArn: string;
  lastStatus: AgentContainerStatus;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  executionStoppedAt?: number;
  stopCode?: TaskStopCode;
  stoppedReason?: string;
  containers: ContainerReport[];
}
