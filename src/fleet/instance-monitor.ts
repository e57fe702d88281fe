/**
 * Watches agent liveness. An agent that stops heartbeating has its channel dropped (it reconnects if it is
 * alive); an instance whose agent stays away longer than `--instance-lost-after` has its tasks stopped with
 * stopCode InfrastructureHealth, so that services can replace them elsewhere. Silence is measured from the
 * last message, or from this server's start for instances that have not connected since.
 */
import { Kind } from '../domain/records.js';
import type { ContainerInstanceRecord } from '../domain/records.js';
import type { TaskRecord } from '../domain/task.js';
import { stopTask } from '../domain/task-lifecycle.js';
import { putOp } from '../state/catalog.js';
import type { EcsState } from '../state/ecs-state.js';
import { instanceKey } from '../state/ecs-state.js';
import type { WriteOp } from '../store/types.js';
import { epochSeconds } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { AgentHub } from './agent-hub.js';

export interface InstanceMonitorDeps {
  readonly state: EcsState;
  readonly hub: AgentHub;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Silence after which an instance's tasks are stopped (default 2 minutes). */
  readonly lostAfterMs: number;
  /** Silence after which a connected channel is considered dead and dropped (default 30 s). */
  readonly heartbeatTimeoutMs: number;
}

export class InstanceMonitor {
  readonly #deps: InstanceMonitorDeps;
  readonly #silentSince = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: InstanceMonitorDeps) {
    this.#deps = deps;
  }

  /** At start no agent is connected yet: record that, then check every few seconds. */
  async start(intervalMs = 5000): Promise<void> {
    const { state } = this.#deps;
    const ops: WriteOp[] = [];
    for (const [key, v] of state.catalog.all<ContainerInstanceRecord>(Kind.containerInstance)) {
      if (v.value.agentConnected && !this.#deps.hub.isConnected(v.value.containerInstanceArn)) {
        ops.push(putOp(Kind.containerInstance, key, { ...v.value, agentConnected: false, version: state.latestInstanceVersion(v.value) + 1 }, v));
      }
    }
    if (ops.length > 0) await state.catalog.commit(ops).catch((e: unknown) => this.#deps.logger.warn('could not mark agents disconnected', { error: e }));
    this.#timer = setInterval(() => void this.tick().catch((e: unknown) => this.#deps.logger.warn('instance monitor failed', { error: e })), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  async tick(): Promise<void> {
    const { state, hub, clock, lostAfterMs, heartbeatTimeoutMs, logger } = this.#deps;
    const now = clock.now();
    const seen = hub.lastSeen();
    const lost: ContainerInstanceRecord[] = [];
    for (const [, v] of state.catalog.all<ContainerInstanceRecord>(Kind.containerInstance)) {
      const i = v.value;
      if (i.status === 'INACTIVE') {
        this.#silentSince.delete(i.containerInstanceArn);
        continue;
      }
      const last = seen.get(i.containerInstanceArn);
      if (last !== undefined) {
        this.#silentSince.delete(i.containerInstanceArn);
        if (now - last > heartbeatTimeoutMs) {
          logger.warn('agent silent; dropping its channel', { containerInstanceArn: i.containerInstanceArn, silentSeconds: Math.round((now - last) / 1000) });
          hub.disconnect(i.containerInstanceArn);
        }
        continue;
      }
      const since = this.#silentSince.get(i.containerInstanceArn) ?? now;
      this.#silentSince.set(i.containerInstanceArn, since);
      if (now - since >= lostAfterMs) lost.push(i);
    }
    for (const i of lost) await this.#stopTasksOf(i, now);
  }

  async #stopTasksOf(instance: ContainerInstanceRecord, now: number): Promise<void> {
    const { state, logger, lostAfterMs } = this.#deps;
    const reason = `Container instance ${instance.containerInstanceArn} was lost: its agent has not been heard from for ${Math.round(lostAfterMs / 1000)} seconds.`;
    const stopped = await state.catalog.transact(() => {
      const ops: WriteOp[] = [];
      const inst = state.instance(instance.cluster, instance.id);
      if (!inst || inst.value.agentConnected) return { ops, result: 0 };
      for (const key of state.tasksByInstance.keys(instance.containerInstanceArn)) {
        const t = state.catalog.get<TaskRecord>(Kind.task, key);
        if (!t || t.value.containerInstanceArn !== instance.containerInstanceArn || t.value.lastStatus === 'STOPPED') continue;
        // Nobody is left to confirm the stop, so the task is recorded as stopped now.
        const next = stopTask(t.value, 'InfrastructureHealth', reason, epochSeconds(now), { immediately: true });
        if (next) ops.push(putOp(Kind.task, key, next, t));
      }
      if (ops.length > 0) ops.push(putOp(Kind.containerInstance, instanceKey(instance.cluster, instance.id), { ...inst.value, version: state.latestInstanceVersion(inst.value) + 1 }, inst));
      return { ops, result: ops.length - (ops.length > 0 ? 1 : 0) };
    });
    if (stopped > 0) logger.warn('instance lost; its tasks were stopped', { containerInstanceArn: instance.containerInstanceArn, tasks: stopped });
  }
}
