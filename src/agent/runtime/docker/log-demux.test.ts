import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogDemuxer, demuxLogs } from './log-demux.js';

const frame = (stream: 1 | 2, text: string): Buffer => {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
};
const T1 = '2024-05-01T10:00:00.123456789Z';
const T2 = '2024-05-01T10:00:01.5Z';
const ms = (t: string) => Date.parse(t);

describe('LogDemuxer', () => {
  it('splits multiplexed frames into stdout and stderr lines with their timestamps', () => {
    const d = new LogDemuxer({ multiplexed: true, timestamps: true });
    const lines = d.push(Buffer.concat([frame(1, `${T1} hello\n`), frame(2, `${T2} oops\n`)]));
    assert.deepEqual(lines, [
      { stream: 'stdout', time: ms(T1), line: 'hello' },
      { stream: 'stderr', time: ms(T2), line: 'oops' },
    ]);
  });

  it('reassembles frames split anywhere, including inside the header', () => {
    const all = Buffer.concat([frame(1, `${T1} one\n`), frame(2, `${T1} two\n`), frame(1, `${T2} three\n`)]);
    for (const cut of [1, 3, 8, 9, 20, all.length - 1]) {
      const d = new LogDemuxer({ multiplexed: true, timestamps: true });
      const lines = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut)), ...d.end()];
      assert.deepEqual(lines.map((l) => `${l.stream}:${l.line}`), ['stdout:one', 'stderr:two', 'stdout:three'], `cut at ${cut}`);
    }
  });

  it('joins a long line sent as several stamped messages, keeping the first time', () => {
    const d = new LogDemuxer({ multiplexed: true, timestamps: true });
    const lines = [...d.push(Buffer.concat([frame(1, `${T1} part one, `), frame(2, `${T1} err\n`), frame(1, `${T2} part two\n`)]))];
    assert.deepEqual(lines, [
      { stream: 'stderr', time: ms(T1), line: 'err' },
      { stream: 'stdout', time: ms(T1), line: 'part one, part two' },
    ]);
  });

  it('emits a last line without a newline when the stream ends', () => {
    const d = new LogDemuxer({ multiplexed: true, timestamps: true });
    assert.deepEqual(d.push(frame(1, `${T1} no newline`)), []);
    assert.deepEqual(d.end(), [{ stream: 'stdout', time: ms(T1), line: 'no newline' }]);
  });

  it('reads a TTY stream as raw stdout with CRLF line ends', () => {
    const d = new LogDemuxer({ multiplexed: false, timestamps: true });
    const lines = [...d.push(Buffer.from(`${T1} first\r\n${T2} sec`)), ...d.push(Buffer.from('ond\r\n'))];
    assert.deepEqual(lines, [
      { stream: 'stdout', time: ms(T1), line: 'first' },
      { stream: 'stdout', time: ms(T2), line: 'second' },
    ]);
  });

  it('stamps lines without timestamps with the current time', async () => {
    const lines = [];
    for await (const l of demuxLogs((async function* () { yield frame(2, 'plain\n'); })(), { multiplexed: true, timestamps: false, now: () => 42 })) lines.push(l);
    assert.deepEqual(lines, [{ stream: 'stderr', time: 42, line: 'plain' }]);
  });
});
