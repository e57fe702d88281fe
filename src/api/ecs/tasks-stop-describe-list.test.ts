import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Kind } from '../../domain/records.js';
import { reapStoppedTasks } from './tasks.js';
import { registerInstance, registerTaskDefinition, remaining, report } from './task-testing.js';
import { createTestEcs, TEST_ACCOUNT, TEST_REGION } from './testing.js';
import type { TestEcs } from './testing.js';

const ARN = `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:`;
const START_SECONDS = Date.UTC(2026, 0, 1) / 1000;

describe('tasks after launch', () => {
  let ecs: TestEcs;
  let instanceArn: string;
  beforeEach(async () => {
    ecs = await createTestEcs();
    await ecs.call('CreateCluster', { clusterName: 'c1' });
    instanceArn = (await registerInstance(ecs, 'c1', { cpu: 4096, memory: 8192 })).containerInstanceArn;
    await registerTaskDefinition(ecs, { containerDefinitions: [{ name: 'web', image: 'nginx', cpu: 128, memory: 256, portMappings: [{ containerPort: 80, hostPort: 80 }] }] });
    await registerTaskDefinition(ecs, { family: 'batch', containerDefinitions: [{ name: 'job', image: 'busybox', memory: 64 }] });
  });
  afterEach(() => ecs.close());

  const run = async (over: Record<string, unknown> = {}) => (await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', ...over })).tasks[0];

  describe('StopTask', () => {
    it('stops a task no agent has picked up at once, freeing its resources', async () => {
      const t = await run();
      ecs.tick(5000);
      const { task } = await ecs.call('StopTask', { cluster: 'c1', task: t.taskArn });
      assert.deepEqual(
        [task.desiredStatus, task.lastStatus, task.stopCode, task.stoppedReason, task.stoppingAt, task.stoppedAt, task.version],
        ['STOPPED', 'STOPPED', 'UserInitiated', 'Task stopped by user', START_SECONDS + 5, START_SECONDS + 5, 2],
      );
      assert.equal(task.containers[0].lastStatus, 'STOPPED');
      const { containerInstances: [d] } = await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: [instanceArn] });
      assert.deepEqual([remaining(d, 'CPU'), remaining(d, 'MEMORY'), d.runningTasksCount, d.pendingTasksCount], [4096, 8192, 0, 0]);
      assert.ok(!(remaining(d, 'PORTS') as string[]).includes('80'));
      // The port is free again.
      assert.equal((await run()).lastStatus, 'PENDING');
    });

    it('asks the agent to stop a task it runs, and the agent\'s report finishes it', async () => {
      const t = await run();
      await report(ecs, t.taskArn, { lastStatus: 'RUNNING', containers: [{ name: 'web', lastStatus: 'RUNNING', runtimeId: 'abc' }] });
      ecs.tick(1000);
      const { task } = await ecs.call('StopTask', { cluster: 'c1', task: t.taskArn.split('/').at(-1), reason: 'rolling back' });
      assert.deepEqual([task.desiredStatus, task.lastStatus, task.stoppedReason, task.stoppingAt, task.stoppedAt], ['STOPPED', 'RUNNING', 'rolling back', START_SECONDS + 1, undefined]);
      // Stopping again changes nothing: the first stop stands.
      const again = await ecs.call('StopTask', { cluster: 'c1', task: t.taskArn, reason: 'other' });
      assert.deepEqual([again.task.stoppedReason, again.task.version], ['rolling back', task.version]);
      ecs.tick(2000);
      await report(ecs, t.taskArn, { lastStatus: 'STOPPED', containers: [{ name: 'web', lastStatus: 'STOPPED', exitCode: 143 }] });
      const { tasks: [d] } = await ecs.call('DescribeTasks', { cluster: 'c1', tasks: [t.taskArn] });
      assert.deepEqual([d.lastStatus, d.stopCode, d.stoppedAt, d.containers[0].exitCode], ['STOPPED', 'UserInitiated', START_SECONDS + 3, 143]);
    });

    it('refuses unknown tasks and overlong reasons with InvalidParameterException', async () => {
      const e = await ecs.fail('StopTask', { cluster: 'c1', task: 'f'.repeat(32) });
      assert.equal(e.code, 'InvalidParameterException');
      assert.match(e.message, /^The referenced task was not found/);
      const t = await run();
      assert.equal((await ecs.fail('StopTask', { cluster: 'c1', task: t.taskArn, reason: 'x'.repeat(256) })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('StopTask', { cluster: 'other', task: t.taskArn })).code, 'ClusterNotFoundException');
    });
  });

  describe('DescribeTasks', () => {
    it('describes by ID or ARN, with MISSING failures carrying the ARN, and tags only when asked', async () => {
      const t = await run({ tags: [{ key: 'a', value: 'b' }] });
      const id = t.taskArn.split('/').at(-1);
      const unknown = 'e'.repeat(32);
      const out = await ecs.call('DescribeTasks', { cluster: 'c1', tasks: [id, t.taskArn, unknown, `${ARN}task/other/${id}`] });
      assert.equal(out.tasks.length, 2);
      assert.deepEqual(out.tasks[0].tags, []);
      assert.deepEqual(out.failures, [
        { arn: `${ARN}task/c1/${unknown}`, reason: 'MISSING' },
        { arn: `${ARN}task/other/${id}`, reason: 'MISSING' },
      ]);
      const tagged = await ecs.call('DescribeTasks', { cluster: 'c1', tasks: [id], include: ['TAGS'] });
      assert.deepEqual(tagged.tasks[0].tags, [{ key: 'a', value: 'b' }]);
    });

    it('takes 1 to 100 tasks', async () => {
      assert.equal((await ecs.fail('DescribeTasks', { cluster: 'c1', tasks: [] })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('DescribeTasks', { cluster: 'c1', tasks: Array(101).fill('x') })).code, 'InvalidParameterException');
      assert.equal((await ecs.call('DescribeTasks', { cluster: 'c1', tasks: Array(100).fill('x') })).failures.length, 100);
    });

    it('shows what the agent reported: RUNNING with bindings and startedAt', async () => {
      const t = await run();
      ecs.tick(3000);
      await report(ecs, t.taskArn, {
        lastStatus: 'RUNNING',
        containers: [{ name: 'web', lastStatus: 'RUNNING', runtimeId: 'abc', networkBindings: [{ bindIP: '0.0.0.0', containerPort: 80, hostPort: 80, protocol: 'tcp' }] }],
      });
      const { tasks: [d] } = await ecs.call('DescribeTasks', { cluster: 'c1', tasks: [t.taskArn] });
      assert.deepEqual([d.lastStatus, d.startedAt, d.version, d.containers[0].runtimeId], ['RUNNING', START_SECONDS + 3, 2, 'abc']);
      assert.deepEqual(d.containers[0].networkBindings, [{ bindIP: '0.0.0.0', containerPort: 80, hostPort: 80, protocol: 'tcp' }]);
      const { containerInstances: [ci] } = await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: [instanceArn] });
      assert.deepEqual([ci.runningTasksCount, ci.pendingTasksCount], [1, 0]);
      assert.deepEqual((remaining(ci, 'PORTS') as string[]).filter((p) => p === '80'), ['80']);
    });
  });

  describe('ListTasks', () => {
    it('filters by desiredStatus (RUNNING by default), family, instance, startedBy and launchType', async () => {
      const web = await run({ startedBy: 'deploy-7' });
      const batch = await run({ taskDefinition: 'batch' });
      const stopped = await run({ taskDefinition: 'batch' });
      await ecs.call('StopTask', { cluster: 'c1', task: stopped.taskArn });
      const list = async (over: Record<string, unknown> = {}) => (await ecs.call('ListTasks', { cluster: 'c1', ...over })).taskArns.sort();
      assert.deepEqual(await list(), [web.taskArn, batch.taskArn].sort());
      assert.deepEqual(await list({ desiredStatus: 'STOPPED' }), [stopped.taskArn]);
      assert.deepEqual(await list({ desiredStatus: 'PENDING' }), []);
      assert.deepEqual(await list({ family: 'batch' }), [batch.taskArn]);
      assert.deepEqual(await list({ containerInstance: instanceArn.split('/').at(-1) }), [web.taskArn, batch.taskArn].sort());
      assert.deepEqual(await list({ startedBy: 'deploy-7' }), [web.taskArn]);
      assert.deepEqual(await list({ startedBy: 'deploy-7', desiredStatus: 'STOPPED' }), []);
      assert.deepEqual(await list({ launchType: 'FARGATE' }), []);
      assert.deepEqual(await list({ launchType: 'EC2', family: 'web' }), [web.taskArn]);
    });

    it('refuses startedBy with other filters, unknown instances and services', async () => {
      const e = await ecs.fail('ListTasks', { cluster: 'c1', startedBy: 'x', family: 'web' });
      assert.equal(e.code, 'InvalidParameterException');
      assert.equal((await ecs.fail('ListTasks', { cluster: 'c1', containerInstance: 'f'.repeat(32) })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('ListTasks', { cluster: 'c1', serviceName: 'api' })).code, 'ServiceNotFoundException');
      assert.equal((await ecs.fail('ListTasks', { cluster: 'nope' })).code, 'ClusterNotFoundException');
    });

    it('pages 150 tasks as 100 then 50, oldest first, each exactly once', async () => {
      await registerInstance(ecs, 'c1', { memory: 16384 });
      for (let i = 0; i < 15; i++) {
        await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'batch', count: 10 });
        ecs.tick(10);
      }
      const first = await ecs.call('ListTasks', { cluster: 'c1' });
      assert.equal(first.taskArns.length, 100);
      const second = await ecs.call('ListTasks', { cluster: 'c1', nextToken: first.nextToken });
      assert.equal(second.taskArns.length, 50);
      assert.equal(second.nextToken, undefined);
      assert.equal(new Set([...first.taskArns, ...second.taskArns]).size, 150);
      const created = (await ecs.call('DescribeTasks', { cluster: 'c1', tasks: first.taskArns })).tasks.map((t: { createdAt: number }) => t.createdAt);
      assert.deepEqual(created, [...created].sort((a, b) => a - b));
      const small = await ecs.call('ListTasks', { cluster: 'c1', maxResults: 7 });
      assert.equal(small.taskArns.length, 7);
      assert.equal((await ecs.fail('ListTasks', { cluster: 'c1', maxResults: 101 })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('ListTasks', { cluster: 'c1', family: 'web', nextToken: first.nextToken })).code, 'InvalidParameterException');
    });
  });

  describe('reapStoppedTasks', () => {
    it('removes STOPPED tasks once the retention has passed, and nothing else', async () => {
      const keep = await run({ taskDefinition: 'batch' });
      const old = await run({ taskDefinition: 'batch' });
      await ecs.call('StopTask', { cluster: 'c1', task: old.taskArn });
      const { state, clock } = ecs.deps;
      assert.equal(await reapStoppedTasks(state, clock.now() + 59 * 60 * 1000), 0);
      ecs.tick(60 * 60 * 1000);
      assert.equal(await reapStoppedTasks(state, clock.now()), 1);
      const out = await ecs.call('DescribeTasks', { cluster: 'c1', tasks: [keep.taskArn, old.taskArn] });
      assert.deepEqual(out.tasks.map((t: { taskArn: string }) => t.taskArn), [keep.taskArn]);
      assert.deepEqual(out.failures, [{ arn: old.taskArn, reason: 'MISSING' }]);
      assert.equal(state.catalog.count(Kind.task), 1);
    });

    it("keeps the instance's version when the task that carried its last bump is removed", async () => {
      const versionNow = async () => (await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: [instanceArn] })).containerInstances[0].version;
      const t = await run({ taskDefinition: 'batch' });
      await ecs.call('StopTask', { cluster: 'c1', task: t.taskArn });
      // Registered (1), a task placed (2), its stop requested (3): the bumps live on the task record, not the instance's.
      assert.equal(await versionNow(), 3);
      const { state, clock } = ecs.deps;
      assert.equal(state.instanceByArn('c1', instanceArn)!.value.version, 1);
      ecs.tick(60 * 60 * 1000);
      assert.equal(await reapStoppedTasks(state, clock.now()), 1);
      assert.equal(await versionNow(), 3);
      assert.equal(state.instanceByArn('c1', instanceArn)!.value.version, 3);
      await run({ taskDefinition: 'batch' });
      assert.equal(await versionNow(), 4);
    });
  });
});
