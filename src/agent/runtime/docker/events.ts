/**
 * Container events from `GET /events`, shared by all subscribers over one connection that is open only
 * while someone listens. The stream drops when the engine restarts or the socket breaks; it is then
 * reopened with backoff and `since` set to the last event seen, so nothing in between is lost (the engine
 * keeps a short event history). The first connection also asks from the moment of subscription, so an
 * event that happens while the connection is still being made is not missed either.
 *
 * Events are hints: the agent is level-triggered and always re-inspects, so a duplicate after a
 * reconnect is harmless.
 */
import type { Logger } from '../../../util/log.js';
import type { RuntimeEvent } from '../runtime.js';
import type { EngineClient } from './engine-client.js';
import { jsonMessages } from './json-stream.js';

/** One message of the engine's event stream (only what is read). */
export interface EngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

/** Attributes the engine adds to a container's labels in event actors. */
const ENGINE_ATTRIBUTES = new Set(['image', 'name', 'exitCode', 'signal', 'execDuration']);
const MAX_BACKOFF_MS = 5_000;

/** Maps one engine event to a RuntimeEvent, or undefined for the actions Gantry does not use. */
export function toRuntimeEvent(e: EngineEvent): RuntimeEvent | undefined {
  if (e.Type !== 'container' || !e.Actor?.ID || !e.Action) return undefined;
  const attributes = e.Actor.Attributes ?? {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(attributes)) if (!ENGINE_ATTRIBUTES.has(k)) labels[k] = v;
  const time = e.timeNano !== undefined ? Math.floor(e.timeNano / 1e6) : (e.time ?? 0) * 1000;
  const base = { id: e.Actor.ID, labels, time };
  switch (e.Action) {
    case 'start':
    case 'oom':
    case 'destroy':
      return { type: e.Action, ...base };
    case 'die': {
      const code = Number(attributes['exitCode']);
      return { type: 'die', ...base, ...(Number.isInteger(code) ? { exitCode: code } : {}) };
    }
    default: {
      // "health_status: healthy" (the status is part of the action).
      const m = /^health_status: (healthy|unhealthy|starting)$/.exec(e.Action);
      return m ? { type: 'health', ...base, health: m[1] as 'healthy' | 'unhealthy' | 'starting' } : undefined;
    }
  }
}

export class EngineEventStream {
  private readonly listeners = new Set<(e: RuntimeEvent) => void>();
  private abort: AbortController | undefined;
  private running = false;
  private closed = false;
  /** Resume point (Unix nanoseconds as the engine counts them): the newest event delivered. */
  private sinceNano = 0n;
  /** Keys of the last events delivered, to drop the replays a reconnect's `since` brings back. */
  private recent: string[] = [];

  private readonly client: EngineClient;
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(deps: { client: EngineClient; logger: Logger; now: () => number }) {
    this.client = deps.client;
    this.logger = deps.logger;
    this.now = deps.now;
  }

  subscribe(listener: (e: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.running && !this.closed) {
      this.sinceNano = BigInt(this.now()) * 1_000_000n;
      this.recent = [];
      this.running = true;
      void this.loop();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.abort?.abort();
    };
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.abort?.abort();
  }

  private async loop(): Promise<void> {
    let backoff = 250;
    while (this.listeners.size > 0 && !this.closed) {
      this.abort = new AbortController();
      try {
        const res = await this.client.stream('GET', '/events', {
          query: { since: formatNano(this.sinceNano), filters: JSON.stringify({ type: ['container'], event: ['start', 'die', 'oom', 'destroy', 'health_status'] }) },
          signal: this.abort.signal,
          timeoutMs: 10_000,
        });
        backoff = 250;
        for await (const m of jsonMessages(res)) this.deliver(m as EngineEvent);
      } catch (e) {
        if (this.abort.signal.aborted) break;
        this.logger.warn('Docker event stream failed; reconnecting', { error: (e as Error).message, inMs: backoff });
      }
      if (this.listeners.size === 0 || this.closed) break;
      await new Promise((r) => setTimeout(r, backoff).unref());
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
    this.running = false;
    // A subscriber may have arrived while the loop was winding down.
    if (this.listeners.size > 0 && !this.closed) {
      this.running = true;
      void this.loop();
    }
  }

  private deliver(m: EngineEvent): void {
    const nano = m.timeNano !== undefined ? BigInt(m.timeNano) : BigInt(m.time ?? 0) * 1_000_000_000n;
    const key = `${nano}/${m.Actor?.ID}/${m.Action}`;
    if (this.recent.includes(key)) return;
    this.recent.push(key);
    if (this.recent.length > 64) this.recent.shift();
    if (nano > this.sinceNano) this.sinceNano = nano;
    const e = toRuntimeEvent(m);
    if (!e) return;
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.logger.error('runtime event listener threw', { error: err });
      }
    }
  }
}

/** Unix nanoseconds → the `seconds.nanoseconds` form the engine's `since` accepts. */
function formatNano(n: bigint): string {
  return `${n / 1_000_000_000n}.${(n % 1_000_000_000n).toString().padStart(9, '0')}`;
}
