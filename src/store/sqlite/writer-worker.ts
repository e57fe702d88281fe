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
import { TurnBatch } from '../../util/turn-batch.js';

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
// Everything that arrived while the last transaction was being written goes into the next one.
const batch = new TurnBatch<Request>((requests) => {
  const ids = requests.map((r) => r.id);
  try {
    const outcomes = writer.write(requests.map((r) => r.commit));
    port.postMessage({ type: 'results', ids, outcomes } satisfies WriterMessage);
  } catch (e) {
    port.postMessage({ type: 'failed', ids, message: (e as Error).message } satisfies WriterMessage);
  }
});

port.on('message', (m: WriterRequest) => {
  if (m.type === 'close') {
    batch.flush();
    db.close();
    port.close();
    return;
  }
  for (const r of m.commits) batch.add(r);
});
port.postMessage({ type: 'ready', rev: writer.revision } satisfies WriterMessage);
