/**
 * The service scheduler end to end in process: the services API, the controller, the placement engine and a
 * simulated agent that runs what it is told (reports RUNNING for new tasks, STOPPED for stopped ones). Every
 * rolling update is sampled after each step for ECS's bounds: never more than ⌊desired × max%⌋ tasks, never fewer
 * than ⌈desired × min%⌉ healthy ones.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Kind } from '../domain/records.js';
import type { TaskRecord } from '../domain/task.js';
import { registerInstance, registerTaskDefinition, report, setAgentConnected } from '../api/ecs/task-testing.js';
import { createTestEcs } from '../api/ecs/testing.js';
import type { TestEcs } from '../api/ecs/testing.js';
import { stopTask } from '../domain/task-lifecycle.js';
import { putOp } from '../state/catalog.js';
import { epochSeconds } from '../util/clock.js';
import { createLogger } from '../util/log.js';
import { ServiceController } from './controller.js';

const ZONES = ['us-west-2a', 'us-west-2b', 'us-west-2c'];

describe('service controller', () => {
  let ecs: TestEcs;
  let controller: ServiceController;
  let instances: string[];

  beforeEach(async () => {
    ecs = await createTestEcs();
    await ecs.call('CreateCluster', { clusterName: 'c1' });
    instances = [];
    for (let i = 0; i < 6; i++) {
      const ci = await registerInstance(ecs, 'c1', { az: ZONES[i % 3]!, cpu: 4096, memory: 8192 });
      await setAgentConnected(ecs, 'c1', ci.containerInstanceArn, true);
      instances.push(ci.containerInstanceArn);
    }
    await registerTaskDefinition(ecs, { containerDefinitions: [{ name: 'web', image: 'nginx:1', cpu: 128, memory: 256 }] });
    await registerTaskDefinition(ecs, { containerDefinitions: [{ name: 'web', image: 'nginx:2', cpu: 128, memory: 256 }] });
    const d = ecs.deps;
    controller = new ServiceController({ state: d.state, arns: d.arns, clock: d.clock, rng: d.rng, logger: createLogger({ level: 'error', format: 'text' }), intervalMs: 3_600_000 });
    controller.start();
  });
  afterEach(async () => {
    await controller.stop();
    await ecs.close();
  });

  const tasks = () => [...ecs.deps.state.catalog.all<TaskRecord>(Kind.task)].map(([, v]) => v.value);
  const live = () => tasks().filter((t) => t.desiredStatus !== 'STOPPED' && t.lastStatus !== 'STOPPED');
  const describe1 = async () => (await ecs.call('DescribeServices', { cluster: 'c1', services: ['web'] })).services[0];

  /** The agent's part: start what is pending, finish what is stopping; `fail` makes new tasks exit at once. */
  async function agentStep(opts: { fail?: (t: TaskRecord) => boolean } = {}): Promise<boolean> {
    const now = epochSeconds(ecs.deps.clock.now());
    let changed = false;
    for (const t of tasks()) {
      if (t.desiredStatus === 'STOPPED' && t.lastStatus !== 'STOPPED') {
        await report(ecs, t.taskArn, { lastStatus: 'STOPPED', executionStoppedAt: now, containers: [{ name: 'web', lastStatus: 'STOPPED', exitCode: 0 }] });
        changed = true;
      } else if (t.desiredStatus === 'RUNNING' && t.lastStatus === 'PENDING') {
        if (opts.fail?.(t)) {
          await report(ecs, t.taskArn, { lastStatus: 'STOPPED', startedAt: now, executionStoppedAt: now, stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{ name: 'web', lastStatus: 'STOPPED', exitCode: 1 }] });
        } else {
          await report(ecs, t.taskArn, { lastStatus: 'RUNNING', startedAt: now, containers: [{ name: 'web', lastStatus: 'RUNNING', runtimeId: t.id }] });
        }
        changed = true;
      }
    }
    await controller.settled();
    return changed;
  }

  /** Runs agent steps until nothing changes, checking the deployment bounds after every step. */
  async function converge(bounds?: { desired: number; min: number; max: number }, fail?: (t: TaskRecord) => boolean): Promise<void> {
    await controller.settled();
    for (let i = 0; i < 100; i++) {
      if (bounds) {
        const l = live();
        assert.ok(l.length <= Math.floor((bounds.desired * bounds.max) / 100), `${l.length} tasks exceed maximumPercent`);
        const healthy = l.filter((t) => t.lastStatus === 'RUNNING').length;
        assert.ok(healthy >= Math.ceil((bounds.desired * bounds.min) / 100), `${healthy} healthy tasks are below minimumHealthyPercent`);
      }
      if (!(await agentStep(fail ? { fail } : {}))) return;
    }
    assert.fail('the service did not converge in 100 steps');
  }

  it('keeps desiredCount spread over zones, replaces a task that dies, and reaches a steady state', async () => {
    await ecs.call('CreateService', { cluster: 'c1', serviceName: 'web', taskDefinition: 'web:1', desiredCount: 6 });
    await converge();
    const s = await describe1();
    assert.deepEqual([s.runningCount, s.pendingCount, s.deployments.length, s.deployments[0].rolloutState], [6, 0, 1, 'COMPLETED']);
    assert.match(s.events[0].message, /has reached a steady state/);
    const perZone = new Map<string, number>();
    for (const t of live()) perZone.set(t.availabilityZone!, (perZone.get(t.availabilityZone!) ?? 0) + 1);
    assert.deepEqual([...perZone.values()], [2, 2, 2]);
    assert.equal(new Set(live().map((t) => t.containerInstanceArn)).size, 6, 'spread over instances within each zone');
    assert.ok(live().every((t) => t.group === 'service:web' && t.startedBy === s.deployments[0].id));

    const victim = live()[0]!;
    await report(ecs, victim.taskArn, { lastStatus: 'STOPPED', startedAt: victim.startedAt!, executionStoppedAt: 1, stopCode: 'EssentialContainerExited', containers: [{ name: 'web', lastStatus: 'STOPPED', exitCode: 137 }] });
    await converge();
    assert.equal(live().length, 6);
    assert.ok(!live().some((t) => t.taskArn === victim.taskArn));
  });

  it('rolls to a new revision within minimumHealthyPercent and maximumPercent, and 100/100 is blocked with ECS event', async () => {
    await ecs.call('CreateService', { cluster: 'c1', serviceName: 'web', taskDefinition: 'web:1', desiredCount: 4, deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 150 } });
    await converge();
    await ecs.call('UpdateService', { cluster: 'c1', service: 'web', taskDefinition: 'web:2' });
    const mid = await describe1();
    assert.deepEqual(mid.deployments.map((d: { status: string }) => d.status), ['PRIMARY', 'ACTIVE']);
    await converge({ desired: 4, min: 50, max: 150 });
    const done = await describe1();
    assert.equal(done.deployments.length, 1);
    assert.match(done.deployments[0].taskDefinition, /web:2$/);
    assert.ok(live().every((t) => t.taskDefinitionArn.endsWith('web:2')));

    await ecs.call('UpdateService', { cluster: 'c1', service: 'web', taskDefinition: 'web:1', deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 100 } });
    await converge({ desired: 4, min: 100, max: 100 });
    const blocked = await describe1();
    assert.equal(blocked.deployments.length, 2);
    assert.ok(blocked.events.some((e: { message: string }) => /unable to stop or start tasks during a deployment because of the service deployment configuration/.test(e.message)));
  });

  it('scales in keeping zones balanced, and a crashing revision trips the circuit breaker and rolls back', async () => {
    await ecs.call('CreateService', {
      cluster: 'c1',
      serviceName: 'web',
      taskDefinition: 'web:1',
      desiredCount: 6,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    });
    await converge();
    await ecs.call('UpdateService', { cluster: 'c1', service: 'web', desiredCount: 3 });
    await converge();
    assert.deepEqual(live().map((t) => t.availabilityZone).sort(), ZONES);

    await ecs.call('UpdateService', { cluster: 'c1', service: 'web', taskDefinition: 'web:2' });
    await converge(undefined, (t) => t.taskDefinitionArn.endsWith('web:2'));
    const s = await describe1();
    assert.ok(s.events.some((e: { message: string }) => /deployment failed: tasks failed to start/.test(e.message)), JSON.stringify(s.events.slice(0, 5)));
    assert.match(s.taskDefinition, /web:1$/, 'rolled back to the last completed revision');
    assert.equal(live().length, 3);
    assert.ok(live().every((t) => t.taskDefinitionArn.endsWith('web:1')));

    // The service deployments tell the same story: created, failed and rolled back, rollback done.
    const list = await ecs.call('ListServiceDeployments', { cluster: 'c1', service: 'web' });
    assert.deepEqual(list.serviceDeployments.map((d: { status: string }) => d.status), ['SUCCESSFUL', 'ROLLBACK_SUCCESSFUL', 'SUCCESSFUL']);
    const [described] = (await ecs.call('DescribeServiceDeployments', { serviceDeploymentArns: [list.serviceDeployments[1].serviceDeploymentArn] })).serviceDeployments;
    assert.equal(described.deploymentCircuitBreaker.status, 'TRIGGERED');
    assert.ok(described.deploymentCircuitBreaker.failureCount >= described.deploymentCircuitBreaker.threshold);
    assert.match(described.targetServiceRevision.arn, /:service-revision\/c1\/web\/\d{19}$/);
    assert.equal(described.rollback.serviceRevisionArn, list.serviceDeployments[0].targetServiceRevisionArn);
  });

  it('StopServiceDeployment rolls a deployment in progress back to the last completed one', async () => {
    await ecs.call('CreateService', { cluster: 'c1', serviceName: 'web', taskDefinition: 'web:1', desiredCount: 2 });
    await converge();
    await ecs.call('UpdateService', { cluster: 'c1', service: 'web', taskDefinition: 'web:2' });
    await controller.settled();
    const [current] = (await ecs.call('ListServiceDeployments', { cluster: 'c1', service: 'web', status: ['IN_PROGRESS'] })).serviceDeployments;
    await ecs.call('StopServiceDeployment', { serviceDeploymentArn: current.serviceDeploymentArn });
    await converge();
    assert.ok(live().every((t) => t.taskDefinitionArn.endsWith('web:1')));
    const statuses = (await ecs.call('ListServiceDeployments', { cluster: 'c1', service: 'web' })).serviceDeployments.map((d: { status: string }) => d.status);
    assert.deepEqual(statuses, ['SUCCESSFUL', 'ROLLBACK_SUCCESSFUL', 'SUCCESSFUL']);
    const again = await ecs.fail('StopServiceDeployment', { serviceDeploymentArn: current.serviceDeploymentArn });
    assert.equal(again.code, 'ConflictException');
  });

  it('runs a DAEMON task on every ACTIVE instance that satisfies its constraints, following instances as they come and go', async () => {
    await ecs.call('CreateService', {
      cluster: 'c1',
      serviceName: 'web',
      taskDefinition: 'web:1',
      schedulingStrategy: 'DAEMON',
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.availability-zone != us-west-2c' }],
    });
    await converge();
    assert.equal(live().length, 4);
    assert.ok(live().every((t) => t.availabilityZone !== 'us-west-2c'));
    assert.equal((await describe1()).desiredCount, 4);
    // A new instance gets one; a drained one loses its.
    const added = await registerInstance(ecs, 'c1', { az: 'us-west-2a' });
    await setAgentConnected(ecs, 'c1', added.containerInstanceArn, true);
    await converge();
    assert.ok(live().some((t) => t.containerInstanceArn === added.containerInstanceArn));
    await ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: [instances[0]], status: 'DRAINING' });
    await converge();
    assert.equal(live().length, 4);
    assert.ok(!live().some((t) => t.containerInstanceArn === instances[0]));
    // A new revision replaces each instance's task in place (max 100 %, min 0 %).
    await ecs.call('UpdateService', { cluster: 'c1', service: 'web', taskDefinition: 'web:2' });
    await converge();
    assert.equal(live().length, 4);
    assert.ok(live().every((t) => t.taskDefinitionArn.endsWith('web:2')));
    assert.equal((await ecs.fail('UpdateService', { cluster: 'c1', service: 'web', desiredCount: 3 })).code, 'InvalidParameterException');
  });

  it('rebalances over zones when a zone comes back', async () => {
    await ecs.call('CreateService', { cluster: 'c1', serviceName: 'web', taskDefinition: 'web:1', desiredCount: 6 });
    await converge();
    const zoneC = instances.filter((_, i) => i % 3 === 2);
    await ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: zoneC, status: 'DRAINING' });
    await converge({ desired: 6, min: 100, max: 200 });
    const byZone = () => live().map((t) => t.availabilityZone).sort().join(' ');
    assert.equal(byZone(), 'us-west-2a us-west-2a us-west-2a us-west-2b us-west-2b us-west-2b');
    await ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: zoneC, status: 'ACTIVE' });
    await converge({ desired: 6, min: 100, max: 200 });
    assert.equal(byZone(), 'us-west-2a us-west-2a us-west-2b us-west-2b us-west-2c us-west-2c');
    const events = (await describe1()).events.map((e: { message: string }) => e.message);
    assert.ok(events.some((m: string) => /is not AZ balanced with 3 tasks in us-west-2a, 3 tasks in us-west-2b, 0 tasks in us-west-2c/.test(m)), events.join('\n'));
    assert.match(events[0], /has reached a steady state/);
  });

  it('consolidates a binpack service onto fewer instances when asked (gantry:consolidate), freeing whole instances', async () => {
    // Spread first (one task per instance), then switch to binpack with consolidation on.
    await ecs.call('CreateService', { cluster: 'c1', serviceName: 'web', taskDefinition: 'web:1', desiredCount: 4, placementStrategy: [{ type: 'spread', field: 'instanceId' }] });
    await converge();
    assert.equal(new Set(live().map((t) => t.containerInstanceArn)).size, 4);
    const arn = (await describe1()).serviceArn;
    await ecs.call('TagResource', { resourceArn: arn, tags: [{ key: 'gantry:consolidate', value: 'true' }] });
    await ecs.call('UpdateService', { cluster: 'c1', service: 'web', placementStrategy: [{ type: 'binpack', field: 'memory' }] });
    await converge({ desired: 4, min: 100, max: 200 });
    assert.equal(live().length, 4);
    assert.equal(new Set(live().map((t) => t.containerInstanceArn)).size, 1, 'all four fit on one instance');
    assert.ok((await describe1()).events.some((e: { message: string }) => /is consolidating: moving 1 tasks off container instance/.test(e.message)));
  });

  it('honours task scale-in protection', async () => {
    await ecs.call('CreateService', { cluster: 'c1', serviceName: 'web', taskDefinition: 'web:1', desiredCount: 4 });
    await converge();
    const guarded = live().slice(0, 2).map((t) => t.taskArn);
    const set = await ecs.call('UpdateTaskProtection', { cluster: 'c1', tasks: guarded, protectionEnabled: true, expiresInMinutes: 60 });
    assert.deepEqual(set.protectedTasks.map((p: { protectionEnabled: boolean }) => p.protectionEnabled), [true, true]);
    await ecs.call('UpdateService', { cluster: 'c1', service: 'web', desiredCount: 1 });
    await converge();
    assert.deepEqual(live().map((t) => t.taskArn).sort(), [...guarded].sort(), 'the protected tasks survive scale-in, even above the desired count');
    const got = await ecs.call('GetTaskProtection', { cluster: 'c1', tasks: guarded });
    assert.ok(got.protectedTasks.every((p: { protectionEnabled: boolean; expirationDate: number }) => p.protectionEnabled && p.expirationDate > 0));
    await ecs.call('UpdateTaskProtection', { cluster: 'c1', tasks: [guarded[0]], protectionEnabled: false });
    await converge();
    assert.deepEqual(live().map((t) => t.taskArn), [guarded[1]]);
    const standalone = (await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web:1' })).tasks[0].taskArn;
    const refused = await ecs.call('UpdateTaskProtection', { cluster: 'c1', tasks: [standalone], protectionEnabled: true });
    assert.equal(refused.failures[0].reason, 'TASK_NOT_VALID');
    assert.equal((await ecs.fail('UpdateTaskProtection', { cluster: 'c1', tasks: [guarded[1]], protectionEnabled: true, expiresInMinutes: 2881 })).code, 'InvalidParameterException');
  });

  it('replaces the tasks of a lost instance elsewhere', async () => {
    await ecs.call('CreateService', { cluster: 'c1', serviceName: 'web', taskDefinition: 'web:1', desiredCount: 6 });
    await converge();
    const lost = live()[0]!.containerInstanceArn!;
    // What the instance monitor does when an agent stays away: disconnected, its tasks stopped (InfrastructureHealth).
    await setAgentConnected(ecs, 'c1', lost, false);
    const { state } = ecs.deps;
    await state.catalog.transact(() => {
      const ops = [];
      for (const t of live().filter((x) => x.containerInstanceArn === lost)) {
        const cur = state.task('c1', t.id)!;
        ops.push(putOp(Kind.task, `c1/${t.id}`, stopTask(cur.value, 'InfrastructureHealth', 'lost', 100, { immediately: true })!, cur));
      }
      return { ops, result: undefined };
    });
    await converge();
    assert.equal(live().length, 6);
    assert.ok(!live().some((t) => t.containerInstanceArn === lost));
  });

  it('moves tasks off a draining instance, and DeleteService drains the service to INACTIVE', async () => {
    await ecs.call('CreateService', { cluster: 'c1', serviceName: 'web', taskDefinition: 'web:1', desiredCount: 6, deploymentConfiguration: { minimumHealthyPercent: 50 } });
    await converge();
    const drained = live()[0]!.containerInstanceArn!;
    await ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: [drained], status: 'DRAINING' });
    await converge({ desired: 6, min: 50, max: 200 });
    assert.equal(live().length, 6);
    assert.ok(!live().some((t) => t.containerInstanceArn === drained));

    const bad = await ecs.fail('DeleteService', { cluster: 'c1', service: 'web' });
    assert.equal(bad.code, 'InvalidParameterException');
    assert.equal((await ecs.call('DeleteService', { cluster: 'c1', service: 'web', force: true })).service.status, 'DRAINING');
    await converge();
    assert.equal(live().length, 0);
    assert.equal((await describe1()).status, 'INACTIVE');
    assert.deepEqual((await ecs.call('ListServices', { cluster: 'c1' })).serviceArns, []);
  });
});
