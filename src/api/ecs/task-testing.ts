/**
 * Support for the task operation tests: a cluster with container instances registered the way the agent
 * registers them, task definitions, and the agent-side facts (connection, reports) tests need to set.
 */
import { Kind } from '../../domain/records.js';
import type { ContainerInstanceRecord } from '../../domain/records.js';
import type { TaskRecord, TaskReport } from '../../domain/task.js';
import { applyTaskReport } from '../../domain/task-lifecycle.js';
import { putOp } from '../../state/catalog.js';
import { epochSeconds } from '../../util/clock.js';
import type { TestEcs } from './testing.js';

export interface InstanceSpec {
  readonly cpu?: number;
  readonly memory?: number;
  readonly az?: string;
  readonly gpus?: readonly string[];
  readonly attributes?: readonly { name: string; value?: string }[];
}

let serial = 0;

/** Registers an instance through RegisterContainerInstance; resolves to its ContainerInstance wire shape. */
export async function registerInstance(ecs: TestEcs, cluster: string, spec: InstanceSpec = {}): Promise<{ containerInstanceArn: string; [k: string]: unknown }> {
  serial++;
  const { containerInstance } = await ecs.call('RegisterContainerInstance', {
    cluster,
    instanceIdentityDocument: JSON.stringify({
      instanceId: `i-${serial.toString(16).padStart(17, '0')}`,
      availabilityZone: spec.az ?? 'us-west-2a',
      instanceType: 't3.large',
      architecture: 'x86_64',
    }),
    instanceIdentityDocumentSignature: 'sig',
    totalResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: spec.cpu ?? 2048 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: spec.memory ?? 4096 },
      { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22', '2375', '2376', '51678', '51679'] },
      { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
    ],
    ...(spec.gpus ? { platformDevices: spec.gpus.map((id) => ({ id, type: 'GPU' })) } : {}),
    versionInfo: { agentVersion: '1.105.1', agentHash: '8dfceca6', dockerVersion: 'DockerVersion: 25.0.8' },
    attributes: [{ name: 'ecs.os-type', value: 'linux' }, ...(spec.attributes ?? [])],
  });
  return containerInstance;
}

/** Registers a task definition; `containers` default to one 'web' container with 256 CPU units and 512 MiB. */
export async function registerTaskDefinition(ecs: TestEcs, over: Record<string, unknown> = {}): Promise<{ taskDefinitionArn: string; family: string; revision: number }> {
  const { taskDefinition } = await ecs.call('RegisterTaskDefinition', {
    family: 'web',
    containerDefinitions: [{ name: 'web', image: 'nginx:1.27', cpu: 256, memory: 512 }],
    ...over,
  });
  return taskDefinition;
}

const idOf = (arn: string): string => arn.split('/').at(-1)!;

/** Sets what the agent's connection would: agentConnected on the instance record. */
export async function setAgentConnected(ecs: TestEcs, cluster: string, containerInstanceArn: string, connected: boolean): Promise<void> {
  const { state } = ecs.deps;
  await state.catalog.transact(() => {
    const cur = state.instance(cluster, idOf(containerInstanceArn))!;
    const value: ContainerInstanceRecord = { ...cur.value, agentConnected: connected, version: state.latestInstanceVersion(cur.value) + 1 };
    return { ops: [putOp(Kind.containerInstance, `${cluster}/${value.id}`, value, cur)], result: undefined };
  });
}

/** Applies an agent report to a task as the agent channel will. */
export async function report(
  ecs: TestEcs,
  taskArn: string,
  r: Omit<TaskReport, 'taskArn' | 'containers'> & Partial<Pick<TaskReport, 'containers'>>,
): Promise<TaskRecord | undefined> {
  const { state, clock } = ecs.deps;
  const key = taskArn.split('/').slice(-2).join('/');
  return state.catalog.transact(() => {
    const cur = state.catalog.get<TaskRecord>(Kind.task, key)!;
    const next = applyTaskReport(cur.value, { containers: [], ...r, taskArn }, epochSeconds(clock.now()));
    return next ? { ops: [putOp(Kind.task, key, next, cur)], result: next } : { ops: [], result: undefined };
  });
}

/** The remaining amount of an INTEGER resource, or the set of a STRINGSET one, from a ContainerInstance wire shape. */
export function remaining(ci: { remainingResources?: { name: string; integerValue?: number; stringSetValue?: string[] }[] }, name: string): number | string[] | undefined {
  const r = ci.remainingResources?.find((x) => x.name === name);
  return r?.stringSetValue ?? r?.integerValue;
}
