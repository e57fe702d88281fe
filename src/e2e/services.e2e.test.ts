/**
 * Services as users drive them, against a hollow fleet of 6 instances in 3 zones (`gantry agent --runtime fake`,
 * a separate process): `aws ecs create-service`, `aws ecs wait services-stable`, `update-service` to a new
 * revision (sampled during the roll for ECS's bounds), scale in, and delete — with Debian's AWS CLI and boto3.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../bench/support.js';
import type { EcsClient } from '../bench/support.js';
import { aws } from '../testing/harness.js';
import type { GantryProcess } from '../testing/harness.js';
import { botoOk, cliOk, ecsCall, startHollowCluster } from './support.js';
import type { HollowCluster } from './support.js';

describe('services with the AWS CLI against a hollow fleet', () => {
  let gantry: GantryProcess;
  let hollow: HollowCluster;
  let ecs: EcsClient;

  before(async () => {
    hollow = await startHollowCluster({ cluster: 's', instances: 6, agentArgs: ['--zones', 'eu-west-1a,eu-west-1b,eu-west-1c', '--memory', '4096'] });
    gantry = hollow.gantry;
    ecs = hollow.ecs;
    for (const tag of ['1', '2']) {
      await ecs.call('RegisterTaskDefinition', { family: 'web', containerDefinitions: [{ name: 'web', image: `nginx:${tag}`, cpu: 64, memory: 256 }] });
    }
  });

  after(async () => {
    await hollow?.close();
  });

  const live = async () => {
    const arns = (await ecs.call('ListTasks', { cluster: 's', serviceName: 'web' })).taskArns as string[];
    if (arns.length === 0) return [];
    return (await ecs.call('DescribeTasks', { cluster: 's', tasks: arns })).tasks as { lastStatus: string; taskDefinitionArn: string; availabilityZone: string }[];
  };

  it('creates a service, waits for it to be stable, rolls it to a new revision within bounds, scales in and deletes it', async () => {
    const created = cliOk(aws(gantry.url, ['ecs', 'create-service', '--cluster', 's', '--service-name', 'web', '--task-definition', 'web:1', '--desired-count', '6',
      '--deployment-configuration', 'minimumHealthyPercent=50,maximumPercent=150']), 'create-service');
    assert.equal(created.service.status, 'ACTIVE');
    assert.equal(created.service.desiredCount, 6);
    const wait = aws(gantry.url, ['ecs', 'wait', 'services-stable', '--cluster', 's', '--services', 'web']);
    assert.equal(wait.status, 0, wait.stderr);
    const zones = (await live()).map((t) => t.availabilityZone).sort();
    assert.deepEqual(zones, ['eu-west-1a', 'eu-west-1a', 'eu-west-1b', 'eu-west-1b', 'eu-west-1c', 'eu-west-1c']);

    cliOk(aws(gantry.url, ['ecs', 'update-service', '--cluster', 's', '--service', 'web', '--task-definition', 'web:2']), 'update-service');
    // Sample the roll: never more than ⌊6 × 150%⌋ = 9 tasks, never fewer than ⌈6 × 50%⌉ = 3 running.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const tasks = await live();
      assert.ok(tasks.length <= 9, `${tasks.length} tasks during the roll`);
      assert.ok(tasks.filter((t) => t.lastStatus === 'RUNNING').length >= 3, 'fewer than 3 running during the roll');
      const s = (await ecs.call('DescribeServices', { cluster: 's', services: ['web'] })).services[0];
      if (s.deployments.length === 1 && s.runningCount === 6 && tasks.every((t) => t.taskDefinitionArn.endsWith('web:2'))) break;
      assert.ok(Date.now() < deadline, 'the roll did not finish in 60 s');
      await sleep(50);
    }
    const stable = aws(gantry.url, ['ecs', 'wait', 'services-stable', '--cluster', 's', '--services', 'web']);
    assert.equal(stable.status, 0, stable.stderr);

    // boto3 sees the same service, events in ECS's wording.
    const [described] = botoOk(gantry.url, [ecsCall('describe_services', { cluster: 's', services: ['web'] })]);
    assert.match(described.services[0].events[0].message, /^\(service web\) has reached a steady state\.$/);
    assert.equal(described.services[0].deployments[0].rolloutState, 'COMPLETED');

    cliOk(aws(gantry.url, ['ecs', 'update-service', '--cluster', 's', '--service', 'web', '--desired-count', '3']), 'scale in');
    assert.equal(aws(gantry.url, ['ecs', 'wait', 'services-stable', '--cluster', 's', '--services', 'web']).status, 0);
    assert.deepEqual((await live()).map((t) => t.availabilityZone).sort(), ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);

    const refused = aws(gantry.url, ['ecs', 'delete-service', '--cluster', 's', '--service', 'web']);
    assert.equal(refused.errorCode, 'InvalidParameterException');
    cliOk(aws(gantry.url, ['ecs', 'delete-service', '--cluster', 's', '--service', 'web', '--force']), 'delete-service');
    const gone = aws(gantry.url, ['ecs', 'wait', 'services-inactive', '--cluster', 's', '--services', 'web']);
    assert.equal(gone.status, 0, gone.stderr);
    const missing = cliOk(aws(gantry.url, ['ecs', 'describe-services', '--cluster', 's', '--services', 'nope']), 'describe missing');
    assert.deepEqual(missing.failures.map((f: { reason: string }) => f.reason), ['MISSING']);
  });
});
