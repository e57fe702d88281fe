/**
 * Shared pieces of the end-to-end suites that run tasks on a real Docker engine: a `gantry agent` child
 * process (so it can be killed with SIGKILL like a crashing host), the test image under a name whose pull
 * fails at once on the loopback interface, and helpers to look at what Docker really has.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DockerRuntime } from '../agent/runtime/docker/docker-runtime.js';
import { LABELS } from '../agent/runtime/runtime.js';
import { BUSYBOX_IMAGE, TEST_PID_LABEL, busyboxImage } from '../testing/docker.js';
import { REGION, ROOT, clientEnv } from '../testing/harness.js';
import type { CliResult } from '../testing/harness.js';

/**
 * The busybox test image. Its name is on a loopback registry where nothing listens, so every pull fails at once
 * without leaving the machine, and the agent's `default` pull behaviour has to fall back to the cached copy.
 */
export const TEST_IMAGE = BUSYBOX_IMAGE;
/** An image nobody has, on the same registry: its pull fails the same way, with no cached copy to fall back to. */
export const MISSING_IMAGE = `${BUSYBOX_IMAGE.slice(0, BUSYBOX_IMAGE.indexOf('/'))}/gantry-test/missing:1`;

/** Labels every container of these suites carries, so a crashed run's containers are removed by the next. */
export const testLabels = (): Record<string, string> => ({ [TEST_PID_LABEL]: String(process.pid) });

export const testImage = (runtime: DockerRuntime): Promise<string> => busyboxImage(runtime);

/** A data directory for `gantry server` holding a known join token. */
export function serverDataDir(joinToken: string): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-e2e-'));
  writeFileSync(join(dataDir, 'join-token'), `${joinToken}\n`, { mode: 0o600 });
  return dataDir;
}

export interface AgentProcess {
  readonly child: ChildProcess;
  output(): string;
  /** SIGKILL, no shutdown: what a crashed host agent looks like. */
  kill9(): Promise<void>;
  /** SIGTERM: the agent disconnects and leaves its containers running. */
  stop(): Promise<void>;
}

export interface AgentOptions {
  readonly endpoint: string;
  readonly cluster: string;
  readonly joinToken: string;
  readonly stateDir: string;
  readonly dockerHost: string;
  readonly extraArgs?: readonly string[];
}

/** Starts `gantry agent` on the Docker runtime as a child process. */
export function startAgent(opts: AgentOptions): AgentProcess {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'dist', 'cli', 'main.js'),
      'agent',
      '--endpoint',
      opts.endpoint,
      '--cluster',
      opts.cluster,
      '--region',
      REGION,
      '--join-token',
      opts.joinToken,
      '--state-dir',
      opts.stateDir,
      '--docker-host',
      opts.dockerHost,
      ...(opts.extraArgs ?? []),
    ],
    { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => out,
    kill9: async () => {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (alive()) child.kill('SIGTERM');
      const timer = setTimeout(() => alive() && child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function agentStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'gantry-e2e-agent-'));
}

/** A directory any container user may write to (host volumes). */
export function sharedDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o777);
  return dir;
}

/** Polls `fn` until it returns something other than undefined. */
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, stepMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * A TCP port nothing listens on right now, for static host ports: outside the kernel's ephemeral range, from
 * which Docker also draws dynamic host ports (a port free now could be handed to a dynamic mapping next).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** The AWS CLI without blocking this process's event loop (a waiter may take several polls). */
export function awsAsync(url: string, args: readonly string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/aws', [...args, '--endpoint-url', url, '--output', 'json'], { env: clientEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = stdout.trim() === '' ? undefined : JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      const m = /An error occurred \(([^)]+)\)/.exec(stderr);
      resolve({ status: code ?? -1, stdout, stderr, json, errorCode: m?.[1] });
    });
  });
}

/** The subset of `GET /containers/{id}/json` the suites look at. */
export interface Inspected {
  Id: string;
  Name: string;
  Config: {
    Env: string[];
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    WorkingDir: string;
    User: string;
    Hostname: string;
    Labels: Record<string, string>;
    Image: string;
  };
  HostConfig: {
    NetworkMode: string;
    CpuShares: number;
    Memory: number;
    MemoryReservation: number;
    Ulimits: { Name: string; Soft: number; Hard: number }[] | null;
    Init: boolean | null;
    CapAdd: string[] | null;
    CapDrop: string[] | null;
    Tmpfs: Record<string, string> | null;
    ShmSize: number;
    Privileged: boolean;
    ReadonlyRootfs: boolean;
    Binds: string[] | null;
    VolumesFrom: string[] | null;
    LogConfig: { Type: string; Config: Record<string, string> };
  };
  Mounts: { Type: string; Name?: string; Source: string; Destination: string; RW: boolean }[];
  State: {
    Status: string;
    ExitCode: number;
    OOMKilled: boolean;
    StartedAt: string;
    FinishedAt: string;
    Health?: { Status: string; Log: { Start: string; End: string; ExitCode: number }[] };
  };
  RestartCount: number;
}

export async function inspect(runtime: DockerRuntime, id: string): Promise<Inspected> {
  return runtime.engine.json<Inspected>('GET', `/containers/${encodeURIComponent(id)}/json`);
}

/** RFC 3339 with nanoseconds → epoch ms (fractional). */
export function dockerMs(t: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return Number.NaN;
  return Date.parse(`${m[1]}${m[3]}`) + Number(`0.${m[2] ?? '0'}`) * 1000;
}

export interface ListedContainer {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string>;
}

/** Every container (running or not) Gantry's agent made for this container instance. */
export async function instanceContainers(runtime: DockerRuntime, instanceArn: string): Promise<ListedContainer[]> {
  return runtime.engine.json<ListedContainer[]>('GET', '/containers/json', {
    query: { all: true, filters: JSON.stringify({ label: [`${LABELS.instance}=${instanceArn}`] }) },
  });
}

/** Removes the containers and volumes of this container instance (end of a suite). */
export async function removeInstanceContainers(runtime: DockerRuntime, instanceArn: string): Promise<void> {
  for (const c of await instanceContainers(runtime, instanceArn)) await runtime.removeContainer(c.Id);
  const vols = await runtime.engine.json<{ Volumes: { Name: string }[] | null }>('GET', '/volumes', {
    query: { filters: JSON.stringify({ label: [`${LABELS.instance}=${instanceArn}`] }) },
  });
  for (const v of vols.Volumes ?? []) await runtime.removeVolume(v.Name).catch(() => undefined);
}
