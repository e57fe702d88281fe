/**
 * Placement through the API: constraints from the task definition and the request, strategies, the failure
 * reasons RunTask reports, ExplainPlacement, and an audit after concurrent RunTask calls hammer one cluster.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { registerInstance, registerTaskDefinition, setAgentConnected } from './task-testing.js';
import { createTestEcs } from './testing.js';
import type { TestEcs } from './testing.js';

const ZONES = ['us-west-2a', 'us-west-2b', 'us-west-2c'];

async function fleet(ecs: TestEcs, n: number, spec: (i: number) => Parameters<typeof registerInstance>[2] = () => ({})): Promise<string[]> {
  await ecs.call('CreateCluster', { clusterName: 'c1' });
  const arns: string[] = [];
  for (let i = 0; i < n; i++) {
    const ci = await registerInstance(ecs, 'c1', { az: ZONES[i % 3]!, ...spec(i) });
    await setAgentConnected(ecs, 'c1', ci.containerInstanceArn, true);
    arns.push(ci.containerInstanceArn);
  }
  return arns;
}

const webWithPort = { family: 'web', containerDefinitions: [{ name: 'web', image: 'nginx', cpu: 256, memory: 512, portMappings: [{ containerPort: 80, hostPort: 8080 }] }] };

describe('placement through RunTask', () => {
  let ecs: TestEcs;
  beforeEach(async () => {
    ecs = await createTestEcs();
  });
  afterEach(async () => {
    await ecs.close();
  });

  it('lands a RunTask of 10 with distinctInstance on 10 different instances, and fails the rest with the ECS reason', async () => {
    const arns = await fleet(ecs, 10);
    await registerTaskDefinition(ecs, { containerDefinitions: [{ name: 'web', image: 'nginx', cpu: 10, memory: 10 }] });
    const r = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', count: 10, placementConstraints: [{ type: 'distinctInstance' }] });
    assert.equal(new Set(r.tasks.map((t: { containerInstanceArn: string }) => t.containerInstanceArn)).size, 10);
    const more = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', count: 2, placementConstraints: [{ type: 'distinctInstance' }] });
    assert.equal(more.tasks.length, 0);
    assert.deepEqual(
      more.failures.map((f: { reason: string }) => f.reason),
      ['DistinctInstance placement constraint unsatisfied.', 'DistinctInstance placement constraint unsatisfied.'],
    );
    assert.ok(arns.includes(more.failures[0].arn));
    // Another group is not held back by the first one's tasks.
    const other = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', group: 'other', count: 3, placementConstraints: [{ type: 'distinctInstance' }] });
    assert.equal(other.tasks.length, 3);
  });

  it("applies the task definition's memberOf together with the request's", async () => {
    await fleet(ecs, 6, (i) => ({ attributes: [{ name: 'stack', value: i < 3 ? 'prod' : 'dev' }] }));
    await registerTaskDefinition(ecs, {
      containerDefinitions: [{ name: 'web', image: 'nginx', cpu: 10, memory: 10 }],
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:stack == prod' }],
    });
    const r = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', count: 10 });
    const described = await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: [...new Set(r.tasks.map((t: { containerInstanceArn: string }) => t.containerInstanceArn))] });
    for (const ci of described.containerInstances) assert.equal(ci.attributes.find((a: { name: string }) => a.name === 'stack').value, 'prod');
    const none = await ecs.call('RunTask', {
      cluster: 'c1',
      taskDefinition: 'web',
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.availability-zone == us-west-2c and attribute:stack == dev and attribute:stack != dev' }],
    });
    assert.equal(none.failures[0].reason, 'MemberOf placement constraint unsatisfied.');
    const tooMany = await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web', placementConstraints: Array.from({ length: 10 }, () => ({ type: 'distinctInstance' })) });
    assert.match(tooMany.message, /task definition's and the request's together; got 11/);
  });

  it('binpacks onto the fullest instance, and spreads over zones then instances', async () => {
    await fleet(ecs, 6, (i) => ({ memory: 1024 * (i + 1) }));
    await registerTaskDefinition(ecs, { containerDefinitions: [{ name: 'web', image: 'nginx', cpu: 10, memory: 512 }] });
    const packed = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', count: 3, placementStrategy: [{ type: 'binpack', field: 'memory' }] });
    const small = await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: [packed.tasks[0].containerInstanceArn] });
    assert.equal(small.containerInstances[0].registeredResources.find((r: { name: string }) => r.name === 'MEMORY').integerValue, 1024);
    // 1024 MiB holds two tasks; the third goes to the next fullest (2048).
    assert.equal(packed.tasks[0].containerInstanceArn, packed.tasks[1].containerInstanceArn);
    assert.notEqual(packed.tasks[2].containerInstanceArn, packed.tasks[0].containerInstanceArn);

    const spread = await ecs.call('RunTask', {
      cluster: 'c1',
      taskDefinition: 'web',
      group: 'spread',
      count: 6,
      placementStrategy: [
        { type: 'spread', field: 'attribute:ecs.availability-zone' },
        { type: 'spread', field: 'host' },
      ],
    });
    const zones = spread.tasks.map((t: { availabilityZone: string }) => t.availabilityZone).sort();
    assert.deepEqual(zones, ['us-west-2a', 'us-west-2a', 'us-west-2b', 'us-west-2b', 'us-west-2c', 'us-west-2c']);
    // The 1024 MiB instance (zone a) is full, so zone a's two tasks share its other instance; the rest are apart.
    assert.equal(new Set(spread.tasks.map((t: { containerInstanceArn: string }) => t.containerInstanceArn)).size, 5);
  });

  it('explains a placement without changing anything', async () => {
    const arns = await fleet(ecs, 4, (i) => ({ attributes: [{ name: 'stack', value: i === 0 ? 'dev' : 'prod' }], memory: i === 1 ? 256 : 4096 }));
    await registerTaskDefinition(ecs, webWithPort);
    const e = await ecs.call('ExplainPlacement', {
      cluster: 'c1',
      taskDefinition: 'web',
      count: 3,
      placementStrategy: [{ type: 'binpack', field: 'memory' }],
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:stack == prod' }],
    });
    const row = (arn: string) => e.instances.find((i: { containerInstanceArn: string }) => i.containerInstanceArn === arn);
    assert.equal(row(arns[0]!).rejectedBy, 'memberOf(attribute:stack == prod)');
    assert.equal(row(arns[0]!).reason, 'MemberOf placement constraint unsatisfied.');
    assert.equal(row(arns[1]!).rejectedBy, 'memory');
    assert.equal(row(arns[1]!).reason, 'RESOURCE:MEMORY');
    assert.deepEqual(row(arns[2]!).ranks, [{ rule: 'binpack(memory)', value: 4096, best: true }]);
    // The static host port allows one task per instance: two eligible instances, so the third task fails. The
    // closest instance is the one that got furthest through the pipeline: the dev one passed every resource check.
    assert.equal(e.placements.length, 2);
    assert.deepEqual([e.failures[0].arn, e.failures[0].reason], [arns[0], 'MemberOf placement constraint unsatisfied.']);
    assert.deepEqual(e.summary, { instances: 4, eligible: 2, rejectedBy: { 'memberOf(attribute:stack == prod)': 1, memory: 1 } });
    assert.deepEqual((await ecs.call('ListTasks', { cluster: 'c1' })).taskArns, []);
    assert.equal((await ecs.fail('ExplainPlacement', { cluster: 'c1', taskDefinition: 'web', placementStrategy: [{ type: 'binpack', field: 'disk' }] })).code, 'InvalidParameterException');
  });

  it('never over-commits an instance or breaks distinctInstance when RunTask calls race (audit)', async () => {
    const arns = await fleet(ecs, 12, (i) => ({ cpu: 2048, memory: 2048 + 512 * (i % 3) }));
    await registerTaskDefinition(ecs, webWithPort);
    await registerTaskDefinition(ecs, { family: 'api', containerDefinitions: [{ name: 'api', image: 'busybox', cpu: 128, memory: 300 }] });
    const calls = Array.from({ length: 60 }, (_, n) => {
      const kind = n % 3;
      if (kind === 0) return { cluster: 'c1', taskDefinition: 'web', count: 1 + (n % 4) };
      if (kind === 1) return { cluster: 'c1', taskDefinition: 'api', group: 'pinned', count: 10, placementConstraints: [{ type: 'distinctInstance' }] };
      return { cluster: 'c1', taskDefinition: 'api', count: 10, placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }, { type: 'binpack', field: 'memory' }] };
    });
    const results = await Promise.all(calls.map((c) => ecs.call('RunTask', c)));
    const placed = results.reduce((n, r) => n + r.tasks.length, 0);
    assert.ok(placed > 50, `only ${placed} tasks placed`);

    // The audit reads everything back through the API, as an operator would.
    const taskArns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecs.call('ListTasks', { cluster: 'c1', ...(nextToken ? { nextToken } : {}) });
      taskArns.push(...page.taskArns);
      nextToken = page.nextToken;
    } while (nextToken);
    assert.equal(taskArns.length, placed);
    const tasks: { containerInstanceArn: string; cpu: string; memory: string; group: string }[] = [];
    for (let i = 0; i < taskArns.length; i += 100) tasks.push(...(await ecs.call('DescribeTasks', { cluster: 'c1', tasks: taskArns.slice(i, i + 100) })).tasks);
    const { containerInstances } = await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: arns });
    for (const ci of containerInstances) {
      const mine = tasks.filter((t) => t.containerInstanceArn === ci.containerInstanceArn);
      const registered = (name: string) => ci.registeredResources.find((r: { name: string }) => r.name === name).integerValue as number;
      const left = (name: string) => ci.remainingResources.find((r: { name: string }) => r.name === name).integerValue as number;
      const cpu: number = mine.reduce((n, t) => n + Number(t.cpu), 0);
      const memory: number = mine.reduce((n, t) => n + Number(t.memory), 0);
      assert.ok(cpu <= registered('CPU'), `${ci.ec2InstanceId}: ${cpu} CPU units placed on ${registered('CPU')}`);
      assert.ok(memory <= registered('MEMORY'), `${ci.ec2InstanceId}: ${memory} MiB placed on ${registered('MEMORY')}`);
      assert.equal(left('CPU'), registered('CPU') - cpu);
      assert.equal(left('MEMORY'), registered('MEMORY') - memory);
      const webs = mine.filter((t) => t.group === 'family:web').length;
      assert.ok(webs <= 1, `${ci.ec2InstanceId}: ${webs} tasks hold host port 8080`);
      const pinned = mine.filter((t) => t.group === 'pinned').length;
      assert.ok(pinned <= 1, `${ci.ec2InstanceId}: ${pinned} tasks of the distinctInstance group`);
      assert.equal(ci.runningTasksCount, mine.length);
    }
  });
});
