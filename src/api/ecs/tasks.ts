/**
 * Tasks: RunTask, StartTask, StopTask, DescribeTasks, ListTasks; and the periodic removal of stopped tasks.
 *
 * RunTask and StartTask decide inside `catalog.transact`: the cluster's placement engine (src/placement/engine,
 * kept in step with instance and task records, in-flight commits included) places the tasks, and the decision
 * commits the new task records with each instance used rewritten with its `version` bumped and guarded at the
 * revision read, and the cluster and task definition guarded too. Launches in this process see each other's
 * tasks as soon as they are decided; a launch racing another writer (a replica) for an instance fails its guard
 * and decides again against the winner's tasks. So no instance is ever over-committed.
 *
 * Everything random (task ids, placement choices) is drawn before the decision, so a decision that runs again
 * after a lost race mints the same ids and, against the same state, makes the same choices.
 */
import type {
  DescribeTasksRequest,
  ListTasksRequest,
  RunTaskRequest,
  StartTaskRequest,
  StopTaskRequest,
} from '@aws-sdk/client-ecs';
import type { Arns } from '../../domain/arn.js';
import { Ecs } from '../../domain/errors.js';
import { Kind } from '../../domain/records.js';
import type { ContainerInstanceRecord } from '../../domain/records.js';
import type { TaskRecord } from '../../domain/task.js';
import { stopTask, TASK_STOPPED_BY_USER } from '../../domain/task-lifecycle.js';
import type { EngineAttempt } from '../../placement/engine/cluster-index.js';
import { combineConstraints, parseConstraints, parseStrategy, RUN_TASK_DEFAULT_STRATEGY } from '../../placement/options.js';
import type { PlacementFailure } from '../../placement/types.js';
import { checkOp, deleteOp, putOp } from '../../state/catalog.js';
import { clientTokenGroup, instanceKey, InstanceVersions, taskDefinitionKey, taskKey } from '../../state/ecs-state.js';
import type { Versioned } from '../../state/catalog.js';
import type { EcsState } from '../../state/ecs-state.js';
import type { WriteOp } from '../../store/types.js';
import { epochSeconds, seededRng } from '../../util/clock.js';
import { paginate } from '../pagination.js';
import { findInstance, instanceArnFor, parseInstanceRef } from './container-instances.js';
import type { EcsDeps } from './context.js';
import { activeCluster, clusterNameOf } from './resolve.js';
import { checkClientToken, launchDefinition, parseLaunch, prepareLaunch, requestDigest, writePlacedTasks } from './task-launch.js';
import type { LaunchWrites } from './task-launch.js';
import { familyOf, findTask, taskArnFor, taskView } from './task-view.js';
import type { WireTask } from './task-view.js';

const MAX_RUN_COUNT = 10;

/** ExplainPlacement's input (models/ecs.gantry.json). */
export type ExplainPlacementRequest = Pick<RunTaskRequest, 'cluster' | 'taskDefinition' | 'count' | 'group' | 'overrides' | 'placementConstraints' | 'placementStrategy'>;
const MAX_START_INSTANCES = 10;
const MAX_DESCRIBE = 100;
const MAX_STOP_REASON = 255;
/** [BC DescribeTasks]: "stopped tasks appear in the returned results for at least one hour". */
export const STOPPED_TASK_RETENTION_MS = 60 * 60 * 1000;

interface LaunchResult {
  readonly tasks: TaskRecord[];
  readonly failures: PlacementFailure[];
}

export class TaskOperations {
  constructor(private readonly deps: EcsDeps) {}

  RunTask = async (input: RunTaskRequest) => {
    const { state, arns, clock, rng } = this.deps;
    const count = input.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > MAX_RUN_COUNT) {
      throw Ecs.invalidParameter(`count must be between 1 and ${MAX_RUN_COUNT}; got ${count}.`);
    }
    const launch = parseLaunch(arns, input);
    checkLaunchType(input);
    const strategy = parseStrategy(input.placementStrategy, RUN_TASK_DEFAULT_STRATEGY);
    const requestConstraints = parseConstraints(input.placementConstraints);
    const clientToken = checkClientToken(input.clientToken);
    const digest = clientToken === undefined ? undefined : requestDigest(input);
    const ids = Array.from({ length: count }, () => rng.hex(16));
    const seed = Math.floor(rng.float() * 2 ** 32);
    const nowSec = epochSeconds(clock.now());

    const result = await state.catalog.transact((): { ops: WriteOp[]; result: LaunchResult } => {
      const clusterRead = activeCluster(state, arns, input.cluster);
      const cluster = clusterRead.value.clusterName;
      if (input.launchType === undefined && (input.capacityProviderStrategy ?? []).length === 0 && clusterRead.value.defaultCapacityProviderStrategy.length > 0) {
        throw Ecs.unsupportedFeature(
          `Cluster '${cluster}' has a default capacity provider strategy, which RunTask would use, and capacity providers are not supported by Gantry yet. Pass launchType EC2.`,
        );
      }
      if (clientToken !== undefined) {
        const prior = this.tokenTasks(cluster, clientToken);
        if (prior.length > 0) {
          if (prior.every((t) => t.requestDigest === digest)) return { ops: [], result: { tasks: prior, failures: [] } };
          throw Ecs.conflict(`The clientToken '${clientToken}' was already used for a different RunTask request; use a new token for a new request.`, {
            resourceIds: prior.map((t) => t.taskArn),
          });
        }
      }
      const defRead = launchDefinition(state, launch.definition);
      const prepared = prepareLaunch(launch, defRead.value, cluster);
      const constraints = combineConstraints(defRead.value.placementConstraints, requestConstraints);
      const engine = state.placement.cluster(cluster);
      if (engine.size === 0) throw Ecs.invalidParameter('No Container Instances were found in your cluster.');
      const attempts = engine.place({ demand: prepared.demand, count, group: prepared.group, strategy, constraints }, seededRng(seed));
      const built = this.build({ state, arns, cluster, launch, prepared, ids, nowSec, clientToken, requestDigest: digest }, attempts);
      if (built.ops.length > 0) built.ops.push(checkOp(Kind.cluster, cluster, clusterRead), checkOp(Kind.taskDefinition, taskDefinitionKey(defRead.value.family, defRead.value.revision), defRead));
      return built;
    });
    return { tasks: result.tasks.map((t) => taskView(t, { tags: true })), failures: result.failures };
  };

  /**
   * Gantry's extension (models/ecs.gantry.json): what RunTask would do with these placement options, and why —
   * for every instance, the stage that rejected it or how each strategy rule ranked it, and where `count` tasks
   * would go. Checks its input as RunTask does; changes nothing.
   */
  ExplainPlacement = async (input: ExplainPlacementRequest) => {
    const { state, arns, rng } = this.deps;
    const count = input.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > MAX_RUN_COUNT) {
      throw Ecs.invalidParameter(`count must be between 1 and ${MAX_RUN_COUNT}; got ${count}.`);
    }
    const launch = parseLaunch(arns, input);
    const strategy = parseStrategy(input.placementStrategy, RUN_TASK_DEFAULT_STRATEGY);
    const requestConstraints = parseConstraints(input.placementConstraints);
    const seed = Math.floor(rng.float() * 2 ** 32);
    const cluster = activeCluster(state, arns, input.cluster).value.clusterName;
    const def = launchDefinition(state, launch.definition).value;
    const prepared = prepareLaunch({ ...launch, hasNetworkConfiguration: (def.networkMode ?? 'bridge') === 'awsvpc' }, def, cluster);
    const constraints = combineConstraints(def.placementConstraints, requestConstraints);
    const engine = state.placement.cluster(cluster);
    if (engine.size === 0) throw Ecs.invalidParameter('No Container Instances were found in your cluster.');
    const explanation = engine.explain({ demand: prepared.demand, count, group: prepared.group, strategy, constraints }, seededRng(seed));
    return { cluster, taskDefinitionArn: def.taskDefinitionArn, demand: prepared.demand, ...explanation };
  };

  StartTask = async (input: StartTaskRequest) => {
    const { state, arns, clock, rng } = this.deps;
    const refs = input.containerInstances ?? [];
    if (refs.length < 1 || refs.length > MAX_START_INSTANCES) {
      throw Ecs.invalidParameter(`containerInstances must name 1 to ${MAX_START_INSTANCES} container instances; got ${refs.length}.`);
    }
    const launch = parseLaunch(arns, input);
    const ids = refs.map(() => rng.hex(16));
    const nowSec = epochSeconds(clock.now());

    const result = await state.catalog.transact((): { ops: WriteOp[]; result: LaunchResult } => {
      const clusterRead = activeCluster(state, arns, input.cluster);
      const cluster = clusterRead.value.clusterName;
      const defRead = launchDefinition(state, launch.definition);
      const prepared = prepareLaunch(launch, defRead.value, cluster);
      // StartTask names its instances, deregistered ones included: those fail as INACTIVE rather than MISSING.
      const targets: (string | PlacementFailure)[] = refs.map((ref) => {
        const found = findInstance(state, arns, cluster, ref);
        if (!found) return { arn: instanceArnFor(arns, cluster, ref), reason: 'MISSING' };
        if (found.value.status === 'INACTIVE') {
          return { arn: found.value.containerInstanceArn, reason: 'INACTIVE', detail: 'The container instance is deregistered (INACTIVE); only ACTIVE instances take new tasks.' };
        }
        return found.value.containerInstanceArn;
      });
      const placeable = targets.filter((t): t is string => typeof t === 'string');
      const placed = placeable.length === 0 ? [] : state.placement.cluster(cluster).placeOn(placeable, prepared.demand, prepared.group);
      const attempts: EngineAttempt[] = targets.map((t) => (typeof t === 'string' ? placed.shift()! : { failure: t }));
      const built = this.build({ state, arns, cluster, launch, prepared, ids, nowSec }, attempts);
      if (built.ops.length > 0) built.ops.push(checkOp(Kind.cluster, cluster, clusterRead), checkOp(Kind.taskDefinition, taskDefinitionKey(defRead.value.family, defRead.value.revision), defRead));
      return built;
    });
    return { tasks: result.tasks.map((t) => taskView(t, { tags: true })), failures: result.failures };
  };

  StopTask = async (input: StopTaskRequest): Promise<{ task: WireTask }> => {
    const { state, arns, clock } = this.deps;
    const reason = input.reason ?? TASK_STOPPED_BY_USER;
    if (reason.length > MAX_STOP_REASON) throw Ecs.invalidParameter(`reason can be at most ${MAX_STOP_REASON} characters; got ${reason.length}.`);
    const ref = input.task ?? '';
    const nowSec = epochSeconds(clock.now());
    const record = await state.catalog.transact(() => {
      const clusterRead = activeCluster(state, arns, input.cluster);
      const cluster = clusterRead.value.clusterName;
      const cur = findTask(state, arns, cluster, ref);
      if (!cur) throw Ecs.invalidParameter(`The referenced task was not found: '${ref}' in cluster '${cluster}'.`);
      const next = stopTask(cur.value, 'UserInitiated', reason, nowSec);
      // Stopping twice is not an error: the first stop stands and the task is returned as it is.
      if (!next) return { ops: [], result: cur.value };
      // The instance's resources change with the stop request, and ECS counts that as a change of the instance.
      const versions = new InstanceVersions(state, cluster);
      const instanceVersion = versions.next(next.containerInstanceArn);
      if (instanceVersion !== undefined) next.instanceVersion = instanceVersion;
      const ops: WriteOp[] = [checkOp(Kind.cluster, cluster, clusterRead), putOp(Kind.task, taskKey(cluster, next.id), next, cur), ...versions.ops()];
      return { ops, result: next };
    });
    return { task: taskView(record, { tags: true }) };
  };

  DescribeTasks = async (input: DescribeTasksRequest) => {
    const { state, arns } = this.deps;
    const refs = input.tasks ?? [];
    if (refs.length < 1 || refs.length > MAX_DESCRIBE) throw Ecs.invalidParameter(`tasks must name 1 to ${MAX_DESCRIBE} tasks, by ID or full ARN; got ${refs.length}.`);
    const cluster = describableCluster(state, arns, input.cluster);
    const tags = (input.include ?? []).includes('TAGS');
    const tasks: WireTask[] = [];
    const failures: PlacementFailure[] = [];
    for (const ref of refs) {
      const found = findTask(state, arns, cluster, ref);
      if (found) tasks.push(taskView(found.value, { tags }));
      else failures.push({ arn: taskArnFor(arns, cluster, ref), reason: 'MISSING' });
    }
    return { tasks, failures };
  };

  ListTasks = async (input: ListTasksRequest) => {
    const { state, arns } = this.deps;
    if (input.startedBy !== undefined && (input.containerInstance !== undefined || input.family !== undefined || input.serviceName !== undefined)) {
      throw Ecs.invalidParameter('startedBy must be the only filter when used: it cannot be combined with containerInstance, family or serviceName.');
    }
    if (input.daemonName !== undefined) throw Ecs.unsupportedFeature('daemonName: ECS Managed Instances daemons are not supported by Gantry.');
    const cluster = activeCluster(state, arns, input.cluster).value.clusterName;
    const desired = input.desiredStatus ?? 'RUNNING';
    let instanceArn: string | undefined;
    if (input.containerInstance !== undefined) {
      const found = findInstance(state, arns, cluster, input.containerInstance);
      if (!found) {
        throw Ecs.invalidParameter(
          parseInstanceRef(arns, input.containerInstance)
            ? `The referenced container instance '${input.containerInstance}' was not found in cluster '${cluster}'.`
            : `containerInstance '${input.containerInstance}' is neither a container instance ID nor a container instance ARN.`,
        );
      }
      instanceArn = found.value.containerInstanceArn;
    }
    if (input.serviceName !== undefined && !state.catalog.get(Kind.service, `${cluster}/${input.serviceName}`)) {
      throw Ecs.serviceNotFound(`Service not found: '${input.serviceName}' in cluster '${cluster}'.`);
    }
    const matches: TaskRecord[] = [];
    for (const key of state.tasksByCluster.keys(cluster)) {
      const t = state.catalog.get<TaskRecord>(Kind.task, key)?.value;
      if (!t || t.desiredStatus !== desired) continue;
      if (instanceArn !== undefined && t.containerInstanceArn !== instanceArn) continue;
      if (input.family !== undefined && familyOf(t) !== input.family) continue;
      if (input.serviceName !== undefined && t.serviceName !== input.serviceName) continue;
      if (input.startedBy !== undefined && t.startedBy !== input.startedBy) continue;
      if (input.launchType !== undefined && t.launchType !== input.launchType) continue;
      matches.push(t);
    }
    const scope = `ListTasks:${JSON.stringify([cluster, desired, instanceArn, input.family, input.serviceName, input.startedBy, input.launchType])}`;
    const page = paginate(matches, listKey, input, { defaultSize: 100, maxSize: 100, scope }, Ecs.invalidParameter);
    return { taskArns: page.items.map((t) => t.taskArn), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  };

  private tokenTasks(cluster: string, token: string): TaskRecord[] {
    const { state } = this.deps;
    const out: TaskRecord[] = [];
    for (const key of state.tasksByClientToken.keys(clientTokenGroup(cluster, token))) {
      const t = state.catalog.get<TaskRecord>(Kind.task, key)?.value;
      if (t) out.push(t);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.taskArn < b.taskArn ? -1 : 1));
  }

  /** Task records for the placed attempts, and the writes: new tasks, and each instance used with its version bumped. */
  private build(w: LaunchWrites, attempts: readonly EngineAttempt[]): { ops: WriteOp[]; result: LaunchResult } {
    const ops: WriteOp[] = [];
    const versions = new InstanceVersions(w.state, w.cluster);
    const result = writePlacedTasks(w, attempts, ops, versions);
    ops.push(...versions.ops());
    return { ops, result };
  }
}

/**
 * Removes STOPPED tasks whose stop is older than `retentionMs` (ECS keeps them visible "for at least one
 * hour"). Run periodically by the server; returns how many were removed.
 */
export async function reapStoppedTasks(state: EcsState, nowMs: number, retentionMs = STOPPED_TASK_RETENTION_MS): Promise<number> {
  const cutoffSec = epochSeconds(nowMs - retentionMs);
  const expired: string[] = [];
  for (const [key, v] of state.catalog.all<TaskRecord>(Kind.task)) {
    if (v.value.lastStatus === 'STOPPED' && (v.value.stoppedAt ?? 0) <= cutoffSec) expired.push(key);
  }
  if (expired.length === 0) return 0;
  return state.catalog.transact(() => {
    const ops: WriteOp[] = [];
    // An instance whose version a removed task carries keeps it in its own record, so it never goes back.
    const keepVersion = new Map<string, Versioned<ContainerInstanceRecord>>();
    for (const key of expired) {
      // Read again inside the decision: the record may have changed since the scan.
      const cur = state.catalog.get<TaskRecord>(Kind.task, key);
      if (!cur || cur.value.lastStatus !== 'STOPPED' || (cur.value.stoppedAt ?? 0) > cutoffSec) continue;
      ops.push(deleteOp(Kind.task, key, cur));
      const { containerInstanceArn, instanceVersion, cluster } = cur.value;
      if (containerInstanceArn === undefined || instanceVersion === undefined || keepVersion.has(containerInstanceArn)) continue;
      const instance = state.instanceByArn(cluster, containerInstanceArn);
      if (instance && instanceVersion > instance.value.version) keepVersion.set(containerInstanceArn, instance);
    }
    const removed = ops.length;
    for (const read of keepVersion.values()) {
      ops.push(putOp(Kind.containerInstance, instanceKey(read.value.cluster, read.value.id), { ...read.value, version: state.latestInstanceVersion(read.value) }, read));
    }
    return { ops, result: removed };
  });
}

/** RunTask's launch type: EC2 only for now, named or by default. */
function checkLaunchType(input: RunTaskRequest): void {
  const cps = input.capacityProviderStrategy ?? [];
  if (input.launchType !== undefined && cps.length > 0) {
    throw Ecs.invalidParameter('Specifying both a launchType and capacityProviderStrategy is not supported. Remove one and try again.');
  }
  if (cps.length > 0) throw Ecs.unsupportedFeature('capacityProviderStrategy is not supported by Gantry yet; pass launchType EC2 (or omit both).');
  if (input.launchType !== undefined && input.launchType !== 'EC2') {
    throw Ecs.unsupportedFeature(`launchType ${input.launchType} is not supported by Gantry yet; tasks run on the cluster's EC2-style container instances (launchType EC2).`);
  }
}

/** DescribeTasks still shows the tasks of a deleted (INACTIVE) cluster; only an unknown one is missing. */
function describableCluster(state: EcsState, arns: Arns, ref: string | undefined): string {
  const name = clusterNameOf(arns, ref);
  if (name === undefined || !state.cluster(name)) throw Ecs.clusterNotFound('Cluster not found.');
  return name;
}

/** Oldest first, then by ID: a stable order for paging. */
const listKey = (t: TaskRecord) => `${String(Math.round(t.createdAt * 1000)).padStart(15, '0')}/${t.id}`;
