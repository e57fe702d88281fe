import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Kind } from '../../domain/records.js';
import { createTestEcs, TEST_ACCOUNT, TEST_REGION } from './testing.js';
import type { TestEcs } from './testing.js';

const ARN_PREFIX = `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:`;
const START_SECONDS = Date.UTC(2026, 0, 1) / 1000;

const identity = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    instanceId: 'i-0123456789abcdef0',
    availabilityZone: 'us-west-2a',
    instanceType: 't3.large',
    imageId: 'ami-0abc',
    architecture: 'x86_64',
    region: TEST_REGION,
    ...over,
  });

/** A registration as the stock agent sends it. */
const registration = (over: Record<string, unknown> = {}) => ({
  cluster: 'c1',
  instanceIdentityDocument: identity(),
  instanceIdentityDocumentSignature: 'sig',
  totalResources: [
    { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
    { name: 'MEMORY', type: 'INTEGER', integerValue: 3955 },
    { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22', '2375', '2376', '51678', '51679'] },
    { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
  ],
  versionInfo: { agentVersion: '1.105.1', agentHash: '8dfceca6', dockerVersion: 'DockerVersion: 25.0.8' },
  attributes: [
    { name: 'ecs.os-type', value: 'linux' },
    { name: 'ecs.os-family', value: 'LINUX' },
    { name: 'com.amazonaws.ecs.capability.docker-remote-api.1.17' },
    { name: 'ecs.capability.cni-plugin-version', value: 'e0703516-' },
    { name: 'stack', value: 'prod' },
  ],
  ...over,
});

const resource = (out: { registeredResources?: { name: string }[]; remainingResources?: { name: string }[] }, list: 'registeredResources' | 'remainingResources', name: string) =>
  out[list]?.find((r) => r.name === name) as { integerValue?: number; stringSetValue?: string[] } | undefined;

describe('container instances', () => {
  let ecs: TestEcs;
  beforeEach(async () => {
    ecs = await createTestEcs();
    await ecs.call('CreateCluster', { clusterName: 'c1' });
  });
  afterEach(() => ecs.close());

  const register = async (over: Record<string, unknown> = {}) => (await ecs.call('RegisterContainerInstance', registration(over))).containerInstance;
  const putTask = (key: string, value: Record<string, unknown>) =>
    ecs.deps.state.catalog.commit([{ op: 'put', kind: Kind.task, key: `c1/${key}`, value: { cluster: 'c1', ...value } }]);

  describe('RegisterContainerInstance', () => {
    it('registers an ACTIVE, connected instance at version 1 with long-format ARN and echoes every attribute sent', async () => {
      const ci = await register({ tags: [{ key: 'team', value: 'infra' }] });
      const id = ci.containerInstanceArn.split('/').at(-1);
      assert.match(id, /^[0-9a-f]{32}$/);
      assert.equal(ci.containerInstanceArn, `${ARN_PREFIX}container-instance/c1/${id}`);
      assert.equal(ci.status, 'ACTIVE');
      assert.equal(ci.agentConnected, true);
      assert.equal(ci.version, 1);
      assert.equal(ci.registeredAt, START_SECONDS);
      assert.equal(ci.ec2InstanceId, 'i-0123456789abcdef0');
      assert.deepEqual(ci.versionInfo, { agentVersion: '1.105.1', agentHash: '8dfceca6', dockerVersion: 'DockerVersion: 25.0.8' });
      assert.deepEqual(ci.tags, [{ key: 'team', value: 'infra' }]);
      assert.equal(ci.runningTasksCount, 0);
      assert.equal(ci.pendingTasksCount, 0);
      assert.deepEqual(ci.attachments, []);
      // The agent refuses a registration whose response lacks any attribute it sent (validateRegisteredAttributes).
      const got = new Map(ci.attributes.map((a: { name: string; value?: string }) => [a.name, a.value]));
      for (const a of registration().attributes) assert.equal(got.get(a.name), a.value, a.name);
      assert.equal(got.get('ecs.availability-zone'), 'us-west-2a');
      assert.equal(got.get('ecs.instance-type'), 't3.large');
      assert.equal(got.get('ecs.ami-id'), 'ami-0abc');
      assert.equal(got.get('ecs.cpu-architecture'), 'x86_64');
      assert.deepEqual(ci.registeredResources[0], { name: 'CPU', type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue: 2048 });
      assert.deepEqual(resource(ci, 'registeredResources', 'PORTS')?.stringSetValue, ['22', '2375', '2376', '51678', '51679']);
      assert.deepEqual(ci.remainingResources, ci.registeredResources);
    });

    it('refuses a missing or INACTIVE cluster with ClusterNotFoundException', async () => {
      const e = await ecs.fail('RegisterContainerInstance', registration({ cluster: 'nope' }));
      assert.equal(e.code, 'ClusterNotFoundException');
      assert.equal(e.message, 'Cluster not found.');
      await ecs.call('CreateCluster', { clusterName: 'gone' });
      await ecs.call('DeleteCluster', { cluster: 'gone' });
      assert.equal((await ecs.fail('RegisterContainerInstance', registration({ cluster: 'gone' }))).code, 'ClusterNotFoundException');
    });

    it('registers into the default cluster when none is named', async () => {
      await ecs.call('CreateCluster', {});
      const ci = await register({ cluster: undefined });
      assert.match(ci.containerInstanceArn, /:container-instance\/default\//);
    });

    it('validates totalResources with InvalidParameterException and stores nothing', async () => {
      const [cpu, mem, ports] = registration().totalResources;
      for (const totalResources of [
        [mem],
        [cpu],
        [{ name: 'CPU', type: 'STRINGSET', stringSetValue: ['1'] }, mem],
        [cpu, { name: 'MEMORY', type: 'INTEGER', integerValue: -1 }],
        [cpu, { name: 'MEMORY', type: 'INTEGER' }],
        [cpu, mem, { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['70000'] }],
        [cpu, mem, { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['ssh'] }],
        [cpu, mem, ports, ports],
        [cpu, mem, { name: 'WIDGETS', type: 'FLOAT', doubleValue: 1 }],
        [cpu, mem, { type: 'INTEGER', integerValue: 1 }],
      ]) {
        const e = await ecs.fail('RegisterContainerInstance', registration({ totalResources }));
        assert.equal(e.code, 'InvalidParameterException', JSON.stringify(totalResources));
      }
      assert.deepEqual((await ecs.call('ListContainerInstances', { cluster: 'c1' })).containerInstanceArns, []);
    });

    it('fills in empty port sets, keeps custom resources and registers GPUs from platformDevices', async () => {
      const ci = await register({
        totalResources: [...registration().totalResources.slice(0, 2), { name: 'NEURON_CORES', type: 'STRINGSET', stringSetValue: ['0', '1'] }],
        platformDevices: [
          { id: 'GPU-aaa', type: 'GPU' },
          { id: 'GPU-bbb', type: 'GPU' },
          { id: '0', type: 'NEURON_DEVICE' },
        ],
      });
      assert.deepEqual(resource(ci, 'registeredResources', 'PORTS')?.stringSetValue, []);
      assert.deepEqual(resource(ci, 'registeredResources', 'PORTS_UDP')?.stringSetValue, []);
      assert.deepEqual(resource(ci, 'registeredResources', 'NEURON_CORES')?.stringSetValue, ['0', '1']);
      assert.deepEqual(ci.registeredResources.find((r: { name: string }) => r.name === 'GPU'), {
        name: 'GPU', type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: ['GPU-aaa', 'GPU-bbb'],
      });
      const dup = await ecs.fail('RegisterContainerInstance', registration({ platformDevices: [{ id: 'g', type: 'GPU' }, { id: 'g', type: 'GPU' }] }));
      assert.equal(dup.code, 'InvalidParameterException');
    });

    it('validates attribute names, values and the custom-attribute limit', async () => {
      for (const attributes of [
        [{ name: 'bad name' }],
        [{ name: 'x'.repeat(129) }],
        [{ name: 'ok', value: ' leading' }],
        [{ name: 'ok', value: 'a+b' }],
        [{ name: 'ok', value: '' }],
        Array.from({ length: 11 }, (_, i) => ({ name: `custom${i}` })),
      ]) {
        const e = await ecs.fail('RegisterContainerInstance', registration({ attributes }));
        assert.equal(e.code, 'InvalidParameterException', JSON.stringify(attributes));
      }
      // ECS-managed attributes are not custom: any number of capabilities is fine.
      const caps = Array.from({ length: 40 }, (_, i) => ({ name: `ecs.capability.c${i}` }));
      const ci = await register({ attributes: [...caps, ...Array.from({ length: 10 }, (_, i) => ({ name: `custom${i}`, value: 'v' }))] });
      assert.equal(ci.attributes.length, 54);
    });

    it('derives ec2InstanceId: EC2 IDs as given, other identities hashed stably, none generated', async () => {
      const a = await register({ instanceIdentityDocument: identity({ instanceId: 'host-a.example' }) });
      const b = await register({ instanceIdentityDocument: identity({ instanceId: 'host-a.example' }) });
      assert.match(a.ec2InstanceId, /^i-[0-9a-f]{17}$/);
      assert.equal(b.ec2InstanceId, a.ec2InstanceId);
      const c = await register({ instanceIdentityDocument: '' });
      assert.match(c.ec2InstanceId, /^i-[0-9a-f]{17}$/);
      assert.notEqual(c.ec2InstanceId, a.ec2InstanceId);
      assert.equal(c.attributes.some((x: { name: string }) => x.name === 'ecs.availability-zone'), false);
      for (const doc of ['not json', '{"region":"us-west-2"}', '[1]']) {
        assert.equal((await ecs.fail('RegisterContainerInstance', registration({ instanceIdentityDocument: doc }))).code, 'InvalidParameterException', doc);
      }
    });

    it('is idempotent on the agent clientToken: a retry returns the same instance unchanged', async () => {
      const first = await register({ clientToken: 'token-1' });
      const again = await register({ clientToken: 'token-1' });
      assert.equal(again.containerInstanceArn, first.containerInstanceArn);
      assert.equal(again.version, 1);
      const other = await register({ clientToken: 'token-2' });
      assert.notEqual(other.containerInstanceArn, first.containerInstanceArn);
      assert.equal((await ecs.call('ListContainerInstances', { cluster: 'c1' })).containerInstanceArns.length, 2);
      const bad = await ecs.fail('RegisterContainerInstance', registration({ clientToken: 'x'.repeat(65) }));
      assert.equal(bad.code, 'InvalidParameterException');
    });

    it('creates one instance when retries with one clientToken race', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, () => register({ clientToken: 'same' })));
      assert.equal(new Set(results.map((r) => r.containerInstanceArn)).size, 1);
      assert.equal((await ecs.call('ListContainerInstances', { cluster: 'c1' })).containerInstanceArns.length, 1);
    });

    it('re-registers by containerInstanceArn: same id and registeredAt, new resources, custom attributes kept, version bumped', async () => {
      const first = await register();
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: [{ name: 'rack', value: 'r1', targetId: first.containerInstanceArn }] });
      await ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: [first.containerInstanceArn], status: 'DRAINING' });
      ecs.tick(60_000);
      const again = await register({
        containerInstanceArn: first.containerInstanceArn,
        clientToken: 'restart',
        totalResources: [{ name: 'CPU', type: 'INTEGER', integerValue: 4096 }, { name: 'MEMORY', type: 'INTEGER', integerValue: 8000 }],
        // Custom attributes are only sent on first registration; capabilities every time.
        attributes: [{ name: 'ecs.os-type', value: 'linux' }, { name: 'ecs.capability.new-thing' }],
        tags: [{ key: 'k', value: 'v' }],
      });
      assert.equal(again.containerInstanceArn, first.containerInstanceArn);
      assert.equal(again.registeredAt, first.registeredAt);
      assert.equal(again.version, 4); // register, PutAttributes, DRAINING, re-register
      assert.equal(again.status, 'DRAINING');
      assert.equal(resource(again, 'registeredResources', 'CPU')?.integerValue, 4096);
      const names = again.attributes.map((a: { name: string }) => a.name);
      for (const n of ['stack', 'rack', 'ecs.os-type', 'ecs.capability.new-thing', 'ecs.availability-zone']) assert.ok(names.includes(n), n);
      assert.ok(!names.includes('com.amazonaws.ecs.capability.docker-remote-api.1.17'));
      assert.deepEqual(again.tags, [{ key: 'k', value: 'v' }]);
      // The agent's retry of that re-registration changes nothing more.
      const retry = await register({ containerInstanceArn: first.containerInstanceArn, clientToken: 'restart' });
      assert.equal(retry.version, 4);
    });

    it('refuses re-registration of unknown, deregistered, foreign-cluster or retyped instances', async () => {
      const ci = await register();
      const unknown = await ecs.fail('RegisterContainerInstance', registration({ containerInstanceArn: `${ARN_PREFIX}container-instance/c1/${'0'.repeat(32)}` }));
      assert.equal(unknown.code, 'ClientException');
      await ecs.call('CreateCluster', { clusterName: 'c2' });
      const moved = await ecs.fail('RegisterContainerInstance', registration({ cluster: 'c2', containerInstanceArn: ci.containerInstanceArn }));
      assert.equal(moved.code, 'InvalidParameterException');
      const foreign = await ecs.fail('RegisterContainerInstance', registration({ containerInstanceArn: 'arn:aws:ecs:eu-west-1:999999999999:container-instance/c1/abc' }));
      assert.equal(foreign.code, 'InvalidParameterException');
      const retyped = await ecs.fail('RegisterContainerInstance', registration({ containerInstanceArn: ci.containerInstanceArn, instanceIdentityDocument: identity({ instanceType: 'm5.xlarge' }) }));
      assert.equal(retyped.code, 'ClientException');
      assert.match(retyped.message, /^Container instance type changes are not supported\./);
      await ecs.call('DeregisterContainerInstance', { cluster: 'c1', containerInstance: ci.containerInstanceArn });
      const dead = await ecs.fail('RegisterContainerInstance', registration({ containerInstanceArn: ci.containerInstanceArn }));
      assert.equal(dead.code, 'ClientException');
    });

    it('loses no update when re-registrations of one instance race', async () => {
      const ci = await register();
      await Promise.all(Array.from({ length: 20 }, (_, i) => register({ containerInstanceArn: ci.containerInstanceArn, clientToken: `t${i}` })));
      const { containerInstances } = await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: [ci.containerInstanceArn] });
      assert.equal(containerInstances[0].version, 21);
    });
  });

  describe('DeregisterContainerInstance', () => {
    it('deregisters to INACTIVE; the instance stays describable but leaves the list', async () => {
      const ci = await register();
      const { containerInstance } = await ecs.call('DeregisterContainerInstance', { cluster: 'c1', containerInstance: ci.containerInstanceArn.split('/').at(-1) });
      assert.equal(containerInstance.status, 'INACTIVE');
      assert.equal(containerInstance.version, 2);
      const d = await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: [ci.containerInstanceArn] });
      assert.equal(d.containerInstances[0].status, 'INACTIVE');
      assert.deepEqual((await ecs.call('ListContainerInstances', { cluster: 'c1' })).containerInstanceArns, []);
      // Repeating it is harmless.
      const again = await ecs.call('DeregisterContainerInstance', { cluster: 'c1', containerInstance: ci.containerInstanceArn });
      assert.equal(again.containerInstance.version, 2);
      // The cluster no longer holds it.
      assert.equal((await ecs.call('DeleteCluster', { cluster: 'c1' })).cluster.status, 'INACTIVE');
    });

    it('refuses an instance with running tasks unless forced; force orphans them', async () => {
      const ci = await register();
      await putTask('t1', { containerInstanceArn: ci.containerInstanceArn, desiredStatus: 'RUNNING', lastStatus: 'RUNNING', cpu: '256', memory: '512', version: 3 });
      await putTask('t0', { containerInstanceArn: ci.containerInstanceArn, desiredStatus: 'STOPPED', lastStatus: 'STOPPED', cpu: '256', memory: '512' });
      const e = await ecs.fail('DeregisterContainerInstance', { cluster: 'c1', containerInstance: ci.containerInstanceArn });
      assert.equal(e.code, 'InvalidParameterException');
      assert.match(e.message, /^Found running tasks on the instance\./);
      const { containerInstance } = await ecs.call('DeregisterContainerInstance', { cluster: 'c1', containerInstance: ci.containerInstanceArn, force: true });
      assert.equal(containerInstance.status, 'INACTIVE');
      assert.equal(containerInstance.runningTasksCount, 0);
      assert.deepEqual(containerInstance.remainingResources, containerInstance.registeredResources);
      const task = ecs.deps.state.catalog.get<Record<string, unknown>>(Kind.task, 'c1/t1')?.value;
      assert.equal(task?.['desiredStatus'], 'STOPPED');
      assert.equal(task?.['lastStatus'], 'STOPPED');
      assert.equal(task?.['stoppedAt'], START_SECONDS);
      assert.equal(task?.['version'], 4);
    });

    it('answers unknown instances with InvalidParameterException and unknown clusters with ClusterNotFoundException', async () => {
      const e = await ecs.fail('DeregisterContainerInstance', { cluster: 'c1', containerInstance: 'f'.repeat(32) });
      assert.equal(e.code, 'InvalidParameterException');
      const c = await ecs.fail('DeregisterContainerInstance', { cluster: 'nope', containerInstance: 'f'.repeat(32) });
      assert.equal(c.code, 'ClusterNotFoundException');
      const missing = await ecs.fail('DeregisterContainerInstance', { cluster: 'c1' });
      assert.equal(missing.code, 'InvalidParameterException');
    });
  });

  describe('DescribeContainerInstances', () => {
    it('describes by ID and ARN and reports unknown ones as MISSING', async () => {
      const ci = await register();
      const id = ci.containerInstanceArn.split('/').at(-1);
      const out = await ecs.call('DescribeContainerInstances', {
        cluster: 'c1',
        containerInstances: [id, ci.containerInstanceArn, 'a'.repeat(32), `${ARN_PREFIX}container-instance/other/${id}`],
      });
      assert.equal(out.containerInstances.length, 2);
      assert.deepEqual(out.failures, [
        { arn: `${ARN_PREFIX}container-instance/c1/${'a'.repeat(32)}`, reason: 'MISSING' },
        { arn: `${ARN_PREFIX}container-instance/other/${id}`, reason: 'MISSING' },
      ]);
      assert.deepEqual(out.containerInstances[0].tags, []);
      assert.equal(out.containerInstances[0].healthStatus, undefined);
    });

    it('includes tags and health only when asked', async () => {
      const ci = await register({ tags: [{ key: 'a', value: 'b' }] });
      const out = await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: [ci.containerInstanceArn], include: ['TAGS', 'CONTAINER_INSTANCE_HEALTH'] });
      const d = out.containerInstances[0];
      assert.deepEqual(d.tags, [{ key: 'a', value: 'b' }]);
      assert.deepEqual(d.healthStatus, { overallStatus: 'OK', details: [{ type: 'AGENT_CONNECTIVITY', status: 'OK', lastUpdated: START_SECONDS }] });
      assert.equal((await ecs.fail('DescribeContainerInstances', { cluster: 'c1', containerInstances: ['x'], include: ['NOPE'] })).code, 'InvalidParameterException');
    });

    it('computes remainingResources and task counts from the tasks placed on the instance', async () => {
      const ci = await register();
      const other = await register();
      const on = ci.containerInstanceArn;
      await putTask('a', { containerInstanceArn: on, desiredStatus: 'RUNNING', lastStatus: 'RUNNING', cpu: '512', memory: '1024', containers: [{ networkBindings: [{ hostPort: 8080, protocol: 'tcp' }] }] });
      await putTask('b', { containerInstanceArn: on, desiredStatus: 'RUNNING', lastStatus: 'PENDING', containers: [{ cpu: '128', memoryReservation: '256', networkBindings: [{ hostPort: 5353, protocol: 'udp' }] }] });
      await putTask('c', { containerInstanceArn: on, desiredStatus: 'STOPPED', lastStatus: 'RUNNING', cpu: '1024', memory: '1024' });
      await putTask('d', { containerInstanceArn: other.containerInstanceArn, desiredStatus: 'RUNNING', lastStatus: 'RUNNING', cpu: '2048', memory: '2048' });
      const { containerInstances: [d] } = await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: [on] });
      assert.equal(resource(d, 'remainingResources', 'CPU')?.integerValue, 2048 - 512 - 128);
      assert.equal(resource(d, 'remainingResources', 'MEMORY')?.integerValue, 3955 - 1024 - 256);
      assert.deepEqual(resource(d, 'remainingResources', 'PORTS')?.stringSetValue, ['22', '2375', '2376', '51678', '51679', '8080']);
      assert.deepEqual(resource(d, 'remainingResources', 'PORTS_UDP')?.stringSetValue, ['5353']);
      assert.equal(resource(d, 'registeredResources', 'CPU')?.integerValue, 2048);
      assert.equal(d.runningTasksCount, 2);
      assert.equal(d.pendingTasksCount, 1);
      // Nothing derived is stored: the record itself has no counters.
      const stored = ecs.deps.state.instance('c1', on.split('/').at(-1)!)?.value as unknown as Record<string, unknown>;
      assert.equal(stored['remainingResources'], undefined);
      assert.equal(stored['runningTasksCount'], undefined);
    });

    it('limits a call to 100 instances and needs at least one', async () => {
      const many = Array.from({ length: 101 }, (_, i) => String(i).padStart(32, '0'));
      assert.equal((await ecs.fail('DescribeContainerInstances', { cluster: 'c1', containerInstances: many })).code, 'InvalidParameterException');
      assert.equal((await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: many.slice(0, 100) })).failures.length, 100);
      assert.equal((await ecs.fail('DescribeContainerInstances', { cluster: 'c1', containerInstances: [] })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('DescribeContainerInstances', { cluster: 'nope', containerInstances: ['x'] })).code, 'ClusterNotFoundException');
    });
  });

  describe('ListContainerInstances', () => {
    it('lists all but INACTIVE by default, filters by status and pages with opaque tokens', async () => {
      const arns: string[] = [];
      for (let i = 0; i < 25; i++) arns.push((await register()).containerInstanceArn);
      await ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: arns.slice(0, 3), status: 'DRAINING' });
      await ecs.call('DeregisterContainerInstance', { cluster: 'c1', containerInstance: arns[24] });
      const seen: string[] = [];
      const tokens = new Set<string>();
      let nextToken: string | undefined;
      do {
        const page = await ecs.call('ListContainerInstances', { cluster: 'c1', maxResults: 10, ...(nextToken ? { nextToken } : {}) });
        assert.ok(page.containerInstanceArns.length <= 10);
        seen.push(...page.containerInstanceArns);
        nextToken = page.nextToken;
        if (nextToken) {
          assert.ok(!tokens.has(nextToken));
          tokens.add(nextToken);
        }
      } while (nextToken);
      assert.equal(tokens.size, 2);
      assert.deepEqual([...seen].sort(), arns.slice(0, 24).sort());
      const draining = await ecs.call('ListContainerInstances', { cluster: 'c1', status: 'DRAINING' });
      assert.deepEqual([...draining.containerInstanceArns].sort(), arns.slice(0, 3).sort());
      const active = await ecs.call('ListContainerInstances', { cluster: 'c1', status: 'ACTIVE' });
      assert.equal(active.containerInstanceArns.length, 21);
    });

    it('filters with the cluster query language', async () => {
      const prod = await register({ attributes: [{ name: 'stack', value: 'prod' }, { name: 'ecs.instance-type', value: 't3.large' }] });
      const test = await register({ attributes: [{ name: 'stack', value: 'test' }, { name: 'ecs.instance-type', value: 'm5.xlarge' }] });
      const bare = await register({ attributes: [{ name: 'ecs.os-type', value: 'linux' }], instanceIdentityDocument: identity({ instanceType: 'c5.large' }) });
      await putTask('t1', { containerInstanceArn: test.containerInstanceArn, desiredStatus: 'RUNNING', lastStatus: 'RUNNING', group: 'service:db', cpu: '10', memory: '10' });
      const list = async (filter: string) => [...(await ecs.call('ListContainerInstances', { cluster: 'c1', filter })).containerInstanceArns].sort();
      const sorted = (...xs: { containerInstanceArn: string }[]) => xs.map((x) => x.containerInstanceArn).sort();
      assert.deepEqual(await list('attribute:stack == prod'), sorted(prod));
      assert.deepEqual(await list('attribute:stack exists'), sorted(prod, test));
      assert.deepEqual(await list('attribute:stack !exists'), sorted(bare));
      assert.deepEqual(await list('attribute:ecs.instance-type =~ t3.*'), sorted(prod));
      assert.deepEqual(await list('attribute:stack in [prod, test] and not attribute:ecs.instance-type =~ m5.*'), sorted(prod));
      assert.deepEqual(await list('task:group == service:db'), sorted(test));
      assert.deepEqual(await list('runningTasksCount == 0'), sorted(prod, bare));
      assert.deepEqual(await list('agentConnected == true'), sorted(prod, test, bare));
    });

    it('rejects malformed filter expressions, bad paging and INACTIVE as a status', async () => {
      const f = await ecs.fail('ListContainerInstances', { cluster: 'c1', filter: 'attribute:stack == prod and' });
      assert.equal(f.code, 'InvalidParameterException');
      assert.match(f.message, /offset \d+/);
      for (const input of [{ maxResults: 0 }, { maxResults: 101 }, { nextToken: 'garbage' }, { status: 'INACTIVE' }]) {
        assert.equal((await ecs.fail('ListContainerInstances', { cluster: 'c1', ...input })).code, 'InvalidParameterException', JSON.stringify(input));
      }
      assert.equal((await ecs.fail('ListContainerInstances', { cluster: 'nope' })).code, 'ClusterNotFoundException');
    });
  });

  describe('UpdateContainerInstancesState', () => {
    it('drains and reactivates, bumping version only on a change, and reports missing instances', async () => {
      const ci = await register();
      const out = await ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: [ci.containerInstanceArn, 'b'.repeat(32)], status: 'DRAINING' });
      assert.equal(out.containerInstances.length, 1);
      assert.equal(out.containerInstances[0].status, 'DRAINING');
      assert.equal(out.containerInstances[0].version, 2);
      assert.deepEqual(out.failures, [{ arn: `${ARN_PREFIX}container-instance/c1/${'b'.repeat(32)}`, reason: 'MISSING' }]);
      const same = await ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: [ci.containerInstanceArn], status: 'DRAINING' });
      assert.equal(same.containerInstances[0].version, 2);
      // The same instance named by ID and by ARN is changed once.
      const id = ci.containerInstanceArn.split('/').at(-1);
      const both = await ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: [id, ci.containerInstanceArn], status: 'ACTIVE' });
      assert.equal(both.containerInstances.length, 1);
      assert.equal(both.containerInstances[0].version, 3);
      await ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: [id], status: 'DRAINING' });
      const back = await ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: [ci.containerInstanceArn], status: 'ACTIVE' });
      assert.equal(back.containerInstances[0].status, 'ACTIVE');
      assert.equal(back.containerInstances[0].version, 5);
    });

    it('accepts only ACTIVE and DRAINING, at most 10 instances, and fails deregistered ones', async () => {
      const ci = await register();
      const e = await ecs.fail('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: [ci.containerInstanceArn], status: 'REGISTERING' });
      assert.equal(e.code, 'InvalidParameterException');
      const many = Array.from({ length: 11 }, (_, i) => String(i).padStart(32, '0'));
      assert.equal((await ecs.fail('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: many, status: 'DRAINING' })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('UpdateContainerInstancesState', { cluster: 'nope', containerInstances: ['x'], status: 'DRAINING' })).code, 'ClusterNotFoundException');
      await ecs.call('DeregisterContainerInstance', { cluster: 'c1', containerInstance: ci.containerInstanceArn });
      const out = await ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: [ci.containerInstanceArn], status: 'ACTIVE' });
      assert.deepEqual(out.containerInstances, []);
      assert.equal(out.failures[0].reason, 'INACTIVE');
      assert.equal(out.failures[0].arn, ci.containerInstanceArn);
    });

    it('applies concurrent state changes to different instances without losing any', async () => {
      const arns = await Promise.all(Array.from({ length: 10 }, async () => (await register()).containerInstanceArn));
      await Promise.all(arns.map((a) => ecs.call('UpdateContainerInstancesState', { cluster: 'c1', containerInstances: [a], status: 'DRAINING' })));
      const { containerInstances } = await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: arns });
      assert.ok(containerInstances.every((c: { status: string; version: number }) => c.status === 'DRAINING' && c.version === 2));
    });
  });
});
