/**
 * The in-memory view of the store that the API and the controllers read: every record of the kinds Gantry
 * serves, loaded once at start and kept current by the one path that writes. The store stays the record
 * (DESIGN.md principle 5); this is a cache that can always be rebuilt from it.
 *
 * Writes are pipelined decisions:
 *  1. `transact(decide)` runs `decide` synchronously against the *latest* state — committed records plus
 *     the writes of commits still in flight (the overlay) — so concurrent writers of the same record queue
 *     behind each other in memory instead of colliding in the store.
 *  2. Its writes carry guards (`ifRev`) on everything the decision depended on, with the revision each
 *     in-flight commit will get: every batch is submitted with `expectRev`, so it commits at exactly its
 *     predicted revision or not at all, and a batch behind one of ours still in flight is `chained`: it
 *     commits only if that revision went to us. A guard can therefore never match another writer's version.
 *  3. The store checks every guard and group-commits the batch with one fsync; the caller is answered only
 *     when its commit is durable.
 * If a commit fails, every commit behind it fails too (its predicted revision is gone) and decides again
 * once the pipeline has drained and the catalog has caught up with the store's change feed — which is also
 * how a write from another process (a replica sharing PostgreSQL) is noticed. So no stale decision is ever
 * committed, and the in-memory pipeline keeps durable-write throughput high.
 *
 * Readers outside a decision see only committed (durable) records: nothing is shown before it is safe.
 */
import { randomUUID } from 'node:crypto';
import type { Store, WriteOp } from '../store/types.js';
import { StoreConflictError } from '../store/types.js';

export interface Versioned<V> {
  readonly value: V;
  /** Store revision at which this record last changed: the guard to commit against. */
  readonly rev: number;
}

export interface CatalogChange {
  readonly kind: string;
  readonly key: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly rev: number;
}
export type CatalogListener = (change: CatalogChange) => void;

/** What a `transact` step returns: the writes to make and the value to hand back once they are durable. */
export interface Decision<T> {
  readonly ops: readonly WriteOp[];
  readonly result: T;
}

interface OverlayEntry {
  readonly value: unknown; // undefined = deleted
  readonly rev: number;
  readonly commit: PendingCommit;
}
interface PendingCommit {
  readonly ops: readonly WriteOp[];
  settled: Promise<unknown>;
}

export class Catalog {
  readonly #store: Store;
  readonly #kinds = new Map<string, Map<string, Versioned<unknown>>>();
  readonly #listeners = new Set<CatalogListener>();
  readonly #speculative = new Set<CatalogListener>();
  /** Writes of commits in flight, by kind then key (nested, so a read inside a decision builds no key string). */
  readonly #overlay = new Map<string, Map<string, OverlayEntry>>();
  readonly #pending: PendingCommit[] = [];
  #committedRev = 0;
  #deciding = 0;
  /** Names this catalog's commits in the store, so chained commits can tell ours from another writer's. */
  readonly #writer = randomUUID();

  private constructor(store: Store) {
    this.#store = store;
  }

  static async open(store: Store, kinds: readonly string[]): Promise<Catalog> {
    const catalog = new Catalog(store);
    for (const kind of kinds) {
      const map = new Map<string, Versioned<unknown>>();
      for (const r of await store.load(kind)) map.set(r.key, { value: r.value, rev: r.rev });
      catalog.#kinds.set(kind, map);
    }
    catalog.#committedRev = await store.revision();
    return catalog;
  }

  get store(): Store {
    return this.#store;
  }

  #map(kind: string): Map<string, Versioned<unknown>> {
    const m = this.#kinds.get(kind);
    if (!m) throw new Error(`catalog: kind '${kind}' was not loaded`);
    return m;
  }

  /** The committed record — or, inside a decision, the latest one including commits in flight. */
  get<V>(kind: string, key: string): Versioned<V> | undefined {
    if (this.#deciding > 0) {
      const o = this.#overlay.get(kind)?.get(key);
      if (o) return o.value === undefined ? undefined : ({ value: o.value, rev: o.rev } as Versioned<V>);
    }
    return this.#map(kind).get(key) as Versioned<V> | undefined;
  }

  /**
   * Every committed record of a kind. Decisions that must also see in-flight records iterate a GroupIndex
   * (which includes them) and read each through `get`.
   */
  all<V>(kind: string): IterableIterator<[string, Versioned<V>]> {
    return this.#map(kind).entries() as IterableIterator<[string, Versioned<V>]>;
  }

  count(kind: string): number {
    return this.#map(kind).size;
  }

  /** Listeners see every committed change, in revision order, synchronously once it is durable. */
  subscribe(listener: CatalogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Speculative listeners also see writes when they are decided (before they are durable) and their
   * reversal if the commit fails: for indexes that decisions read (GroupIndex).
   */
  subscribeSpeculative(listener: CatalogListener): () => void {
    this.#speculative.add(listener);
    return () => this.#speculative.delete(listener);
  }

  /** Commits operations as they are (their own guards, if any, still apply). */
  commit(ops: readonly WriteOp[]): Promise<void> {
    return this.transact(() => ({ ops, result: undefined }), 1);
  }

  /**
   * Decides against the latest state and commits; on a lost race, decides again. `decide` must be
   * synchronous and free of side effects other than returning its decision: it may run more than once.
   */
  async transact<T>(decide: () => Decision<T>, maxAttempts = 50): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let decision: Decision<T>;
      this.#deciding++;
      try {
        decision = decide();
      } finally {
        this.#deciding--;
      }
      if (decision.ops.length === 0) {
        // A decision that writes nothing may still have read in-flight state: answer once that is durable.
        await this.#barrier();
        return decision.result;
      }
      try {
        await this.#submit(decision.ops);
        return decision.result;
      } catch (e) {
        if (!(e instanceof StoreConflictError) || attempt >= maxAttempts) throw e;
        // Let everything in flight settle, then catch up with writes made elsewhere, before deciding again.
        await this.#barrier();
        await this.#catchUp();
      }
    }
  }

  async #barrier(): Promise<void> {
    const last = this.#pending.at(-1);
    if (last) await last.settled.catch(() => undefined);
  }

  /** Applies changes committed by other writers (another process on the same store) since our last look. */
  async #catchUp(): Promise<void> {
    if (this.#pending.length > 0) return;
    for (;;) {
      const changes = await this.#store.changes(this.#committedRev, 1000);
      if (changes.length === 0) break;
      for (const c of changes) {
        const map = this.#kinds.get(c.kind);
        if (map) {
          const prev = map.get(c.key);
          if (!prev || prev.rev < c.rev) {
            if (c.deleted) map.delete(c.key);
            else map.set(c.key, { value: c.value, rev: c.rev });
            const change = { kind: c.kind, key: c.key, before: prev?.value, after: c.deleted ? undefined : c.value, rev: c.rev };
            this.#emit(this.#speculative, change);
            this.#emit(this.#listeners, change);
          }
        }
        this.#committedRev = Math.max(this.#committedRev, c.rev);
      }
    }
    // Commits that wrote nothing visible in the feed (read guards only) still advance the revision.
    this.#committedRev = Math.max(this.#committedRev, await this.#store.revision());
  }

  async #submit(ops: readonly WriteOp[]): Promise<void> {
    const predictedRev = this.#committedRev + this.#pending.length + 1;
    const pending: PendingCommit = { ops, settled: Promise.resolve() };
    const promise = this.#store.commit(ops, { expectRev: predictedRev, writer: this.#writer, chained: this.#pending.length > 0 });
    pending.settled = promise;
    this.#pending.push(pending);
    for (const op of ops) {
      if (op.op === 'check') continue;
      const before = this.#latest(op.kind, op.key);
      const after = op.op === 'put' ? op.value : undefined;
      this.#overlayOf(op.kind).set(op.key, { value: after, rev: predictedRev, commit: pending });
      this.#emit(this.#speculative, { kind: op.kind, key: op.key, before, after, rev: predictedRev });
    }
    try {
      const { rev } = await promise;
      this.#committedRev = Math.max(this.#committedRev, rev);
      this.#settle(pending, rev);
    } catch (e) {
      this.#settle(pending, undefined);
      throw e;
    }
  }

  /** Moves a settled commit out of the pipeline: applies it (rev given) or reverts its overlay (failed). */
  #settle(pending: PendingCommit, rev: number | undefined): void {
    const i = this.#pending.indexOf(pending);
    if (i >= 0) this.#pending.splice(i, 1);
    for (const op of pending.ops) {
      if (op.op === 'check') continue;
      const overlay = this.#overlay.get(op.kind);
      const mine = overlay?.get(op.key)?.commit === pending;
      const map = this.#kinds.get(op.kind);
      if (rev !== undefined && map) {
        const prev = map.get(op.key);
        if (!prev || prev.rev < rev) {
          if (op.op === 'put') map.set(op.key, { value: op.value, rev });
          else map.delete(op.key);
          this.#emit(this.#listeners, { kind: op.kind, key: op.key, before: prev?.value, after: op.op === 'put' ? op.value : undefined, rev });
        }
      }
      if (mine) {
        overlay!.delete(op.key);
        if (rev === undefined) {
          // Undo the speculative write for indexes: the record is back to its committed value.
          const committed = map?.get(op.key);
          this.#emit(this.#speculative, {
            kind: op.kind,
            key: op.key,
            before: op.op === 'put' ? op.value : undefined,
            after: committed?.value,
            rev: committed?.rev ?? 0,
          });
        }
      }
    }
  }

  #latest(kind: string, key: string): unknown {
    const o = this.#overlay.get(kind)?.get(key);
    return o ? o.value : this.#kinds.get(kind)?.get(key)?.value;
  }

  #overlayOf(kind: string): Map<string, OverlayEntry> {
    let m = this.#overlay.get(kind);
    if (!m) this.#overlay.set(kind, (m = new Map()));
    return m;
  }

  #emit(listeners: Set<CatalogListener>, change: CatalogChange): void {
    for (const l of listeners) l(change);
  }
}

/** A put guarded by the revision that was read (0 when the record did not exist). */
export function putOp(kind: string, key: string, value: unknown, read: Versioned<unknown> | undefined): WriteOp {
  return { op: 'put', kind, key, value, ifRev: read?.rev ?? 0 };
}
export function deleteOp(kind: string, key: string, read: Versioned<unknown>): WriteOp {
  return { op: 'delete', kind, key, ifRev: read.rev };
}
/** A read guard: the decision depended on this record staying at the revision that was read. */
export function checkOp(kind: string, key: string, read: Versioned<unknown> | undefined): WriteOp {
  return { op: 'check', kind, key, ifRev: read?.rev ?? 0 };
}
