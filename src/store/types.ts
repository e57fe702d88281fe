/**
 * The durable record of Gantry's state: a versioned key-value store in the manner of etcd.
 *
 * Every record is `(kind, key) → JSON value` and carries the store-wide revision at which it last changed.
 * Writers commit a batch of operations atomically, each optionally guarded by the revision the writer read
 * (`ifRev`; 0 means "must not exist"): that is the optimistic-concurrency check DESIGN.md asks for, so two
 * schedulers (or two requests) can never both win a race. Readers keep in-memory indexes built from `load`
 * and kept current from `changes` — the store itself never needs secondary indexes.
 *
 * Backends: SQLite (embedded, src/store/sqlite) now, PostgreSQL later. Both must pass src/store/contract.ts.
 */
export interface StoredRecord<V = unknown> {
  readonly kind: string;
  readonly key: string;
  readonly value: V;
  /** Store revision of the commit that last wrote this record. */
  readonly rev: number;
}

export type WriteOp =
  | { readonly op: 'put'; readonly kind: string; readonly key: string; readonly value: unknown; readonly ifRev?: number }
  | { readonly op: 'delete'; readonly kind: string; readonly key: string; readonly ifRev?: number }
  /** A read guard: writes nothing, fails the batch unless the record is still at `ifRev` (prevents write skew). */
  | { readonly op: 'check'; readonly kind: string; readonly key: string; readonly ifRev: number };

/** One entry of the change feed: a put, or a deletion (value undefined). */
export interface Change {
  readonly rev: number;
  readonly kind: string;
  readonly key: string;
  readonly value: unknown;
  readonly deleted: boolean;
}

export interface CommitOptions {
  /**
   * Commit only if this batch gets exactly this store revision (i.e. no other batch commits in between
   * since the writer last looked); otherwise fail with StoreConflictError. Lets a writer that pipelines
   * several batches predict their revisions and guard later batches on the writes of earlier ones.
   */
  readonly expectRev?: number;
  /** Identifies the writer (e.g. one catalog): recorded with each commit. */
  readonly writer?: string;
  /**
   * With expectRev and writer: also require that the commit just before (expectRev − 1) was made by this same
   * writer. A writer that predicts revisions for a pipeline of commits sets it on every commit that follows
   * one of its own still in flight: if another writer's commit took the predicted revision, this one fails
   * instead of matching guards against a version it never saw.
   */
  readonly chained?: boolean;
}

export interface CommitResult {
  /** The store revision this batch was committed at (every record it wrote carries it). */
  readonly rev: number;
}

/** Thrown by `commit` when an `ifRev` guard fails; nothing of the batch was written. */
export class StoreConflictError extends Error {
  constructor(
    readonly kind: string,
    readonly key: string,
    readonly expectedRev: number,
    readonly actualRev: number,
  ) {
    super(`store conflict on ${kind}/${key}: expected revision ${expectedRev}, found ${actualRev}`);
    this.name = 'StoreConflictError';
  }
}

export interface Store {
  /** 'sqlite' | 'postgres': shown by /healthz and the console. */
  readonly backend: string;
  get<V = unknown>(kind: string, key: string): Promise<StoredRecord<V> | undefined>;
  /** Every record of a kind, in key order (used to build in-memory indexes at start). */
  load<V = unknown>(kind: string): Promise<StoredRecord<V>[]>;
  /**
   * Atomically checks every guard, then applies every operation. Resolves only once the batch is durable
   * (fsync'd): callers acknowledge a request after this resolves and never before.
   */
  commit(ops: readonly WriteOp[], options?: CommitOptions): Promise<CommitResult>;
  /** Changes with revision > `afterRev`, oldest first, at most `limit`: the feed replicas and watchers follow. */
  changes(afterRev: number, limit: number): Promise<Change[]>;
  /** The latest committed revision. */
  revision(): Promise<number>;
  close(): Promise<void>;
}
