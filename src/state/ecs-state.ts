import { Kind } from '../domain/records.js';
import type { ClusterRecord, ContainerInstanceRecord, TaskDefinitionFamilyRecord } from '../domain/records.js';
import type { TaskRecord } from '../domain/task.js';
import type { Catalog, Versioned } from './catalog.js';
import { putOp } from './catalog.js';
import type { WriteOp } from '../store/types.js';
import { PlacementIndex } from '../placement/engine/placement-index.js';
import type { InstanceRecordView, TaskRecordView } from '../placement/engine/entry.js';
import { GroupIndex } from './group-index.js';

/**
 * Typed access to the ECS records in the catalog, with the secondary indexes the API reads
 * (instances, tasks and services per cluster; revisions per family).
 */
export class EcsState {
  readonly instancesByCluster: GroupIndex;
  readonly tasksByCluster: GroupIndex;
  /** Tasks by the container instance they were placed on (its ARN): what one instance's agent is told to run. */
  readonly tasksByInstance: GroupIndex;
  readonly servicesByCluster: GroupIndex;
  readonly revisionsByFamily: GroupIndex;
  /** RunTask clientToken → its tasks (`cluster` NUL `token`), for idempotent retries. */
  readonly tasksByClientToken: GroupIndex;
  /** A service's tasks (`cluster/serviceName`), stopped ones included while the store keeps them. */
  readonly tasksByService: GroupIndex;
  /** What placement reads, per cluster, kept in step with instance and task records (in-flight commits included). */
  readonly placement = new PlacementIndex();

  constructor(readonly catalog: Catalog) {
    const byCluster = (v: unknown) => (v as { cluster: string }).cluster;
    this.instancesByCluster = new GroupIndex(catalog, Kind.containerInstance, byCluster);
    this.tasksByCluster = new GroupIndex(catalog, Kind.task, byCluster);
    this.tasksByInstance = new GroupIndex(catalog, Kind.task, (v) => (v as { containerInstanceArn?: string }).containerInstanceArn);
    this.servicesByCluster = new GroupIndex(catalog, Kind.service, byCluster);
    this.revisionsByFamily = new GroupIndex(catalog, Kind.taskDefinition, (v) => (v as { family: string }).family);
    this.tasksByClientToken = new GroupIndex(catalog, Kind.task, (v) => {
      const t = v as { cluster: string; clientToken?: string };
      return t.clientToken === undefined ? undefined : clientTokenGroup(t.cluster, t.clientToken);
    });
    this.tasksByService = new GroupIndex(catalog, Kind.task, (v) => {
      const t = v as { cluster: string; serviceName?: string };
      return t.serviceName === undefined ? undefined : `${t.cluster}/${t.serviceName}`;
    });
    for (const [, v] of catalog.all<InstanceRecordView>(Kind.containerInstance)) this.placement.instanceChanged(undefined, v.value);
    for (const [, v] of catalog.all<TaskRecordView>(Kind.task)) this.placement.taskChanged(undefined, v.value);
    catalog.subscribeSpeculative((c) => {
      if (c.kind === Kind.containerInstance) this.placement.instanceChanged(c.before as InstanceRecordView | undefined, c.after as InstanceRecordView | undefined);
      else if (c.kind === Kind.task) this.placement.taskChanged(c.before as TaskRecordView | undefined, c.after as TaskRecordView | undefined);
    });
  }

  cluster(name: string): Versioned<ClusterRecord> | undefined {
    return this.catalog.get<ClusterRecord>(Kind.cluster, name);
  }

  family(name: string): Versioned<TaskDefinitionFamilyRecord> | undefined {
    return this.catalog.get<TaskDefinitionFamilyRecord>(Kind.taskDefinitionFamily, name);
  }

  instance(cluster: string, id: string): Versioned<ContainerInstanceRecord> | undefined {
    return this.catalog.get<ContainerInstanceRecord>(Kind.containerInstance, instanceKey(cluster, id));
  }

  /** An instance by its ARN (the id is its last part). */
  instanceByArn(cluster: string, containerInstanceArn: string): Versioned<ContainerInstanceRecord> | undefined {
    return this.instance(cluster, containerInstanceArn.slice(containerInstanceArn.lastIndexOf('/') + 1));
  }

  /** A service's tasks (stopped ones included while the store keeps them). */
  serviceTasks(cluster: string, serviceName: string): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const key of this.tasksByService.keys(`${cluster}/${serviceName}`)) {
      const t = this.catalog.get<TaskRecord>(Kind.task, key)?.value;
      if (t && t.serviceName === serviceName && t.cluster === cluster) out.push(t);
    }
    return out;
  }

  task(cluster: string, id: string): Versioned<TaskRecord> | undefined {
    return this.catalog.get<TaskRecord>(Kind.task, taskKey(cluster, id));
  }

  *instancesOf(cluster: string): Generator<Versioned<ContainerInstanceRecord>> {
    for (const key of this.instancesByCluster.keys(cluster)) {
      const v = this.catalog.get<ContainerInstanceRecord>(Kind.containerInstance, key);
      if (v) yield v;
    }
  }
}

export const instanceKey = (cluster: string, id: string): string => `${cluster}/${id}`;
export const taskKey = (cluster: string, id: string): string => `${cluster}/${id}`;
export const clientTokenGroup = (cluster: string, token: string): string => `${cluster}\u0000${token}`;
export const taskDefinitionKey = (family: string, revision: number): string => `${family}:${revision}`;

/**
 * The instances whose tasks one decision changes (tasks placed on them, stops requested): each is written once,
 * its `version` bumped by the number of changes (ECS counts them as changes of the instance) and guarded at the
 * revision read. That write is what serializes placements on one instance across writers (replicas).
 */
export class InstanceChanges {
  readonly #counts = new Map<string, number>();

  constructor(
    private readonly state: EcsState,
    private readonly cluster: string,
  ) {}

  record(containerInstanceArn: string | undefined): void {
    if (containerInstanceArn !== undefined) this.#counts.set(containerInstanceArn, (this.#counts.get(containerInstanceArn) ?? 0) + 1);
  }

  ops(): WriteOp[] {
    const out: WriteOp[] = [];
    for (const [arn, n] of this.#counts) {
      const read = this.state.instanceByArn(this.cluster, arn);
      if (read) out.push(putOp(Kind.containerInstance, instanceKey(this.cluster, read.value.id), { ...read.value, version: read.value.version + n }, read));
    }
    return out;
  }
}
