/**
 * The SQLite writer thread. better-sqlite3 is synchronous, so an fsync on the main thread would stall every
 * request for its duration; here it stalls only this thread, while the main thread keeps accepting requests
 * and queuing their commits. Everything that queued during one fsync is written by the next transaction:
 * group commit that grows with load.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { BatchWriter, openDatabase } from './batch-writer.js';
import type { Outcome, SerialCommit } from './batch-writer.js';
import { migrate } from './migrations.js';

interface Request {
  readonly id: number;
  readonly commit: SerialCommit;
}
/** From the main thread: the commits of one turn of its event loop, or the request to finish and close. */
export type WriterRequest = { readonly type: 'commits'; readonly commits: readonly Request[] } | { readonly type: 'close' };
export type WriterMessage =
  | { readonly type: 'ready'; readonly rev: number }
  | { readonly type: 'results'; readonly ids: number[]; readonly outcomes: Outcome[] }
  | { readonly type: 'failed'; readonly ids: number[]; readonly message: string };

const port = parentPort!;
const db = openDatabase(Database, (workerData as { path: string }).path);
migrate(db);
const writer = new BatchWriter(db);
const queue: Request[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const batch = queue.splice(0, queue.length);
  if (batch.length === 0) return;
  const ids = batch.map((r) => r.id);
  try {
    const outcomes = writer.write(batch.map((r) => r.commit));
    port.postMessage({ type: 'results', ids, outcomes } satisfies WriterMessage);
  } catch (e) {
    port.postMessage({ type: 'failed', ids, message: (e as Error).message } satisfies WriterMessage);
  }
}

port.on('message', (m: WriterRequest) => {
  if (m.type === 'close') {
    flush();
    db.close();
    port.close();
    return;
  }
  queue.push(...m.commits);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});
port.postMessage({ type: 'ready', rev: writer.revision } satisfies WriterMessage);
