import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredTask } from '../../domain/task.js';
import { LABELS } from '../runtime/runtime.js';
import { desiredTask } from '../testing.js';
import { buildContainerSpec, containerReferences, runtimeName, type ContainerDef, type SpecContext } from './container-spec.js';

const ARN = 'arn:aws:ecs:us-east-1:000000000000:task/demo/0123456789abcdef0123456789abcdef';
const ctx: SpecContext = {
  cluster: 'demo',
  containerInstanceArn: 'arn:aws:ecs:us-east-1:000000000000:container-instance/demo/ci1',
  defaultStopTimeoutSec: 30,
  runtimeIds: new Map([['data', 'id-data'], ['app', 'id-app']]),
};

function desired(containers: ContainerDef[], over: Partial<DesiredTask> = {}): DesiredTask {
  return desiredTask(containers, { taskArn: ARN, revision: 3, ...over });
}

function ok(task: DesiredTask, def: ContainerDef, c: SpecContext = ctx) {
  const r = buildContainerSpec(task, def, c);
  if (!r.ok) assert.fail(r.reason);
  return r;
}

function refused(task: DesiredTask, def: ContainerDef): string {
  const r = buildContainerSpec(task, def, ctx);
  assert.equal(r.ok, false);
  return (r as { reason: string }).reason;
}

describe('buildContainerSpec', () => {
  it('names, labels and environment', () => {
    const def: ContainerDef = {
      name: 'app',
      image: 'nginx:1.27',
      environment: [{ name: 'A', value: '1' }, { name: 'B', value: '' }],
      dockerLabels: { team: 'web', [LABELS.taskArn]: 'spoofed' },
      command: ['nginx', '-g', 'daemon off;'],
      entryPoint: ['/docker-entrypoint.sh'],
      user: '101',
      workingDirectory: '/srv',
      hostname: 'web',
    };
    const { spec, stopTimeoutSec, volumes } = ok(desired([def]), def);
    assert.equal(spec.name, 'ecs-web-3-app-0123456789abcdef0123456789abcdef');
    assert.equal(spec.image, 'nginx:1.27');
    assert.deepEqual(spec.environment, { A: '1', B: '' });
    assert.equal(spec.labels[LABELS.taskArn], ARN, 'a dockerLabel cannot override the task label');
    assert.equal(spec.labels['team'], 'web');
    assert.equal(spec.labels[LABELS.containerName], 'app');
    assert.equal(spec.labels[LABELS.cluster], 'demo');
    assert.equal(spec.labels[LABELS.family], 'web');
    assert.equal(spec.labels[LABELS.revision], '3');
    assert.equal(spec.labels[LABELS.instance], ctx.containerInstanceArn);
    assert.equal(spec.labels[LABELS.managed], 'true');
    assert.deepEqual(spec.command, ['nginx', '-g', 'daemon off;']);
    assert.deepEqual(spec.entryPoint, ['/docker-entrypoint.sh']);
    assert.equal(spec.user, '101');
    assert.equal(spec.workingDirectory, '/srv');
    assert.equal(spec.hostname, 'web');
    assert.equal(stopTimeoutSec, 30);
    assert.deepEqual(volumes, []);
  });

  it('ports per network mode', () => {
    const def: ContainerDef = {
      name: 'app',
      image: 'x',
      portMappings: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, protocol: 'udp' }, { containerPortRange: '9000-9002' }],
    };
    assert.deepEqual(ok(desired([def]), def).spec.portMappings, [
      { containerPort: 80, hostPort: 8080, protocol: 'tcp' },
      { containerPort: 53, protocol: 'udp' },
      { containerPort: 9000, protocol: 'tcp' },
      { containerPort: 9001, protocol: 'tcp' },
      { containerPort: 9002, protocol: 'tcp' },
    ]);
    const host = ok(desired([def], { networkMode: 'host' }), def).spec;
    assert.equal(host.networkMode, 'host');
    assert.deepEqual(host.portMappings.slice(0, 2), [
      { containerPort: 80, hostPort: 80, protocol: 'tcp' },
      { containerPort: 53, hostPort: 53, protocol: 'udp' },
    ]);
    const none = ok(desired([def], { networkMode: 'none' }), def).spec;
    assert.deepEqual(none.portMappings, []);
    const disabled = ok(desired([{ ...def, disableNetworking: true }]), { ...def, disableNetworking: true }).spec;
    assert.equal(disabled.networkMode, 'none');
    assert.match(refused(desired([def], { networkMode: 'awsvpc' }), def), /^CannotCreateContainerError: network mode 'awsvpc'/);
  });

  it('resources, ulimits, linuxParameters, privileged, read-only root', () => {
    const def: ContainerDef = {
      name: 'app',
      image: 'x',
      cpu: 256,
      memory: 512,
      memoryReservation: 256,
      ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }],
      privileged: true,
      readonlyRootFilesystem: true,
      linuxParameters: {
        initProcessEnabled: true,
        capabilities: { add: ['NET_ADMIN'], drop: ['MKNOD'] },
        sharedMemorySize: 64,
        tmpfs: [{ containerPath: '/run', size: 16, mountOptions: ['noexec'] }],
      },
    };
    const { spec } = ok(desired([def]), def);
    assert.equal(spec.cpuShares, 256);
    assert.equal(spec.memoryMiB, 512);
    assert.equal(spec.memoryReservationMiB, 256);
    assert.deepEqual(spec.ulimits, [{ name: 'nofile', soft: 1024, hard: 4096 }]);
    assert.equal(spec.privileged, true);
    assert.equal(spec.readonlyRootFilesystem, true);
    assert.equal(spec.initProcessEnabled, true);
    assert.deepEqual(spec.capabilities, { add: ['NET_ADMIN'], drop: ['MKNOD'] });
    assert.equal(spec.sharedMemoryMiB, 64);
    assert.deepEqual(spec.mounts, [{ type: 'tmpfs', target: '/run', readOnly: false, sizeMiB: 16, mountOptions: ['noexec'] }]);
  });

  it('CPU shares never fall to Docker\'s "0 means 1024"; task memory caps containers without their own limit', () => {
    const def: ContainerDef = { name: 'app', image: 'x', memoryReservation: 128 };
    const { spec } = ok(desired([def], { memory: '1024' }), def);
    assert.equal(spec.cpuShares, 2);
    assert.equal(spec.memoryMiB, 1024);
    assert.equal(spec.memoryReservationMiB, 128);
  });

  it('mount points against task volumes', () => {
    const def: ContainerDef = {
      name: 'app',
      image: 'x',
      mountPoints: [
        { sourceVolume: 'logs', containerPath: '/var/log/app' },
        { sourceVolume: 'scratch', containerPath: '/scratch' },
        { sourceVolume: 'cache', containerPath: '/cache', readOnly: true },
        { sourceVolume: 'shared', containerPath: '/shared' },
      ],
    };
    const task = desired([def], {
      volumes: [
        { name: 'logs', host: { sourcePath: '/var/log/web' } },
        { name: 'scratch', host: {} },
        { name: 'cache', dockerVolumeConfiguration: { scope: 'task', driver: 'local', driverOpts: { type: 'tmpfs' }, labels: { a: 'b' } } },
        { name: 'shared', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true } },
      ],
    });
    const { spec, volumes } = ok(task, def);
    const id = '0123456789abcdef0123456789abcdef';
    assert.deepEqual(spec.mounts, [
      { type: 'bind', source: '/var/log/web', target: '/var/log/app', readOnly: false },
      { type: 'volume', source: `ecs-web-3-scratch-${id}`, target: '/scratch', readOnly: false },
      { type: 'volume', source: `ecs-web-3-cache-${id}`, target: '/cache', readOnly: true },
      { type: 'volume', source: 'shared', target: '/shared', readOnly: false },
    ]);
    assert.deepEqual(
      volumes.map((v) => [v.name, v.driver, v.options, v.taskScoped]),
      [
        [`ecs-web-3-scratch-${id}`, 'local', {}, true],
        [`ecs-web-3-cache-${id}`, 'local', { type: 'tmpfs' }, true],
        ['shared', 'local', {}, false],
      ],
    );
    assert.equal(volumes[1]!.labels[LABELS.taskArn], ARN);
    assert.equal(volumes[1]!.labels['a'], 'b');
    assert.equal(volumes[2]!.labels[LABELS.taskArn], undefined, 'a shared volume belongs to no task');
    assert.match(refused(desired([def]), def), /volume 'logs', which the task does not define/);
    const efs = desired([def], { volumes: [{ name: 'logs', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }] });
    assert.match(refused(efs, def), /EFS volumes are not supported/);
  });

  it('volumesFrom by runtime id; links by runtime name', () => {
    const def: ContainerDef = { name: 'web', image: 'x', volumesFrom: [{ sourceContainer: 'data', readOnly: true }], links: ['app:backend', 'data'] };
    const task = desired([{ name: 'data', image: 'x' }, { name: 'app', image: 'x' }, def]);
    const { spec } = ok(task, def);
    assert.deepEqual(spec.volumesFrom, [{ containerId: 'id-data', readOnly: true }]);
    assert.deepEqual(spec.links, [`${runtimeName(task, 'app')}:backend`, `${runtimeName(task, 'data')}:data`]);
    assert.deepEqual(containerReferences(task, def), { needsCreated: ['data', 'app'], needsRunning: ['app', 'data'] });
    const early = buildContainerSpec(task, def, { ...ctx, runtimeIds: new Map() });
    assert.equal(early.ok, false);
  });

  it('log drivers: json-file, none and syslog; others refused with a reason', () => {
    const def: ContainerDef = { name: 'app', image: 'x', logConfiguration: { logDriver: 'syslog', options: { tag: 'web' } } };
    assert.deepEqual(ok(desired([def]), def).spec.logDriver, { driver: 'syslog', options: { tag: 'web' } });
    const aws: ContainerDef = { name: 'app', image: 'x', logConfiguration: { logDriver: 'awslogs', options: {} } };
    assert.equal(
      refused(desired([aws]), aws),
      "CannotCreateContainerError: log driver 'awslogs' is not available on this instance (available: json-file, none, syslog)",
    );
  });

  it('health check with ECS defaults; stop timeout from the definition', () => {
    const def: ContainerDef = { name: 'app', image: 'x', healthCheck: { command: ['CMD-SHELL', 'curl -f localhost'] }, stopTimeout: 5 };
    const r = ok(desired([def]), def);
    assert.deepEqual(r.spec.healthCheck, { test: ['CMD-SHELL', 'curl -f localhost'], intervalSec: 30, timeoutSec: 5, retries: 3, startPeriodSec: 0 });
    assert.equal(r.stopTimeoutSec, 5);
  });

  it('dns, extra hosts, sysctls, security options, tty', () => {
    const def: ContainerDef = {
      name: 'app',
      image: 'x',
      dnsServers: ['1.1.1.1'],
      dnsSearchDomains: ['corp'],
      extraHosts: [{ hostname: 'db', ipAddress: '10.0.0.5' }],
      systemControls: [{ namespace: 'net.core.somaxconn', value: '1024' }],
      dockerSecurityOptions: ['no-new-privileges'],
      interactive: true,
      pseudoTerminal: true,
    };
    const { spec } = ok(desired([def]), def);
    assert.deepEqual(spec.dnsServers, ['1.1.1.1']);
    assert.deepEqual(spec.dnsSearchDomains, ['corp']);
    assert.deepEqual(spec.extraHosts, [{ hostname: 'db', ipAddress: '10.0.0.5' }]);
    assert.deepEqual(spec.systemControls, [{ namespace: 'net.core.somaxconn', value: '1024' }]);
    assert.deepEqual(spec.dockerSecurityOptions, ['no-new-privileges']);
    assert.equal(spec.interactive, true);
    assert.equal(spec.pseudoTerminal, true);
  });

  it('pid and ipc namespaces: host as is, task through the first container', () => {
    const first: ContainerDef = { name: 'data', image: 'x' };
    const second: ContainerDef = { name: 'app', image: 'x' };
    const host = desired([first, second], { pidMode: 'host', ipcMode: 'host' });
    assert.equal(ok(host, second).spec.pidMode, 'host');
    assert.equal(ok(host, second).spec.ipcMode, 'host');
    const shared = desired([first, second], { pidMode: 'task', ipcMode: 'task' });
    assert.equal(ok(shared, first).spec.pidMode, undefined);
    assert.equal(ok(shared, first).spec.ipcMode, 'shareable');
    assert.equal(ok(shared, second).spec.pidMode, 'container:id-data');
    assert.equal(ok(shared, second).spec.ipcMode, 'container:id-data');
    assert.deepEqual(containerReferences(shared, second), { needsCreated: ['data'], needsRunning: ['data'] });
  });

  it('refuses what it cannot honour', () => {
    const cases: [Partial<ContainerDef>, RegExp][] = [
      [{ secrets: [{ name: 'A', valueFrom: 'arn:aws:ssm:us-east-1:0:parameter/a' }] }, /secrets are not supported/],
      [{ environmentFiles: [{ value: 'arn:aws:s3:::b/f.env', type: 's3' }] }, /environmentFiles/],
      [{ resourceRequirements: [{ type: 'GPU', value: '1' }] }, /resourceRequirements \(GPU\)/],
      [{ linuxParameters: { devices: [{ hostPath: '/dev/fuse' }] } }, /devices/],
      [{ repositoryCredentials: { credentialsParameter: 'arn' } }, /repositoryCredentials/],
      [{ image: '' }, /has no image/],
    ];
    for (const [over, re] of cases) {
      const def: ContainerDef = { name: 'app', image: 'x', ...over };
      assert.match(refused(desired([def]), def), re);
    }
  });
});
