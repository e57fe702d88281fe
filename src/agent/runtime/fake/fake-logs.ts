/**
 * One fake container's log: a bounded buffer of lines (old lines fall off, as a rotated json-file log
 * would) that readers can follow. Positions are absolute line numbers, so a follower keeps its place while
 * lines are dropped from the front.
 */
import type { LogLine } from '../runtime.js';

export class FakeLogs {
  private lines: LogLine[] = [];
  private dropped = 0;
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly max: number) {}

  append(line: LogLine): void {
    this.lines.push(line);
    if (this.lines.length > this.max) {
      const n = this.lines.length - this.max;
      this.lines.splice(0, n);
      this.dropped += n;
    }
    this.wake();
  }

  /** Something changed (a line, or the container stopped): followers look again. */
  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The container is gone: followers end. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Docker's semantics: `since` and `tail` pick the initial lines; `follow` goes on while `live()`. */
  async *read(opts: { follow: boolean; tail?: number; sinceMs?: number; signal?: AbortSignal }, live: () => boolean): AsyncGenerator<LogLine> {
    let initial = opts.sinceMs === undefined ? this.lines.slice() : this.lines.filter((l) => l.time >= opts.sinceMs!);
    if (opts.tail !== undefined) initial = opts.tail <= 0 ? [] : initial.slice(-opts.tail);
    let pos = this.dropped + this.lines.length;
    yield* initial;
    if (!opts.follow) return;
    for (;;) {
      const fresh = this.lines.slice(Math.max(0, pos - this.dropped));
      pos = this.dropped + this.lines.length;
      yield* fresh;
      if (opts.signal?.aborted || this.closed) return;
      if (pos === this.dropped + this.lines.length && !live()) return;
      await this.changed(opts.signal);
    }
  }

  private changed(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
