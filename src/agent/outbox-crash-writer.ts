/**
 * Child process for the outbox crash test: appends reports as fast as it can (several in flight, so group
 * commits happen), acknowledges older ones now and then (so compactions happen), and prints each number once
 * `append` resolved ("A n") and each acknowledgement ("K n"). The parent kills it with SIGKILL mid-stream.
 */
import { Outbox } from './outbox.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: outbox-crash-writer <dir>');
const outbox = await Outbox.open({ dir, compactAfter: 64 });
let n = 0;
async function writer(): Promise<void> {
  for (;;) {
    const i = n++;
    const e = await outbox.append({ taskArn: `arn:aws:ecs:us-east-1:000000000000:task/c/t${i % 37}`, lastStatus: 'RUNNING', containers: [{ name: 'app', lastStatus: 'RUNNING', reason: 'x'.repeat(100) }] });
    process.stdout.write(`A ${e.seq}\n`);
    if (e.seq % 50 === 0) {
      outbox.ack(e.seq - 40);
      process.stdout.write(`K ${e.seq - 40}\n`);
    }
  }
}
for (let i = 0; i < 6; i++) void writer();
