/**
 * The task engine's pure core: given a task's containers (known vs desired status, dependencies, health, exit
 * codes), what should happen next. No I/O, no clock (time comes in as `nowMs`).
 *
 * A container moves NONE → PULLED → CREATED → RUNNING → STOPPED. Towards RUNNING, the next step is looked up
 * in `STEP_TOWARD_RUNNING`, then held back until its dependencies allow it:
 *   create  needs every container it refers to (dependsOn, volumesFrom, links, namespace owner) to exist;
 *   start   needs each dependsOn condition met (START / COMPLETE / SUCCESS / HEALTHY) and link/namespace
 *           sources running.
 * A condition that can no longer be met (a SUCCESS dependency exited 1, a dependency that never started) or
 * that is still unmet `startTimeoutMs` after the container began waiting for it fails the container with a reason. Towards STOPPED, a container
 * stops only after everything that depends on it has stopped: the reverse of the start order.
 *
 * Task-level rules (`taskRules`): an essential container that stopped stops the task — EssentialContainerExited
 * when it had run, TaskFailedToStart (with the container's reason) when it never did.
 */
import type { AgentContainerStatus, HealthStatus, TaskStopCode } from '../../domain/task.js';

export const CONTAINER_STATUSES = ['NONE', 'PULLED', 'CREATED', 'RUNNING', 'STOPPED'] as const;
export type ContainerKnownStatus = (typeof CONTAINER_STATUSES)[number];
export type ContainerDesiredStatus = 'RUNNING' | 'STOPPED';
export type DependencyCondition = 'START' | 'COMPLETE' | 'SUCCESS' | 'HEALTHY';

export interface ContainerDependencyView {
  readonly containerName: string;
  readonly condition: DependencyCondition;
}

export interface ContainerView {
  readonly name: string;
  readonly essential: boolean;
  readonly known: ContainerKnownStatus;
  readonly desired: ContainerDesiredStatus;
  readonly dependsOn: readonly ContainerDependencyView[];
  /** Containers that must exist before this one is created (volumesFrom, links, pid/ipc namespace owner). */
  readonly needsCreated: readonly string[];
  /** Containers that must be running when this one starts (links, namespace owner). */
  readonly needsRunning: readonly string[];
  readonly health: HealthStatus;
  readonly exitCode?: number;
  /** It reached RUNNING at least once: it "exited", as opposed to "failed to start". */
  readonly everRan: boolean;
  readonly reason?: string;
  /** When it began waiting for its dependsOn conditions (ms), and how long that may take (`startTimeout`). */
  readonly waitingSinceMs?: number;
  readonly startTimeoutMs: number;
}

export interface TaskView {
  readonly desired: ContainerDesiredStatus;
  readonly containers: readonly ContainerView[];
}

export type Action =
  | { readonly kind: 'pull' }
  | { readonly kind: 'create' }
  | { readonly kind: 'start' }
  /** Stop it; for a container that was never created there is nothing to stop and it is simply STOPPED. */
  | { readonly kind: 'stop' }
  /** Not yet: `on` names what it waits for; `untilMs` is when waiting turns into failure (start waits only). */
  | { readonly kind: 'wait'; readonly on: string; readonly untilMs?: number }
  /** It can never start: mark it STOPPED with this reason. */
  | { readonly kind: 'fail'; readonly reason: string }
  | { readonly kind: 'none' };

const RANK: Record<ContainerKnownStatus, number> = { NONE: 0, PULLED: 1, CREATED: 2, RUNNING: 3, STOPPED: 4 };

/** The step that moves a container one status closer to RUNNING. */
export const STEP_TOWARD_RUNNING: Readonly<Record<ContainerKnownStatus, 'pull' | 'create' | 'start' | 'none'>> = {
  NONE: 'pull',
  PULLED: 'create',
  CREATED: 'start',
  RUNNING: 'none',
  STOPPED: 'none',
};

/** The step that moves a container towards STOPPED. */
export const STEP_TOWARD_STOPPED: Readonly<Record<ContainerKnownStatus, 'stop' | 'none'>> = {
  NONE: 'stop',
  PULLED: 'stop',
  CREATED: 'stop',
  RUNNING: 'stop',
  STOPPED: 'none',
};

export const DEPENDENCY_REASON = 'DependencyConditionNotMet';

export function effectiveDesired(task: TaskView, c: ContainerView): ContainerDesiredStatus {
  return task.desired === 'STOPPED' ? 'STOPPED' : c.desired;
}

/** The next action for one container of the task. */
export function nextAction(task: TaskView, name: string, nowMs: number): Action {
  const c = find(task, name);
  if (c === undefined) return { kind: 'none' };
  if (effectiveDesired(task, c) === 'STOPPED') return towardStopped(task, c);
  const step = STEP_TOWARD_RUNNING[c.known];
  if (step === 'pull' || step === 'none') return { kind: step };
  const gate = step === 'create' ? createGate(task, c) : startGate(task, c);
  if (gate.kind === 'ok') return { kind: step };
  if (gate.kind === 'impossible') return { kind: 'fail', reason: gate.reason };
  // Only waiting on dependsOn conditions is bounded: waiting for a dependency to be created is bounded by that
  // dependency's own pull and create, which fail on their own.
  if (step === 'create') return { kind: 'wait', on: gate.on };
  const untilMs = (c.waitingSinceMs ?? nowMs) + c.startTimeoutMs;
  if (nowMs >= untilMs) {
    return { kind: 'fail', reason: `${DEPENDENCY_REASON}: timed out after ${Math.round(c.startTimeoutMs / 1000)} s waiting for ${gate.on}` };
  }
  return { kind: 'wait', on: gate.on, untilMs };
}

/** Every container's next action, in definition order. */
export function nextActions(task: TaskView, nowMs: number): { name: string; action: Action }[] {
  return task.containers.map((c) => ({ name: c.name, action: nextAction(task, c.name, nowMs) }));
}

function towardStopped(task: TaskView, c: ContainerView): Action {
  if (STEP_TOWARD_STOPPED[c.known] === 'none') return { kind: 'none' };
  // Something that never started holds nothing its dependencies need, so it can go at once.
  if (RANK[c.known] < RANK.CREATED) return { kind: 'stop' };
  for (const other of task.containers) {
    if (other.name === c.name || other.known === 'STOPPED' || RANK[other.known] < RANK.CREATED) continue;
    if (refersTo(other, c.name)) return { kind: 'wait', on: `container '${other.name}' to stop first` };
  }
  return { kind: 'stop' };
}

type Gate = { kind: 'ok' } | { kind: 'wait'; on: string } | { kind: 'impossible'; reason: string };

function createGate(task: TaskView, c: ContainerView): Gate {
  for (const dep of referencedNames(c)) {
    const d = find(task, dep);
    if (d === undefined) return { kind: 'impossible', reason: `${DEPENDENCY_REASON}: container '${dep}' is not part of the task` };
    if (d.known === 'STOPPED' && !d.everRan) return neverStarted(dep, d);
    if (RANK[d.known] < RANK.CREATED) return { kind: 'wait', on: `container '${dep}' to be created` };
  }
  return { kind: 'ok' };
}

function startGate(task: TaskView, c: ContainerView): Gate {
  for (const dep of c.dependsOn) {
    const d = find(task, dep.containerName);
    if (d === undefined) {
      return { kind: 'impossible', reason: `${DEPENDENCY_REASON}: container '${dep.containerName}' is not part of the task` };
    }
    const g = conditionGate(dep.condition, dep.containerName, d);
    if (g.kind !== 'ok') return g;
  }
  for (const name of c.needsRunning) {
    const d = find(task, name);
    if (d === undefined) return { kind: 'impossible', reason: `${DEPENDENCY_REASON}: container '${name}' is not part of the task` };
    if (d.known === 'STOPPED') {
      return { kind: 'impossible', reason: `${DEPENDENCY_REASON}: linked container '${name}' is not running` };
    }
    if (d.known !== 'RUNNING') return { kind: 'wait', on: `container '${name}' to start` };
  }
  return { kind: 'ok' };
}

/** Whether `condition` on dependency `d` is met, can still be met, or never will be. */
export function conditionGate(condition: DependencyCondition, name: string, d: ContainerView): Gate {
  if (d.known === 'STOPPED' && !d.everRan) return neverStarted(name, d);
  switch (condition) {
    case 'START':
      // A dependency that already ran and exited did start, which is all START asks.
      return d.known === 'RUNNING' || d.known === 'STOPPED' ? { kind: 'ok' } : { kind: 'wait', on: `container '${name}' to start` };
    case 'COMPLETE':
      return d.known === 'STOPPED' ? { kind: 'ok' } : { kind: 'wait', on: `container '${name}' to complete` };
    case 'SUCCESS':
      if (d.known !== 'STOPPED') return { kind: 'wait', on: `container '${name}' to exit successfully` };
      return d.exitCode === 0
        ? { kind: 'ok' }
        : { kind: 'impossible', reason: `${DEPENDENCY_REASON}: container '${name}' exited with code ${d.exitCode ?? 'unknown'}, not 0 (condition SUCCESS)` };
    case 'HEALTHY':
      if (d.known === 'STOPPED') {
        return { kind: 'impossible', reason: `${DEPENDENCY_REASON}: container '${name}' stopped before it was healthy (condition HEALTHY)` };
      }
      return d.known === 'RUNNING' && d.health === 'HEALTHY' ? { kind: 'ok' } : { kind: 'wait', on: `container '${name}' to be healthy` };
  }
}

function neverStarted(name: string, d: ContainerView): Gate {
  const why = d.reason === undefined ? '' : ` (${d.reason})`;
  return { kind: 'impossible', reason: `${DEPENDENCY_REASON}: container '${name}' did not start${why}` };
}

function referencedNames(c: ContainerView): string[] {
  const names = new Set<string>();
  for (const d of c.dependsOn) names.add(d.containerName);
  for (const n of c.needsCreated) names.add(n);
  for (const n of c.needsRunning) names.add(n);
  names.delete(c.name);
  return [...names];
}

function refersTo(c: ContainerView, name: string): boolean {
  return c.dependsOn.some((d) => d.containerName === name) || c.needsCreated.includes(name) || c.needsRunning.includes(name);
}

function find(task: TaskView, name: string): ContainerView | undefined {
  for (const c of task.containers) if (c.name === name) return c;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Task-level rules

export interface TaskDecision {
  readonly desired: ContainerDesiredStatus;
  readonly stopCode?: TaskStopCode;
  readonly stoppedReason?: string;
}

export const ESSENTIAL_EXITED = 'Essential container in task exited';

/**
 * What the task's desired status must be given its containers: the first essential container (in definition
 * order) that stopped decides the stop code and reason. A task already stopping keeps its own reason.
 */
export function taskRules(task: TaskView): TaskDecision | undefined {
  if (task.desired === 'STOPPED') return undefined;
  for (const c of task.containers) {
    if (!c.essential || c.known !== 'STOPPED') continue;
    if (c.everRan) return { desired: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: ESSENTIAL_EXITED };
    return { desired: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: c.reason ?? ESSENTIAL_EXITED };
  }
  return undefined;
}

const TASK_RANK: Record<AgentContainerStatus, number> = { PENDING: 0, RUNNING: 1, STOPPED: 2 };

/**
 * The task's status as the agent reports it. It never moves backwards: a task that was RUNNING stays RUNNING
 * while one of its containers restarts in place.
 */
export function taskStatus(task: TaskView, previous: AgentContainerStatus): AgentContainerStatus {
  let allStopped = task.containers.length > 0;
  let allUp = task.containers.length > 0;
  let anyRunning = false;
  for (const c of task.containers) {
    if (c.known !== 'STOPPED') allStopped = false;
    if (c.known === 'RUNNING') anyRunning = true;
    else if (c.known !== 'STOPPED') allUp = false;
  }
  const now: AgentContainerStatus = allStopped ? 'STOPPED' : allUp && anyRunning ? 'RUNNING' : 'PENDING';
  return TASK_RANK[now] >= TASK_RANK[previous] ? now : previous;
}

/** What a container reports: the agent speaks only PENDING, RUNNING and STOPPED upstream. */
export function reportedStatus(known: ContainerKnownStatus): AgentContainerStatus {
  return known === 'RUNNING' ? 'RUNNING' : known === 'STOPPED' ? 'STOPPED' : 'PENDING';
}

/**
 * The start order (dependencies first; ties in definition order), and so, reversed, the stop order. Cycles are
 * refused at registration; should one arrive anyway, its members keep definition order at the end.
 */
export function startOrder(task: TaskView): string[] {
  const out: string[] = [];
  const placed = new Set<string>();
  const pending = task.containers.slice();
  while (pending.length > 0) {
    const i = pending.findIndex((c) => referencedNames(c).every((n) => placed.has(n) || find(task, n) === undefined));
    const next = pending.splice(i < 0 ? 0 : i, 1)[0]!;
    out.push(next.name);
    placed.add(next.name);
  }
  return out;
}
