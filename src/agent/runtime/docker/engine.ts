/**
 * Finding a Docker engine, or starting one. In order:
 *   1. the engine at `dockerHost` (the caller passes DOCKER_HOST), else /var/run/docker.sock, if it answers;
 *   2. an engine Gantry started before for this data directory (its pidfile names a live dockerd);
 *   3. as root on Debian: install `docker.io` if dockerd is missing, and start dockerd as a detached child
 *      with all of its state under `<dataDir>/docker`, so it never touches a system engine's files.
 * An engine Gantry starts outlives the process that started it (agents restart; containers should not
 * die with them) and is found again through step 2.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../../util/log.js';
import { silentLogger } from '../../../util/log.js';
import { EngineClient } from './engine-client.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';
const DOCKERD = '/usr/sbin/dockerd';
/** sun_path is 108 bytes; containerd puts `containerd/containerd.sock.ttrpc` under the exec root. */
const MAX_SOCKET_PATH = 100;

export interface EnsureDockerOptions {
  /** Gantry's data directory; a started engine keeps its state under `<dataDir>/docker`. */
  readonly dataDir: string;
  readonly logger?: Logger;
  /** DOCKER_HOST from the environment, read by the composition root. */
  readonly dockerHost?: string;
  /**
   * For an engine that must coexist with another on this host (tests next to a developer's engine): put
   * containers on their own bridge, created if missing, and leave iptables alone, since a second engine
   * programming the shared DOCKER chains would break the first one's rules.
   */
  readonly isolate?: { readonly bridge: string; readonly cidr: string };
  /** How long to wait for a started engine to answer. */
  readonly startTimeoutMs?: number;
}

export interface DockerEngine {
  /** The engine's unix socket, or undefined for a TCP DOCKER_HOST. */
  readonly socketPath: string | undefined;
  /** DOCKER_HOST syntax, for DockerRuntime. */
  readonly host: string;
  /** True when Gantry runs this engine (started now, or earlier and found through its pidfile). */
  readonly startedByUs: boolean;
  readonly pid: number | undefined;
  /** Stops the engine if Gantry runs it (SIGTERM, then SIGKILL after 20 s); otherwise does nothing. */
  stop(): Promise<void>;
}

export async function ensureDockerEngine(opts: EnsureDockerOptions): Promise<DockerEngine> {
  const logger = opts.logger ?? silentLogger;
  const external = opts.dockerHost ?? `unix://${DEFAULT_SOCKET}`;
  if (await answers(external)) {
    logger.info('using Docker engine', { host: external });
    return externalEngine(external);
  }
  if (opts.dockerHost) logger.warn('DOCKER_HOST does not answer; starting an engine of our own', { dockerHost: opts.dockerHost });

  const paths = enginePaths(opts.dataDir);
  const running = livePid(paths.pidfile);
  if (running !== undefined && (await waitForPing(paths.socket, 15_000, () => livePid(paths.pidfile) !== undefined))) {
    logger.info('reusing the Docker engine Gantry started earlier', { pid: running, socket: paths.socket });
    return ownEngine(paths.socket, running);
  }

  if (process.getuid?.() !== 0) {
    throw new Error(`no Docker engine answers at ${external}, and starting one needs root`);
  }
  if (!existsSync(DOCKERD)) installDockerIo(logger);
  if (!opts.dockerHost && (await answers(external))) return externalEngine(external); // the package started one

  mkdirSync(paths.dataRoot, { recursive: true });
  mkdirSync(paths.execRoot, { recursive: true });
  if (opts.isolate) ensureBridge(opts.isolate.bridge, opts.isolate.cidr);
  const args = [
    '--data-root', paths.dataRoot,
    '--exec-root', paths.execRoot,
    '--pidfile', paths.pidfile,
    '-H', `unix://${paths.socket}`,
    ...(opts.isolate ? ['--bridge', opts.isolate.bridge, '--iptables=false'] : []),
  ];
  const log = openSync(paths.log, 'a');
  const child = spawn(DOCKERD, args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  child.unref();
  logger.info('starting Docker engine', { pid: child.pid, socket: paths.socket, log: paths.log });

  // Another process may have started the engine at the same moment; then our dockerd exits on the
  // pidfile and the other one is the engine to wait for.
  const ok = await waitForPing(paths.socket, opts.startTimeoutMs ?? 60_000, () => !exited || livePid(paths.pidfile) !== undefined);
  if (!ok) throw new Error(`the Docker engine did not come up; see ${paths.log}:\n${tail(paths.log)}`);
  const pid = livePid(paths.pidfile) ?? child.pid;
  return ownEngine(paths.socket, pid);
}

interface EnginePaths {
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly pidfile: string;
  readonly socket: string;
  readonly log: string;
}

/**
 * Unix socket paths are limited to ~100 bytes, and the engine and containerd put theirs under the exec
 * root. A long data directory therefore gets its sockets and exec root in a short directory under /run
 * (or /tmp), named by a hash of the data directory so a later start finds the same one.
 */
export function enginePaths(dataDir: string): EnginePaths {
  const base = join(dataDir, 'docker');
  const short = join(existsSync('/run') ? '/run' : '/tmp', `gantry-docker-${createHash('sha256').update(base).digest('hex').slice(0, 12)}`);
  const roomy = join(base, 'exec', 'containerd', 'containerd.sock.ttrpc').length <= MAX_SOCKET_PATH;
  return {
    dataRoot: join(base, 'data'),
    execRoot: roomy ? join(base, 'exec') : join(short, 'exec'),
    pidfile: join(base, 'docker.pid'),
    socket: roomy ? join(base, 'docker.sock') : join(short, 'docker.sock'),
    log: join(base, 'dockerd.log'),
  };
}

async function answers(host: string): Promise<boolean> {
  const client = new EngineClient(host);
  try {
    return await client.ping();
  } finally {
    client.close();
  }
}

async function waitForPing(socket: string, timeoutMs: number, stillHopeful: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const client = new EngineClient(`unix://${socket}`);
  try {
    while (Date.now() < deadline) {
      if (existsSync(socket)) {
        if (await client.ping(1_000)) return true;
        if (!accessible(socket)) return false; // someone else's engine: waiting will not help
      }
      if (!stillHopeful()) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  } finally {
    client.close();
  }
}

/** The pid in a dockerd pidfile, if that process is alive and is a dockerd. */
function livePid(pidfile: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidfile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e; // EPERM: alive, but not ours to signal
    }
    // A recycled pid would belong to some other program.
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dockerd')) return undefined;
  } catch {
    return undefined;
  }
  return pid;
}

function accessible(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function externalEngine(host: string): DockerEngine {
  return { socketPath: host.startsWith('unix://') ? host.slice(7) : undefined, host, startedByUs: false, pid: undefined, stop: async () => {} };
}

function ownEngine(socket: string, pid: number | undefined): DockerEngine {
  return {
    socketPath: socket,
    host: `unix://${socket}`,
    startedByUs: true,
    pid,
    stop: async () => {
      if (pid === undefined) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    },
  };
}

function installDockerIo(logger: Logger): void {
  if (!existsSync('/etc/debian_version') || !existsSync('/usr/bin/apt-get')) {
    throw new Error(`${DOCKERD} is missing and this is not a Debian system: install Docker (20.10 or newer)`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const policy = spawnSync('apt-cache', ['policy', 'docker.io'], { encoding: 'utf8', env });
  // Without package lists (a fresh image), apt knows no candidate: update once, then install.
  if (!/Candidate: (?!\(none\))/.test(policy.stdout ?? '')) {
    logger.info('apt-get update (to install docker.io)');
    run('apt-get', ['update'], env);
  }
  logger.info('installing docker.io with apt-get');
  run('apt-get', ['install', '-y', '--no-install-recommends', 'docker.io'], env);
  if (!existsSync(DOCKERD)) throw new Error(`installed docker.io, but ${DOCKERD} is still missing`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').slice(-2000)}`);
}

/** Creates a Linux bridge with the given gateway address (`10.1.2.1/24`) unless it exists. */
function ensureBridge(name: string, cidr: string): void {
  if (existsSync(`/sys/class/net/${name}`)) return;
  try {
    run('ip', ['link', 'add', 'name', name, 'type', 'bridge'], process.env);
  } catch (e) {
    if (existsSync(`/sys/class/net/${name}`)) return; // another process made it first
    throw e;
  }
  run('ip', ['addr', 'add', cidr, 'dev', name], process.env);
  run('ip', ['link', 'set', name, 'up'], process.env);
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}
