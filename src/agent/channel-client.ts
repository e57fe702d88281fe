/**
 * The agent's end of the channel (src/protocol/agent/messages.ts): one WebSocket to `GET /agent/v1/channel`,
 * opened with a SigV4-presigned URL signed by the instance's credentials, kept alive with heartbeats, and
 * reopened with jittered exponential backoff whenever it drops, until `close()` or a `refused`.
 *
 * It knows nothing of tasks: `onOpen` and `onMessage` belong to the agent.
 */
import WebSocket from 'ws';
import { presignUrl } from '../auth/sigv4-sign.js';
import type { SigningCredentials } from '../auth/sigv4-sign.js';
import type { AgentMessage, ServerMessage } from '../protocol/agent/messages.js';
import { AGENT_CHANNEL_PATH } from '../protocol/agent/messages.js';
import type { Rng } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { Cancel, Timers } from './timers.js';
import { TickCork } from '../util/tick-cork.js';

export interface ChannelClientDeps {
  /** The server, http(s)://host:port. */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: () => SigningCredentials;
  readonly timers: Timers;
  readonly rng: Rng;
  readonly logger: Logger;
  readonly heartbeatMs?: number;
  /** Silence (no message, no pong) this long means the connection is dead. */
  readonly livenessMs?: number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** The socket is open: the first message must be `hello`. */
  readonly onOpen: () => void;
  readonly onMessage: (m: ServerMessage) => void;
  readonly onDisconnect?: (why: string) => void;
}

export const HEARTBEAT_MS = 10_000;

export class ChannelClient {
  readonly #deps: ChannelClientDeps;
  #ws: WebSocket | undefined;
  /** Batches the frames of one event-loop turn into one write (set once the upgrade hands over the socket). */
  #cork: TickCork | undefined;
  #open = false;
  #closed = false;
  #attempt = 0;
  #lastHeardMs = 0;
  #timer: Cancel | undefined;
  #connects = 0;

  constructor(deps: ChannelClientDeps) {
    this.#deps = deps;
  }

  get connected(): boolean {
    return this.#open;
  }

  /** Bytes queued on the socket and not yet written (log streams hold back while this is high). */
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  /** How many times a connection was established (for tests and metrics). */
  get connects(): number {
    return this.#connects;
  }

  start(delayMs = 0): void {
    if (this.#closed || this.#ws !== undefined || this.#timer !== undefined) return;
    if (delayMs > 0) this.#timer = this.#deps.timers.after(delayMs, () => this.#connect());
    else this.#connect();
  }

  /** Sends if connected; false when not (the caller keeps what matters and re-sends after reconnecting). */
  send(m: AgentMessage): boolean {
    const ws = this.#ws;
    if (!this.#open || ws === undefined || ws.readyState !== WebSocket.OPEN) return false;
    this.#cork?.hold();
    ws.send(JSON.stringify(m));
    return true;
  }

  /** Closes for good (no reconnect). */
  close(): Promise<void> {
    this.#closed = true;
    this.#timer?.();
    this.#timer = undefined;
    const ws = this.#ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'agent stopping');
    });
  }

  #connect(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const { endpoint, region, timers } = this.#deps;
    const base = new URL(AGENT_CHANNEL_PATH, endpoint);
    base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    let url: string;
    try {
      url = presignUrl(base.toString(), { service: 'ecs', region, credentials: this.#deps.credentials(), nowMs: timers.now(), expiresSec: 60 });
    } catch (e) {
      this.#retry(`cannot sign the channel request: ${(e as Error).message}`);
      return;
    }
    // No per-message deflate: its zlib contexts cost far more memory per connection than the bytes they save.
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 15_000, maxPayload: 64 * 1024 * 1024 });
    this.#ws = ws;
    this.#cork = undefined;
    ws.on('upgrade', (res) => {
      this.#cork = new TickCork(res.socket);
    });
    let failure: string | undefined;
    ws.on('unexpected-response', (_req, res) => {
      failure = `the server answered the upgrade with HTTP ${res.statusCode}`;
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      this.#open = true;
      this.#connects++;
      this.#lastHeardMs = timers.now();
      this.#armHeartbeat();
      try {
        this.#deps.onOpen();
      } catch (e) {
        this.#deps.logger.error('channel open handler failed', { error: e });
      }
    });
    ws.on('message', (data, isBinary) => {
      this.#lastHeardMs = timers.now();
      // A message means the server accepted us: the next drop starts the backoff afresh.
      this.#attempt = 0;
      if (isBinary) return;
      let m: ServerMessage;
      try {
        m = JSON.parse(data.toString()) as ServerMessage;
      } catch {
        this.#deps.logger.warn('ignoring a channel message that is not JSON');
        return;
      }
      try {
        this.#deps.onMessage(m);
      } catch (e) {
        this.#deps.logger.error('channel message handler failed', { type: (m as { t?: string }).t, error: e });
      }
    });
    ws.on('pong', () => {
      this.#lastHeardMs = timers.now();
    });
    ws.on('error', (e) => {
      failure ??= e.message;
    });
    ws.on('close', (code, reason) => {
      const wasOpen = this.#open;
      this.#open = false;
      this.#ws = undefined;
      this.#timer?.();
      this.#timer = undefined;
      const why = failure ?? `closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`;
      if (wasOpen) this.#deps.onDisconnect?.(why);
      this.#retry(why);
    });
  }

  #armHeartbeat(): void {
    const every = this.#deps.heartbeatMs ?? HEARTBEAT_MS;
    const liveness = this.#deps.livenessMs ?? every * 3;
    this.#timer = this.#deps.timers.after(every, () => {
      this.#timer = undefined;
      const ws = this.#ws;
      if (!this.#open || ws === undefined) return;
      const now = this.#deps.timers.now();
      if (now - this.#lastHeardMs > liveness) {
        this.#deps.logger.warn('channel silent; reconnecting', { silentMs: now - this.#lastHeardMs });
        ws.terminate();
        return;
      }
      this.send({ t: 'heartbeat', at: now });
      ws.ping();
      this.#armHeartbeat();
    });
  }

  /** Equal-jitter exponential backoff: half the step fixed, half random, capped. */
  #retry(why: string): void {
    if (this.#closed) return;
    const initial = this.#deps.initialBackoffMs ?? 250;
    const max = this.#deps.maxBackoffMs ?? 30_000;
    const step = Math.min(max, initial * 2 ** Math.min(this.#attempt, 20));
    this.#attempt++;
    const delay = Math.round(step / 2 + (this.#deps.rng.float() * step) / 2);
    // A server that is down for a while is worth one warning and a reminder now and then, not a line per attempt.
    const log = this.#attempt === 4 || this.#attempt % 20 === 0 ? this.#deps.logger.warn : this.#deps.logger.debug;
    log('channel unavailable; retrying', { why, inMs: delay, attempt: this.#attempt });
    this.#timer = this.#deps.timers.after(delay, () => this.#connect());
  }
}
