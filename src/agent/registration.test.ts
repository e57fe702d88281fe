import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RegisterTaskDefinitionRequest } from '@aws-sdk/client-ecs';
import { normaliseTaskDefinition } from '../domain/task-definition/validate.js';
import type { DesiredTask } from '../domain/task.js';
import type { HostInfo } from './runtime/runtime.js';
import { capabilityAttributes, registrationBody, registrationDigest, RegistrationError } from './registration.js';
import { buildContainerSpec } from './task-engine/container-spec.js';
import type { ContainerDef } from './task-engine/container-spec.js';

const host: HostInfo = { cpus: 4, memoryMiB: 16_000, os: 'linux', architecture: 'arm64', runtimeVersion: '27.3.1' };
const input = {
  cluster: 'prod',
  host,
  reservedMemoryMiB: 512,
  reservedPorts: [22, 2375, 2376, 51678, 51679, 7400],
  reservedPortsUdp: [5353],
  zone: 'eu-1a',
  instanceType: 'm.large',
  attributes: [{ name: 'disk', value: 'ssd' }, { name: 'gpu-free' }],
  agentVersion: '0.1.0',
};

function normalise(input: RegisterTaskDefinitionRequest) {
  return normaliseTaskDefinition(input as Parameters<typeof normaliseTaskDefinition>[0], { accountId: '000000000000', region: 'us-east-1' });
}

describe('registrationBody', () => {
  it('resources: cores × 1024, memory less the reserve, reserved ports', () => {
    const body = registrationBody(input);
    assert.deepEqual(body.totalResources, [
      { name: 'CPU', type: 'INTEGER', integerValue: 4096 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: 15_488 },
      { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22', '2375', '2376', '51678', '51679', '7400'] },
      { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: ['5353'] },
    ]);
    assert.deepEqual(body.versionInfo, { agentVersion: '0.1.0', dockerVersion: '27.3.1' });
    const hollow = registrationBody({ ...input, resources: { cpu: 1024, memoryMiB: 2048 }, reservedMemoryMiB: 0 });
    assert.deepEqual(hollow.totalResources.slice(0, 2).map((r) => r.integerValue), [1024, 2048]);
    assert.throws(() => registrationBody({ ...input, reservedMemoryMiB: 16_000 }), RegistrationError);
  });

  it('attributes: platform, zone, type, capabilities, custom ones last', () => {
    const attrs = registrationBody(input).attributes;
    const byName = new Map(attrs.map((a) => [a.name, a.value]));
    assert.equal(byName.get('ecs.os-type'), 'linux');
    assert.equal(byName.get('ecs.os-family'), 'LINUX');
    assert.equal(byName.get('ecs.cpu-architecture'), 'arm64');
    assert.equal(byName.get('ecs.availability-zone'), 'eu-1a');
    assert.equal(byName.get('ecs.instance-type'), 'm.large');
    assert.deepEqual(attrs.slice(-2), [{ name: 'disk', value: 'ssd' }, { name: 'gpu-free' }]);
    assert.equal(new Set(attrs.map((a) => a.name)).size, attrs.length, 'no duplicates');
  });

  it('the digest changes when what is offered changes', () => {
    assert.equal(registrationDigest(registrationBody(input)), registrationDigest(registrationBody({ ...input })));
    assert.notEqual(registrationDigest(registrationBody(input)), registrationDigest(registrationBody({ ...input, zone: 'eu-1b' })));
  });
});

describe('capabilities match what the agent runs', () => {
  const advertised = new Set(capabilityAttributes().map((a) => a.name));

  it('a definition using every supported feature requires only advertised attributes, and builds', () => {
    const td = normalise({
      family: 'everything',
      networkMode: 'bridge',
      pidMode: 'task',
      ipcMode: 'task',
      cpu: '1024',
      memory: '2048',
      volumes: [
        { name: 'host', host: { sourcePath: '/srv' } },
        { name: 'scratch', host: {} },
        { name: 'cache', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local' } },
      ],
      containerDefinitions: [
        {
          name: 'init',
          image: 'busybox',
          essential: false,
          memory: 64,
          mountPoints: [{ sourceVolume: 'scratch', containerPath: '/s' }],
        },
        {
          name: 'app',
          image: 'nginx',
          memory: 512,
          memoryReservation: 256,
          cpu: 512,
          privileged: true,
          readonlyRootFilesystem: true,
          dockerLabels: { team: 'web' },
          ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }],
          logConfiguration: { logDriver: 'syslog', options: { tag: 'app' } },
          healthCheck: { command: ['CMD-SHELL', 'true'], startPeriod: 10 },
          dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }],
          startTimeout: 60,
          stopTimeout: 10,
          restartPolicy: { enabled: true, restartAttemptPeriod: 60 },
          linuxParameters: { initProcessEnabled: true, capabilities: { add: ['NET_ADMIN'] }, sharedMemorySize: 64, tmpfs: [{ containerPath: '/run', size: 16 }] },
          portMappings: [{ containerPort: 80, hostPort: 8080 }, { containerPortRange: '9000-9010' }],
          mountPoints: [{ sourceVolume: 'host', containerPath: '/srv' }, { sourceVolume: 'cache', containerPath: '/cache' }],
          volumesFrom: [{ sourceContainer: 'init' }],
          links: ['init'],
          extraHosts: [{ hostname: 'db', ipAddress: '10.0.0.2' }],
          dnsServers: ['10.0.0.1'],
          systemControls: [{ namespace: 'net.core.somaxconn', value: '1024' }],
        },
      ],
    });
    const required = td.requiresAttributes.map((a) => a.name!);
    assert.ok(required.length > 5, `a rich definition requires attributes: ${required.join(', ')}`);
    assert.deepEqual(required.filter((n) => !advertised.has(n)), [], 'every required attribute is advertised');

    const task: DesiredTask = {
      taskArn: 'arn:aws:ecs:us-east-1:000000000000:task/prod/00000000000000000000000000000001',
      family: td.family,
      revision: 1,
      desiredStatus: 'RUNNING',
      version: 1,
      networkMode: 'bridge',
      ...(td.pidMode !== undefined ? { pidMode: td.pidMode } : {}),
      ...(td.ipcMode !== undefined ? { ipcMode: td.ipcMode } : {}),
      containers: td.containerDefinitions as ContainerDef[],
      volumes: td.volumes,
      reservedPorts: { tcp: [8080], udp: [] },
      gpuIds: {},
    };
    const ctx = { cluster: 'prod', containerInstanceArn: 'ci', defaultStopTimeoutSec: 30, runtimeIds: new Map([['init', 'id-init']]) };
    for (const c of task.containers) {
      const r = buildContainerSpec(task, c, ctx);
      assert.ok(r.ok, `${c.name}: ${r.ok ? '' : r.reason}`);
    }
  });

  it('definitions needing what the agent refuses require attributes it does not advertise', () => {
    const cases: RegisterTaskDefinitionRequest[] = [
      { family: 'a', containerDefinitions: [{ name: 'a', image: 'x', memory: 64, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } } }] },
      { family: 'b', containerDefinitions: [{ name: 'b', image: 'x', memory: 64, secrets: [{ name: 'S', valueFrom: 'arn:aws:ssm:us-east-1:0:parameter/s' }] }] },
      { family: 'c', networkMode: 'awsvpc', containerDefinitions: [{ name: 'c', image: 'x', memory: 64 }] },
      { family: 'd', volumes: [{ name: 'v', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }], containerDefinitions: [{ name: 'd', image: 'x', memory: 64 }] },
      { family: 'e', containerDefinitions: [{ name: 'e', image: 'x', memory: 64, environmentFiles: [{ value: 'arn:aws:s3:::b/e.env', type: 's3' }] }] },
      { family: 'f', containerDefinitions: [{ name: 'f', image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1', memory: 64 }] },
    ];
    for (const c of cases) {
      const missing = normalise(c).requiresAttributes.map((a) => a.name!).filter((n) => !advertised.has(n));
      assert.ok(missing.length > 0, `${c.family}: expected an attribute this agent lacks`);
    }
  });
});
