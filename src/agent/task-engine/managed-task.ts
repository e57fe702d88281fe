/**
 * One task on this instance: a loop fed by an inbox that drives the runtime towards the task's desired state.
 *
 *   inbox: desired state from the server · runtime events for its containers · outcomes of its own runtime
 *          calls · timer ticks
 *   each event → update what is known → task rules (transitions.taskRules) → for every idle container, the
 *          next action (transitions.nextAction) → launch runtime calls, which report back through the inbox
 *          → emit a TaskReport if anything reportable changed
 *
 * Handling an event never awaits: runtime calls run concurrently (at most one per container) and their
 * outcomes arrive as later events, so a stop from the server is seen while a long pull is still going. After
 * every runtime call and every runtime event the container is re-inspected and its known status taken from
 * what the runtime says, not from what the call was meant to do (level-triggered).
 */
import type { AgentContainerStatus, DesiredTask, TaskReport, TaskStopCode } from '../../domain/task.js';
import { epochSeconds } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { ContainerRuntime, ContainerStatus, PullBehavior, RuntimeEvent } from '../runtime/runtime.js';
import { LABELS } from '../runtime/runtime.js';
import type { Cancel, Timers } from '../timers.js';
import { AGENT_LABELS, buildContainerSpec, containerReferences, taskVolumeName } from './container-spec.js';
import type { TaskHook } from './hooks.js';
import { authFor } from './image-puller.js';
import type { ImagePuller } from './image-puller.js';
import * as ops from './operations.js';
import type { Outcome } from './operations.js';
import { containerReport, containerView, newTaskContainer, observe, startTimeoutMs } from './task-container.js';
import type { TaskContainer } from './task-container.js';
import { nextAction, taskRules, taskStatus } from './transitions.js';
import type { ContainerDesiredStatus, TaskView } from './transitions.js';

export interface ManagedTaskConfig {
  readonly cluster: string;
  readonly containerInstanceArn: string;
  readonly defaultStopTimeoutSec: number;
  /** For containers without startTimeout: how long dependsOn conditions may take (ECS_CONTAINER_START_TIMEOUT). */
  readonly defaultStartTimeoutSec: number;
  readonly pullBehavior: PullBehavior;
}

export interface ManagedTaskDeps {
  readonly runtime: ContainerRuntime;
  readonly images: ImagePuller;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly config: ManagedTaskConfig;
  readonly hooks: readonly TaskHook[];
  /** Every change in what the task reports. */
  readonly onReport: (report: TaskReport) => void;
  /** Once, when every container has stopped. */
  readonly onStopped?: (task: ManagedTask) => void;
}

export type TaskEvent =
  | { readonly type: 'desired'; readonly task: DesiredTask }
  /** The server no longer lists the task. */
  | { readonly type: 'forget' }
  | { readonly type: 'runtime'; readonly container: string; readonly event: RuntimeEvent }
  | { readonly type: 'done'; readonly container: string; readonly outcome: Outcome }
  | { readonly type: 'tick' }
  /** Re-inspect every live container (periodic, in case a runtime event was missed). */
  | { readonly type: 'resync' };

const MAX_RETRY_MS = 60_000;

export class ManagedTask {
  readonly taskArn: string;
  readonly #deps: ManagedTaskDeps;
  #desired: DesiredTask | undefined;
  /** Undefined for an adopted task the server has not spoken about yet: observe only, change nothing. */
  #desiredStatus: ContainerDesiredStatus | undefined;
  #stopCode: TaskStopCode | undefined;
  #stoppedReason: string | undefined;
  readonly #containers = new Map<string, TaskContainer>();
  #status: AgentContainerStatus = 'PENDING';
  #pullStartedAtMs: number | undefined;
  #pullStoppedAtMs: number | undefined;
  #startedAtMs: number | undefined;
  #executionStoppedAtMs: number | undefined;
  #admitted: boolean;
  readonly #inbox: TaskEvent[] = [];
  #draining = false;
  #lastReport = '';
  #timer: { at: number; cancel: Cancel } | undefined;
  #detached = false;
  readonly #volumes = new Set<string>();

  private constructor(deps: ManagedTaskDeps, taskArn: string, admitted: boolean) {
    this.#deps = deps;
    this.taskArn = taskArn;
    this.#admitted = admitted;
  }

  /** A task the server sent. `admitted` false holds it in PENDING until `admit()` (host ports in use). */
  static create(deps: ManagedTaskDeps, desired: DesiredTask, admitted = true): ManagedTask {
    const t = new ManagedTask(deps, desired.taskArn, admitted);
    t.post({ type: 'desired', task: desired });
    return t;
  }

  /** A task found in the runtime at start (by label): its containers as they are now. */
  static adopt(deps: ManagedTaskDeps, taskArn: string, found: readonly ContainerStatus[]): ManagedTask {
    const t = new ManagedTask(deps, taskArn, true);
    for (const s of found) {
      const name = s.labels[LABELS.containerName];
      if (name === undefined) continue;
      const c = t.#container(name, undefined);
      c.essentialHint = s.labels[AGENT_LABELS.essential] === 'true';
      c.runtimeId = s.id;
      observe(c, s, t.#observeContext(true));
    }
    const starts = [...t.#containers.values()].map((c) => c.startedAtMs ?? 0);
    t.#startedAtMs = starts.length > 0 ? Math.max(...starts) || undefined : undefined;
    t.#drain();
    return t;
  }

  get status(): AgentContainerStatus {
    return this.#status;
  }

  get desiredStatus(): ContainerDesiredStatus | undefined {
    return this.#desiredStatus;
  }

  get executionStoppedAtMs(): number | undefined {
    return this.#executionStoppedAtMs;
  }

  get reservedPorts(): { tcp: readonly number[]; udp: readonly number[] } {
    return this.#desired?.reservedPorts ?? { tcp: [], udp: [] };
  }

  /** Does this container belong to the task (by name)? Runtime events are routed with it. */
  has(containerName: string): boolean {
    return this.#containers.has(containerName);
  }

  /** The runtime's id of a container, once it has been created (for reading its log). */
  runtimeIdOf(containerName: string): string | undefined {
    return this.#containers.get(containerName)?.runtimeId;
  }

  post(event: TaskEvent): void {
    if (this.#detached) return;
    this.#inbox.push(event);
    this.#drain();
  }

  admit(): void {
    if (this.#admitted) return;
    this.#admitted = true;
    this.post({ type: 'tick' });
  }

  /** Stops acting (agent shutdown): containers keep running and are adopted by the next agent. */
  detach(): void {
    this.#detached = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  report(): TaskReport {
    const r: TaskReport = { taskArn: this.taskArn, lastStatus: this.#status, containers: [] };
    if (this.#pullStartedAtMs !== undefined) r.pullStartedAt = epochSeconds(this.#pullStartedAtMs);
    if (this.#pullStoppedAtMs !== undefined) r.pullStoppedAt = epochSeconds(this.#pullStoppedAtMs);
    if (this.#startedAtMs !== undefined) r.startedAt = epochSeconds(this.#startedAtMs);
    if (this.#executionStoppedAtMs !== undefined) r.executionStoppedAt = epochSeconds(this.#executionStoppedAtMs);
    if (this.#stopCode !== undefined) r.stopCode = this.#stopCode;
    if (this.#stoppedReason !== undefined) r.stoppedReason = this.#stoppedReason;
    for (const c of this.#containers.values()) r.containers.push(containerReport(c));
    return r;
  }

  /** Removes the task's containers and task-scoped volumes (after the retention period). */
  async cleanup(): Promise<void> {
    this.detach();
    const { runtime } = this.#deps;
    for (const c of this.#containers.values()) if (c.runtimeId !== undefined) await runtime.removeContainer(c.runtimeId);
    for (const v of this.#volumes) await runtime.removeVolume(v).catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------------------------
  // The loop

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      let handled = 0;
      for (let e = this.#inbox.shift(); e !== undefined; e = this.#inbox.shift()) {
        if (this.#detached) return;
        this.#handle(e);
        this.#step();
        handled++;
      }
      if (handled === 0) this.#step();
    } finally {
      this.#draining = false;
    }
  }

  #handle(e: TaskEvent): void {
    switch (e.type) {
      case 'desired':
        return this.#applyDesired(e.task);
      case 'forget':
        if (this.#desiredStatus !== 'STOPPED') this.#desiredStatus = 'STOPPED';
        return;
      case 'runtime': {
        const c = this.#containers.get(e.container);
        if (c !== undefined) c.needsObserve = true;
        return;
      }
      case 'done': {
        const c = this.#containers.get(e.container);
        if (c !== undefined) this.#apply(c, e.outcome);
        return;
      }
      case 'tick':
        return;
      case 'resync':
        for (const c of this.#containers.values()) {
          if (c.runtimeId !== undefined && (c.known === 'CREATED' || c.known === 'RUNNING')) c.needsObserve = true;
        }
        return;
    }
  }

  #applyDesired(d: DesiredTask): void {
    if (this.#desired === undefined) {
      this.#desired = d;
      for (const def of d.containers) {
        const c = this.#container(def.name ?? '', def);
        c.def = def;
        const refs = containerReferences(d, def);
        c.needsCreated = refs.needsCreated;
        c.needsRunning = refs.needsRunning;
        c.dependsOn = (def.dependsOn ?? []).map((x) => ({ containerName: x.containerName ?? '', condition: x.condition ?? 'START' }));
      }
      // Containers found at adoption that the definition does not know of have no business running.
      for (const c of this.#containers.values()) if (c.def === undefined) c.desired = 'STOPPED';
      for (const v of d.volumes) {
        const dv = v.dockerVolumeConfiguration;
        if (dv?.scope !== 'shared' && (v.host?.sourcePath ?? '') === '' && v.efsVolumeConfiguration === undefined) {
          this.#volumes.add(taskVolumeName(d, v.name ?? ''));
        }
      }
    } else {
      this.#desired = { ...this.#desired, version: d.version, desiredStatus: d.desiredStatus };
    }
    // STOPPED is terminal: a RUNNING that arrives after the agent stopped the task (essential exit) changes nothing.
    if (this.#desiredStatus !== 'STOPPED') this.#desiredStatus = d.desiredStatus;
  }

  #container(name: string, def: TaskContainer['def']): TaskContainer {
    let c = this.#containers.get(name);
    if (c === undefined) this.#containers.set(name, (c = newTaskContainer(name, def)));
    return c;
  }

  #view(): TaskView {
    const timeout = this.#deps.config.defaultStartTimeoutSec;
    return { desired: this.#desiredStatus ?? 'RUNNING', containers: [...this.#containers.values()].map((c) => containerView(c, timeout)) };
  }

  #observeContext(adopting: boolean) {
    return {
      nowMs: this.#deps.timers.now(),
      networkMode: this.#desired?.networkMode,
      taskShouldRun: this.#desiredStatus === 'RUNNING',
      hooks: this.#deps.hooks,
      adopting,
    };
  }

  /** Acts on everything that can move now; repeats while a decision changed the state synchronously. */
  #step(): void {
    if (this.#detached) return;
    const now = this.#deps.timers.now();
    for (let pass = 0; pass < 64; pass++) {
      const view = this.#view();
      // Applies to adopted tasks too, before the server has spoken: an essential exit stops the task regardless.
      const rule = taskRules(view);
      if (rule !== undefined) {
        this.#desiredStatus = rule.desired;
        this.#stopCode = rule.stopCode;
        this.#stoppedReason = rule.stoppedReason;
        continue;
      }
      if (!this.#actOnce(view, now)) break;
    }
    this.#afterStep(now);
  }

  /** Launches what can be launched; returns true when it changed state synchronously (the view is stale). */
  #actOnce(view: TaskView, now: number): boolean {
    for (const c of this.#containers.values()) {
      if (c.busy) continue;
      if (c.needsObserve && c.runtimeId !== undefined) {
        c.needsObserve = false;
        this.#launch(c, () => ops.inspect(this.#deps.runtime, c.runtimeId!));
        continue;
      }
      c.needsObserve = false;
      if (this.#desiredStatus === undefined || (c.retryAtMs !== undefined && now < c.retryAtMs)) continue;
      const stopping = this.#desiredStatus === 'STOPPED' || c.desired === 'STOPPED';
      if (!this.#admitted && !stopping) continue;
      const action = nextAction(view, c.name, now);
      if (action.kind !== 'wait' || action.untilMs === undefined) c.waitingSinceMs = undefined;
      switch (action.kind) {
        case 'none':
          break;
        case 'wait':
          if (action.untilMs !== undefined) c.waitingSinceMs ??= now;
          break;
        case 'fail':
          this.#fail(c, action.reason);
          return true;
        case 'pull':
          this.#pull(c, now);
          break;
        case 'create':
          if (this.#create(c)) return true;
          break;
        case 'start':
          this.#launch(c, () => ops.start(this.#deps.runtime, c.runtimeId!));
          break;
        case 'stop':
          // Only a running container has anything to stop; one that never started (or exited and was about to
          // be restarted) is simply done.
          if (c.runtimeId === undefined || c.known !== 'RUNNING') {
            c.known = 'STOPPED';
            c.finishedAtMs ??= now;
            return true;
          }
          this.#stop(c);
          break;
      }
    }
    return false;
  }

  #pull(c: TaskContainer, now: number): void {
    const image = c.def?.image ?? '';
    this.#pullStartedAtMs ??= now;
    this.#launch(c, () => ops.pull(this.#deps.images, image, this.#deps.config.pullBehavior, authFor(image, this.#desired?.registryAuth)));
  }

  /** Returns true when the container was refused synchronously. */
  #create(c: TaskContainer): boolean {
    const desired = this.#desired!;
    const { config, runtime } = this.#deps;
    const runtimeIds = new Map<string, string>();
    for (const o of this.#containers.values()) if (o.runtimeId !== undefined) runtimeIds.set(o.name, o.runtimeId);
    const built = buildContainerSpec(desired, c.def!, {
      cluster: config.cluster,
      containerInstanceArn: config.containerInstanceArn,
      defaultStopTimeoutSec: config.defaultStopTimeoutSec,
      runtimeIds,
    });
    if (!built.ok) {
      this.#fail(c, built.reason);
      return true;
    }
    this.#launch(c, () => ops.create(runtime, built.spec, built.volumes));
    return false;
  }

  #stop(c: TaskContainer): void {
    c.stopping = true;
    const timeout = c.def?.stopTimeout ?? this.#deps.config.defaultStopTimeoutSec;
    this.#launch(c, () => ops.stop(this.#deps.runtime, c.runtimeId!, timeout));
  }

  #launch(c: TaskContainer, op: () => Promise<Outcome>): void {
    c.busy = true;
    op().then(
      (outcome) => this.post({ type: 'done', container: c.name, outcome }),
      (e: unknown) => this.post({ type: 'done', container: c.name, outcome: { kind: 'error', reason: String(e) } }),
    );
  }

  #apply(c: TaskContainer, o: Outcome): void {
    c.busy = false;
    const now = this.#deps.timers.now();
    if (o.kind !== 'error') {
      c.failures = 0;
      c.retryAtMs = undefined;
    }
    switch (o.kind) {
      case 'pulled':
        this.#pullStoppedAtMs = Math.max(this.#pullStoppedAtMs ?? 0, now);
        if (o.digest !== undefined) c.imageDigest = o.digest;
        if (c.known === 'NONE') c.known = 'PULLED';
        return;
      case 'created':
        c.runtimeId = o.runtimeId;
        if (c.known === 'NONE' || c.known === 'PULLED') c.known = 'CREATED';
        return;
      case 'observed':
        observe(c, o.status, this.#observeContext(false));
        return;
      case 'failed':
        if (o.reason.startsWith('CannotPullContainerError')) this.#pullStoppedAtMs = Math.max(this.#pullStoppedAtMs ?? 0, now);
        return this.#fail(c, o.reason);
      case 'error':
        c.failures++;
        c.retryAtMs = now + Math.min(MAX_RETRY_MS, 1000 * 2 ** Math.min(c.failures, 6));
        // Whatever failed is tried again from what the runtime says next, not from what we assumed.
        c.needsObserve = c.runtimeId !== undefined;
        this.#deps.logger.warn('runtime call failed; will retry', { task: this.taskArn, container: c.name, error: o.reason });
        return;
    }
  }

  #fail(c: TaskContainer, reason: string): void {
    c.reason ??= reason;
    c.desired = 'STOPPED';
    c.waitingSinceMs = undefined;
    if (c.known !== 'RUNNING') {
      c.known = 'STOPPED';
      c.finishedAtMs ??= this.#deps.timers.now();
    }
    this.#deps.logger.info('container cannot run', { task: this.taskArn, container: c.name, reason });
  }

  #afterStep(now: number): void {
    const prev = this.#status;
    this.#status = taskStatus(this.#view(), prev);
    if (this.#status === 'RUNNING' && this.#startedAtMs === undefined) this.#startedAtMs = now;
    if (this.#status === 'STOPPED' && prev !== 'STOPPED') {
      const finishes = [...this.#containers.values()].map((c) => c.finishedAtMs ?? now);
      this.#executionStoppedAtMs = finishes.length > 0 ? Math.max(...finishes) : now;
      this.#timer?.cancel();
      this.#timer = undefined;
    }
    const report = this.report();
    const json = JSON.stringify(report);
    if (json !== this.#lastReport) {
      this.#lastReport = json;
      this.#deps.onReport(report);
    }
    if (this.#status === 'STOPPED') {
      if (prev !== 'STOPPED') this.#deps.onStopped?.(this);
      return;
    }
    this.#armTimer(now);
  }

  /** One timer per task, for the earliest of: a dependency wait running out, a retry falling due. */
  #armTimer(now: number): void {
    let at = Infinity;
    for (const c of this.#containers.values()) {
      if (c.retryAtMs !== undefined && !c.busy) at = Math.min(at, c.retryAtMs);
      if (c.waitingSinceMs !== undefined) at = Math.min(at, c.waitingSinceMs + startTimeoutMs(c, this.#deps.config.defaultStartTimeoutSec));
    }
    if (this.#timer !== undefined && this.#timer.at === at) return;
    this.#timer?.cancel();
    this.#timer = undefined;
    if (at === Infinity) return;
    const cancel = this.#deps.timers.after(Math.max(0, at - now), () => {
      this.#timer = undefined;
      this.post({ type: 'tick' });
    });
    this.#timer = { at, cancel };
  }
}
