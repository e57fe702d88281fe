/**
 * DesiredTask + one container definition → the runtime's ContainerSpec. Pure: the runtime ids of the task's
 * other containers (for volumesFrom and shared namespaces) come in through the context.
 *
 * Anything this agent cannot honour (a log driver it does not offer, secrets, GPUs, EFS…) is refused with a
 * reason the task reports, never silently dropped: a container that runs differently from its definition is
 * worse than one that does not run. Definitions that need such features carry requiresAttributes this agent
 * does not advertise, so the scheduler should not send them here in the first place.
 */
import type { ContainerDefinition, Volume } from '@aws-sdk/client-ecs';
import type { Wire } from '../../domain/records.js';
import type { DesiredTask } from '../../domain/task.js';
import { LABELS } from '../runtime/runtime.js';
import type { ContainerSpec, HealthCheckSpec, MountSpec, PortMappingSpec } from '../runtime/runtime.js';

export type ContainerDef = Wire<ContainerDefinition>;

export interface SpecContext {
  readonly cluster: string;
  readonly containerInstanceArn: string;
  /** For containers without stopTimeout (`--container-stop-timeout`), seconds. */
  readonly defaultStopTimeoutSec: number;
  /** Runtime ids of the task's containers created so far, by container name. */
  readonly runtimeIds: ReadonlyMap<string, string>;
}

export interface VolumeToCreate {
  readonly name: string;
  readonly driver: string;
  readonly options: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** Task-scoped volumes are removed with the task's containers. */
  readonly taskScoped: boolean;
}

export type SpecResult =
  | { readonly ok: true; readonly spec: ContainerSpec; readonly stopTimeoutSec: number; readonly volumes: readonly VolumeToCreate[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Labels the agent adds beside the runtime's LABELS: what adoption after a restart needs to know before the
 * server has described the task again (an essential container that exited meanwhile stops its task).
 */
export const AGENT_LABELS = { essential: 'com.gantry.container-essential' } as const;

export const SUPPORTED_LOG_DRIVERS: readonly string[] = ['json-file', 'none', 'syslog'];
/** Bounds the expansion of containerPortRange into single mappings (Docker publishes each port separately). */
export const MAX_PORTS_PER_CONTAINER = 1000;
const MIN_CPU_SHARES = 2;
const REFUSED = 'CannotCreateContainerError';

/** The task id: the last part of the task ARN. */
export function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

/** Deterministic, so creating is idempotent and a restarted agent finds its containers by name too. */
export function runtimeName(task: Pick<DesiredTask, 'family' | 'revision' | 'taskArn'>, container: string): string {
  return `ecs-${task.family}-${task.revision}-${container}-${taskIdOf(task.taskArn)}`;
}

export function taskVolumeName(task: Pick<DesiredTask, 'family' | 'revision' | 'taskArn'>, volume: string): string {
  return `ecs-${task.family}-${task.revision}-${volume}-${taskIdOf(task.taskArn)}`;
}

/** Labels that tie a container (or task-scoped volume) to its task, so a restarted agent can adopt it. */
export function taskLabels(task: Pick<DesiredTask, 'family' | 'revision' | 'taskArn'>, cluster: string, instanceArn: string): Record<string, string> {
  return {
    [LABELS.taskArn]: task.taskArn,
    [LABELS.cluster]: cluster,
    [LABELS.family]: task.family,
    [LABELS.revision]: String(task.revision),
    [LABELS.instance]: instanceArn,
    [LABELS.managed]: 'true',
  };
}

/**
 * The container that owns the task's shared pid/ipc namespace (pidMode/ipcMode `task`): the first one defined.
 * Others join it, so it must exist before they are created and run when they start.
 */
export function namespaceOwner(task: Pick<DesiredTask, 'pidMode' | 'ipcMode' | 'containers'>): string | undefined {
  if (task.pidMode !== 'task' && task.ipcMode !== 'task') return undefined;
  return task.containers[0]?.name;
}

/** Other containers this one refers to, besides dependsOn: what must exist before create, and run before start. */
export function containerReferences(task: DesiredTask, def: ContainerDef): { needsCreated: string[]; needsRunning: string[] } {
  const needsCreated = new Set<string>();
  const needsRunning = new Set<string>();
  for (const v of def.volumesFrom ?? []) if (v.sourceContainer !== undefined) needsCreated.add(v.sourceContainer);
  for (const l of def.links ?? []) {
    const source = linkSource(l);
    needsCreated.add(source);
    needsRunning.add(source);
  }
  const owner = namespaceOwner(task);
  if (owner !== undefined && owner !== def.name) {
    needsCreated.add(owner);
    needsRunning.add(owner);
  }
  return { needsCreated: [...needsCreated], needsRunning: [...needsRunning] };
}

export function buildContainerSpec(task: DesiredTask, def: ContainerDef, ctx: SpecContext): SpecResult {
  const name = def.name ?? '';
  const refusal = unsupported(task, def);
  if (refusal !== undefined) return { ok: false, reason: `${REFUSED}: ${refusal}` };

  const disabled = def.disableNetworking === true;
  const networkMode = disabled ? 'none' : (task.networkMode as 'bridge' | 'host' | 'none');
  const ports = portMappings(def, networkMode);
  if (typeof ports === 'string') return { ok: false, reason: `${REFUSED}: ${ports}` };

  const volumes: VolumeToCreate[] = [];
  const mounts = resolveMounts(task, def, ctx, volumes);
  if (typeof mounts === 'string') return { ok: false, reason: `${REFUSED}: ${mounts}` };

  const volumesFrom: { containerId: string; readOnly: boolean }[] = [];
  for (const v of def.volumesFrom ?? []) {
    const id = ctx.runtimeIds.get(v.sourceContainer ?? '');
    if (id === undefined) return { ok: false, reason: `${REFUSED}: volumesFrom source container '${v.sourceContainer}' has not been created` };
    volumesFrom.push({ containerId: id, readOnly: v.readOnly === true });
  }

  const namespaces = sharedNamespaces(task, name, ctx);
  if (typeof namespaces === 'string') return { ok: false, reason: `${REFUSED}: ${namespaces}` };

  const environment: Record<string, string> = {};
  for (const kv of def.environment ?? []) if (kv.name !== undefined) environment[kv.name] = kv.value ?? '';

  const spec: Mutable<ContainerSpec> = {
    name: runtimeName(task, name),
    image: def.image ?? '',
    // The task's own labels last: a dockerLabel cannot disguise a container as another task's.
    labels: {
      ...(def.dockerLabels ?? {}),
      ...taskLabels(task, ctx.cluster, ctx.containerInstanceArn),
      [LABELS.containerName]: name,
      [AGENT_LABELS.essential]: String(def.essential !== false),
    },
    environment,
    networkMode,
    portMappings: ports,
    mounts,
    cpuShares: Math.max(MIN_CPU_SHARES, def.cpu ?? 0),
  };
  if (def.command !== undefined) spec.command = def.command;
  if (def.entryPoint !== undefined) spec.entryPoint = def.entryPoint;
  if (def.workingDirectory !== undefined) spec.workingDirectory = def.workingDirectory;
  if (def.user !== undefined) spec.user = def.user;
  if (def.hostname !== undefined) spec.hostname = def.hostname;
  if ((def.links?.length ?? 0) > 0) spec.links = def.links!.map((l) => `${runtimeName(task, linkSource(l))}:${linkAlias(l)}`);
  if (def.dnsServers !== undefined) spec.dnsServers = def.dnsServers;
  if (def.dnsSearchDomains !== undefined) spec.dnsSearchDomains = def.dnsSearchDomains;
  if (def.extraHosts !== undefined) spec.extraHosts = def.extraHosts.map((h) => ({ hostname: h.hostname ?? '', ipAddress: h.ipAddress ?? '' }));

  // A task-level memory limit caps every container that has no hard limit of its own: without per-task cgroups
  // this is the tightest bound that never refuses what the task is entitled to.
  const taskMemory = task.memory === undefined ? undefined : Number(task.memory);
  const memory = def.memory ?? (taskMemory !== undefined && Number.isFinite(taskMemory) && taskMemory > 0 ? taskMemory : undefined);
  if (memory !== undefined) spec.memoryMiB = memory;
  if (def.memoryReservation !== undefined) spec.memoryReservationMiB = def.memoryReservation;
  if (def.ulimits !== undefined) spec.ulimits = def.ulimits.map((u) => ({ name: u.name ?? '', soft: u.softLimit ?? 0, hard: u.hardLimit ?? 0 }));
  if (def.privileged === true) spec.privileged = true;
  if (def.readonlyRootFilesystem === true) spec.readonlyRootFilesystem = true;
  const lp = def.linuxParameters;
  if (lp?.initProcessEnabled === true) spec.initProcessEnabled = true;
  if (lp?.capabilities !== undefined) spec.capabilities = { add: lp.capabilities.add ?? [], drop: lp.capabilities.drop ?? [] };
  if (lp?.sharedMemorySize !== undefined) spec.sharedMemoryMiB = lp.sharedMemorySize;
  if (def.logConfiguration?.logDriver !== undefined) {
    spec.logDriver = { driver: def.logConfiguration.logDriver, options: def.logConfiguration.options ?? {} };
  }
  if (def.healthCheck !== undefined) spec.healthCheck = healthCheck(def.healthCheck);
  if (def.dockerSecurityOptions !== undefined) spec.dockerSecurityOptions = def.dockerSecurityOptions;
  if (def.systemControls !== undefined) {
    spec.systemControls = def.systemControls.map((s) => ({ namespace: s.namespace ?? '', value: s.value ?? '' }));
  }
  if (namespaces.pidMode !== undefined) spec.pidMode = namespaces.pidMode;
  if (namespaces.ipcMode !== undefined) spec.ipcMode = namespaces.ipcMode;
  if (def.interactive === true) spec.interactive = true;
  if (def.pseudoTerminal === true) spec.pseudoTerminal = true;
  if (volumesFrom.length > 0) spec.volumesFrom = volumesFrom;

  return { ok: true, spec, stopTimeoutSec: def.stopTimeout ?? ctx.defaultStopTimeoutSec, volumes };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function unsupported(task: DesiredTask, def: ContainerDef): string | undefined {
  if (task.networkMode === 'awsvpc') return "network mode 'awsvpc' is not supported by this agent (use bridge, host or none)";
  if (def.image === undefined || def.image === '') return `container '${def.name}' has no image`;
  const log = def.logConfiguration;
  if (log?.logDriver !== undefined && !SUPPORTED_LOG_DRIVERS.includes(log.logDriver)) {
    return `log driver '${log.logDriver}' is not available on this instance (available: ${SUPPORTED_LOG_DRIVERS.join(', ')})`;
  }
  if ((log?.secretOptions?.length ?? 0) > 0) return 'logConfiguration.secretOptions are not supported by this agent';
  if ((def.secrets?.length ?? 0) > 0) return 'secrets are not supported by this agent';
  if ((def.environmentFiles?.length ?? 0) > 0) return 'environmentFiles are not supported by this agent';
  if (def.repositoryCredentials !== undefined) return 'repositoryCredentials are not supported by this agent';
  if (def.firelensConfiguration !== undefined) return 'firelensConfiguration is not supported by this agent';
  if ((def.credentialSpecs?.length ?? 0) > 0) return 'credentialSpecs are not supported by this agent';
  if ((def.resourceRequirements?.length ?? 0) > 0) return `resourceRequirements (${def.resourceRequirements!.map((r) => r.type).join(', ')}) are not supported by this agent`;
  const lp = def.linuxParameters;
  if ((lp?.devices?.length ?? 0) > 0) return 'linuxParameters.devices are not supported by this agent';
  if (lp?.maxSwap !== undefined || lp?.swappiness !== undefined) return 'linuxParameters.maxSwap and swappiness are not supported by this agent';
  return undefined;
}

function portMappings(def: ContainerDef, mode: 'bridge' | 'host' | 'none'): PortMappingSpec[] | string {
  if (mode === 'none') return [];
  const out: PortMappingSpec[] = [];
  for (const m of def.portMappings ?? []) {
    const protocol = m.protocol === 'udp' ? 'udp' : 'tcp';
    if (m.containerPortRange !== undefined) {
      const range = /^(\d+)-(\d+)$/.exec(m.containerPortRange);
      const from = Number(range?.[1]);
      const to = Number(range?.[2]);
      if (range === null || !(from >= 1 && to >= from && to <= 65535)) return `invalid containerPortRange '${m.containerPortRange}'`;
      if (out.length + (to - from + 1) > MAX_PORTS_PER_CONTAINER) {
        return `container '${def.name}' maps more than ${MAX_PORTS_PER_CONTAINER} ports`;
      }
      // Host ports of a range are always chosen by the runtime in bridge mode (as ECS does); host mode has no choice.
      for (let p = from; p <= to; p++) out.push(mode === 'host' ? { containerPort: p, hostPort: p, protocol } : { containerPort: p, protocol });
      continue;
    }
    if (m.containerPort === undefined) continue;
    const hostPort = mode === 'host' ? m.containerPort : (m.hostPort ?? 0);
    out.push(hostPort === 0 ? { containerPort: m.containerPort, protocol } : { containerPort: m.containerPort, hostPort, protocol });
    if (out.length > MAX_PORTS_PER_CONTAINER) return `container '${def.name}' maps more than ${MAX_PORTS_PER_CONTAINER} ports`;
  }
  return out;
}

function resolveMounts(task: DesiredTask, def: ContainerDef, ctx: SpecContext, volumes: VolumeToCreate[]): MountSpec[] | string {
  const mounts: MountSpec[] = [];
  for (const mp of def.mountPoints ?? []) {
    const volume = task.volumes.find((v) => v.name === mp.sourceVolume);
    if (volume === undefined) return `mount point refers to volume '${mp.sourceVolume}', which the task does not define`;
    const target = mp.containerPath ?? '';
    const readOnly = mp.readOnly === true;
    const source = volumeSource(task, volume, ctx);
    if (typeof source === 'string') return source;
    if (source.type === 'bind') mounts.push({ type: 'bind', source: source.path, target, readOnly });
    else {
      mounts.push({ type: 'volume', source: source.volume.name, target, readOnly });
      if (!volumes.some((v) => v.name === source.volume.name)) volumes.push(source.volume);
    }
  }
  for (const t of def.linuxParameters?.tmpfs ?? []) {
    const m: Mutable<MountSpec> = { type: 'tmpfs', target: t.containerPath ?? '', readOnly: false };
    if (t.size !== undefined) m.sizeMiB = t.size;
    if (t.mountOptions !== undefined) m.mountOptions = t.mountOptions;
    mounts.push(m);
  }
  return mounts;
}

function volumeSource(
  task: DesiredTask,
  v: Wire<Volume>,
  ctx: SpecContext,
): { type: 'bind'; path: string } | { type: 'volume'; volume: VolumeToCreate } | string {
  if (v.efsVolumeConfiguration !== undefined) return `volume '${v.name}': EFS volumes are not supported by this agent`;
  if (v.fsxWindowsFileServerVolumeConfiguration !== undefined) return `volume '${v.name}': FSx volumes are not supported by this agent`;
  if (v.s3filesVolumeConfiguration !== undefined) return `volume '${v.name}': S3 Files volumes are not supported by this agent`;
  if (v.configuredAtLaunch === true) return `volume '${v.name}': volumes configured at launch are not supported by this agent`;
  const sourcePath = v.host?.sourcePath;
  if (sourcePath !== undefined && sourcePath !== '') return { type: 'bind', path: sourcePath };
  const name = v.name ?? '';
  const labels = { ...taskLabels(task, ctx.cluster, ctx.containerInstanceArn) };
  const dv = v.dockerVolumeConfiguration;
  if (dv !== undefined && dv.scope === 'shared') {
    // Shared volumes outlive the task and are named as written, so other tasks on the instance find them.
    const { [LABELS.taskArn]: _t, ...shared } = labels;
    return {
      type: 'volume',
      volume: { name, driver: dv.driver ?? 'local', options: dv.driverOpts ?? {}, labels: { ...(dv.labels ?? {}), ...shared }, taskScoped: false },
    };
  }
  // A task-scoped docker volume, or a host volume without a source path: Docker chooses where the data lives.
  return {
    type: 'volume',
    volume: {
      name: taskVolumeName(task, name),
      driver: dv?.driver ?? 'local',
      options: dv?.driverOpts ?? {},
      labels: { ...(dv?.labels ?? {}), ...labels },
      taskScoped: true,
    },
  };
}

function sharedNamespaces(task: DesiredTask, name: string, ctx: SpecContext): { pidMode?: string; ipcMode?: string } | string {
  const out: { pidMode?: string; ipcMode?: string } = {};
  const owner = namespaceOwner(task);
  const join = (): string | undefined => {
    const id = ctx.runtimeIds.get(owner ?? '');
    return id === undefined ? undefined : `container:${id}`;
  };
  if (task.pidMode === 'host') out.pidMode = 'host';
  else if (task.pidMode === 'task' && owner !== name) {
    const j = join();
    if (j === undefined) return `pid namespace owner '${owner}' has not been created`;
    out.pidMode = j;
  }
  if (task.ipcMode === 'host' || task.ipcMode === 'none') out.ipcMode = task.ipcMode;
  else if (task.ipcMode === 'task') {
    if (owner === name) out.ipcMode = 'shareable';
    else {
      const j = join();
      if (j === undefined) return `ipc namespace owner '${owner}' has not been created`;
      out.ipcMode = j;
    }
  }
  return out;
}

function healthCheck(h: NonNullable<ContainerDef['healthCheck']>): HealthCheckSpec {
  return {
    test: h.command ?? [],
    intervalSec: h.interval ?? 30,
    timeoutSec: h.timeout ?? 5,
    retries: h.retries ?? 3,
    startPeriodSec: h.startPeriod ?? 0,
  };
}

function linkSource(link: string): string {
  const i = link.indexOf(':');
  return i < 0 ? link : link.slice(0, i);
}

function linkAlias(link: string): string {
  const i = link.indexOf(':');
  return i < 0 ? link : link.slice(i + 1);
}
