import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { registerInstance, registerTaskDefinition, remaining, setAgentConnected } from './task-testing.js';
import { createTestEcs, TEST_ACCOUNT, TEST_REGION } from './testing.js';
import type { TestEcs } from './testing.js';

const ARN = `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:`;
const START_SECONDS = Date.UTC(2026, 0, 1) / 1000;

describe('RunTask', () => {
  let ecs: TestEcs;
  beforeEach(async () => {
    ecs = await createTestEcs();
    await ecs.call('CreateCluster', { clusterName: 'c1' });
  });
  afterEach(() => ecs.close());

  it('places a PENDING task and returns the full Task shape', async () => {
    const ci = await registerInstance(ecs, 'c1', { az: 'us-west-2b' });
    const td = await registerTaskDefinition(ecs, { tags: [{ key: 'from', value: 'td' }] });
    const out = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', startedBy: 'job-1', tags: [{ key: 'k', value: 'v' }] });
    assert.deepEqual(out.failures, []);
    assert.equal(out.tasks.length, 1);
    const t = out.tasks[0];
    const id = t.taskArn.split('/').at(-1);
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(t.taskArn, `${ARN}task/c1/${id}`);
    assert.equal(t.clusterArn, `${ARN}cluster/c1`);
    assert.equal(t.taskDefinitionArn, td.taskDefinitionArn);
    assert.equal(t.containerInstanceArn, ci.containerInstanceArn);
    assert.equal(t.availabilityZone, 'us-west-2b');
    assert.deepEqual(t.attributes, [{ name: 'ecs.cpu-architecture', value: 'x86_64' }]);
    assert.deepEqual([t.lastStatus, t.desiredStatus, t.launchType, t.healthStatus, t.version], ['PENDING', 'RUNNING', 'EC2', 'UNKNOWN', 1]);
    assert.deepEqual([t.group, t.startedBy, t.cpu, t.memory, t.createdAt], ['family:web', 'job-1', '256', '512', START_SECONDS]);
    assert.deepEqual(t.overrides, { containerOverrides: [{ name: 'web' }], inferenceAcceleratorOverrides: [] });
    assert.deepEqual(t.tags, [{ key: 'k', value: 'v' }]);
    assert.equal(t.enableExecuteCommand, false);
    assert.deepEqual(t.containers, [
      {
        containerArn: t.containers[0].containerArn,
        taskArn: t.taskArn,
        name: 'web',
        image: 'nginx:1.27',
        lastStatus: 'PENDING',
        networkBindings: [],
        networkInterfaces: [],
        healthStatus: 'UNKNOWN',
        cpu: '256',
        memory: '512',
      },
    ]);
    assert.match(t.containers[0].containerArn, new RegExp(`^${ARN}container/c1/${id}/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`));
    // Internal bookkeeping never reaches the wire.
    for (const k of ['reservation', 'cluster', 'id', 'containerInstanceId', 'clientToken', 'requestDigest']) assert.equal(t[k], undefined, k);
    assert.equal(t.containers[0].essential, undefined);
  });

  it('accounts for placed tasks in DescribeContainerInstances and DescribeClusters', async () => {
    const ci = await registerInstance(ecs, 'c1', { cpu: 1024, memory: 2048 });
    await registerTaskDefinition(ecs, {
      containerDefinitions: [{ name: 'web', image: 'nginx', cpu: 128, memory: 512, memoryReservation: 256, portMappings: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, hostPort: 5353, protocol: 'udp' }, { containerPort: 9000 }] }],
    });
    await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web' });
    const { containerInstances: [d] } = await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: [ci.containerInstanceArn] });
    assert.equal(remaining(d, 'CPU'), 1024 - 128);
    assert.equal(remaining(d, 'MEMORY'), 2048 - 256);
    assert.deepEqual(remaining(d, 'PORTS'), ['22', '2375', '2376', '51678', '51679', '8080']);
    assert.deepEqual(remaining(d, 'PORTS_UDP'), ['5353']);
    assert.deepEqual([d.runningTasksCount, d.pendingTasksCount, d.version], [1, 1, 2]);
    const { clusters: [c] } = await ecs.call('DescribeClusters', { clusters: ['c1'] });
    assert.deepEqual([c.pendingTasksCount, c.runningTasksCount], [1, 0]);
  });

  it('places count tasks one after another and reports the rest as failures naming the closest instance', async () => {
    const small = await registerInstance(ecs, 'c1', { cpu: 4096, memory: 600 });
    const big = await registerInstance(ecs, 'c1', { cpu: 4096, memory: 1100 });
    await registerTaskDefinition(ecs);
    const out = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', count: 5 });
    assert.equal(out.tasks.length, 3);
    const on = out.tasks.map((t: { containerInstanceArn: string }) => t.containerInstanceArn).sort();
    assert.deepEqual(on, [small.containerInstanceArn, big.containerInstanceArn, big.containerInstanceArn].sort());
    assert.equal(out.failures.length, 2);
    for (const f of out.failures) {
      assert.equal(f.reason, 'RESOURCE:MEMORY');
      // Both are full; the closest is the one missing least memory (small: 88 MiB left, big: 76).
      assert.equal(f.arn, small.containerInstanceArn);
      assert.match(f.detail, /needs 512 MiB/);
    }
  });

  it('reports CPU, static port, GPU and agent failures with their ECS reasons', async () => {
    const ci = await registerInstance(ecs, 'c1', { cpu: 300, memory: 4096, gpus: ['gpu-0'] });
    await registerTaskDefinition(ecs, { family: 'cpu', containerDefinitions: [{ name: 'c', image: 'x', cpu: 512, memory: 64 }] });
    await registerTaskDefinition(ecs, { family: 'port', containerDefinitions: [{ name: 'c', image: 'x', memory: 64, portMappings: [{ containerPort: 22, hostPort: 22 }] }] });
    await registerTaskDefinition(ecs, { family: 'gpu', containerDefinitions: [{ name: 'c', image: 'x', memory: 64, resourceRequirements: [{ type: 'GPU', value: '2' }] }] });
    await registerTaskDefinition(ecs, { family: 'ok', containerDefinitions: [{ name: 'c', image: 'x', memory: 64 }] });
    const reason = async (family: string) => (await ecs.call('RunTask', { cluster: 'c1', taskDefinition: family })).failures[0]?.reason;
    assert.equal(await reason('cpu'), 'RESOURCE:CPU');
    assert.equal(await reason('port'), 'RESOURCE:PORTS_TCP');
    assert.equal(await reason('gpu'), 'RESOURCE:GPU');
    await setAgentConnected(ecs, 'c1', ci.containerInstanceArn, false);
    const out = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'ok' });
    assert.deepEqual(out.tasks, []);
    assert.deepEqual(out.failures[0].arn, ci.containerInstanceArn);
    assert.deepEqual(out.failures[0].reason, 'AGENT');
  });

  it('assigns GPUs to the containers that ask for them', async () => {
    await registerInstance(ecs, 'c1', { gpus: ['gpu-0', 'gpu-1', 'gpu-2'] });
    await registerTaskDefinition(ecs, {
      family: 'gpu',
      containerDefinitions: [
        { name: 'a', image: 'x', memory: 64, resourceRequirements: [{ type: 'GPU', value: '2' }] },
        { name: 'b', image: 'x', memory: 64 },
      ],
    });
    const first = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'gpu' });
    assert.deepEqual(first.tasks[0].containers.map((c: { gpuIds?: string[] }) => c.gpuIds), [['gpu-0', 'gpu-1'], undefined]);
    const second = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'gpu' });
    assert.equal(second.failures[0].reason, 'RESOURCE:GPU');
  });

  it('needs the attributes the task definition requires (ATTRIBUTE)', async () => {
    await registerInstance(ecs, 'c1');
    await registerTaskDefinition(ecs, {
      family: 'hc',
      containerDefinitions: [{ name: 'c', image: 'x', memory: 64, healthCheck: { command: ['CMD', 'true'] } }],
    });
    const out = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'hc' });
    assert.equal(out.failures[0].reason, 'ATTRIBUTE');
    await registerInstance(ecs, 'c1', {
      attributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.24' }, { name: 'ecs.capability.container-health-check' }],
    });
    assert.equal((await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'hc' })).tasks.length, 1);
  });

  it('refuses an empty cluster, bad counts and unknown clusters', async () => {
    await registerTaskDefinition(ecs);
    const empty = await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web' });
    assert.deepEqual([empty.code, empty.message], ['InvalidParameterException', 'No Container Instances were found in your cluster.']);
    await registerInstance(ecs, 'c1');
    for (const count of [0, 11]) assert.equal((await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web', count })).code, 'InvalidParameterException');
    assert.equal((await ecs.fail('RunTask', { cluster: 'nope', taskDefinition: 'web' })).code, 'ClusterNotFoundException');
  });

  it('runs only ACTIVE task definitions', async () => {
    await registerInstance(ecs, 'c1');
    await registerTaskDefinition(ecs);
    await registerTaskDefinition(ecs);
    await ecs.call('DeregisterTaskDefinition', { taskDefinition: 'web:2' });
    const inactive = await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web:2' });
    assert.deepEqual([inactive.code, inactive.message], ['ClientException', 'TaskDefinition is inactive']);
    // A bare family runs its latest ACTIVE revision.
    assert.match((await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web' })).tasks[0].taskDefinitionArn, /:task-definition\/web:1$/);
    assert.equal((await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'nope' })).code, 'ClientException');
    await ecs.call('DeregisterTaskDefinition', { taskDefinition: 'web:1' });
    assert.equal((await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web' })).code, 'ClientException');
  });

  it('runs EC2 tasks only for now, and checks placement options as ECS does', async () => {
    await registerInstance(ecs, 'c1');
    await registerTaskDefinition(ecs);
    const run = (over: Record<string, unknown>) => ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web', ...over });
    assert.equal((await run({ launchType: 'FARGATE' })).code, 'UnsupportedFeatureException');
    assert.equal((await run({ launchType: 'EXTERNAL' })).code, 'UnsupportedFeatureException');
    assert.equal((await run({ capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] })).code, 'UnsupportedFeatureException');
    assert.equal((await run({ launchType: 'EC2', capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] })).code, 'InvalidParameterException');
    assert.equal((await run({ placementStrategy: Array.from({ length: 6 }, () => ({ type: 'random' })) })).code, 'InvalidParameterException');
    const bad = [
      { placementStrategy: [{ type: 'binpack', field: 'disk' }] },
      { placementStrategy: [{ type: 'spread' }] },
      { placementStrategy: [{ type: 'spread', field: 'zone' }] },
      { placementConstraints: [{ type: 'distinctInstance', expression: 'attribute:a == b' }] },
      { placementConstraints: [{ type: 'memberOf' }] },
      { placementConstraints: [{ type: 'memberOf', expression: 'attribute:a ==' }] },
      { placementConstraints: [{ type: 'memberOf', expression: `attribute:a == ${'x'.repeat(2000)}` }] },
      { placementConstraints: Array.from({ length: 11 }, () => ({ type: 'distinctInstance' })) },
    ];
    for (const over of bad) assert.equal((await run(over)).code, 'InvalidParameterException', JSON.stringify(over));
    assert.match((await run({ placementConstraints: [{ type: 'memberOf', expression: 'attribute:a ==' }] })).message, /placementConstraints\[0\]: .*offset/);
    const ok = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', launchType: 'EC2', placementStrategy: [{ type: 'random' }] });
    assert.equal(ok.tasks.length, 1);
  });

  it('applies overrides to what is reserved and echoes them, and refuses unknown containers', async () => {
    const ci = await registerInstance(ecs, 'c1', { cpu: 2048, memory: 4096 });
    await registerTaskDefinition(ecs);
    const overrides = { containerOverrides: [{ name: 'web', command: ['sleep', '1'], cpu: 1024, memory: 2048, environment: [{ name: 'A', value: '1' }] }] };
    const out = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', overrides });
    const t = out.tasks[0];
    assert.deepEqual(t.overrides, { ...overrides, inferenceAcceleratorOverrides: [] });
    assert.deepEqual([t.cpu, t.memory, t.containers[0].cpu, t.containers[0].memory], ['1024', '2048', '1024', '2048']);
    const { containerInstances: [d] } = await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: [ci.containerInstanceArn] });
    assert.deepEqual([remaining(d, 'CPU'), remaining(d, 'MEMORY')], [1024, 2048]);
    const e = await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web', overrides: { containerOverrides: [{ name: 'db', command: ['x'] }] } });
    assert.deepEqual([e.code, e.message], ['InvalidParameterException', 'Override for container named db is not a container in the TaskDefinition.']);
    const big = { containerOverrides: [{ name: 'web', command: ['x'.repeat(8200)] }] };
    assert.equal((await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web', overrides: big })).code, 'InvalidParameterException');
  });

  it('is idempotent on clientToken, and a used token with another request is a ConflictException carrying the task ARNs', async () => {
    await registerInstance(ecs, 'c1');
    await registerTaskDefinition(ecs);
    const req = { cluster: 'c1', taskDefinition: 'web', count: 2, clientToken: 'tok-1' };
    const first = await ecs.call('RunTask', req);
    const again = await ecs.call('RunTask', req);
    const arns = first.tasks.map((t: { taskArn: string }) => t.taskArn);
    assert.deepEqual(again.tasks.map((t: { taskArn: string }) => t.taskArn), arns);
    assert.equal((await ecs.call('ListTasks', { cluster: 'c1' })).taskArns.length, 2);
    const e = await ecs.fail('RunTask', { ...req, count: 1 });
    assert.equal(e.code, 'ConflictException');
    assert.deepEqual(e.extra['resourceIds'], arns);
    // Tokens are per request content, not per task: another token runs new tasks.
    assert.equal((await ecs.call('RunTask', { ...req, clientToken: 'tok-2' })).tasks.length, 2);
    assert.equal((await ecs.fail('RunTask', { ...req, clientToken: 'bad token' })).code, 'InvalidParameterException');
  });

  it('propagates task definition tags when asked, adds managed tags, and refuses SERVICE', async () => {
    await registerInstance(ecs, 'c1');
    await registerTaskDefinition(ecs, { tags: [{ key: 'team', value: 'a' }, { key: 'env', value: 'td' }] });
    const out = await ecs.call('RunTask', {
      cluster: 'c1',
      taskDefinition: 'web',
      propagateTags: 'TASK_DEFINITION',
      enableECSManagedTags: true,
      tags: [{ key: 'env', value: 'run' }],
    });
    assert.deepEqual(out.tasks[0].tags, [
      { key: 'team', value: 'a' },
      { key: 'env', value: 'run' },
      { key: 'aws:ecs:clusterName', value: 'c1' },
    ]);
    assert.deepEqual((await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', propagateTags: 'NONE' })).tasks[0].tags, []);
    assert.equal((await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web', propagateTags: 'SERVICE' })).code, 'InvalidParameterException');
  });

  it('needs a task role for execute command, and refuses EBS volume configurations', async () => {
    await registerInstance(ecs, 'c1');
    await registerTaskDefinition(ecs);
    assert.equal((await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web', enableExecuteCommand: true })).code, 'InvalidParameterException');
    const out = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', enableExecuteCommand: true, overrides: { taskRoleArn: 'arn:aws:iam::123456789012:role/app' } });
    assert.deepEqual([out.tasks[0].enableExecuteCommand, out.tasks[0].overrides.taskRoleArn], [true, 'arn:aws:iam::123456789012:role/app']);
    const ebs = { volumeConfigurations: [{ name: 'data', managedEBSVolume: { roleArn: 'arn:aws:iam::123456789012:role/ebs' } }] };
    assert.equal((await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web', ...ebs })).code, 'UnsupportedFeatureException');
  });

  it('validates group and startedBy, and keeps a given group', async () => {
    await registerInstance(ecs, 'c1');
    await registerTaskDefinition(ecs);
    assert.equal((await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'web', group: 'batch:nightly' })).tasks[0].group, 'batch:nightly');
    for (const over of [{ group: 'g'.repeat(256) }, { startedBy: 'has space' }, { startedBy: 's'.repeat(129) }]) {
      assert.equal((await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web', ...over })).code, 'InvalidParameterException', JSON.stringify(over));
    }
  });

  it('needs a network configuration for awsvpc tasks, and none for the others', async () => {
    await registerInstance(ecs, 'c1', { attributes: [{ name: 'ecs.capability.task-eni' }] });
    await registerTaskDefinition(ecs, { family: 'vpc', networkMode: 'awsvpc' });
    await registerTaskDefinition(ecs);
    const networkConfiguration = { awsvpcConfiguration: { subnets: ['subnet-1'] } };
    assert.equal((await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'vpc' })).code, 'InvalidParameterException');
    assert.equal((await ecs.fail('RunTask', { cluster: 'c1', taskDefinition: 'web', networkConfiguration })).code, 'InvalidParameterException');
    const out = await ecs.call('RunTask', { cluster: 'c1', taskDefinition: 'vpc', networkConfiguration });
    assert.equal(out.tasks[0].lastStatus, 'PROVISIONING');
  });
});

describe('StartTask', () => {
  let ecs: TestEcs;
  beforeEach(async () => {
    ecs = await createTestEcs();
    await ecs.call('CreateCluster', { clusterName: 'c1' });
  });
  afterEach(() => ecs.close());

  it('starts one task on each named instance, with failures per instance', async () => {
    const a = await registerInstance(ecs, 'c1');
    const b = await registerInstance(ecs, 'c1', { memory: 100 });
    const gone = await registerInstance(ecs, 'c1');
    await ecs.call('DeregisterContainerInstance', { cluster: 'c1', containerInstance: gone.containerInstanceArn });
    await registerTaskDefinition(ecs);
    const missing = `${ARN}container-instance/c1/${'f'.repeat(32)}`;
    const out = await ecs.call('StartTask', {
      cluster: 'c1',
      taskDefinition: 'web',
      containerInstances: [a.containerInstanceArn, b.containerInstanceArn.split('/').at(-1), gone.containerInstanceArn, missing],
      startedBy: 'me',
      group: 'g1',
    });
    assert.equal(out.tasks.length, 1);
    assert.deepEqual([out.tasks[0].containerInstanceArn, out.tasks[0].startedBy, out.tasks[0].group], [a.containerInstanceArn, 'me', 'g1']);
    assert.deepEqual(
      out.failures.map((f: { arn: string; reason: string }) => [f.arn, f.reason]),
      [
        [b.containerInstanceArn, 'RESOURCE:MEMORY'],
        [gone.containerInstanceArn, 'INACTIVE'],
        [missing, 'MISSING'],
      ],
    );
  });

  it('places against the state the earlier tasks of the call left', async () => {
    const a = await registerInstance(ecs, 'c1', { memory: 1024 });
    await registerTaskDefinition(ecs);
    const out = await ecs.call('StartTask', { cluster: 'c1', taskDefinition: 'web', containerInstances: Array(3).fill(a.containerInstanceArn) });
    assert.equal(out.tasks.length, 2);
    assert.equal(out.failures[0].reason, 'RESOURCE:MEMORY');
  });

  it('refuses disconnected agents (AGENT), and more than 10 instances', async () => {
    const a = await registerInstance(ecs, 'c1');
    await registerTaskDefinition(ecs);
    await setAgentConnected(ecs, 'c1', a.containerInstanceArn, false);
    const out = await ecs.call('StartTask', { cluster: 'c1', taskDefinition: 'web', containerInstances: [a.containerInstanceArn] });
    assert.deepEqual(out.failures, [{ arn: a.containerInstanceArn, reason: 'AGENT', detail: out.failures[0].detail }]);
    const e = await ecs.fail('StartTask', { cluster: 'c1', taskDefinition: 'web', containerInstances: Array(11).fill(a.containerInstanceArn) });
    assert.equal(e.code, 'InvalidParameterException');
  });
});
