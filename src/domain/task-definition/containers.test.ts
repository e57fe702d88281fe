import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import type { ContainerEnv } from './containers.js';
import { normaliseContainer, normaliseHealthCheck } from './containers.js';
import { expectApiError } from './testing.js';

const bridge: ContainerEnv = { networkMode: 'bridge', os: 'LINUX', taskMemory: undefined };
const awsvpc: ContainerEnv = { networkMode: 'awsvpc', os: 'LINUX', taskMemory: 2048 };
const base: ContainerDefinition = { name: 'web', image: 'nginx:1.27', memory: 256 };

const normalise = (patch: Partial<ContainerDefinition>, env: ContainerEnv = bridge) => normaliseContainer({ ...base, ...patch }, env);

describe('normaliseContainer defaults', () => {
  it('fills in what ECS echoes back for a minimal container', () => {
    assert.deepEqual(normaliseContainer(base, bridge), {
      name: 'web',
      image: 'nginx:1.27',
      memory: 256,
      cpu: 0,
      essential: true,
      portMappings: [],
      environment: [],
      mountPoints: [],
      volumesFrom: [],
      systemControls: [],
    });
  });

  it('keeps given values, including essential false, and does not alias the input', () => {
    const input: ContainerDefinition = { ...base, cpu: 128, essential: false, environment: [{ name: 'A', value: '1' }] };
    const out = normaliseContainer(input, bridge);
    assert.equal(out.cpu, 128);
    assert.equal(out.essential, false);
    out.environment.push({ name: 'B', value: '2' });
    assert.equal(input.environment?.length, 1);
  });
});

describe('container name and image', () => {
  it('requires a name matching the ECS pattern', () => {
    expectApiError(() => normalise({ name: '' }), 'ClientException', 'Container.name should not be null or empty.');
    expectApiError(() => normalise({ name: 'bad name' }), 'ClientException', "Invalid container name 'bad name'");
    expectApiError(() => normalise({ name: 'x'.repeat(256) }), 'ClientException', 'Up to 255 letters');
    assert.equal(normalise({ name: 'a_b-C9' }).name, 'a_b-C9');
  });

  it('requires an image', () => {
    expectApiError(() => normalise({ image: '' }), 'ClientException', 'Container.image should not be null or empty.');
    expectApiError(() => normalise({ image: undefined }), 'ClientException', 'Container.image should not be null or empty.');
  });

  it('limits the image name to 255 characters before any digest', () => {
    normalise({ image: 'r/' + 'a'.repeat(253) });
    expectApiError(() => normalise({ image: 'r/' + 'a'.repeat(254) }), 'ClientException', 'at most 255 characters');
    normalise({ image: 'r/' + 'a'.repeat(253) + '@sha256:' + 'ab'.repeat(32) });
  });

  it('accepts only sha256 digests with 64 hex characters and the documented characters', () => {
    normalise({ image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:' + 'F0'.repeat(32) });
    expectApiError(() => normalise({ image: 'app@sha256:abc' }), 'ClientException', "'sha256:' followed by exactly 64");
    expectApiError(() => normalise({ image: 'app@md5:' + 'a'.repeat(64) }), 'ClientException', 'A digest must be');
    expectApiError(() => normalise({ image: 'my app:latest' }), 'ClientException', "Invalid 'image' setting for container 'web'");
  });
});

describe('container cpu and memory', () => {
  it('rejects negative cpu', () => {
    expectApiError(() => normalise({ cpu: -1 }), 'ClientException', "Invalid 'cpu' setting for container 'web'");
  });

  it('requires memory or memoryReservation without task memory (EC2 rule)', () => {
    expectApiError(
      () => normalise({ memory: undefined }),
      'ClientException',
      "Invalid setting for container 'web'. At least one of 'memory' or 'memoryReservation' must be specified.",
    );
    normalise({ memory: undefined, memoryReservation: 128 });
    normalise({ memory: undefined }, { ...bridge, taskMemory: 512 });
  });

  it('requires at least 6 MiB', () => {
    expectApiError(() => normalise({ memory: 4 }), 'ClientException', "'memory' must be at least 6 MiB");
    expectApiError(() => normalise({ memory: undefined, memoryReservation: 5 }), 'ClientException', "'memoryReservation' must be at least 6 MiB");
    normalise({ memory: 6 });
  });

  it('requires memory to be at least memoryReservation (equal is accepted)', () => {
    expectApiError(() => normalise({ memory: 128, memoryReservation: 256 }), 'ClientException', "'memory' must be greater than or equal to 'memoryReservation'");
    normalise({ memory: 256, memoryReservation: 256 });
    normalise({ memory: 512, memoryReservation: 256 });
  });

  it('rejects a container hard limit above the task memory', () => {
    expectApiError(() => normalise({ memory: 4096 }, awsvpc), 'ClientException', "The 'memory' setting for container 'web' is greater than for the task.");
  });
});

describe('network-mode dependent container parameters', () => {
  it('allows links only in bridge mode', () => {
    normalise({ links: ['db:database'] });
    expectApiError(() => normalise({ links: ['db'] }, awsvpc), 'ClientException', 'Links are not supported when networkMode=awsvpc.');
    expectApiError(() => normalise({ links: ['db'] }, { ...bridge, networkMode: 'host' }), 'ClientException', 'networkMode=host');
    normalise({ links: [] }, awsvpc);
  });

  it('rejects hostname, DNS settings and extra hosts with awsvpc', () => {
    normalise({ hostname: 'web' });
    expectApiError(() => normalise({ hostname: 'web' }, awsvpc), 'ClientException', 'Hostname is not supported on container when networkMode=awsvpc.');
    expectApiError(() => normalise({ dnsServers: ['10.0.0.2'] }, awsvpc), 'ClientException', 'DNS servers are not supported');
    expectApiError(() => normalise({ dnsSearchDomains: ['corp'] }, awsvpc), 'ClientException', 'DNS search domains are not supported');
    expectApiError(() => normalise({ extraHosts: [{ hostname: 'h', ipAddress: '10.0.0.1' }] }, awsvpc), 'ClientException', 'Extra hosts are not supported');
    normalise({ dnsServers: [], extraHosts: [] }, awsvpc);
  });
});

describe('Windows containers', () => {
  const windows: ContainerEnv = { ...awsvpc, os: 'WINDOWS' };
  it('refuse Linux-only parameters', () => {
    expectApiError(() => normalise({ linuxParameters: { initProcessEnabled: true } }, windows), 'ClientException', "'linuxParameters' parameter is not supported for Windows");
    expectApiError(() => normalise({ privileged: true }, windows), 'ClientException', "'privileged' parameter is not supported for Windows");
    normalise({ privileged: false }, windows);
  });
});

describe('ulimits', () => {
  it('rejects duplicates and a soft limit above the hard limit, treating -1 as unlimited', () => {
    normalise({ ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }, { name: 'memlock', softLimit: -1, hardLimit: -1 }] });
    expectApiError(
      () => normalise({ ulimits: [{ name: 'nofile', softLimit: 1, hardLimit: 2 }, { name: 'nofile', softLimit: 1, hardLimit: 2 }] }),
      'ClientException',
      "Ulimit 'nofile' is specified more than once",
    );
    expectApiError(() => normalise({ ulimits: [{ name: 'nproc', softLimit: 10, hardLimit: 5 }] }), 'ClientException', 'soft limit of');
    expectApiError(() => normalise({ ulimits: [{ name: 'nproc', softLimit: -1, hardLimit: 5 }] }), 'ClientException', 'soft limit of');
  });
});

describe('timeouts', () => {
  it('rejects negative start and stop timeouts', () => {
    normalise({ startTimeout: 0, stopTimeout: 600 });
    expectApiError(() => normalise({ startTimeout: -1 }), 'ClientException', "Invalid 'startTimeout' setting");
    expectApiError(() => normalise({ stopTimeout: -5 }), 'ClientException', "Invalid 'stopTimeout' setting");
  });
});

describe('resourceRequirements', () => {
  it('requires a positive integer (or ALL) for GPU', () => {
    normalise({ resourceRequirements: [{ type: 'GPU', value: '2' }] });
    normalise({ resourceRequirements: [{ type: 'GPU', value: 'ALL' }] });
    for (const bad of ['0', '-1', '1.5', 'two', '']) {
      expectApiError(() => normalise({ resourceRequirements: [{ type: 'GPU', value: bad }] }), 'ClientException', 'The GPU value must be a positive integer');
    }
  });

  it('rejects a type given twice and NeuronDevice other than ALL', () => {
    expectApiError(
      () => normalise({ resourceRequirements: [{ type: 'GPU', value: '1' }, { type: 'GPU', value: '1' }] }),
      'ClientException',
      "Resource type 'GPU' is specified more than once",
    );
    expectApiError(() => normalise({ resourceRequirements: [{ type: 'NeuronDevice', value: '1' }] }), 'ClientException', 'NeuronDevice value must be ALL');
  });
});

describe('documented list limits', () => {
  it('caps environment files, credential specs and restart-policy exit codes', () => {
    const file = { type: 's3' as const, value: 'arn:aws:s3:::bucket/a.env' };
    expectApiError(() => normalise({ environmentFiles: Array(11).fill(file) }), 'ClientException', 'At most 10 environment files');
    expectApiError(() => normalise({ credentialSpecs: ['credentialspec:a', 'credentialspec:b'] }), 'ClientException', 'At most 1 credential spec');
    expectApiError(
      () => normalise({ restartPolicy: { enabled: true, ignoredExitCodes: Array(51).fill(1) } }),
      'ClientException',
      'At most 50 ignored exit codes',
    );
  });

  it('bounds restartAttemptPeriod to 60–1800 seconds', () => {
    normalise({ restartPolicy: { enabled: true, restartAttemptPeriod: 60 } });
    expectApiError(() => normalise({ restartPolicy: { enabled: true, restartAttemptPeriod: 59 } }), 'ClientException', "'restartAttemptPeriod' must be between 60 and 1800");
  });

  it('requires sourceVolume and containerPath on mount points and sourceContainer on volumesFrom', () => {
    expectApiError(() => normalise({ mountPoints: [{ sourceVolume: 'data' }] }), 'ClientException', "needs both 'sourceVolume' and 'containerPath'");
    expectApiError(() => normalise({ volumesFrom: [{ readOnly: true }] }), 'ClientException', "needs a 'sourceContainer'");
  });

  it('checks linuxParameters ranges', () => {
    normalise({ linuxParameters: { maxSwap: 0, swappiness: 100, sharedMemorySize: 64 } });
    expectApiError(() => normalise({ linuxParameters: { swappiness: 101 } }), 'ClientException', "'swappiness' must be between 0 and 100");
    expectApiError(() => normalise({ linuxParameters: { maxSwap: -1 } }), 'ClientException', "'maxSwap' must be 0 or a positive integer");
    expectApiError(() => normalise({ linuxParameters: { tmpfs: [{ containerPath: '/t', size: 0 }] } }), 'ClientException', "positive 'size'");
  });
});

describe('normaliseHealthCheck', () => {
  it('applies the ECS defaults and leaves startPeriod off', () => {
    assert.deepEqual(normaliseHealthCheck('web', { command: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'] }), {
      command: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
      interval: 30,
      timeout: 5,
      retries: 3,
    });
  });

  it('keeps given values at the bounds', () => {
    const hc = { command: ['CMD', 'true'], interval: 5, timeout: 60, retries: 10, startPeriod: 300 };
    assert.deepEqual(normaliseHealthCheck('web', hc), hc);
    assert.deepEqual(normaliseHealthCheck('web', { ...hc, interval: 300, timeout: 2, retries: 1, startPeriod: 0 }).startPeriod, 0);
  });

  it('rejects each bound with ClientException naming the field', () => {
    const cmd = ['CMD', 'true'];
    expectApiError(() => normaliseHealthCheck('web', { command: cmd, interval: 4 }), 'ClientException', "'interval' must be between 5 and 300");
    expectApiError(() => normaliseHealthCheck('web', { command: cmd, interval: 301 }), 'ClientException', "'interval' must be between 5 and 300");
    expectApiError(() => normaliseHealthCheck('web', { command: cmd, timeout: 1 }), 'ClientException', "'timeout' must be between 2 and 60");
    expectApiError(() => normaliseHealthCheck('web', { command: cmd, timeout: 61 }), 'ClientException', "'timeout' must be between 2 and 60");
    expectApiError(() => normaliseHealthCheck('web', { command: cmd, retries: 0 }), 'ClientException', "'retries' must be between 1 and 10");
    expectApiError(() => normaliseHealthCheck('web', { command: cmd, retries: 11 }), 'ClientException', "'retries' must be between 1 and 10");
    expectApiError(() => normaliseHealthCheck('web', { command: cmd, startPeriod: 301 }), 'ClientException', "'startPeriod' must be between 0 and 300");
  });

  it('requires CMD or CMD-SHELL followed by a command', () => {
    expectApiError(() => normaliseHealthCheck('web', { command: ['curl', 'localhost'] }), 'ClientException', 'must start with CMD or CMD-SHELL');
    expectApiError(() => normaliseHealthCheck('web', { command: ['CMD-SHELL'] }), 'ClientException', 'must start with CMD or CMD-SHELL');
    expectApiError(() => normaliseHealthCheck('web', { command: ['NONE'] }), 'ClientException', "Invalid 'healthCheck' setting for container 'web'");
  });

  it('is applied by normaliseContainer', () => {
    assert.equal(normalise({ healthCheck: { command: ['CMD', 'true'] } }).healthCheck?.retries, 3);
  });
});
