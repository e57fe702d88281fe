import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { storeContract } from '../contract.js';
import { SqliteStore } from './sqlite-store.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDb(): string {
  const d = mkdtempSync(join(tmpdir(), 'gantry-store-'));
  dirs.push(d);
  return join(d, 'gantry.db');
}

storeContract('sqlite', {
  async open() {
    const path = tempDb();
    return { store: await SqliteStore.open({ path }), reopen: () => SqliteStore.open({ path }) };
  },
});

storeContract('sqlite in memory (inline writer)', {
  async open() {
    return { store: await SqliteStore.open({ path: ':memory:' }) };
  },
});

describe('SqliteStore durability', () => {
  it('keeps every acknowledged commit when the writer is killed with SIGKILL mid-stream', async () => {
    const path = tempDb();
    const child = spawn(process.execPath, [fileURLToPath(new URL('./crash-writer.js', import.meta.url)), path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked: number[] = [];
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('crash writer produced too few commits in 60 s')), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) acked.push(Number(l));
        if (acked.length >= 400) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await new Promise((r) => child.once('exit', r).once('close', r));
    const store = await SqliteStore.open({ path });
    const rows = await store.load<{ n: number }>('crash');
    const present = new Set(rows.map((r) => r.value.n));
    const missing = acked.filter((n) => !present.has(n));
    assert.deepEqual(missing, [], `acknowledged commits lost after SIGKILL: ${missing.slice(0, 10).join(', ')}`);
    // Atomicity: each commit also wrote crash-last; the newest of each lane must be a committed number.
    for (const r of await store.load<number>('crash-last')) assert.ok(present.has(r.value));
    await store.close();
  });
});
