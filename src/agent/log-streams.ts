/**
 * The agent's end of log streams (src/protocol/agent/messages.ts): each `logs` request reads the runtime's
 * `logs()` of one container and sends the lines in batches until the log ends, the server cancels, or the
 * channel drops.
 *
 *   logs → resolve the container → empty `log` (found) → batches: full (lines or bytes) or LOG_FLUSH_MS old
 *        → each batch waits for a window slot (`logs-ack`) and for the socket buffer to drain below the
 *          high-water mark → `log-end`
 *
 * While a batch waits, the stream simply stops pulling lines, so the runtime's own stream (Docker's HTTP
 * response) is paused by ordinary stream backpressure and nothing piles up in the agent either.
 */
import type { AgentMessage, LogLineFrame, ServerMessage } from '../protocol/agent/messages.js';
import {
  LOG_BATCH_MAX_BYTES,
  LOG_BATCH_MAX_LINES,
  LOG_CHANNEL_HIGH_WATER_BYTES,
  LOG_FLUSH_MS,
  LOG_WINDOW,
} from '../protocol/agent/messages.js';
import type { Logger } from '../util/log.js';
import type { ContainerRuntime, LogLine } from './runtime/runtime.js';
import type { Cancel, Timers } from './timers.js';

/** A log stream the server asked for: the `logs` message without its tag. */
export type LogRequest = Omit<Extract<ServerMessage, { t: 'logs' }>, 't'>;

export interface LogStreamsDeps {
  readonly runtime: ContainerRuntime;
  readonly timers: Timers;
  readonly logger: Logger;
  /** The runtime id of a task's container, or why its log cannot be read. */
  readonly locate: (taskArn: string, container: string) => { readonly id: string } | { readonly error: string };
  /** False when the channel is down (the stream then ends: the server has dropped it too). */
  readonly send: (m: AgentMessage) => boolean;
  /** Bytes queued on the channel's socket and not yet written. */
  readonly buffered: () => number;
  /** How often a stream held back by a full socket buffer looks again. */
  readonly drainPollMs?: number;
}

interface Stream {
  readonly id: number;
  readonly abort: AbortController;
  /** Batches it may still send before an acknowledgement. */
  credits: number;
  wake: (() => void) | undefined;
}

const FLUSH = Symbol('flush');

export class LogStreams {
  readonly #deps: LogStreamsDeps;
  readonly #streams = new Map<number, Stream>();

  constructor(deps: LogStreamsDeps) {
    this.#deps = deps;
  }

  get size(): number {
    return this.#streams.size;
  }

  open(req: LogRequest): void {
    this.#streams.get(req.stream)?.abort.abort();
    const s: Stream = { id: req.stream, abort: new AbortController(), credits: LOG_WINDOW, wake: undefined };
    this.#streams.set(req.stream, s);
    this.#run(s, req)
      .catch((e: unknown) => {
        if (s.abort.signal.aborted) return;
        this.#deps.logger.warn('log stream failed', { task: req.taskArn, container: req.container, error: e });
        this.#deps.send({ t: 'log-end', stream: s.id, error: `reading the log failed: ${(e as Error).message}` });
      })
      .finally(() => {
        if (this.#streams.get(s.id) === s) this.#streams.delete(s.id);
      });
  }

  /** The server no longer wants the stream. */
  cancel(stream: number): void {
    const s = this.#streams.get(stream);
    if (s === undefined) return;
    this.#streams.delete(stream);
    this.#stop(s);
  }

  ack(stream: number, batches: number): void {
    const s = this.#streams.get(stream);
    if (s === undefined) return;
    s.credits = Math.min(LOG_WINDOW, s.credits + Math.max(0, batches));
    this.#wake(s);
  }

  /** The channel dropped: the server has forgotten every stream of this connection. */
  closeAll(): void {
    for (const s of this.#streams.values()) this.#stop(s);
    this.#streams.clear();
  }

  #stop(s: Stream): void {
    s.abort.abort();
    this.#wake(s);
  }

  #wake(s: Stream): void {
    const w = s.wake;
    s.wake = undefined;
    w?.();
  }

  async #run(s: Stream, req: LogRequest): Promise<void> {
    const { runtime, timers } = this.#deps;
    const found = this.#deps.locate(req.taskArn, req.container);
    if ('error' in found) {
      this.#deps.send({ t: 'log-end', stream: s.id, error: found.error });
      return;
    }
    const signal = s.abort.signal;
    if (!(await this.#emit(s, []))) return;
    const lines = runtime
      .logs(found.id, {
        follow: req.follow,
        ...(req.tail !== undefined ? { tail: req.tail } : {}),
        ...(req.sinceMs !== undefined ? { sinceMs: req.sinceMs } : {}),
        signal,
      })
      [Symbol.asyncIterator]();
    let batch: LogLineFrame[] = [];
    let bytes = 0;
    let flushTimer: Cancel | undefined;
    let flushDue: Promise<typeof FLUSH> | undefined;
    // Cancelling wakes the race below, so a follow on a silent container ends at once.
    const aborted = new Promise<typeof FLUSH>((resolve) => signal.addEventListener('abort', () => resolve(FLUSH), { once: true }));
    const send = async (): Promise<boolean> => {
      flushTimer?.();
      flushTimer = undefined;
      flushDue = undefined;
      const out = batch;
      batch = [];
      bytes = 0;
      return this.#emit(s, out);
    };
    try {
      let next = pull(lines);
      for (;;) {
        const r = await Promise.race([next, flushDue ?? aborted, aborted]);
        if (signal.aborted) return;
        if (r === FLUSH) {
          if (!(await send())) return;
          continue;
        }
        if (r.done === true) break;
        const line = frame(r.value);
        batch.push(line);
        bytes += line.line.length + 48;
        next = pull(lines);
        if (batch.length >= LOG_BATCH_MAX_LINES || bytes >= LOG_BATCH_MAX_BYTES) {
          if (!(await send())) return;
        } else if (flushDue === undefined) {
          flushDue = new Promise((resolve) => (flushTimer = timers.after(LOG_FLUSH_MS, () => resolve(FLUSH))));
        }
      }
      if (batch.length > 0 && !(await send())) return;
      this.#deps.send({ t: 'log-end', stream: s.id });
    } finally {
      flushTimer?.();
      if (!signal.aborted) s.abort.abort();
      // Ends the runtime's stream (the abort above already unblocked a pending read).
      void lines.return?.().catch(() => undefined);
    }
  }

  /** Sends one batch once the window and the socket allow; false when the stream is over (cancelled, channel down). */
  async #emit(s: Stream, lines: readonly LogLineFrame[]): Promise<boolean> {
    const { buffered, timers } = this.#deps;
    const poll = this.#deps.drainPollMs ?? 10;
    while (!s.abort.signal.aborted && (s.credits <= 0 || buffered() > LOG_CHANNEL_HIGH_WATER_BYTES)) {
      await new Promise<void>((resolve) => {
        s.wake = resolve;
        // Credits arrive as messages (they wake us); a draining socket does not say so, so look again soon.
        if (s.credits > 0) {
          const cancel = timers.after(poll, resolve);
          s.wake = () => {
            cancel();
            resolve();
          };
        }
      });
    }
    if (s.abort.signal.aborted) return false;
    s.credits--;
    if (this.#deps.send({ t: 'log', stream: s.id, lines })) return true;
    s.abort.abort();
    return false;
  }
}

/** The next line; a read that fails after the stream was given up on must not surface as an unhandled rejection. */
function pull(lines: AsyncIterator<LogLine>): Promise<IteratorResult<LogLine>> {
  const p = lines.next();
  p.catch(() => undefined);
  return p;
}

function frame(l: LogLine): LogLineFrame {
  return { stream: l.stream, time: l.time, line: l.line };
}
