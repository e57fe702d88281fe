/**
 * A small pool of worker threads that hash, encrypt and write upload batches, and read and decrypt blob
 * batches, so the server's main thread only moves bytes between sockets and these threads
 * (./crypto-worker.ts does the work). Files stay opened and closed by the caller on the main thread; a
 * worker reads or writes the caller's file descriptor by position, and every caller waits for all of its jobs
 * to settle before it closes that descriptor.
 *
 * Batches travel in shared memory, not copied: an upload batch is a SharedArrayBuffer the caller fills and
 * reuses once the worker answers; a read batch is a SharedArrayBuffer the worker decrypts into, and the caller
 * reuses it once the socket has sent it.
 *
 * A running upload hash lives in one worker (an upload's batches all go to the worker that holds its hash, and
 * a worker handles its messages in order, so the hash sees the bytes in order). If that worker is gone, the
 * hash is gone too, and a commit hashes the file instead (as after a restart).
 *
 * Workers are unreferenced while idle, so the pool never keeps a process alive on its own.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SealedFormatError } from './sealed-format.js';

/** Messages to a worker. */
export type PoolRequest =
  | {
      readonly t: 'seal';
      readonly id: number;
      /** The append this batch belongs to: after one of its batches fails, the worker refuses the rest. */
      readonly stream: number;
      readonly fd: number;
      readonly dataKey: Uint8Array;
      readonly segmentSize: number;
      /** Index of the batch's first segment; the batch starts on a segment boundary. */
      readonly index: number;
      /** File offset of that segment. */
      readonly at: number;
      /** Plaintext, shared with the caller (who reuses it once answered); `len` bytes of it are used. */
      readonly buf: SharedArrayBuffer;
      readonly len: number;
      /** Add buf[from, len) to the running hash `key` (`init`: start it); bytes before `from` were hashed before. */
      readonly hash?: { readonly key: number; readonly init: boolean; readonly from: number };
    }
  | {
      readonly t: 'open';
      readonly id: number;
      readonly fd: number;
      readonly dataKey: Uint8Array;
      readonly segmentSize: number;
      readonly index: number;
      /** Segments to read, and the bytes they take in the file from `at`. */
      readonly n: number;
      readonly at: number;
      readonly want: number;
      /** Where the plaintext goes, from its start (shared with the caller, who reads it once answered). */
      readonly out: SharedArrayBuffer;
    }
  | { readonly t: 'digest'; readonly id: number; readonly key: number }
  | { readonly t: 'drop'; readonly key?: number; readonly stream?: number };

/** Answers from a worker. */
export type PoolReply =
  | { readonly id: number; readonly ok: true; readonly hex?: string }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly code?: string; readonly sealed: boolean };

interface Waiter {
  resolve(r: PoolReply & { ok: true }): void;
  reject(e: unknown): void;
}

/**
 * One worker. Uploads are bound to a slot (their running hash lives there), and so is each read (its batches
 * are decrypted one after another on one thread); `dead` once its thread is gone.
 */
export class PoolSlot {
  readonly #pending = new Map<number, Waiter>();
  /** Appends and reads currently bound to this worker (to spread new ones). */
  active = 0;
  dead = false;

  constructor(readonly worker: Worker) {
    worker.on('message', (m: PoolReply) => {
      const w = this.#pending.get(m.id);
      if (w === undefined) return;
      this.#pending.delete(m.id);
      if (this.#pending.size === 0) worker.unref();
      if (m.ok) w.resolve(m);
      else w.reject(m.sealed ? new SealedFormatError(m.message) : Object.assign(new Error(m.message), m.code !== undefined ? { code: m.code } : {}));
    });
    worker.on('error', (e) => this.#die(e));
    worker.on('exit', () => this.#die(new Error('a registry crypto worker exited')));
    // After the listeners: adding a 'message' listener references the worker's port again.
    worker.unref();
  }

  get load(): number {
    return this.#pending.size;
  }

  #die(e: unknown): void {
    this.dead = true;
    for (const w of this.#pending.values()) w.reject(e);
    this.#pending.clear();
  }

  request(msg: Exclude<PoolRequest, { t: 'drop' }>): Promise<PoolReply & { ok: true }> {
    if (this.dead) return Promise.reject(new Error('a registry crypto worker exited'));
    const p = new Promise<PoolReply & { ok: true }>((resolve, reject) => {
      this.#pending.set(msg.id, { resolve, reject });
    });
    if (this.#pending.size === 1) this.worker.ref();
    try {
      this.worker.postMessage(msg);
    } catch (e) {
      this.#pending.get(msg.id)?.reject(e);
      this.#pending.delete(msg.id);
      if (this.#pending.size === 0) this.worker.unref();
    }
    return p;
  }

  /** A message that needs no answer. */
  tell(msg: PoolRequest & { t: 'drop' }): void {
    if (!this.dead) this.worker.postMessage(msg);
  }
}

function poolSize(): number {
  const env = Number(process.env['GANTRY_REGISTRY_CRYPTO_THREADS']);
  if (Number.isInteger(env) && env > 0) return Math.min(env, 16);
  return Math.max(1, Math.min(4, availableParallelism()));
}

let nextId = 1;

export class CryptoPool {
  readonly #slots: (PoolSlot | undefined)[];

  constructor(size = poolSize()) {
    this.#slots = new Array<PoolSlot | undefined>(size).fill(undefined);
  }

  static nextId(): number {
    return nextId++;
  }

  #slot(i: number): PoolSlot {
    let s = this.#slots[i];
    if (s === undefined || s.dead) {
      s = new PoolSlot(new Worker(new URL('./crypto-worker.js', import.meta.url)));
      this.#slots[i] = s;
    }
    return s;
  }

  /** Starts every worker now (a thread takes some milliseconds to start; better at startup than in a push). */
  warm(): void {
    for (let i = 0; i < this.#slots.length; i++) this.#slot(i);
  }

  /** The worker to bind a new append or read to: the fewest streams bound, then the shortest queue. */
  forStream(): PoolSlot {
    let best = this.#slot(0);
    for (let i = 1; i < this.#slots.length; i++) {
      const s = this.#slot(i);
      if (s.active < best.active || (s.active === best.active && s.load < best.load)) best = s;
    }
    return best;
  }
}

let shared: CryptoPool | undefined;

/** The process-wide pool (created on first use). */
export function cryptoPool(): CryptoPool {
  shared ??= new CryptoPool();
  return shared;
}
