import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dockerTime, portBindings, toContainerStatus } from './inspect.js';
import type { ContainerInspect } from './inspect.js';

const ZERO = '0001-01-01T00:00:00Z';
const created: ContainerInspect = {
  Id: 'abc',
  Name: '/ecs-web-1-app-0123',
  Image: 'sha256:img',
  Config: { Image: 'nginx:1.27', Labels: { a: 'b' } },
  State: { Status: 'created', ExitCode: 0, OOMKilled: false, Error: '', StartedAt: ZERO, FinishedAt: ZERO },
  NetworkSettings: { Ports: {} },
};

describe('toContainerStatus', () => {
  it('leaves out what has not happened yet: no exit code, no times, no health', () => {
    assert.deepEqual(toContainerStatus(created), {
      id: 'abc',
      name: 'ecs-web-1-app-0123',
      image: 'nginx:1.27',
      labels: { a: 'b' },
      state: 'created',
      oomKilled: false,
      health: 'none',
      ports: [],
    });
  });

  it('reports an exited container with its exit code, OOM flag, times in epoch ms and health', () => {
    const s = toContainerStatus(
      {
        ...created,
        Config: { Image: 'nginx:1.27', Labels: null },
        State: { Status: 'exited', ExitCode: 137, OOMKilled: true, StartedAt: '2024-05-01T10:00:00.5Z', FinishedAt: '2024-05-01T10:00:02.123456789Z', Health: { Status: 'unhealthy' } },
      },
      'sha256:digest',
    );
    assert.equal(s.exitCode, 137);
    assert.equal(s.oomKilled, true);
    assert.equal(s.startedAt, Date.parse('2024-05-01T10:00:00.5Z'));
    assert.equal(s.finishedAt, Date.parse('2024-05-01T10:00:02.123Z'));
    assert.equal(s.health, 'unhealthy');
    assert.equal(s.imageDigest, 'sha256:digest');
    assert.deepEqual(s.labels, {});
  });

  it('keeps the error of a failed start but no exit code, since the process never ran', () => {
    const s = toContainerStatus({ ...created, State: { ...created.State, ExitCode: 127, Error: 'exec: "x": not found' } });
    assert.equal(s.exitCode, undefined);
    assert.equal(s.error, 'exec: "x": not found');
  });
});

describe('portBindings', () => {
  it('lists every published address, skipping ports that are only exposed', () => {
    assert.deepEqual(
      portBindings({
        '8080/tcp': [
          { HostIp: '0.0.0.0', HostPort: '32768' },
          { HostIp: '::', HostPort: '32768' },
        ],
        '53/udp': [{ HostIp: '0.0.0.0', HostPort: '5353' }],
        '9000/tcp': null,
      }),
      [
        { containerPort: 53, hostPort: 5353, protocol: 'udp', hostIp: '0.0.0.0' },
        { containerPort: 8080, hostPort: 32768, protocol: 'tcp', hostIp: '0.0.0.0' },
        { containerPort: 8080, hostPort: 32768, protocol: 'tcp', hostIp: '::' },
      ],
    );
    assert.deepEqual(portBindings(null), []);
  });
});

describe('dockerTime', () => {
  it('treats Go\'s zero time as unset', () => {
    assert.equal(dockerTime(ZERO), undefined);
    assert.equal(dockerTime(undefined), undefined);
    assert.equal(dockerTime('garbage'), undefined);
    assert.equal(dockerTime('2024-05-01T10:00:00Z'), Date.parse('2024-05-01T10:00:00Z'));
  });
});
