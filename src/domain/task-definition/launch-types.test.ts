import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import type { DraftTaskDefinition } from './launch-types.js';
import { assertServedLaunchTypes, launchTypeViolation, resolveCompatibilities } from './launch-types.js';
import { expectApiError, stubContainer } from './testing.js';

const container = (extra: Partial<ContainerDefinition> = {}) => stubContainer(extra.name ?? 'app', extra);

/** A valid Fargate-shaped draft; tests override one thing at a time. */
function fargateDraft(patch: Partial<DraftTaskDefinition> = {}, c: Partial<ContainerDefinition> = {}): DraftTaskDefinition {
  return { family: 'f', containerDefinitions: [container(c)], volumes: [], placementConstraints: [], networkMode: 'awsvpc', cpu: '256', memory: '512', ...patch };
}

const fargate = (patch: Partial<DraftTaskDefinition> = {}, c: Partial<ContainerDefinition> = {}) => launchTypeViolation('FARGATE', fargateDraft(patch, c));

describe('resolveCompatibilities', () => {
  it('bridge definitions are EXTERNAL and EC2 compatible, in the order AWS returns', () => {
    const bridge: DraftTaskDefinition = { family: 'f', containerDefinitions: [container({ memory: 128 })], volumes: [], placementConstraints: [] };
    assert.deepEqual(resolveCompatibilities(bridge, []), ['EXTERNAL', 'EC2']);
    assert.deepEqual(resolveCompatibilities(bridge, ['EC2']), ['EXTERNAL', 'EC2']);
    assert.deepEqual(resolveCompatibilities(bridge, ['EXTERNAL']), ['EXTERNAL', 'EC2']);
  });

  it('an awsvpc definition that fits Fargate is EC2 and FARGATE compatible, not EXTERNAL', () => {
    assert.deepEqual(resolveCompatibilities(fargateDraft(), ['FARGATE']), ['EC2', 'FARGATE']);
    assert.deepEqual(resolveCompatibilities(fargateDraft(), []), ['EC2', 'FARGATE']);
  });

  it('FARGATE is added only when every Fargate rule passes', () => {
    assert.deepEqual(resolveCompatibilities(fargateDraft({ memory: '4096' }), ['EC2']), ['EC2']);
    assert.deepEqual(resolveCompatibilities(fargateDraft({}, { privileged: true }), []), ['EC2']);
  });

  it('a required launch type that does not validate is a ClientException with its reason', () => {
    expectApiError(() => resolveCompatibilities(fargateDraft({ memory: '4096' }), ['FARGATE']), 'ClientException', 'No Fargate configuration exists for given values: 256 CPU, 4096 memory.');
    expectApiError(() => resolveCompatibilities(fargateDraft(), ['EXTERNAL']), 'ClientException', 'The EXTERNAL launch type does not support networkMode=awsvpc');
  });
});

describe('assertServedLaunchTypes', () => {
  it('refuses MANAGED_INSTANCES with UnsupportedFeatureException', () => {
    assertServedLaunchTypes(['EC2', 'FARGATE', 'EXTERNAL']);
    expectApiError(() => assertServedLaunchTypes(['MANAGED_INSTANCES']), 'UnsupportedFeatureException', 'MANAGED_INSTANCES');
  });
});

describe('EXTERNAL rules', () => {
  const external = (patch: Partial<DraftTaskDefinition>) => launchTypeViolation('EXTERNAL', { family: 'f', containerDefinitions: [container()], volumes: [], placementConstraints: [], ...patch });
  it('reject awsvpc, EFS, EBS-at-launch, App Mesh and Elastic Inference', () => {
    assert.equal(external({ networkMode: 'host' }), undefined);
    assert.match(external({ networkMode: 'awsvpc' }) ?? '', /networkMode=awsvpc/);
    assert.match(external({ volumes: [{ name: 'e', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }] }) ?? '', /Amazon EFS volumes \(volume 'e'\)/);
    assert.match(external({ volumes: [{ name: 'b', configuredAtLaunch: true }] }) ?? '', /configured at launch/);
    assert.match(external({ proxyConfiguration: { containerName: 'app' } }) ?? '', /App Mesh/);
    assert.match(external({ inferenceAccelerators: [{ deviceName: 'd', deviceType: 't' }] }) ?? '', /Elastic Inference/);
  });
});

describe('FARGATE rules', () => {
  it('accepts the baseline', () => {
    assert.equal(fargate(), undefined);
  });

  it('requires awsvpc, task cpu and task memory, in that order (ECS wording)', () => {
    const { networkMode: _n, ...noMode } = fargateDraft();
    assert.equal(launchTypeViolation('FARGATE', noMode), "Fargate only supports network mode 'awsvpc'.");
    assert.equal(fargate({ networkMode: 'bridge' }), "Fargate only supports network mode 'awsvpc'.");
    const { cpu: _c, ...noCpu } = fargateDraft();
    assert.equal(launchTypeViolation('FARGATE', noCpu), "Fargate requires that 'cpu' be defined at the task level.");
    const { memory: _m, ...noMemory } = fargateDraft();
    assert.equal(launchTypeViolation('FARGATE', noMemory), "Fargate requires that 'memory' be defined at the task level.");
  });

  it('applies the size table, with the Windows rows for Windows', () => {
    assert.match(fargate({ cpu: '256', memory: '4096' }) ?? '', /^No Fargate configuration exists for given values: 256 CPU, 4096 memory\./);
    const windows = { runtimePlatform: { operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE' as const } };
    assert.match(fargate({ ...windows, cpu: '512', memory: '1024' }) ?? '', /No Fargate configuration exists/);
    assert.equal(fargate({ ...windows, cpu: '1024', memory: '2048' }), undefined);
  });

  it('rejects placement constraints, ipcMode and pidMode host', () => {
    assert.equal(fargate({ placementConstraints: [{ type: 'memberOf', expression: 'attribute:x == y' }] }), "Fargate does not support 'placementConstraints'.");
    assert.equal(fargate({ ipcMode: 'task' }), "Fargate does not support 'ipcMode'.");
    assert.match(fargate({ pidMode: 'host' }) ?? '', /pidMode 'host'/);
    assert.equal(fargate({ pidMode: 'task' }), undefined);
  });

  it('rejects docker volumes and host source paths but allows bind mounts and EFS', () => {
    assert.match(fargate({ volumes: [{ name: 'd', dockerVolumeConfiguration: { scope: 'task' } }] }) ?? '', /'dockerVolumeConfiguration' \(volume 'd'\)/);
    assert.match(fargate({ volumes: [{ name: 'h', host: { sourcePath: '/var' } }] }) ?? '', /'host.sourcePath' \(volume 'h'\)/);
    assert.equal(fargate({ volumes: [{ name: 'b', host: {} }, { name: 'e', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }] }), undefined);
  });

  it('rejects the container parameters Fargate does not support, but not their unset forms', () => {
    const cases: [Partial<ContainerDefinition>, string][] = [
      [{ privileged: true }, "'privileged'"],
      [{ disableNetworking: true }, "'disableNetworking'"],
      [{ links: ['db'] }, "'links'"],
      [{ dnsServers: ['10.0.0.2'] }, "'dnsServers'"],
      [{ dnsSearchDomains: ['corp'] }, "'dnsSearchDomains'"],
      [{ extraHosts: [{ hostname: 'h', ipAddress: '1.2.3.4' }] }, "'extraHosts'"],
      [{ dockerSecurityOptions: ['no-new-privileges'] }, "'dockerSecurityOptions'"],
      [{ linuxParameters: { devices: [{ hostPath: '/dev/fuse' }] } }, "'linuxParameters.devices'"],
      [{ linuxParameters: { sharedMemorySize: 64 } }, "'linuxParameters.sharedMemorySize'"],
      [{ linuxParameters: { tmpfs: [{ containerPath: '/t', size: 8 }] } }, "'linuxParameters.tmpfs'"],
      [{ linuxParameters: { maxSwap: 0 } }, "'linuxParameters.maxSwap'"],
      [{ linuxParameters: { swappiness: 10 } }, "'linuxParameters.swappiness'"],
      [{ resourceRequirements: [{ type: 'GPU', value: '1' }] }, "'GPU resourceRequirements'"],
    ];
    for (const [c, fragment] of cases) assert.equal(fargate({}, c), `Fargate does not support ${fragment} (container 'app').`);
    assert.equal(fargate({}, { privileged: false, disableNetworking: false, links: [], dnsServers: [], extraHosts: [], dockerSecurityOptions: [] }), undefined);
    assert.equal(fargate({}, { linuxParameters: { capabilities: { add: ['SYS_PTRACE'] }, initProcessEnabled: true } }), undefined);
  });

  it('rejects ulimits only for Windows', () => {
    const ulimits = { ulimits: [{ name: 'nofile' as const, softLimit: 2048, hardLimit: 8192 }] };
    assert.equal(fargate({}, ulimits), undefined);
    assert.match(fargate({ runtimePlatform: { operatingSystemFamily: 'WINDOWS_SERVER_2019_CORE' }, cpu: '1024', memory: '2048' }, ulimits) ?? '', /'ulimits'/);
  });

  it('bounds start and stop timeouts to 2–120 seconds', () => {
    assert.equal(fargate({}, { startTimeout: 2, stopTimeout: 120 }), undefined);
    assert.match(fargate({}, { stopTimeout: 121 }) ?? '', /Invalid 'stopTimeout' setting for container 'app'\. Tasks using the Fargate launch type accept 2-120 seconds/);
    assert.match(fargate({}, { startTimeout: 1 }) ?? '', /Invalid 'startTimeout'/);
  });

  it('accepts only awslogs, splunk and awsfirelens log drivers', () => {
    for (const logDriver of ['awslogs', 'splunk', 'awsfirelens'] as const) assert.equal(fargate({ executionRoleArn: 'arn:aws:iam::1:role/x' }, { logConfiguration: { logDriver } }), undefined);
    assert.match(fargate({}, { logConfiguration: { logDriver: 'json-file' } }) ?? '', /Log driver 'json-file' is not supported on Fargate/);
  });

  it('rejects an s3 FireLens config file', () => {
    assert.match(fargate({}, { firelensConfiguration: { type: 'fluentbit', options: { 'config-file-type': 's3' } } }) ?? '', /only the 'file' FireLens/);
  });

  it('requires an execution role for awslogs and for ECR images (ECS wording)', () => {
    assert.equal(fargate({}, { logConfiguration: { logDriver: 'awslogs' } }), 'Fargate requires task definition to have execution role ARN to support log driver awslogs.');
    const ecr = { image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1' };
    assert.equal(fargate({}, ecr), 'Fargate requires task definition to have execution role ARN to support ECR images.');
    assert.equal(fargate({ executionRoleArn: 'arn:aws:iam::123456789012:role/exec' }, ecr), undefined);
  });
});
