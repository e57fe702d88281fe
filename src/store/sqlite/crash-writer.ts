/**
 * Child process for the crash test: commits numbered records as fast as it can (several in flight at
 * once, so group commits happen) and prints each number once its commit has resolved — i.e. once the
 * store has acknowledged it. The parent kills this process with SIGKILL and checks every printed number.
 */
import { SqliteStore } from './sqlite-store.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: crash-writer <db-path>');
const store = await SqliteStore.open({ path });
let next = 0;
async function writer(): Promise<void> {
  for (;;) {
    const n = next++;
    await store.commit([
      { op: 'put', kind: 'crash', key: String(n).padStart(8, '0'), value: { n, pad: 'x'.repeat(200) } },
      { op: 'put', kind: 'crash-last', key: String(n % 4), value: n },
    ]);
    process.stdout.write(`${n}\n`);
  }
}
for (let i = 0; i < 8; i++) void writer();
