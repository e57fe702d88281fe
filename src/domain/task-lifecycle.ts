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
import { isDeepStrictEqual } from 'node:util';
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
  const reported = task.reportedAt === undefined ? { reportedAt: nowSec } : {};
  if (task.lastStatus === 'STOPPED' && report.lastStatus !== 'STOPPED') return task.reportedAt === undefined ? { ...task, ...reported } : undefined;

  const byName = new Map(report.containers.map((c) => [c.name, c]));
  let essentialExited = false;
  const containers = task.containers.map((c) => {
    const r = byName.get(c.name);
    if (!r) return c;
    const next = applyContainerReport(c, r);
    // Exited means it ran: a container that stops without ever running (a failed pull) failed to start.
    const ran = c.lastStatus === 'RUNNING' || next.exitCode !== undefined;
    if (c.essential && c.lastStatus !== 'STOPPED' && next.lastStatus === 'STOPPED' && ran) essentialExited = true;
    return next;
  });
  let next: TaskRecord = { ...task, containers };

  if (essentialExited && next.desiredStatus !== 'STOPPED') {
    next = { ...next, desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: ESSENTIAL_CONTAINER_EXITED, stoppingAt: nowSec };
  }
  if (report.pullStartedAt !== undefined && next.pullStartedAt === undefined) next.pullStartedAt = report.pullStartedAt;
  if (report.pullStoppedAt !== undefined && next.pullStoppedAt === undefined) next.pullStoppedAt = report.pullStoppedAt;

  const target: TaskStatus = report.lastStatus;
  if (taskRank(target) > taskRank(next.lastStatus)) {
    if (target === 'RUNNING') next = { ...next, lastStatus: 'RUNNING', startedAt: next.startedAt ?? report.startedAt ?? nowSec };
    else if (target === 'STOPPED') next = stopped(next, report, nowSec);
    else next = { ...next, lastStatus: target };
  } else if (target === 'STOPPED' && report.executionStoppedAt !== undefined && next.executionStoppedAt === undefined) {
    next = { ...next, executionStoppedAt: report.executionStoppedAt };
  }
  next.healthStatus = taskHealth(next.containers);

  if (isDeepStrictEqual(next, task)) return task.reportedAt === undefined ? { ...task, ...reported } : undefined;
  return { ...next, ...reported, version: task.version + 1 };
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
  return { ...next, version: task.version + 1 };
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

function applyContainerReport(c: TaskContainerRecord, r: ContainerReport): TaskContainerRecord {
  if (CONTAINER_RANK[r.lastStatus] < CONTAINER_RANK[c.lastStatus]) return c;
  const out: TaskContainerRecord = { ...c, lastStatus: r.lastStatus };
  if (r.runtimeId !== undefined) out.runtimeId = r.runtimeId;
  if (r.imageDigest !== undefined) out.imageDigest = r.imageDigest;
  if (r.networkBindings !== undefined) out.networkBindings = r.networkBindings.map((b) => ({ ...b }));
  if (r.healthStatus !== undefined && c.hasHealthCheck) out.healthStatus = r.healthStatus;
  if (r.exitCode !== undefined && r.lastStatus === 'STOPPED') out.exitCode = r.exitCode;
  if (r.reason !== undefined) out.reason = r.reason.slice(0, 1024);
  return out;
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
