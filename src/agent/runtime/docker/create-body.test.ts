import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSpec } from '../runtime.js';
import { toCreateBody } from './create-body.js';

const MiB = 1024 * 1024;
const minimal: ContainerSpec = {
  name: 'ecs-web-3-app-0123',
  image: 'nginx:1.27',
  labels: { 'com.gantry.task-arn': 'arn:aws:ecs:eu-west-1:1:task/c/0123' },
  environment: {},
  networkMode: 'bridge',
  portMappings: [],
  mounts: [],
};

describe('toCreateBody', () => {
  it('maps a minimal spec to a minimal body, leaving the image defaults alone', () => {
    assert.deepEqual(toCreateBody(minimal), {
      Image: 'nginx:1.27',
      Labels: { 'com.gantry.task-arn': 'arn:aws:ecs:eu-west-1:1:task/c/0123' },
      Env: [],
      HostConfig: { NetworkMode: 'bridge' },
    });
  });

  it('maps process settings: command, entry point, environment, directory, user, hostname, TTY', () => {
    const b = toCreateBody({
      ...minimal,
      command: ['-g', 'daemon off;'],
      entryPoint: ['nginx'],
      environment: { A: '1', B: 'x=y' },
      workingDirectory: '/srv',
      user: '101:101',
      hostname: 'web',
      interactive: true,
      pseudoTerminal: false,
      stopSignal: 'SIGQUIT',
    });
    assert.deepEqual(b.Cmd, ['-g', 'daemon off;']);
    assert.deepEqual(b.Entrypoint, ['nginx']);
    assert.deepEqual(b.Env, ['A=1', 'B=x=y']);
    assert.equal(b.WorkingDir, '/srv');
    assert.equal(b.User, '101:101');
    assert.equal(b.Hostname, 'web');
    assert.equal(b.OpenStdin, true);
    assert.equal(b.Tty, false);
    assert.equal(b.StopSignal, 'SIGQUIT');
  });

  it('publishes static and dynamic ports in bridge mode, and none in host or none mode', () => {
    const portMappings = [
      { containerPort: 80, hostPort: 8080, protocol: 'tcp' as const },
      { containerPort: 443, protocol: 'tcp' as const },
      { containerPort: 53, hostPort: 0, protocol: 'udp' as const },
      { containerPort: 80, hostPort: 8081, protocol: 'tcp' as const },
    ];
    const b = toCreateBody({ ...minimal, portMappings });
    assert.deepEqual(b.HostConfig.PortBindings, {
      '80/tcp': [
        { HostIp: '', HostPort: '8080' },
        { HostIp: '', HostPort: '8081' },
      ],
      '443/tcp': [{ HostIp: '', HostPort: '' }],
      '53/udp': [{ HostIp: '', HostPort: '' }],
    });
    assert.deepEqual(b.ExposedPorts, { '80/tcp': {}, '443/tcp': {}, '53/udp': {} });
    for (const networkMode of ['host', 'none'] as const) {
      const other = toCreateBody({ ...minimal, networkMode, portMappings });
      assert.equal(other.HostConfig.NetworkMode, networkMode);
      assert.equal(other.HostConfig.PortBindings, undefined);
      assert.equal(other.ExposedPorts, undefined);
    }
  });

  it('maps resources: CPU shares (at least 2), memory and reservation in bytes, ulimits, shm', () => {
    const hc = toCreateBody({
      ...minimal,
      cpuShares: 0,
      memoryMiB: 512,
      memoryReservationMiB: 256,
      ulimits: [{ name: 'nofile', soft: 1024, hard: 4096 }],
      sharedMemoryMiB: 64,
    }).HostConfig;
    assert.equal(hc.CpuShares, 2);
    assert.equal(hc.Memory, 512 * MiB);
    assert.equal(hc.MemoryReservation, 256 * MiB);
    assert.deepEqual(hc.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 4096 }]);
    assert.equal(hc.ShmSize, 64 * MiB);
    assert.equal(toCreateBody({ ...minimal, cpuShares: 512 }).HostConfig.CpuShares, 512);
    assert.equal(toCreateBody(minimal).HostConfig.CpuShares, undefined);
  });

  it('maps binds, volumes and tmpfs each to the field that keeps ECS semantics', () => {
    const hc = toCreateBody({
      ...minimal,
      mounts: [
        { type: 'bind', source: '/srv/data', target: '/data', readOnly: false },
        { type: 'bind', source: '/etc/conf', target: '/conf', readOnly: true },
        { type: 'volume', source: 'shared', target: '/shared', readOnly: true },
        { type: 'volume', target: '/anon', readOnly: false },
        { type: 'tmpfs', target: '/run', readOnly: false, sizeMiB: 64, mountOptions: ['noexec', 'nosuid'] },
        { type: 'tmpfs', target: '/ro', readOnly: true },
      ],
      volumesFrom: [
        { containerId: 'abc', readOnly: true },
        { containerId: 'def', readOnly: false },
      ],
    }).HostConfig;
    assert.deepEqual(hc.Binds, ['/srv/data:/data', '/etc/conf:/conf:ro']);
    assert.deepEqual(hc.Mounts, [
      { Type: 'volume', Source: 'shared', Target: '/shared', ReadOnly: true },
      { Type: 'volume', Target: '/anon', ReadOnly: false },
    ]);
    assert.deepEqual(hc.Tmpfs, { '/run': 'rw,size=64m,noexec,nosuid', '/ro': 'ro' });
    assert.deepEqual(hc.VolumesFrom, ['abc:ro', 'def:rw']);
    assert.throws(() => toCreateBody({ ...minimal, mounts: [{ type: 'bind', target: '/x', readOnly: false }] }), /no source/);
  });

  it('maps security, namespaces, DNS, links, logging and sysctls', () => {
    const hc = toCreateBody({
      ...minimal,
      privileged: true,
      readonlyRootFilesystem: true,
      initProcessEnabled: true,
      capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
      dockerSecurityOptions: ['no-new-privileges', 'apparmor=unconfined'],
      pidMode: 'host',
      ipcMode: 'none',
      dnsServers: ['10.0.0.2'],
      dnsSearchDomains: ['svc.local'],
      extraHosts: [{ hostname: 'db', ipAddress: '10.0.0.9' }],
      links: ['ecs-web-3-db-0123:db'],
      logDriver: { driver: 'json-file', options: { 'max-size': '10m' } },
      systemControls: [{ namespace: 'net.core.somaxconn', value: '1024' }],
    }).HostConfig;
    assert.equal(hc.Privileged, true);
    assert.equal(hc.ReadonlyRootfs, true);
    assert.equal(hc.Init, true);
    assert.deepEqual([hc.CapAdd, hc.CapDrop], [['NET_ADMIN'], ['ALL']]);
    assert.deepEqual(hc.SecurityOpt, ['no-new-privileges', 'apparmor=unconfined']);
    assert.deepEqual([hc.PidMode, hc.IpcMode], ['host', 'none']);
    assert.deepEqual([hc.Dns, hc.DnsSearch, hc.ExtraHosts], [['10.0.0.2'], ['svc.local'], ['db:10.0.0.9']]);
    assert.deepEqual(hc.Links, ['ecs-web-3-db-0123:db']);
    assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m' } });
    assert.deepEqual(hc.Sysctls, { 'net.core.somaxconn': '1024' });
  });

  it('gives health check durations in nanoseconds', () => {
    const b = toCreateBody({ ...minimal, healthCheck: { test: ['CMD-SHELL', 'curl -f localhost || exit 1'], intervalSec: 30, timeoutSec: 5, retries: 3, startPeriodSec: 0.5 } });
    assert.deepEqual(b.Healthcheck, { Test: ['CMD-SHELL', 'curl -f localhost || exit 1'], Interval: 30e9, Timeout: 5e9, Retries: 3, StartPeriod: 5e8 });
  });
});
