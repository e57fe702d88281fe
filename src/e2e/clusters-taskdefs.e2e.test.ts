/**
 * Clusters and task definitions end to end, with each of the three real clients: the JS SDK (endpoint set), Debian's
 * AWS CLI v2 (/usr/bin/aws) and boto3 (/usr/bin/python3). Each client runs the full flow on its own names
 * (prefix sdk-/cli-/py-), then the same table of validation errors, checked the way each client reports them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  ListClustersCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateClusterCommand,
  UpdateClusterSettingsCommand,
  paginateListClusters,
  paginateListTaskDefinitionFamilies,
  paginateListTaskDefinitions,
} from '@aws-sdk/client-ecs';
import type { ECSClient, RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { aws, boto3, startGantry } from '../testing/harness.js';
import type { GantryProcess } from '../testing/harness.js';
import {
  assertBotoError,
  assertCliError,
  assertEpochSecondsNow,
  assertIsoNow,
  assertNoDuplicates,
  assertSdkError,
  botoOk,
  cliCall,
  clusterArn,
  cliOk,
  ecsCall,
  sdkClient,
  sdkError,
  sorted,
  tdArn,
} from './support.js';
import type { ErrorCase } from './support.js';

const STATISTICS = [
  'runningEC2TasksCount',
  'runningFargateTasksCount',
  'pendingEC2TasksCount',
  'pendingFargateTasksCount',
  'activeEC2ServiceCount',
  'activeFargateServiceCount',
  'drainingEC2ServiceCount',
  'drainingFargateServiceCount',
];
const WEB_CONTAINERS = [{ name: 'app', image: 'nginx:1.27', memory: 256, portMappings: [{ containerPort: 80 }], essential: true }];
const FARGATE_CONTAINERS = [{ name: 'worker', image: 'busybox:1.36', command: ['sleep', '3600'], essential: true }];

let g: GantryProcess;
before(async () => {
  g = await startGantry();
});
after(async () => {
  await g?.stop();
});

/** What a cluster listing must contain after a flow: every name the flow left ACTIVE, none it deleted. */
function assertListing(arns: readonly string[], active: readonly string[], deleted: readonly string[], what: string): void {
  assertNoDuplicates(arns, what);
  for (const n of active) assert.ok(arns.includes(clusterArn(n)), `${what}: ${n} missing from ${JSON.stringify(arns)}`);
  for (const n of deleted) assert.ok(!arns.includes(clusterArn(n)), `${what}: deleted ${n} still listed`);
}

// ---------------------------------------------------------------------------------------------------------------
// The validation errors every client can send (the CLI and boto3 check types and required members before sending,
// so what reaches the server from them are well-typed requests the server must refuse).

const ERROR_CASES: readonly ErrorCase[] = [
  // clusters
  { name: 'cluster name with a space', op: 'CreateCluster', params: { clusterName: 'bad name!' }, code: 'InvalidParameterException', message: /Cluster name/ },
  { name: 'cluster name too long', op: 'CreateCluster', params: { clusterName: 'x'.repeat(256) }, code: 'InvalidParameterException' },
  {
    name: 'unknown containerInsights value',
    op: 'CreateCluster',
    params: { clusterName: 'e-settings', settings: [{ name: 'containerInsights', value: 'sometimes' }] },
    code: 'InvalidParameterException',
    message: /containerInsights/,
  },
  { name: 'unknown capacity provider', op: 'CreateCluster', params: { clusterName: 'e-cp', capacityProviders: ['NOPE'] }, code: 'InvalidParameterException', message: /NOPE/ },
  {
    name: 'reserved tag prefix',
    op: 'CreateCluster',
    params: { clusterName: 'e-tags', tags: [{ key: 'aws:owner', value: 'x' }] },
    code: 'InvalidParameterException',
    message: /aws:/,
  },
  { name: 'unknown include (model enum)', op: 'DescribeClusters', params: { clusters: ['default'], include: ['BOGUS'] }, code: 'InvalidParameterException', message: /include/ },
  { name: 'maxResults above 100', op: 'ListClusters', params: { maxResults: 101 }, code: 'InvalidParameterException', message: /maxResults/ },
  { name: 'maxResults 0', op: 'ListClusters', params: { maxResults: 0 }, code: 'InvalidParameterException', message: /maxResults/ },
  { name: 'garbage nextToken', op: 'ListClusters', params: { nextToken: 'not-a-token' }, code: 'InvalidParameterException', message: /nextToken/ },
  {
    name: 'settings of a missing cluster',
    op: 'UpdateClusterSettings',
    params: { cluster: 'e-missing', settings: [{ name: 'containerInsights', value: 'enabled' }] },
    code: 'ClusterNotFoundException',
  },
  {
    name: 'UpdateCluster on a missing cluster',
    op: 'UpdateCluster',
    params: { cluster: 'e-missing', settings: [{ name: 'containerInsights', value: 'enabled' }] },
    code: 'ClusterNotFoundException',
  },
  { name: 'delete a missing cluster', op: 'DeleteCluster', params: { cluster: 'e-missing' }, code: 'ClusterNotFoundException' },
  { name: 'delete a missing cluster by ARN', op: 'DeleteCluster', params: { cluster: clusterArn('e-missing') }, code: 'ClusterNotFoundException' },
  // task definitions
  {
    name: 'Fargate size that does not exist',
    op: 'RegisterTaskDefinition',
    params: { family: 'e-fargate', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '4096', containerDefinitions: FARGATE_CONTAINERS },
    code: 'ClientException',
    message: /^No Fargate configuration exists for given values/,
  },
  {
    name: 'Fargate size in vCPU/GB notation that does not exist',
    op: 'RegisterTaskDefinition',
    params: { family: 'e-fargate', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '1 vCPU', memory: '1GB', containerDefinitions: FARGATE_CONTAINERS },
    code: 'ClientException',
    message: /^No Fargate configuration exists for given values/,
  },
  {
    name: 'task cpu that is not a number',
    op: 'RegisterTaskDefinition',
    params: { family: 'e-cpu', cpu: 'lots', memory: '512', containerDefinitions: WEB_CONTAINERS },
    code: 'ClientException',
    message: /Invalid 'cpu' setting for task/,
  },
  {
    name: 'task memory that is not a whole number of MiB',
    op: 'RegisterTaskDefinition',
    params: { family: 'e-mem', memory: '0.3GB', containerDefinitions: WEB_CONTAINERS },
    code: 'ClientException',
    message: /Invalid 'memory' setting for task/,
  },
  {
    name: 'family with invalid characters',
    op: 'RegisterTaskDefinition',
    params: { family: 'bad family!', containerDefinitions: WEB_CONTAINERS },
    code: 'ClientException',
  },
  { name: 'no containers', op: 'RegisterTaskDefinition', params: { family: 'e-empty', containerDefinitions: [] }, code: 'ClientException', message: /Container list cannot be empty/ },
  {
    name: 'container without image',
    op: 'RegisterTaskDefinition',
    params: { family: 'e-noimage', containerDefinitions: [{ name: 'app', memory: 128 }] },
    code: 'ClientException',
    message: /image/,
  },
  {
    name: 'container memory above task memory',
    op: 'RegisterTaskDefinition',
    params: { family: 'e-bigc', memory: '512', containerDefinitions: [{ name: 'app', image: 'nginx', memory: 1024 }] },
    code: 'ClientException',
    message: /memory/,
  },
  {
    name: 'unknown networkMode (model enum)',
    op: 'RegisterTaskDefinition',
    params: { family: 'e-net', networkMode: 'bogus', containerDefinitions: WEB_CONTAINERS },
    code: 'InvalidParameterException',
    message: /networkMode/,
  },
  {
    name: 'reserved tag prefix on a task definition',
    op: 'RegisterTaskDefinition',
    params: { family: 'e-tag', containerDefinitions: WEB_CONTAINERS, tags: [{ key: 'aws:x', value: 'y' }] },
    code: 'InvalidParameterException',
  },
  { name: 'describe an unknown family', op: 'DescribeTaskDefinition', params: { taskDefinition: 'e-nosuchfamily' }, code: 'ClientException', message: /Unable to describe task definition/ },
  { name: 'describe revision 0', op: 'DescribeTaskDefinition', params: { taskDefinition: 'e-nosuchfamily:0' }, code: 'ClientException' },
  { name: 'deregister without a revision', op: 'DeregisterTaskDefinition', params: { taskDefinition: 'e-web' }, code: 'ClientException' },
  { name: 'deregister an unknown revision', op: 'DeregisterTaskDefinition', params: { taskDefinition: 'e-web:7' }, code: 'ClientException' },
  { name: 'list with maxResults 0', op: 'ListTaskDefinitions', params: { maxResults: 0 }, code: 'InvalidParameterException', message: /maxResults/ },
  { name: 'unknown list sort (model enum)', op: 'ListTaskDefinitions', params: { sort: 'SIDEWAYS' }, code: 'InvalidParameterException', message: /sort/ },
  { name: 'families with a garbage nextToken', op: 'ListTaskDefinitionFamilies', params: { nextToken: 'xyz' }, code: 'InvalidParameterException', message: /nextToken/ },
];

/**
 * Errors only the JS SDK can send: it checks neither required members nor types, and DeleteTaskDefinitions (2023) is
 * newer than Debian's CLI 2.9.19 and boto3 1.26, which do not have the operation at all.
 */
const SDK_ONLY_ERROR_CASES: readonly ErrorCase[] = [
  {
    name: 'missing required family',
    op: 'RegisterTaskDefinition',
    params: { containerDefinitions: WEB_CONTAINERS },
    code: 'InvalidParameterException',
    message: /Value null at 'family' failed to satisfy constraint: Member must not be null/,
  },
  { name: 'missing required cluster', op: 'DeleteCluster', params: {}, code: 'InvalidParameterException', message: /Value null at 'cluster'/ },
  {
    name: 'delete more than 10 revisions',
    op: 'DeleteTaskDefinitions',
    params: { taskDefinitions: Array.from({ length: 11 }, (_, i) => `e-web:${i + 1}`) },
    code: 'InvalidParameterException',
  },
  { name: 'delete nothing', op: 'DeleteTaskDefinitions', params: { taskDefinitions: [] }, code: 'InvalidParameterException' },
];

/** Names the error cases must not have created. */
const ERROR_CLUSTERS = ['e-settings', 'e-cp', 'e-tags', 'e-missing'];

async function assertErrorCasesLeftNoTrace(client: ECSClient): Promise<void> {
  const d = await client.send(new DescribeClustersCommand({ clusters: ERROR_CLUSTERS }));
  assert.deepEqual(d.clusters, []);
  assert.deepEqual(sorted(d.failures!.map((f) => f.arn!)), sorted(ERROR_CLUSTERS.map(clusterArn)));
  const fams = await client.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'e-' }));
  assert.deepEqual(fams.families, []);
}

// ---------------------------------------------------------------------------------------------------------------

describe('JS SDK', () => {
  let sdk: ECSClient;
  before(() => {
    sdk = sdkClient(g.url);
  });
  after(() => sdk?.destroy());

  test('cluster flow', async () => {
    // CreateCluster with no name creates (or returns) "default".
    const def = (await sdk.send(new CreateClusterCommand({}))).cluster!;
    assert.equal(def.clusterName, 'default');
    assert.equal(def.clusterArn, clusterArn('default'));
    assert.equal(def.status, 'ACTIVE');
    assert.deepEqual(def.settings, [{ name: 'containerInsights', value: 'disabled' }]);

    const created = await sdk.send(
      new CreateClusterCommand({
        clusterName: 'sdk-a',
        tags: [{ key: 'team', value: 'sdk' }],
        settings: [{ name: 'containerInsights', value: 'enabled' }],
      }),
    );
    assert.equal(created.$metadata.httpStatusCode, 200);
    const a = created.cluster!;
    assert.equal(a.clusterArn, clusterArn('sdk-a'));
    assert.equal(a.status, 'ACTIVE');
    assert.equal(a.registeredContainerInstancesCount, 0);
    assert.equal(a.runningTasksCount, 0);
    assert.equal(a.pendingTasksCount, 0);
    assert.equal(a.activeServicesCount, 0);
    assert.deepEqual(a.tags, [{ key: 'team', value: 'sdk' }]);
    assert.deepEqual(a.settings, [{ name: 'containerInsights', value: 'enabled' }]);

    // Creating an existing cluster returns it unchanged.
    const again = (await sdk.send(new CreateClusterCommand({ clusterName: 'sdk-a', tags: [{ key: 'team', value: 'other' }] }))).cluster!;
    assert.equal(again.clusterArn, a.clusterArn);
    assert.deepEqual(again.tags, [{ key: 'team', value: 'sdk' }]);
    assert.deepEqual(again.settings, [{ name: 'containerInsights', value: 'enabled' }]);

    // Concurrent creates of one name: one cluster, and every caller gets it.
    const racing = await Promise.all(Array.from({ length: 20 }, () => sdk.send(new CreateClusterCommand({ clusterName: 'sdk-b' }))));
    for (const r of racing) assert.equal(r.cluster!.clusterArn, clusterArn('sdk-b'));
    for (const n of ['sdk-c', 'sdk-d', 'sdk-e']) await sdk.send(new CreateClusterCommand({ clusterName: n }));

    // Describe by name and ARN, with include, and MISSING failures.
    const d = await sdk.send(
      new DescribeClustersCommand({ clusters: ['sdk-a', clusterArn('sdk-b'), 'sdk-nope'], include: ['TAGS', 'SETTINGS', 'STATISTICS'] }),
    );
    assert.deepEqual(d.clusters!.map((c) => c.clusterName), ['sdk-a', 'sdk-b']);
    assert.deepEqual(d.clusters![0]!.tags, [{ key: 'team', value: 'sdk' }]);
    assert.deepEqual(d.clusters![0]!.settings, [{ name: 'containerInsights', value: 'enabled' }]);
    assert.deepEqual(d.clusters![1]!.settings, [{ name: 'containerInsights', value: 'disabled' }]);
    assert.deepEqual(sorted(d.clusters![0]!.statistics!.map((s) => s.name!)), sorted(STATISTICS));
    assert.deepEqual(d.failures, [{ arn: clusterArn('sdk-nope'), reason: 'MISSING' }]);
    const plain = await sdk.send(new DescribeClustersCommand({ clusters: ['sdk-a'] }));
    assert.equal(plain.clusters![0]!.settings, undefined, 'settings only with include SETTINGS');
    assert.deepEqual(plain.clusters![0]!.tags ?? [], [], 'tags only with include TAGS');
    const implicit = await sdk.send(new DescribeClustersCommand({}));
    assert.deepEqual(implicit.clusters!.map((c) => c.clusterName), ['default'], 'no clusters means default');

    // ListClusters, one page vs. auto-paging two at a time.
    const whole = await sdk.send(new ListClustersCommand({}));
    assert.equal(whole.nextToken, undefined);
    const paged: string[] = [];
    let pages = 0;
    for await (const page of paginateListClusters({ client: sdk, pageSize: 2 }, {})) {
      pages++;
      assert.ok(page.clusterArns!.length <= 2);
      paged.push(...page.clusterArns!);
    }
    assert.ok(pages >= 3, `expected several pages, got ${pages}`);
    assertListing(paged, ['default', 'sdk-a', 'sdk-b', 'sdk-c', 'sdk-d', 'sdk-e'], [], 'paginateListClusters');
    assert.deepEqual(sorted(paged), sorted(whole.clusterArns!));

    // Update settings (both operations).
    const upd = (await sdk.send(
      new UpdateClusterSettingsCommand({ cluster: 'sdk-b', settings: [{ name: 'containerInsights', value: 'enhanced' }] }),
    )).cluster!;
    assert.deepEqual(upd.settings, [{ name: 'containerInsights', value: 'enhanced' }]);
    const upd2 = (await sdk.send(
      new UpdateClusterCommand({ cluster: clusterArn('sdk-c'), settings: [{ name: 'containerInsights', value: 'enabled' }] }),
    )).cluster!;
    assert.deepEqual(upd2.settings, [{ name: 'containerInsights', value: 'enabled' }]);
    const after = await sdk.send(new DescribeClustersCommand({ clusters: ['sdk-b', 'sdk-c'], include: ['SETTINGS'] }));
    assert.deepEqual(after.clusters!.map((c) => c.settings![0]!.value), ['enhanced', 'enabled']);

    // Delete: INACTIVE afterwards, gone from the listing, not found for updates and a second delete.
    const del = (await sdk.send(new DeleteClusterCommand({ cluster: 'sdk-b' }))).cluster!;
    assert.equal(del.status, 'INACTIVE');
    assert.equal(del.clusterArn, clusterArn('sdk-b'));
    const gone = await sdk.send(new DescribeClustersCommand({ clusters: ['sdk-b'] }));
    assert.equal(gone.clusters![0]!.status, 'INACTIVE');
    assertListing((await sdk.send(new ListClustersCommand({}))).clusterArns!, ['sdk-a', 'sdk-c'], ['sdk-b'], 'after delete');
    assertSdkError(await sdkError(sdk, 'DeleteCluster', { cluster: 'sdk-b' }), { op: 'DeleteCluster', code: 'ClusterNotFoundException' });
    assertSdkError(
      await sdkError(sdk, 'UpdateClusterSettings', { cluster: 'sdk-b', settings: [{ name: 'containerInsights', value: 'enabled' }] }),
      { op: 'UpdateClusterSettings', code: 'ClusterNotFoundException' },
    );
    // The name can be used again.
    const reborn = (await sdk.send(new CreateClusterCommand({ clusterName: 'sdk-b' }))).cluster!;
    assert.equal(reborn.status, 'ACTIVE');
    assert.deepEqual(reborn.settings, [{ name: 'containerInsights', value: 'disabled' }]);
    await sdk.send(new DeleteClusterCommand({ cluster: clusterArn('sdk-e') }));
  });

  test('task definition flow', async () => {
    const web: RegisterTaskDefinitionCommandInput = {
      family: 'sdk-web',
      cpu: '1 vCPU',
      memory: '2GB',
      containerDefinitions: WEB_CONTAINERS,
      tags: [{ key: 'owner', value: 'sdk' }],
    };
    const r1 = await sdk.send(new RegisterTaskDefinitionCommand(web));
    const td1 = r1.taskDefinition!;
    assert.equal(td1.taskDefinitionArn, tdArn('sdk-web', 1));
    assert.equal(td1.revision, 1);
    assert.equal(td1.status, 'ACTIVE');
    assert.equal(td1.cpu, '1024');
    assert.equal(td1.memory, '2048');
    assert.ok(td1.registeredAt instanceof Date && Math.abs(td1.registeredAt.getTime() - Date.now()) < 120_000, String(td1.registeredAt));
    assert.deepEqual(r1.tags, [{ key: 'owner', value: 'sdk' }]);
    assert.equal(td1.containerDefinitions![0]!.image, 'nginx:1.27');
    assert.equal((await sdk.send(new RegisterTaskDefinitionCommand(web))).taskDefinition!.revision, 2);
    const td3 = (await sdk.send(new RegisterTaskDefinitionCommand({ ...web, cpu: '0.5 vCPU', memory: '4 GB' }))).taskDefinition!;
    assert.deepEqual([td3.revision, td3.cpu, td3.memory], [3, '512', '4096']);
    // Concurrent registrations of one family: distinct, consecutive revisions.
    const concurrent = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sdk.send(new RegisterTaskDefinitionCommand({ family: 'race-sdk', containerDefinitions: [{ name: 'a', image: `nginx:${i}`, memory: 64 }] }))),
    );
    assert.deepEqual(sorted(concurrent.map((r) => String(r.taskDefinition!.revision).padStart(2, '0'))), Array.from({ length: 20 }, (_, i) => String(i + 1).padStart(2, '0')));
    for (const r of concurrent) {
      const d = await sdk.send(new DescribeTaskDefinitionCommand({ taskDefinition: r.taskDefinition!.taskDefinitionArn! }));
      assert.equal(d.taskDefinition!.containerDefinitions![0]!.image, r.taskDefinition!.containerDefinitions![0]!.image);
    }
    const worker = { family: 'sdk-worker', requiresCompatibilities: ['FARGATE' as const], networkMode: 'awsvpc' as const, cpu: '256', memory: '512', containerDefinitions: FARGATE_CONTAINERS };
    const w1 = (await sdk.send(new RegisterTaskDefinitionCommand(worker))).taskDefinition!;
    assert.ok(w1.compatibilities!.includes('FARGATE'), JSON.stringify(w1.compatibilities));
    await sdk.send(new RegisterTaskDefinitionCommand(worker));

    // Describe by family (latest ACTIVE), family:revision and ARN; tags only with include TAGS.
    assert.equal((await sdk.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'sdk-web' }))).taskDefinition!.revision, 3);
    const byRev = await sdk.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'sdk-web:1' }));
    assert.equal(byRev.taskDefinition!.taskDefinitionArn, tdArn('sdk-web', 1));
    assert.equal(byRev.tags, undefined);
    const byArn = await sdk.send(new DescribeTaskDefinitionCommand({ taskDefinition: tdArn('sdk-web', 2), include: ['TAGS'] }));
    assert.equal(byArn.taskDefinition!.revision, 2);
    assert.deepEqual(byArn.tags, [{ key: 'owner', value: 'sdk' }]);

    // List: ASC by family then revision, DESC, familyPrefix, several pages.
    const asc = (await sdk.send(new ListTaskDefinitionsCommand({ familyPrefix: 'sdk-web' }))).taskDefinitionArns!;
    assert.deepEqual(asc, [1, 2, 3].map((r) => tdArn('sdk-web', r)));
    const desc = (await sdk.send(new ListTaskDefinitionsCommand({ familyPrefix: 'sdk-web', sort: 'DESC' }))).taskDefinitionArns!;
    assert.deepEqual(desc, [3, 2, 1].map((r) => tdArn('sdk-web', r)));
    const paged: string[] = [];
    let pages = 0;
    for await (const page of paginateListTaskDefinitions({ client: sdk, pageSize: 2 }, { sort: 'DESC' })) {
      pages++;
      paged.push(...page.taskDefinitionArns!);
    }
    assertNoDuplicates(paged, 'paginateListTaskDefinitions');
    const mine = paged.filter((a) => a.includes(':task-definition/sdk-'));
    assert.deepEqual(mine, [tdArn('sdk-worker', 2), tdArn('sdk-worker', 1), tdArn('sdk-web', 3), tdArn('sdk-web', 2), tdArn('sdk-web', 1)]);
    assert.ok(pages >= 3, `expected several pages, got ${pages}`);
    const families: string[] = [];
    for await (const page of paginateListTaskDefinitionFamilies({ client: sdk, pageSize: 1 }, { familyPrefix: 'sdk-' })) families.push(...page.families!);
    assert.deepEqual(families, ['sdk-web', 'sdk-worker']);
    // ListTaskDefinitionFamilies' familyPrefix is a prefix; ListTaskDefinitions' is the full family name.
    assert.deepEqual((await sdk.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'sdk-w' }))).families, ['sdk-web', 'sdk-worker']);
    assert.deepEqual((await sdk.send(new ListTaskDefinitionsCommand({ familyPrefix: 'sdk-w' }))).taskDefinitionArns, []);

    // Deregister: INACTIVE, describe by family skips it, INACTIVE listing.
    const dereg = (await sdk.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'sdk-web:3' }))).taskDefinition!;
    assert.equal(dereg.status, 'INACTIVE');
    assert.ok(dereg.deregisteredAt instanceof Date);
    await sdk.send(new DeregisterTaskDefinitionCommand({ taskDefinition: tdArn('sdk-web', 1) }));
    assert.equal((await sdk.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'sdk-web' }))).taskDefinition!.revision, 2);
    assert.equal((await sdk.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'sdk-web:3' }))).taskDefinition!.status, 'INACTIVE');
    assert.deepEqual(
      (await sdk.send(new ListTaskDefinitionsCommand({ familyPrefix: 'sdk-web', status: 'INACTIVE' }))).taskDefinitionArns,
      [tdArn('sdk-web', 1), tdArn('sdk-web', 3)],
    );
    assert.deepEqual((await sdk.send(new ListTaskDefinitionsCommand({ familyPrefix: 'sdk-web' }))).taskDefinitionArns, [tdArn('sdk-web', 2)]);
    for (const r of [1, 2]) await sdk.send(new DeregisterTaskDefinitionCommand({ taskDefinition: `sdk-worker:${r}` }));
    assert.deepEqual((await sdk.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'sdk-', status: 'ACTIVE' }))).families, ['sdk-web']);
    assert.deepEqual((await sdk.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'sdk-', status: 'INACTIVE' }))).families, ['sdk-worker']);

    // Delete: only INACTIVE revisions; failures for the rest.
    const del = await sdk.send(
      new DeleteTaskDefinitionsCommand({ taskDefinitions: ['sdk-web:1', tdArn('sdk-web', 3), 'sdk-web:2', 'sdk-web:99'] }),
    );
    assert.deepEqual(del.taskDefinitions!.map((t) => [t.taskDefinitionArn, t.status]), [
      [tdArn('sdk-web', 1), 'DELETE_IN_PROGRESS'],
      [tdArn('sdk-web', 3), 'DELETE_IN_PROGRESS'],
    ]);
    assert.deepEqual(del.failures!.map((f) => f.arn), [tdArn('sdk-web', 2), tdArn('sdk-web', 99)]);
    assert.match(del.failures![0]!.reason!, /ACTIVE/);
    assert.deepEqual((await sdk.send(new ListTaskDefinitionsCommand({ familyPrefix: 'sdk-web', status: 'INACTIVE' }))).taskDefinitionArns, []);

    // Revisions are never reused.
    assert.equal((await sdk.send(new RegisterTaskDefinitionCommand(web))).taskDefinition!.revision, 4);
  });

  test('validation errors: error.name, $metadata.httpStatusCode 400, message', async () => {
    for (const c of ERROR_CASES) assertSdkError(await sdkError(sdk, c.op, c.params), c, `[${c.name}] `);
    for (const c of SDK_ONLY_ERROR_CASES) assertSdkError(await sdkError(sdk, c.op, c.params), c, `[${c.name}] `);
    await assertErrorCasesLeftNoTrace(sdk);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('AWS CLI', () => {
  test('cluster flow', () => {
    const def = cliOk(aws(g.url, ['ecs', 'create-cluster'])).cluster;
    assert.equal(def.clusterName, 'default');
    assert.equal(def.clusterArn, clusterArn('default'));
    assert.equal(def.status, 'ACTIVE');

    const a = cliOk(
      aws(g.url, ['ecs', 'create-cluster', '--cluster-name', 'cli-a', '--tags', 'key=team,value=cli', '--settings', 'name=containerInsights,value=enabled']),
    ).cluster;
    assert.equal(a.clusterArn, clusterArn('cli-a'));
    assert.deepEqual(a.tags, [{ key: 'team', value: 'cli' }]);
    assert.deepEqual(a.settings, [{ name: 'containerInsights', value: 'enabled' }]);
    const again = cliOk(aws(g.url, ['ecs', 'create-cluster', '--cluster-name', 'cli-a'])).cluster;
    assert.equal(again.clusterArn, a.clusterArn);
    assert.deepEqual(again.settings, [{ name: 'containerInsights', value: 'enabled' }], 'existing cluster returned unchanged');
    cliOk(aws(g.url, ['ecs', 'create-cluster', '--cluster-name', 'cli-b']));

    const d = cliOk(
      aws(g.url, ['ecs', 'describe-clusters', '--clusters', 'cli-a', clusterArn('cli-b'), 'cli-nope', '--include', 'TAGS', 'SETTINGS', 'STATISTICS']),
    );
    assert.deepEqual(d.clusters.map((c: any) => c.clusterName), ['cli-a', 'cli-b']);
    assert.deepEqual(d.clusters[0].tags, [{ key: 'team', value: 'cli' }]);
    assert.deepEqual(sorted(d.clusters[0].statistics.map((s: any) => s.name)), sorted(STATISTICS));
    assert.deepEqual(d.failures, [{ arn: clusterArn('cli-nope'), reason: 'MISSING' }]);

    // The CLI pages by itself: --no-paginate is one request, --page-size 2 makes several (counted in --debug).
    const one = cliOk(aws(g.url, ['ecs', 'list-clusters', '--no-paginate']));
    const expected = one.clusterArns as string[];
    assert.ok(expected.length >= 5, JSON.stringify(expected));
    const auto = aws(g.url, ['ecs', 'list-clusters', '--page-size', '2', '--debug']);
    const all = cliOk(auto).clusterArns as string[];
    const requests = auto.stderr.split('\n').filter((l) => l.includes('Making request for OperationModel(name=ListClusters)')).length;
    assert.equal(requests, Math.ceil(expected.length / 2), `ListClusters requests made by --page-size 2 for ${expected.length} clusters`);
    assertListing(all, ['default', 'cli-a', 'cli-b'], [], 'list-clusters --page-size 2');
    assert.deepEqual(sorted(all), sorted(expected));
    // --max-items with --starting-token: the CLI's own resumable paging over the server's tokens.
    const viaTokens: string[] = [];
    let token: string | undefined;
    let rounds = 0;
    do {
      const out = cliOk(aws(g.url, ['ecs', 'list-clusters', '--page-size', '1', '--max-items', '2', ...(token ? ['--starting-token', token] : [])]));
      viaTokens.push(...(out.clusterArns as string[]));
      token = out.NextToken;
      assert.ok(++rounds <= expected.length, 'paging does not end');
    } while (token);
    assert.ok(rounds >= 2);
    assertNoDuplicates(viaTokens, 'list-clusters --max-items');
    assert.deepEqual(sorted(viaTokens), sorted(expected));

    const upd = cliOk(aws(g.url, ['ecs', 'update-cluster-settings', '--cluster', 'cli-b', '--settings', 'name=containerInsights,value=enabled'])).cluster;
    assert.deepEqual(upd.settings, [{ name: 'containerInsights', value: 'enabled' }]);

    const del = cliOk(aws(g.url, ['ecs', 'delete-cluster', '--cluster', 'cli-b'])).cluster;
    assert.equal(del.status, 'INACTIVE');
    assert.equal(cliOk(aws(g.url, ['ecs', 'describe-clusters', '--clusters', 'cli-b'])).clusters[0].status, 'INACTIVE');
    assertListing(cliOk(aws(g.url, ['ecs', 'list-clusters'])).clusterArns, ['cli-a', 'default'], ['cli-b'], 'after delete');
    assertCliError(aws(g.url, ['ecs', 'delete-cluster', '--cluster', 'cli-b']), { op: 'DeleteCluster', code: 'ClusterNotFoundException' });
  });

  test('task definition flow', () => {
    const containers = JSON.stringify(WEB_CONTAINERS);
    const reg = (extra: string[] = []) =>
      cliOk(aws(g.url, ['ecs', 'register-task-definition', '--family', 'cli-web', '--cpu', '1 vCPU', '--memory', '2GB', '--container-definitions', containers, ...extra]));
    const r1 = reg(['--tags', 'key=owner,value=cli']);
    assert.equal(r1.taskDefinition.taskDefinitionArn, tdArn('cli-web', 1));
    assert.deepEqual([r1.taskDefinition.cpu, r1.taskDefinition.memory], ['1024', '2048']);
    assertIsoNow(r1.taskDefinition.registeredAt, 'registeredAt (the CLI parses epoch seconds and prints ISO 8601)');
    assert.deepEqual(r1.tags, [{ key: 'owner', value: 'cli' }]);
    assert.equal(reg().taskDefinition.revision, 2);
    assert.equal(reg().taskDefinition.revision, 3);

    assert.equal(cliOk(aws(g.url, ['ecs', 'describe-task-definition', '--task-definition', 'cli-web'])).taskDefinition.revision, 3);
    const byArn = cliOk(aws(g.url, ['ecs', 'describe-task-definition', '--task-definition', tdArn('cli-web', 1), '--include', 'TAGS']));
    assert.equal(byArn.taskDefinition.revision, 1);
    assert.deepEqual(byArn.tags, [{ key: 'owner', value: 'cli' }]);

    const desc = aws(g.url, ['ecs', 'list-task-definitions', '--family-prefix', 'cli-web', '--sort', 'DESC', '--page-size', '1', '--debug']);
    assert.deepEqual(cliOk(desc).taskDefinitionArns, [3, 2, 1].map((r) => tdArn('cli-web', r)));
    assert.equal(desc.stderr.split('\n').filter((l) => l.includes('Making request for OperationModel(name=ListTaskDefinitions)')).length, 3);
    assert.deepEqual(cliOk(aws(g.url, ['ecs', 'list-task-definition-families', '--family-prefix', 'cli-'])).families, ['cli-web']);

    assert.equal(cliOk(aws(g.url, ['ecs', 'deregister-task-definition', '--task-definition', 'cli-web:3'])).taskDefinition.status, 'INACTIVE');
    assert.equal(cliOk(aws(g.url, ['ecs', 'describe-task-definition', '--task-definition', 'cli-web:2'])).taskDefinition.status, 'ACTIVE');
    assert.deepEqual(cliOk(aws(g.url, ['ecs', 'list-task-definitions', '--family-prefix', 'cli-web', '--status', 'INACTIVE'])).taskDefinitionArns, [
      tdArn('cli-web', 3),
    ]);
    // (delete-task-definitions is newer than this CLI; the JS SDK suite covers it.)
    assert.equal(reg().taskDefinition.revision, 4, 'revision numbers are never reused');
  });

  test('validation errors: exit code 254 and "An error occurred (X) when calling the Y operation"', () => {
    for (const c of ERROR_CASES) assertCliError(cliCall(g.url, c.op, c.params), c, `[${c.name}] `);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('boto3', () => {
  test('cluster flow', () => {
    const [def, a, again, , , d, plain, pages, whole, upd, del, gone, listed] = botoOk(g.url, [
      ecsCall('CreateCluster'),
      ecsCall('CreateCluster', { clusterName: 'py-a', tags: [{ key: 'team', value: 'py' }], settings: [{ name: 'containerInsights', value: 'enabled' }] }),
      ecsCall('CreateCluster', { clusterName: 'py-a' }),
      ecsCall('CreateCluster', { clusterName: 'py-b' }),
      ecsCall('CreateCluster', { clusterName: 'py-c' }),
      ecsCall('DescribeClusters', { clusters: ['py-a', clusterArn('py-b'), 'py-nope'], include: ['TAGS', 'SETTINGS', 'STATISTICS'] }),
      ecsCall('DescribeClusters', { clusters: ['py-a'] }),
      ecsCall('ListClusters', { PaginationConfig: { PageSize: 2 } }, true),
      ecsCall('ListClusters', { maxResults: 100 }),
      ecsCall('UpdateClusterSettings', { cluster: 'py-b', settings: [{ name: 'containerInsights', value: 'enabled' }] }),
      ecsCall('DeleteCluster', { cluster: 'py-b' }),
      ecsCall('DescribeClusters', { clusters: ['py-b'] }),
      ecsCall('ListClusters'),
    ]);
    assert.equal(def.cluster.clusterName, 'default');
    assert.equal(def.cluster.status, 'ACTIVE');
    assert.equal(a.cluster.clusterArn, clusterArn('py-a'));
    assert.deepEqual(a.cluster.tags, [{ key: 'team', value: 'py' }]);
    assert.equal(again.cluster.clusterArn, a.cluster.clusterArn);
    assert.deepEqual(again.cluster.settings, [{ name: 'containerInsights', value: 'enabled' }]);
    assert.deepEqual(d.clusters.map((c: any) => c.clusterName), ['py-a', 'py-b']);
    assert.deepEqual(d.clusters[0].settings, [{ name: 'containerInsights', value: 'enabled' }]);
    assert.deepEqual(sorted(d.clusters[0].statistics.map((s: any) => s.name)), sorted(STATISTICS));
    assert.deepEqual(d.failures, [{ arn: clusterArn('py-nope'), reason: 'MISSING' }]);
    assert.equal(plain.clusters[0].settings, undefined);
    assert.ok(pages.length >= 3, `paginator pages: ${pages.length}`);
    for (const p of pages) assert.ok(p.clusterArns.length <= 2);
    const paged = pages.flatMap((p: any) => p.clusterArns as string[]);
    assertListing(paged, ['default', 'py-a', 'py-b', 'py-c'], [], 'boto3 paginator');
    assert.deepEqual(sorted(paged), sorted(whole.clusterArns));
    assert.deepEqual(upd.cluster.settings, [{ name: 'containerInsights', value: 'enabled' }]);
    assert.equal(del.cluster.status, 'INACTIVE');
    assert.equal(gone.clusters[0].status, 'INACTIVE');
    assertListing(listed.clusterArns, ['py-a', 'py-c'], ['py-b'], 'after delete');
  });

  test('task definition flow', () => {
    const web = { family: 'py-web', cpu: '1 vCPU', memory: '2GB', containerDefinitions: WEB_CONTAINERS, tags: [{ key: 'owner', value: 'py' }] };
    const results = boto3(g.url, [
      ecsCall('RegisterTaskDefinition', web), // 0
      ecsCall('RegisterTaskDefinition', web),
      ecsCall('RegisterTaskDefinition', web),
      ecsCall('RegisterTaskDefinition', { ...web, family: 'py-worker' }),
      ecsCall('DescribeTaskDefinition', { taskDefinition: 'py-web' }),
      ecsCall('DescribeTaskDefinition', { taskDefinition: 'py-web:1', include: ['TAGS'] }), // 5
      ecsCall('DescribeTaskDefinition', { taskDefinition: tdArn('py-web', 2) }),
      ecsCall('ListTaskDefinitions', { familyPrefix: 'py-web', PaginationConfig: { PageSize: 1 } }, true),
      ecsCall('ListTaskDefinitionFamilies', { familyPrefix: 'py-', PaginationConfig: { PageSize: 1 } }, true),
      ecsCall('DeregisterTaskDefinition', { taskDefinition: 'py-web:3' }),
      ecsCall('DescribeTaskDefinition', { taskDefinition: 'py-web' }), // 10
      ecsCall('ListTaskDefinitions', { familyPrefix: 'py-web', status: 'INACTIVE' }),
      ecsCall('RegisterTaskDefinition', web),
      ecsCall('DeregisterTaskDefinition', { taskDefinition: 'py-web' }),
      ecsCall('DescribeTaskDefinition', { taskDefinition: 'py-nope' }),
    ]);
    const ok = (i: number) => {
      const r = results[i]!;
      assert.ok(r.ok, `call #${i}: ${JSON.stringify(r)}`);
      return r.result;
    };
    const td1 = ok(0).taskDefinition;
    assert.equal(td1.taskDefinitionArn, tdArn('py-web', 1));
    assert.deepEqual([td1.cpu, td1.memory], ['1024', '2048']);
    assertEpochSecondsNow(td1.registeredAt, 'registeredAt (boto3, parsed as a datetime)');
    assert.deepEqual(ok(0).tags, [{ key: 'owner', value: 'py' }]);
    assert.deepEqual([ok(1).taskDefinition.revision, ok(2).taskDefinition.revision, ok(3).taskDefinition.revision], [2, 3, 1]);
    assert.equal(ok(4).taskDefinition.revision, 3);
    assert.deepEqual(ok(5).tags, [{ key: 'owner', value: 'py' }]);
    assert.equal(ok(6).taskDefinition.revision, 2);
    const pages = ok(7) as any[];
    assert.equal(pages.length, 3);
    assert.deepEqual(pages.flatMap((p) => p.taskDefinitionArns), [1, 2, 3].map((r) => tdArn('py-web', r)));
    assert.deepEqual((ok(8) as any[]).flatMap((p) => p.families), ['py-web', 'py-worker']);
    assert.equal(ok(9).taskDefinition.status, 'INACTIVE');
    assert.equal(ok(10).taskDefinition.revision, 2);
    // (delete_task_definitions is newer than this boto3; the JS SDK suite covers it.)
    assert.deepEqual(ok(11).taskDefinitionArns, [tdArn('py-web', 3)]);
    assert.equal(ok(12).taskDefinition.revision, 4);
    assertBotoError(results[13]!, { op: 'DeregisterTaskDefinition', code: 'ClientException' });
    assertBotoError(results[14]!, { op: 'DescribeTaskDefinition', code: 'ClientException', message: /Unable to describe task definition/ });
  });

  test('validation errors: Error.Code and HTTP 400', () => {
    const results = boto3(g.url, ERROR_CASES.map((c) => ecsCall(c.op, c.params)));
    ERROR_CASES.forEach((c, i) => assertBotoError(results[i]!, c, `[${c.name}] `));
  });

  test('refused requests left nothing behind', async () => {
    const sdk = sdkClient(g.url);
    try {
      await assertErrorCasesLeftNoTrace(sdk);
    } finally {
      sdk.destroy();
    }
  });
});
