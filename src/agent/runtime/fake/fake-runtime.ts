/**
 * The fake runtime: ContainerRuntime in memory, one instance per hollow container instance. It keeps
 * Docker's observable semantics (what the contract suite checks: idempotent create, no-op stop/remove,
 * 143/137 exit codes, host port allocation and conflicts, health, events, logs) without running anything.
 *
 * Cheap at scale: an idle instance is a few empty maps; a container is one record; time passes only
 * through timers that are armed when something is due (a start delay, a script step, a health transition,
 * a stop timeout), never through polling or per-container intervals.
 */
import { createHash } from 'node:crypto';
import type { Clock, Rng } from '../../../util/clock.js';
import { cryptoRng, systemClock } from '../../../util/clock.js';
import { RuntimeError } from '../runtime.js';
import type { ContainerRuntime, ContainerSpec, ContainerState, ContainerStatus, HostInfo, LogLine, PortBinding, RegistryAuth, RuntimeEvent } from '../runtime.js';
import { behaviourOf, signalExitCode } from './behaviour.js';
import type { FakeBehaviour, FakeStep } from './behaviour.js';
import { FakeLogs } from './fake-logs.js';
import { PortAllocator } from './ports.js';

export interface FakeTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers. A fake arms them only for something due, and `close` disarms them. */
export const realTimers: FakeTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface FakeRuntimeOptions {
  readonly clock?: Clock;
  readonly rng?: Rng;
  readonly timers?: FakeTimers;
  readonly host?: Partial<HostInfo>;
  /** Images present from the start. */
  readonly images?: readonly string[];
  /** How long a start takes before the container runs. */
  readonly startDelayMs?: number;
  readonly pullDelayMs?: number;
  /** Scales the durations a spec gives (health intervals, stop timeouts), so tests need not wait them out. */
  readonly timeScale?: number;
  /** For containers without a behaviour label. Default: run until stopped. */
  readonly defaultBehaviour?: FakeBehaviour;
  readonly maxLogLines?: number;
}

interface FakeContainer {
  readonly id: string;
  readonly spec: ContainerSpec;
  behaviour: FakeBehaviour;
  state: ContainerState;
  exitCode?: number;
  oomKilled: boolean;
  error?: string;
  startedAt?: number;
  finishedAt?: number;
  health: ContainerStatus['health'];
  healthFailures: number;
  ports: PortBinding[];
  /** Bumped on every start and exit, so timers armed for an earlier run do nothing. */
  run: number;
  /** The script of this run, in time order. */
  steps?: readonly FakeStep[] | undefined;
  timer?: unknown;
  healthTimer?: unknown;
  /** Stops waiting out their grace period. */
  exitWaiters?: (() => void)[] | undefined;
  starting?: Promise<void> | undefined;
  stopping?: Promise<void> | undefined;
  logs?: FakeLogs;
}

const DEFAULT_HOST: HostInfo = { cpus: 2, memoryMiB: 4096, os: 'linux', architecture: 'x86_64', runtimeVersion: '20.10.24-gantry-fake' };

export class FakeRuntime implements ContainerRuntime {
  readonly kind = 'fake' as const;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly timers: FakeTimers;
  private readonly opts: FakeRuntimeOptions;
  private readonly byId = new Map<string, FakeContainer>();
  private readonly byName = new Map<string, FakeContainer>();
  /** Image → digest ('' for an image that was loaded, not pulled). */
  private readonly images = new Map<string, string>();
  private readonly pullErrors = new Map<string, string>();
  private readonly volumes = new Map<string, { driver: string }>();
  private readonly listeners = new Set<(e: RuntimeEvent) => void>();
  private readonly ports = new PortAllocator();
  private controlApi: FakeControl | undefined;

  constructor(opts: FakeRuntimeOptions = {}) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.rng = opts.rng ?? cryptoRng;
    this.timers = opts.timers ?? realTimers;
    for (const i of opts.images ?? []) this.images.set(i, '');
  }

  /** Test controls: make containers exit, OOM, fail health checks; make pulls fail; write log lines. */
  get control(): FakeControl {
    return (this.controlApi ??= this.makeControl());
  }

  private makeControl(): FakeControl {
    const must = (id: string): FakeContainer => {
      const c = this.find(id);
      if (!c) throw new Error(`fake runtime: no container ${id}`);
      return c;
    };
    return {
      exit: (id, code) => this.exit(must(id), code, false),
      oom: (id) => this.exit(must(id), 137, true),
      setHealth: (id, outcome) => {
        const c = must(id);
        c.behaviour = { ...c.behaviour, health: outcome };
        this.armHealthCheck(c);
      },
      failStarts: (id, message) => {
        const c = must(id);
        const { startError: _, ...rest } = c.behaviour;
        c.behaviour = message === undefined ? rest : { ...rest, startError: message };
      },
      failPulls: (image, message) => {
        if (message === undefined) this.pullErrors.delete(image);
        else this.pullErrors.set(image, message);
      },
      addImage: (image) => {
        if (!this.images.has(image)) this.images.set(image, '');
      },
      log: (id, line, stream = 'stdout') => this.log(must(id), line, stream),
    };
  }

  async info(): Promise<HostInfo> {
    return { ...DEFAULT_HOST, ...this.opts.host };
  }

  async hasImage(image: string): Promise<boolean> {
    return this.images.has(image);
  }

  async pullImage(image: string, _auth?: RegistryAuth): Promise<{ digest?: string }> {
    if (this.opts.pullDelayMs) await this.sleep(this.opts.pullDelayMs);
    const error = this.pullErrors.get(image);
    if (error !== undefined) throw new RuntimeError('CannotPullContainerError', `pull image ${image}: ${error}`);
    const digest = `sha256:${createHash('sha256').update(image).digest('hex')}`;
    this.images.set(image, digest);
    return { digest };
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const existing = this.byName.get(spec.name);
    if (existing) return existing.id;
    if (!this.images.has(spec.image)) throw new RuntimeError('CannotCreateContainerError', `${spec.name}: No such image: ${spec.image}`);
    for (const m of spec.mounts) {
      if (m.type === 'bind' && !m.source) throw new RuntimeError('CannotCreateContainerError', `bind mount at ${m.target} has no source path`);
      // Like Docker, a named volume that does not exist yet is created on first use.
      if (m.type === 'volume' && m.source && !this.volumes.has(m.source)) this.volumes.set(m.source, { driver: 'local' });
    }
    const c: FakeContainer = {
      id: this.rng.hex(32),
      spec,
      behaviour: behaviourOf(spec.labels, this.opts.defaultBehaviour ?? {}),
      state: 'created',
      oomKilled: false,
      health: 'none',
      healthFailures: 0,
      ports: [],
      run: 0,
    };
    this.byId.set(c.id, c);
    this.byName.set(spec.name, c);
    return c.id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.find(id);
    if (!c) throw new RuntimeError('CannotStartContainerError', `No such container: ${id}`);
    if (c.state === 'running') return;
    c.starting ??= this.start(c).finally(() => (c.starting = undefined));
    return c.starting;
  }

  private async start(c: FakeContainer): Promise<void> {
    if (c.behaviour.startError) return this.failStart(c, c.behaviour.startError);
    const bound = c.spec.networkMode === 'bridge' ? this.ports.bind(c.spec.portMappings) : [];
    if (typeof bound === 'string') return this.failStart(c, bound);
    if (this.opts.startDelayMs) await this.sleep(this.opts.startDelayMs);
    if (!this.byId.has(c.id)) {
      this.ports.release(bound);
      throw new RuntimeError('CannotStartContainerError', `No such container: ${c.id}`);
    }
    const run = ++c.run;
    Object.assign(c, { state: 'running', oomKilled: false, ports: bound, startedAt: this.clock.now(), healthFailures: 0 });
    delete c.exitCode;
    delete c.error;
    delete c.finishedAt;
    c.health = c.spec.healthCheck ? 'starting' : 'none';
    this.emit({ type: 'start', id: c.id, labels: c.spec.labels, time: c.startedAt! });
    this.armScript(c, run, 0);
    this.armHealthCheck(c);
  }

  private failStart(c: FakeContainer, message: string): never {
    c.error = message;
    throw new RuntimeError('CannotStartContainerError', message);
  }

  async stopContainer(id: string, timeoutSec: number): Promise<void> {
    const c = this.find(id);
    if (c?.starting) await c.starting.catch(() => {});
    if (!c || c.state !== 'running') return;
    c.stopping ??= this.stop(c, timeoutSec).finally(() => (c.stopping = undefined));
    return c.stopping;
  }

  private async stop(c: FakeContainer, timeoutSec: number): Promise<void> {
    const code = signalExitCode(c.spec.stopSignal);
    if (code !== 137 && !c.behaviour.ignoreStopSignal) return this.exit(c, code, false);
    const run = c.run;
    if (code !== 137 && timeoutSec > 0) {
      // The grace period ends early if the container exits by itself meanwhile.
      await new Promise<void>((resolve) => {
        const timer = this.timers.setTimeout(resolve, timeoutSec * 1000 * (this.opts.timeScale ?? 1));
        (c.exitWaiters ??= []).push(() => {
          this.timers.clearTimeout(timer);
          resolve();
        });
      });
    }
    if (c.run === run && c.state === 'running') this.exit(c, 137, false);
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.find(id);
    if (!c) return;
    if (c.state === 'running') this.exit(c, 137, false);
    this.byId.delete(c.id);
    this.byName.delete(c.spec.name);
    c.logs?.close();
    this.emit({ type: 'destroy', id: c.id, labels: c.spec.labels, time: this.clock.now() });
  }

  async inspectContainer(id: string): Promise<ContainerStatus | undefined> {
    const c = this.find(id);
    return c && this.status(c);
  }

  async listContainers(labels: Readonly<Record<string, string>>): Promise<ContainerStatus[]> {
    const wanted = Object.entries(labels);
    const out: ContainerStatus[] = [];
    for (const c of this.byId.values()) if (wanted.every(([k, v]) => c.spec.labels[k] === v)) out.push(this.status(c));
    return out;
  }

  async createVolume(name: string, driver: string): Promise<void> {
    if (!this.volumes.has(name)) this.volumes.set(name, { driver });
  }

  async removeVolume(name: string): Promise<void> {
    if (!this.volumes.has(name)) return;
    const users = [...this.byId.values()].filter((c) => c.spec.mounts.some((m) => m.type === 'volume' && m.source === name));
    if (users.length) throw new Error(`remove volume ${name}: volume is in use - [${users.map((c) => c.id).join(', ')}]`);
    this.volumes.delete(name);
  }

  subscribe(listener: (e: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  logs(id: string, opts: { follow: boolean; tail?: number; sinceMs?: number; signal?: AbortSignal }): AsyncIterable<LogLine> {
    const c = this.find(id);
    if (!c) return (async function* () {})();
    return (c.logs ??= new FakeLogs(this.opts.maxLogLines ?? 1000)).read(opts, () => c.state === 'running' || c.starting !== undefined);
  }

  async close(): Promise<void> {
    for (const c of this.byId.values()) this.disarm(c);
    this.listeners.clear();
  }

  /** Number of containers, for scale tests' bookkeeping. */
  get size(): number {
    return this.byId.size;
  }

  private find(idOrName: string): FakeContainer | undefined {
    return this.byId.get(idOrName) ?? this.byName.get(idOrName);
  }

  private exit(c: FakeContainer, code: number, oom: boolean): void {
    if (c.state !== 'running') return;
    this.disarm(c);
    c.run++;
    this.ports.release(c.ports);
    Object.assign(c, { state: 'exited', exitCode: code, oomKilled: oom, finishedAt: this.clock.now(), ports: [] });
    if (oom) this.emit({ type: 'oom', id: c.id, labels: c.spec.labels, time: c.finishedAt! });
    this.emit({ type: 'die', id: c.id, labels: c.spec.labels, time: c.finishedAt!, exitCode: code });
    c.logs?.wake();
    const waiters = c.exitWaiters;
    c.exitWaiters = undefined;
    for (const w of waiters ?? []) w();
  }

  private log(c: FakeContainer, line: string, stream: 'stdout' | 'stderr'): void {
    (c.logs ??= new FakeLogs(this.opts.maxLogLines ?? 1000)).append({ stream, time: this.clock.now(), line });
  }

  /** Health checks run only while the outcome can still change the status: no timer for a settled container. */
  private armHealthCheck(c: FakeContainer): void {
    const h = c.spec.healthCheck;
    if (!h || c.state !== 'running') return;
    if (c.healthTimer !== undefined) this.timers.clearTimeout(c.healthTimer);
    const run = c.run;
    c.healthTimer = this.timers.setTimeout(() => {
      c.healthTimer = undefined;
      if (c.run !== run || c.state !== 'running') return;
      const pass = (c.behaviour.health ?? 'pass') === 'pass';
      const inStartPeriod = this.clock.now() - (c.startedAt ?? 0) < h.startPeriodSec * 1000 * (this.opts.timeScale ?? 1);
      if (pass) c.healthFailures = 0;
      else if (!inStartPeriod) c.healthFailures++;
      const next = pass ? 'healthy' : c.healthFailures >= h.retries ? 'unhealthy' : c.health;
      if (next !== c.health && next !== 'none') {
        c.health = next;
        this.emit({ type: 'health', id: c.id, labels: c.spec.labels, time: this.clock.now(), health: next });
      }
      if (!pass && next !== 'unhealthy') this.armHealthCheck(c);
    }, h.intervalSec * 1000 * (this.opts.timeScale ?? 1));
  }

  /** Script steps fire in time order, one timer at a time, each timed from the start of this run. */
  private armScript(c: FakeContainer, run: number, index: number): void {
    if (index === 0) c.steps = c.behaviour.script?.length ? [...c.behaviour.script].sort((a, b) => a.afterMs - b.afterMs) : undefined;
    const steps = c.steps;
    if (!steps || index >= steps.length) return;
    const at = steps[index]!.afterMs;
    const fire = (): void => {
      c.timer = undefined;
      let i = index;
      while (c.run === run && i < steps.length && steps[i]!.afterMs === at) this.step(c, steps[i++]!);
      if (c.run === run) this.armScript(c, run, i);
    };
    const delay = (c.startedAt ?? 0) + at - this.clock.now();
    if (delay <= 0) fire();
    else c.timer = this.timers.setTimeout(fire, delay);
  }

  private step(c: FakeContainer, s: FakeStep): void {
    if ('log' in s) this.log(c, s.log, s.stream ?? 'stdout');
    else if ('exit' in s) this.exit(c, s.exit, false);
    else this.exit(c, 137, true);
  }

  private disarm(c: FakeContainer): void {
    if (c.timer !== undefined) this.timers.clearTimeout(c.timer);
    if (c.healthTimer !== undefined) this.timers.clearTimeout(c.healthTimer);
    c.timer = c.healthTimer = undefined;
  }

  private status(c: FakeContainer): ContainerStatus {
    const digest = this.images.get(c.spec.image);
    return {
      id: c.id,
      name: c.spec.name,
      image: c.spec.image,
      ...(digest ? { imageDigest: digest } : {}),
      labels: c.spec.labels,
      state: c.state,
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      oomKilled: c.oomKilled,
      ...(c.error !== undefined ? { error: c.error } : {}),
      ...(c.startedAt !== undefined ? { startedAt: c.startedAt } : {}),
      ...(c.finishedAt !== undefined ? { finishedAt: c.finishedAt } : {}),
      health: c.health,
      ports: c.ports,
    };
  }

  /** Events reach listeners asynchronously, after the call that caused them returns, as Docker's do. */
  private emit(e: RuntimeEvent): void {
    if (this.listeners.size === 0) return;
    const targets = [...this.listeners];
    queueMicrotask(() => {
      for (const l of targets) l(e);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.timers.setTimeout(r, ms));
  }
}

/** What tests and scale simulations may do to a fake's containers that Docker's processes do by themselves. */
export interface FakeControl {
  /** The container's process exits with `code`. */
  exit(id: string, code: number): void;
  /** The kernel's OOM killer ends the container: oomKilled, exit 137, an `oom` event before `die`. */
  oom(id: string): void;
  /** From now on its health checks pass or fail. */
  setHealth(id: string, outcome: 'pass' | 'fail'): void;
  /** Its next starts fail with `message` (undefined: they succeed again). */
  failStarts(id: string, message: string | undefined): void;
  /** Pulls of `image` fail with `message` (undefined: they succeed again). */
  failPulls(image: string, message: string | undefined): void;
  /** Makes an image present, as if loaded. */
  addImage(image: string): void;
  /** The container writes a line. */
  log(id: string, line: string, stream?: 'stdout' | 'stderr'): void;
}
