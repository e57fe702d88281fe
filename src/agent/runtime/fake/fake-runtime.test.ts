import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runtimeContract } from '../contract.js';
import type { Program } from '../contract.js';
import { RuntimeError } from '../runtime.js';
import type { ContainerSpec, RuntimeEvent } from '../runtime.js';
import { behaviourLabel } from './behaviour.js';
import type { FakeBehaviour } from './behaviour.js';
import { FakeRuntime } from './fake-runtime.js';

const IMAGE = 'gantry-test/busybox:1';
const UNPULLABLE = 'registry.invalid/gantry/absent:1';

/** Programs as behaviour labels. Health intervals and stop timeouts run at 1/20 of real time. */
function program(p: Program): Partial<ContainerSpec> {
  const as = (b: FakeBehaviour, extra: Partial<ContainerSpec> = {}): Partial<ContainerSpec> => ({ ...extra, labels: behaviourLabel(b) });
  switch (p.kind) {
    case 'serve':
      return p.health ? as({ health: p.health }, { healthCheck: { test: ['CMD-SHELL', 'true'], intervalSec: 1, timeoutSec: 5, retries: 2, startPeriodSec: 0 } }) : {};
    case 'ignore-stop-signal':
      return as({ ignoreStopSignal: true });
    case 'exit':
      return as({ script: [{ afterMs: 10, exit: p.code }] });
    case 'oom':
      return as({ script: [{ afterMs: 10, oom: true }] }, { memoryMiB: 8 });
    case 'print':
      return as({
        script: [
          { afterMs: 0, log: p.stdout },
          { afterMs: 0, log: p.stderr, stream: 'stderr' },
          { afterMs: 400, log: p.late },
          { afterMs: 400, exit: 0 },
        ],
      });
    case 'missing-executable':
      return as({ startError: 'exec: "/gantry-contract/missing": stat /gantry-contract/missing: no such file or directory' });
    case 'shell':
      return {};
  }
}

runtimeContract('fake', {
  executes: false,
  async open() {
    const runtime = new FakeRuntime({ images: [IMAGE], startDelayMs: 2, timeScale: 0.05 });
    runtime.control.failPulls(UNPULLABLE, 'dial tcp: lookup registry.invalid: no such host');
    return { runtime, image: IMAGE, unpullableImage: UNPULLABLE, labels: {}, program, close: () => runtime.close() };
  },
});

const base = (name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name,
  image: IMAGE,
  labels: {},
  environment: {},
  networkMode: 'bridge',
  portMappings: [],
  mounts: [],
  ...extra,
});

describe('FakeRuntime', () => {
  it('pulls instantly with a stable digest, and creates only from images it has', async () => {
    const rt = new FakeRuntime();
    await assert.rejects(rt.createContainer(base('a', { image: 'app:1' })), RuntimeError);
    const { digest } = await rt.pullImage('app:1');
    assert.match(digest!, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(await rt.pullImage('app:1'), { digest });
    const id = await rt.createContainer(base('a', { image: 'app:1' }));
    assert.equal((await rt.inspectContainer(id))?.imageDigest, digest);
  });

  it('is driven through its control API: exit, OOM, health, start failures, log lines', async () => {
    const rt = new FakeRuntime({ images: [IMAGE], timeScale: 0.01 });
    const events: RuntimeEvent[] = [];
    rt.subscribe((e) => events.push(e));
    const id = await rt.createContainer(base('c', { healthCheck: { test: ['CMD', 'true'], intervalSec: 1, timeoutSec: 1, retries: 1, startPeriodSec: 0 } }));
    await rt.startContainer(id);
    rt.control.log(id, 'hello', 'stderr');
    rt.control.setHealth(id, 'fail');
    await waitFor(async () => (await rt.inspectContainer(id))?.health === 'unhealthy');
    rt.control.setHealth(id, 'pass');
    await waitFor(async () => (await rt.inspectContainer(id))?.health === 'healthy');
    rt.control.oom(id);
    const c = await rt.inspectContainer(id);
    assert.equal(c?.exitCode, 137);
    assert.equal(c.oomKilled, true);

    rt.control.failStarts(id, 'boom');
    await assert.rejects(rt.startContainer(id), /CannotStartContainerError: boom/);
    rt.control.failStarts(id, undefined);
    await rt.startContainer(id);
    rt.control.exit(id, 2);
    assert.equal((await rt.inspectContainer(id))?.exitCode, 2);
    assert.equal((await rt.inspectContainer(id))?.oomKilled, false, 'a new run clears the OOM flag');

    const lines = [];
    for await (const l of rt.logs(id, { follow: false })) lines.push(l);
    assert.deepEqual(lines.map((l) => [l.stream, l.line]), [['stderr', 'hello']]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      events.map((e) => e.type + (e.type === 'health' ? `:${e.health}` : e.type === 'die' ? `:${e.exitCode}` : '')),
      ['start', 'health:unhealthy', 'health:healthy', 'oom', 'die:137', 'start', 'die:2'],
    );
  });

  it('exits with 128 + the stop signal, or 137 at once for SIGKILL', async () => {
    const rt = new FakeRuntime({ images: [IMAGE] });
    for (const [signal, code] of [[undefined, 143], ['SIGINT', 130], ['QUIT', 131], ['SIGKILL', 137]] as const) {
      const id = await rt.createContainer(base(`s-${signal}`, signal ? { stopSignal: signal } : {}));
      await rt.startContainer(id);
      await rt.stopContainer(id, 30);
      assert.equal((await rt.inspectContainer(id))?.exitCode, code, String(signal));
    }
  });

  it('allocates dynamic host ports from 32768 per host, round-robin', async () => {
    const rt = new FakeRuntime({ images: [IMAGE] });
    const ports = [{ containerPort: 80, protocol: 'tcp' as const }];
    const a = await rt.createContainer(base('a', { portMappings: ports }));
    const b = await rt.createContainer(base('b', { portMappings: ports }));
    await rt.startContainer(a);
    await rt.startContainer(b);
    assert.equal((await rt.inspectContainer(a))?.ports[0]?.hostPort, 32768);
    assert.equal((await rt.inspectContainer(b))?.ports[0]?.hostPort, 32769);
    await rt.stopContainer(a, 0);
    await rt.startContainer(a);
    assert.equal((await rt.inspectContainer(a))?.ports[0]?.hostPort, 32770, 'a released port is not reused at once');
    const other = new FakeRuntime({ images: [IMAGE] });
    const c = await other.createContainer(base('c', { portMappings: ports }));
    await other.startContainer(c);
    assert.equal((await other.inspectContainer(c))?.ports[0]?.hostPort, 32768, 'each fake is its own host');
  });

  it('runs 5,000 hollow hosts with 4 containers each in one process', async () => {
    const hosts = Array.from({ length: 5_000 }, () => new FakeRuntime({ images: [IMAGE] }));
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    await Promise.all(
      hosts.map(async (rt, i) => {
        for (let k = 0; k < 4; k++) {
          const id = await rt.createContainer(base(`ecs-app-1-web-${i}-${k}`, { portMappings: [{ containerPort: 80, protocol: 'tcp' }], labels: { task: String(i) } }));
          await rt.startContainer(id);
        }
      }),
    );
    const elapsed = Date.now() - started;
    const perContainer = (process.memoryUsage().heapUsed - heapBefore) / 20_000;
    assert.equal((await hosts[4_999]!.listContainers({ task: '4999' })).filter((c) => c.state === 'running').length, 4);
    assert.ok(elapsed < 10_000, `20,000 containers took ${elapsed} ms`);
    assert.ok(perContainer < 4_096, `~${Math.round(perContainer)} bytes per container`);
    await Promise.all(hosts.map((rt) => rt.close()));
  });
});

async function waitFor(f: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
