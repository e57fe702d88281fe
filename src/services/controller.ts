/**
 * The service controller: runs the scheduler's decision (scheduler.ts) for every service that may need it —
 * after any committed change to the service, one of its tasks, or an instance of its cluster, and on a timer for
 * time-driven work (settling, throttling) — and applies it in one guarded decision per service: new tasks placed
 * by the placement engine (group `service:<name>`, startedBy the deployment id), tasks stopped with
 * ServiceSchedulerInitiated, the deployments array and events rewritten. A lost race decides again.
 */
import { Kind } from '../domain/records.js';
import type { ContainerInstanceRecord } from '../domain/records.js';
import { deploymentId, serviceGroup, serviceKey, withDeploymentStarted, withEvents, withHistory } from '../domain/service.js';
import type { DeploymentRecord, ServiceEventRecord, ServiceRecord } from '../domain/service.js';
import type { TaskRecord } from '../domain/task.js';
import { stopTask } from '../domain/task-lifecycle.js';
import { combineConstraints, memberOf, parseConstraints, parseStrategy, SERVICE_DEFAULT_STRATEGY } from '../placement/options.js';
import { checkOp, putOp } from '../state/catalog.js';
import { InstanceVersions, taskDefinitionKey, taskKey } from '../state/ecs-state.js';
import type { EcsState } from '../state/ecs-state.js';
import type { WriteOp } from '../store/types.js';
import type { Arns } from '../domain/arn.js';
import type { Clock, Rng } from '../util/clock.js';
import { epochSeconds, seededRng } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { launchDefinition, prepareLaunch, writePlacedTasks } from '../api/ecs/task-launch.js';
import type { Launch } from '../api/ecs/task-launch.js';
import { findTaskDefinition, parseTaskDefinitionRef } from '../api/ecs/task-definitions.js';
import { constraintFilter } from '../placement/constraints.js';
import { CONSOLIDATE_TAG, decide, isHealthy } from './scheduler.js';

/** Consolidation scales in whole instances first: tasks on the instance with the fewest of them, then the next. */
function fewestFirst(tasks: readonly TaskRecord[]): TaskRecord[] {
  const count = new Map<string, number>();
  for (const t of tasks) count.set(t.containerInstanceArn ?? '', (count.get(t.containerInstanceArn ?? '') ?? 0) + 1);
  return [...tasks].sort((a, b) => {
    const x = a.containerInstanceArn ?? '';
    const y = b.containerInstanceArn ?? '';
    return count.get(x)! - count.get(y)! || (x < y ? -1 : x > y ? 1 : 0);
  });
}

export interface ServiceControllerDeps {
  readonly state: EcsState;
  readonly arns: Arns;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly logger: Logger;
  /** Seconds a RUNNING task without health checks takes to count as healthy (default 0). */
  readonly settleSec?: number;
  /** How often every service is looked at regardless of changes (default 1 s). */
  readonly intervalMs?: number;
}

/** The pause between passes while changes keep coming. */
const PASS_GAP_MS = 25;

/** At most this many tasks are placed per service per pass, so one big service cannot starve the others. */
const MAX_START_PER_PASS = 500;

export class ServiceController {
  readonly #deps: ServiceControllerDeps;
  readonly #dirty = new Set<string>();
  readonly #wakeAt = new Map<string, number>();
  /** Services whose decision is being committed, and when that ends. */
  readonly #inFlight = new Map<string, Promise<void>>();
  #wake: (() => void) | undefined;
  #running = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #idle: Promise<void> = Promise.resolve();

  constructor(deps: ServiceControllerDeps) {
    this.#deps = deps;
  }

  start(): void {
    const { state } = this.#deps;
    this.#unsubscribe = state.catalog.subscribe((c) => {
      if (c.kind === Kind.service) this.#mark(c.key);
      else if (c.kind === Kind.task) {
        for (const t of [c.before, c.after] as (TaskRecord | undefined)[]) if (t?.serviceName !== undefined) this.#mark(serviceKey(t.cluster, t.serviceName));
      } else if (c.kind === Kind.containerInstance) {
        const cluster = ((c.after ?? c.before) as ContainerInstanceRecord | undefined)?.cluster;
        const before = c.before as ContainerInstanceRecord | undefined;
        const after = c.after as ContainerInstanceRecord | undefined;
        // Only what changes where service tasks may run: status, connection, resources (not version bumps).
        const changed =
          before === undefined ||
          after === undefined ||
          before.status !== after.status ||
          before.agentConnected !== after.agentConnected ||
          (before.attributes !== after.attributes && JSON.stringify(before.attributes) !== JSON.stringify(after.attributes));
        if (cluster !== undefined && changed) {
          for (const key of state.servicesByCluster.keys(cluster)) this.#mark(key);
        }
      }
    });
    for (const [key, s] of state.catalog.all<ServiceRecord>(Kind.service)) if (s.value.status !== 'INACTIVE') this.#mark(key);
    this.#timer = setInterval(() => this.#tick(), this.#deps.intervalMs ?? 1000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    if (this.#timer) clearInterval(this.#timer);
    await this.#idle;
  }

  /** Resolves once every service marked so far has been reconciled (tests, benches). */
  async settled(): Promise<void> {
    while (this.#running || this.#dirty.size > 0) await this.#idle;
  }

  /** The ACTIVE instances of the cluster that satisfy a DAEMON service's memberOf constraints (its own and its definition's). */
  #daemonInstances(service: ServiceRecord): string[] {
    const { state, arns } = this.#deps;
    const def = findTaskDefinition(state, parseTaskDefinitionRef(arns, service.taskDefinition));
    const constraints = combineConstraints(def?.value.placementConstraints, parseConstraints(service.placementConstraints)).filter((c) => c.type === 'memberOf');
    const filters = constraints.map((c) => constraintFilter(c, serviceGroup(service.serviceName)));
    const demand = { cpu: 0, memory: 0, portsTcp: [], portsUdp: [], gpus: 0, requiresAttributes: [] };
    const out: string[] = [];
    for (const candidate of state.placement.cluster(service.cluster).candidates()) {
      if (candidate.status !== 'ACTIVE') continue;
      if (filters.every((f) => f.check(candidate, demand) === undefined)) out.push(candidate.containerInstanceArn);
    }
    return out;
  }

  #tick(): void {
    const nowSec = epochSeconds(this.#deps.clock.now());
    for (const [key, s] of this.#deps.state.catalog.all<ServiceRecord>(Kind.service)) {
      if (s.value.status === 'INACTIVE') continue;
      const wake = this.#wakeAt.get(key);
      // Services not known to be steady are looked at every tick; steady ones only when something changes.
      if (wake === undefined || wake <= nowSec) this.#mark(key);
    }
  }

  #mark(key: string): void {
    if (this.#stopped) return;
    this.#dirty.add(key);
    this.#wake?.();
    if (!this.#running) {
      this.#running = true;
      this.#idle = this.#pump();
    }
  }

  /**
   * Passes over the marked services. Services are independent, so each is reconciled on its own: a pass starts
   * every marked service that is not still committing its previous decision, without waiting for the others'
   * commits to become durable (decisions see commits in flight, and the catalog pipelines them). A service is
   * never reconciled twice at once; one marked meanwhile is taken by a later pass.
   */
  async #pump(): Promise<void> {
    try {
      let first = true;
      while (!this.#stopped && (this.#dirty.size > 0 || this.#inFlight.size > 0)) {
        if (![...this.#dirty].some((k) => !this.#inFlight.has(k))) {
          // Everything marked is still committing: wait for one to finish (its commit may mark more), or for
          // another service to be marked.
          await Promise.race([...this.#inFlight.values(), new Promise<void>((r) => (this.#wake = r))]);
          this.#wake = undefined;
          continue;
        }
        // Between passes, let changes gather for a moment: a burst of task reports then costs each service one
        // pass, not one per report (each pass reads all of the service's tasks).
        if (!first) await new Promise((r) => setTimeout(r, PASS_GAP_MS));
        first = false;
        for (const key of [...this.#dirty]) {
          if (this.#inFlight.has(key) || this.#stopped) continue;
          this.#dirty.delete(key);
          const done = this.#reconcile(key)
            .catch((e: unknown) => this.#deps.logger.warn('service reconcile failed', { service: key, error: e }))
            .finally(() => this.#inFlight.delete(key));
          this.#inFlight.set(key, done);
        }
      }
      await Promise.all(this.#inFlight.values());
    } finally {
      this.#running = false;
    }
  }

  async #reconcile(key: string): Promise<void> {
    const { state, arns, clock, rng } = this.#deps;
    const nowSec = epochSeconds(clock.now());
    const settleSec = this.#deps.settleSec ?? 0;
    const ids = Array.from({ length: 64 }, () => rng.hex(16));
    const seed = Math.floor(rng.float() * 2 ** 32);
    const rollbackId = deploymentId(rng.hex(8));
    const outcome = await state.catalog.transact(() => {
      const read = state.catalog.get<ServiceRecord>(Kind.service, key);
      if (!read || read.value.status === 'INACTIVE') return { ops: [], result: { wakeAtSec: undefined as number | undefined, steady: true } };
      const service = read.value;
      const tasks = state.serviceTasks(service.cluster, service.serviceName);
      const instances = new Map<string, ContainerInstanceRecord | undefined>();
      const instanceOf = (arn: string) => {
        if (!instances.has(arn)) instances.set(arn, state.instanceByArn(service.cluster, arn)?.value);
        return instances.get(arn);
      };
      const instanceStatus = (arn: string) => instanceOf(arn)?.status;
      const daemonInstances = service.schedulingStrategy === 'DAEMON' ? this.#daemonInstances(service) : undefined;
      const zoneOf = (arn: string) => instanceOf(arn)?.attributes.find((a) => a.name === 'ecs.availability-zone')?.value;
      const engine = state.placement.cluster(service.cluster);
      const zones = engine.activeZones();
      const instanceLoad = (arn: string) => {
        const c = engine.candidateOf(arn);
        return c === undefined ? undefined : { tasks: c.runningTasksCount, cpu: c.remaining.cpu, memory: c.remaining.memory };
      };
      const plan = decide({ service, tasks, instanceStatus, nowSec, settleSec, zoneOf, zones, instanceLoad, ...(daemonInstances ? { daemonInstances } : {}) });
      const ops: WriteOp[] = [];
      const events: string[] = [...plan.events];
      const next: ServiceRecord = { ...service, deployments: [...plan.deployments] };
      if (daemonInstances !== undefined && service.status === 'ACTIVE') next.desiredCount = daemonInstances.length;
      if (plan.completedTaskDefinition !== undefined) {
        next.lastCompletedTaskDefinition = plan.completedTaskDefinition;
        const done = service.deployments[0]!;
        next.history = withHistory(next, done.id, { status: 'SUCCESSFUL', statusReason: 'Deployment completed.', finishedAt: nowSec, updatedAt: nowSec });
        const rolledBack = (service.history ?? []).find((h) => h.id === done.id)?.rollbackOf;
        if (rolledBack !== undefined) next.history = withHistory(next, rolledBack, { status: 'ROLLBACK_SUCCESSFUL', statusReason: `Rolled back by deployment ${done.id}.`, finishedAt: nowSec, updatedAt: nowSec });
      }
      if (plan.deployments[0]?.rolloutState === 'FAILED' && service.deployments[0]?.rolloutState !== 'FAILED' && plan.rollbackTo === undefined) {
        next.history = withHistory(next, service.deployments[0]!.id, { status: 'STOPPED', statusReason: 'The deployment circuit breaker stopped the deployment: tasks failed to start.', finishedAt: nowSec, updatedAt: nowSec });
      }
      if (plan.drained) next.status = 'INACTIVE';
      if (plan.rollbackTo !== undefined) {
        const failedId = service.deployments[0]!.id;
        const rollback: DeploymentRecord = { id: rollbackId, status: 'PRIMARY', taskDefinition: plan.rollbackTo, createdAt: nowSec, updatedAt: nowSec, rolloutState: 'IN_PROGRESS', rolloutStateReason: `ECS deployment ${rollbackId} in progress (rollback).` };
        next.taskDefinition = plan.rollbackTo;
        next.history = withDeploymentStarted(next, rollback, nowSec, failedId);
        next.history = withHistory(next, failedId, {
          status: 'ROLLBACK_IN_PROGRESS',
          statusReason: 'The deployment circuit breaker failed the deployment: tasks failed to start. Rolling back.',
          updatedAt: nowSec,
          rollback: { reason: 'ECS deployment circuit breaker: tasks failed to start.', startedAt: nowSec, toDeployment: rollbackId },
        });
        next.deployments = [rollback, ...next.deployments.map((d) => ({ ...d, status: 'ACTIVE' as const }))];
      }

      // Stops: the plan's, then scale-in chosen by the placement strategy in reverse (spread: from the zone and
      // the instance with the most tasks). A healthy task goes only while minimumHealthyPercent allows.
      const toStop = [...plan.stop];
      if (plan.scaleIn > 0) {
        const rules = parseStrategy(service.placementStrategy, SERVICE_DEFAULT_STRATEGY);
        const consolidating = service.tags.some((t) => t.key === CONSOLIDATE_TAG && t.value === 'true') && rules[0]?.type === 'binpack';
        const chosen = consolidating
          ? fewestFirst(plan.scaleInFrom).slice(0, plan.scaleIn)
          : engine.selectForScaleIn(plan.scaleInFrom, plan.scaleIn, rules, serviceGroup(service.serviceName), seededRng(seed));
        let budget = plan.healthyBudget;
        for (const task of chosen) {
          if (isHealthy(task, nowSec, settleSec)) {
            if (budget <= 0) continue;
            budget--;
          }
          toStop.push({ task, reason: `Scaling activity initiated by (deployment ${service.deployments[0]!.id})` });
        }
      }
      const versions = new InstanceVersions(state, service.cluster);
      for (const s of toStop) {
        const cur = state.task(service.cluster, s.task.id);
        const stopped = cur ? stopTask(cur.value, 'ServiceSchedulerInitiated', s.reason, nowSec) : undefined;
        if (!cur || !stopped) continue;
        const instanceVersion = versions.next(stopped.containerInstanceArn);
        if (instanceVersion !== undefined) stopped.instanceVersion = instanceVersion;
        ops.push(putOp(Kind.task, taskKey(service.cluster, stopped.id), stopped, cur));
      }

      // Starts, placed like RunTask's tasks (DAEMON: on the instances the plan names).
      const startOn = (plan.startOn ?? []).slice(0, ids.length);
      const start = plan.rollbackTo === undefined ? Math.min(plan.start, MAX_START_PER_PASS, ids.length) : 0;
      if (start > 0 || startOn.length > 0) {
        const primary = next.deployments[0]!;
        const definition = parseTaskDefinitionRef(arns, primary.taskDefinition);
        const defRead = launchDefinition(state, definition);
        const launch: Launch = {
          definition,
          group: serviceGroup(service.serviceName),
          startedBy: primary.id,
          overrides: undefined,
          tags: service.propagateTags === 'SERVICE' ? service.tags : [],
          propagateFromDefinition: service.propagateTags === 'TASK_DEFINITION',
          managedTags: service.enableECSManagedTags,
          enableExecuteCommand: service.enableExecuteCommand,
          hasNetworkConfiguration: (defRead.value.networkMode ?? 'bridge') === 'awsvpc',
        };
        const prepared = prepareLaunch(launch, defRead.value, service.cluster);
        const strategy = parseStrategy(service.placementStrategy, SERVICE_DEFAULT_STRATEGY);
        let constraints = combineConstraints(defRead.value.placementConstraints, parseConstraints(service.placementConstraints));
        if (plan.consolidateFrom !== undefined) {
          const away = instanceOf(plan.consolidateFrom)?.ec2InstanceId;
          if (away !== undefined) constraints = [...constraints, memberOf(`ec2InstanceId != '${away}'`, 'consolidation')];
        }
        const attempts =
          engine.size === 0
            ? []
            : startOn.length > 0
              ? engine.placeOn(startOn, prepared.demand, prepared.group)
              : engine.place({ demand: prepared.demand, count: start, group: prepared.group, strategy, constraints }, seededRng(seed));
        const { tasks: started, failures } = writePlacedTasks(
          { state, arns, cluster: service.cluster, launch, prepared, ids, nowSec, serviceName: service.serviceName },
          attempts,
          ops,
          versions,
        );
        const failure = failures[0] ?? (engine.size === 0 ? { arn: '', reason: 'NO_INSTANCES', detail: 'The cluster has no container instances.' } : undefined);
        if (failure) {
          const id = failure.arn.slice(failure.arn.lastIndexOf('/') + 1);
          events.push(
            `(service ${service.serviceName}) was unable to place a task because no container instance met all of its requirements.` +
              (id ? ` The closest matching (container-instance ${id}) failed ${failure.reason}: ${failure.detail ?? ''}` : ` ${failure.detail ?? ''}`) +
              ' For more information, see the Troubleshooting section.',
          );
        }
        if (started.length > 0) {
          events.push(`(service ${service.serviceName}) has started ${started.length} tasks: ${started.map((t) => `(task ${t.id})`).join(' ')}.`);
          ops.push(checkOp(Kind.taskDefinition, taskDefinitionKey(defRead.value.family, defRead.value.revision), defRead));
        }
      }
      ops.push(...versions.ops());

      const added: ServiceEventRecord[] = events.map((message, i) => ({ id: `${ids[63]!.slice(0, 8)}-${i}-${nowSec}`, createdAt: nowSec, message }));
      next.events = withEvents(service.events, added);
      if (JSON.stringify(next) !== JSON.stringify(service)) ops.push(putOp(Kind.service, key, next, read));
      else if (ops.length > 0) ops.push(checkOp(Kind.service, key, read));
      const more = plan.start > start || (plan.startOn?.length ?? 0) > startOn.length || plan.rollbackTo !== undefined;
      return { ops, result: { wakeAtSec: more ? nowSec : plan.wakeAtSec, steady: plan.steady && !more } };
    });
    if (outcome.wakeAtSec !== undefined) this.#wakeAt.set(key, outcome.wakeAtSec);
    else if (outcome.steady) this.#wakeAt.set(key, Number.POSITIVE_INFINITY);
    else this.#wakeAt.delete(key);
    if (outcome.wakeAtSec !== undefined && outcome.wakeAtSec <= nowSec) this.#mark(key);
  }
}
