import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Kind } from '../../domain/records.js';
import { createTestEcs, TEST_ACCOUNT, TEST_REGION } from './testing.js';
import type { TestEcs } from './testing.js';

const arn = (name: string) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:cluster/${name}`;

describe('clusters', () => {
  let ecs: TestEcs;
  beforeEach(async () => {
    ecs = await createTestEcs();
  });
  afterEach(() => ecs.close());

  it('creates the default cluster when no name is given, with ECS defaults', async () => {
    const { cluster } = await ecs.call('CreateCluster', {});
    assert.equal(cluster.clusterName, 'default');
    assert.equal(cluster.clusterArn, arn('default'));
    assert.equal(cluster.status, 'ACTIVE');
    assert.equal(cluster.registeredContainerInstancesCount, 0);
    assert.equal(cluster.runningTasksCount, 0);
    assert.equal(cluster.pendingTasksCount, 0);
    assert.equal(cluster.activeServicesCount, 0);
    assert.deepEqual(cluster.settings, [{ name: 'containerInsights', value: 'disabled' }]);
    assert.deepEqual(cluster.capacityProviders, []);
  });

  it('returns the existing cluster when the name is taken', async () => {
    const a = await ecs.call('CreateCluster', { clusterName: 'web', tags: [{ key: 'team', value: 'a' }] });
    const b = await ecs.call('CreateCluster', { clusterName: 'web', tags: [{ key: 'team', value: 'b' }] });
    assert.deepEqual(b.cluster.tags, a.cluster.tags);
    const { clusterArns } = await ecs.call('ListClusters');
    assert.deepEqual(clusterArns, [arn('web')]);
  });

  it('rejects invalid names, settings, tags and capacity providers with InvalidParameterException', async () => {
    for (const input of [
      { clusterName: 'bad name' },
      { clusterName: 'x'.repeat(256) },
      { clusterName: 'c', settings: [{ name: 'containerInsights', value: 'sometimes' }] },
      { clusterName: 'c', tags: [{ key: 'aws:reserved', value: 'x' }] },
      { clusterName: 'c', tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' })) },
      { clusterName: 'c', capacityProviders: ['NOPE'] },
      { clusterName: 'c', capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] },
      {
        clusterName: 'c',
        capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
        defaultCapacityProviderStrategy: [
          { capacityProvider: 'FARGATE', base: 1 },
          { capacityProvider: 'FARGATE_SPOT', base: 2 },
        ],
      },
    ]) {
      const e = await ecs.fail('CreateCluster', input);
      assert.equal(e.code, 'InvalidParameterException', JSON.stringify(input));
    }
    assert.deepEqual((await ecs.call('ListClusters')).clusterArns, []);
  });

  it('describes by name and ARN, reports MISSING failures, and honours include', async () => {
    await ecs.call('CreateCluster', { clusterName: 'a', tags: [{ key: 'k', value: 'v' }] });
    const out = await ecs.call('DescribeClusters', { clusters: ['a', arn('a'), 'ghost'] });
    assert.equal(out.clusters.length, 2);
    assert.deepEqual(out.failures, [{ arn: arn('ghost'), reason: 'MISSING' }]);
    assert.equal(out.clusters[0].settings, undefined);
    assert.deepEqual(out.clusters[0].tags, []);
    const full = await ecs.call('DescribeClusters', { clusters: ['a'], include: ['SETTINGS', 'TAGS', 'STATISTICS'] });
    assert.deepEqual(full.clusters[0].tags, [{ key: 'k', value: 'v' }]);
    assert.deepEqual(full.clusters[0].settings, [{ name: 'containerInsights', value: 'disabled' }]);
    assert.equal(full.clusters[0].statistics.length, 8);
    const def = await ecs.call('DescribeClusters', {});
    assert.deepEqual(def.failures, [{ arn: arn('default'), reason: 'MISSING' }]);
  });

  it('pages ListClusters with opaque tokens and validates maxResults', async () => {
    for (let i = 0; i < 25; i++) await ecs.call('CreateCluster', { clusterName: `c${String(i).padStart(2, '0')}` });
    const seen: string[] = [];
    const tokens = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await ecs.call('ListClusters', { maxResults: 10, ...(nextToken ? { nextToken } : {}) });
      seen.push(...page.clusterArns);
      nextToken = page.nextToken;
      if (nextToken) {
        assert.ok(!tokens.has(nextToken));
        tokens.add(nextToken);
      }
    } while (nextToken);
    assert.equal(seen.length, 25);
    assert.equal(new Set(seen).size, 25);
    assert.equal((await ecs.fail('ListClusters', { maxResults: 0 })).code, 'InvalidParameterException');
    assert.equal((await ecs.fail('ListClusters', { maxResults: 101 })).code, 'InvalidParameterException');
    assert.equal((await ecs.fail('ListClusters', { nextToken: 'garbage' })).code, 'InvalidParameterException');
  });

  it('updates settings and configuration', async () => {
    await ecs.call('CreateCluster', { clusterName: 'a' });
    const { cluster } = await ecs.call('UpdateClusterSettings', { cluster: 'a', settings: [{ name: 'containerInsights', value: 'enabled' }] });
    assert.deepEqual(cluster.settings, [{ name: 'containerInsights', value: 'enabled' }]);
    const upd = await ecs.call('UpdateCluster', { cluster: arn('a'), configuration: { executeCommandConfiguration: { logging: 'DEFAULT' } } });
    assert.deepEqual(upd.cluster.configuration, { executeCommandConfiguration: { logging: 'DEFAULT' } });
    assert.equal((await ecs.fail('UpdateClusterSettings', { cluster: 'nope', settings: [{ name: 'containerInsights', value: 'enabled' }] })).code, 'ClusterNotFoundException');
  });

  it('deletes to INACTIVE, refuses while it holds instances, services or tasks', async () => {
    await ecs.call('CreateCluster', { clusterName: 'a' });
    const catalog = ecs.deps.state.catalog;
    await catalog.commit([{ op: 'put', kind: Kind.containerInstance, key: 'a/i1', value: { cluster: 'a', status: 'ACTIVE' } }]);
    assert.equal((await ecs.fail('DeleteCluster', { cluster: 'a' })).code, 'ClusterContainsContainerInstancesException');
    await catalog.commit([
      { op: 'put', kind: Kind.containerInstance, key: 'a/i1', value: { cluster: 'a', status: 'INACTIVE' } },
      { op: 'put', kind: Kind.service, key: 'a/s', value: { cluster: 'a', status: 'ACTIVE' } },
    ]);
    assert.equal((await ecs.fail('DeleteCluster', { cluster: 'a' })).code, 'ClusterContainsServicesException');
    await catalog.commit([
      { op: 'put', kind: Kind.service, key: 'a/s', value: { cluster: 'a', status: 'INACTIVE' } },
      { op: 'put', kind: Kind.task, key: 'a/t', value: { cluster: 'a', lastStatus: 'RUNNING', desiredStatus: 'RUNNING' } },
    ]);
    assert.equal((await ecs.fail('DeleteCluster', { cluster: 'a' })).code, 'ClusterContainsTasksException');
    await catalog.commit([{ op: 'put', kind: Kind.task, key: 'a/t', value: { cluster: 'a', lastStatus: 'STOPPED', desiredStatus: 'STOPPED' } }]);
    const { cluster } = await ecs.call('DeleteCluster', { cluster: 'a' });
    assert.equal(cluster.status, 'INACTIVE');
    const d = await ecs.call('DescribeClusters', { clusters: ['a'] });
    assert.equal(d.clusters[0].status, 'INACTIVE');
    assert.deepEqual((await ecs.call('ListClusters')).clusterArns, []);
    assert.equal((await ecs.fail('DeleteCluster', { cluster: 'a' })).code, 'ClusterNotFoundException');
    // Re-creating an INACTIVE cluster brings it back.
    assert.equal((await ecs.call('CreateCluster', { clusterName: 'a' })).cluster.status, 'ACTIVE');
  });
});
