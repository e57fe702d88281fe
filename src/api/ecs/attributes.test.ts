import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createTestEcs, TEST_ACCOUNT, TEST_REGION } from './testing.js';
import type { TestEcs } from './testing.js';

const ARN_PREFIX = `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:`;

describe('attributes', () => {
  let ecs: TestEcs;
  let arn: string;
  let id: string;

  const register = async (cluster = 'c1', attributes: object[] = [{ name: 'ecs.os-type', value: 'linux' }, { name: 'ecs.capability.secrets.ssm.environment-variables' }]) =>
    (
      await ecs.call('RegisterContainerInstance', {
        cluster,
        totalResources: [
          { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
          { name: 'MEMORY', type: 'INTEGER', integerValue: 2048 },
        ],
        attributes,
      })
    ).containerInstance.containerInstanceArn as string;
  const describeInstance = async (a = arn) =>
    (await ecs.call('DescribeContainerInstances', { cluster: 'c1', containerInstances: [a] })).containerInstances[0];
  const customOf = (ci: { attributes: { name: string; value?: string }[] }) =>
    ci.attributes.filter((a) => !a.name.startsWith('ecs.') && !a.name.startsWith('com.amazonaws.ecs.'));

  beforeEach(async () => {
    ecs = await createTestEcs();
    await ecs.call('CreateCluster', { clusterName: 'c1' });
    arn = await register();
    id = arn.split('/').at(-1)!;
  });
  afterEach(() => ecs.close());

  describe('PutAttributes', () => {
    it('puts by ARN or by short ID with targetType, echoing the attributes as given', async () => {
      const out = await ecs.call('PutAttributes', {
        cluster: 'c1',
        attributes: [
          { name: 'stack', value: 'production', targetId: arn },
          { name: 'gpu', targetId: id, targetType: 'container-instance' },
        ],
      });
      assert.deepEqual(out.attributes, [
        { name: 'stack', value: 'production', targetId: arn },
        { name: 'gpu', targetId: id, targetType: 'container-instance' },
      ]);
      const ci = await describeInstance();
      assert.deepEqual(customOf(ci), [{ name: 'stack', value: 'production' }, { name: 'gpu' }]);
      assert.equal(ci.version, 2);
    });

    it('replaces the value of an existing attribute; an unchanged put does not bump version', async () => {
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: [{ name: 'stack', value: 'a', targetId: arn }] });
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: [{ name: 'stack', value: 'b', targetId: arn }] });
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: [{ name: 'stack', value: 'b', targetId: arn }] });
      const ci = await describeInstance();
      assert.deepEqual(customOf(ci), [{ name: 'stack', value: 'b' }]);
      assert.equal(ci.version, 3);
    });

    it('rejects malformed attributes and batches with InvalidParameterException, changing nothing', async () => {
      const cases: object[][] = [
        [],
        Array.from({ length: 11 }, (_, i) => ({ name: `n${i}`, targetId: arn })),
        [{ name: 'has space', targetId: arn }],
        [{ name: 'n'.repeat(129), targetId: arn }],
        [{ name: 'ok', value: 'v'.repeat(129), targetId: arn }],
        [{ name: 'ok', value: 'trailing ', targetId: arn }],
        [{ name: 'ok', value: 'semi;colon', targetId: arn }],
        [{ name: 'ok', value: 'v' }],
        [{ name: 'ok', value: 'v', targetId: id }],
        [{ name: 'ok', value: 'v', targetId: 'not/an/id', targetType: 'container-instance' }],
        [{ name: 'ok', value: 'v', targetId: `${ARN_PREFIX}task/c1/${id}` }],
        [{ name: 'ok', targetId: arn, targetType: 'task' }],
        [{ name: 'fine', value: 'v', targetId: arn }, { name: 'bad name', targetId: arn }],
      ];
      for (const attributes of cases) {
        const e = await ecs.fail('PutAttributes', { cluster: 'c1', attributes });
        assert.equal(e.code, 'InvalidParameterException', JSON.stringify(attributes));
      }
      assert.deepEqual(customOf(await describeInstance()), []);
      assert.equal((await describeInstance()).version, 1);
    });

    it('accepts the characters the documentation allows', async () => {
      const value = 'a-b_c.d@e/f\\g:h i';
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: [{ name: 'A-z_0/9\\x.y', value, targetId: arn }] });
      assert.deepEqual(customOf(await describeInstance()), [{ name: 'A-z_0/9\\x.y', value }]);
    });

    it('answers unknown, foreign-cluster and deregistered targets with TargetNotFoundException, and unknown clusters with ClusterNotFoundException', async () => {
      const unknown = await ecs.fail('PutAttributes', { cluster: 'c1', attributes: [{ name: 'a', targetId: 'f'.repeat(32), targetType: 'container-instance' }] });
      assert.equal(unknown.code, 'TargetNotFoundException');
      await ecs.call('CreateCluster', { clusterName: 'c2' });
      const elsewhere = await ecs.fail('PutAttributes', { cluster: 'c2', attributes: [{ name: 'a', targetId: arn }] });
      assert.equal(elsewhere.code, 'TargetNotFoundException');
      const defaultCluster = await ecs.fail('PutAttributes', { attributes: [{ name: 'a', targetId: arn }] });
      assert.equal(defaultCluster.code, 'ClusterNotFoundException');
      // One missing target fails the whole batch.
      const mixed = await ecs.fail('PutAttributes', { cluster: 'c1', attributes: [{ name: 'a', targetId: arn }, { name: 'b', targetId: `${ARN_PREFIX}container-instance/c1/${'e'.repeat(32)}` }] });
      assert.equal(mixed.code, 'TargetNotFoundException');
      assert.deepEqual(customOf(await describeInstance()), []);
      await ecs.call('DeregisterContainerInstance', { cluster: 'c1', containerInstance: arn });
      assert.equal((await ecs.fail('PutAttributes', { cluster: 'c1', attributes: [{ name: 'a', targetId: arn }] })).code, 'TargetNotFoundException');
    });

    it('allows at most 10 custom attributes per instance; ECS-managed names do not count', async () => {
      const named = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, value: 'v', targetId: arn }));
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: named('c', 6) });
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: named('d', 4) });
      const e = await ecs.fail('PutAttributes', { cluster: 'c1', attributes: named('e', 1) });
      assert.equal(e.code, 'AttributeLimitExceededException');
      // Updating one of the ten, or adding ECS-managed names, stays within the limit.
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: [{ name: 'c0', value: 'changed', targetId: arn }] });
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: named('ecs.capability.x', 10) });
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: named('com.amazonaws.ecs.capability.y', 3) });
      const ci = await describeInstance();
      assert.equal(customOf(ci).length, 10);
      // Custom attributes given at registration count too.
      const other = await register('c1', [{ name: 'r1', value: 'v' }, { name: 'r2', value: 'v' }]);
      const over = Array.from({ length: 9 }, (_, i) => ({ name: `x${i}`, targetId: other }));
      assert.equal((await ecs.fail('PutAttributes', { cluster: 'c1', attributes: over })).code, 'AttributeLimitExceededException');
    });

    it('holds the limit under 20 concurrent PutAttributes on one instance', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => ecs.call('PutAttributes', { cluster: 'c1', attributes: [{ name: `k${i}`, value: 'v', targetId: arn }] })),
      );
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      const refused = results.filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'AttributeLimitExceededException').length;
      assert.equal(ok, 10);
      assert.equal(refused, 10);
      const ci = await describeInstance();
      assert.equal(customOf(ci).length, 10);
      assert.equal(ci.version, 11);
    });
  });

  describe('DeleteAttributes', () => {
    it('deletes by name (value ignored), echoes the request and tolerates absent names', async () => {
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: [{ name: 'a', value: '1', targetId: arn }, { name: 'b', value: '2', targetId: arn }] });
      const out = await ecs.call('DeleteAttributes', {
        cluster: 'c1',
        attributes: [{ name: 'a', targetId: arn }, { name: 'never-set', targetId: id, targetType: 'container-instance' }],
      });
      assert.deepEqual(out.attributes, [{ name: 'a', targetId: arn }, { name: 'never-set', targetId: id, targetType: 'container-instance' }]);
      const ci = await describeInstance();
      assert.deepEqual(customOf(ci), [{ name: 'b', value: '2' }]);
      assert.equal(ci.version, 3);
      // Deleting what is already gone changes nothing.
      await ecs.call('DeleteAttributes', { cluster: 'c1', attributes: [{ name: 'a', targetId: arn }] });
      assert.equal((await describeInstance()).version, 3);
      // Freed room can be used again.
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: Array.from({ length: 9 }, (_, i) => ({ name: `n${i}`, targetId: arn })) });
    });

    it('answers bad input, missing targets and clusters with the exceptions ECS uses', async () => {
      assert.equal((await ecs.fail('DeleteAttributes', { cluster: 'c1', attributes: [{ name: 'a' }] })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('DeleteAttributes', { cluster: 'c1', attributes: [{ name: 'a', targetId: id }] })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('DeleteAttributes', { cluster: 'c1', attributes: Array.from({ length: 11 }, () => ({ name: 'a', targetId: arn })) })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('DeleteAttributes', { cluster: 'c1', attributes: [{ name: 'a', targetId: 'f'.repeat(32), targetType: 'container-instance' }] })).code, 'TargetNotFoundException');
      assert.equal((await ecs.fail('DeleteAttributes', { cluster: 'nope', attributes: [{ name: 'a', targetId: arn }] })).code, 'ClusterNotFoundException');
      assert.equal((await ecs.fail('DeleteAttributes', { cluster: 'c1' })).code, 'InvalidParameterException');
    });
  });

  describe('ListAttributes', () => {
    it('lists every attribute of every instance with its instance ARN as targetId', async () => {
      const out = await ecs.call('ListAttributes', { cluster: 'c1', targetType: 'container-instance' });
      // Ordered by instance, then attribute name: a stable order is what makes paging exact.
      assert.deepEqual(out.attributes, [
        { name: 'ecs.capability.secrets.ssm.environment-variables', targetId: arn },
        { name: 'ecs.os-type', value: 'linux', targetId: arn },
      ]);
      assert.equal(out.nextToken, undefined);
    });

    it('filters by name, and by name and value', async () => {
      const other = await register();
      await ecs.call('PutAttributes', { cluster: 'c1', attributes: [{ name: 'stack', value: 'prod', targetId: arn }, { name: 'stack', value: 'dev', targetId: other }] });
      const byName = await ecs.call('ListAttributes', { cluster: 'c1', targetType: 'container-instance', attributeName: 'stack' });
      assert.deepEqual(byName.attributes.map((a: { targetId: string; value: string }) => `${a.targetId}=${a.value}`).sort(), [`${arn}=prod`, `${other}=dev`].sort());
      const byValue = await ecs.call('ListAttributes', { cluster: 'c1', targetType: 'container-instance', attributeName: 'stack', attributeValue: 'prod' });
      assert.deepEqual(byValue.attributes, [{ name: 'stack', value: 'prod', targetId: arn }]);
      const e = await ecs.fail('ListAttributes', { cluster: 'c1', targetType: 'container-instance', attributeValue: 'prod' });
      assert.equal(e.code, 'InvalidParameterException');
    });

    it('pages across instances with opaque tokens and skips deregistered instances', async () => {
      const arns = [arn];
      for (let i = 0; i < 11; i++) arns.push(await register());
      await ecs.call('DeregisterContainerInstance', { cluster: 'c1', containerInstance: arns[11] });
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await ecs.call('ListAttributes', { cluster: 'c1', targetType: 'container-instance', maxResults: 5, ...(nextToken ? { nextToken } : {}) });
        pages++;
        seen.push(...page.attributes.map((a: { targetId: string; name: string }) => `${a.targetId} ${a.name}`));
        nextToken = page.nextToken;
      } while (nextToken);
      assert.equal(seen.length, 22);
      assert.equal(new Set(seen).size, 22);
      assert.equal(pages, 5);
      assert.ok(!seen.some((s) => s.startsWith(`${arns[11]} `)));
    });

    it('requires targetType, validates paging and the cluster', async () => {
      assert.equal((await ecs.fail('ListAttributes', { cluster: 'c1' })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('ListAttributes', { cluster: 'c1', targetType: 'task' })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('ListAttributes', { cluster: 'c1', targetType: 'container-instance', maxResults: 101 })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('ListAttributes', { cluster: 'c1', targetType: 'container-instance', nextToken: 'x' })).code, 'InvalidParameterException');
      assert.equal((await ecs.fail('ListAttributes', { cluster: 'nope', targetType: 'container-instance' })).code, 'ClusterNotFoundException');
    });
  });
});
