/**
 * One container of a managed task: what the agent knows of it, how what the runtime says updates that
 * (`observe`), and how it looks to transitions.ts (`containerView`) and to the server (`containerReport`).
 */
import type { NetworkBinding } from '@aws-sdk/client-ecs';
import type { ContainerReport, HealthStatus } from '../../domain/task.js';
import type { ContainerStatus } from '../runtime/runtime.js';
import type { ContainerDef } from './container-spec.js';
import type { TaskHook } from './hooks.js';
import { reportedStatus } from './transitions.js';
import type { ContainerDependencyView, ContainerDesiredStatus, ContainerKnownStatus, ContainerView } from './transitions.js';

export interface TaskContainer {
  readonly name: string;
  def: ContainerDef | undefined;
  /** From the container's label, for an adopted container whose definition has not arrived yet. */
  essentialHint: boolean;
  dependsOn: readonly ContainerDependencyView[];
  needsCreated: readonly string[];
  needsRunning: readonly string[];
  known: ContainerKnownStatus;
  desired: ContainerDesiredStatus;
  runtimeId?: string | undefined;
  exitCode?: number | undefined;
  reason?: string | undefined;
  health: HealthStatus;
  everRan: boolean;
  startedAtMs?: number | undefined;
  finishedAtMs?: number | undefined;
  waitingSinceMs?: number | undefined;
  imageDigest?: string | undefined;
  bindings: NetworkBinding[];
  /** A runtime call for it is in flight (at most one at a time). */
  busy: boolean;
  /** Re-inspect it when it is next idle (a runtime event arrived, or a resync). */
  needsObserve: boolean;
  /** We asked it to stop: its exit is not a crash to restart from. */
  stopping: boolean;
  retryAtMs?: number | undefined;
  failures: number;
  restarts: number;
}

export const OOM_REASON = 'OutOfMemoryError: Container killed due to memory usage';
export const GONE_REASON = 'CannotInspectContainerError: the container was removed outside the agent';

export function newTaskContainer(name: string, def: ContainerDef | undefined): TaskContainer {
  return {
    name,
    def,
    essentialHint: false,
    dependsOn: [],
    needsCreated: [],
    needsRunning: [],
    known: 'NONE',
    desired: 'RUNNING',
    health: 'UNKNOWN',
    everRan: false,
    bindings: [],
    busy: false,
    needsObserve: false,
    stopping: false,
    failures: 0,
    restarts: 0,
  };
}

export function startTimeoutMs(c: TaskContainer, defaultStartTimeoutSec: number): number {
  return (c.def?.startTimeout ?? defaultStartTimeoutSec) * 1000;
}

export function containerView(c: TaskContainer, defaultStartTimeoutSec: number): ContainerView {
  const v: { -readonly [K in keyof ContainerView]: ContainerView[K] } = {
    name: c.name,
    essential: c.def === undefined ? c.essentialHint : c.def.essential !== false,
    known: c.known,
    desired: c.desired,
    dependsOn: c.dependsOn,
    needsCreated: c.needsCreated,
    needsRunning: c.needsRunning,
    health: c.health,
    everRan: c.everRan,
    startTimeoutMs: startTimeoutMs(c, defaultStartTimeoutSec),
  };
  if (c.exitCode !== undefined) v.exitCode = c.exitCode;
  if (c.reason !== undefined) v.reason = c.reason;
  if (c.waitingSinceMs !== undefined) v.waitingSinceMs = c.waitingSinceMs;
  return v;
}

export function containerReport(c: TaskContainer): ContainerReport {
  const r: ContainerReport = { name: c.name, lastStatus: reportedStatus(c.known) };
  if (c.runtimeId !== undefined) r.runtimeId = c.runtimeId;
  if (c.exitCode !== undefined && c.known === 'STOPPED') r.exitCode = c.exitCode;
  if (c.reason !== undefined) r.reason = c.reason.slice(0, 1024);
  if (c.bindings.length > 0 && (c.known === 'RUNNING' || c.known === 'STOPPED')) r.networkBindings = c.bindings;
  // ECS shows UNKNOWN for containers without a health check, whatever the image's own HEALTHCHECK says.
  r.healthStatus = c.def?.healthCheck !== undefined ? c.health : 'UNKNOWN';
  if (c.imageDigest !== undefined) r.imageDigest = c.imageDigest;
  return r;
}

export interface ObserveContext {
  readonly nowMs: number;
  readonly networkMode: string | undefined;
  /** Whether the task as a whole should be running (an exit then may be restarted). */
  readonly taskShouldRun: boolean;
  readonly hooks: readonly TaskHook[];
  /** Adopting after a restart: the exit may be long past, so no hooks. */
  readonly adopting: boolean;
}

export type Observed = 'unchanged' | 'changed' | 'restart';

/** Updates `c` from what the runtime says of it (undefined: the container is gone). */
export function observe(c: TaskContainer, s: ContainerStatus | undefined, ctx: ObserveContext): Observed {
  if (s === undefined) {
    if (c.known === 'STOPPED' || c.known === 'NONE' || c.known === 'PULLED') return 'unchanged';
    c.known = 'STOPPED';
    c.reason ??= GONE_REASON;
    c.finishedAtMs ??= ctx.nowMs;
    return 'changed';
  }
  c.runtimeId = s.id;
  if (s.imageDigest !== undefined) c.imageDigest = s.imageDigest;
  c.health = s.health === 'healthy' ? 'HEALTHY' : s.health === 'unhealthy' ? 'UNHEALTHY' : 'UNKNOWN';
  if (s.ports.length > 0) {
    c.bindings = s.ports.map((p) => ({ bindIP: p.hostIp, containerPort: p.containerPort, hostPort: p.hostPort, protocol: p.protocol }));
  } else if (ctx.networkMode === 'host' && c.def !== undefined) {
    // Host networking publishes nothing; the ports the definition names are the host's ports.
    c.bindings = (c.def.portMappings ?? [])
      .filter((m) => m.containerPort !== undefined)
      .map((m) => ({ bindIP: '0.0.0.0', containerPort: m.containerPort!, hostPort: m.containerPort!, protocol: m.protocol === 'udp' ? 'udp' : 'tcp' }));
  }
  switch (s.state) {
    case 'created':
      if (c.known !== 'NONE' && c.known !== 'PULLED') return 'unchanged';
      c.known = 'CREATED';
      return 'changed';
    case 'running':
    case 'paused':
    case 'restarting':
      if (c.known === 'RUNNING' || c.known === 'STOPPED') return 'unchanged';
      c.known = 'RUNNING';
      c.everRan = true;
      c.startedAtMs = s.startedAt ?? ctx.nowMs;
      c.waitingSinceMs = undefined;
      return 'changed';
    case 'exited':
    case 'dead':
    case 'removing':
      return c.known === 'STOPPED' ? 'unchanged' : exited(c, s, ctx);
  }
}

function exited(c: TaskContainer, s: ContainerStatus, ctx: ObserveContext): Observed {
  const ran = c.known === 'RUNNING' || s.startedAt !== undefined;
  if (s.exitCode !== undefined) c.exitCode = s.exitCode;
  const exit = { name: c.name, def: c.def, exitCode: s.exitCode, startedAtMs: s.startedAt ?? c.startedAtMs, nowMs: ctx.nowMs, restarts: c.restarts };
  const mayRestart = !ctx.adopting && ctx.taskShouldRun && c.desired === 'RUNNING' && !c.stopping && ran;
  if (mayRestart && ctx.hooks.some((h) => h.onContainerExit?.(exit) === 'restart')) {
    // Restarted in place: the same container goes back to CREATED and the loop starts it again.
    c.restarts++;
    c.known = 'CREATED';
    return 'restart';
  }
  c.known = 'STOPPED';
  c.everRan ||= ran;
  if (s.oomKilled) c.reason ??= OOM_REASON;
  else if (!ran && s.error !== undefined && s.error !== '') c.reason ??= `CannotStartContainerError: ${s.error}`;
  c.finishedAtMs = s.finishedAt ?? ctx.nowMs;
  return 'changed';
}
