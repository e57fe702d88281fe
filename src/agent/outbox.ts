/**
 * Reports waiting for the server's acknowledgement, kept on disk so neither a lost connection nor a crashed
 * agent loses a task transition.
 *
 * The journal is an append-only file of JSON lines in the state directory:
 *   {"s":7,"r":{…report…}}   report number 7 (fdatasync'd before `append` resolves, so before it is sent)
 *   {"a":7}                   the server acknowledged everything up to 7 (not synced: a lost ack only
 *                             means a harmless re-send)
 *   {"b":9}                   first line after compaction: numbering continues above 9
 * A torn last line (a crash mid-write) is cut off at open. Compaction writes the live entries to a temporary
 * file, syncs it and renames it over the journal, so a crash at any point leaves one complete journal.
 *
 * Reports are whole snapshots of a task, so only the newest unacknowledged report of each task matters: that
 * is what `pending()` returns (and what compaction keeps). Sequence numbers therefore have gaps; the server
 * acknowledges "everything up to n", never a contiguous range.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskReport } from '../domain/task.js';

export interface OutboxEntry {
  readonly seq: number;
  readonly report: TaskReport;
}

export interface OutboxOptions {
  /** Directory of the journal; without one the outbox lives in memory only (hollow instances). */
  readonly dir?: string;
  /** Compact once this many superseded or acknowledged records sit in the journal. */
  readonly compactAfter?: number;
}

export const OUTBOX_FILE = 'outbox.jsonl';

interface Waiter {
  readonly line: string;
  readonly durable: boolean;
  /** Remembered as soon as it is durable, before anything else (a compaction) can look at the live set. */
  readonly entry?: OutboxEntry;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class Outbox {
  readonly #dir: string | undefined;
  readonly #compactAfter: number;
  /** Newest unacknowledged entry of each task, by task ARN. */
  readonly #latest = new Map<string, OutboxEntry>();
  #lastSeq = 0;
  #acked = 0;
  #fh: FileHandle | undefined;
  /** Records in the journal file that no longer matter (superseded, acknowledged, ack lines). */
  #dead = 0;
  #queue: Waiter[] = [];
  #writing: Promise<void> | undefined;
  #closed = false;

  private constructor(opts: OutboxOptions) {
    this.#dir = opts.dir;
    this.#compactAfter = opts.compactAfter ?? 1024;
  }

  static async open(opts: OutboxOptions = {}): Promise<Outbox> {
    const o = new Outbox(opts);
    if (opts.dir !== undefined) await o.#load(opts.dir);
    return o;
  }

  /** The highest number handed out so far (also across restarts). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  get size(): number {
    return this.#latest.size;
  }

  /** Numbers the report and resolves once it is durable; only then may it be sent. */
  append(report: TaskReport): Promise<OutboxEntry> {
    if (this.#closed) return Promise.reject(new Error('outbox is closed'));
    const entry: OutboxEntry = { seq: ++this.#lastSeq, report };
    if (this.#fh === undefined && this.#dir === undefined) {
      this.#remember(entry);
      return Promise.resolve(entry);
    }
    return this.#write(JSON.stringify({ s: entry.seq, r: report }), true, entry).then(() => entry);
  }

  /** The server holds everything up to `seq` durably. */
  ack(seq: number): void {
    if (seq <= this.#acked || this.#closed) return;
    this.#acked = Math.min(seq, this.#lastSeq);
    for (const [arn, e] of this.#latest) {
      if (e.seq <= this.#acked) {
        this.#latest.delete(arn);
        this.#dead++;
      }
    }
    if (this.#dir !== undefined) {
      this.#dead++;
      this.#write(JSON.stringify({ a: this.#acked }), false).catch(() => undefined);
    }
  }

  /** What still needs the server's acknowledgement: the newest report of each task, oldest first. */
  pending(): OutboxEntry[] {
    return [...this.#latest.values()].sort((a, b) => a.seq - b.seq);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#writing;
    await this.#fh?.close();
    this.#fh = undefined;
  }

  #remember(entry: OutboxEntry): void {
    // An ack can overtake a slow write of an already-acknowledged seq (only on resend); never resurrect it.
    if (entry.seq <= this.#acked) return;
    const prev = this.#latest.get(entry.report.taskArn);
    if (prev !== undefined && prev.seq > entry.seq) return;
    if (prev !== undefined) this.#dead++;
    this.#latest.set(entry.report.taskArn, entry);
  }

  // -------------------------------------------------------------------------------------------------------------
  // The journal

  async #load(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, OUTBOX_FILE);
    await rm(path + '.tmp', { force: true });
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const entries: OutboxEntry[] = [];
    let valid = 0;
    let records = 0;
    for (let start = 0; start < text.length; ) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      let rec: { s?: number; r?: TaskReport; a?: number; b?: number };
      try {
        rec = JSON.parse(text.slice(start, nl)) as typeof rec;
      } catch {
        break;
      }
      records++;
      if (typeof rec.s === 'number' && rec.r !== undefined) {
        entries.push({ seq: rec.s, report: rec.r });
        this.#lastSeq = Math.max(this.#lastSeq, rec.s);
      } else if (typeof rec.a === 'number') {
        this.#acked = Math.max(this.#acked, rec.a);
        this.#lastSeq = Math.max(this.#lastSeq, rec.a);
      } else if (typeof rec.b === 'number') {
        this.#lastSeq = Math.max(this.#lastSeq, rec.b);
      }
      start = nl + 1;
      valid = Buffer.byteLength(text.slice(0, start));
    }
    for (const e of entries) this.#remember(e);
    this.#dead = records - this.#latest.size;
    this.#fh = await open(path, 'a+', 0o600);
    // Whatever follows the last complete line is a torn write that nobody was told about.
    if ((await this.#fh.stat()).size > valid) {
      await this.#fh.truncate(valid);
      await this.#fh.datasync();
    }
    syncDir(dir);
  }

  #write(line: string, durable: boolean, entry?: OutboxEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push(entry === undefined ? { line, durable, resolve, reject } : { line, durable, entry, resolve, reject });
      this.#writing ??= this.#flush().finally(() => {
        this.#writing = undefined;
      });
    });
  }

  /** Group commit: whatever queued up while the previous batch was syncing goes out in one write and one sync. */
  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        const fh = this.#fh;
        if (fh === undefined) throw new Error('outbox is closed');
        await fh.write(batch.map((w) => w.line + '\n').join(''));
        if (batch.some((w) => w.durable)) await fh.datasync();
        for (const w of batch) if (w.entry !== undefined) this.#remember(w.entry);
        for (const w of batch) w.resolve();
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
      if (this.#dead >= this.#compactAfter && this.#queue.length === 0) await this.#compact().catch(() => undefined);
    }
  }

  async #compact(): Promise<void> {
    const dir = this.#dir!;
    const path = join(dir, OUTBOX_FILE);
    const tmp = path + '.tmp';
    // Runs only with an empty queue, so every number handed out is either acknowledged or live here.
    const lines = [JSON.stringify({ b: this.#lastSeq }), JSON.stringify({ a: this.#acked })];
    for (const e of this.pending()) lines.push(JSON.stringify({ s: e.seq, r: e.report }));
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.write(lines.join('\n') + '\n');
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    syncDir(dir);
    await this.#fh?.close();
    this.#fh = await open(path, 'a+', 0o600);
    this.#dead = 0;
  }
}

/** Makes a rename or a new file durable: on Linux the directory entry needs its own fsync. */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems (and platforms) refuse fsync on a directory; the data itself is synced regardless.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
