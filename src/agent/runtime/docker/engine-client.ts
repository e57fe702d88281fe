/**
 * A small Docker Engine API client: JSON requests and streamed responses over the engine's unix socket
 * (or plain TCP), nothing else. The runtime above it decides what each status code means.
 *
 * Every request is sent under one pinned API version. Gantry's request and response shapes are those of
 * Engine API 1.41 (Docker 20.10); newer engines keep serving older versions, so pinning keeps behaviour the
 * same everywhere, and an engine older than that is refused up front with a clear message.
 */
import http from 'node:http';
import type { IncomingMessage } from 'node:http';

export const API_VERSION = '1.41';

export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** Where the engine listens, parsed from DOCKER_HOST syntax (`unix:///run/docker.sock`, `tcp://h:2375`) or a bare socket path. */
export type EngineEndpoint = { readonly socketPath: string } | { readonly hostname: string; readonly port: number };

export function parseDockerHost(host: string): EngineEndpoint {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { socketPath: host };
  const m = /^(?:tcp|http):\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(host);
  if (m) return { hostname: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  throw new Error(`unsupported DOCKER_HOST ${JSON.stringify(host)}: expected unix:///path or tcp://host:port (TLS is not supported)`);
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** A JSON-serialisable value, or raw bytes sent as-is (with `contentType`). */
  readonly body?: unknown;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Fails the request when no response has started by then. Streams are not timed once they flow. */
  readonly timeoutMs?: number;
}

export interface EngineResponse<T> {
  readonly status: number;
  readonly body: T;
}

const DEFAULT_TIMEOUT_MS = 120_000;

export class EngineClient {
  private readonly endpoint: EngineEndpoint;
  // Keep-alive matters: the agent inspects containers in tight loops, and a fresh socket per call adds up.
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private version: Promise<string> | undefined;

  constructor(host: string) {
    this.endpoint = parseDockerHost(host);
  }

  /** `GET /_ping`: true when an engine answers. Never throws. */
  async ping(timeoutMs = 2_000): Promise<boolean> {
    try {
      const res = await this.send('GET', '/_ping', { timeoutMs });
      res.resume();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  /** A JSON request under the pinned API version. Error statuses are returned, not thrown: callers map them. */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<EngineResponse<T>> {
    const res = await this.send(method, (await this.prefix()) + path, opts);
    return { status: res.statusCode ?? 0, body: (await readBody(res)) as T };
  }

  /** Like `request`, but any status ≥ 400 throws an EngineError carrying the engine's message. */
  async json<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request<T>(method, path, opts);
    if (res.status >= 400) throw new EngineError(res.status, engineMessage(res.body, res.status));
    return res.body;
  }

  /** A streamed response (pull progress, events, logs). Error statuses are read and thrown as EngineError. */
  async stream(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const res = await this.send(method, (await this.prefix()) + path, opts);
    const status = res.statusCode ?? 0;
    if (status >= 400) {
      const body = await readBody(res);
      throw new EngineError(status, engineMessage(body, status));
    }
    return res;
  }

  close(): void {
    this.agent.destroy();
  }

  private prefix(): Promise<string> {
    this.version ??= this.negotiate().catch((e: unknown) => {
      this.version = undefined; // the engine may come up later; ask again next time
      throw e;
    });
    return this.version;
  }

  private async negotiate(): Promise<string> {
    const res = await this.send('GET', '/version', { timeoutMs: 10_000 });
    const body = (await readBody(res)) as { ApiVersion?: string } | undefined;
    if ((res.statusCode ?? 0) >= 400 || !body?.ApiVersion) {
      throw new EngineError(res.statusCode ?? 0, `cannot read the Docker engine version (${engineMessage(body, res.statusCode ?? 0)})`);
    }
    if (compareVersions(body.ApiVersion, API_VERSION) < 0) {
      throw new EngineError(0, `Docker Engine API ${body.ApiVersion} is too old: Gantry needs ${API_VERSION} (Docker 20.10) or newer`);
    }
    return `/v${API_VERSION}`;
  }

  private send(method: string, path: string, opts: RequestOptions): Promise<IncomingMessage> {
    const query = opts.query ? encodeQuery(opts.query) : '';
    let payload: Buffer | undefined;
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) {
      if (Buffer.isBuffer(opts.body)) {
        payload = opts.body;
        headers['content-type'] = opts.contentType ?? 'application/octet-stream';
      } else {
        payload = Buffer.from(JSON.stringify(opts.body));
        headers['content-type'] = 'application/json';
      }
      headers['content-length'] = String(payload.length);
    }
    const target = 'socketPath' in this.endpoint ? { socketPath: this.endpoint.socketPath } : { host: this.endpoint.hostname, port: this.endpoint.port };
    return new Promise((resolve, reject) => {
      const req = http.request({ ...target, agent: this.agent, method, path: path + query, headers, ...(opts.signal ? { signal: opts.signal } : {}) }, (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(() => req.destroy(new Error(`Docker engine did not answer ${method} ${path} within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end(payload);
    });
  }
}

function encodeQuery(q: Readonly<Record<string, string | number | boolean | undefined>>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'boolean' ? (v ? '1' : '0') : String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

async function readBody(res: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  if ((res.headers['content-type'] ?? '').includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function engineMessage(body: unknown, status: number): string {
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  if (typeof body === 'string' && body.trim()) return body.trim();
  return `HTTP ${status}`;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** X-Registry-Auth: base64url of the JSON auth config. Docker decodes with padding, so keep the `=`. */
export function registryAuthHeader(auth: { username: string; password: string; serverAddress: string }): string {
  const json = JSON.stringify({ username: auth.username, password: auth.password, serveraddress: auth.serverAddress });
  return Buffer.from(json, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
