/**
 * The candidate snapshot: every instance a placement may consider, with what is left of it once the tasks
 * holding resources there are counted. "What is left" comes from src/domain/resources.ts — the same code
 * DescribeContainerInstances reports remainingResources with — so placement and the API never disagree.
 *
 * Snapshots are immutable: `reserve` returns the instance as it is after one more task, which is how the
 * tasks of one call are placed one after another against the updated state.
 */
import type { Attribute, Resource } from '@aws-sdk/client-ecs';
import { holdsResources, instanceTaskCounts, remainingResources } from '../domain/resources.js';
import type { TaskReservation } from '../domain/resources.js';
import type { Candidate, Remaining, TaskDemand } from './types.js';

/** Candidates in a stable order (by ARN), so a seeded placement is reproducible. */
export type Snapshot = readonly Candidate[];

/** The parts of a ContainerInstanceRecord placement reads. */
export interface InstanceView {
  readonly containerInstanceArn: string;
  readonly status: string;
  readonly agentConnected: boolean;
  readonly attributes: readonly Attribute[];
  readonly registeredResources: readonly Resource[];
  readonly ec2InstanceId: string;
  readonly versionInfo?: { readonly agentVersion?: string | undefined } | undefined;
  readonly registeredAt: number;
}

/** A task as placement counts it: what it holds, and its group. */
export type PlacedTaskView = TaskReservation & { readonly group?: string | undefined };

export function candidateOf(instance: InstanceView, taskList: Iterable<PlacedTaskView>): Candidate {
  const tasks = [...taskList];
  const left = remainingResources(instance.registeredResources, tasks);
  const find = (name: string) => left.find((r) => r.name === name);
  const ports = (name: string) => new Set((find(name)?.stringSetValue ?? []).map(Number).filter((p) => Number.isInteger(p)));
  const attributes = new Map<string, string | undefined>();
  for (const a of instance.attributes) if (a.name !== undefined) attributes.set(a.name, a.value);
  const groups = new Map<string, number>();
  for (const t of tasks) if (t.group !== undefined && inGroup(t)) groups.set(t.group, (groups.get(t.group) ?? 0) + 1);
  return {
    containerInstanceArn: instance.containerInstanceArn,
    status: instance.status,
    agentConnected: instance.agentConnected,
    attributes,
    ec2InstanceId: instance.ec2InstanceId,
    agentVersion: instance.versionInfo?.agentVersion,
    registeredAt: instance.registeredAt,
    runningTasksCount: instanceTaskCounts(tasks).runningTasksCount,
    groups,
    remaining: {
      cpu: find('CPU')?.integerValue ?? 0,
      memory: find('MEMORY')?.integerValue ?? 0,
      portsTcp: ports('PORTS'),
      portsUdp: ports('PORTS_UDP'),
      freeGpus: find('GPU')?.stringSetValue ?? [],
    },
  };
}

/** `tasksOn` gives the tasks recorded on an instance (any status: those no longer holding anything are skipped). */
export function buildSnapshot(instances: Iterable<InstanceView>, tasksOn: (containerInstanceArn: string) => Iterable<PlacedTaskView>): Snapshot {
  const out: Candidate[] = [];
  for (const i of instances) out.push(candidateOf(i, tasksOn(i.containerInstanceArn)));
  return out.sort((a, b) => (a.containerInstanceArn < b.containerInstanceArn ? -1 : a.containerInstanceArn > b.containerInstanceArn ? 1 : 0));
}

/**
 * Whether a task counts as a member of its group on its instance (`task:group`, spread, distinctInstance): while
 * it holds resources there, i.e. until a stop is requested or it has stopped.
 */
export function inGroup(task: TaskReservation): boolean {
  return holdsResources(task);
}

/** The instance after it takes one task of `group` with `demand`, and the GPU ids that task was given (the first free ones). */
export function reserve(c: Candidate, demand: TaskDemand, group?: string): { readonly candidate: Candidate; readonly gpuIds: string[] } {
  const gpuIds = c.remaining.freeGpus.slice(0, demand.gpus);
  const remaining: Remaining = {
    cpu: c.remaining.cpu - demand.cpu,
    memory: c.remaining.memory - demand.memory,
    portsTcp: demand.portsTcp.length === 0 ? c.remaining.portsTcp : new Set([...c.remaining.portsTcp, ...demand.portsTcp]),
    portsUdp: demand.portsUdp.length === 0 ? c.remaining.portsUdp : new Set([...c.remaining.portsUdp, ...demand.portsUdp]),
    freeGpus: c.remaining.freeGpus.slice(demand.gpus),
  };
  let groups = c.groups;
  if (group !== undefined) {
    const next = new Map(groups);
    next.set(group, (next.get(group) ?? 0) + 1);
    groups = next;
  }
  return { candidate: { ...c, remaining, groups, runningTasksCount: c.runningTasksCount + 1 }, gpuIds };
}
