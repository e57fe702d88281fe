/**
 * Concurrent launches never over-commit an instance: 40 RunTask calls race for a small cluster, then an
 * audit of every task record checks each instance's CPU, memory and static ports.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Arns } from '../../domain/arn.js';
import { ECS_KINDS, Kind } from '../../domain/records.js';
import type { ContainerInstanceRecord } from '../../domain/records.js';
import { reservedCpu, reservedHostPorts, reservedMemory, holdsResources } from '../../domain/resources.js';
import type { TaskRecord } from '../../domain/task.js';
import { Catalog } from '../../state/catalog.js';
import { EcsState } from '../../state/ecs-state.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { seededRng } from '../../util/clock.js';
import type { EcsDeps, RequestContext } from './context.js';
import { ecsOperations } from './index.js';
import { registerInstance, registerTaskDefinition, remaining } from './task-testing.js';
import { createTestEcs, TEST_ACCOUNT, TEST_REGION } from './testing.js';
import type { TestEcs } from './testing.js';

describe('concurrent RunTask', () => {
  let ecs: TestEcs;
  beforeEach(async () => {
    ecs = await createTestEcs({ seed: 99 });
    await ecs.call('CreateCluster', { clusterName: 'small' });
  });
  afterEach(() => ecs.close());

  it('40 concurrent calls never over-commit an instance\'s CPU, memory or static ports', async () => {
    // 3 instances × 1024 units: room for exactly 12 tasks of 256 units; each may hold one static port-80 task.
    const instances = await Promise.all([1, 2, 3].map(() => registerInstance(ecs, 'small', { cpu: 1024, memory: 4096 })));
    await registerTaskDefinition(ecs, { family: 'plain', containerDefinitions: [{ name: 'c', image: 'x', cpu: 256, memory: 256 }] });
    await registerTaskDefinition(ecs, {
      family: 'port',
      containerDefinitions: [{ name: 'c', image: 'x', cpu: 128, memory: 128, portMappings: [{ containerPort: 80, hostPort: 80 }, { containerPort: 53, hostPort: 53, protocol: 'udp' }] }],
    });

    const calls = Array.from({ length: 40 }, (_, i) =>
      ecs.call('RunTask', { cluster: 'small', taskDefinition: i % 4 === 0 ? 'port' : 'plain', count: 1 + (i % 3) }),
    );
    const results = await Promise.all(calls);
    const placed = results.flatMap((r) => r.tasks as { taskArn: string; taskDefinitionArn: string }[]);
    const failures = results.flatMap((r) => r.failures as { reason: string }[]);
    const asked = Array.from({ length: 40 }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0);
    assert.equal(placed.length + failures.length, asked);
    assert.equal(new Set(placed.map((t) => t.taskArn)).size, placed.length);
    for (const f of failures) assert.match(f.reason, /^RESOURCE:(CPU|MEMORY|PORTS_TCP)$/);

    // Audit from the records themselves.
    const { state } = ecs.deps;
    const tasks = [...state.catalog.all<TaskRecord>(Kind.task)].map(([, v]) => v.value);
    assert.equal(tasks.length, placed.length);
    const portTasks = tasks.filter((t) => t.taskDefinitionArn.endsWith('/port:1'));
    assert.ok(portTasks.length >= 1 && portTasks.length <= 3, `port tasks: ${portTasks.length}`);
    let usedCpu = 0;
    for (const ci of instances) {
      const rec = state.instance('small', ci.containerInstanceArn.split('/').at(-1)!)!.value as ContainerInstanceRecord;
      const on = tasks.filter((t) => t.containerInstanceArn === ci.containerInstanceArn && holdsResources(t));
      const cpu = on.reduce((n, t) => n + reservedCpu(t), 0);
      const memory = on.reduce((n, t) => n + reservedMemory(t), 0);
      usedCpu += cpu;
      assert.ok(cpu <= 1024, `cpu ${cpu} on ${ci.containerInstanceArn}`);
      assert.ok(memory <= 4096, `memory ${memory}`);
      const tcp = on.flatMap((t) => reservedHostPorts(t).tcp);
      const udp = on.flatMap((t) => reservedHostPorts(t).udp);
      assert.equal(new Set(tcp).size, tcp.length, `tcp ports ${tcp}`);
      assert.equal(new Set(udp).size, udp.length, `udp ports ${udp}`);
      for (const p of tcp) assert.ok(!['22', '2375', '2376', '51678', '51679'].includes(p));
      // The instance's version counts each placement on it (the bumps ride on the task records: the instance record
      // itself is not rewritten) and every task holds a distinct one.
      assert.equal(rec.version, 1);
      assert.deepEqual(on.map((t) => t.instanceVersion).sort((a, b) => a! - b!), on.map((_, i) => 2 + i));
      const { containerInstances: [d] } = await ecs.call('DescribeContainerInstances', { cluster: 'small', containerInstances: [ci.containerInstanceArn] });
      assert.equal(d.version, 1 + on.length);
      assert.equal(remaining(d, 'CPU'), 1024 - cpu);
      assert.equal(d.runningTasksCount, on.length);
      // Demand far exceeds supply, so every instance ends up full: no task was refused that would have fit.
      const left = 1024 - cpu;
      assert.ok(left < 256 && (left < 128 || tcp.includes('80')), `${left} CPU units left on ${ci.containerInstanceArn}`);
    }
    assert.ok(usedCpu > 0);
  });
});

/**
 * Two catalogs on one store, as two server replicas would be. A pipelined commit predicts its revision and
 * guards on revisions its in-flight predecessors will get; when the other writer takes those revisions, the
 * `chained` commit option makes the pipelined commit fail instead of matching guards against a version it
 * never saw (this test failed before that option existed: 14 tasks were placed where 8 fit).
 */
describe('RunTask from two control planes sharing one store', () => {
  it('never over-commits: a decision made on stale state loses its guard and decides again', async () => {
    const store = await SqliteStore.open({ path: ':memory:' });
    try {
      const replica = async (seed: number) => {
        const catalog = await Catalog.open(store, ECS_KINDS);
        const deps: EcsDeps = { state: new EcsState(catalog), arns: new Arns(TEST_REGION, TEST_ACCOUNT), clock: { now: () => Date.UTC(2026, 0, 1) }, rng: seededRng(seed) };
        const ops = ecsOperations(deps) as Record<string, (input: unknown, ctx: RequestContext) => Promise<any>>;
        return (op: string, input: object) => ops[op]!(input, { requestId: 't', principalArn: `arn:aws:iam::${TEST_ACCOUNT}:root`, operation: op });
      };
      const a = await replica(1);
      await a('CreateCluster', { clusterName: 'shared' });
      const instance = (i: number) => ({
        cluster: 'shared',
        instanceIdentityDocument: JSON.stringify({ instanceId: `i-${String(i).padStart(17, '0')}` }),
        totalResources: [
          { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
          { name: 'MEMORY', type: 'INTEGER', integerValue: 1024 },
        ],
      });
      for (const i of [1, 2]) await a('RegisterContainerInstance', instance(i));
      await a('RegisterTaskDefinition', { family: 'w', containerDefinitions: [{ name: 'c', image: 'x', cpu: 256, memory: 128, portMappings: [{ containerPort: 80, hostPort: 80 }] }] });
      await a('RegisterTaskDefinition', { family: 'p', containerDefinitions: [{ name: 'c', image: 'x', cpu: 256, memory: 128 }] });
      // The second replica loads the state now and learns of the first one's writes only through failed guards.
      const b = await replica(2);
      const calls = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b)('RunTask', { cluster: 'shared', taskDefinition: i % 3 === 0 ? 'w' : 'p' }));
      const results = await Promise.all(calls);
      const placed = results.reduce((n, r) => n + r.tasks.length, 0);
      assert.equal(placed, 8);

      const audit = await Catalog.open(store, ECS_KINDS);
      const tasks = [...audit.all<TaskRecord>(Kind.task)].map(([, v]) => v.value);
      assert.equal(tasks.length, 8);
      const byInstance = new Map<string, TaskRecord[]>();
      for (const t of tasks) byInstance.set(t.containerInstanceArn!, [...(byInstance.get(t.containerInstanceArn!) ?? []), t]);
      for (const on of byInstance.values()) {
        assert.ok(on.reduce((n, t) => n + reservedCpu(t), 0) <= 1024);
        const tcp = on.flatMap((t) => reservedHostPorts(t).tcp);
        assert.equal(new Set(tcp).size, tcp.length);
      }
    } finally {
      await store.close();
    }
  });
});
