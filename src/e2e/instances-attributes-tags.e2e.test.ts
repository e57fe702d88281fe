/**
 * Container instances, attributes, tagging and account settings end to end, with each of the three real clients
 * (JS SDK, Debian's AWS CLI v2, boto3). Each client works in its own cluster (sdk-ci, cli-ci, py-ci); account
 * settings are account-wide, so each client's flow puts the settings back as it found them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateClusterCommand,
  DeleteAccountSettingCommand,
  DeleteAttributesCommand,
  DeleteClusterCommand,
  DeregisterContainerInstanceCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeTaskDefinitionCommand,
  ListAccountSettingsCommand,
  ListAttributesCommand,
  ListContainerInstancesCommand,
  ListTagsForResourceCommand,
  PutAccountSettingCommand,
  PutAccountSettingDefaultCommand,
  PutAttributesCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateContainerInstancesStateCommand,
  paginateListAccountSettings,
  paginateListAttributes,
  paginateListContainerInstances,
} from '@aws-sdk/client-ecs';
import type { ECSClient, Resource } from '@aws-sdk/client-ecs';
import { ACCOUNT, REGION, aws, boto3, startGantry } from '../testing/harness.js';
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

const instanceArnRe = (cluster: string) => new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/${cluster}/[0-9a-f]{32}$`);
const idOf = (arn: string) => arn.split('/').at(-1)!;
const ROOT_ARN = `arn:aws:iam::${ACCOUNT}:root`;
const SETTING_COUNT = 11;

const TOTAL_RESOURCES: Resource[] = [
  { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
  { name: 'MEMORY', type: 'INTEGER', integerValue: 3768 },
  { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22', '2375', '2376', '51678', '51679'] },
  { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
];
const identityDocument = (instanceId: string) =>
  JSON.stringify({ instanceId, availabilityZone: 'eu-west-1b', instanceType: 't3.medium', region: REGION, architecture: 'x86_64', imageId: 'ami-0123456789abcdef0' });

/** The resources as registered: what the request gave, by name. */
function assertResources(actual: readonly any[] | undefined, what: string): void {
  const byName = new Map((actual ?? []).map((r) => [r.name, r]));
  assert.equal(byName.get('CPU')?.integerValue, 2048, `${what} CPU`);
  assert.equal(byName.get('MEMORY')?.integerValue, 3768, `${what} MEMORY`);
  assert.deepEqual(sorted(byName.get('PORTS')?.stringSetValue ?? []), sorted(['22', '2375', '2376', '51678', '51679']), `${what} PORTS`);
  assert.equal(byName.get('PORTS')?.type, 'STRINGSET');
}

const attrMap = (attrs: readonly { name?: string | undefined; value?: string | undefined }[] | undefined) =>
  Object.fromEntries((attrs ?? []).map((a) => [a.name!, a.value ?? null]));

const tagList = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: `v${i}` }));

let g: GantryProcess;
let sdk: ECSClient;
/** An instance in cluster err-ci, for the error table. */
let errInstanceArn: string;

before(async () => {
  g = await startGantry();
  sdk = sdkClient(g.url);
  await sdk.send(new CreateClusterCommand({ clusterName: 'err-ci' }));
  await sdk.send(new CreateClusterCommand({ clusterName: 'other-ci' }));
  const r = await sdk.send(new RegisterContainerInstanceCommand({ cluster: 'err-ci', totalResources: TOTAL_RESOURCES }));
  errInstanceArn = r.containerInstance!.containerInstanceArn!;
});
after(async () => {
  sdk?.destroy();
  await g?.stop();
});

// ---------------------------------------------------------------------------------------------------------------

/** Sent the same way by all three clients (the CLI through --cli-input-json). */
function errorCases(): ErrorCase[] {
  const missingId = 'f'.repeat(32);
  const missingArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/err-ci/${missingId}`;
  const attr = (name: string, value?: string) => ({ name, ...(value === undefined ? {} : { value }), targetId: errInstanceArn });
  return [
    // container instances
    { name: 'register into a missing cluster', op: 'RegisterContainerInstance', params: { cluster: 'nope-ci', totalResources: TOTAL_RESOURCES }, code: 'ClusterNotFoundException' },
    {
      name: 'register with 11 custom attributes',
      op: 'RegisterContainerInstance',
      params: { cluster: 'err-ci', totalResources: TOTAL_RESOURCES, attributes: Array.from({ length: 11 }, (_, i) => ({ name: `a${i}`, value: 'x' })) },
      code: 'InvalidParameterException',
      message: /10 custom attributes/,
    },
    {
      name: 'register with an invalid attribute name',
      op: 'RegisterContainerInstance',
      params: { cluster: 'err-ci', totalResources: TOTAL_RESOURCES, attributes: [{ name: 'bad name!', value: 'x' }] },
      code: 'InvalidParameterException',
    },
    { name: 'describe in a missing cluster', op: 'DescribeContainerInstances', params: { cluster: 'nope-ci', containerInstances: [errInstanceArn] }, code: 'ClusterNotFoundException' },
    { name: 'describe nothing', op: 'DescribeContainerInstances', params: { cluster: 'err-ci', containerInstances: [] }, code: 'InvalidParameterException' },
    { name: 'list in a missing cluster', op: 'ListContainerInstances', params: { cluster: 'nope-ci' }, code: 'ClusterNotFoundException' },
    { name: 'list with an unknown status (model enum)', op: 'ListContainerInstances', params: { cluster: 'err-ci', status: 'SLEEPING' }, code: 'InvalidParameterException' },
    {
      name: 'set a status ECS sets itself',
      op: 'UpdateContainerInstancesState',
      params: { cluster: 'err-ci', containerInstances: [errInstanceArn], status: 'REGISTERING' },
      code: 'InvalidParameterException',
      message: /ACTIVE and DRAINING/,
    },
    {
      name: 'update more than 10 instances',
      op: 'UpdateContainerInstancesState',
      params: { cluster: 'err-ci', containerInstances: Array.from({ length: 11 }, (_, i) => `${i}`.padStart(32, '0')), status: 'DRAINING' },
      code: 'InvalidParameterException',
    },
    { name: 'deregister an unknown instance', op: 'DeregisterContainerInstance', params: { cluster: 'err-ci', containerInstance: missingId }, code: 'InvalidParameterException' },
    { name: 'deregister in a missing cluster', op: 'DeregisterContainerInstance', params: { cluster: 'nope-ci', containerInstance: errInstanceArn }, code: 'ClusterNotFoundException' },
    // attributes
    {
      name: 'put on an unknown target',
      op: 'PutAttributes',
      params: { cluster: 'err-ci', attributes: [{ name: 'x', value: 'y', targetType: 'container-instance', targetId: missingId }] },
      code: 'TargetNotFoundException',
    },
    { name: 'put on an unknown target ARN', op: 'PutAttributes', params: { cluster: 'err-ci', attributes: [{ name: 'x', targetId: missingArn }] }, code: 'TargetNotFoundException' },
    {
      name: 'put on an instance of another cluster',
      op: 'PutAttributes',
      params: { cluster: 'other-ci', attributes: [attr('x', 'y')] },
      code: 'TargetNotFoundException',
    },
    { name: 'delete on an unknown target', op: 'DeleteAttributes', params: { cluster: 'err-ci', attributes: [{ name: 'x', targetId: missingArn }] }, code: 'TargetNotFoundException' },
    { name: 'put 11 attributes in one call', op: 'PutAttributes', params: { cluster: 'err-ci', attributes: Array.from({ length: 11 }, (_, i) => attr(`b${i}`, 'v')) }, code: 'InvalidParameterException' },
    { name: 'put with an invalid name', op: 'PutAttributes', params: { cluster: 'err-ci', attributes: [attr('bad name!', 'v')] }, code: 'InvalidParameterException' },
    { name: 'put with a value ending in a space', op: 'PutAttributes', params: { cluster: 'err-ci', attributes: [attr('ok', 'trailing ')] }, code: 'InvalidParameterException' },
    {
      name: 'put by short ID without targetType',
      op: 'PutAttributes',
      params: { cluster: 'err-ci', attributes: [{ name: 'x', value: 'y', targetId: idOf(errInstanceArn) }] },
      code: 'InvalidParameterException',
      message: /targetType/,
    },
    { name: 'put in a missing cluster', op: 'PutAttributes', params: { cluster: 'nope-ci', attributes: [attr('x', 'y')] }, code: 'ClusterNotFoundException' },
    { name: 'list with an unknown targetType (model enum)', op: 'ListAttributes', params: { cluster: 'err-ci', targetType: 'task' }, code: 'InvalidParameterException' },
    { name: 'list a value without a name', op: 'ListAttributes', params: { cluster: 'err-ci', targetType: 'container-instance', attributeValue: 'x' }, code: 'InvalidParameterException' },
    // tagging
    { name: 'tag a missing cluster', op: 'TagResource', params: { resourceArn: clusterArn('nope-ci'), tags: [{ key: 'k', value: 'v' }] }, code: 'ClusterNotFoundException' },
    { name: 'tag a missing task definition', op: 'TagResource', params: { resourceArn: tdArn('nope-td', 1), tags: [{ key: 'k', value: 'v' }] }, code: 'ResourceNotFoundException' },
    {
      name: 'tag a missing container instance',
      op: 'TagResource',
      params: { resourceArn: missingArn, tags: [{ key: 'k', value: 'v' }] },
      code: 'ResourceNotFoundException',
    },
    { name: 'untag a missing task definition', op: 'UntagResource', params: { resourceArn: tdArn('nope-td', 1), tagKeys: ['k'] }, code: 'ResourceNotFoundException' },
    { name: 'list tags of a missing task definition', op: 'ListTagsForResource', params: { resourceArn: tdArn('nope-td', 1) }, code: 'InvalidParameterException' },
    { name: 'list tags of a missing cluster', op: 'ListTagsForResource', params: { resourceArn: clusterArn('nope-ci') }, code: 'ClusterNotFoundException' },
    { name: 'tag something that is not an ARN', op: 'TagResource', params: { resourceArn: 'err-ci', tags: [{ key: 'k', value: 'v' }] }, code: 'InvalidParameterException', message: /ARN/ },
    { name: 'tag another account', op: 'TagResource', params: { resourceArn: `arn:aws:ecs:${REGION}:999999999999:cluster/err-ci`, tags: [{ key: 'k', value: 'v' }] }, code: 'InvalidParameterException' },
    { name: 'tag with the reserved aws: prefix', op: 'TagResource', params: { resourceArn: clusterArn('err-ci'), tags: [{ key: 'aws:team', value: 'v' }] }, code: 'InvalidParameterException' },
    { name: 'untag the reserved aws: prefix', op: 'UntagResource', params: { resourceArn: clusterArn('err-ci'), tagKeys: ['aws:team'] }, code: 'InvalidParameterException' },
    { name: 'tag with 51 tags at once', op: 'TagResource', params: { resourceArn: clusterArn('err-ci'), tags: tagList(51, 'k') }, code: 'InvalidParameterException' },
    // account settings
    { name: 'unknown setting name (model enum)', op: 'PutAccountSetting', params: { name: 'fasterTasks', value: 'enabled' }, code: 'InvalidParameterException' },
    { name: 'long ARN format can no longer be disabled', op: 'PutAccountSetting', params: { name: 'serviceLongArnFormat', value: 'disabled' }, code: 'InvalidParameterException' },
    { name: 'invalid value', op: 'PutAccountSettingDefault', params: { name: 'awsvpcTrunking', value: 'maybe' }, code: 'InvalidParameterException', message: /awsvpcTrunking/ },
    { name: 'an AWS-managed setting', op: 'PutAccountSettingDefault', params: { name: 'guardDutyActivate', value: 'on' }, code: 'InvalidParameterException' },
    { name: 'principal of another account', op: 'PutAccountSetting', params: { name: 'awsvpcTrunking', value: 'enabled', principalArn: 'arn:aws:iam::999999999999:user/eve' }, code: 'InvalidParameterException' },
    { name: 'delete an unknown setting name', op: 'DeleteAccountSetting', params: { name: 'fasterTasks' }, code: 'InvalidParameterException' },
    { name: 'list with maxResults 11', op: 'ListAccountSettings', params: { maxResults: 11 }, code: 'InvalidParameterException', message: /maxResults/ },
  ];
}

/** What the error table must not have changed. */
async function assertErrorCasesChangedNothing(): Promise<void> {
  const d = await sdk.send(new DescribeContainerInstancesCommand({ cluster: 'err-ci', containerInstances: [errInstanceArn], include: ['TAGS'] }));
  const inst = d.containerInstances![0]!;
  assert.equal(inst.status, 'ACTIVE');
  assert.deepEqual(inst.tags ?? [], []);
  assert.deepEqual(Object.keys(attrMap(inst.attributes)).filter((n) => !n.startsWith('ecs.')), []);
  assert.deepEqual((await sdk.send(new ListContainerInstancesCommand({ cluster: 'err-ci' }))).containerInstanceArns, [errInstanceArn]);
  assert.deepEqual((await sdk.send(new ListTagsForResourceCommand({ resourceArn: clusterArn('err-ci') }))).tags, []);
  assert.deepEqual((await sdk.send(new ListAccountSettingsCommand({}))).settings, []);
  assert.deepEqual((await sdk.send(new DescribeClustersCommand({ clusters: ['nope-ci'] }))).clusters, []);
}

// ---------------------------------------------------------------------------------------------------------------

describe('JS SDK', () => {
  test('container instances: register, describe, list, DRAINING/ACTIVE, deregister', async () => {
    await sdk.send(new CreateClusterCommand({ clusterName: 'sdk-ci' }));
    const r1 = await sdk.send(
      new RegisterContainerInstanceCommand({
        cluster: 'sdk-ci',
        totalResources: TOTAL_RESOURCES,
        attributes: [{ name: 'stack', value: 'prod' }, { name: 'ecs.capability.docker-remote-api.1.44' }],
        versionInfo: { agentVersion: '1.89.0', agentHash: 'abc123', dockerVersion: 'DockerVersion: 25.0.6' },
        instanceIdentityDocument: identityDocument('i-0123456789abcdef0'),
        tags: [{ key: 'owner', value: 'sdk' }],
      }),
    );
    const i1 = r1.containerInstance!;
    assert.match(i1.containerInstanceArn!, instanceArnRe('sdk-ci'));
    assert.equal(i1.ec2InstanceId, 'i-0123456789abcdef0');
    assert.equal(i1.status, 'ACTIVE');
    assert.equal(i1.agentConnected, true);
    assert.equal(i1.runningTasksCount, 0);
    assert.equal(i1.pendingTasksCount, 0);
    assert.equal(i1.versionInfo?.agentVersion, '1.89.0');
    assertResources(i1.registeredResources, 'registeredResources');
    assertResources(i1.remainingResources, 'remainingResources (no tasks)');
    assert.ok(i1.registeredAt instanceof Date && Math.abs(i1.registeredAt.getTime() - Date.now()) < 120_000, String(i1.registeredAt));
    const attrs = attrMap(i1.attributes);
    assert.equal(attrs['stack'], 'prod');
    assert.equal(attrs['ecs.capability.docker-remote-api.1.44'], null);
    assert.equal(attrs['ecs.availability-zone'], 'eu-west-1b');
    assert.equal(attrs['ecs.instance-type'], 't3.medium');
    const i2 = (await sdk.send(new RegisterContainerInstanceCommand({ cluster: clusterArn('sdk-ci'), totalResources: TOTAL_RESOURCES }))).containerInstance!;
    assert.match(i2.containerInstanceArn!, instanceArnRe('sdk-ci'));
    assert.notEqual(i2.containerInstanceArn, i1.containerInstanceArn);
    const arn1 = i1.containerInstanceArn!;
    const arn2 = i2.containerInstanceArn!;
    const c = (await sdk.send(new DescribeClustersCommand({ clusters: ['sdk-ci'] }))).clusters![0]!;
    assert.equal(c.registeredContainerInstancesCount, 2);

    // Describe by ID and by ARN, with tags, and MISSING failures.
    const d = await sdk.send(
      new DescribeContainerInstancesCommand({ cluster: 'sdk-ci', containerInstances: [idOf(arn1), arn2, 'f'.repeat(32)], include: ['TAGS', 'CONTAINER_INSTANCE_HEALTH'] }),
    );
    assert.deepEqual(d.containerInstances!.map((i) => i.containerInstanceArn), [arn1, arn2]);
    assert.deepEqual(d.containerInstances![0]!.tags, [{ key: 'owner', value: 'sdk' }]);
    assert.equal(d.containerInstances![0]!.healthStatus?.overallStatus, 'OK');
    for (const detail of d.containerInstances![0]!.healthStatus?.details ?? []) assert.ok(detail.lastUpdated instanceof Date, 'health timestamps parse');
    assert.deepEqual(d.failures, [{ arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/sdk-ci/${'f'.repeat(32)}`, reason: 'MISSING' }]);
    const plain = await sdk.send(new DescribeContainerInstancesCommand({ cluster: 'sdk-ci', containerInstances: [arn1] }));
    assert.deepEqual(plain.containerInstances![0]!.tags ?? [], [], 'tags only with include TAGS');

    // List, one page at a time.
    const listed: string[] = [];
    let pages = 0;
    for await (const page of paginateListContainerInstances({ client: sdk, pageSize: 1 }, { cluster: 'sdk-ci' })) {
      pages++;
      listed.push(...page.containerInstanceArns!);
    }
    assert.equal(pages, 2);
    assert.deepEqual(sorted(listed), sorted([arn1, arn2]));

    // DRAINING and back.
    const drain = await sdk.send(new UpdateContainerInstancesStateCommand({ cluster: 'sdk-ci', containerInstances: [arn1, 'f'.repeat(32)], status: 'DRAINING' }));
    assert.deepEqual(drain.containerInstances!.map((i) => [i.containerInstanceArn, i.status]), [[arn1, 'DRAINING']]);
    assert.deepEqual(drain.failures!.map((f) => f.reason), ['MISSING']);
    assert.deepEqual((await sdk.send(new ListContainerInstancesCommand({ cluster: 'sdk-ci', status: 'DRAINING' }))).containerInstanceArns, [arn1]);
    assert.deepEqual(sorted((await sdk.send(new ListContainerInstancesCommand({ cluster: 'sdk-ci' }))).containerInstanceArns!), sorted([arn1, arn2]));
    const back = await sdk.send(new UpdateContainerInstancesStateCommand({ cluster: 'sdk-ci', containerInstances: [idOf(arn1)], status: 'ACTIVE' }));
    assert.equal(back.containerInstances![0]!.status, 'ACTIVE');
    assert.ok(back.containerInstances![0]!.version! > i1.version!, 'version increases with each change');
    assert.deepEqual((await sdk.send(new ListContainerInstancesCommand({ cluster: 'sdk-ci', status: 'DRAINING' }))).containerInstanceArns, []);

    // A cluster with instances cannot be deleted.
    assertSdkError(await sdkError(sdk, 'DeleteCluster', { cluster: 'sdk-ci' }), { op: 'DeleteCluster', code: 'ClusterContainsContainerInstancesException' });

    // Deregister: INACTIVE, gone from the listing, still describable, no longer updatable.
    const dereg = await sdk.send(new DeregisterContainerInstanceCommand({ cluster: 'sdk-ci', containerInstance: arn2 }));
    assert.equal(dereg.containerInstance!.status, 'INACTIVE');
    assert.deepEqual((await sdk.send(new ListContainerInstancesCommand({ cluster: 'sdk-ci' }))).containerInstanceArns, [arn1]);
    assert.equal((await sdk.send(new DescribeContainerInstancesCommand({ cluster: 'sdk-ci', containerInstances: [arn2] }))).containerInstances![0]!.status, 'INACTIVE');
    const upd = await sdk.send(new UpdateContainerInstancesStateCommand({ cluster: 'sdk-ci', containerInstances: [arn2], status: 'ACTIVE' }));
    assert.deepEqual(upd.containerInstances, []);
    assert.deepEqual(upd.failures!.map((f) => [f.arn, f.reason]), [[arn2, 'INACTIVE']]);
    assert.equal((await sdk.send(new DescribeClustersCommand({ clusters: ['sdk-ci'] }))).clusters![0]!.registeredContainerInstancesCount, 1);
  });

  test('attributes: put, list, delete, the 10 custom attribute limit', async () => {
    const [arn] = (await sdk.send(new ListContainerInstancesCommand({ cluster: 'sdk-ci' }))).containerInstanceArns!;
    assert.ok(arn);
    // The instance has 1 custom attribute (stack) and ECS-managed ones, which do not count.
    const put = await sdk.send(
      new PutAttributesCommand({
        cluster: 'sdk-ci',
        attributes: [
          { name: 'team', value: 'payments', targetId: arn },
          { name: 'gpu', targetType: 'container-instance', targetId: idOf(arn) },
        ],
      }),
    );
    assert.deepEqual(put.attributes, [
      { name: 'team', value: 'payments', targetId: arn },
      { name: 'gpu', targetType: 'container-instance', targetId: idOf(arn) },
    ]);
    const byName = await sdk.send(new ListAttributesCommand({ cluster: 'sdk-ci', targetType: 'container-instance', attributeName: 'team' }));
    assert.deepEqual(byName.attributes, [{ name: 'team', value: 'payments', targetId: arn }]);
    assert.deepEqual(
      (await sdk.send(new ListAttributesCommand({ cluster: 'sdk-ci', targetType: 'container-instance', attributeName: 'team', attributeValue: 'other' }))).attributes,
      [],
    );
    // 3 custom now: 7 more reach the limit of 10.
    await sdk.send(new PutAttributesCommand({ cluster: 'sdk-ci', attributes: Array.from({ length: 7 }, (_, i) => ({ name: `c${i}`, value: `${i}`, targetId: arn })) }));
    const all: any[] = [];
    for await (const page of paginateListAttributes({ client: sdk, pageSize: 4 }, { cluster: 'sdk-ci', targetType: 'container-instance' })) all.push(...page.attributes!);
    assertNoDuplicates(all.map((a) => `${a.targetId} ${a.name}`), 'ListAttributes pages');
    const custom = all.filter((a) => !a.name.startsWith('ecs.'));
    assert.deepEqual(sorted(custom.map((a) => a.name)), sorted(['stack', 'team', 'gpu', ...Array.from({ length: 7 }, (_, i) => `c${i}`)]));
    assert.ok(all.some((a) => a.name === 'ecs.availability-zone'), 'built-in attributes are listed too');
    // An 11th custom attribute is refused, and the batch it came in changes nothing.
    const over = await sdkError(sdk, 'PutAttributes', { cluster: 'sdk-ci', attributes: [{ name: 'team', value: 'changed', targetId: arn }, { name: 'one-too-many', targetId: arn }] });
    assertSdkError(over, { op: 'PutAttributes', code: 'AttributeLimitExceededException' });
    assert.deepEqual((await sdk.send(new ListAttributesCommand({ cluster: 'sdk-ci', targetType: 'container-instance', attributeName: 'team' }))).attributes![0]!.value, 'payments');
    // ECS-managed names and changes to existing ones do not count.
    await sdk.send(new PutAttributesCommand({ cluster: 'sdk-ci', attributes: [{ name: 'team', value: 'checkout', targetId: arn }, { name: 'ecs.custom-capability', targetId: arn }] }));
    // Deleting frees a slot; deleting what is not there is not an error.
    const del = await sdk.send(new DeleteAttributesCommand({ cluster: 'sdk-ci', attributes: [{ name: 'gpu', targetId: arn }, { name: 'never-set', targetId: arn }] }));
    assert.deepEqual(del.attributes!.map((a) => a.name), ['gpu', 'never-set']);
    await sdk.send(new PutAttributesCommand({ cluster: 'sdk-ci', attributes: [{ name: 'one-more', value: 'ok', targetId: arn }] }));
    const described = attrMap((await sdk.send(new DescribeContainerInstancesCommand({ cluster: 'sdk-ci', containerInstances: [arn] }))).containerInstances![0]!.attributes);
    assert.equal(described['team'], 'checkout');
    assert.equal(described['one-more'], 'ok');
    assert.equal(described['ecs.custom-capability'], null);
    assert.ok(!('gpu' in described));
  });

  test('concurrent writes to one instance lose nothing: the limit holds and every tag lands', async () => {
    const inst = (
      await sdk.send(new RegisterContainerInstanceCommand({ cluster: 'sdk-ci', totalResources: TOTAL_RESOURCES, attributes: [{ name: 'first', value: '1' }] }))
    ).containerInstance!;
    const arn = inst.containerInstanceArn!;
    // 1 custom attribute + 10 concurrent PutAttributes of one new name each: exactly one must be refused.
    const puts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => sdk.send(new PutAttributesCommand({ cluster: 'sdk-ci', attributes: [{ name: `p${i}`, value: 'x', targetId: arn }] }))),
    );
    const refused = puts.filter((p): p is PromiseRejectedResult => p.status === 'rejected');
    assert.equal(refused.length, 1, JSON.stringify(refused.map((r) => String(r.reason))));
    assertSdkError(refused[0]!.reason, { op: 'PutAttributes', code: 'AttributeLimitExceededException' });
    const after = (await sdk.send(new DescribeContainerInstancesCommand({ cluster: 'sdk-ci', containerInstances: [arn] }))).containerInstances![0]!;
    assert.equal(Object.keys(attrMap(after.attributes)).filter((n) => !n.startsWith('ecs.')).length, 10);
    // 20 concurrent TagResource calls, one key each: all 20 keys are there afterwards.
    await Promise.all(Array.from({ length: 20 }, (_, i) => sdk.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: `t${i}`, value: `${i}` }] }))));
    const tags = (await sdk.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags!;
    assert.deepEqual(sorted(tags.map((t) => t.key!)), sorted(Array.from({ length: 20 }, (_, i) => `t${i}`)));
    await sdk.send(new DeregisterContainerInstanceCommand({ cluster: 'sdk-ci', containerInstance: arn }));
  });

  test('tags on a cluster, a task definition and a container instance', async () => {
    const [instanceArn] = (await sdk.send(new ListContainerInstancesCommand({ cluster: 'sdk-ci' }))).containerInstanceArns!;
    await sdk.send(new RegisterTaskDefinitionCommand({ family: 'sdk-tagged', containerDefinitions: [{ name: 'a', image: 'nginx', memory: 64 }], tags: [{ key: 'from', value: 'register' }] }));
    const resources = [clusterArn('sdk-ci'), tdArn('sdk-tagged', 1), instanceArn!];
    const initial = [[], [{ key: 'from', value: 'register' }], [{ key: 'owner', value: 'sdk' }]];
    for (const [i, resourceArn] of resources.entries()) {
      assert.deepEqual((await sdk.send(new ListTagsForResourceCommand({ resourceArn }))).tags, initial[i], resourceArn);
      await sdk.send(new TagResourceCommand({ resourceArn, tags: [{ key: 'env', value: 'prod' }, { key: 'cost-center', value: '42' }] }));
      // Re-tagging a key replaces its value.
      await sdk.send(new TagResourceCommand({ resourceArn, tags: [{ key: 'env', value: 'staging' }] }));
      const tags = (await sdk.send(new ListTagsForResourceCommand({ resourceArn }))).tags!;
      assert.deepEqual(sorted(tags.map((t) => `${t.key}=${t.value}`)), sorted([...initial[i]!.map((t) => `${t.key}=${t.value}`), 'env=staging', 'cost-center=42']));
      await sdk.send(new UntagResourceCommand({ resourceArn, tagKeys: ['cost-center', 'not-there'] }));
      const left = (await sdk.send(new ListTagsForResourceCommand({ resourceArn }))).tags!;
      assert.deepEqual(sorted(left.map((t) => t.key!)), sorted([...initial[i]!.map((t) => t.key), 'env']));
    }
    // The tags are the resources' own: Describe* with include TAGS shows them.
    const c = (await sdk.send(new DescribeClustersCommand({ clusters: ['sdk-ci'], include: ['TAGS'] }))).clusters![0]!;
    assert.deepEqual(c.tags, [{ key: 'env', value: 'staging' }]);
    const td = await sdk.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'sdk-tagged:1', include: ['TAGS'] }));
    assert.deepEqual(sorted(td.tags!.map((t) => t.key!)), ['env', 'from']);
    // At most 50 tags per resource.
    await sdk.send(new TagResourceCommand({ resourceArn: resources[0], tags: tagList(49, 'bulk') }));
    const limit = await sdkError(sdk, 'TagResource', { resourceArn: resources[0], tags: [{ key: 'the-51st', value: 'x' }] });
    assertSdkError(limit, { op: 'TagResource', code: 'LimitExceededException' });
    assert.equal((await sdk.send(new ListTagsForResourceCommand({ resourceArn: resources[0] }))).tags!.length, 50);
    // A deleted cluster can no longer be tagged.
    await sdk.send(new CreateClusterCommand({ clusterName: 'sdk-gone' }));
    await sdk.send(new DeleteClusterCommand({ cluster: 'sdk-gone' }));
    assertSdkError(await sdkError(sdk, 'TagResource', { resourceArn: clusterArn('sdk-gone'), tags: [{ key: 'k', value: 'v' }] }), {
      op: 'TagResource',
      code: 'ClusterNotFoundException',
    });
  });

  test('account settings: put, put default, list (effective, paged), delete', async () => {
    const user = `arn:aws:iam::${ACCOUNT}:user/alice`;
    assert.deepEqual((await sdk.send(new ListAccountSettingsCommand({}))).settings, []);
    const put = await sdk.send(new PutAccountSettingCommand({ name: 'awsvpcTrunking', value: 'enabled' }));
    assert.deepEqual({ ...put.setting, type: undefined }, { name: 'awsvpcTrunking', value: 'enabled', principalArn: ROOT_ARN, type: undefined });
    const def = await sdk.send(new PutAccountSettingDefaultCommand({ name: 'containerInsights', value: 'enhanced' }));
    assert.equal(def.setting!.value, 'enhanced');
    const alice = await sdk.send(new PutAccountSettingCommand({ name: 'containerInsights', value: 'disabled', principalArn: user }));
    assert.equal(alice.setting!.principalArn, user);

    const mine = (await sdk.send(new ListAccountSettingsCommand({}))).settings!;
    assert.deepEqual(sorted(mine.map((s) => `${s.name}=${s.value}`)), ['awsvpcTrunking=enabled', 'containerInsights=enhanced']);
    assert.deepEqual((await sdk.send(new ListAccountSettingsCommand({ name: 'awsvpcTrunking' }))).settings!.map((s) => s.value), ['enabled']);
    // Effective settings: every setting, in pages of at most 10.
    const effective: any[] = [];
    let pages = 0;
    for await (const page of paginateListAccountSettings({ client: sdk }, { effectiveSettings: true })) {
      pages++;
      assert.ok(page.settings!.length <= 10);
      effective.push(...page.settings!);
    }
    assert.equal(pages, 2);
    assert.equal(effective.length, SETTING_COUNT);
    assertNoDuplicates(effective.map((s) => s.name), 'effective settings');
    const eff = Object.fromEntries(effective.map((s) => [s.name, s.value]));
    assert.equal(eff['awsvpcTrunking'], 'enabled');
    assert.equal(eff['containerInsights'], 'enhanced');
    assert.equal(eff['serviceLongArnFormat'], 'enabled');
    // A user's own setting wins over the account default for that user only.
    const forAlice = await sdk.send(new ListAccountSettingsCommand({ principalArn: user, name: 'containerInsights', effectiveSettings: true }));
    assert.deepEqual(forAlice.settings!.map((s) => [s.value, s.principalArn]), [['disabled', user]]);
    const aliceTrunking = await sdk.send(new ListAccountSettingsCommand({ principalArn: user, name: 'awsvpcTrunking', effectiveSettings: true }));
    assert.deepEqual(aliceTrunking.settings!.map((s) => [s.value, s.principalArn]), [['enabled', ROOT_ARN]]);

    // Delete: back to the built-in defaults.
    const del = await sdk.send(new DeleteAccountSettingCommand({ name: 'awsvpcTrunking' }));
    assert.equal(del.setting!.name, 'awsvpcTrunking');
    await sdk.send(new DeleteAccountSettingCommand({ name: 'containerInsights' }));
    await sdk.send(new DeleteAccountSettingCommand({ name: 'containerInsights', principalArn: user }));
    assert.deepEqual((await sdk.send(new ListAccountSettingsCommand({}))).settings, []);
    const after = await sdk.send(new ListAccountSettingsCommand({ name: 'awsvpcTrunking', effectiveSettings: true }));
    assert.deepEqual(after.settings!.map((s) => s.value), ['disabled']);
  });

  test('errors: error.name and HTTP 400', async () => {
    for (const c of errorCases()) assertSdkError(await sdkError(sdk, c.op, c.params), c, `[${c.name}] `);
    await assertErrorCasesChangedNothing();
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('AWS CLI', () => {
  test('container instances, attributes, tags, account settings', () => {
    cliOk(aws(g.url, ['ecs', 'create-cluster', '--cluster-name', 'cli-ci']));
    const reg = cliOk(
      aws(g.url, [
        'ecs',
        'register-container-instance',
        '--cluster',
        'cli-ci',
        '--total-resources',
        JSON.stringify(TOTAL_RESOURCES),
        '--attributes',
        'name=stack,value=prod',
        'name=ecs.capability.privileged-container',
        '--instance-identity-document',
        identityDocument('i-00000000000000c11'),
        '--version-info',
        'agentVersion=1.89.0,dockerVersion=25.0.6',
      ]),
    ).containerInstance;
    const arn: string = reg.containerInstanceArn;
    assert.match(arn, instanceArnRe('cli-ci'));
    assert.equal(reg.status, 'ACTIVE');
    assert.equal(reg.ec2InstanceId, 'i-00000000000000c11');
    assertResources(reg.registeredResources, 'registeredResources (CLI)');
    assertIsoNow(reg.registeredAt, 'registeredAt (the CLI prints ISO 8601)');
    assert.equal(attrMap(reg.attributes)['stack'], 'prod');

    const d = cliOk(aws(g.url, ['ecs', 'describe-container-instances', '--cluster', 'cli-ci', '--container-instances', idOf(arn), 'f'.repeat(32)]));
    assert.deepEqual(d.containerInstances.map((i: any) => i.containerInstanceArn), [arn]);
    assert.deepEqual(d.failures.map((f: any) => f.reason), ['MISSING']);
    assert.deepEqual(cliOk(aws(g.url, ['ecs', 'list-container-instances', '--cluster', 'cli-ci'])).containerInstanceArns, [arn]);

    const drain = cliOk(aws(g.url, ['ecs', 'update-container-instances-state', '--cluster', 'cli-ci', '--container-instances', arn, '--status', 'DRAINING']));
    assert.equal(drain.containerInstances[0].status, 'DRAINING');
    assert.deepEqual(cliOk(aws(g.url, ['ecs', 'list-container-instances', '--cluster', 'cli-ci', '--status', 'DRAINING'])).containerInstanceArns, [arn]);
    assert.equal(
      cliOk(aws(g.url, ['ecs', 'update-container-instances-state', '--cluster', 'cli-ci', '--container-instances', arn, '--status', 'ACTIVE'])).containerInstances[0].status,
      'ACTIVE',
    );

    // Attributes: 1 custom already (stack); 9 more reach the limit; the 11th is refused.
    const nine = Array.from({ length: 9 }, (_, i) => `name=c${i},value=v${i},targetId=${arn}`);
    cliOk(aws(g.url, ['ecs', 'put-attributes', '--cluster', 'cli-ci', '--attributes', ...nine]));
    assertCliError(aws(g.url, ['ecs', 'put-attributes', '--cluster', 'cli-ci', '--attributes', `name=c9,targetId=${arn}`]), {
      op: 'PutAttributes',
      code: 'AttributeLimitExceededException',
    });
    const listed = cliOk(aws(g.url, ['ecs', 'list-attributes', '--cluster', 'cli-ci', '--target-type', 'container-instance', '--page-size', '3']));
    assertNoDuplicates(listed.attributes.map((a: any) => a.name), 'list-attributes --page-size 3');
    assert.equal(listed.attributes.filter((a: any) => !a.name.startsWith('ecs.')).length, 10);
    for (const a of listed.attributes) assert.equal(a.targetId, arn);
    cliOk(aws(g.url, ['ecs', 'delete-attributes', '--cluster', 'cli-ci', '--attributes', `name=c0,targetId=${arn}`]));
    assert.deepEqual(cliOk(aws(g.url, ['ecs', 'list-attributes', '--cluster', 'cli-ci', '--target-type', 'container-instance', '--attribute-name', 'c0'])).attributes, []);

    // Tags on the three kinds of resource.
    cliOk(aws(g.url, ['ecs', 'register-task-definition', '--family', 'cli-tagged', '--container-definitions', '[{"name":"a","image":"nginx","memory":64}]']));
    for (const resourceArn of [clusterArn('cli-ci'), tdArn('cli-tagged', 1), arn]) {
      cliOk(aws(g.url, ['ecs', 'tag-resource', '--resource-arn', resourceArn, '--tags', 'key=env,value=prod', 'key=team,value=cli']));
      cliOk(aws(g.url, ['ecs', 'untag-resource', '--resource-arn', resourceArn, '--tag-keys', 'team']));
      assert.deepEqual(cliOk(aws(g.url, ['ecs', 'list-tags-for-resource', '--resource-arn', resourceArn])).tags, [{ key: 'env', value: 'prod' }], resourceArn);
    }

    // Account settings.
    const put = cliOk(aws(g.url, ['ecs', 'put-account-setting', '--name', 'awsvpcTrunking', '--value', 'enabled'])).setting;
    assert.deepEqual([put.name, put.value, put.principalArn], ['awsvpcTrunking', 'enabled', ROOT_ARN]);
    cliOk(aws(g.url, ['ecs', 'put-account-setting-default', '--name', 'containerInsights', '--value', 'enabled']));
    const eff = cliOk(aws(g.url, ['ecs', 'list-account-settings', '--effective-settings'])).settings;
    assert.equal(eff.length, SETTING_COUNT, 'the CLI pages through all effective settings');
    assert.equal(eff.find((s: any) => s.name === 'awsvpcTrunking').value, 'enabled');
    cliOk(aws(g.url, ['ecs', 'delete-account-setting', '--name', 'awsvpcTrunking']));
    cliOk(aws(g.url, ['ecs', 'delete-account-setting', '--name', 'containerInsights']));
    assert.deepEqual(cliOk(aws(g.url, ['ecs', 'list-account-settings'])).settings, []);

    // Deregister; the cluster can then be deleted.
    assertCliError(aws(g.url, ['ecs', 'delete-cluster', '--cluster', 'cli-ci']), { op: 'DeleteCluster', code: 'ClusterContainsContainerInstancesException' });
    assert.equal(cliOk(aws(g.url, ['ecs', 'deregister-container-instance', '--cluster', 'cli-ci', '--container-instance', arn])).containerInstance.status, 'INACTIVE');
    assert.equal(cliOk(aws(g.url, ['ecs', 'delete-cluster', '--cluster', 'cli-ci'])).cluster.status, 'INACTIVE');
  });

  test('errors: exit code 254 and "An error occurred (X) when calling the Y operation"', () => {
    for (const c of errorCases()) assertCliError(cliCall(g.url, c.op, c.params), c, `[${c.name}] `);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('boto3', () => {
  test('container instances, attributes, tags, account settings', () => {
    const [, r1, r2] = botoOk(g.url, [
      ecsCall('CreateCluster', { clusterName: 'py-ci' }),
      ecsCall('RegisterContainerInstance', {
        cluster: 'py-ci',
        totalResources: TOTAL_RESOURCES,
        attributes: [{ name: 'stack', value: 'prod' }],
        instanceIdentityDocument: identityDocument('i-0000000000000e0e0'),
        tags: [{ key: 'owner', value: 'py' }],
      }),
      ecsCall('RegisterContainerInstance', { cluster: 'py-ci', totalResources: TOTAL_RESOURCES }),
    ]);
    const arn1: string = r1.containerInstance.containerInstanceArn;
    const arn2: string = r2.containerInstance.containerInstanceArn;
    assert.match(arn1, instanceArnRe('py-ci'));
    assertResources(r1.containerInstance.registeredResources, 'registeredResources (boto3)');
    assertEpochSecondsNow(r1.containerInstance.registeredAt, 'registeredAt (boto3, parsed as a datetime)');
    assert.equal(r1.containerInstance.ec2InstanceId, 'i-0000000000000e0e0');

    const results = boto3(g.url, [
      ecsCall('DescribeContainerInstances', { cluster: 'py-ci', containerInstances: [arn1, idOf(arn2), 'f'.repeat(32)], include: ['TAGS'] }), // 0
      ecsCall('ListContainerInstances', { cluster: 'py-ci', PaginationConfig: { PageSize: 1 } }, true),
      ecsCall('UpdateContainerInstancesState', { cluster: 'py-ci', containerInstances: [arn2], status: 'DRAINING' }),
      ecsCall('ListContainerInstances', { cluster: 'py-ci', status: 'DRAINING' }),
      ecsCall('UpdateContainerInstancesState', { cluster: 'py-ci', containerInstances: [arn2], status: 'ACTIVE' }),
      ecsCall('PutAttributes', { cluster: 'py-ci', attributes: Array.from({ length: 9 }, (_, i) => ({ name: `c${i}`, value: `${i}`, targetId: arn1 })) }), // 5
      ecsCall('PutAttributes', { cluster: 'py-ci', attributes: [{ name: 'c9', targetId: arn1 }] }),
      ecsCall('PutAttributes', { cluster: 'py-ci', attributes: [{ name: 'c9', targetType: 'container-instance', targetId: idOf(arn2) }] }),
      ecsCall('ListAttributes', { cluster: 'py-ci', targetType: 'container-instance', attributeName: 'c9' }),
      ecsCall('ListAttributes', { cluster: 'py-ci', targetType: 'container-instance', PaginationConfig: { PageSize: 5 } }, true),
      ecsCall('DeleteAttributes', { cluster: 'py-ci', attributes: [{ name: 'c9', targetId: arn2 }] }), // 10
      ecsCall('TagResource', { resourceArn: clusterArn('py-ci'), tags: [{ key: 'env', value: 'prod' }] }),
      ecsCall('TagResource', { resourceArn: arn1, tags: [{ key: 'env', value: 'prod' }] }),
      ecsCall('UntagResource', { resourceArn: arn1, tagKeys: ['owner'] }),
      ecsCall('ListTagsForResource', { resourceArn: clusterArn('py-ci') }),
      ecsCall('ListTagsForResource', { resourceArn: arn1 }), // 15
      ecsCall('RegisterTaskDefinition', { family: 'py-tagged', containerDefinitions: [{ name: 'a', image: 'nginx', memory: 64 }], tags: [{ key: 'a', value: '1' }] }),
      ecsCall('TagResource', { resourceArn: tdArn('py-tagged', 1), tags: [{ key: 'b', value: '2' }] }),
      ecsCall('ListTagsForResource', { resourceArn: tdArn('py-tagged', 1) }),
      ecsCall('PutAccountSetting', { name: 'awsvpcTrunking', value: 'enabled' }),
      ecsCall('ListAccountSettings', { effectiveSettings: true }, true), // 20
      ecsCall('DeleteAccountSetting', { name: 'awsvpcTrunking' }),
      ecsCall('ListAccountSettings', {}),
      ecsCall('DeleteCluster', { cluster: 'py-ci' }),
      ecsCall('DeregisterContainerInstance', { cluster: 'py-ci', containerInstance: arn1 }),
      ecsCall('DeregisterContainerInstance', { cluster: 'py-ci', containerInstance: idOf(arn2) }), // 25
      ecsCall('DeleteCluster', { cluster: 'py-ci' }),
    ]);
    const ok = (i: number) => {
      const r = results[i]!;
      assert.ok(r.ok, `call #${i}: ${JSON.stringify(r)}`);
      return r.result;
    };
    const d = ok(0);
    assert.deepEqual(d.containerInstances.map((i: any) => i.containerInstanceArn), [arn1, arn2]);
    assert.deepEqual(d.containerInstances[0].tags, [{ key: 'owner', value: 'py' }]);
    assert.deepEqual(d.failures.map((f: any) => f.reason), ['MISSING']);
    const pages = ok(1) as any[];
    assert.equal(pages.length, 2);
    assert.deepEqual(sorted(pages.flatMap((p) => p.containerInstanceArns)), sorted([arn1, arn2]));
    assert.equal(ok(2).containerInstances[0].status, 'DRAINING');
    assert.deepEqual(ok(3).containerInstanceArns, [arn2]);
    assert.equal(ok(4).containerInstances[0].status, 'ACTIVE');
    ok(5);
    assertBotoError(results[6]!, { op: 'PutAttributes', code: 'AttributeLimitExceededException', message: /10 custom attributes/ });
    ok(7);
    assert.deepEqual(ok(8).attributes, [{ name: 'c9', targetId: arn2 }]);
    const attrPages = ok(9) as any[];
    assert.ok(attrPages.length >= 3, `ListAttributes pages: ${attrPages.length}`);
    const attrs = attrPages.flatMap((p) => p.attributes);
    assertNoDuplicates(attrs.map((a: any) => `${a.targetId} ${a.name}`), 'ListAttributes paginator');
    assert.equal(attrs.filter((a: any) => a.targetId === arn1 && !a.name.startsWith('ecs.')).length, 10);
    ok(10);
    assert.deepEqual(ok(14).tags, [{ key: 'env', value: 'prod' }]);
    assert.deepEqual(ok(15).tags, [{ key: 'env', value: 'prod' }]);
    assert.deepEqual(sorted(ok(18).tags.map((t: any) => `${t.key}=${t.value}`)), ['a=1', 'b=2']);
    assert.deepEqual([ok(19).setting.name, ok(19).setting.value, ok(19).setting.principalArn], ['awsvpcTrunking', 'enabled', ROOT_ARN]);
    const eff = (ok(20) as any[]).flatMap((p) => p.settings);
    assert.equal(eff.length, SETTING_COUNT);
    assert.equal(eff.find((s: any) => s.name === 'awsvpcTrunking').value, 'enabled');
    assert.deepEqual(ok(22).settings, []);
    assertBotoError(results[23]!, { op: 'DeleteCluster', code: 'ClusterContainsContainerInstancesException' });
    assert.equal(ok(24).containerInstance.status, 'INACTIVE');
    assert.equal(ok(25).containerInstance.status, 'INACTIVE');
    assert.equal(ok(26).cluster.status, 'INACTIVE');
  });

  test('errors: Error.Code and HTTP 400', async () => {
    const cases = errorCases();
    const results = boto3(g.url, cases.map((c) => ecsCall(c.op, c.params)));
    cases.forEach((c, i) => assertBotoError(results[i]!, c, `[${c.name}] `));
    await assertErrorCasesChangedNothing();
  });
});
