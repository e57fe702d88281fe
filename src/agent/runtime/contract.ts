/**
 * The contract every ContainerRuntime passes (Docker and the fake): run it from each runtime's test file
 * with a factory for a harness. What a test container does is described as a Program; the harness turns
 * it into what makes its runtime do that (a busybox command line for Docker, a behaviour label for the
 * fake). Checks that need a process really running inside (environment, user, shared volume data) run
 * only where `executes` is true.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RuntimeError } from './runtime.js';
import type { ContainerRuntime, ContainerSpec, ContainerStatus, LogLine, RuntimeEvent } from './runtime.js';

/** What a test container does. */
export type Program =
  /** Runs until stopped, exiting 143 on SIGTERM; answers HTTP on port 8080 where it really runs. */
  | { readonly kind: 'serve'; readonly health?: 'pass' | 'fail' }
  /** Runs until killed: the stop signal does nothing. */
  | { readonly kind: 'ignore-stop-signal' }
  | { readonly kind: 'exit'; readonly code: number }
  /** Allocates memory without bound under a small memory limit. */
  | { readonly kind: 'oom' }
  /** Writes `stdout` and `stderr` at once, `late` (to stdout) a second later, then exits 0. */
  | { readonly kind: 'print'; readonly stdout: string; readonly stderr: string; readonly late: string }
  /** Its entry point does not exist, so it cannot start. */
  | { readonly kind: 'missing-executable' }
  /** Runs `sh -c script` (only where `executes`). */
  | { readonly kind: 'shell'; readonly script: string };

export interface RuntimeHarness {
  readonly runtime: ContainerRuntime;
  /** An image the runtime has. */
  readonly image: string;
  /** An image whose pull fails. */
  readonly unpullableImage: string;
  /** Labels the harness needs on every container it may have to clean up. */
  readonly labels: Readonly<Record<string, string>>;
  /** The spec fields that make a container run `program` on this runtime. */
  program(p: Program): Partial<ContainerSpec>;
  /** Removes whatever the suite left behind. */
  close(): Promise<void>;
}

export interface RuntimeFactory {
  /** Containers really run their commands, so effects inside them can be checked. */
  readonly executes: boolean;
  open(): Promise<RuntimeHarness>;
}

export function runtimeContract(name: string, factory: RuntimeFactory, opts: { skip?: string } = {}): void {
  describe(`ContainerRuntime contract: ${name}`, opts.skip ? { skip: opts.skip } : {}, () => {
    let h: RuntimeHarness;
    let rt: ContainerRuntime;
    const run = Math.random().toString(36).slice(2, 8);
    let n = 0;
    const needsExecution = factory.executes ? {} : { skip: `${name} runs no processes, so effects inside a container cannot be observed` };
    /** A spec with a unique name, the harness's labels and the program's fields. */
    const spec = (program: Program, extra: Partial<ContainerSpec> = {}): ContainerSpec => {
      const p = h.program(program);
      return {
        name: `gantry-contract-${run}-${++n}`,
        image: h.image,
        environment: {},
        networkMode: 'bridge',
        portMappings: [],
        mounts: [],
        ...p,
        ...extra,
        labels: { ...h.labels, 'com.gantry.contract-run': run, ...p.labels, ...extra.labels },
      };
    };
    const createStarted = async (s: ContainerSpec): Promise<string> => {
      const id = await rt.createContainer(s);
      await rt.startContainer(id);
      return id;
    };
    const exited = (id: string, timeoutMs = 20_000): Promise<ContainerStatus> =>
      until(async () => {
        const c = await rt.inspectContainer(id);
        return c?.state === 'exited' ? c : undefined;
      }, timeoutMs, `container ${id} to exit`);

    before(async () => {
      h = await factory.open();
      rt = h.runtime;
    });
    after(async () => {
      await h?.close();
    });

    it('describes its host', async () => {
      const info = await rt.info();
      assert.ok(info.cpus > 0 && info.memoryMiB > 0, JSON.stringify(info));
      assert.equal(info.os, 'linux');
      assert.ok(['x86_64', 'arm64'].includes(info.architecture), info.architecture);
      assert.ok(info.runtimeVersion.length > 0);
    });

    it('knows which images it has, and reports a failed pull as CannotPullContainerError', async () => {
      assert.equal(await rt.hasImage(h.image), true);
      assert.equal(await rt.hasImage('gantry-contract/absent:1'), false);
      await assert.rejects(rt.pullImage(h.unpullableImage), isRuntimeError('CannotPullContainerError'));
    });

    it('creates idempotently by name, even when two creates race', async () => {
      const s = spec({ kind: 'serve' });
      const id = await rt.createContainer(s);
      assert.equal(await rt.createContainer(s), id);
      const c = await rt.inspectContainer(id);
      assert.equal(c?.id, id);
      assert.equal(c.name, s.name);
      assert.equal(c.image, h.image);
      assert.equal(c.state, 'created');
      assert.equal(c.exitCode, undefined);
      assert.equal(c.startedAt, undefined);
      assert.equal(c.health, 'none');
      assert.equal(c.labels['com.gantry.contract-run'], run);
      assert.deepEqual((await rt.inspectContainer(s.name))?.id, id, 'inspect by name');

      const raced = spec({ kind: 'serve' });
      const ids = await Promise.all([rt.createContainer(raced), rt.createContainer(raced), rt.createContainer(raced)]);
      assert.equal(new Set(ids).size, 1);
      await Promise.all([rt.removeContainer(id), rt.removeContainer(ids[0]!)]);
    });

    it('refuses to create from an image it does not have: CannotCreateContainerError', async () => {
      await assert.rejects(rt.createContainer({ ...spec({ kind: 'serve' }), image: 'gantry-contract/absent:1' }), isRuntimeError('CannotCreateContainerError'));
    });

    it('starts, stops (143 after SIGTERM) and removes, each a no-op when repeated', async () => {
      const before = Date.now();
      const id = await rt.createContainer(spec({ kind: 'serve' }));
      await rt.startContainer(id);
      const running = await rt.inspectContainer(id);
      assert.equal(running?.state, 'running');
      assert.ok(running.startedAt! >= before - 1000, 'startedAt is epoch ms');
      await rt.startContainer(id);
      assert.equal((await rt.inspectContainer(id))?.startedAt, running.startedAt, 'a second start changes nothing');

      await rt.stopContainer(id, 10);
      const stopped = await rt.inspectContainer(id);
      assert.equal(stopped?.state, 'exited');
      assert.equal(stopped.exitCode, 143);
      assert.equal(stopped.oomKilled, false);
      assert.ok(stopped.finishedAt! >= stopped.startedAt!);
      await rt.stopContainer(id, 10);
      assert.equal((await rt.inspectContainer(id))?.finishedAt, stopped.finishedAt, 'a second stop changes nothing');

      await rt.removeContainer(id);
      assert.equal(await rt.inspectContainer(id), undefined);
      await rt.removeContainer(id);
      await rt.stopContainer(id, 1);
      await assert.rejects(rt.startContainer(id), isRuntimeError('CannotStartContainerError'));
    });

    it('kills a container that ignores the stop signal once the timeout passes: 137', async () => {
      const id = await createStarted(spec({ kind: 'ignore-stop-signal' }));
      await rt.stopContainer(id, 1);
      const c = await rt.inspectContainer(id);
      assert.equal(c?.state, 'exited');
      assert.equal(c.exitCode, 137);
      assert.equal(c.oomKilled, false);
      await rt.removeContainer(id);
    });

    it('removes a running container, killing it', async () => {
      const id = await createStarted(spec({ kind: 'serve' }));
      await rt.removeContainer(id);
      assert.equal(await rt.inspectContainer(id), undefined);
    });

    it('reports the exit code of a command that exits', async () => {
      const ok = await createStarted(spec({ kind: 'exit', code: 0 }));
      const bad = await createStarted(spec({ kind: 'exit', code: 3 }));
      assert.equal((await exited(ok)).exitCode, 0);
      const c = await exited(bad);
      assert.equal(c.exitCode, 3);
      assert.equal(c.oomKilled, false);
      await rt.startContainer(ok);
      assert.equal((await exited(ok)).exitCode, 0, 'an exited container can be started again');
      await Promise.all([rt.removeContainer(ok), rt.removeContainer(bad)]);
    });

    it('fails a start it cannot do with CannotStartContainerError, leaving the error on the container', async () => {
      const id = await rt.createContainer(spec({ kind: 'missing-executable' }));
      await assert.rejects(rt.startContainer(id), isRuntimeError('CannotStartContainerError'));
      const c = await rt.inspectContainer(id);
      assert.notEqual(c?.state, 'running');
      assert.ok(c?.error, 'the runtime says why');
      await rt.removeContainer(id);
    });

    it('publishes static and dynamic host ports, visible while running, and refuses a static port in use', async () => {
      const staticPort = await freePort();
      const s = spec({ kind: 'serve' }, {
        portMappings: [
          { containerPort: 8080, hostPort: staticPort, protocol: 'tcp' },
          { containerPort: 9090, protocol: 'tcp' },
          { containerPort: 5353, hostPort: 0, protocol: 'udp' },
        ],
      });
      const id = await rt.createContainer(s);
      assert.deepEqual((await rt.inspectContainer(id))?.ports, [], 'nothing is published before the start');
      await rt.startContainer(id);
      const ports = (await rt.inspectContainer(id))!.ports;
      const of = (port: number, proto: string) => ports.filter((p) => p.containerPort === port && p.protocol === proto);
      assert.ok(of(8080, 'tcp').length > 0 && of(8080, 'tcp').every((p) => p.hostPort === staticPort), JSON.stringify(ports));
      assert.ok(of(9090, 'tcp').length > 0 && of(9090, 'tcp').every((p) => p.hostPort >= 1024 && p.hostPort !== staticPort), JSON.stringify(ports));
      assert.ok(of(5353, 'udp').length > 0 && of(5353, 'udp').every((p) => p.hostPort >= 1024), JSON.stringify(ports));
      if (factory.executes) {
        const res = await fetchWithRetry(`http://127.0.0.1:${staticPort}/`);
        assert.ok(res.status > 0, 'the container answers on the published port');
      }

      const clash = await rt.createContainer(spec({ kind: 'serve' }, { portMappings: [{ containerPort: 8080, hostPort: staticPort, protocol: 'tcp' }] }));
      await assert.rejects(rt.startContainer(clash), isRuntimeError('CannotStartContainerError'));

      await rt.stopContainer(id, 10);
      assert.deepEqual((await rt.inspectContainer(id))?.ports, [], 'ports are released on exit');
      await rt.startContainer(clash);
      assert.ok((await rt.inspectContainer(clash))!.ports.some((p) => p.hostPort === staticPort), 'the port is free again');
      await Promise.all([rt.removeContainer(id), rt.removeContainer(clash)]);
    });

    it('publishes nothing in host and none network modes', async () => {
      const none = await createStarted(spec({ kind: 'serve' }, { networkMode: 'none', portMappings: [{ containerPort: 8080, protocol: 'tcp' }] }));
      const host = await createStarted(spec({ kind: 'ignore-stop-signal' }, { networkMode: 'host' }));
      assert.deepEqual((await rt.inspectContainer(none))?.ports, []);
      assert.deepEqual((await rt.inspectContainer(host))?.ports, []);
      await Promise.all([rt.removeContainer(none), rt.removeContainer(host)]);
    });

    it('lists containers carrying all the given labels, in any state', async () => {
      const key = `com.gantry.contract-group-${run}`;
      const a = await rt.createContainer(spec({ kind: 'serve' }, { labels: { [key]: 'a', role: 'web' } }));
      const b = await createStarted(spec({ kind: 'serve' }, { labels: { [key]: 'a', role: 'worker' } }));
      const c = await rt.createContainer(spec({ kind: 'serve' }, { labels: { [key]: 'b' } }));
      const ids = async (labels: Record<string, string>) => (await rt.listContainers(labels)).map((x) => x.id).sort();
      assert.deepEqual(await ids({ [key]: 'a' }), [a, b].sort());
      assert.deepEqual(await ids({ [key]: 'a', role: 'worker' }), [b]);
      assert.deepEqual(await ids({ [key]: 'b' }), [c]);
      assert.deepEqual(await ids({ [key]: 'nobody' }), []);
      const listed = (await rt.listContainers({ [key]: 'a', role: 'worker' }))[0];
      assert.equal(listed?.state, 'running');
      assert.equal(listed.labels['role'], 'worker');
      await Promise.all([a, b, c].map((id) => rt.removeContainer(id)));
    });

    it('runs the command with its environment, entry point, working directory, user and hostname', needsExecution, async () => {
      const checks = 'test "$X" = "y z" && test "$(pwd)" = /tmp && test "$(id -u)" = 1234 && test "$(hostname)" = gantry-host && test "$1" = arg && exit 42; exit 1';
      const id = await createStarted(spec({ kind: 'shell', script: '' }, {
        entryPoint: ['sh', '-c', checks, 'sh'],
        command: ['arg'],
        environment: { X: 'y z' },
        workingDirectory: '/tmp',
        user: '1234',
        hostname: 'gantry-host',
      }));
      assert.equal((await exited(id)).exitCode, 42);
      await rt.removeContainer(id);
    });

    it('runs health checks: passing becomes healthy, failing becomes unhealthy, with health events', async () => {
      const events: RuntimeEvent[] = [];
      const unsubscribe = rt.subscribe((e) => events.push(e));
      const good = await createStarted(spec({ kind: 'serve', health: 'pass' }));
      assert.equal((await rt.inspectContainer(good))?.health, 'starting', 'no check has run yet');
      const bad = await createStarted(spec({ kind: 'serve', health: 'fail' }));
      const plain = await createStarted(spec({ kind: 'serve' }));
      assert.equal((await rt.inspectContainer(plain))?.health, 'none');
      await until(async () => (await rt.inspectContainer(good))?.health === 'healthy' || undefined, 20_000, 'healthy');
      await until(async () => (await rt.inspectContainer(bad))?.health === 'unhealthy' || undefined, 20_000, 'unhealthy');
      await until(() => events.some((e) => e.type === 'health' && e.id === good && e.health === 'healthy') || undefined, 5_000, 'a healthy event');
      await until(() => events.some((e) => e.type === 'health' && e.id === bad && e.health === 'unhealthy') || undefined, 5_000, 'an unhealthy event');
      unsubscribe();
      await Promise.all([good, bad, plain].map((id) => rt.removeContainer(id)));
    });

    it('reports an OOM kill: oomKilled, exit 137 and an oom event', async () => {
      const events: RuntimeEvent[] = [];
      const unsubscribe = rt.subscribe((e) => events.push(e));
      const id = await createStarted(spec({ kind: 'oom' }));
      const c = await exited(id);
      assert.equal(c.oomKilled, true);
      assert.equal(c.exitCode, 137);
      await until(() => events.some((e) => e.type === 'oom' && e.id === id) || undefined, 5_000, 'an oom event');
      unsubscribe();
      await rt.removeContainer(id);
    });

    it('emits start, die (with the exit code) and destroy events carrying the labels, until unsubscribed', async () => {
      const events: RuntimeEvent[] = [];
      const unsubscribe = rt.subscribe((e) => events.push(e));
      const s = spec({ kind: 'exit', code: 7 });
      const id = await createStarted(s);
      await exited(id);
      await rt.removeContainer(id);
      const mine = () => events.filter((e) => e.id === id);
      await until(() => mine().some((e) => e.type === 'destroy') || undefined, 10_000, 'a destroy event');
      assert.deepEqual(mine().map((e) => e.type), ['start', 'die', 'destroy']);
      const die = mine()[1]!;
      assert.equal(die.type === 'die' && die.exitCode, 7);
      assert.equal(die.labels['com.gantry.contract-run'], run);
      assert.ok(die.time >= mine()[0]!.time && die.time > Date.now() - 60_000, 'times are epoch ms');

      unsubscribe();
      const later = await createStarted(spec({ kind: 'exit', code: 0 }));
      await exited(later);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(!events.some((e) => e.id === later), 'nothing after unsubscribing');
      await rt.removeContainer(later);
    });

    it('returns logs by stream with times, honouring tail and since, and follows them until the container exits', async () => {
      const id = await createStarted(spec({ kind: 'print', stdout: 'to stdout', stderr: 'to stderr', late: 'later' }));
      const followed: LogLine[] = [];
      for await (const l of rt.logs(id, { follow: true })) followed.push(l);
      const text = (ls: LogLine[]) => ls.map((l) => `${l.stream}:${l.line}`);
      assert.deepEqual(text(followed).sort(), ['stderr:to stderr', 'stdout:later', 'stdout:to stdout']);
      assert.equal(text(followed).at(-1), 'stdout:later', 'the late line comes last');
      assert.equal((await rt.inspectContainer(id))?.state, 'exited', 'following ends when the container exits');

      const all = await collect(rt.logs(id, { follow: false }));
      assert.deepEqual(text(all).sort(), text(followed).sort());
      assert.ok(all.every((l) => Math.abs(l.time - Date.now()) < 60_000), 'times are epoch ms');
      assert.deepEqual(text(await collect(rt.logs(id, { follow: false, tail: 1 }))), ['stdout:later']);
      const late = all.find((l) => l.line === 'later')!;
      assert.deepEqual(text(await collect(rt.logs(id, { follow: false, sinceMs: late.time - 200 }))), ['stdout:later']);
      await rt.removeContainer(id);
    });

    it('stops following logs when aborted', async () => {
      const id = await createStarted(spec({ kind: 'serve' }));
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      const started = Date.now();
      await collect(rt.logs(id, { follow: true, signal: ac.signal }));
      assert.ok(Date.now() - started < 5_000);
      await rt.removeContainer(id);
      assert.deepEqual(await collect(rt.logs(id, { follow: false })), [], 'a missing container has no logs');
    });

    it('creates and removes volumes idempotently, and will not remove one in use', async () => {
      const volume = `gantry-contract-${run}-vol`;
      await rt.createVolume(volume, 'local', {}, h.labels);
      await rt.createVolume(volume, 'local', {}, h.labels);
      const id = await rt.createContainer(spec({ kind: 'serve' }, { mounts: [{ type: 'volume', source: volume, target: '/data', readOnly: false }] }));
      await assert.rejects(rt.removeVolume(volume));
      await rt.removeContainer(id);
      await rt.removeVolume(volume);
      await rt.removeVolume(volume);
    });

    it('shares data through named volumes and bind mounts, and mounts tmpfs on a read-only root', needsExecution, async () => {
      const volume = `gantry-contract-${run}-data`;
      const dir = mkdtempSync(join(tmpdir(), 'gantry-contract-'));
      try {
        const mounts = [
          { type: 'volume' as const, source: volume, target: '/data', readOnly: false },
          { type: 'bind' as const, source: dir, target: '/host', readOnly: false },
          { type: 'tmpfs' as const, target: '/scratch', readOnly: false, sizeMiB: 4 },
        ];
        const writer = await createStarted(spec({ kind: 'shell', script: 'echo shared > /data/f && echo bound > /host/f && touch /scratch/ok && ! touch /rootfs-is-readonly' }, { mounts, readonlyRootFilesystem: true }));
        assert.equal((await exited(writer)).exitCode, 0);
        assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'bound\n');
        const reader = await createStarted(spec({ kind: 'shell', script: 'test "$(cat /data/f)" = shared && ! echo x > /data/g' }, { mounts: [{ type: 'volume', source: volume, target: '/data', readOnly: true }] }));
        assert.equal((await exited(reader)).exitCode, 0);
        await Promise.all([rt.removeContainer(writer), rt.removeContainer(reader)]);
        await rt.removeVolume(volume);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

function isRuntimeError(kind: RuntimeError['kind']): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof RuntimeError, `expected a RuntimeError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    return true;
  };
}

async function until<T>(f: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '0.0.0.0', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function fetchWithRetry(url: string): Promise<Response> {
  let last: unknown;
  for (let i = 0; i < 40; i++) {
    try {
      return await fetch(url);
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw last;
}
