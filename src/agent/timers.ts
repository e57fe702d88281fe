/**
 * Timers for the agent. Everything in the agent that waits (heartbeats, reconnect backoff, dependency start
 * timeouts, restart checks, container cleanup) goes through `Timers`, so tests drive time by hand and one
 * process can host thousands of hollow instances on one shared wheel instead of thousands of node timers.
 */
import type { Clock } from '../util/clock.js';

export type Cancel = () => void;

export interface Timers extends Clock {
  /** Runs `fn` once, no earlier than `ms` from now; the returned function cancels it. */
  after(ms: number, fn: () => void): Cancel;
}

interface Entry {
  due: number;
  order: number;
  fn: (() => void) | undefined;
}

/**
 * A min-heap of deadlines behind a single node timer. Deadlines are rounded up to `resolutionMs`, so entries
 * due close together fire in one wake-up; cancelled entries are dropped lazily (and the heap compacted when
 * they pile up), which keeps cancel O(1) for the common "arm, then cancel" pattern.
 */
export class TimerWheel implements Timers {
  readonly #clock: Clock;
  readonly #resolutionMs: number;
  #heap: Entry[] = [];
  #cancelled = 0;
  #order = 0;
  #armed: NodeJS.Timeout | undefined;
  #armedFor = Infinity;
  #closed = false;
  readonly #onError: (e: unknown) => void;

  constructor(opts: { clock?: Clock; resolutionMs?: number; onError?: (e: unknown) => void } = {}) {
    this.#clock = opts.clock ?? { now: () => Date.now() };
    this.#resolutionMs = Math.max(1, opts.resolutionMs ?? 25);
    // By default a throwing callback surfaces the way an error in a node timer does: as an uncaught exception.
    this.#onError =
      opts.onError ??
      ((e) =>
        queueMicrotask(() => {
          throw e;
        }));
  }

  now(): number {
    return this.#clock.now();
  }

  /** Entries still waiting (for tests and memory accounting). */
  get size(): number {
    return this.#heap.length - this.#cancelled;
  }

  after(ms: number, fn: () => void): Cancel {
    if (this.#closed) return noop;
    const r = this.#resolutionMs;
    const due = Math.ceil((this.#clock.now() + Math.max(0, ms)) / r) * r;
    const entry: Entry = { due, order: this.#order++, fn };
    push(this.#heap, entry);
    if (due < this.#armedFor) this.#arm();
    return () => {
      if (entry.fn === undefined) return;
      entry.fn = undefined;
      this.#cancelled++;
      if (this.#cancelled > 64 && this.#cancelled * 2 > this.#heap.length) this.#compact();
    };
  }

  close(): void {
    this.#closed = true;
    if (this.#armed !== undefined) clearTimeout(this.#armed);
    this.#armed = undefined;
    this.#heap = [];
    this.#cancelled = 0;
  }

  #arm(): void {
    if (this.#armed !== undefined) clearTimeout(this.#armed);
    this.#armed = undefined;
    this.#armedFor = Infinity;
    const top = this.#heap[0];
    if (top === undefined || this.#closed) return;
    this.#armedFor = top.due;
    this.#armed = setTimeout(() => this.#fire(), Math.max(0, top.due - this.#clock.now()));
  }

  #fire(): void {
    this.#armed = undefined;
    this.#armedFor = Infinity;
    const now = this.#clock.now();
    // Collect first, then run: a callback that schedules a zero-delay timer must not be run in this same pass.
    const due: (() => void)[] = [];
    while (this.#heap.length > 0 && this.#heap[0]!.due <= now) {
      const e = pop(this.#heap)!;
      if (e.fn === undefined) this.#cancelled--;
      else {
        due.push(e.fn);
        e.fn = undefined;
      }
    }
    for (const fn of due) {
      try {
        fn();
      } catch (err) {
        // A throwing callback must not starve the others.
        this.#onError(err);
      }
    }
    if (!this.#closed) this.#arm();
  }

  #compact(): void {
    const live = this.#heap.filter((e) => e.fn !== undefined);
    this.#heap = [];
    for (const e of live) push(this.#heap, e);
    this.#cancelled = 0;
    this.#arm();
  }
}

/** Time that only moves when a test says so. */
export class ManualTimers implements Timers {
  #now: number;
  #entries: Entry[] = [];
  #order = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): Cancel {
    const entry: Entry = { due: this.#now + Math.max(0, ms), order: this.#order++, fn };
    push(this.#entries, entry);
    return () => {
      entry.fn = undefined;
    };
  }

  /** Pending (uncancelled) timers. */
  get pending(): number {
    return this.#entries.filter((e) => e.fn !== undefined).length;
  }

  /** Moves time forward by `ms`, running every timer that falls due, in deadline order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const top = this.#entries[0];
      if (top === undefined || top.due > target) break;
      pop(this.#entries);
      this.#now = Math.max(this.#now, top.due);
      const fn = top.fn;
      top.fn = undefined;
      fn?.();
    }
    this.#now = target;
  }
}

const noop: Cancel = () => {};

function less(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.order < b.order);
}

function push(heap: Entry[], e: Entry): void {
  heap.push(e);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!less(heap[i]!, heap[p]!)) break;
    [heap[i], heap[p]] = [heap[p]!, heap[i]!];
    i = p;
  }
}

function pop(heap: Entry[]): Entry | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return top;
  heap[0] = last;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
    if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
    if (m === i) break;
    [heap[i], heap[m]] = [heap[m]!, heap[i]!];
    i = m;
  }
  return top;
}
