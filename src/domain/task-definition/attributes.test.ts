import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import { deriveRequiredAttributes } from './attributes.js';
import type { DraftTaskDefinition } from './launch-types.js';
import { stubContainer } from './testing.js';

const container = (extra: Partial<ContainerDefinition> = {}) => stubContainer('app', extra);

function names(patch: Partial<DraftTaskDefinition> = {}, c: Partial<ContainerDefinition> = {}): string[] {
  return deriveRequiredAttributes({ family: 'f', containerDefinitions: [container(c)], volumes: [], placementConstraints: [], ...patch }).map((a) => a.name ?? '');
}

const L = 'com.amazonaws.ecs.capability.';
const C = 'ecs.capability.';

describe('deriveRequiredAttributes', () => {
  it('a plain container requires nothing', () => {
    assert.deepEqual(names(), []);
  });

  it('does not require task-cpu-mem-limit for task-level cpu/memory (as real EC2 definitions show)', () => {
    assert.deepEqual(names({ cpu: '2048', memory: '4096', requiresCompatibilities: ['EC2'] }), []);
  });

  it('network mode and roles', () => {
    assert.deepEqual(names({ networkMode: 'awsvpc' }), [`${C}task-eni`]);
    assert.deepEqual(names({ taskRoleArn: 'arn:aws:iam::1:role/t' }), [`${L}task-iam-role`]);
    assert.deepEqual(names({ taskRoleArn: 'arn:aws:iam::1:role/t', networkMode: 'host' }), [`${L}task-iam-role`, `${L}task-iam-role-network-host`]);
  });

  it('ECR images need ecr-auth, plus execution-role-ecr-pull with an execution role', () => {
    const ecr = { image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1' };
    assert.deepEqual(names({}, ecr), [`${L}ecr-auth`]);
    assert.deepEqual(names({ executionRoleArn: 'arn:aws:iam::1:role/e' }, ecr), [`${L}ecr-auth`, `${C}execution-role-ecr-pull`]);
  });

  it('logging: driver, Docker API 1.18 (log config) and 1.19 (options), execution-role-awslogs', () => {
    assert.deepEqual(names({}, { logConfiguration: { logDriver: 'json-file' } }), [`${L}docker-remote-api.1.18`, `${L}logging-driver.json-file`]);
    assert.deepEqual(names({ executionRoleArn: 'arn:aws:iam::1:role/e' }, { logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } } }), [
      `${L}docker-remote-api.1.18`,
      `${L}docker-remote-api.1.19`,
      `${L}logging-driver.awslogs`,
      `${C}execution-role-awslogs`,
    ]);
  });

  it('log-driver secrets and environment secrets by store', () => {
    const attrs = names({}, {
      logConfiguration: { logDriver: 'splunk', secretOptions: [{ name: 'token', valueFrom: 'arn:aws:secretsmanager:us-east-1:1:secret:s' }] },
      secrets: [{ name: 'A', valueFrom: 'arn:aws:ssm:us-east-1:1:parameter/p' }, { name: 'B', valueFrom: 'plain-parameter-name' }],
    });
    assert.ok(attrs.includes(`${C}secrets.asm.bootstrap.log-driver`));
    assert.ok(attrs.includes(`${C}secrets.ssm.environment-variables`));
    assert.ok(!attrs.includes(`${C}secrets.asm.environment-variables`));
  });

  it('health checks: container-health-check with Docker API 1.24, or 1.29 with a start period', () => {
    assert.deepEqual(names({}, { healthCheck: { command: ['CMD', 'true'], interval: 30, timeout: 5, retries: 3 } }), [`${L}docker-remote-api.1.24`, `${C}container-health-check`]);
    assert.deepEqual(names({}, { healthCheck: { command: ['CMD', 'true'], startPeriod: 10 } }), [`${L}docker-remote-api.1.29`, `${C}container-health-check`]);
  });

  it('container ordering for dependsOn, startTimeout and stopTimeout', () => {
    assert.deepEqual(names({}, { dependsOn: [{ containerName: 'x', condition: 'START' }] }), [`${C}container-ordering`]);
    assert.deepEqual(names({}, { stopTimeout: 30 }), [`${C}container-ordering`]);
    assert.deepEqual(names({}, { startTimeout: 30 }), [`${C}container-ordering`]);
  });

  it('container features', () => {
    assert.deepEqual(names({}, { privileged: true }), [`${L}privileged-container`]);
    assert.deepEqual(names({}, { privileged: false }), []);
    assert.deepEqual(names({}, { dockerLabels: { a: 'b' } }), [`${L}docker-remote-api.1.18`]);
    assert.deepEqual(names({}, { ulimits: [{ name: 'nofile', softLimit: 1, hardLimit: 2 }] }), [`${L}docker-remote-api.1.18`]);
    assert.deepEqual(names({}, { linuxParameters: { initProcessEnabled: true } }), [`${L}docker-remote-api.1.25`]);
    assert.deepEqual(names({}, { repositoryCredentials: { credentialsParameter: 'arn:aws:secretsmanager:r:1:secret:c' } }), [`${C}private-registry-authentication.secretsmanager`]);
    assert.deepEqual(names({}, { environmentFiles: [{ type: 's3', value: 'arn:aws:s3:::b/x.env' }] }), [`${C}env-files.s3`]);
    assert.deepEqual(names({}, { portMappings: [{ containerPortRange: '8000-8010', protocol: 'tcp' }] }), [`${C}network.container-port-range`]);
    assert.deepEqual(names({}, { restartPolicy: { enabled: true } }), [`${C}container-restart-policy`]);
    assert.deepEqual(names({}, { restartPolicy: { enabled: false } }), []);
    assert.deepEqual(names({}, { firelensConfiguration: { type: 'fluentbit', options: { 'config-file-type': 'file' } } }), [`${C}firelens.fluentbit`, `${C}firelens.options.config.file`]);
    assert.deepEqual(names({}, { credentialSpecs: ['credentialspecdomainless:arn:aws:ssm:r:1:parameter/c'] }), [`${C}gmsa-domainless`]);
  });

  it('task-level features', () => {
    assert.deepEqual(names({ ipcMode: 'task' }), [`${C}pid-ipc-namespace-sharing`]);
    assert.deepEqual(names({ pidMode: 'host' }), [`${C}pid-ipc-namespace-sharing`]);
    assert.deepEqual(names({ proxyConfiguration: { containerName: 'app' } }), [`${C}aws-appmesh`]);
    assert.deepEqual(names({ inferenceAccelerators: [{ deviceName: 'd', deviceType: 't' }] }), [`${C}task-eia`]);
    assert.deepEqual(names({ enableFaultInjection: true }), [`${C}fault-injection`]);
  });

  it('volumes', () => {
    assert.deepEqual(names({ volumes: [{ name: 'e', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }] }), [`${C}efs`]);
    assert.deepEqual(names({ volumes: [{ name: 'e', efsVolumeConfiguration: { fileSystemId: 'fs-1', transitEncryption: 'ENABLED' } }] }), [`${C}efs`, `${C}efsAuth`]);
    assert.deepEqual(names({ volumes: [{ name: 'd', dockerVolumeConfiguration: { scope: 'shared', driver: 'rexray/ebs' } }] }), [`${C}docker-plugin.rexray/ebs`]);
    assert.deepEqual(names({ volumes: [{ name: 'd', dockerVolumeConfiguration: { scope: 'task' } }] }), [`${C}docker-plugin.local`]);
    assert.deepEqual(names({ volumes: [{ name: 'b', configuredAtLaunch: true }] }), [`${C}storage.ebs-task-volume-attach`]);
    assert.deepEqual(names({ volumes: [{ name: 'h', host: {}, configuredAtLaunch: false }] }), []);
  });

  it('is sorted and free of duplicates across containers', () => {
    const d: DraftTaskDefinition = {
      family: 'f',
      containerDefinitions: [container({ logConfiguration: { logDriver: 'awslogs' } }), { ...container({ logConfiguration: { logDriver: 'awslogs' } }), name: 'b' }],
      volumes: [],
      placementConstraints: [],
    };
    const list = deriveRequiredAttributes(d).map((a) => a.name ?? '');
    assert.deepEqual(list, [...new Set(list)].sort());
    assert.equal(list.length, 2);
  });
});
