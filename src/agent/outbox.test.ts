import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TaskReport } from '../domain/task.js';
import { OUTBOX_FILE, Outbox } from './outbox.js';

const report = (task: string, lastStatus: TaskReport['lastStatus'] = 'RUNNING'): TaskReport => ({
  taskArn: `arn:aws:ecs:us-east-1:000000000000:task/c/${task}`,
  lastStatus,
  containers: [],
});
const tempDir = () => mkdtempSync(join(tmpdir(), 'gantry-outbox-'));

describe('Outbox', () => {
  it('numbers reports, keeps the newest per task, and drops what the server acknowledged', async () => {
    const o = await Outbox.open({ dir: tempDir() });
    const a1 = await o.append(report('a', 'PENDING'));
    const b1 = await o.append(report('b', 'PENDING'));
    const a2 = await o.append(report('a', 'RUNNING'));
    assert.deepEqual([a1.seq, b1.seq, a2.seq], [1, 2, 3]);
    assert.deepEqual(o.pending().map((e) => [e.seq, e.report.lastStatus]), [[2, 'PENDING'], [3, 'RUNNING']]);
    o.ack(2);
    assert.deepEqual(o.pending().map((e) => e.seq), [3]);
    o.ack(3);
    assert.deepEqual(o.pending(), []);
    await o.close();
  });

  it('survives a restart: unacknowledged reports come back, numbering continues', async () => {
    const dir = tempDir();
    const o = await Outbox.open({ dir });
    for (const t of ['a', 'b', 'c']) await o.append(report(t));
    o.ack(1);
    await o.close();
    const again = await Outbox.open({ dir });
    assert.deepEqual(again.pending().map((e) => e.seq), [2, 3]);
    assert.equal((await again.append(report('d'))).seq, 4);
    await again.close();
  });

  it('compacts without losing live entries or reusing numbers', async () => {
    const dir = tempDir();
    const o = await Outbox.open({ dir, compactAfter: 10 });
    for (let i = 0; i < 100; i++) {
      await o.append(report(`t${i % 3}`));
      if (i % 7 === 6) o.ack(i - 2);
    }
    await o.close();
    const lines = readFileSync(join(dir, OUTBOX_FILE), 'utf8').trim().split('\n');
    assert.ok(lines.length < 40, `journal was compacted (${lines.length} lines)`);
    const again = await Outbox.open({ dir });
    assert.deepEqual(again.pending().map((e) => e.seq), [98, 99, 100]);
    assert.equal((await again.append(report('x'))).seq, 101);
    await again.close();
  });

  it('cuts off a torn last line', async () => {
    const dir = tempDir();
    const o = await Outbox.open({ dir });
    await o.append(report('a'));
    await o.close();
    appendFileSync(join(dir, OUTBOX_FILE), '{"s":2,"r":{"taskArn":"arn:aws:ecs:us-east-1:0:task/c/b","lastS');
    const again = await Outbox.open({ dir });
    assert.deepEqual(again.pending().map((e) => e.seq), [1]);
    assert.equal((await again.append(report('b'))).seq, 2);
    await again.close();
    const third = await Outbox.open({ dir });
    assert.deepEqual(third.pending().map((e) => e.seq), [1, 2], 'the appended record follows the cut, not the torn bytes');
    await third.close();
  });

  it('ignores a half-written compaction file', async () => {
    const dir = tempDir();
    const o = await Outbox.open({ dir });
    await o.append(report('a'));
    await o.close();
    writeFileSync(join(dir, OUTBOX_FILE + '.tmp'), '{"b":99}\n');
    const again = await Outbox.open({ dir });
    assert.deepEqual(again.pending().map((e) => e.seq), [1]);
    await again.close();
  });

  it('in memory when it has no directory', async () => {
    const o = await Outbox.open();
    await o.append(report('a'));
    await o.append(report('a', 'STOPPED'));
    assert.deepEqual(o.pending().map((e) => [e.seq, e.report.lastStatus]), [[2, 'STOPPED']]);
  });

  it('keeps every report whose append resolved when the process is killed with SIGKILL', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [fileURLToPath(new URL('./outbox-crash-writer.js', import.meta.url)), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const appended: number[] = [];
    let maxAck = 0;
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('crash writer produced too few reports in 60 s')), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) {
          const [kind, n] = l.split(' ');
          if (kind === 'A') appended.push(Number(n));
          else if (kind === 'K') maxAck = Math.max(maxAck, Number(n));
        }
        if (appended.length >= 3000) {
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
    await new Promise((r) => child.once('close', r));
    const o = await Outbox.open({ dir });
    const newest = new Map<string, number>();
    for (const e of o.pending()) newest.set(e.report.taskArn, e.seq);
    // The writer numbers report i as i + 1 and files it under task t(i % 37). Every report printed as durable
    // and not acknowledged must be there, or be superseded by a newer report of its task.
    const taskOf = (seq: number) => `arn:aws:ecs:us-east-1:000000000000:task/c/t${(seq - 1) % 37}`;
    const lost = appended.filter((s) => s > maxAck && (newest.get(taskOf(s)) ?? 0) < s);
    assert.deepEqual(lost.slice(0, 10), [], `durable reports lost after SIGKILL (${lost.length})`);
    const maxPrinted = Math.max(...appended);
    assert.ok(o.lastSeq >= maxPrinted, `numbering continues above every number handed out (${o.lastSeq} < ${maxPrinted})`);
    await o.close();
  });
});
