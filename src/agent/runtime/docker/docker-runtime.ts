/**
 * The Docker runtime: ContainerRuntime over the Engine API. Each method is one or two engine calls; what
 * this file adds is the meaning of the engine's answers — which statuses are no-ops (304, 404), which are
 * idempotent successes (409 on create), and which become the ECS reasons the agent reports
 * (CannotPullContainerError, CannotStartContainerError, …).
 */
import type { Clock } from '../../../util/clock.js';
import { systemClock } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import { silentLogger } from '../../../util/log.js';
import { RuntimeError } from '../runtime.js';
import type { ContainerRuntime, ContainerSpec, ContainerStatus, HostInfo, LogLine, RegistryAuth, RuntimeEvent } from '../runtime.js';
import { toCreateBody } from './create-body.js';
import type { CreateContainerBody } from './create-body.js';
import { EngineClient, EngineError, registryAuthHeader } from './engine-client.js';
import { EngineEventStream } from './events.js';
import { toContainerStatus } from './inspect.js';
import type { ContainerInspect } from './inspect.js';
import { jsonMessages, splitImageReference, summarisePull } from './json-stream.js';
import { demuxLogs } from './log-demux.js';

export interface DockerRuntimeDeps {
  /** DOCKER_HOST syntax (`unix:///var/run/docker.sock`, `tcp://host:2375`) or a socket path. */
  readonly host: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/** How long a just-created container may take to become visible by name after the engine reported a conflict. */
const NAME_CONFLICT_RETRIES = 20;

export class DockerRuntime implements ContainerRuntime {
  readonly kind = 'docker' as const;
  /** The raw Engine API, for what the runtime interface does not cover (image removal, test inspection). */
  readonly engine: EngineClient;
  private readonly logger: Logger;
  private readonly events: EngineEventStream;
  /** Image id → manifest digest: ids are content hashes, so an entry never goes stale. */
  private readonly digests = new Map<string, string | undefined>();
  /**
   * Containers the engine sent an `oom` event for. Docker 20.10 on cgroup v2 sometimes leaves
   * State.OOMKilled false for a container the kernel OOM-killed (the OOM notification races the exit), but
   * its event stream still reports the kill, so both sources count. Bounded: oldest ids are dropped.
   */
  private readonly oomKilled = new Set<string>();
  private readonly stopWatchingOom: () => void;

  constructor(deps: DockerRuntimeDeps) {
    this.engine = new EngineClient(deps.host);
    this.logger = deps.logger ?? silentLogger;
    const clock = deps.clock ?? systemClock;
    this.events = new EngineEventStream({ client: this.engine, logger: this.logger, now: () => clock.now() });
    this.stopWatchingOom = this.events.subscribe((e) => {
      if (e.type !== 'oom') return;
      this.oomKilled.add(e.id);
      if (this.oomKilled.size > 10_000) this.oomKilled.delete(this.oomKilled.values().next().value!);
    });
  }

  async info(): Promise<HostInfo> {
    const i = await this.engine.json<{ NCPU: number; MemTotal: number; OSType: string; Architecture: string; ServerVersion: string }>('GET', '/info');
    return {
      cpus: i.NCPU,
      memoryMiB: Math.floor(i.MemTotal / (1024 * 1024)),
      os: i.OSType,
      architecture: ecsArchitecture(i.Architecture),
      runtimeVersion: i.ServerVersion,
    };
  }

  async hasImage(image: string): Promise<boolean> {
    const res = await this.engine.request('GET', `/images/${encodeURIComponent(image)}/json`);
    if (res.status === 404) return false;
    if (res.status >= 400) throw new EngineError(res.status, `inspect image ${image}: HTTP ${res.status}`);
    return true;
  }

  async pullImage(image: string, auth?: RegistryAuth): Promise<{ digest?: string }> {
    const { repository, tag } = splitImageReference(image);
    try {
      const res = await this.engine.stream('POST', '/images/create', {
        query: { fromImage: repository, tag },
        // The engine wants the header even for anonymous pulls from some registries; `{}` means none.
        headers: { 'X-Registry-Auth': auth ? registryAuthHeader(auth) : 'e30=' },
      });
      const summary = await summarisePull(jsonMessages(res), image, (m) => {
        if (m.status && m.id) this.logger.debug('pull progress', { image, layer: m.id, status: m.status, progress: m.progress });
      });
      this.logger.info('pulled image', { image, digest: summary.digest, status: summary.status });
      return summary.digest ? { digest: summary.digest } : {};
    } catch (e) {
      if (e instanceof RuntimeError) throw e;
      throw new RuntimeError('CannotPullContainerError', `pull image ${image}: ${(e as Error).message}`);
    }
  }

  /** Loads an image from a tarball of a root filesystem (`docker import`): how offline hosts and tests get images. */
  async importImage(rootfsTar: Buffer, reference: string): Promise<void> {
    const { repository, tag } = splitImageReference(reference);
    const res = await this.engine.stream('POST', '/images/create', {
      query: { fromSrc: '-', repo: repository, tag },
      body: rootfsTar,
      contentType: 'application/x-tar',
    });
    await summarisePull(jsonMessages(res), reference);
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    let body: CreateContainerBody;
    try {
      body = toCreateBody(spec);
    } catch (e) {
      throw new RuntimeError('CannotCreateContainerError', (e as Error).message);
    }
    const res = await this.engine.request<{ Id?: string; message?: string; Warnings?: string[] }>('POST', '/containers/create', { query: { name: spec.name }, body });
    if (res.status === 201 && res.body.Id) {
      if (res.body.Warnings?.length) this.logger.warn('container created with warnings', { name: spec.name, warnings: res.body.Warnings });
      return res.body.Id;
    }
    if (res.status === 409) return this.existingByName(spec.name);
    throw new RuntimeError('CannotCreateContainerError', `${spec.name}: ${res.body?.message ?? `HTTP ${res.status}`}`);
  }

  /**
   * The name is taken, so the container exists: this is a repeated create (after a crash, or two racing
   * calls). The engine reserves the name before the container is registered, so it can briefly be
   * taken yet not inspectable.
   */
  private async existingByName(name: string): Promise<string> {
    for (let i = 0; i < NAME_CONFLICT_RETRIES; i++) {
      const res = await this.engine.request<{ Id?: string }>('GET', `/containers/${encodeURIComponent(name)}/json`);
      if (res.status === 200 && res.body.Id) return res.body.Id;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new RuntimeError('CannotCreateContainerError', `${name}: the name is in use, but no container by that name can be found`);
  }

  async startContainer(id: string): Promise<void> {
    const res = await this.engine.request<{ message?: string }>('POST', `/containers/${encodeURIComponent(id)}/start`);
    if (res.status === 204 || res.status === 304) return;
    throw new RuntimeError('CannotStartContainerError', res.body?.message ?? `${id}: HTTP ${res.status}`);
  }

  async stopContainer(id: string, timeoutSec: number): Promise<void> {
    const t = Math.max(0, Math.ceil(timeoutSec));
    const res = await this.engine.request<{ message?: string }>('POST', `/containers/${encodeURIComponent(id)}/stop`, {
      query: { t },
      timeoutMs: (t + 60) * 1000,
    });
    if (res.status === 204 || res.status === 304 || res.status === 404) return;
    throw new RuntimeError('CannotStopContainerError', res.body?.message ?? `${id}: HTTP ${res.status}`);
  }

  async removeContainer(id: string): Promise<void> {
    const res = await this.engine.request<{ message?: string }>('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { v: true, force: true } });
    if (res.status === 204 || res.status === 404) return;
    // 409 "removal already in progress": someone else is removing it, which is the outcome wanted.
    if (res.status === 409 && /already in progress/i.test(res.body?.message ?? '')) return;
    throw new EngineError(res.status, `remove container ${id}: ${res.body?.message ?? `HTTP ${res.status}`}`);
  }

  async inspectContainer(id: string): Promise<ContainerStatus | undefined> {
    const res = await this.engine.request<ContainerInspect & { message?: string }>('GET', `/containers/${encodeURIComponent(id)}/json`);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new RuntimeError('CannotInspectContainerError', res.body?.message ?? `${id}: HTTP ${res.status}`);
    const status = toContainerStatus(res.body, await this.digestOf(res.body.Image));
    if (status.oomKilled || status.state !== 'exited' || status.exitCode !== 137 || !res.body.HostConfig?.Memory) return status;
    // Killed (137) with a memory limit but not flagged (Docker 20.10 misses very early OOM kills in the inspect
    // state): give the oom event, which can lag behind on a busy engine, up to 2 s to arrive.
    for (let i = 0; i < 80 && !this.oomKilled.has(status.id); i++) await new Promise((r) => setTimeout(r, 25));
    return this.oomKilled.has(status.id) ? { ...status, oomKilled: true } : status;
  }

  async listContainers(labels: Readonly<Record<string, string>>): Promise<ContainerStatus[]> {
    const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
    const list = await this.engine.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: true, filters } });
    const all = await Promise.all(list.map((c) => this.inspectContainer(c.Id)));
    return all.filter((c): c is ContainerStatus => c !== undefined);
  }

  async createVolume(name: string, driver: string, options: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): Promise<void> {
    await this.engine.json('POST', '/volumes/create', { body: { Name: name, Driver: driver, DriverOpts: options, Labels: labels } });
  }

  async removeVolume(name: string): Promise<void> {
    const res = await this.engine.request<{ message?: string }>('DELETE', `/volumes/${encodeURIComponent(name)}`);
    if (res.status === 204 || res.status === 404) return;
    throw new EngineError(res.status, `remove volume ${name}: ${res.body?.message ?? `HTTP ${res.status}`}`);
  }

  subscribe(listener: (e: RuntimeEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  async *logs(id: string, opts: { follow: boolean; tail?: number; sinceMs?: number; signal?: AbortSignal }): AsyncIterable<LogLine> {
    // The stream is framed only without a TTY, and nothing in the response says which it is.
    const c = await this.engine.request<ContainerInspect>('GET', `/containers/${encodeURIComponent(id)}/json`);
    if (c.status === 404) return;
    let res;
    try {
      res = await this.engine.stream('GET', `/containers/${encodeURIComponent(id)}/logs`, {
        query: {
          stdout: true,
          stderr: true,
          timestamps: true,
          follow: opts.follow,
          tail: opts.tail ?? 'all',
          since: opts.sinceMs !== undefined ? (opts.sinceMs / 1000).toFixed(3) : undefined,
        },
        ...(opts.signal ? { signal: opts.signal } : {}),
        // A follow may wait long for its first line; only the connection is timed.
        timeoutMs: opts.follow ? 30_000 : 120_000,
      });
    } catch (e) {
      if (opts.signal?.aborted) return;
      throw e;
    }
    try {
      yield* demuxLogs(res, { multiplexed: !c.body.Config.Tty, timestamps: true });
    } catch (e) {
      if (!opts.signal?.aborted) throw e;
    } finally {
      res.destroy();
    }
  }

  async close(): Promise<void> {
    this.stopWatchingOom();
    this.events.close();
    this.engine.close();
  }

  private async digestOf(imageId: string): Promise<string | undefined> {
    if (this.digests.has(imageId)) return this.digests.get(imageId);
    const res = await this.engine.request<{ RepoDigests?: string[] }>('GET', `/images/${encodeURIComponent(imageId)}/json`);
    if (res.status !== 200) return undefined; // the image may be gone while the container remains
    const digest = res.body.RepoDigests?.[0]?.split('@')[1];
    this.digests.set(imageId, digest);
    return digest;
  }
}

/** The engine reports the kernel's machine name; ECS's `ecs.cpu-architecture` attribute says x86_64 or arm64. */
export function ecsArchitecture(machine: string): string {
  switch (machine) {
    case 'x86_64':
    case 'amd64':
      return 'x86_64';
    case 'aarch64':
    case 'arm64':
      return 'arm64';
    default:
      return machine;
  }
}
