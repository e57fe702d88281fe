import { Kind } from '../domain/records.js';
import type { ClusterRecord, ContainerInstanceRecord, TaskDefinitionFamilyRecord } from '../domain/records.js';
import type { TaskRecord } from '../domain/task.js';
import type { Catalog, Versioned } from './catalog.js';
import { checkOp } from './catalog.js';
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
  /** Per instance ARN, the highest `instanceVersion` any of its tasks has carried (in-flight writes included). */
  readonly #taskVersionHigh = new Map<string, number>();

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
    for (const [, v] of catalog.all<TaskRecordView>(Kind.task)) {
      this.placement.taskChanged(undefined, v.value);
      this.#noteTaskVersion(v.value as TaskRecord);
    }
    catalog.subscribeSpeculative((c) => {
      if (c.kind === Kind.containerInstance) this.placement.instanceChanged(c.before as InstanceRecordView | undefined, c.after as InstanceRecordView | undefined);
      else if (c.kind === Kind.task) {
        this.placement.taskChanged(c.before as TaskRecordView | undefined, c.after as TaskRecordView | undefined);
        if (c.after !== undefined) this.#noteTaskVersion(c.after as TaskRecord);
      }
    });
  }

  #noteTaskVersion(t: TaskRecord): void {
    const arn = t.containerInstanceArn;
    if (arn === undefined || t.instanceVersion === undefined) return;
    if (t.instanceVersion > (this.#taskVersionHigh.get(arn) ?? 0)) this.#taskVersionHigh.set(arn, t.instanceVersion);
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

  /**
   * A container instance's ECS `version` as DescribeContainerInstances shows it: its record's, or higher where a
   * task placed on it (or stopped from it) since carries the version that change gave the instance (see
   * InstanceVersions). Committed records only, like every read outside a decision.
   */
  instanceVersion(instance: ContainerInstanceRecord): number {
    let version = instance.version;
    for (const key of this.tasksByInstance.keys(instance.containerInstanceArn)) {
      const v = this.catalog.get<TaskRecord>(Kind.task, key)?.value.instanceVersion;
      if (v !== undefined && v > version) version = v;
    }
    return version;
  }

  /**
   * The highest version the instance has been given, writes still in flight included: a decision that changes the
   * instance gives it the next one. Never lower than what `instanceVersion` shows; a failed commit can leave it one
   * higher, so a version may be skipped but never handed out twice.
   */
  latestInstanceVersion(instance: ContainerInstanceRecord): number {
    const fromTasks = this.#taskVersionHigh.get(instance.containerInstanceArn) ?? 0;
    return fromTasks > instance.version ? fromTasks : instance.version;
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
 * The container-instance versions one decision hands out. ECS bumps an instance's `version` whenever its tasks change
 * what it holds (a task placed on it, a stop requested); Gantry records each bump on the task record that caused it
 * (`TaskRecord.instanceVersion`) rather than rewriting the instance record, and reads an instance's version as the
 * highest of its record's and its tasks' (`EcsState.instanceVersion`). Rewriting a ~3 KiB instance record for every
 * placement was half of what the store wrote under placement load.
 *
 * Concurrent writers (another request, a replica) cannot both place on an instance from the same view: every catalog
 * commit must land at the store revision it predicted (`expectRev`), so a decision made before another writer's
 * commit fails and is made again. `ops()` still guards each instance read, as every decision guards what it read.
 */
export class InstanceVersions {
  readonly #used = new Map<string, { read: Versioned<ContainerInstanceRecord>; version: number }>();

  constructor(
    private readonly state: EcsState,
    private readonly cluster: string,
  ) {}

  /** The version the instance reaches with one more change in this decision (undefined for an unknown instance). */
  next(containerInstanceArn: string | undefined): number | undefined {
    if (containerInstanceArn === undefined) return undefined;
    let used = this.#used.get(containerInstanceArn);
    if (!used) {
      const read = this.state.instanceByArn(this.cluster, containerInstanceArn);
      if (!read) return undefined;
      used = { read, version: this.state.latestInstanceVersion(read.value) };
      this.#used.set(containerInstanceArn, used);
    }
    used.version += 1;
    return used.version;
  }

  /** Read guards on every instance the decision used. */
  ops(): WriteOp[] {
    return [...this.#used.values()].map(({ read }) => checkOp(Kind.containerInstance, instanceKey(this.cluster, read.value.id), read));
  }
}
