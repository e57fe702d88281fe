/**
 * The server side of a task's life (ECS-SEMANTICS.md §4): how an agent's report moves a task record, how a
 * stop is recorded, and what an agent is told to run. Pure functions over records; the callers (StopTask,
 * the agent channel, the instance monitor) commit what they return.
 *
 * Rules, in the order `applyTaskReport` applies them:
 *  1. Nothing moves backwards. Statuses are ranked (PROVISIONING … STOPPED) for tasks and (PENDING < RUNNING <
 *     STOPPED) for containers; a report behind the record is ignored — a late RUNNING after STOPPED changes
 *     nothing. Details at the same status (health, bindings, exit code) still update.
 *  2. Containers first: runtimeId, exitCode (once STOPPED), reason, networkBindings, healthStatus (only for
 *     containers with a health check: the others stay UNKNOWN).
 *  3. An essential container that stops while the task should run stops the task: desiredStatus STOPPED,
 *     stopCode EssentialContainerExited, "Essential container in task exited" (what the agent enforces too).
 *  4. The task status follows the agent's (PENDING, RUNNING, STOPPED), with its timestamps; at STOPPED every
 *     container is STOPPED and the stop code is the requested one, else the one the report implies.
 *  5. healthStatus is derived from the essential containers with health checks; `version` goes up once per
 *     report that changed anything visible.
 */
import type { NetworkBinding } from '@aws-sdk/client-ecs';
import type { TaskDefinitionRecord } from './records.js';
import { applyContainerOverrides } from './task-overrides.js';
import type {
  AgentContainerStatus,
  ContainerReport,
  DesiredTask,
  HealthStatus,
  TaskContainerRecord,
  TaskRecord,
  TaskReport,
  TaskStatus,
  TaskStopCode,
} from './task.js';
import { TASK_STATUSES } from './task.js';

export const ESSENTIAL_CONTAINER_EXITED = 'Essential container in task exited';
export const TASK_STOPPED_BY_USER = 'Task stopped by user';

const TASK_RANK: ReadonlyMap<TaskStatus, number> = new Map(TASK_STATUSES.map((s, i) => [s, i]));
const CONTAINER_RANK: Readonly<Record<AgentContainerStatus, number>> = { PENDING: 0, RUNNING: 1, STOPPED: 2 };
const taskRank = (s: TaskStatus): number => TASK_RANK.get(s) ?? 0;

/** `task` after `report`, or undefined when the report changes nothing (stale, repeated, or for another task). */
export function applyTaskReport(task: TaskRecord, report: TaskReport, nowSec: number): TaskRecord | undefined {
  if (report.taskArn !== task.taskArn) return undefined;
  // The first report marks the task as known to an agent, even when it changes nothing else.
  const unchanged = (): TaskRecord | undefined => (task.reportedAt === undefined ? compactTask({ ...task, reportedAt: nowSec }) : undefined);
  if (task.lastStatus === 'STOPPED' && report.lastStatus !== 'STOPPED') return unchanged();

  // Every step below copies the record only when it really changes something, so "nothing changed" is known
  // without comparing whole records (reports arrive for every transition of every task).
  let essentialExited = false;
  let containersChanged = false;
  const containers = task.containers.map((c) => {
    const r = report.containers.find((x) => x.name === c.name);
    if (!r) return c;
    const next = applyContainerReport(c, r);
    if (next === c) return c;
    containersChanged = true;
    // Exited means it ran: a container that stops without ever running (a failed pull) failed to start.
    const ran = c.lastStatus === 'RUNNING' || next.exitCode !== undefined;
    if (c.essential && c.lastStatus !== 'STOPPED' && next.lastStatus === 'STOPPED' && ran) essentialExited = true;
    return next;
  });
  // The first change copies the record (compactly: see compactTask); later ones write to the copy by name.
  let next: TaskRecord = task;
  const own = (): TaskRecord => (next === task ? (next = compactTask(task)) : next);
  if (containersChanged) own().containers = containers.map(compactContainer);

  if (essentialExited && next.desiredStatus !== 'STOPPED') {
    const t = own();
    t.desiredStatus = 'STOPPED';
    t.stopCode = 'EssentialContainerExited';
    t.stoppedReason = ESSENTIAL_CONTAINER_EXITED;
    t.stoppingAt = nowSec;
  }
  if (report.pullStartedAt !== undefined && next.pullStartedAt === undefined) own().pullStartedAt = report.pullStartedAt;
  if (report.pullStoppedAt !== undefined && next.pullStoppedAt === undefined) own().pullStoppedAt = report.pullStoppedAt;

  const target: TaskStatus = report.lastStatus;
  if (taskRank(target) > taskRank(next.lastStatus)) {
    if (target === 'RUNNING') {
      const t = own();
      t.lastStatus = 'RUNNING';
      t.startedAt = t.startedAt ?? report.startedAt ?? nowSec;
    } else if (target === 'STOPPED') next = compactTask(stopped(next, report, nowSec));
    else own().lastStatus = target;
  } else if (target === 'STOPPED' && report.executionStoppedAt !== undefined && next.executionStoppedAt === undefined) {
    own().executionStoppedAt = report.executionStoppedAt;
  }
  const health = taskHealth(next.containers);
  if (health !== next.healthStatus) own().healthStatus = health;

  if (next === task) return unchanged();
  next.version = task.version + 1;
  if (task.reportedAt === undefined) next.reportedAt = nowSec;
  return next;
}

/**
 * The task record rebuilt with its keys in one fixed order. V8 gives each object made by spreading a record and
 * adding a key it lacked (`{ ...task, startedAt }`) a hidden class of its own: with a Map and a DescriptorArray
 * for the task and for each container, about 1 KiB per live record once reports and stops have touched it (a heap
 * snapshot of 20,000 running tasks held 42,000 single-use Maps). Records rebuilt in one key order share them. The
 * keys every record has come in a literal; optional ones are added by name (a loop of keyed stores would turn a
 * record of this many keys into a dictionary, which costs more than the Maps). Keys holding undefined are left
 * out, as the store's JSON leaves them out. A unit test, over key lists the compiler checks complete, checks none is lost.
 */
export function compactTask(t: TaskRecord): TaskRecord {
  const out: TaskRecord = {
    cluster: t.cluster,
    id: t.id,
    taskArn: t.taskArn,
    clusterArn: t.clusterArn,
    taskDefinitionArn: t.taskDefinitionArn,
    launchType: t.launchType,
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    version: t.version,
    createdAt: t.createdAt,
    healthStatus: t.healthStatus,
    overrides: t.overrides,
    containers: t.containers.map(compactContainer),
    tags: t.tags,
    enableExecuteCommand: t.enableExecuteCommand,
    reservation: t.reservation,
  };
  if (t.containerInstanceArn !== undefined) out.containerInstanceArn = t.containerInstanceArn;
  if (t.containerInstanceId !== undefined) out.containerInstanceId = t.containerInstanceId;
  if (t.availabilityZone !== undefined) out.availabilityZone = t.availabilityZone;
  if (t.pullStartedAt !== undefined) out.pullStartedAt = t.pullStartedAt;
  if (t.pullStoppedAt !== undefined) out.pullStoppedAt = t.pullStoppedAt;
  if (t.startedAt !== undefined) out.startedAt = t.startedAt;
  if (t.stoppingAt !== undefined) out.stoppingAt = t.stoppingAt;
  if (t.executionStoppedAt !== undefined) out.executionStoppedAt = t.executionStoppedAt;
  if (t.stoppedAt !== undefined) out.stoppedAt = t.stoppedAt;
  if (t.connectivity !== undefined) out.connectivity = t.connectivity;
  if (t.connectivityAt !== undefined) out.connectivityAt = t.connectivityAt;
  if (t.stopCode !== undefined) out.stopCode = t.stopCode;
  if (t.stoppedReason !== undefined) out.stoppedReason = t.stoppedReason;
  if (t.group !== undefined) out.group = t.group;
  if (t.startedBy !== undefined) out.startedBy = t.startedBy;
  if (t.cpu !== undefined) out.cpu = t.cpu;
  if (t.memory !== undefined) out.memory = t.memory;
  if (t.attributes !== undefined) out.attributes = t.attributes;
  if (t.clientToken !== undefined) out.clientToken = t.clientToken;
  if (t.requestDigest !== undefined) out.requestDigest = t.requestDigest;
  if (t.instanceVersion !== undefined) out.instanceVersion = t.instanceVersion;
  if (t.serviceName !== undefined) out.serviceName = t.serviceName;
  if (t.protectedUntil !== undefined) out.protectedUntil = t.protectedUntil;
  if (t.reportedAt !== undefined) out.reportedAt = t.reportedAt;
  return out;
}

function compactContainer(c: TaskContainerRecord): TaskContainerRecord {
  const out: TaskContainerRecord = {
    containerArn: c.containerArn,
    taskArn: c.taskArn,
    name: c.name,
    image: c.image,
    lastStatus: c.lastStatus,
    networkBindings: c.networkBindings,
    healthStatus: c.healthStatus,
    essential: c.essential,
    hasHealthCheck: c.hasHealthCheck,
  };
  if (c.imageDigest !== undefined) out.imageDigest = c.imageDigest;
  if (c.runtimeId !== undefined) out.runtimeId = c.runtimeId;
  if (c.exitCode !== undefined) out.exitCode = c.exitCode;
  if (c.reason !== undefined) out.reason = c.reason;
  if (c.cpu !== undefined) out.cpu = c.cpu;
  if (c.memory !== undefined) out.memory = c.memory;
  if (c.memoryReservation !== undefined) out.memoryReservation = c.memoryReservation;
  if (c.gpuIds !== undefined) out.gpuIds = c.gpuIds;
  return out;
}

/**
 * Records a stop (StopTask, the service scheduler, the instance monitor): desiredStatus STOPPED with the stop
 * code and reason, and `stoppingAt`. A task no agent has reported on yet has nothing running anywhere, so it
 * is STOPPED at once; so is any task when `immediately` is set (its instance is gone). The first stop request
 * wins: undefined when the task is already stopping (and not being finished now) or stopped.
 */
export function stopTask(
  task: TaskRecord,
  stopCode: TaskStopCode,
  reason: string,
  nowSec: number,
  opts: { readonly immediately?: boolean } = {},
): TaskRecord | undefined {
  if (task.lastStatus === 'STOPPED') return undefined;
  const finish = opts.immediately === true || task.reportedAt === undefined;
  if (task.desiredStatus === 'STOPPED' && !finish) return undefined;
  let next: TaskRecord =
    task.desiredStatus === 'STOPPED'
      ? { ...task }
      : { ...task, desiredStatus: 'STOPPED', stopCode, stoppedReason: reason, stoppingAt: nowSec };
  if (finish) {
    const containers = next.containers.map((c) => (c.lastStatus === 'STOPPED' ? c : { ...c, lastStatus: 'STOPPED' as const }));
    next = {
      ...next,
      containers,
      lastStatus: 'STOPPED',
      stoppingAt: next.stoppingAt ?? nowSec,
      executionStoppedAt: next.executionStoppedAt ?? nowSec,
      stoppedAt: nowSec,
      healthStatus: taskHealth(containers),
    };
  }
  return compactTask({ ...next, version: task.version + 1 });
}

/**
 * From the essential containers that have a health check: HEALTHY when all of them are, UNHEALTHY when any
 * is, else UNKNOWN (also when none has a health check) [BC Task.healthStatus].
 */
export function taskHealth(containers: readonly Pick<TaskContainerRecord, 'essential' | 'hasHealthCheck' | 'healthStatus'>[]): HealthStatus {
  const checked = containers.filter((c) => c.essential && c.hasHealthCheck);
  if (checked.some((c) => c.healthStatus === 'UNHEALTHY')) return 'UNHEALTHY';
  if (checked.length > 0 && checked.every((c) => c.healthStatus === 'HEALTHY')) return 'HEALTHY';
  return 'UNKNOWN';
}

/** What the instance's agent is told to run for `task`: its definition with the task's overrides applied. */
export function desiredTaskOf(task: TaskRecord, def: TaskDefinitionRecord): DesiredTask {
  const gpuIds: Record<string, string[]> = {};
  for (const c of task.containers) if (c.gpuIds !== undefined && c.gpuIds.length > 0) gpuIds[c.name] = [...c.gpuIds];
  const cpu = task.overrides.cpu ?? def.cpu;
  const memory = task.overrides.memory ?? def.memory;
  return {
    taskArn: task.taskArn,
    family: def.family,
    revision: def.revision,
    desiredStatus: task.desiredStatus,
    version: task.version,
    networkMode: def.networkMode ?? 'bridge',
    ...(cpu !== undefined ? { cpu } : {}),
    ...(memory !== undefined ? { memory } : {}),
    ...(def.pidMode !== undefined ? { pidMode: def.pidMode } : {}),
    ...(def.ipcMode !== undefined ? { ipcMode: def.ipcMode } : {}),
    containers: applyContainerOverrides(def.containerDefinitions ?? [], task.overrides),
    volumes: def.volumes ?? [],
    reservedPorts: { tcp: [...task.reservation.portsTcp], udp: [...task.reservation.portsUdp] },
    ...(Object.keys(gpuIds).length > 0 ? { gpuIds } : {}),
  };
}

/** The container after its report: `c` itself when the report changes nothing. */
function applyContainerReport(c: TaskContainerRecord, r: ContainerReport): TaskContainerRecord {
  if (CONTAINER_RANK[r.lastStatus] < CONTAINER_RANK[c.lastStatus]) return c;
  let out: TaskContainerRecord | undefined;
  const set = <K extends keyof TaskContainerRecord>(key: K, value: TaskContainerRecord[K]): void => {
    if (c[key] !== value) (out ??= { ...c })[key] = value;
  };
  set('lastStatus', r.lastStatus);
  if (r.runtimeId !== undefined) set('runtimeId', r.runtimeId);
  if (r.imageDigest !== undefined) set('imageDigest', r.imageDigest);
  if (r.networkBindings !== undefined && !sameBindings(c.networkBindings, r.networkBindings)) (out ??= { ...c }).networkBindings = r.networkBindings.map((b) => ({ ...b }));
  if (r.healthStatus !== undefined && c.hasHealthCheck) set('healthStatus', r.healthStatus);
  if (r.exitCode !== undefined && r.lastStatus === 'STOPPED') set('exitCode', r.exitCode);
  if (r.reason !== undefined) set('reason', r.reason.slice(0, 1024));
  return out ?? c;
}

/** Bindings are flat objects of strings and numbers. */
function sameBindings(a: readonly NetworkBinding[], b: readonly NetworkBinding[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Record<string, unknown>;
    const y = b[i] as Record<string, unknown>;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (const k of keys) if (x[k] !== y[k]) return false;
  }
  return true;
}

function stopped(task: TaskRecord, report: TaskReport, nowSec: number): TaskRecord {
  const containers = task.containers.map((c) => (c.lastStatus === 'STOPPED' ? c : { ...c, lastStatus: 'STOPPED' as const }));
  const next: TaskRecord = {
    ...task,
    containers,
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    stoppingAt: task.stoppingAt ?? nowSec,
    executionStoppedAt: task.executionStoppedAt ?? report.executionStoppedAt ?? nowSec,
    stoppedAt: nowSec,
  };
  // A requested stop keeps its code and reason; otherwise the task ended on its own: it never got going, or
  // an essential container exited (the agent stops a task for no other reason).
  if (next.stopCode === undefined) {
    const failedToStart = task.startedAt === undefined && task.lastStatus !== 'RUNNING';
    next.stopCode = report.stopCode ?? (failedToStart ? 'TaskFailedToStart' : 'EssentialContainerExited');
    next.stoppedReason =
      report.stoppedReason ??
      (next.stopCode === 'EssentialContainerExited'
        ? ESSENTIAL_CONTAINER_EXITED
        : (containers.find((c) => c.reason !== undefined)?.reason ?? 'Task failed to start'));
  }
  return next;
}
