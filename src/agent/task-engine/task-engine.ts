/**
 * All the tasks of one instance. Owns the managed tasks and nothing else of theirs:
 *
 *   start      adopt: containers labelled for this instance become managed tasks again (a restarted agent
 *              starts no duplicates and loses no task), then follow runtime events
 *   reconcile  the server's whole desired set: tasks not yet here start, tasks no longer listed stop
 *   admission  a task whose static host ports are still held by a stopping task waits (PENDING) for them
 *   cleanup    containers of a stopped task are removed after the retention period
 *
 * Each managed task drives itself; the engine only routes events to it and keeps the books.
 */
import type { DesiredTask, TaskReport } from '../../domain/task.js';
import type { Logger } from '../../util/log.js';
import { LABELS } from '../runtime/runtime.js';
import type { ContainerRuntime, ContainerStatus, RuntimeEvent } from '../runtime/runtime.js';
import type { Cancel, Timers } from '../timers.js';
import { DEFAULT_HOOKS } from './hooks.js';
import type { TaskHook } from './hooks.js';
import { ImagePuller } from './image-puller.js';
import { ManagedTask } from './managed-task.js';
import type { ManagedTaskConfig, ManagedTaskDeps } from './managed-task.js';

export interface TaskEngineConfig extends ManagedTaskConfig {
  /** How long containers of a stopped task are kept before removal (`--container-cleanup-after`). */
  readonly cleanupAfterMs: number;
  /** How often live containers are re-inspected, in case a runtime event went missing. */
  readonly resyncIntervalMs: number;
}

export interface TaskEngineDeps {
  readonly runtime: ContainerRuntime;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly config: TaskEngineConfig;
  readonly hooks?: readonly TaskHook[];
  readonly onReport: (report: TaskReport) => void;
}

export class TaskEngine {
  readonly #deps: TaskEngineDeps;
  readonly #taskDeps: ManagedTaskDeps;
  readonly #tasks = new Map<string, ManagedTask>();
  /** Not admitted yet, in arrival order. */
  readonly #waiting: ManagedTask[] = [];
  /** Tasks removed after retention that the server still lists: not to be started again. */
  #tombstones = new Set<string>();
  readonly #cleanups = new Map<string, Cancel>();
  #unsubscribe: (() => void) | undefined;
  #resync: Cancel | undefined;
  #stopped = false;

  constructor(deps: TaskEngineDeps) {
    this.#deps = deps;
    this.#taskDeps = {
      runtime: deps.runtime,
      images: new ImagePuller({ runtime: deps.runtime, logger: deps.logger }),
      timers: deps.timers,
      logger: deps.logger,
      config: deps.config,
      hooks: deps.hooks ?? DEFAULT_HOOKS,
      onReport: (r) => deps.onReport(r),
      onStopped: (t) => this.#onStopped(t),
    };
  }

  /** Adopts this instance's containers and starts following runtime events. */
  async start(): Promise<void> {
    const { runtime, config, logger } = this.#deps;
    this.#unsubscribe = runtime.subscribe((e) => this.#onRuntimeEvent(e));
    const found = await runtime.listContainers({ [LABELS.managed]: 'true', [LABELS.instance]: config.containerInstanceArn });
    const byTask = new Map<string, ContainerStatus[]>();
    for (const s of found) {
      const arn = s.labels[LABELS.taskArn];
      if (arn === undefined) continue;
      let list = byTask.get(arn);
      if (list === undefined) byTask.set(arn, (list = []));
      list.push(s);
    }
    for (const [arn, list] of byTask) {
      if (this.#tasks.has(arn)) continue;
      this.#tasks.set(arn, ManagedTask.adopt(this.#taskDeps, arn, list));
    }
    if (byTask.size > 0) logger.info('adopted tasks from the runtime', { tasks: byTask.size, containers: found.length });
    this.#scheduleResync();
  }

  /** The current state of every task the engine knows (for the channel's hello). */
  reports(): TaskReport[] {
    return [...this.#tasks.values()].map((t) => t.report());
  }

  get size(): number {
    return this.#tasks.size;
  }

  task(taskArn: string): ManagedTask | undefined {
    return this.#tasks.get(taskArn);
  }

  /** Brings the instance towards the server's desired set (always the whole set). */
  reconcile(desired: readonly DesiredTask[]): void {
    if (this.#stopped) return;
    const listed = new Set<string>();
    for (const d of desired) listed.add(d.taskArn);
    this.#take(desired);
    for (const [arn, t] of this.#tasks) if (!listed.has(arn) && t.status !== 'STOPPED') t.post({ type: 'forget' });
    this.#tombstones = new Set([...this.#tombstones].filter((arn) => listed.has(arn)));
    this.#admitWaiting();
  }

  /** A change to the desired set: tasks added or updated, tasks that left it (as `reconcile` treats unlisted ones). */
  applyChanges(changed: readonly DesiredTask[], removed: readonly string[]): void {
    if (this.#stopped) return;
    this.#take(changed);
    for (const arn of removed) {
      const t = this.#tasks.get(arn);
      if (t !== undefined && t.status !== 'STOPPED') t.post({ type: 'forget' });
      this.#tombstones.delete(arn);
    }
    this.#admitWaiting();
  }

  #take(desired: readonly DesiredTask[]): void {
    // Stops first, as the ECS agent applies payloads: their ports may be what a new task is waiting for.
    const ordered = [...desired].sort((a, b) => (a.desiredStatus === b.desiredStatus ? 0 : a.desiredStatus === 'STOPPED' ? -1 : 1));
    for (const d of ordered) {
      const existing = this.#tasks.get(d.taskArn);
      if (existing !== undefined) {
        existing.post({ type: 'desired', task: d });
        continue;
      }
      if (this.#tombstones.has(d.taskArn)) continue;
      const admitted = d.desiredStatus === 'STOPPED' || this.#portsFree(d.reservedPorts, undefined);
      const t = ManagedTask.create(this.#taskDeps, d, admitted);
      this.#tasks.set(d.taskArn, t);
      if (!admitted) {
        this.#waiting.push(t);
        this.#deps.logger.info('task waits for host ports held by a stopping task', { task: d.taskArn });
      }
    }
  }

  /** Stops following the runtime; containers keep running for the next agent to adopt. */
  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#resync?.();
    for (const c of this.#cleanups.values()) c();
    this.#cleanups.clear();
    for (const t of this.#tasks.values()) t.detach();
  }

  #onRuntimeEvent(e: RuntimeEvent): void {
    const arn = e.labels[LABELS.taskArn];
    const name = e.labels[LABELS.containerName];
    if (arn === undefined || name === undefined) return;
    const t = this.#tasks.get(arn);
    if (t !== undefined && t.has(name)) t.post({ type: 'runtime', container: name, event: e });
  }

  #onStopped(t: ManagedTask): void {
    if (this.#stopped) return;
    const retention = this.#deps.config.cleanupAfterMs;
    const since = t.executionStoppedAtMs ?? this.#deps.timers.now();
    const wait = Math.max(0, since + retention - this.#deps.timers.now());
    this.#cleanups.get(t.taskArn)?.();
    this.#cleanups.set(t.taskArn, this.#deps.timers.after(wait, () => void this.#cleanup(t)));
    // Released host ports may let a waiting task in (after this task's own report went out).
    queueMicrotask(() => this.#admitWaiting());
  }

  async #cleanup(t: ManagedTask): Promise<void> {
    this.#cleanups.delete(t.taskArn);
    try {
      await t.cleanup();
    } catch (e) {
      this.#deps.logger.warn('could not remove the containers of a stopped task; will retry', { task: t.taskArn, error: e });
      this.#cleanups.set(t.taskArn, this.#deps.timers.after(60_000, () => void this.#cleanup(t)));
      return;
    }
    if (this.#tasks.get(t.taskArn) === t) this.#tasks.delete(t.taskArn);
    this.#tombstones.add(t.taskArn);
  }

  #admitWaiting(): void {
    for (let i = 0; i < this.#waiting.length; ) {
      const t = this.#waiting[i]!;
      if (t.status === 'STOPPED' || t.desiredStatus === 'STOPPED') {
        this.#waiting.splice(i, 1);
        continue;
      }
      if (this.#portsFree(t.reservedPorts, t)) {
        this.#waiting.splice(i, 1);
        t.admit();
        continue;
      }
      i++;
    }
  }

  /** Whether none of the static host ports are held by a task that has not stopped yet. */
  #portsFree(want: { tcp: readonly number[]; udp: readonly number[] }, self: ManagedTask | undefined): boolean {
    if (want.tcp.length === 0 && want.udp.length === 0) return true;
    for (const t of this.#tasks.values()) {
      if (t === self || t.status === 'STOPPED' || this.#waiting.includes(t)) continue;
      const held = t.reservedPorts;
      if (want.tcp.some((p) => held.tcp.includes(p)) || want.udp.some((p) => held.udp.includes(p))) return false;
    }
    return true;
  }

  #scheduleResync(): void {
    const every = this.#deps.config.resyncIntervalMs;
    if (every <= 0 || this.#stopped) return;
    this.#resync = this.#deps.timers.after(every, () => {
      for (const t of this.#tasks.values()) if (t.status !== 'STOPPED') t.post({ type: 'resync' });
      this.#scheduleResync();
    });
  }
}
