import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Arns } from '../../domain/arn.js';
import { ApiError } from '../../domain/errors.js';
import { Kind } from '../../domain/records.js';
import { resolveResourceArn } from './resource-arn.js';
import { createTestEcs, TEST_ACCOUNT, TEST_REGION } from './testing.js';
import type { TestEcs } from './testing.js';

const PREFIX = `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:`;
const ID = '0123456789abcdef0123456789abcdef';
const CLUSTER = `${PREFIX}cluster/a`;
const INSTANCE = `${PREFIX}container-instance/a/${ID}`;
const TASK = `${PREFIX}task/a/${ID}`;
const SERVICE = `${PREFIX}service/a/web`;
const TASK_DEF = `${PREFIX}task-definition/app:1`;

const tag = (key: string, value = 'v') => ({ key, value });
const manyTags = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => tag(`${prefix}${i}`));

describe('tagging', () => {
  let ecs: TestEcs;
  beforeEach(async () => {
    ecs = await createTestEcs();
    await ecs.call('CreateCluster', { clusterName: 'a' });
  });
  afterEach(() => ecs.close());

  const put = (kind: string, key: string, value: object) => ecs.deps.state.catalog.commit([{ op: 'put', kind, key, value }]);
  const record = (kind: string, key: string) => ecs.deps.state.catalog.get<Record<string, unknown>>(kind, key)?.value;
  const listTags = async (resourceArn: string) => (await ecs.call('ListTagsForResource', { resourceArn })).tags;
  const codes = async (resourceArn: string) => [
    (await ecs.fail('TagResource', { resourceArn, tags: [tag('x')] })).code,
    (await ecs.fail('UntagResource', { resourceArn, tagKeys: ['x'] })).code,
    (await ecs.fail('ListTagsForResource', { resourceArn })).code,
  ];
  const registerTaskDefinition = () =>
    ecs.call('RegisterTaskDefinition', { family: 'app', containerDefinitions: [{ name: 'c', image: 'nginx', memory: 128 }] });

  it('adds tags to a cluster, the new value winning for an existing key, and answers with an empty object', async () => {
    assert.deepEqual(await ecs.call('TagResource', { resourceArn: CLUSTER, tags: [tag('team', 'a'), tag('env', 'dev')] }), {});
    await ecs.call('TagResource', { resourceArn: CLUSTER, tags: [tag('team', 'b'), tag('cost')] });
    assert.deepEqual(await listTags(CLUSTER), [tag('team', 'b'), tag('env', 'dev'), tag('cost')]);
    const described = await ecs.call('DescribeClusters', { clusters: ['a'], include: ['TAGS'] });
    assert.deepEqual(described.clusters[0].tags, [tag('team', 'b'), tag('env', 'dev'), tag('cost')]);
  });

  it('tags, lists and untags container instances, tasks, services and task definitions, leaving the rest of the record alone', async () => {
    await put(Kind.containerInstance, `a/${ID}`, { cluster: 'a', id: ID, status: 'ACTIVE', tags: [] });
    await put(Kind.task, `a/${ID}`, { cluster: 'a', taskArn: TASK, lastStatus: 'RUNNING', tags: [] });
    await put(Kind.service, 'a/web', { cluster: 'a', serviceName: 'web', status: 'ACTIVE', tags: [] });
    await registerTaskDefinition();
    const cases: [string, string, string][] = [
      [INSTANCE, Kind.containerInstance, `a/${ID}`],
      [TASK, Kind.task, `a/${ID}`],
      [SERVICE, Kind.service, 'a/web'],
      [TASK_DEF, Kind.taskDefinition, 'app:1'],
    ];
    for (const [arn, kind, key] of cases) {
      const before = record(kind, key);
      await ecs.call('TagResource', { resourceArn: arn, tags: [tag('a', '1'), tag('b', '2')] });
      assert.deepEqual(await listTags(arn), [tag('a', '1'), tag('b', '2')], arn);
      await ecs.call('UntagResource', { resourceArn: arn, tagKeys: ['a'] });
      assert.deepEqual(await listTags(arn), [tag('b', '2')], arn);
      assert.deepEqual({ ...record(kind, key), tags: [] }, { ...before, tags: [] }, arn);
    }
    const described = await ecs.call('DescribeTaskDefinition', { taskDefinition: 'app:1', include: ['TAGS'] });
    assert.deepEqual(described.tags, [tag('b', '2')]);
  });

  it('allows 50 tags per resource and answers LimitExceededException beyond, counting after the merge', async () => {
    await ecs.call('TagResource', { resourceArn: CLUSTER, tags: manyTags(50) });
    // Overwriting existing keys keeps the count at 50.
    await ecs.call('TagResource', { resourceArn: CLUSTER, tags: [tag('k0', 'new'), tag('k49', 'new')] });
    const e = await ecs.fail('TagResource', { resourceArn: CLUSTER, tags: [tag('one-more')] });
    assert.equal(e.code, 'LimitExceededException');
    assert.match(e.message, /50/);
    const tags = await listTags(CLUSTER);
    assert.equal(tags.length, 50);
    assert.deepEqual(tags[0], tag('k0', 'new'));
    // More than 50 in one request breaks the model's own list limit.
    await ecs.call('UntagResource', { resourceArn: CLUSTER, tagKeys: manyTags(50).map((t) => t.key) });
    assert.equal((await ecs.fail('TagResource', { resourceArn: CLUSTER, tags: manyTags(51) })).code, 'InvalidParameterException');
  });

  it("does not count AWS's own aws: tags towards the limit", async () => {
    await put(Kind.task, `a/${ID}`, { cluster: 'a', lastStatus: 'RUNNING', tags: [tag('aws:ecs:clusterName', 'a')] });
    await ecs.call('TagResource', { resourceArn: TASK, tags: manyTags(50) });
    const tags = await listTags(TASK);
    assert.equal(tags.length, 51);
    assert.deepEqual(tags[0], tag('aws:ecs:clusterName', 'a'));
  });

  it('reserves the aws: prefix: it can be neither set nor removed', async () => {
    for (const key of ['aws:team', 'AWS:team', 'Aws:x']) {
      assert.equal((await ecs.fail('TagResource', { resourceArn: CLUSTER, tags: [tag(key)] })).code, 'InvalidParameterException', key);
      assert.equal((await ecs.fail('UntagResource', { resourceArn: CLUSTER, tagKeys: [key] })).code, 'InvalidParameterException', key);
    }
    assert.deepEqual(await listTags(CLUSTER), []);
  });

  it('rejects malformed tags with InvalidParameterException and changes nothing', async () => {
    await ecs.call('TagResource', { resourceArn: CLUSTER, tags: [tag('keep')] });
    for (const tags of [[tag('')], [tag('k'.repeat(129))], [tag('k', 'v'.repeat(257))], [tag('bad#key')], [tag('ok'), tag('k', 'bad*value')]]) {
      assert.equal((await ecs.fail('TagResource', { resourceArn: CLUSTER, tags })).code, 'InvalidParameterException', JSON.stringify(tags));
    }
    assert.deepEqual(await listTags(CLUSTER), [tag('keep')]);
  });

  it('treats untagging absent keys as a no-op that writes nothing', async () => {
    await ecs.call('TagResource', { resourceArn: CLUSTER, tags: [tag('a')] });
    const rev = ecs.deps.state.cluster('a')!.rev;
    assert.deepEqual(await ecs.call('UntagResource', { resourceArn: CLUSTER, tagKeys: ['absent', 'other'] }), {});
    assert.deepEqual(await ecs.call('UntagResource', { resourceArn: CLUSTER, tagKeys: [] }), {});
    assert.equal(ecs.deps.state.cluster('a')!.rev, rev);
    assert.deepEqual(await listTags(CLUSTER), [tag('a')]);
  });

  it('answers InvalidParameterException for strings that are not ECS resource ARNs of this account and region', async () => {
    for (const arn of [
      'a',
      'cluster/a',
      'arn:aws:ecs',
      `arn:aws:ecs:${TEST_REGION}:999999999999:cluster/a`,
      `arn:aws:ecs:eu-west-1:${TEST_ACCOUNT}:cluster/a`,
      `arn:aws-cn:ecs:${TEST_REGION}:${TEST_ACCOUNT}:cluster/a`,
      `arn:aws:ecr:${TEST_REGION}:${TEST_ACCOUNT}:repository/a`,
      `${PREFIX}service/web`,
      `${PREFIX}task/${ID}`,
      `${PREFIX}container-instance/${ID}`,
      `${PREFIX}service-deployment/a/web/abc`,
      `${PREFIX}container/a/${ID}/c`,
      `${PREFIX}task-definition/app`,
      `${PREFIX}task-definition/app:0`,
      `${PREFIX}task-definition/app:x`,
      `${PREFIX}cluster/bad name`,
      `${PREFIX}cluster/a/extra`,
      `${PREFIX}task/a/${ID}/extra`,
    ]) {
      assert.deepEqual(await codes(arn), ['InvalidParameterException', 'InvalidParameterException', 'InvalidParameterException'], arn);
    }
    const short = await ecs.fail('TagResource', { resourceArn: `${PREFIX}service/web`, tags: [tag('x')] });
    assert.match(short.message, /Long arn format must be used/);
  });

  it('answers ClusterNotFoundException when the cluster of the ARN does not exist', async () => {
    for (const arn of [`${PREFIX}cluster/ghost`, `${PREFIX}task/ghost/${ID}`, `${PREFIX}service/ghost/web`, `${PREFIX}container-instance/ghost/${ID}`]) {
      assert.deepEqual(await codes(arn), ['ClusterNotFoundException', 'ClusterNotFoundException', 'ClusterNotFoundException'], arn);
    }
  });

  it('answers ResourceNotFoundException to TagResource/UntagResource and InvalidParameterException to ListTagsForResource for other missing resources', async () => {
    for (const arn of [INSTANCE, TASK, SERVICE, TASK_DEF]) {
      assert.deepEqual(await codes(arn), ['ResourceNotFoundException', 'ResourceNotFoundException', 'InvalidParameterException'], arn);
    }
  });

  it('answers capacity provider and task set ARNs as missing resources, since Gantry keeps none yet', async () => {
    for (const arn of [`${PREFIX}capacity-provider/FARGATE`, `${PREFIX}capacity-provider/mine`, `${PREFIX}task-set/a/web/ecs-svc/1234567890123456789`]) {
      assert.deepEqual(await codes(arn), ['ResourceNotFoundException', 'ResourceNotFoundException', 'InvalidParameterException'], arn);
    }
    const ghost = `${PREFIX}task-set/ghost/web/ecs-svc/1234567890123456789`;
    assert.deepEqual(await codes(ghost), ['ClusterNotFoundException', 'ClusterNotFoundException', 'ClusterNotFoundException']);
  });

  it('refuses to tag an INACTIVE cluster or its resources, but still lists their tags', async () => {
    await ecs.call('TagResource', { resourceArn: CLUSTER, tags: [tag('team')] });
    await put(Kind.task, `a/${ID}`, { cluster: 'a', lastStatus: 'STOPPED', desiredStatus: 'STOPPED', tags: [tag('t')] });
    await ecs.call('DeleteCluster', { cluster: 'a' });
    for (const arn of [CLUSTER, TASK]) {
      const e = await ecs.fail('TagResource', { resourceArn: arn, tags: [tag('x')] });
      assert.equal(e.code, 'ClusterNotFoundException', arn);
      assert.match(e.message, /inactive/);
      assert.equal((await ecs.fail('UntagResource', { resourceArn: arn, tagKeys: ['team', 't'] })).code, 'ClusterNotFoundException', arn);
    }
    assert.deepEqual(await listTags(CLUSTER), [tag('team')]);
    assert.deepEqual(await listTags(TASK), [tag('t')]);
  });

  it('refuses to tag deleted services, deregistered instances and task definitions being deleted; deregistered task definitions stay taggable', async () => {
    await put(Kind.service, 'a/web', { cluster: 'a', status: 'INACTIVE', tags: [tag('s')] });
    await put(Kind.containerInstance, `a/${ID}`, { cluster: 'a', status: 'INACTIVE', tags: [tag('i')] });
    for (const arn of [SERVICE, INSTANCE]) {
      assert.equal((await ecs.fail('TagResource', { resourceArn: arn, tags: [tag('x')] })).code, 'ResourceNotFoundException', arn);
      assert.equal((await ecs.fail('UntagResource', { resourceArn: arn, tagKeys: ['s', 'i'] })).code, 'ResourceNotFoundException', arn);
    }
    assert.deepEqual(await listTags(SERVICE), [tag('s')]);
    await registerTaskDefinition();
    await ecs.call('DeregisterTaskDefinition', { taskDefinition: 'app:1' });
    await ecs.call('TagResource', { resourceArn: TASK_DEF, tags: [tag('still')] });
    assert.deepEqual(await listTags(TASK_DEF), [tag('still')]);
    const deregistered = record(Kind.taskDefinition, 'app:1')!;
    await put(Kind.taskDefinition, 'app:1', { ...deregistered, status: 'DELETE_IN_PROGRESS' });
    assert.equal((await ecs.fail('TagResource', { resourceArn: TASK_DEF, tags: [tag('x')] })).code, 'ResourceNotFoundException');
    assert.deepEqual(await listTags(TASK_DEF), [tag('still')]);
  });

  it('loses no tag when 20 TagResource calls on one resource race', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `key${String(i).padStart(2, '0')}`);
    await Promise.all(keys.map((key) => ecs.call('TagResource', { resourceArn: CLUSTER, tags: [tag(key, key)] })));
    const tags = await listTags(CLUSTER);
    assert.deepEqual(tags.map((t: { key: string }) => t.key).sort(), keys);
    assert.ok(tags.every((t: { key: string; value: string }) => t.value === t.key));
    // The cluster record itself survived the races intact.
    assert.equal(ecs.deps.state.cluster('a')!.value.status, 'ACTIVE');
  });

  it('loses neither side when tagging and untagging race', async () => {
    await ecs.call('TagResource', { resourceArn: CLUSTER, tags: manyTags(10, 'old') });
    await Promise.all([
      ...manyTags(10, 'old').map((t) => ecs.call('UntagResource', { resourceArn: CLUSTER, tagKeys: [t.key] })),
      ...manyTags(10, 'new').map((t) => ecs.call('TagResource', { resourceArn: CLUSTER, tags: [t] })),
    ]);
    assert.deepEqual((await listTags(CLUSTER)).map((t: { key: string }) => t.key).sort(), manyTags(10, 'new').map((t) => t.key).sort());
  });
});

describe('resolveResourceArn', () => {
  const arns = new Arns(TEST_REGION, TEST_ACCOUNT);

  it('maps each taggable resource type to its catalog kind and key', () => {
    const resolve = (arn: string) => {
      const { type, kind, key, cluster } = resolveResourceArn(arns, arn);
      return { type, kind, key, cluster };
    };
    assert.deepEqual(resolve(CLUSTER), { type: 'cluster', kind: Kind.cluster, key: 'a', cluster: 'a' });
    assert.deepEqual(resolve(INSTANCE), { type: 'container-instance', kind: Kind.containerInstance, key: `a/${ID}`, cluster: 'a' });
    assert.deepEqual(resolve(TASK), { type: 'task', kind: Kind.task, key: `a/${ID}`, cluster: 'a' });
    assert.deepEqual(resolve(SERVICE), { type: 'service', kind: Kind.service, key: 'a/web', cluster: 'a' });
    assert.deepEqual(resolve(`${PREFIX}task-definition/app:12`), { type: 'task-definition', kind: Kind.taskDefinition, key: 'app:12', cluster: undefined });
    assert.deepEqual(resolve(`${PREFIX}capacity-provider/cp`), { type: 'capacity-provider', kind: undefined, key: 'cp', cluster: undefined });
    assert.deepEqual(resolve(`${PREFIX}task-set/a/web/ecs-svc/123`), { type: 'task-set', kind: undefined, key: 'a/web/ecs-svc/123', cluster: 'a' });
  });

  it('throws InvalidParameterException naming the problem', () => {
    const problem = (arn: string) => {
      try {
        resolveResourceArn(arns, arn);
      } catch (e) {
        assert.ok(e instanceof ApiError);
        assert.equal(e.code, 'InvalidParameterException');
        return e.message;
      }
      assert.fail(`${arn} resolved`);
    };
    assert.match(problem('nope'), /not of the form/);
    assert.match(problem(`arn:aws:ecs:${TEST_REGION}:999999999999:cluster/a`), /does not belong to account 123456789012/);
    assert.match(problem(`arn:aws:s3:${TEST_REGION}:${TEST_ACCOUNT}:bucket/a`), /not an Amazon ECS resource/);
    assert.match(problem(`${PREFIX}service/web`), /Long arn format/);
    assert.match(problem(`${PREFIX}service-revision/a/web/1`), /not a taggable resource type/);
  });
});
