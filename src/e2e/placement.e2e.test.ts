/**
 * Placement as users drive it: `aws ecs run-task --placement-strategy … --placement-constraints …` and
 * `aws ecs list-container-instances --filter …` (Debian's AWS CLI) against a hollow fleet of 6 instances in 3 zones
 * and 2 instance types (`gantry agent --runtime fake`, a separate process), and `gantry explain` saying why.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EcsClient } from '../bench/support.js';
import { ACCESS_KEY_ID, aws, REGION, ROOT, SECRET_ACCESS_KEY } from '../testing/harness.js';
import type { GantryProcess } from '../testing/harness.js';
import { cliOk, startHollowCluster } from './support.js';
import type { HollowCluster } from './support.js';

describe('placement with the AWS CLI against a hollow fleet', () => {
  let gantry: GantryProcess;
  let hollow: HollowCluster;
  let ecs: EcsClient;
  const run = (args: string[], family = 'plain') => cliOk(aws(gantry.url, ['ecs', 'run-task', '--cluster', 'p', '--task-definition', family, ...args]), 'run-task');
  const instancesOf = async (arns: string[]) =>
    (await ecs.call('DescribeContainerInstances', { cluster: 'p', containerInstances: [...new Set(arns)] })).containerInstances as {
      containerInstanceArn: string;
      attributes: { name: string; value?: string }[];
    }[];
  const attr = (ci: { attributes: { name: string; value?: string }[] }, name: string) => ci.attributes.find((a) => a.name === name)?.value;

  before(async () => {
    hollow = await startHollowCluster({ cluster: 'p', instances: 6, agentArgs: ['--zones', 'eu-west-1a,eu-west-1b,eu-west-1c', '--instance-types', 't3.small,m5.large', '--memory', '2048'] });
    gantry = hollow.gantry;
    ecs = hollow.ecs;
    await ecs.call('RegisterTaskDefinition', {
      family: 'web',
      containerDefinitions: [{ name: 'web', image: 'nginx', cpu: 64, memory: 256, portMappings: [{ containerPort: 80, hostPort: 8080 }] }],
    });
    await ecs.call('RegisterTaskDefinition', { family: 'plain', containerDefinitions: [{ name: 'app', image: 'busybox', cpu: 64, memory: 256 }] });
  });

  after(async () => {
    await hollow?.close();
  });

  it('spreads over zones with distinctInstance, keeps memberOf, and reports what could not be placed', async () => {
    const spread = run(['--count', '3', '--group', 'spread', '--placement-strategy', 'type=spread,field=attribute:ecs.availability-zone', '--placement-constraints', 'type=distinctInstance']);
    assert.equal(spread.tasks.length, 3);
    assert.deepEqual(spread.tasks.map((t: { availabilityZone: string }) => t.availabilityZone).sort(), ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);

    const m5 = run(['--count', '4', '--group', 'm5', '--placement-constraints', 'type=distinctInstance', 'type=memberOf,expression=attribute:ecs.instance-type =~ m5.*']);
    assert.equal(m5.tasks.length, 3, 'three m5.large instances, one task each');
    for (const ci of await instancesOf(m5.tasks.map((t: { containerInstanceArn: string }) => t.containerInstanceArn))) assert.equal(attr(ci, 'ecs.instance-type'), 'm5.large');
    assert.equal(m5.failures.length, 1);
    assert.match(m5.failures[0].arn, /:container-instance\/p\//);
    // The m5 instances pass the resource checks and memberOf, and fail only distinctInstance: the closest match.
    assert.equal(m5.failures[0].reason, 'DistinctInstance placement constraint unsatisfied.');
    const port = run(['--count', '7', '--group', 'port'], 'web');
    assert.equal(port.tasks.length, 6, 'host port 8080 once per instance');
    assert.equal(port.failures[0].reason, 'RESOURCE:PORTS_TCP');
  });

  it('filters instances with the cluster query language', () => {
    const list = (filter: string) => cliOk(aws(gantry.url, ['ecs', 'list-container-instances', '--cluster', 'p', '--filter', filter]), filter).containerInstanceArns as string[];
    assert.equal(list('attribute:ecs.availability-zone == eu-west-1a').length, 2);
    assert.equal(list('attribute:ecs.instance-type =~ t3.* and attribute:ecs.availability-zone != eu-west-1a').length, 2);
    assert.equal(list('task:group == m5').length, 3);
    assert.equal(list('not(task:group == m5)').length, 3);
    assert.equal(list('agentConnected == true').length, 6);
    const bad = aws(gantry.url, ['ecs', 'list-container-instances', '--cluster', 'p', '--filter', 'attribute:x ==']);
    assert.equal(bad.errorCode, 'InvalidParameterException');
    assert.match(bad.stderr, /offset/);
  });

  it('binpacks on memory: the fullest instance that fits takes the task', async () => {
    const r = run(['--group', 'pack', '--placement-strategy', 'type=binpack,field=memory']);
    const chosen = r.tasks[0].containerInstanceArn;
    const all = (await ecs.call('DescribeContainerInstances', { cluster: 'p', containerInstances: (await ecs.call('ListContainerInstances', { cluster: 'p' })).containerInstanceArns }))
      .containerInstances as { containerInstanceArn: string; remainingResources: { name: string; integerValue: number; stringSetValue?: string[] }[] }[];
    // Before this task, the chosen instance had the least memory left.
    const memory = (ci: (typeof all)[number]) => ci.remainingResources.find((x) => x.name === 'MEMORY')!.integerValue;
    const chosenBefore = memory(all.find((c) => c.containerInstanceArn === chosen)!) + 256;
    for (const ci of all) if (ci.containerInstanceArn !== chosen) assert.ok(memory(ci) >= chosenBefore, 'binpack chose the instance with the least memory left');
  });

  it('gantry explain shows why each instance was or was not chosen', () => {
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'dist', 'cli', 'main.js'), 'explain', '--endpoint', gantry.url, '--region', REGION, '--cluster', 'p', '--task-definition', 'plain', '--count', '2', '--all',
        '--placement-constraints', 'type=memberOf,expression=attribute:ecs.instance-type == t3.small', '--placement-strategy', 'type=binpack,field=memory'],
      { encoding: 'utf8', env: { ...process.env, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY }, timeout: 30_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /INSTANCE\s+EC2 ID\s+ZONE\s+TYPE\s+CPU LEFT\s+MEM LEFT\s+OUTCOME\s+WHY/);
    assert.match(r.stdout, /memberOf\(attribute:ecs.instance-type == t3.small\): The instance does not match/);
    assert.match(r.stdout, /6 instances: \d eligible, \d rejected/);
    const json = spawnSync(
      process.execPath,
      [join(ROOT, 'dist', 'cli', 'main.js'), 'explain', '--endpoint', gantry.url, '--region', REGION, '--cluster', 'p', '--task-definition', 'web', '--output', 'json'],
      { encoding: 'utf8', env: { ...process.env, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY }, timeout: 30_000 },
    );
    assert.equal(json.status, 0, json.stderr);
    const e = JSON.parse(json.stdout);
    assert.equal(e.instances.length, 6);
    assert.deepEqual(e.strategy, ['random']);
    const bad = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'explain', '--endpoint', gantry.url, '--cluster', 'p', '--task-definition', 'web', '--placement-strategy', 'type=binpack,field=disk'], {
      encoding: 'utf8',
      env: { ...process.env, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_REGION: REGION },
      timeout: 30_000,
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /InvalidParameterException: placementStrategy\[0\]: binpack needs field 'cpu' or 'memory', not 'disk'/);
  });
});
