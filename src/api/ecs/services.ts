/**
 * Services: CreateService, DescribeServices, ListServices, UpdateService, DeleteService. These record what the
 * user wants; the service controller (src/services/controller.ts) makes it so. Which UpdateService changes start a
 * new deployment follows the model's member documentation (ECS-SEMANTICS.md §3.3): a task definition or
 * forceNewDeployment does; desiredCount, deployment configuration, placement, grace period, tags settings and
 * execute-command do not.
 */
import type {
  CreateServiceRequest,
  DeleteServiceRequest,
  DeploymentConfiguration,
  DescribeServiceDeploymentsRequest,
  DescribeServicesRequest,
  GetTaskProtectionRequest,
  ListServiceDeploymentsRequest,
  ListServicesRequest,
  StopServiceDeploymentRequest,
  UpdateTaskProtectionRequest,
  UpdateServiceRequest,
} from '@aws-sdk/client-ecs';
import type { Arns } from '../../domain/arn.js';
import { Ecs } from '../../domain/errors.js';
import { Kind } from '../../domain/records.js';
import type { ClusterRecord } from '../../domain/records.js';
import { deploymentId, serviceKey, withDeploymentStarted, withHistory } from '../../domain/service.js';
import type { DeploymentRecord, ServiceDeploymentRecord, ServiceRecord } from '../../domain/service.js';
import { validateTags } from '../../domain/tags.js';
import type { TaskRecord } from '../../domain/task.js';
import { parseConstraints, parseStrategy, SERVICE_DEFAULT_STRATEGY } from '../../placement/options.js';
import { checkOp, putOp } from '../../state/catalog.js';
import type { Versioned } from '../../state/catalog.js';
import { taskDefinitionKey } from '../../state/ecs-state.js';
import type { EcsState } from '../../state/ecs-state.js';
import type { WriteOp } from '../../store/types.js';
import { epochSeconds } from '../../util/clock.js';
import { circuitBreakerThreshold, failedTask, isLive } from '../../services/scheduler.js';
import { paginate } from '../pagination.js';
import type { EcsDeps, RequestContext } from './context.js';
import { activeCluster, clusterNameOf } from './resolve.js';
import { launchDefinition } from './task-launch.js';
import { parseTaskDefinitionRef } from './task-definitions.js';
import { findTask, taskArnFor } from './task-view.js';

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;
const MAX_DESCRIBE = 10;

export class ServiceOperations {
  constructor(private readonly deps: EcsDeps) {}

  CreateService = async (input: CreateServiceRequest, ctx: RequestContext) => {
    const { state, arns, clock, rng } = this.deps;
    const name = input.serviceName ?? '';
    if (!SERVICE_NAME.test(name)) {
      throw Ecs.invalidParameter('serviceName must be 1-255 letters (uppercase and lowercase), numbers, underscores and hyphens, starting with a letter or number.');
    }
    unsupported(input);
    const scheduling = input.schedulingStrategy ?? 'REPLICA';
    if (scheduling === 'DAEMON') {
      if (input.desiredCount !== undefined) throw Ecs.invalidParameter('The daemon scheduling strategy does not support a desired count for services.');
      if ((input.placementStrategy?.length ?? 0) > 0) throw Ecs.invalidParameter('The daemon scheduling strategy does not support placement strategies.');
    } else {
      if (input.desiredCount === undefined) throw Ecs.invalidParameter('desiredCount is required for a service with schedulingStrategy REPLICA.');
      checkDesired(input.desiredCount);
    }
    const definitionRef = parseTaskDefinitionRef(arns, input.taskDefinition ?? '');
    const deploymentConfiguration = checkDeploymentConfiguration(input.deploymentConfiguration, undefined, scheduling);
    parseStrategy(input.placementStrategy, SERVICE_DEFAULT_STRATEGY);
    parseConstraints(input.placementConstraints);
    const tags = validateTags(input.tags);
    const grace = checkGrace(input.healthCheckGracePeriodSeconds) ?? 0;
    const nowSec = epochSeconds(clock.now());
    const id = deploymentId(rng.hex(8));

    const record = await state.catalog.transact(() => {
      const clusterRead = activeCluster(state, arns, input.cluster);
      const cluster = clusterRead.value.clusterName;
      const key = serviceKey(cluster, name);
      const existing = state.catalog.get<ServiceRecord>(Kind.service, key);
      if (existing && existing.value.status !== 'INACTIVE') {
        if (input.clientToken !== undefined && existing.value.clientToken === input.clientToken) return { ops: [], result: existing.value };
        throw Ecs.invalidParameter('Creation of service was not idempotent.');
      }
      const def = launchDefinition(state, definitionRef).value;
      if (def.networkMode === 'awsvpc' && input.networkConfiguration === undefined) {
        throw Ecs.invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
      }
      const deployment: DeploymentRecord = {
        id,
        status: 'PRIMARY',
        taskDefinition: def.taskDefinitionArn,
        createdAt: nowSec,
        updatedAt: nowSec,
        rolloutState: 'IN_PROGRESS',
        rolloutStateReason: 'ECS deployment ' + id + ' in progress.',
      };
      const value: ServiceRecord = {
        cluster,
        serviceName: name,
        serviceArn: arns.service(cluster, name),
        clusterArn: arns.cluster(cluster),
        status: 'ACTIVE',
        desiredCount: input.desiredCount ?? 0,
        launchType: 'EC2',
        taskDefinition: def.taskDefinitionArn,
        deploymentConfiguration,
        deployments: [deployment],
        placementConstraints: input.placementConstraints ?? [],
        placementStrategy: input.placementStrategy ?? [],
        healthCheckGracePeriodSeconds: grace,
        schedulingStrategy: scheduling,
        deploymentController: { type: 'ECS' },
        tags,
        enableECSManagedTags: input.enableECSManagedTags === true,
        propagateTags: input.propagateTags ?? 'NONE',
        enableExecuteCommand: input.enableExecuteCommand === true,
        availabilityZoneRebalancing: input.availabilityZoneRebalancing ?? 'ENABLED',
        createdAt: nowSec,
        createdBy: ctx.principalArn,
        events: [],
        ...(input.clientToken !== undefined ? { clientToken: input.clientToken } : {}),
      };
      value.history = withDeploymentStarted({ ...value, deployments: [] }, deployment, nowSec);
      const ops: WriteOp[] = [
        checkOp(Kind.cluster, cluster, clusterRead),
        checkOp(Kind.taskDefinition, taskDefinitionKey(def.family, def.revision), state.catalog.get(Kind.taskDefinition, taskDefinitionKey(def.family, def.revision))),
        putOp(Kind.service, key, value, existing),
      ];
      return { ops, result: value };
    });
    return { service: serviceView(this.deps.state, record, { tags: true }) };
  };

  DescribeServices = async (input: DescribeServicesRequest) => {
    const { state, arns } = this.deps;
    const refs = input.services ?? [];
    if (refs.length < 1 || refs.length > MAX_DESCRIBE) throw Ecs.invalidParameter(`services must name 1 to ${MAX_DESCRIBE} services; got ${refs.length}.`);
    const name = clusterNameOf(arns, input.cluster);
    const cluster = name === undefined ? undefined : state.cluster(name);
    if (!cluster) throw Ecs.clusterNotFound('Cluster not found.');
    const tags = (input.include ?? []).includes('TAGS');
    const services = [];
    const failures = [];
    for (const ref of refs) {
      const s = findService(state, arns, cluster.value, ref);
      if (s) services.push(serviceView(state, s.value, { tags }));
      else failures.push({ arn: ref.startsWith('arn:') ? ref : arns.service(cluster.value.clusterName, ref), reason: 'MISSING' });
    }
    return { services, failures };
  };

  ListServices = async (input: ListServicesRequest) => {
    const { state, arns } = this.deps;
    const cluster = activeCluster(state, arns, input.cluster).value.clusterName;
    const matches: ServiceRecord[] = [];
    for (const key of state.servicesByCluster.keys(cluster)) {
      const s = state.catalog.get<ServiceRecord>(Kind.service, key)?.value;
      if (!s || s.status !== 'ACTIVE') continue;
      if (input.launchType !== undefined && s.launchType !== input.launchType) continue;
      if (input.schedulingStrategy !== undefined && s.schedulingStrategy !== input.schedulingStrategy) continue;
      matches.push(s);
    }
    const scope = `ListServices:${JSON.stringify([cluster, input.launchType, input.schedulingStrategy])}`;
    const page = paginate(matches, (s) => s.serviceName, input, { defaultSize: 10, maxSize: 100, scope }, Ecs.invalidParameter);
    return { serviceArns: page.items.map((s) => s.serviceArn), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  };

  UpdateService = async (input: UpdateServiceRequest) => {
    const { state, arns, clock, rng } = this.deps;
    unsupported(input);
    if (input.desiredCount !== undefined) checkDesired(input.desiredCount);
    if (input.capacityProviderStrategy !== undefined && input.capacityProviderStrategy.length > 0) {
      throw Ecs.unsupportedFeature('capacityProviderStrategy is not supported by Gantry yet.');
    }
    const definitionRef = input.taskDefinition === undefined ? undefined : parseTaskDefinitionRef(arns, input.taskDefinition);
    if (input.placementStrategy !== undefined) parseStrategy(input.placementStrategy, SERVICE_DEFAULT_STRATEGY);
    if (input.placementConstraints !== undefined) parseConstraints(input.placementConstraints);
    const grace = checkGrace(input.healthCheckGracePeriodSeconds);
    const nowSec = epochSeconds(clock.now());
    const id = deploymentId(rng.hex(8));

    const record = await state.catalog.transact(() => {
      const clusterRead = activeCluster(state, arns, input.cluster);
      const cur = findService(state, arns, clusterRead.value, input.service ?? '');
      if (!cur) throw Ecs.serviceNotFound('Service not found.');
      if (cur.value.status !== 'ACTIVE') throw Ecs.serviceNotActive('Service was not ACTIVE.');
      const next: ServiceRecord = { ...cur.value };
      if (input.desiredCount !== undefined) {
        if (cur.value.schedulingStrategy === 'DAEMON') throw Ecs.invalidParameter('The daemon scheduling strategy does not support a desired count for services.');
        next.desiredCount = input.desiredCount;
      }
      if (input.deploymentConfiguration !== undefined) {
        next.deploymentConfiguration = checkDeploymentConfiguration(input.deploymentConfiguration, cur.value.deploymentConfiguration, cur.value.schedulingStrategy);
      }
      if (cur.value.schedulingStrategy === 'DAEMON' && (input.placementStrategy?.length ?? 0) > 0) {
        throw Ecs.invalidParameter('The daemon scheduling strategy does not support placement strategies.');
      }
      // Omitted keeps the current placement; an empty list removes it [BC UpdateServiceRequest].
      if (input.placementStrategy !== undefined) next.placementStrategy = input.placementStrategy;
      if (input.placementConstraints !== undefined) next.placementConstraints = input.placementConstraints;
      if (grace !== undefined) next.healthCheckGracePeriodSeconds = grace;
      if (input.enableExecuteCommand !== undefined) next.enableExecuteCommand = input.enableExecuteCommand;
      if (input.enableECSManagedTags !== undefined) next.enableECSManagedTags = input.enableECSManagedTags;
      if (input.propagateTags !== undefined) next.propagateTags = input.propagateTags;
      if (input.availabilityZoneRebalancing !== undefined) next.availabilityZoneRebalancing = input.availabilityZoneRebalancing;
      const ops: WriteOp[] = [checkOp(Kind.cluster, clusterRead.value.clusterName, clusterRead)];
      let taskDefinition = cur.value.taskDefinition;
      if (definitionRef !== undefined) {
        const def = launchDefinition(state, definitionRef);
        taskDefinition = def.value.taskDefinitionArn;
        ops.push(checkOp(Kind.taskDefinition, taskDefinitionKey(def.value.family, def.value.revision), def));
      }
      if (taskDefinition !== cur.value.taskDefinition || input.forceNewDeployment === true) {
        const deployment: DeploymentRecord = { id, status: 'PRIMARY', taskDefinition, createdAt: nowSec, updatedAt: nowSec, rolloutState: 'IN_PROGRESS', rolloutStateReason: `ECS deployment ${id} in progress.` };
        next.taskDefinition = taskDefinition;
        next.history = withDeploymentStarted(cur.value, deployment, nowSec);
        next.deployments = [deployment, ...cur.value.deployments.map((d) => ({ ...d, status: 'ACTIVE' as const }))];
      }
      ops.push(putOp(Kind.service, serviceKey(cur.value.cluster, cur.value.serviceName), next, cur));
      return { ops, result: next };
    });
    return { service: serviceView(state, record, { tags: false }) };
  };

  ListServiceDeployments = async (input: ListServiceDeploymentsRequest) => {
    const { state, arns } = this.deps;
    const clusterRead = activeCluster(state, arns, input.cluster);
    const s = findService(state, arns, clusterRead.value, input.service ?? '');
    if (!s) throw Ecs.serviceNotFound('Service not found.');
    const statuses = input.status ?? [];
    const after = input.createdAt?.after === undefined ? undefined : epochOf(input.createdAt.after);
    const before = input.createdAt?.before === undefined ? undefined : epochOf(input.createdAt.before);
    const history = s.value.history ?? [];
    // Newest first, as the history is kept; the key is the entry's place counted from the oldest, which new
    // deployments (prepended) do not change, so page tokens stay valid.
    const matches = history
      .map((h, i) => ({ h, key: String(99_999 - (history.length - 1 - i)).padStart(5, '0') }))
      .filter(({ h }) => (statuses.length === 0 || statuses.includes(h.status)) && (after === undefined || h.createdAt >= after) && (before === undefined || h.createdAt <= before));
    const scope = `ListServiceDeployments:${s.value.serviceArn}:${JSON.stringify([statuses, after, before])}`;
    const page = paginate(matches, (m) => m.key, input, { defaultSize: 20, maxSize: 100, scope }, Ecs.invalidParameter);
    return {
      serviceDeployments: page.items.map(({ h }) => ({
        serviceDeploymentArn: serviceDeploymentArn(arns, s.value, h.id),
        serviceArn: s.value.serviceArn,
        clusterArn: s.value.clusterArn,
        startedAt: h.createdAt,
        createdAt: h.createdAt,
        ...(h.finishedAt !== undefined ? { finishedAt: h.finishedAt } : {}),
        targetServiceRevisionArn: serviceRevisionArn(arns, s.value, h.id),
        status: h.status,
        statusReason: h.statusReason,
      })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  };

  DescribeServiceDeployments = async (input: DescribeServiceDeploymentsRequest) => {
    const { state, arns } = this.deps;
    const refs = input.serviceDeploymentArns ?? [];
    if (refs.length < 1 || refs.length > 20) throw Ecs.invalidParameter(`serviceDeploymentArns must name 1 to 20 service deployments; got ${refs.length}.`);
    const serviceDeployments = [];
    const failures = [];
    for (const arn of refs) {
      const found = findServiceDeployment(state, arns, arn);
      if (!found) {
        failures.push({ arn, reason: 'MISSING' });
        continue;
      }
      const { service: s, entry: h } = found;
      const tasks = state.serviceTasks(s.cluster, s.serviceName);
      const revision = (id: string, requested: number) => {
        const mine = tasks.filter((t) => t.startedBy === id && isLive(t));
        return { arn: serviceRevisionArn(arns, s, id), requestedTaskCount: requested, runningTaskCount: mine.filter((t) => t.lastStatus === 'RUNNING').length, pendingTaskCount: mine.filter((t) => t.lastStatus !== 'RUNNING').length };
      };
      const failedTasks = tasks.filter((t) => t.startedBy === h.id && failedTask(t)).length;
      const breaker = s.deploymentConfiguration.deploymentCircuitBreaker;
      serviceDeployments.push({
        serviceDeploymentArn: serviceDeploymentArn(arns, s, h.id),
        serviceArn: s.serviceArn,
        clusterArn: s.clusterArn,
        createdAt: h.createdAt,
        startedAt: h.createdAt,
        updatedAt: h.updatedAt,
        ...(h.finishedAt !== undefined ? { finishedAt: h.finishedAt } : {}),
        sourceServiceRevisions: h.sources.map((x) => revision(x.id, 0)),
        targetServiceRevision: revision(h.id, h.status === 'IN_PROGRESS' ? s.desiredCount : revision(h.id, 0).runningTaskCount),
        status: h.status,
        statusReason: h.statusReason,
        deploymentConfiguration: s.deploymentConfiguration,
        ...(h.rollback ? { rollback: { reason: h.rollback.reason, startedAt: h.rollback.startedAt, serviceRevisionArn: serviceRevisionArn(arns, s, h.rollback.toDeployment) } } : {}),
        deploymentCircuitBreaker: {
          status: !breaker.enable ? 'DISABLED' : h.status === 'ROLLBACK_IN_PROGRESS' || h.status === 'ROLLBACK_SUCCESSFUL' || h.status === 'STOPPED' ? 'TRIGGERED' : 'MONITORING',
          failureCount: failedTasks,
          threshold: circuitBreakerThreshold(s.desiredCount),
        },
      });
    }
    return { serviceDeployments, failures };
  };

  /** Stops a deployment in progress by rolling back to the last COMPLETED one (stopType ROLLBACK, the default). */
  StopServiceDeployment = async (input: StopServiceDeploymentRequest) => {
    const { state, arns, clock, rng } = this.deps;
    if (input.stopType !== undefined && input.stopType !== 'ROLLBACK') throw Ecs.unsupportedFeature(`stopType ${input.stopType} is not supported by Gantry; ROLLBACK is.`);
    const nowSec = epochSeconds(clock.now());
    const id = deploymentId(rng.hex(8));
    const arn = input.serviceDeploymentArn ?? '';
    return state.catalog.transact(() => {
      const found = findServiceDeployment(state, arns, arn);
      if (!found) throw Ecs.client(`The service deployment ${arn} was not found.`);
      const { service: s, entry } = found;
      const read = state.catalog.get<ServiceRecord>(Kind.service, serviceKey(s.cluster, s.serviceName))!;
      if (s.status !== 'ACTIVE') throw Ecs.serviceNotActive('Service was not ACTIVE.');
      if (entry.status !== 'IN_PROGRESS' || s.deployments[0]?.id !== entry.id) {
        throw Ecs.conflict(`The service deployment is ${entry.status}; only the deployment in progress can be stopped.`, {});
      }
      const target = s.lastCompletedTaskDefinition;
      if (target === undefined) throw Ecs.invalidParameter('The service has no completed deployment to roll back to.');
      const deployment: DeploymentRecord = { id, status: 'PRIMARY', taskDefinition: target, createdAt: nowSec, updatedAt: nowSec, rolloutState: 'IN_PROGRESS', rolloutStateReason: `ECS deployment ${id} in progress (rollback).` };
      const next: ServiceRecord = { ...s, taskDefinition: target };
      next.history = withHistory(
        { ...s, history: withDeploymentStarted(s, deployment, nowSec, entry.id) },
        entry.id,
        { status: 'ROLLBACK_IN_PROGRESS', statusReason: 'Stopped by StopServiceDeployment: rolling back.', updatedAt: nowSec, rollback: { reason: 'StopServiceDeployment', startedAt: nowSec, toDeployment: id } },
      );
      next.deployments = [deployment, ...s.deployments.map((d) => ({ ...d, status: 'ACTIVE' as const }))];
      return { ops: [putOp(Kind.service, serviceKey(s.cluster, s.serviceName), next, read)], result: { serviceDeploymentArn: arn } };
    });
  };

  /** Scale-in protection of service tasks [BC UpdateTaskProtection]: 1–2880 minutes (default 120). */
  UpdateTaskProtection = async (input: UpdateTaskProtectionRequest) => {
    const { state, arns, clock } = this.deps;
    const refs = input.tasks ?? [];
    if (refs.length < 1 || refs.length > 10) throw Ecs.invalidParameter(`tasks must name 1 to 10 tasks; got ${refs.length}.`);
    const minutes = input.expiresInMinutes ?? 120;
    if (input.protectionEnabled === true && (!Number.isInteger(minutes) || minutes < 1 || minutes > 2880)) {
      throw Ecs.invalidParameter(`expiresInMinutes must be 1 to 2880; got ${minutes}.`);
    }
    const nowSec = epochSeconds(clock.now());
    return state.catalog.transact(() => {
      const cluster = activeCluster(state, arns, input.cluster).value.clusterName;
      const ops: WriteOp[] = [];
      const protectedTasks = [];
      const failures = [];
      for (const ref of refs) {
        const cur = findTask(state, arns, cluster, ref);
        if (!cur) {
          failures.push({ arn: taskArnFor(arns, cluster, ref), reason: 'MISSING' });
          continue;
        }
        if (cur.value.serviceName === undefined || cur.value.lastStatus === 'STOPPED') {
          failures.push({ arn: cur.value.taskArn, reason: 'TASK_NOT_VALID', detail: 'The task is not part of a service, or has stopped: only running service tasks can be protected.' });
          continue;
        }
        const next: TaskRecord = { ...cur.value, version: cur.value.version + 1 };
        if (input.protectionEnabled === true) next.protectedUntil = nowSec + minutes * 60;
        else delete next.protectedUntil;
        ops.push(putOp(Kind.task, `${cluster}/${next.id}`, next, cur));
        protectedTasks.push(protectionOf(next, nowSec));
      }
      return { ops, result: { protectedTasks, failures } };
    });
  };

  GetTaskProtection = async (input: GetTaskProtectionRequest) => {
    const { state, arns, clock } = this.deps;
    const nowSec = epochSeconds(clock.now());
    const cluster = activeCluster(state, arns, input.cluster).value.clusterName;
    const refs = input.tasks ?? [];
    if (refs.length > 100) throw Ecs.invalidParameter(`tasks can name at most 100 tasks; got ${refs.length}.`);
    const protectedTasks = [];
    const failures = [];
    for (const ref of refs) {
      const cur = findTask(state, arns, cluster, ref);
      if (!cur) failures.push({ arn: taskArnFor(arns, cluster, ref), reason: 'MISSING' });
      else if (cur.value.serviceName === undefined) failures.push({ arn: cur.value.taskArn, reason: 'TASK_NOT_VALID', detail: 'The task is not part of a service.' });
      else protectedTasks.push(protectionOf(cur.value, nowSec));
    }
    return { protectedTasks, failures };
  };

  DeleteService = async (input: DeleteServiceRequest) => {
    const { state, arns } = this.deps;
    const record = await state.catalog.transact(() => {
      const clusterRead = activeCluster(state, arns, input.cluster);
      const cur = findService(state, arns, clusterRead.value, input.service ?? '');
      if (!cur) throw Ecs.serviceNotFound('Service not found.');
      if (cur.value.status !== 'ACTIVE') return { ops: [], result: cur.value };
      if (cur.value.desiredCount > 0 && input.force !== true) {
        throw Ecs.invalidParameter('The service cannot be stopped while it is scaled above 0. Set desiredCount to 0 first, or pass force.');
      }
      const next: ServiceRecord = { ...cur.value, status: 'DRAINING', desiredCount: 0 };
      return { ops: [putOp(Kind.service, serviceKey(cur.value.cluster, cur.value.serviceName), next, cur)], result: next };
    });
    return { service: serviceView(state, record, { tags: false }) };
  };
}

function epochOf(v: unknown): number {
  return v instanceof Date ? v.getTime() / 1000 : Number(v);
}

/** The ARNs of a deployment (`ecs-svc/<digits>`) and of the service revision it deploys end in its digits. */
const digitsOf = (id: string): string => id.slice(id.indexOf('/') + 1);
const serviceDeploymentArn = (arns: Arns, s: ServiceRecord, id: string): string => arns.serviceDeployment(s.cluster, s.serviceName, digitsOf(id));
const serviceRevisionArn = (arns: Arns, s: ServiceRecord, id: string): string => arns.serviceRevision(s.cluster, s.serviceName, digitsOf(id));

function findServiceDeployment(state: EcsState, arns: Arns, arn: string): { service: ServiceRecord; entry: ServiceDeploymentRecord } | undefined {
  const p = arns.own(arn);
  if (!p || p.resourceType !== 'service-deployment') return undefined;
  const [cluster, name, digits] = p.resource.split('/');
  if (cluster === undefined || name === undefined || digits === undefined) return undefined;
  const s = state.catalog.get<ServiceRecord>(Kind.service, serviceKey(cluster, name))?.value;
  const entry = s?.history?.find((h) => h.id === `ecs-svc/${digits}`);
  return s && entry ? { service: s, entry } : undefined;
}

function protectionOf(t: TaskRecord, nowSec: number) {
  const on = t.protectedUntil !== undefined && t.protectedUntil > nowSec;
  return { taskArn: t.taskArn, protectionEnabled: on, ...(on ? { expirationDate: t.protectedUntil } : {}) };
}

function unsupported(input: CreateServiceRequest | UpdateServiceRequest): void {
  const lists: [string, unknown[] | undefined][] = [
    ['loadBalancers', input.loadBalancers],
    ['serviceRegistries', input.serviceRegistries],
    ['volumeConfigurations', input.volumeConfigurations],
    ['vpcLatticeConfigurations', input.vpcLatticeConfigurations],
  ];
  for (const [name, v] of lists) if ((v?.length ?? 0) > 0) throw Ecs.unsupportedFeature(`${name} are not supported by Gantry yet.`);
  if (input.serviceConnectConfiguration?.enabled === true) throw Ecs.unsupportedFeature('Service Connect is not supported by Gantry yet.');
  if ('launchType' in input && input.launchType !== undefined && input.launchType !== 'EC2') {
    throw Ecs.unsupportedFeature(`launchType ${input.launchType} is not supported by Gantry yet; services run on the cluster's container instances (EC2).`);
  }
  if ('launchType' in input && input.launchType !== undefined && (input.capacityProviderStrategy?.length ?? 0) > 0) {
    throw Ecs.invalidParameter('Specifying both a launchType and capacityProviderStrategy is not supported. Remove one and try again.');
  }
  if ((input.capacityProviderStrategy?.length ?? 0) > 0) throw Ecs.unsupportedFeature('capacityProviderStrategy is not supported by Gantry yet; use launchType EC2.');
  if (input.deploymentController !== undefined && input.deploymentController.type !== 'ECS') {
    throw Ecs.unsupportedFeature(`deploymentController ${input.deploymentController.type} is not supported by Gantry yet; ECS (rolling updates) is.`);
  }
}

function checkDesired(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw Ecs.invalidParameter(`desiredCount must be a whole number of tasks, 0 or more; got ${n}.`);
}

function checkGrace(n: number | undefined): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < 0 || n > 2_147_483_647) throw Ecs.invalidParameter(`healthCheckGracePeriodSeconds must be 0 to 2147483647; got ${n}.`);
  return n;
}

function checkDeploymentConfiguration(
  c: DeploymentConfiguration | undefined,
  current: ServiceRecord['deploymentConfiguration'] | undefined,
  scheduling: string,
): ServiceRecord['deploymentConfiguration'] {
  // Defaults [BC DeploymentConfiguration]: REPLICA 200/100, DAEMON 100/0.
  const daemon = scheduling === 'DAEMON';
  const max = c?.maximumPercent ?? current?.maximumPercent ?? (daemon ? 100 : 200);
  const min = c?.minimumHealthyPercent ?? current?.minimumHealthyPercent ?? (daemon ? 0 : 100);
  if (!Number.isInteger(min) || min < 0 || min > 100) throw Ecs.invalidParameter(`deploymentConfiguration.minimumHealthyPercent must be 0 to 100; got ${min}.`);
  if (!Number.isInteger(max) || max < 100) throw Ecs.invalidParameter(`deploymentConfiguration.maximumPercent must be at least 100; got ${max}.`);
  if (c?.strategy !== undefined && c.strategy !== 'ROLLING') throw Ecs.unsupportedFeature(`deployment strategy ${c.strategy} is not supported by Gantry yet; ROLLING is.`);
  if ((c?.alarms?.alarmNames?.length ?? 0) > 0 && c?.alarms?.enable === true) throw Ecs.unsupportedFeature('CloudWatch deployment alarms are not supported by Gantry.');
  const cb = c?.deploymentCircuitBreaker ?? current?.deploymentCircuitBreaker ?? { enable: false, rollback: false };
  return { maximumPercent: max, minimumHealthyPercent: min, deploymentCircuitBreaker: { enable: cb.enable === true, rollback: cb.rollback === true }, strategy: 'ROLLING' };
}

/** A service by name or ARN in a cluster (any status). */
export function findService(state: EcsState, arns: Arns, cluster: ClusterRecord, ref: string): Versioned<ServiceRecord> | undefined {
  let name = ref;
  if (ref.startsWith('arn:')) {
    const p = arns.own(ref);
    if (!p || p.resourceType !== 'service') return undefined;
    const parts = p.resource.split('/');
    if (parts.length === 2 && parts[0] !== cluster.clusterName) return undefined;
    name = parts.at(-1)!;
  }
  return state.catalog.get<ServiceRecord>(Kind.service, serviceKey(cluster.clusterName, name));
}

/** The Service wire shape: configuration from the record, counts from the tasks. */
export function serviceView(state: EcsState, s: ServiceRecord, opts: { tags: boolean }) {
  const tasks = state.serviceTasks(s.cluster, s.serviceName);
  const live = tasks.filter(isLive);
  const count = (id: string | undefined, status: 'RUNNING' | 'PENDING') =>
    live.filter((t) => (id === undefined || t.startedBy === id) && (status === 'RUNNING' ? t.lastStatus === 'RUNNING' : t.lastStatus !== 'RUNNING')).length;
  const deployments = s.deployments.map((d, i) => ({
    id: d.id,
    status: d.status,
    taskDefinition: d.taskDefinition,
    desiredCount: i === 0 ? s.desiredCount : live.filter((t) => t.startedBy === d.id).length,
    pendingCount: count(d.id, 'PENDING'),
    runningCount: count(d.id, 'RUNNING'),
    failedTasks: tasks.filter((t) => t.startedBy === d.id && failedTask(t)).length,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    launchType: s.launchType,
    rolloutState: d.rolloutState,
    rolloutStateReason: d.rolloutStateReason,
  }));
  return {
    serviceArn: s.serviceArn,
    serviceName: s.serviceName,
    clusterArn: s.clusterArn,
    loadBalancers: [],
    serviceRegistries: [],
    status: s.status,
    desiredCount: s.desiredCount,
    runningCount: count(undefined, 'RUNNING'),
    pendingCount: count(undefined, 'PENDING'),
    launchType: s.launchType,
    taskDefinition: s.taskDefinition,
    deploymentConfiguration: s.deploymentConfiguration,
    deployments,
    events: s.events,
    createdAt: s.createdAt,
    placementConstraints: s.placementConstraints,
    placementStrategy: s.placementStrategy,
    healthCheckGracePeriodSeconds: s.healthCheckGracePeriodSeconds,
    schedulingStrategy: s.schedulingStrategy,
    deploymentController: s.deploymentController,
    createdBy: s.createdBy,
    enableECSManagedTags: s.enableECSManagedTags,
    propagateTags: s.propagateTags,
    enableExecuteCommand: s.enableExecuteCommand,
    availabilityZoneRebalancing: s.availabilityZoneRebalancing,
    ...(opts.tags && s.tags.length > 0 ? { tags: s.tags } : {}),
  };
}
