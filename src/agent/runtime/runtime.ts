/**
 * The container runtime interface the agent's task engine drives. Two implementations: Docker (the Engine
 * API over its unix socket) and the fake runtime (in memory, for thousands of hollow instances in scale
 * tests). Both pass one contract suite (contract.ts). Nothing above this interface knows which it has.
 *
 * Containers are identified by a deterministic name derived from the task and container, and carry labels
 * tying them to their task, so creating is idempotent and an agent that restarts finds (adopts) what it
 * started before instead of starting duplicates.
 */

/** Labels every Gantry container carries. */
export const LABELS = {
  taskArn: 'com.gantry.task-arn',
  containerName: 'com.gantry.container-name',
  cluster: 'com.gantry.cluster',
  family: 'com.gantry.task-definition-family',
  revision: 'com.gantry.task-definition-version',
  instance: 'com.gantry.container-instance',
  managed: 'com.gantry.managed',
} as const;

export type PullBehavior = 'default' | 'always' | 'once' | 'prefer-cached';

export interface RegistryAuth {
  readonly username: string;
  readonly password: string;
  readonly serverAddress: string;
}

export interface PortMappingSpec {
  readonly containerPort: number;
  /** 0 or absent: a dynamic (ephemeral) host port. */
  readonly hostPort?: number;
  readonly protocol: 'tcp' | 'udp';
}

export interface MountSpec {
  readonly type: 'bind' | 'volume' | 'tmpfs';
  /** Host path (bind) or volume name (volume); unused for tmpfs. */
  readonly source?: string;
  readonly target: string;
  readonly readOnly: boolean;
  /** tmpfs only. */
  readonly sizeMiB?: number;
  readonly mountOptions?: readonly string[];
}

export interface HealthCheckSpec {
  /** ['CMD', …] or ['CMD-SHELL', '…'] as in the task definition. */
  readonly test: readonly string[];
  readonly intervalSec: number;
  readonly timeoutSec: number;
  readonly retries: number;
  readonly startPeriodSec: number;
}

/** Everything needed to create one container of one task. Built by the task engine from the task. */
export interface ContainerSpec {
  /** Deterministic and unique per (task, container): `ecs-<family>-<revision>-<container>-<taskId>`. */
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly command?: readonly string[];
  readonly entryPoint?: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly workingDirectory?: string;
  readonly user?: string;
  readonly hostname?: string;
  readonly networkMode: 'bridge' | 'host' | 'none';
  readonly portMappings: readonly PortMappingSpec[];
  readonly links?: readonly string[];
  readonly dnsServers?: readonly string[];
  readonly dnsSearchDomains?: readonly string[];
  readonly extraHosts?: readonly { hostname: string; ipAddress: string }[];
  readonly cpuShares?: number;
  /** Hard limit (MiB). */
  readonly memoryMiB?: number;
  /** Soft limit (MiB). */
  readonly memoryReservationMiB?: number;
  readonly ulimits?: readonly { name: string; soft: number; hard: number }[];
  readonly privileged?: boolean;
  readonly readonlyRootFilesystem?: boolean;
  readonly initProcessEnabled?: boolean;
  readonly capabilities?: { readonly add: readonly string[]; readonly drop: readonly string[] };
  readonly sharedMemoryMiB?: number;
  readonly mounts: readonly MountSpec[];
  /** Runtime ids of containers whose volumes this one mounts. */
  readonly volumesFrom?: readonly { containerId: string; readOnly: boolean }[];
  readonly logDriver?: { readonly driver: string; readonly options: Readonly<Record<string, string>> };
  readonly healthCheck?: HealthCheckSpec;
  readonly stopSignal?: string;
  readonly dockerSecurityOptions?: readonly string[];
  readonly systemControls?: readonly { namespace: string; value: string }[];
  readonly pidMode?: string;
  readonly ipcMode?: string;
  readonly interactive?: boolean;
  readonly pseudoTerminal?: boolean;
}

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead' | 'removing';

export interface PortBinding {
  readonly containerPort: number;
  readonly hostPort: number;
  readonly protocol: 'tcp' | 'udp';
  readonly hostIp: string;
}

export interface ContainerStatus {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly imageDigest?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: ContainerState;
  /** Only once the container has exited (ECS reports no exit code before that, nor for a failed start). */
  readonly exitCode?: number;
  readonly oomKilled: boolean;
  /** Runtime error text (e.g. why the start failed). */
  readonly error?: string;
  /** Epoch milliseconds. */
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly health: 'none' | 'starting' | 'healthy' | 'unhealthy';
  readonly ports: readonly PortBinding[];
}

interface RuntimeEventBase {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Epoch milliseconds, as the runtime stamped the event. */
  readonly time: number;
}

/**
 * A hint that a container changed; consumers re-inspect rather than trust it (events can be replayed after
 * a reconnect). `die` carries the exit code and `health` the new status, as Docker's events do.
 */
export type RuntimeEvent =
  | (RuntimeEventBase & { readonly type: 'start' | 'oom' | 'destroy' })
  | (RuntimeEventBase & { readonly type: 'die'; readonly exitCode?: number })
  | (RuntimeEventBase & { readonly type: 'health'; readonly health: 'starting' | 'healthy' | 'unhealthy' });

export interface HostInfo {
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly os: string;
  /** 'x86_64' | 'arm64' … as the ECS attribute ecs.cpu-architecture spells it. */
  readonly architecture: string;
  readonly runtimeVersion: string;
}

export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  /** Epoch milliseconds. */
  readonly time: number;
  readonly line: string;
}

/** Raised with a reason the ECS way (`CannotPullContainerError: …`, `CannotStartContainerError: …`). */
export class RuntimeError extends Error {
  constructor(
    readonly kind: 'CannotPullContainerError' | 'CannotCreateContainerError' | 'CannotStartContainerError' | 'CannotStopContainerError' | 'CannotInspectContainerError' | 'ResourceInitializationError',
    message: string,
  ) {
    super(`${kind}: ${message}`);
    this.name = kind;
  }
}

export interface ContainerRuntime {
  readonly kind: 'docker' | 'fake';
  info(): Promise<HostInfo>;
  hasImage(image: string): Promise<boolean>;
  /** Pulls an image; throws RuntimeError('CannotPullContainerError', …). */
  pullImage(image: string, auth?: RegistryAuth): Promise<{ digest?: string }>;
  /** Creates the container, or returns the id of the existing one with the same name (idempotent). */
  createContainer(spec: ContainerSpec): Promise<string>;
  /**
   * Starts a created container and resolves once it runs; a no-op if it is already running. Throws
   * RuntimeError('CannotStartContainerError', …) when it cannot start or does not exist.
   */
  startContainer(id: string): Promise<void>;
  /** Stop signal, then SIGKILL after `timeoutSec`; resolves once it has exited. A no-op if it is not running or gone. */
  stopContainer(id: string, timeoutSec: number): Promise<void>;
  /** Removes a container (and its anonymous volumes), killing it if it still runs; a no-op if it is gone. */
  removeContainer(id: string): Promise<void>;
  /** `id` may also be the container's name. Undefined when there is no such container. */
  inspectContainer(id: string): Promise<ContainerStatus | undefined>;
  /** Every container carrying all the given labels (for adoption after a restart). */
  listContainers(labels: Readonly<Record<string, string>>): Promise<ContainerStatus[]>;
  /** Named volumes for the task definition's dockerVolumeConfiguration. Idempotent. */
  createVolume(name: string, driver: string, options: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): Promise<void>;
  removeVolume(name: string): Promise<void>;
  /**
   * Container lifecycle events (start, die, oom, destroy, health changes) from the moment of the call on,
   * delivered asynchronously; returns an unsubscribe function.
   */
  subscribe(listener: (e: RuntimeEvent) => void): () => void;
  /** A container's log lines; with `follow`, keeps yielding until the container stops or `signal` aborts. */
  logs(id: string, opts: { follow: boolean; tail?: number; sinceMs?: number; signal?: AbortSignal }): AsyncIterable<LogLine>;
  close(): Promise<void>;
}
