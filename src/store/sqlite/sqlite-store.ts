import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreConflictError } from '../types.js';
import type { Change, CommitOptions, CommitResult, Store, StoredRecord, WriteOp } from '../types.js';
import { migrate } from './migrations.js';

export interface SqliteStoreOptions {
  /** Database file; ':memory:' for tests that do not need durability. */
  readonly path: string;
}

interface PendingCommit {
  readonly ops: readonly WriteOp[];
  readonly expectRev: number | undefined;
  readonly resolve: (r: CommitResult) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * The embedded store: SQLite in WAL mode with `synchronous=FULL`, so a commit is on disk before it is
 * acknowledged and survives `kill -9` or power loss.
 *
 * Group commit: callers that commit while a transaction is being written queue up, and the next flush
 * writes all of them in one SQLite transaction with one fsync. Each caller's batch runs inside its own
 * savepoint, so a failed guard rolls back that batch alone. Under concurrency this turns N fsyncs into one,
 * which is where durable-write throughput comes from.
 */
export class SqliteStore implements Store {
  readonly backend = 'sqlite';
  readonly #db: Database.Database;
  readonly #queue: PendingCommit[] = [];
  #flushScheduled = false;
  #rev: number;
  readonly #stmt: ReturnType<SqliteStore['prepare']>;

  constructor(opts: SqliteStoreOptions) {
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    this.#db = new Database(opts.path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    migrate(this.#db);
    this.#stmt = this.prepare();
    this.#rev = (this.#stmt.maxRev.get() as { rev: number | null }).rev ?? 0;
  }

  private prepare() {
    const db = this.#db;
    return {
      get: db.prepare('SELECT rev, value FROM records WHERE kind = ? AND key = ?'),
      load: db.prepare('SELECT key, rev, value FROM records WHERE kind = ? ORDER BY key'),
      upsert: db.prepare(
        'INSERT INTO records (kind, key, value, rev) VALUES (?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, rev = excluded.rev',
      ),
      del: db.prepare('DELETE FROM records WHERE kind = ? AND key = ?'),
      tombstone: db.prepare(
        'INSERT INTO tombstones (kind, key, rev) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET rev = excluded.rev',
      ),
      untomb: db.prepare('DELETE FROM tombstones WHERE kind = ? AND key = ?'),
      maxRev: db.prepare('SELECT MAX(rev) AS rev FROM (SELECT MAX(rev) AS rev FROM records UNION ALL SELECT MAX(rev) FROM tombstones UNION ALL SELECT rev FROM meta_rev)'),
      setRev: db.prepare('INSERT INTO meta_rev (id, rev) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET rev = excluded.rev'),
      changes: db.prepare(
        `SELECT rev, kind, key, value, 0 AS deleted FROM records WHERE rev > ?
         UNION ALL SELECT rev, kind, key, NULL AS value, 1 AS deleted FROM tombstones WHERE rev > ?
         ORDER BY rev, kind, key LIMIT ?`,
      ),
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT batch'),
      release: db.prepare('RELEASE batch'),
      rollbackTo: db.prepare('ROLLBACK TO batch'),
    };
  }

  async get<V>(kind: string, key: string): Promise<StoredRecord<V> | undefined> {
    const row = this.#stmt.get.get(kind, key) as { rev: number; value: string } | undefined;
    return row === undefined ? undefined : { kind, key, rev: row.rev, value: JSON.parse(row.value) as V };
  }

  async load<V>(kind: string): Promise<StoredRecord<V>[]> {
    const rows = this.#stmt.load.all(kind) as { key: string; rev: number; value: string }[];
    return rows.map((r) => ({ kind, key: r.key, rev: r.rev, value: JSON.parse(r.value) as V }));
  }

  commit(ops: readonly WriteOp[], options: CommitOptions = {}): Promise<CommitResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ops, expectRev: options.expectRev, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // setImmediate lets every request that is ready in this turn of the event loop join the batch.
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue.splice(0, this.#queue.length);
    if (batch.length === 0) return;
    const outcomes: ({ ok: true; rev: number } | { ok: false; error: unknown })[] = [];
    let rev = this.#rev;
    const s = this.#stmt;
    try {
      s.begin.run();
      for (const pending of batch) {
        s.savepoint.run();
        try {
          const next = rev + 1;
          if (pending.expectRev !== undefined && pending.expectRev !== next) {
            throw new StoreConflictError('*', '*', pending.expectRev - 1, rev);
          }
          this.#apply(pending.ops, next);
          s.release.run();
          rev = next;
          outcomes.push({ ok: true, rev: next });
        } catch (error) {
          s.rollbackTo.run();
          s.release.run();
          outcomes.push({ ok: false, error });
        }
      }
      if (rev !== this.#rev) s.setRev.run(rev);
      s.commit.run();
    } catch (error) {
      // The transaction itself failed (disk full, I/O error): nothing in it is durable, so nobody is acknowledged.
      try {
        if (this.#db.inTransaction) s.rollback.run();
      } catch {
        /* the original error is the one to report */
      }
      for (const p of batch) p.reject(error);
      return;
    }
    this.#rev = rev;
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve({ rev: o.rev });
      else p.reject(o.error);
    });
  }

  #apply(ops: readonly WriteOp[], rev: number): void {
    const s = this.#stmt;
    for (const op of ops) {
      if (op.ifRev !== undefined) {
        const row = s.get.get(op.kind, op.key) as { rev: number } | undefined;
        const actual = row?.rev ?? 0;
        if (actual !== op.ifRev) throw new StoreConflictError(op.kind, op.key, op.ifRev, actual);
      }
      if (op.op === 'check') continue;
      if (op.op === 'put') {
        s.upsert.run(op.kind, op.key, JSON.stringify(op.value), rev);
        s.untomb.run(op.kind, op.key);
      } else {
        const r = s.del.run(op.kind, op.key);
        if (r.changes > 0) s.tombstone.run(op.kind, op.key, rev);
      }
    }
  }

  async changes(afterRev: number, limit: number): Promise<Change[]> {
    const rows = this.#stmt.changes.all(afterRev, afterRev, limit) as {
      rev: number; kind: string; key: string; value: string | null; deleted: number;
    }[];
    return rows.map((r) => ({
      rev: r.rev,
      kind: r.kind,
      key: r.key,
      deleted: r.deleted === 1,
      value: r.value === null ? undefined : JSON.parse(r.value),
    }));
  }

  async revision(): Promise<number> {
    return this.#rev;
  }

  async close(): Promise<void> {
    // Drain queued commits first: they were promised durability.
    while (this.#queue.length > 0 || this.#flushScheduled) {
      await new Promise<void>((r) => setImmediate(r));
    }
    this.#db.close();
  }
}
