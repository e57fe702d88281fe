import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileAgentConfig, duration } from './agent-config.js';
import { ConfigError } from './server-config.js';

const env = { XDG_DATA_HOME: '/data' };
const compile = (flags: Parameters<typeof compileAgentConfig>[0], e: NodeJS.ProcessEnv = env, localAddresses: string[] = ['10.0.0.9']) =>
  compileAgentConfig(flags, { env: e, localAddresses });

describe('compileAgentConfig', () => {
  it('defaults', () => {
    const c = compile({ endpoint: 'http://10.0.0.5:7400' });
    assert.equal(c.endpoint, 'http://10.0.0.5:7400');
    assert.equal(c.cluster, 'default');
    assert.equal(c.region, 'us-east-1');
    assert.equal(c.registrationKey, undefined);
    assert.deepEqual(c.reservedPorts, [22, 2375, 2376, 51678, 51679]);
    assert.deepEqual(c.reservedPortsUdp, []);
    assert.equal(c.reservedMemoryMiB, 0);
    assert.equal(c.runtime, 'docker');
    assert.equal(c.dockerHost, 'unix:///var/run/docker.sock');
    assert.equal(c.containerStopTimeoutSec, 30);
    assert.equal(c.containerStartTimeoutSec, 180);
    assert.equal(c.containerCleanupAfterMs, 3_600_000);
    assert.equal(c.imagePullBehavior, 'default');
    assert.equal(c.stateDir, '/data/gantry/agent');
    assert.equal(c.fake, undefined);
    assert.ok(Object.isFrozen(c));
  });

  it("reserves the server's port when the server runs on this host", () => {
    assert.deepEqual(compile({ endpoint: 'http://127.0.0.1:7400' }).reservedPorts, [22, 2375, 2376, 7400, 51678, 51679]);
    assert.ok(compile({ endpoint: 'http://10.0.0.9:9000' }).reservedPorts.includes(9000), 'one of this host\'s addresses');
    assert.ok(!compile({ endpoint: 'http://10.0.0.5:9000' }).reservedPorts.includes(9000));
    assert.deepEqual(compile({ endpoint: 'http://127.0.0.1:7400', 'reserved-ports': '22,80' }).reservedPorts, [22, 80]);
  });

  it('join token, else access key from the environment', () => {
    assert.deepEqual(compile({ endpoint: 'http://h:1', 'join-token': 'GJTKABC:s3cr:et' }).registrationKey, { accessKeyId: 'GJTKABC', secretAccessKey: 's3cr:et' });
    assert.deepEqual(compile({ endpoint: 'http://h:1' }, { ...env, GANTRY_JOIN_TOKEN: 'A:B' }).registrationKey, { accessKeyId: 'A', secretAccessKey: 'B' });
    assert.deepEqual(compile({ endpoint: 'http://h:1' }, { ...env, AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' }).registrationKey, { accessKeyId: 'AK', secretAccessKey: 'SK' });
    assert.throws(() => compile({ endpoint: 'http://h:1', 'join-token': 'nocolon' }), /--join-token must look like/);
  });

  it('attributes, durations, zones', () => {
    const c = compile({
      endpoint: 'http://h:1',
      attribute: ['stack=prod', 'ssd'],
      zone: 'eu-1a',
      'instance-type': 'm5.large',
      'container-stop-timeout': '2m',
      'container-cleanup-after': '90s',
      'reserved-memory': '256',
    });
    assert.deepEqual(c.attributes, [{ name: 'stack', value: 'prod' }, { name: 'ssd' }]);
    assert.equal(c.zone, 'eu-1a');
    assert.equal(c.instanceType, 'm5.large');
    assert.equal(c.containerStopTimeoutSec, 120);
    assert.equal(c.containerCleanupAfterMs, 90_000);
    assert.equal(c.reservedMemoryMiB, 256);
    assert.equal(duration('x', '45'), 45_000);
    assert.equal(duration('x', '250ms'), 250);
  });

  it('hollow instances', () => {
    const c = compile({ endpoint: 'http://h:1', runtime: 'fake', instances: '5000', cpu: '4096', memory: '8192', zones: 'a, b,c', 'instance-types': 't1', 'start-delay': '50' });
    assert.deepEqual(c.fake, { instances: 5000, cpu: 4096, memoryMiB: 8192, zones: ['a', 'b', 'c'], instanceTypes: ['t1'], startDelayMs: 50 });
    assert.equal(c.stateDir, '/data/gantry/hollow-agents');
  });

  it('refuses bad input with a specific message', () => {
    const cases: [Parameters<typeof compile>[0], RegExp][] = [
      [{}, /--endpoint is required/],
      [{ endpoint: 'not a url' }, /--endpoint must be a URL/],
      [{ endpoint: 'ftp://h' }, /http or https/],
      [{ endpoint: 'http://h', cluster: 'bad name' }, /--cluster/],
      [{ endpoint: 'http://h', region: 'mars' }, /--region/],
      [{ endpoint: 'http://h', attribute: ['ecs.os-type=x'] }, /set by the agent itself/],
      [{ endpoint: 'http://h', attribute: ['a=b!'] }, /--attribute value/],
      [{ endpoint: 'http://h', 'reserved-memory': '-1' }, /--reserved-memory/],
      [{ endpoint: 'http://h', 'reserved-ports': '22,70000' }, /--reserved-ports/],
      [{ endpoint: 'http://h', runtime: 'podman' }, /--runtime must be docker or fake/],
      [{ endpoint: 'http://h', 'container-stop-timeout': 'soon' }, /duration/],
      [{ endpoint: 'http://h', 'image-pull-behavior': 'sometimes' }, /--image-pull-behavior/],
      [{ endpoint: 'http://h', instances: '3' }, /only for --runtime fake/],
      [{ endpoint: 'http://h', runtime: 'fake', instances: '0' }, /--instances/],
    ];
    for (const [flags, re] of cases) assert.throws(() => compile(flags), (e: Error) => e instanceof ConfigError && re.test(e.message), JSON.stringify(flags));
  });
});
