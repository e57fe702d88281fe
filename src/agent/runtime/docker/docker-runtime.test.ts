/**
 * The Docker runtime against a real engine: the shared contract, then what only Docker can show — a pull
 * with credentials from a registry, and a full spec accepted by the engine field by field. Skips (saying
 * why) only when no engine can be found or started.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BUSYBOX_IMAGE, TEST_PID_LABEL, busyboxImage, busyboxRootfs, dockerHostOrSkip, removeOrphanedTestContainers } from '../../../testing/docker.js';
import { startRegistryStub } from '../../../testing/registry-stub.js';
import { runtimeContract } from '../contract.js';
import type { Program } from '../contract.js';
import { RuntimeError } from '../runtime.js';
import type { ContainerSpec } from '../runtime.js';
import { DockerRuntime } from './docker-runtime.js';

const { host, skip } = await dockerHostOrSkip();

const labels = { [TEST_PID_LABEL]: String(process.pid) };
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Programs as busybox command lines. PID 1 gets no default signal handling, so SIGTERM needs a trap. */
function program(p: Program): Partial<ContainerSpec> {
  switch (p.kind) {
    case 'serve':
      return {
        command: ['sh', '-c', 'trap "exit 143" TERM; httpd -f -p 8080 & wait'],
        ...(p.health ? { healthCheck: { test: ['CMD-SHELL', p.health === 'pass' ? 'true' : 'false'], intervalSec: 1, timeoutSec: 5, retries: 2, startPeriodSec: 0 } } : {}),
      };
    case 'ignore-stop-signal':
      return { command: ['sh', '-c', 'trap "" TERM; sleep 600 & wait'] };
    case 'exit':
      return { command: ['sh', '-c', `exit ${p.code}`] };
    case 'oom':
      return { memoryMiB: 8, command: ['sh', '-c', 'a=x; while true; do a=$a$a; done'] };
    case 'print':
      return { command: ['sh', '-c', `echo ${quote(p.stdout)}; echo ${quote(p.stderr)} >&2; sleep 1; echo ${quote(p.late)}`] };
    case 'missing-executable':
      return { entryPoint: ['/gantry-contract/missing'], command: [] };
    case 'shell':
      return { command: ['sh', '-c', p.script] };
  }
}

async function cleanup(rt: DockerRuntime): Promise<void> {
  await Promise.all((await rt.listContainers(labels)).map((c) => rt.removeContainer(c.id)));
}

runtimeContract(
  'docker',
  {
    executes: true,
    async open() {
      const runtime = new DockerRuntime({ host: host! });
      await removeOrphanedTestContainers(runtime);
      return {
        runtime,
        image: await busyboxImage(runtime),
        // Loopback port 9 (discard) refuses connections at once: a fast, offline pull failure.
        unpullableImage: '127.0.0.1:9/gantry-contract/absent:1',
        labels,
        program,
        close: async () => {
          await cleanup(runtime);
          await runtime.close();
        },
      };
    },
  },
  skip ? { skip } : {},
);

describe('DockerRuntime against the engine', skip ? { skip } : {}, () => {
  let rt: DockerRuntime;
  before(async () => {
    rt = new DockerRuntime({ host: host! });
    await busyboxImage(rt);
  });
  after(async () => {
    await cleanup(rt);
    await rt.close();
  });

  it('pulls with registry credentials, reports the manifest digest, and fails without them', async () => {
    const registry = await startRegistryStub({ repository: 'gantry/busybox', tag: 'pulled', rootfsTar: busyboxRootfs(), username: 'ci', password: 's3cr3t+/=' });
    const image = `${registry.address}/gantry/busybox:pulled`;
    try {
      await assert.rejects(rt.pullImage(image), (e: unknown) => e instanceof RuntimeError && e.kind === 'CannotPullContainerError');
      await assert.rejects(rt.pullImage(image, { username: 'ci', password: 'wrong', serverAddress: registry.address }), RuntimeError);
      const { digest } = await rt.pullImage(image, { username: 'ci', password: 's3cr3t+/=', serverAddress: registry.address });
      assert.equal(digest, registry.digest);
      assert.ok(registry.authorizations.includes(`Basic ${Buffer.from('ci:s3cr3t+/=').toString('base64')}`));
      assert.equal(await rt.hasImage(image), true);

      const id = await rt.createContainer({ name: `gantry-pulled-${process.pid}`, image, labels, environment: {}, networkMode: 'none', portMappings: [], mounts: [], command: ['true'] });
      await rt.startContainer(id);
      assert.equal((await rt.inspectContainer(id))?.imageDigest, registry.digest);
      await rt.removeContainer(id);
    } finally {
      await registry.close();
      await rt.engine.request('DELETE', `/images/${encodeURIComponent(image)}`);
    }
  });

  it('creates a container from a full spec that the engine accepts field by field', async () => {
    const name = `gantry-fullspec-${process.pid}`;
    const id = await rt.createContainer({
      name,
      image: BUSYBOX_IMAGE,
      labels,
      command: ['sh', '-c', 'test "$(ulimit -n)" = 1024 && test "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" = 80 && sleep 600'],
      environment: { A: '1' },
      networkMode: 'bridge',
      portMappings: [],
      dnsServers: ['10.0.0.2'],
      dnsSearchDomains: ['gantry.internal'],
      extraHosts: [{ hostname: 'db', ipAddress: '10.0.0.9' }],
      cpuShares: 1,
      memoryMiB: 64,
      memoryReservationMiB: 32,
      ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }],
      initProcessEnabled: true,
      capabilities: { add: ['NET_ADMIN'], drop: ['MKNOD'] },
      sharedMemoryMiB: 16,
      mounts: [{ type: 'tmpfs', target: '/scratch', readOnly: false, sizeMiB: 8, mountOptions: ['noexec'] }],
      logDriver: { driver: 'json-file', options: { 'max-size': '1m' } },
      dockerSecurityOptions: ['no-new-privileges'],
      systemControls: [{ namespace: 'net.ipv4.ip_unprivileged_port_start', value: '80' }],
      stopSignal: 'SIGINT',
    });
    await rt.startContainer(id);
    const raw = await rt.engine.json<{ Config: Record<string, unknown>; HostConfig: Record<string, unknown>; State: { Status: string } }>('GET', `/containers/${id}/json`);
    const hc = raw.HostConfig;
    assert.equal(raw.State.Status, 'running', 'the limits and sysctl hold inside');
    assert.deepEqual(hc['Dns'], ['10.0.0.2']);
    assert.deepEqual(hc['DnsSearch'], ['gantry.internal']);
    assert.deepEqual(hc['ExtraHosts'], ['db:10.0.0.9']);
    assert.equal(hc['CpuShares'], 2);
    assert.equal(hc['Memory'], 64 * 1024 * 1024);
    assert.equal(hc['MemoryReservation'], 32 * 1024 * 1024);
    assert.deepEqual(hc['Ulimits'], [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
    assert.equal(hc['Init'], true);
    assert.deepEqual(hc['CapAdd'], ['NET_ADMIN']);
    assert.deepEqual(hc['CapDrop'], ['MKNOD']);
    assert.equal(hc['ShmSize'], 16 * 1024 * 1024);
    assert.deepEqual(hc['Tmpfs'], { '/scratch': 'rw,size=8m,noexec' });
    assert.deepEqual(hc['LogConfig'], { Type: 'json-file', Config: { 'max-size': '1m' } });
    assert.deepEqual(hc['SecurityOpt'], ['no-new-privileges']);
    assert.deepEqual(hc['Sysctls'], { 'net.ipv4.ip_unprivileged_port_start': '80' });
    assert.equal(raw.Config['StopSignal'], 'SIGINT');
    await rt.stopContainer(id, 5);
    // docker-init passes SIGINT on to the shell, which dies of it: 128 + 2.
    assert.equal((await rt.inspectContainer(id))?.exitCode, 130);
    await rt.removeContainer(id);
  });
});
