import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Kind } from '../../domain/records.js';
import { reapDeletedTaskDefinitions } from './task-definitions.js';
import { createTestEcs, TEST_ACCOUNT, TEST_REGION } from './testing.js';
import type { TestEcs } from './testing.js';

const arn = (fr: string) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:task-definition/${fr}`;
const web = (extra: object = {}) => ({
  family: 'web',
  containerDefinitions: [{ name: 'web', image: 'nginx:1.27', memory: 128, portMappings: [{ containerPort: 80 }] }],
  ...extra,
});

describe('task definitions', () => {
  let ecs: TestEcs;
  beforeEach(async () => {
    ecs = await createTestEcs();
  });
  afterEach(() => ecs.close());

  it('registers revisions 1, 2, … with ARNs, status, registeredAt/By and normalised cpu/memory', async () => {
    const a = await ecs.call('RegisterTaskDefinition', web({ cpu: '1 vCPU', memory: '2GB', tags: [{ key: 't', value: 'v' }] }));
    assert.equal(a.taskDefinition.revision, 1);
    assert.equal(a.taskDefinition.taskDefinitionArn, arn('web:1'));
    assert.equal(a.taskDefinition.status, 'ACTIVE');
    assert.equal(a.taskDefinition.cpu, '1024');
    assert.equal(a.taskDefinition.memory, '2048');
    assert.equal(typeof a.taskDefinition.registeredAt, 'number');
    assert.equal(a.taskDefinition.registeredBy, `arn:aws:iam::${TEST_ACCOUNT}:root`);
    assert.deepEqual(a.tags, [{ key: 't', value: 'v' }]);
    assert.equal(a.taskDefinition.tags, undefined);
    const b = await ecs.call('RegisterTaskDefinition', web());
    assert.equal(b.taskDefinition.revision, 2);
  });

  it('describes by family (latest ACTIVE), family:revision and ARN; TAGS only when asked', async () => {
    await ecs.call('RegisterTaskDefinition', web({ tags: [{ key: 'a', value: '1' }] }));
    await ecs.call('RegisterTaskDefinition', web());
    await ecs.call('DeregisterTaskDefinition', { taskDefinition: 'web:2' });
    const latest = await ecs.call('DescribeTaskDefinition', { taskDefinition: 'web' });
    assert.equal(latest.taskDefinition.revision, 1);
    assert.equal(latest.tags, undefined);
    const two = await ecs.call('DescribeTaskDefinition', { taskDefinition: arn('web:2') });
    assert.equal(two.taskDefinition.status, 'INACTIVE');
    assert.equal(typeof two.taskDefinition.deregisteredAt, 'number');
    const tagged = await ecs.call('DescribeTaskDefinition', { taskDefinition: 'web:1', include: ['TAGS'] });
    assert.deepEqual(tagged.tags, [{ key: 'a', value: '1' }]);
    for (const ref of ['nope', 'web:9', 'web:0', 'web:x', 'bad name', 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1']) {
      assert.equal((await ecs.fail('DescribeTaskDefinition', { taskDefinition: ref })).code, 'ClientException', ref);
    }
  });

  it('never reuses a revision number, even after deregistering and deleting', async () => {
    await ecs.call('RegisterTaskDefinition', web());
    await ecs.call('DeregisterTaskDefinition', { taskDefinition: 'web:1' });
    const del = await ecs.call('DeleteTaskDefinitions', { taskDefinitions: ['web:1'] });
    assert.equal(del.taskDefinitions[0].status, 'DELETE_IN_PROGRESS');
    assert.equal(await reapDeletedTaskDefinitions(ecs.deps.state), 1);
    const again = await ecs.call('RegisterTaskDefinition', web());
    assert.equal(again.taskDefinition.revision, 2);
  });

  it('assigns distinct revisions to concurrent registrations', async () => {
    const results = await Promise.all(Array.from({ length: 25 }, () => ecs.call('RegisterTaskDefinition', web())));
    const revisions = results.map((r) => r.taskDefinition.revision).sort((a, b) => a - b);
    assert.deepEqual(revisions, Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('lists with familyPrefix, status and sort, across pages', async () => {
    for (const f of ['b', 'a', 'c']) for (let i = 0; i < 3; i++) await ecs.call('RegisterTaskDefinition', web({ family: f }));
    await ecs.call('DeregisterTaskDefinition', { taskDefinition: 'c:2' });
    const asc = await ecs.call('ListTaskDefinitions');
    assert.deepEqual(asc.taskDefinitionArns, ['a:1', 'a:2', 'a:3', 'b:1', 'b:2', 'b:3', 'c:1', 'c:3'].map(arn));
    const desc: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecs.call('ListTaskDefinitions', { sort: 'DESC', maxResults: 3, ...(nextToken ? { nextToken } : {}) });
      desc.push(...page.taskDefinitionArns);
      nextToken = page.nextToken;
    } while (nextToken);
    assert.deepEqual(desc, ['c:3', 'c:1', 'b:3', 'b:2', 'b:1', 'a:3', 'a:2', 'a:1'].map(arn));
    assert.deepEqual((await ecs.call('ListTaskDefinitions', { familyPrefix: 'b', sort: 'DESC' })).taskDefinitionArns, ['b:3', 'b:2', 'b:1'].map(arn));
    assert.deepEqual((await ecs.call('ListTaskDefinitions', { status: 'INACTIVE' })).taskDefinitionArns, [arn('c:2')]);
    // familyPrefix is a full family name for ListTaskDefinitions, a real prefix for ListTaskDefinitionFamilies.
    assert.deepEqual((await ecs.call('ListTaskDefinitions', { familyPrefix: 'a:' })).taskDefinitionArns, []);
  });

  it('lists families by prefix and status', async () => {
    for (const f of ['api', 'app', 'web']) await ecs.call('RegisterTaskDefinition', web({ family: f }));
    await ecs.call('DeregisterTaskDefinition', { taskDefinition: 'app:1' });
    assert.deepEqual((await ecs.call('ListTaskDefinitionFamilies')).families, ['api', 'app', 'web']);
    assert.deepEqual((await ecs.call('ListTaskDefinitionFamilies', { familyPrefix: 'a' })).families, ['api', 'app']);
    assert.deepEqual((await ecs.call('ListTaskDefinitionFamilies', { status: 'ACTIVE' })).families, ['api', 'web']);
    assert.deepEqual((await ecs.call('ListTaskDefinitionFamilies', { status: 'INACTIVE' })).families, ['app']);
    const p1 = await ecs.call('ListTaskDefinitionFamilies', { maxResults: 2 });
    assert.deepEqual(p1.families, ['api', 'app']);
    const p2 = await ecs.call('ListTaskDefinitionFamilies', { maxResults: 2, nextToken: p1.nextToken });
    assert.deepEqual(p2.families, ['web']);
    assert.equal(p2.nextToken, undefined);
  });

  it('deregisters only with a revision; deleting needs INACTIVE and reports failures per item', async () => {
    await ecs.call('RegisterTaskDefinition', web());
    await ecs.call('RegisterTaskDefinition', web());
    assert.equal((await ecs.fail('DeregisterTaskDefinition', { taskDefinition: 'web' })).code, 'ClientException');
    assert.equal((await ecs.fail('DeregisterTaskDefinition', { taskDefinition: 'web:7' })).code, 'ClientException');
    await ecs.call('DeregisterTaskDefinition', { taskDefinition: 'web:1' });
    const out = await ecs.call('DeleteTaskDefinitions', { taskDefinitions: ['web:1', 'web:2', 'web:9', 'web'] });
    assert.deepEqual(out.taskDefinitions.map((t: { revision: number }) => t.revision), [1]);
    assert.equal(out.failures.length, 3);
    assert.match(out.failures[0].reason, /ACTIVE/);
    assert.match(out.failures[1].reason, /does not exist/);
    assert.equal((await ecs.fail('DeleteTaskDefinitions', { taskDefinitions: Array.from({ length: 11 }, (_, i) => `web:${i + 1}`) })).code, 'InvalidParameterException');
  });

  it('keeps a deleted revision while a task still uses it', async () => {
    await ecs.call('RegisterTaskDefinition', web());
    await ecs.call('DeregisterTaskDefinition', { taskDefinition: 'web:1' });
    await ecs.call('DeleteTaskDefinitions', { taskDefinitions: ['web:1'] });
    await ecs.deps.state.catalog.commit([
      { op: 'put', kind: Kind.task, key: 'default/t1', value: { cluster: 'default', taskDefinitionArn: arn('web:1'), lastStatus: 'RUNNING' } },
    ]);
    assert.equal(await reapDeletedTaskDefinitions(ecs.deps.state), 0);
    assert.equal((await ecs.call('DescribeTaskDefinition', { taskDefinition: 'web:1' })).taskDefinition.status, 'DELETE_IN_PROGRESS');
  });

  it('refuses invalid definitions and stores nothing', async () => {
    const bad = [
      web({ family: 'bad family' }),
      { family: 'x', containerDefinitions: [] },
      { family: 'x', containerDefinitions: [{ name: 'a', image: 'i', memory: 64, essential: false }] },
      { family: 'x', containerDefinitions: [{ name: 'a', image: 'i' }] },
      { family: 'x', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '4096', containerDefinitions: [{ name: 'a', image: 'i' }] },
    ];
    for (const input of bad) {
      const e = await ecs.fail('RegisterTaskDefinition', input);
      assert.ok(['ClientException', 'InvalidParameterException'].includes(e.code), `${e.code}: ${JSON.stringify(input)}`);
    }
    const fargate = await ecs.fail('RegisterTaskDefinition', bad[4]!);
    assert.match(fargate.message, /No Fargate configuration exists for given values/);
    assert.deepEqual((await ecs.call('ListTaskDefinitionFamilies')).families, []);
  });
});
