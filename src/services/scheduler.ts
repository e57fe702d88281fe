/**
 * The service scheduler's decision, as a pure function: (service, its tasks, where they run, now) → what to do —
 * how many tasks to start for the PRIMARY deployment, which tasks to stop and why, the deployments array as it
 * should read, and the events to record. The controller (controller.ts) applies it and runs it again on every
 * relevant change and on a timer; running it twice on the same state decides the same thing (level-triggered).
 *
 * REPLICA rules (ECS-SEMANTICS.md §3.4–3.6):
 *  - Tasks that must go — those of older deployments, those on instances no longer ACTIVE (DRAINING, deregistered,
 *    lost), and unhealthy ones past the grace period — are *leaving*: they are replaced first, within maximumPercent
 *    (running + pending ≤ ⌊desired × max%⌋), and stopped only while ⌈desired × min%⌉ healthy tasks remain. A
 *    leaving task that is not healthy (still pending, or failing its checks) may go at any time; pending tasks on a
 *    draining instance go at once.
 *  - PRIMARY tasks beyond desiredCount are stopped (scale in; the controller picks which by the placement strategy
 *    in reverse).
 *  - Healthy: RUNNING, and HEALTHY when an essential container has a health check; with no health check, RUNNING for
 *    at least `settleSec`.
 *  - Tasks that stop without ever reaching RUNNING throttle further starts: after 3 in a row, 5 s, then doubling, up
 *    to 15 minutes; a new deployment starts afresh.
 *  - The circuit breaker (when enabled) fails the PRIMARY deployment once as many of its tasks failed as the
 *    threshold (⌈desired / 2⌉ clamped to 10–200; a task that became healthy resets the count), and with rollback
 *    asks for a new deployment of the last COMPLETED task definition.
 */
import { holdsResources } from '../domain/resources.js';
import type { DeploymentRecord, ServiceRecord } from '../domain/service.js';
import type { TaskRecord } from '../domain/task.js';

export interface SchedulerInput {
  readonly service: ServiceRecord;
  /** Every task of the service the store still holds (stopped ones included: failures are counted from them). */
  readonly tasks: readonly TaskRecord[];
  /** Status of a container instance by ARN (undefined: gone); only ACTIVE instances keep their service tasks. */
  readonly instanceStatus: (containerInstanceArn: string) => string | undefined;
  readonly nowSec: number;
  /** Seconds a RUNNING task without health checks takes to count as healthy. */
  readonly settleSec: number;
  /** DAEMON services: the ACTIVE instances that satisfy the service's constraints (one task each). */
  readonly daemonInstances?: readonly string[];
  /** Zone of a container instance (its ecs.availability-zone), and the zones that have ACTIVE connected instances. */
  readonly zoneOf?: (containerInstanceArn: string) => string | undefined;
  readonly zones?: readonly string[];
  /** Binpack consolidation (Gantry, opt-in): tasks of any kind on an instance, and what is free on it. */
  readonly instanceLoad?: (containerInstanceArn: string) => { readonly tasks: number; readonly cpu: number; readonly memory: number } | undefined;
}

/** The service tag that turns binpack consolidation on (off by default; not an ECS feature). */
export const CONSOLIDATE_TAG = 'gantry:consolidate';

export interface TaskToStop {
  readonly task: TaskRecord;
  readonly reason: string;
}

export interface SchedulerPlan {
  /** Tasks to place for the PRIMARY deployment. */
  readonly start: number;
  /** DAEMON services: the instances to start the PRIMARY deployment's task on (instead of `start`). */
  readonly startOn?: readonly string[];
  /** Tasks to stop, with the reason recorded on each. */
  readonly stop: readonly TaskToStop[];
  /** PRIMARY tasks beyond desiredCount: the controller picks which (placement strategy in reverse). */
  readonly scaleIn: number;
  /** The candidates for `scaleIn`. */
  readonly scaleInFrom: readonly TaskRecord[];
  /** How many more healthy tasks may be stopped (scale-in included) without going below minimumHealthyPercent. */
  readonly healthyBudget: number;
  readonly deployments: readonly DeploymentRecord[];
  readonly events: readonly string[];
  /** Roll back to this task definition in a new deployment (circuit breaker). */
  readonly rollbackTo?: string;
  /** Nothing left to do until something changes. */
  readonly steady: boolean;
  /** Binpack consolidation: start `start` tasks anywhere but this instance, whose service tasks then scale in. */
  readonly consolidateFrom?: string;
  /** Run again at this time (epoch seconds) even if nothing changes: throttling, settling. */
  readonly wakeAtSec?: number;
  /** A DRAINING service with nothing left running: it becomes INACTIVE. */
  readonly drained: boolean;
  /** The last COMPLETED task definition, when this pass completed the rollout. */
  readonly completedTaskDefinition?: string;
}

const THROTTLE_FREE_FAILURES = 3;
const THROTTLE_BASE_SEC = 5;
const THROTTLE_MAX_SEC = 15 * 60;

/** A task still there: neither stopped nor asked to stop (the tasks that hold resources, domain/resources.ts). */
export const isLive: (t: TaskRecord) => boolean = holdsResources;

/** Whether any essential container of the task has a health check. */
function checked(t: TaskRecord): boolean {
  return t.containers.some((c) => c.essential && c.hasHealthCheck === true);
}

export function isHealthy(t: TaskRecord, nowSec: number, settleSec: number): boolean {
  if (!isLive(t) || t.lastStatus !== 'RUNNING') return false;
  if (checked(t)) return t.healthStatus === 'HEALTHY';
  return nowSec - (t.startedAt ?? nowSec) >= settleSec;
}

/** RUNNING with a failing health check after the grace period: to be replaced. */
function isUnhealthy(t: TaskRecord, service: ServiceRecord, nowSec: number): boolean {
  return isLive(t) && t.lastStatus === 'RUNNING' && checked(t) && t.healthStatus === 'UNHEALTHY' && nowSec - (t.startedAt ?? nowSec) >= service.healthCheckGracePeriodSeconds;
}

/** A task that ended badly: it never started, or its essential container exited or failed its checks. */
export function failedTask(t: TaskRecord): boolean {
  return t.lastStatus === 'STOPPED' && (t.stopCode === 'TaskFailedToStart' || t.stopCode === 'EssentialContainerExited');
}

const label = (s: ServiceRecord) => `(service ${s.serviceName})`;
const taskId = (t: TaskRecord) => t.taskArn.slice(t.taskArn.lastIndexOf('/') + 1);

export function circuitBreakerThreshold(desiredCount: number): number {
  return Math.min(200, Math.max(10, Math.ceil(desiredCount * 0.5)));
}

export function decide(input: SchedulerInput): SchedulerPlan {
  const { service, nowSec, settleSec } = input;
  const events: string[] = [];
  const primary = service.deployments[0]!;
  const live = input.tasks.filter(isLive);
  const onGoodInstance = (t: TaskRecord) => t.containerInstanceArn !== undefined && input.instanceStatus(t.containerInstanceArn) === 'ACTIVE';

  if (service.status === 'DRAINING') {
    const stop = live.filter((t) => t.desiredStatus !== 'STOPPED').map((task) => ({ task, reason: `The service ${service.serviceName} is being deleted.` }));
    return { start: 0, stop, scaleIn: 0, scaleInFrom: [], healthyBudget: 0, deployments: service.deployments, events, steady: live.length === 0, drained: live.length === 0 };
  }

  if (service.schedulingStrategy === 'DAEMON') return decideDaemon(input, live);

  const D = service.desiredCount;
  const maxTotal = Math.floor((D * service.deploymentConfiguration.maximumPercent) / 100);
  const minHealthy = Math.ceil((D * service.deploymentConfiguration.minimumHealthyPercent) / 100);

  const keep: TaskRecord[] = [];
  const leaving: { task: TaskRecord; why: string }[] = [];
  // Scale-in protection keeps a task through scale-in and deployments (not through its instance going away).
  const guarded = (t: TaskRecord) => t.protectedUntil !== undefined && t.protectedUntil > nowSec;
  for (const t of live) {
    if (t.startedBy !== primary.id && guarded(t) && onGoodInstance(t)) keep.push(t);
    else if (t.startedBy !== primary.id) leaving.push({ task: t, why: `Scaling activity initiated by (deployment ${primary.id})` });
    else if (!onGoodInstance(t)) leaving.push({ task: t, why: `The container instance ${t.containerInstanceArn ?? ''} is no longer ACTIVE (draining or lost).` });
    else if (isUnhealthy(t, service, nowSec)) leaving.push({ task: t, why: 'Task failed container health checks' });
    else keep.push(t);
  }

  // The circuit breaker and start throttling look at the PRIMARY deployment's own history.
  const mine = input.tasks.filter((t) => t.startedBy === primary.id);
  let deployments = service.deployments.map((d) => ({ ...d }));
  let rollbackTo: string | undefined;
  const breaker = service.deploymentConfiguration.deploymentCircuitBreaker;
  if (breaker.enable && primary.rolloutState === 'IN_PROGRESS') {
    // resetOnHealthyTask (ECS's default): failures before the latest task that is healthy now do not count.
    const lastHealthy = Math.max(0, ...mine.filter((t) => isHealthy(t, nowSec, settleSec)).map((t) => t.startedAt ?? 0));
    const failures = mine.filter((t) => failedTask(t) && (t.stoppedAt ?? 0) >= lastHealthy).length;
    if (failures >= circuitBreakerThreshold(D)) {
      const reason = 'ECS deployment circuit breaker: tasks failed to start.';
      deployments[0] = { ...deployments[0]!, rolloutState: 'FAILED', rolloutStateReason: reason, updatedAt: nowSec };
      events.push(`${label(service)} (deployment ${primary.id}) deployment failed: tasks failed to start.`);
      if (breaker.rollback && service.lastCompletedTaskDefinition !== undefined && service.lastCompletedTaskDefinition !== primary.taskDefinition) {
        rollbackTo = service.lastCompletedTaskDefinition;
        events.push(`${label(service)} (deployment ${primary.id}) deployment failed: rolling back to ${service.lastCompletedTaskDefinition}.`);
      }
    }
  }
  // A failed deployment starts nothing more (with rollback, the controller makes the rollback deployment PRIMARY).
  const primaryFailed = deployments[0]!.rolloutState === 'FAILED';

  // Start throttling: tasks that stopped without ever running, in a row, most recent last.
  let wakeAtSec: number | undefined;
  let throttled = false;
  const lastStart = Math.max(0, ...mine.map((t) => t.startedAt ?? 0));
  const neverRan = mine.filter((t) => t.lastStatus === 'STOPPED' && t.startedAt === undefined && t.stopCode === 'TaskFailedToStart' && (t.stoppedAt ?? 0) >= lastStart);
  if (neverRan.length >= THROTTLE_FREE_FAILURES) {
    const delay = Math.min(THROTTLE_MAX_SEC, THROTTLE_BASE_SEC * 2 ** (neverRan.length - THROTTLE_FREE_FAILURES));
    const last = Math.max(...neverRan.map((t) => t.stoppedAt ?? 0));
    if (nowSec < last + delay) {
      throttled = true;
      wakeAtSec = last + delay;
      events.push(`${label(service)} is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.`);
    }
  }

  // Scale in: tasks beyond the desired count, chosen by the controller among the unprotected ones.
  const scaleInFrom = keep.filter((t) => !guarded(t));
  const scaleIn = Math.min(scaleInFrom.length, Math.max(0, keep.length - D));
  const protectedTimes = live.filter(guarded).map((t) => t.protectedUntil!);

  // Start within maximumPercent.
  const need = Math.max(0, D - keep.length);
  const room = Math.max(0, maxTotal - live.length);
  let start = primaryFailed || throttled ? 0 : Math.min(need, room);

  // AZ rebalancing: at full strength, a zone with 2+ tasks more than another gets one task started where there are
  // fewest (spread places it there), and the surplus is then scaled in from the fullest zone.
  const rebalancing =
    service.availabilityZoneRebalancing === 'ENABLED' &&
    !service.placementStrategy.some((r) => r.type === 'binpack') &&
    leaving.length === 0 &&
    keep.length === D &&
    D > 0 &&
    room > 0 &&
    keep.every((t) => isHealthy(t, nowSec, settleSec)) &&
    input.zoneOf !== undefined &&
    (input.zones?.length ?? 0) > 1;
  // Binpack consolidation (Gantry, opt-in with the service tag gantry:consolidate=true): at full strength, when
  // the service's tasks on one instance are all it runs and fit in what the service's other instances have free,
  // start replacements elsewhere; scale-in (binpack in reverse: the emptiest instance first) then frees it.
  let consolidateFrom: string | undefined;
  const consolidating =
    service.tags.some((t) => t.key === CONSOLIDATE_TAG && t.value === 'true') &&
    service.placementStrategy[0]?.type === 'binpack' &&
    leaving.length === 0 &&
    keep.length === D &&
    D > 0 &&
    keep.every((t) => isHealthy(t, nowSec, settleSec)) &&
    input.instanceLoad !== undefined;
  if (consolidating) {
    const byInstance = new Map<string, TaskRecord[]>();
    for (const t of keep) {
      const arn = t.containerInstanceArn ?? '';
      let l = byInstance.get(arn);
      if (!l) byInstance.set(arn, (l = []));
      l.push(t);
    }
    const used = [...byInstance.keys()].sort((a, b) => byInstance.get(a)!.length - byInstance.get(b)!.length || (a < b ? -1 : 1));
    for (const arn of used) {
      const mine = byInstance.get(arn)!;
      if (mine.length > room || input.instanceLoad(arn)?.tasks !== mine.length) continue;
      const need = mine.reduce((n, t) => ({ cpu: n.cpu + t.reservation.cpu, memory: n.memory + t.reservation.memory }), { cpu: 0, memory: 0 });
      const free = used.filter((x) => x !== arn).reduce((n, x) => {
        const l = input.instanceLoad!(x);
        return { cpu: n.cpu + Math.max(0, l?.cpu ?? 0), memory: n.memory + Math.max(0, l?.memory ?? 0) };
      }, { cpu: 0, memory: 0 });
      if (need.cpu <= free.cpu && need.memory <= free.memory) {
        consolidateFrom = arn;
        start = mine.length;
        events.push(`${label(service)} is consolidating: moving ${mine.length} tasks off container instance ${arn.slice(arn.lastIndexOf('/') + 1)} to free it.`);
        break;
      }
    }
  }

  if (rebalancing && consolidateFrom === undefined) {
    const perZone = new Map<string, number>((input.zones ?? []).map((z) => [z, 0]));
    for (const t of keep) {
      const z = input.zoneOf!(t.containerInstanceArn ?? '');
      if (z !== undefined && perZone.has(z)) perZone.set(z, perZone.get(z)! + 1);
    }
    const counts = [...perZone.values()];
    if (Math.max(...counts) - Math.min(...counts) > 1) {
      start = 1;
      events.push(
        `${label(service)} is not AZ balanced with ${[...perZone].sort().map(([z, n]) => `${n} tasks in ${z}`).join(', ')}. Started rebalancing (SERVICE_REBALANCING_STARTED).`,
      );
    }
  }

  // Stop leaving tasks within minimumHealthyPercent; ones not counted healthy may go at any time.
  const healthy = live.filter((t) => isHealthy(t, nowSec, settleSec)).length;
  let budget = healthy - minHealthy;
  const stop: TaskToStop[] = [];
  const ordered = [...leaving].sort((a, b) => Number(isHealthy(a.task, nowSec, settleSec)) - Number(isHealthy(b.task, nowSec, settleSec)));
  for (const l of ordered) {
    if (l.task.desiredStatus === 'STOPPED') continue;
    const counts = isHealthy(l.task, nowSec, settleSec);
    // Leaving tasks beyond what the new ones still need keep the service at strength until replacements run.
    if (counts) {
      if (budget <= 0) continue;
      budget--;
    }
    stop.push({ task: l.task, reason: l.why });
  }

  const healthyBudget = Math.max(0, budget);
  const leavingLeft = leaving.length - stop.length;
  if (need > 0 && start === 0 && stop.length === 0 && leavingLeft > 0 && !primaryFailed && !throttled && live.every((t) => t.lastStatus === 'RUNNING')) {
    events.push(
      `${label(service)} was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again.`,
    );
  }
  // Protection expiring frees a task for scale-in without any other change.
  if (protectedTimes.length > 0) {
    const at = Math.min(...protectedTimes);
    wakeAtSec = wakeAtSec === undefined ? at : Math.min(wakeAtSec, at);
  }
  // Settling: a RUNNING task becomes healthy after settleSec without any other change.
  const settling = live.filter((t) => t.lastStatus === 'RUNNING' && !checked(t) && !isHealthy(t, nowSec, settleSec));
  if (settling.length > 0) {
    const at = Math.min(...settling.map((t) => (t.startedAt ?? nowSec) + settleSec));
    wakeAtSec = wakeAtSec === undefined ? at : Math.min(wakeAtSec, at);
  }

  // Deployments: old ones leave the array once they have no task left; PRIMARY completes at full healthy strength.
  const full = keep.length === D && keep.every((t) => isHealthy(t, nowSec, settleSec)) && leaving.length === 0 && scaleIn === 0;
  const done = settleDeployments(service, deployments, live, full, nowSec, events);
  deployments = done.deployments;
  const completedTaskDefinition = done.completedTaskDefinition;
  const steady = full && deployments.length === 1 && start === 0 && stop.length === 0;
  if (steady && service.events[0]?.message.includes('SERVICE_REBALANCING_STARTED') === true) {
    events.push(`${label(service)} is AZ balanced (SERVICE_REBALANCING_COMPLETED).`);
  }
  if (steady) events.push(`${label(service)} has reached a steady state.`);
  events.push(...stoppedEvent(service, stop));
  return {
    start,
    stop,
    scaleIn,
    scaleInFrom,
    healthyBudget,
    deployments,
    events,
    ...(rollbackTo !== undefined ? { rollbackTo } : {}),
    ...(consolidateFrom !== undefined ? { consolidateFrom } : {}),
    steady,
    ...(wakeAtSec !== undefined ? { wakeAtSec } : {}),
    drained: false,
    ...(completedTaskDefinition !== undefined ? { completedTaskDefinition } : {}),
  };
}

/**
 * Old deployments leave the array once none of their tasks is live (one whose tasks are still stopping stays,
 * ACTIVE); the PRIMARY one COMPLETES when the service is at full healthy strength on it alone.
 */
function settleDeployments(
  service: ServiceRecord,
  current: readonly DeploymentRecord[],
  live: readonly TaskRecord[],
  full: boolean,
  nowSec: number,
  events: string[],
): { deployments: DeploymentRecord[]; completedTaskDefinition?: string } {
  const stillLive = new Set(live.map((t) => t.startedBy));
  const deployments = current.filter((d, i) => i === 0 || stillLive.has(d.id)).map((d) => ({ ...d }));
  const primary = deployments[0]!;
  if (!full || deployments.length !== 1 || primary.rolloutState !== 'IN_PROGRESS') return { deployments };
  deployments[0] = { ...primary, rolloutState: 'COMPLETED', rolloutStateReason: `ECS deployment ${primary.id} completed.`, updatedAt: nowSec };
  events.push(`${label(service)} (deployment ${primary.id}) deployment completed.`);
  return { deployments, completedTaskDefinition: primary.taskDefinition };
}

/** ECS's event for the running tasks a pass stops (none when it stops only pending ones). */
function stoppedEvent(service: ServiceRecord, stop: readonly TaskToStop[]): string[] {
  const running = stop.filter((x) => x.task.lastStatus === 'RUNNING');
  return running.length === 0 ? [] : [`${label(service)} has stopped ${running.length} running tasks: ${running.map((x) => `(task ${taskId(x.task)})`).join(' ')}.`];
}

/**
 * DAEMON: one PRIMARY task on every ACTIVE instance that satisfies the constraints. Tasks on other instances, and
 * tasks of older deployments, go; an instance whose old task is still there gets its new one once that has stopped
 * when maximumPercent (default 100) leaves no room, and old tasks are stopped as far as minimumHealthyPercent
 * (default 0) allows.
 */
function decideDaemon(input: SchedulerInput, live: readonly TaskRecord[]): SchedulerPlan {
  const { service, nowSec, settleSec } = input;
  const events: string[] = [];
  const primary = service.deployments[0]!;
  const wanted = new Set(input.daemonInstances ?? []);
  const D = wanted.size;
  const maxTotal = Math.floor((D * service.deploymentConfiguration.maximumPercent) / 100);
  const minHealthy = Math.ceil((D * service.deploymentConfiguration.minimumHealthyPercent) / 100);
  const byInstance = new Map<string, TaskRecord[]>();
  for (const t of live) {
    const arn = t.containerInstanceArn ?? '';
    let list = byInstance.get(arn);
    if (!list) byInstance.set(arn, (list = []));
    list.push(t);
  }
  const stop: TaskToStop[] = [];
  let healthy = live.filter((t) => isHealthy(t, nowSec, settleSec)).length;
  let total = live.length;
  const startOn: string[] = [];
  // Tasks on instances that no longer want one go at once (there is nothing to keep at strength there).
  for (const [arn, tasks] of byInstance) {
    if (wanted.has(arn)) continue;
    for (const t of tasks) if (t.desiredStatus !== 'STOPPED') stop.push({ task: t, reason: `The container instance ${arn} no longer runs this daemon (not ACTIVE, or outside its placement constraints).` });
  }
  for (const arn of [...wanted].sort()) {
    const here = byInstance.get(arn) ?? [];
    const mine = here.filter((t) => t.startedBy === primary.id);
    const old = here.filter((t) => t.startedBy !== primary.id && t.desiredStatus !== 'STOPPED');
    if (mine.length === 0) {
      if (total < maxTotal || (maxTotal === 0 && D === 0)) {
        startOn.push(arn);
        total++;
      } else if (old.length > 0) {
        const t = old[0]!;
        const counts = isHealthy(t, nowSec, settleSec);
        if (!counts || healthy - 1 >= minHealthy) {
          stop.push({ task: t, reason: `Scaling activity initiated by (deployment ${primary.id})` });
          if (counts) healthy--;
        }
      }
    } else {
      for (const t of [...mine.slice(1), ...old]) {
        if (!isHealthy(t, nowSec, settleSec) || healthy - 1 >= minHealthy) {
          if (isHealthy(t, nowSec, settleSec)) healthy--;
          stop.push({ task: t, reason: `Scaling activity initiated by (deployment ${primary.id})` });
        }
      }
    }
  }
  events.push(...stoppedEvent(service, stop));
  const mineAll = live.filter((t) => t.startedBy === primary.id);
  const onlyPrimary = service.deployments.every((d, i) => i === 0 || !live.some((t) => t.startedBy === d.id));
  const full = startOn.length === 0 && stop.length === 0 && mineAll.length === D && mineAll.every((t) => isHealthy(t, nowSec, settleSec)) && onlyPrimary;
  const { deployments, completedTaskDefinition } = settleDeployments(service, service.deployments, live, full, nowSec, events);
  if (full) events.push(`${label(service)} has reached a steady state.`);
  return {
    start: 0,
    startOn,
    stop,
    scaleIn: 0,
    scaleInFrom: [],
    healthyBudget: 0,
    deployments,
    events,
    steady: full,
    drained: false,
    ...(completedTaskDefinition !== undefined ? { completedTaskDefinition } : {}),
  };
}
