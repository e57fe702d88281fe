import type Database from 'better-sqlite3';
import { StoreConflictError } from '../types.js';
import type { WriteOp } from '../types.js';

/** A commit as the writer receives it: values already serialised to JSON text. */
export interface SerialOp {
  readonly op: 'put' | 'delete' | 'check';
  readonly kind: string;
  readonly key: string;
  readonly json?: string;
  readonly ifRev?: number;
}
export interface SerialCommit {
  readonly ops: readonly SerialOp[];
  readonly expectRev?: number;
  readonly writer?: string;
  readonly chained?: boolean;
}
export type Outcome =
  | { readonly ok: true; readonly rev: number }
  | { readonly ok: false; readonly conflict?: { kind: string; key: string; expected: number; actual: number }; readonly message: string };

export function serialise(ops: readonly WriteOp[]): SerialOp[] {
  return ops.map((o) =>
    o.op === 'put'
      ? { op: 'put', kind: o.kind, key: o.key, json: JSON.stringify(o.value), ...(o.ifRev === undefined ? {} : { ifRev: o.ifRev }) }
      : { op: o.op, kind: o.kind, key: o.key, ...(o.ifRev === undefined ? {} : { ifRev: o.ifRev }) },
  );
}

/**
 * Writes queued commits as one SQLite transaction — one fsync for the lot — with each commit inside its
 * own savepoint, so a failed guard rolls back that commit alone. Every successful commit takes the next
 * store revision. Used on the writer thread (and inline for in-memory databases).
 */
export class BatchWriter {
  #rev: number;
  readonly #s;

  constructor(private readonly db: Database.Database) {
    this.#s = {
      getRev: db.prepare('SELECT rev FROM records WHERE kind = ? AND key = ?'),
      upsert: db.prepare(
        'INSERT INTO records (kind, key, value, rev) VALUES (?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, rev = excluded.rev',
      ),
      del: db.prepare('DELETE FROM records WHERE kind = ? AND key = ?'),
      tombstone: db.prepare(
        'INSERT INTO tombstones (kind, key, rev) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET rev = excluded.rev',
      ),
      meta: db.prepare('SELECT rev, writer FROM meta_rev WHERE id = 1'),
      setRev: db.prepare('UPDATE meta_rev SET rev = ?, writer = ? WHERE id = 1'),
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT batch'),
      release: db.prepare('RELEASE batch'),
      rollbackTo: db.prepare('ROLLBACK TO batch'),
    };
    this.#rev = currentRevision(db);
  }

  get revision(): number {
    return this.#rev;
  }

  /** Writes the commits; throws (and writes nothing) only if the transaction itself fails. */
  write(batch: readonly SerialCommit[]): Outcome[] {
    const s = this.#s;
    const outcomes: Outcome[] = [];
    s.begin.run();
    try {
      // Read inside the write lock: another connection (another process) may have committed since.
      const meta = s.meta.get() as { rev: number; writer: string | null };
      let rev = meta.rev;
      let lastWriter = meta.writer;
      for (const c of batch) {
        s.savepoint.run();
        try {
          const next = rev + 1;
          if (c.expectRev !== undefined && c.expectRev !== next) {
            throw new StoreConflictError('*', '*', c.expectRev - 1, rev);
          }
          if (c.chained === true && (c.writer === undefined || lastWriter !== c.writer)) {
            throw new StoreConflictError('*', '*', c.expectRev ?? next, rev);
          }
          this.#apply(c.ops, next);
          s.release.run();
          rev = next;
          lastWriter = c.writer ?? null;
          outcomes.push({ ok: true, rev: next });
        } catch (e) {
          s.rollbackTo.run();
          s.release.run();
          outcomes.push(
            e instanceof StoreConflictError
              ? { ok: false, message: e.message, conflict: { kind: e.kind, key: e.key, expected: e.expectedRev, actual: e.actualRev } }
              : { ok: false, message: (e as Error).message },
          );
        }
      }
      if (rev !== meta.rev) s.setRev.run(rev, lastWriter);
      s.commit.run();
      this.#rev = rev;
    } catch (e) {
      if (this.db.inTransaction) s.rollback.run();
      throw e;
    }
    return outcomes;
  }

  #apply(ops: readonly SerialOp[], rev: number): void {
    const s = this.#s;
    for (const op of ops) {
      if (op.ifRev !== undefined) {
        const row = s.getRev.get(op.kind, op.key) as { rev: number } | undefined;
        const actual = row?.rev ?? 0;
        if (actual !== op.ifRev) throw new StoreConflictError(op.kind, op.key, op.ifRev, actual);
      }
      if (op.op === 'put') {
        // A tombstone left from an earlier delete of this key stays: the change feed is ordered by revision,
        // so a reader sees the delete, then this put, and ends with the record present.
        s.upsert.run(op.kind, op.key, op.json!, rev);
      } else if (op.op === 'delete') {
        const r = s.del.run(op.kind, op.key);
        if (r.changes > 0) s.tombstone.run(op.kind, op.key, rev);
      }
    }
  }
}

export function currentRevision(db: Database.Database): number {
  const row = db.prepare('SELECT rev FROM meta_rev WHERE id = 1').get() as { rev: number } | undefined;
  return row?.rev ?? 0;
}

export function toError(o: Extract<Outcome, { ok: false }>): Error {
  return o.conflict ? new StoreConflictError(o.conflict.kind, o.conflict.key, o.conflict.expected, o.conflict.actual) : new Error(o.message);
}

/** Opens a database with Gantry's settings: WAL, fsync on every commit, a busy timeout for the reader. */
export function openDatabase(DatabaseCtor: typeof Database, path: string, readonly = false): Database.Database {
  const db = new DatabaseCtor(path, readonly ? { readonly: true } : {});
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  }
  db.pragma('busy_timeout = 5000');
  return db;
}
