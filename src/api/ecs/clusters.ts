/**
 * Clusters: CreateCluster, DescribeClusters, ListClusters, UpdateCluster, UpdateClusterSettings, DeleteCluster.
 * Counters (instances, tasks, services) are derived from the indexes at read time, never stored, so they
 * cannot drift from the records they count.
 */
import type {
  CapacityProviderStrategyItem,
  Cluster,
  ClusterSetting,
  CreateClusterRequest,
  DeleteClusterRequest,
  DescribeClustersRequest,
  ListClustersRequest,
  UpdateClusterRequest,
  UpdateClusterSettingsRequest,
} from '@aws-sdk/client-ecs';
import { NAME_PATTERN } from '../../domain/arn.js';
import { Ecs } from '../../domain/errors.js';
import { Kind } from '../../domain/records.js';
import type { ClusterRecord, Wire } from '../../domain/records.js';
import { validateTags } from '../../domain/tags.js';
import { putOp } from '../../state/catalog.js';
import { paginate } from '../pagination.js';
import type { EcsDeps } from './context.js';
import { activeCluster, clusterNameOf } from './resolve.js';

type WireCluster = Wire<Cluster>;
const CONTAINER_INSIGHTS_VALUES = new Set(['enabled', 'disabled', 'enhanced']);
const DESCRIBE_INCLUDE = new Set(['ATTACHMENTS', 'CONFIGURATIONS', 'SETTINGS', 'STATISTICS', 'TAGS']);
const BUILTIN_CAPACITY_PROVIDERS = new Set(['FARGATE', 'FARGATE_SPOT']);
const ACTIVE_TASK = (t: { lastStatus?: string; desiredStatus?: string }) => t.lastStatus !== 'STOPPED';

export class ClusterOperations {
  constructor(private readonly deps: EcsDeps) {}

  CreateCluster = async (input: CreateClusterRequest): Promise<{ cluster: WireCluster }> => {
    const name = input.clusterName ?? 'default';
    if (!NAME_PATTERN.test(name)) {
      throw Ecs.invalidParameter(
        'Cluster name can have up to 255 characters: letters (uppercase and lowercase), numbers, underscores and hyphens.',
      );
    }
    const settings = mergeSettings(defaultSettings(), validateSettings(input.settings));
    const tags = validateTags(input.tags);
    const capacity = validateCapacityProviders(input.capacityProviders, input.defaultCapacityProviderStrategy);
    const { state, arns, clock } = this.deps;
    const record = await state.catalog.transact(() => {
      const existing = state.cluster(name);
      // An existing ACTIVE cluster is returned unchanged: CreateCluster is idempotent on the name.
      if (existing && existing.value.status !== 'INACTIVE') return { ops: [], result: existing.value };
      const value: ClusterRecord = {
        clusterName: name,
        clusterArn: arns.cluster(name),
        status: 'ACTIVE',
        settings,
        capacityProviders: capacity.providers,
        defaultCapacityProviderStrategy: capacity.strategy,
        tags,
        createdAtMs: clock.now(),
        ...(input.configuration ? { configuration: input.configuration as NonNullable<ClusterRecord['configuration']> } : {}),
        ...(input.serviceConnectDefaults ? { serviceConnectDefaults: input.serviceConnectDefaults } : {}),
      };
      return { ops: [putOp(Kind.cluster, name, value, existing)], result: value };
    });
    return { cluster: this.view(record, new Set(['SETTINGS', 'TAGS', 'CONFIGURATIONS'])) };
  };

  DescribeClusters = async (input: DescribeClustersRequest) => {
    const { arns, state } = this.deps;
    const include = new Set(input.include ?? []);
    for (const i of include) if (!DESCRIBE_INCLUDE.has(i)) throw Ecs.invalidParameter(`Unknown include value '${i}'.`);
    const requested = input.clusters && input.clusters.length > 0 ? input.clusters : ['default'];
    if (requested.length > 100) throw Ecs.invalidParameter('clusters can have at most 100 items.');
    const clusters: WireCluster[] = [];
    const failures: { arn: string; reason: string }[] = [];
    for (const ref of requested) {
      const name = clusterNameOf(arns, ref);
      const found = name === undefined ? undefined : state.cluster(name);
      if (found) clusters.push(this.view(found.value, include));
      else failures.push({ arn: ref.startsWith('arn:') ? ref : arns.cluster(ref), reason: 'MISSING' });
    }
    return { clusters, failures };
  };

  ListClusters = async (input: ListClustersRequest) => {
    const { state } = this.deps;
    const active: ClusterRecord[] = [];
    for (const [, v] of state.catalog.all<ClusterRecord>(Kind.cluster)) if (v.value.status !== 'INACTIVE') active.push(v.value);
    const page = paginate(active, (c) => c.clusterName, input, { defaultSize: 100, maxSize: 100, scope: 'ListClusters' }, Ecs.invalidParameter);
    return { clusterArns: page.items.map((c) => c.clusterArn), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  };

  UpdateCluster = async (input: UpdateClusterRequest) => {
    const settings = input.settings === undefined ? undefined : validateSettings(input.settings);
    const record = await this.update(input.cluster!, (c) => ({
      ...c,
      ...(settings ? { settings: mergeSettings(c.settings, settings) } : {}),
      ...(input.configuration ? { configuration: input.configuration as NonNullable<ClusterRecord['configuration']> } : {}),
      ...(input.serviceConnectDefaults ? { serviceConnectDefaults: input.serviceConnectDefaults } : {}),
    }));
    return { cluster: this.view(record, new Set(['SETTINGS', 'CONFIGURATIONS'])) };
  };

  UpdateClusterSettings = async (input: UpdateClusterSettingsRequest) => {
    const settings = validateSettings(input.settings);
    if (settings.length === 0) throw Ecs.invalidParameter('settings must contain at least one setting.');
    const record = await this.update(input.cluster!, (c) => ({ ...c, settings: mergeSettings(c.settings, settings) }));
    return { cluster: this.view(record, new Set(['SETTINGS'])) };
  };

  DeleteCluster = async (input: DeleteClusterRequest) => {
    const { state } = this.deps;
    const record = await state.catalog.transact(() => {
      const cur = activeCluster(state, this.deps.arns, input.cluster);
      const name = cur.value.clusterName;
      for (const i of state.instancesOf(name)) {
        if (i.value.status === 'ACTIVE' || i.value.status === 'DRAINING') {
          throw Ecs.clusterContainsContainerInstances('The Cluster cannot be deleted while Container Instances are active or draining.');
        }
      }
      for (const key of state.servicesByCluster.keys(name)) {
        const s = state.catalog.get<{ status: string }>(Kind.service, key);
        if (s && s.value.status !== 'INACTIVE') throw Ecs.clusterContainsServices('The Cluster cannot be deleted while Services are active.');
      }
      for (const key of state.tasksByCluster.keys(name)) {
        const t = state.catalog.get<{ lastStatus?: string }>(Kind.task, key);
        if (t && ACTIVE_TASK(t.value)) throw Ecs.clusterContainsTasks('The Cluster cannot be deleted while Tasks are active.');
      }
      const value: ClusterRecord = { ...cur.value, status: 'INACTIVE', deletedAtMs: this.deps.clock.now() };
      return { ops: [putOp(Kind.cluster, name, value, cur)], result: value };
    });
    return { cluster: this.view(record, new Set(['SETTINGS', 'TAGS'])) };
  };

  private update(cluster: string, change: (c: ClusterRecord) => ClusterRecord): Promise<ClusterRecord> {
    const { state, arns } = this.deps;
    return state.catalog.transact(() => {
      const cur = activeCluster(state, arns, cluster);
      const value = change(cur.value);
      return { ops: [putOp(Kind.cluster, cur.value.clusterName, value, cur)], result: value };
    });
  }

  /** The API view of a cluster, with live counters and the parts `include` asks for. */
  view(c: ClusterRecord, include: ReadonlySet<string>): WireCluster {
    const counts = this.counts(c.clusterName);
    const out: WireCluster = {
      clusterArn: c.clusterArn,
      clusterName: c.clusterName,
      status: c.status,
      registeredContainerInstancesCount: counts.instances,
      runningTasksCount: counts.running,
      pendingTasksCount: counts.pending,
      activeServicesCount: counts.activeServices,
      statistics: include.has('STATISTICS') ? this.statistics(counts) : [],
      tags: include.has('TAGS') ? c.tags : [],
      capacityProviders: c.capacityProviders,
      defaultCapacityProviderStrategy: c.defaultCapacityProviderStrategy,
    };
    if (include.has('SETTINGS')) out.settings = c.settings;
    if (include.has('CONFIGURATIONS') && c.configuration) out.configuration = c.configuration;
    if (c.serviceConnectDefaults) out.serviceConnectDefaults = c.serviceConnectDefaults;
    if (include.has('ATTACHMENTS')) out.attachments = [];
    return out;
  }

  private counts(cluster: string) {
    const { state } = this.deps;
    let instances = 0;
    for (const i of state.instancesOf(cluster)) if (i.value.status === 'ACTIVE' || i.value.status === 'DRAINING') instances++;
    let running = 0;
    let pending = 0;
    let runningFargate = 0;
    let pendingFargate = 0;
    for (const key of state.tasksByCluster.keys(cluster)) {
      const t = state.catalog.get<{ lastStatus?: string; desiredStatus?: string; launchType?: string }>(Kind.task, key)?.value;
      if (!t) continue;
      const fargate = t.launchType === 'FARGATE';
      if (t.lastStatus === 'RUNNING') fargate ? runningFargate++ : running++;
      else if (t.lastStatus !== 'STOPPED' && t.desiredStatus !== 'STOPPED') fargate ? pendingFargate++ : pending++;
    }
    let activeEc2 = 0;
    let activeFargate = 0;
    let drainingEc2 = 0;
    let drainingFargate = 0;
    for (const key of state.servicesByCluster.keys(cluster)) {
      const s = state.catalog.get<{ status: string; launchType?: string }>(Kind.service, key)?.value;
      if (!s) continue;
      const fargate = s.launchType === 'FARGATE';
      if (s.status === 'ACTIVE') fargate ? activeFargate++ : activeEc2++;
      else if (s.status === 'DRAINING') fargate ? drainingFargate++ : drainingEc2++;
    }
    return {
      instances,
      running: running + runningFargate,
      pending: pending + pendingFargate,
      activeServices: activeEc2 + activeFargate,
      runningEc2: running,
      runningFargate,
      pendingEc2: pending,
      pendingFargate,
      activeEc2,
      activeFargate,
      drainingEc2,
      drainingFargate,
    };
  }

  private statistics(c: ReturnType<ClusterOperations['counts']>) {
    return [
      { name: 'runningEC2TasksCount', value: String(c.runningEc2) },
      { name: 'runningFargateTasksCount', value: String(c.runningFargate) },
      { name: 'pendingEC2TasksCount', value: String(c.pendingEc2) },
      { name: 'pendingFargateTasksCount', value: String(c.pendingFargate) },
      { name: 'activeEC2ServiceCount', value: String(c.activeEc2) },
      { name: 'activeFargateServiceCount', value: String(c.activeFargate) },
      { name: 'drainingEC2ServiceCount', value: String(c.drainingEc2) },
      { name: 'drainingFargateServiceCount', value: String(c.drainingFargate) },
    ];
  }
}

function defaultSettings(): ClusterSetting[] {
  return [{ name: 'containerInsights', value: 'disabled' }];
}

function validateSettings(settings: readonly ClusterSetting[] | undefined): ClusterSetting[] {
  const out: ClusterSetting[] = [];
  for (const s of settings ?? []) {
    if (s.name !== 'containerInsights') throw Ecs.invalidParameter(`Unknown cluster setting '${String(s.name)}'. The only cluster setting is containerInsights.`);
    if (s.value === undefined || !CONTAINER_INSIGHTS_VALUES.has(s.value)) {
      throw Ecs.invalidParameter(`Invalid value '${s.value ?? ''}' for containerInsights. Valid values: enabled, disabled, enhanced.`);
    }
    out.push({ name: s.name, value: s.value });
  }
  return out;
}

function mergeSettings(base: readonly ClusterSetting[], changes: readonly ClusterSetting[]): ClusterSetting[] {
  const m = new Map(base.map((s) => [s.name, s]));
  for (const s of changes) m.set(s.name, s);
  return [...m.values()];
}

function validateCapacityProviders(
  providers: readonly string[] | undefined,
  strategy: readonly CapacityProviderStrategyItem[] | undefined,
) {
  const list = [...new Set(providers ?? [])];
  for (const p of list) {
    if (!BUILTIN_CAPACITY_PROVIDERS.has(p)) {
      throw Ecs.invalidParameter(`The specified capacity provider '${p}' does not exist. Gantry provides FARGATE and FARGATE_SPOT.`);
    }
  }
  const items = strategy ?? [];
  if (items.length > 20) throw Ecs.invalidParameter('defaultCapacityProviderStrategy can have at most 20 items.');
  let withBase = 0;
  for (const item of items) {
    if (item.capacityProvider === undefined || !list.includes(item.capacityProvider)) {
      throw Ecs.invalidParameter(
        `The capacity provider '${item.capacityProvider ?? ''}' in the default strategy must be one of the cluster's capacity providers.`,
      );
    }
    if (item.weight !== undefined && (item.weight < 0 || item.weight > 1000)) throw Ecs.invalidParameter('weight must be between 0 and 1000.');
    if (item.base !== undefined && (item.base < 0 || item.base > 100000)) throw Ecs.invalidParameter('base must be between 0 and 100000.');
    if ((item.base ?? 0) > 0) withBase++;
  }
  if (withBase > 1) throw Ecs.invalidParameter('Only one capacity provider in a strategy can have a base defined.');
  return {
    providers: list,
    strategy: items.map((i) => ({ capacityProvider: i.capacityProvider!, weight: i.weight ?? 0, base: i.base ?? 0 })),
  };
}
