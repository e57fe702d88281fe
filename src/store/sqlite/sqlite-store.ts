import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Change, CommitOptions, CommitResult, Store, StoredRecord, WriteOp } from '../types.js';
import { BatchWriter, openDatabase, serialise, toError } from './batch-writer.js';
import type { Outcome, SerialCommit } from './batch-writer.js';
import { migrate } from './migrations.js';
import { TurnBatch } from '../../util/turn-batch.js';
import type { WriterMessage, WriterRequest } from './writer-worker.js';

export interface SqliteStoreOptions {
  /** Database file; ':memory:' for tests that do not need durability. */
  readonly path: string;
  /** Commit on a writer thread (default) or on the calling thread. */
  readonly writer?: 'thread' | 'inline';
}

interface Waiter {
  readonly resolve: (r: CommitResult) => void;
  readonly reject: (e: unknown) => void;
}

/** Where commits go: the writer thread for files, an inline group-committer for in-memory databases. */
interface Writer {
  submit(commit: SerialCommit): Promise<CommitResult>;
  close(): Promise<void>;
}

/**
 * The embedded store: SQLite in WAL mode with `synchronous=FULL`, so a commit is on disk before it is
 * acknowledged and survives `kill -9` or power loss. Commits are group-committed (see BatchWriter) on a
 * writer thread; reads use a separate connection on the calling thread and see committed data only.
 */
export class SqliteStore implements Store {
  readonly backend = 'sqlite';
  readonly #reader: Database.Database;
  readonly #writer: Writer;
  readonly #stmt;
  #rev: number;

  private constructor(reader: Database.Database, writer: Writer, rev: number) {
    this.#reader = reader;
    this.#writer = writer;
    this.#rev = rev;
    this.#stmt = {
      get: reader.prepare('SELECT rev, value FROM records WHERE kind = ? AND key = ?'),
      load: reader.prepare('SELECT key, rev, value FROM records WHERE kind = ? ORDER BY key'),
      changes: reader.prepare(
        `SELECT rev, kind, key, value, 0 AS deleted FROM records WHERE rev > ?
         UNION ALL SELECT rev, kind, key, NULL AS value, 1 AS deleted FROM tombstones WHERE rev > ?
         ORDER BY rev, kind, key LIMIT ?`,
      ),
      revision: reader.prepare('SELECT rev FROM meta_rev WHERE id = 1'),
    };
  }

  static async open(opts: SqliteStoreOptions): Promise<SqliteStore> {
    if (opts.path === ':memory:' || opts.writer === 'inline') {
      if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
      const db = openDatabase(Database, opts.path);
      migrate(db);
      const writer = new InlineWriter(new BatchWriter(db));
      return new SqliteStore(db, writer, writer.revision);
    }
    mkdirSync(dirname(opts.path), { recursive: true });
    const { writer, rev } = await ThreadWriter.start(opts.path);
    // The writer thread has run the migrations; the reader opens the migrated database.
    const reader = openDatabase(Database, opts.path, true);
    return new SqliteStore(reader, writer, rev);
  }

  async get<V>(kind: string, key: string): Promise<StoredRecord<V> | undefined> {
    const row = this.#stmt.get.get(kind, key) as { rev: number; value: string } | undefined;
    return row === undefined ? undefined : { kind, key, rev: row.rev, value: JSON.parse(row.value) as V };
  }

  async load<V>(kind: string): Promise<StoredRecord<V>[]> {
    const rows = this.#stmt.load.all(kind) as { key: string; rev: number; value: string }[];
    return rows.map((r) => ({ kind, key: r.key, rev: r.rev, value: JSON.parse(r.value) as V }));
  }

  async commit(ops: readonly WriteOp[], options: CommitOptions = {}): Promise<CommitResult> {
    const commit: SerialCommit = {
      ops: serialise(ops),
      ...(options.expectRev === undefined ? {} : { expectRev: options.expectRev }),
      ...(options.writer === undefined ? {} : { writer: options.writer }),
      ...(options.chained === undefined ? {} : { chained: options.chained }),
    };
    const result = await this.#writer.submit(commit);
    if (result.rev > this.#rev) this.#rev = result.rev;
    return result;
  }

  async changes(afterRev: number, limit: number): Promise<Change[]> {
    const rows = this.#stmt.changes.all(afterRev, afterRev, limit) as {
      rev: number; kind: string; key: string; value: string | null; deleted: number;
    }[];
    return rows.map((r) => ({ rev: r.rev, kind: r.kind, key: r.key, deleted: r.deleted === 1, value: r.value === null ? undefined : JSON.parse(r.value) }));
  }

  async revision(): Promise<number> {
    const row = this.#stmt.revision.get() as { rev: number } | undefined;
    return Math.max(this.#rev, row?.rev ?? 0);
  }

  async close(): Promise<void> {
    await this.#writer.close();
    this.#reader.close();
  }
}

function settle(waiter: Waiter | undefined, outcome: Outcome | undefined): void {
  if (!waiter) return;
  if (outcome?.ok) waiter.resolve({ rev: outcome.rev });
  else waiter.reject(outcome ? toError(outcome) : new Error('commit outcome missing'));
}

/** Group commit on the calling thread, for ':memory:' databases (tests), which a thread cannot share. */
class InlineWriter implements Writer {
  readonly #batch = new TurnBatch<{ commit: SerialCommit; waiter: Waiter }>((batch) => this.#write(batch));
  constructor(private readonly writer: BatchWriter) {}
  get revision(): number {
    return this.writer.revision;
  }
  submit(commit: SerialCommit): Promise<CommitResult> {
    return new Promise((resolve, reject) => this.#batch.add({ commit, waiter: { resolve, reject } }));
  }
  #write(batch: { commit: SerialCommit; waiter: Waiter }[]): void {
    let outcomes: Outcome[];
    try {
      outcomes = this.writer.write(batch.map((b) => b.commit));
    } catch (e) {
      for (const b of batch) b.waiter.reject(e);
      return;
    }
    batch.forEach((b, i) => settle(b.waiter, outcomes[i]));
  }
  async close(): Promise<void> {
    while (this.#batch.pending) await new Promise<void>((r) => setImmediate(r));
  }
}

/**
 * Commits on the writer thread (writer-worker.ts), so SQLite's work — B-tree updates, WAL frames, checkpoints,
 * fsync — never blocks the event loop. Commits submitted in one turn of the event loop go over in one message.
 */
class ThreadWriter implements Writer {
  readonly #waiters = new Map<number, Waiter>();
  #nextId = 1;
  #closed: Promise<void> | undefined;
  readonly #outbox = new TurnBatch<{ id: number; commit: SerialCommit }>((commits) =>
    this.worker.postMessage({ type: 'commits', commits } satisfies WriterRequest),
  );

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: WriterMessage) => {
      if (m.type === 'results') {
        m.ids.forEach((id, i) => {
          settle(this.#waiters.get(id), m.outcomes[i]);
          this.#waiters.delete(id);
        });
      } else if (m.type === 'failed') {
        for (const id of m.ids) {
          this.#waiters.get(id)?.reject(new Error(`store write failed: ${m.message}`));
          this.#waiters.delete(id);
        }
      }
    });
    worker.on('error', (e) => this.#failAll(e));
    worker.on('exit', () => this.#failAll(new Error('the store writer thread exited')));
  }

  static start(path: string): Promise<{ writer: ThreadWriter; rev: number }> {
    const worker = new Worker(new URL('./writer-worker.js', import.meta.url), { workerData: { path } });
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      worker.once('error', onError);
      worker.once('message', (m: WriterMessage) => {
        worker.off('error', onError);
        if (m.type !== 'ready') return reject(new Error('store writer thread did not start'));
        resolve({ writer: new ThreadWriter(worker), rev: m.rev });
      });
    });
  }

  #failAll(e: unknown): void {
    for (const w of this.#waiters.values()) w.reject(e);
    this.#waiters.clear();
  }

  submit(commit: SerialCommit): Promise<CommitResult> {
    if (this.#closed) return Promise.reject(new Error('the store is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiters.set(id, { resolve, reject });
      this.#outbox.add({ id, commit });
    });
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      // Wait for commits already handed over: they were promised durability.
      while (this.#waiters.size > 0) await new Promise((r) => setTimeout(r, 1));
      const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
      this.worker.postMessage({ type: 'close' } satisfies WriterRequest);
      await exited;
    })();
    return this.#closed;
  }
}
