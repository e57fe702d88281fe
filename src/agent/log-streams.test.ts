import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { AgentMessage } from '../protocol/agent/messages.js';
import { LOG_BATCH_MAX_LINES, LOG_CHANNEL_HIGH_WATER_BYTES, LOG_WINDOW } from '../protocol/agent/messages.js';
import { silentLogger } from '../util/log.js';
import { LogStreams } from './log-streams.js';
import type { LogRequest } from './log-streams.js';
import { FakeRuntime } from './runtime/fake/fake-runtime.js';
import { eventually } from './testing.js';
import { TimerWheel } from './timers.js';

const IMAGE = 'busybox:1';
const timers = new TimerWheel({ resolutionMs: 5 });
after(() => timers.close());

async function setup(opts: { lines?: number; connected?: () => boolean } = {}) {
  const runtime = new FakeRuntime({ images: [IMAGE], maxLogLines: 100_000 });
  const id = await runtime.createContainer({ name: 'c', image: IMAGE, labels: {}, environment: {}, networkMode: 'bridge', portMappings: [], mounts: [] });
  await runtime.startContainer(id);
  for (let i = 0; i < (opts.lines ?? 0); i++) runtime.control.log(id, `line ${i}`, i % 2 === 0 ? 'stdout' : 'stderr');
  const sent: AgentMessage[] = [];
  let buffered = 0;
  const streams = new LogStreams({
    runtime,
    timers,
    logger: silentLogger,
    locate: (taskArn, container) => (taskArn === 'task' && container === 'c' ? { id } : { error: `no container ${container}` }),
    send: (m) => {
      if (opts.connected?.() === false) return false;
      sent.push(m);
      return true;
    },
    buffered: () => buffered,
    drainPollMs: 5,
  });
  const of = (stream: number) => sent.filter((m) => 'stream' in m && m.stream === stream);
  const batches = (stream: number) => of(stream).filter((m): m is Extract<AgentMessage, { t: 'log' }> => m.t === 'log');
  const lines = (stream: number) => batches(stream).flatMap((m) => m.lines.map((l) => l.line));
  const ended = (stream: number) => of(stream).find((m): m is Extract<AgentMessage, { t: 'log-end' }> => m.t === 'log-end');
  return { runtime, id, streams, sent, batches, lines, ended, setBuffered: (n: number) => (buffered = n) };
}

const req = (stream: number, over: Partial<LogRequest> = {}): LogRequest => ({ stream, taskArn: 'task', container: 'c', follow: false, ...over });

describe('LogStreams', () => {
  it('sends the log in batches (found, then full batches), then log-end', async () => {
    const t = await setup({ lines: 1200 });
    t.streams.open(req(1));
    await eventually(() => t.ended(1) !== undefined, 5000, 'log-end');
    const b = t.batches(1);
    assert.equal(b[0]!.lines.length, 0, 'the first batch says the container was found');
    assert.deepEqual(b.slice(1).map((m) => m.lines.length), [LOG_BATCH_MAX_LINES, LOG_BATCH_MAX_LINES, 200]);
    assert.deepEqual(t.lines(1), Array.from({ length: 1200 }, (_, i) => `line ${i}`));
    assert.equal(b[1]!.lines[1]!.stream, 'stderr');
    assert.equal(t.ended(1)!.error, undefined);
    assert.equal(t.streams.size, 0);
  });

  it('honours tail', async () => {
    const t = await setup({ lines: 10 });
    t.streams.open(req(1, { tail: 3 }));
    await eventually(() => t.ended(1) !== undefined, 5000, 'log-end');
    assert.deepEqual(t.lines(1), ['line 7', 'line 8', 'line 9']);
  });

  it('sends no more than the window before acknowledgements, and one more per acknowledged batch', async () => {
    const t = await setup({ lines: LOG_BATCH_MAX_LINES * 20 });
    t.streams.open(req(1));
    await eventually(() => t.batches(1).length === LOG_WINDOW, 5000, 'a full window');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(t.batches(1).length, LOG_WINDOW, 'nothing beyond the window');
    t.streams.ack(1, 1);
    await eventually(() => t.batches(1).length === LOG_WINDOW + 1, 5000, 'one more batch');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(t.batches(1).length, LOG_WINDOW + 1);
    // Acknowledging everything as it comes lets the rest through.
    for (let i = 0; i < 30 && t.ended(1) === undefined; i++) {
      t.streams.ack(1, LOG_WINDOW);
      await new Promise((r) => setTimeout(r, 10));
    }
    await eventually(() => t.ended(1) !== undefined, 5000, 'log-end');
    assert.equal(t.lines(1).length, LOG_BATCH_MAX_LINES * 20);
  });

  it('holds batches back while the socket buffer is above the high-water mark', async () => {
    const t = await setup({ lines: 10 });
    t.setBuffered(LOG_CHANNEL_HIGH_WATER_BYTES + 1);
    t.streams.open(req(1));
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(t.sent.length, 0);
    t.setBuffered(0);
    await eventually(() => t.ended(1) !== undefined, 5000, 'log-end');
    assert.equal(t.lines(1).length, 10);
  });

  it('follows: lines written later arrive within a flush interval; the stream ends when the container stops', async () => {
    const t = await setup({ lines: 1 });
    t.streams.open(req(1, { follow: true }));
    await eventually(() => t.lines(1).length === 1, 5000, 'the first line');
    t.runtime.control.log(t.id, 'later');
    await eventually(() => t.lines(1).includes('later'), 5000, 'a line written later');
    assert.equal(t.ended(1), undefined);
    t.runtime.control.exit(t.id, 0);
    await eventually(() => t.ended(1) !== undefined, 5000, 'log-end once the container stopped');
    assert.equal(t.ended(1)!.error, undefined);
  });

  it('a cancelled follow stops at once and says nothing more', async () => {
    const t = await setup({ lines: 1 });
    t.streams.open(req(1, { follow: true }));
    await eventually(() => t.lines(1).length === 1, 5000, 'the first line');
    t.streams.cancel(1);
    assert.equal(t.streams.size, 0);
    t.runtime.control.log(t.id, 'after cancel');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(!t.lines(1).includes('after cancel'));
    assert.equal(t.ended(1), undefined);
  });

  it('closeAll (the channel dropped) ends every stream', async () => {
    const t = await setup({ lines: 1 });
    t.streams.open(req(1, { follow: true }));
    t.streams.open(req(2, { follow: true }));
    await eventually(() => t.lines(1).length === 1 && t.lines(2).length === 1, 5000, 'both streams');
    t.streams.closeAll();
    assert.equal(t.streams.size, 0);
  });

  it('a container that cannot be found ends the stream with the reason', async () => {
    const t = await setup();
    t.streams.open(req(1, { container: 'nope' }));
    await eventually(() => t.ended(1) !== undefined, 5000, 'log-end');
    assert.equal(t.ended(1)!.error, 'no container nope');
    assert.equal(t.batches(1).length, 0);
  });

  it('a channel that is gone ends the stream without sending', async () => {
    let connected = true;
    const t = await setup({ lines: 1, connected: () => connected });
    connected = false;
    t.streams.open(req(1, { follow: true }));
    await eventually(() => t.streams.size === 0, 5000, 'the stream given up');
  });
});
