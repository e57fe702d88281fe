import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualTimers, TimerWheel } from './timers.js';

describe('TimerWheel', () => {
  it('fires in deadline order, skips cancelled entries, and coalesces to its resolution', async () => {
    const wheel = new TimerWheel({ resolutionMs: 20 });
    const fired: string[] = [];
    wheel.after(30, () => fired.push('c'));
    wheel.after(1, () => fired.push('a'));
    const cancel = wheel.after(10, () => fired.push('cancelled'));
    wheel.after(5, () => fired.push('b'));
    cancel();
    assert.equal(wheel.size, 3);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(fired, ['a', 'b', 'c']);
    assert.equal(wheel.size, 0);
    wheel.close();
  });

  it('a callback may schedule more; a throwing one does not stop the others', async () => {
    const errors: unknown[] = [];
    const wheel = new TimerWheel({ resolutionMs: 5, onError: (e) => errors.push(e) });
    const fired: number[] = [];
    wheel.after(1, () => {
      throw new Error('boom');
    });
    wheel.after(1, () => wheel.after(0, () => fired.push(2)));
    wheel.after(1, () => fired.push(1));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(fired, [1, 2]);
    assert.equal(errors.length, 1);
    wheel.close();
  });

  it('many cancelled timers are compacted away', () => {
    const wheel = new TimerWheel({ resolutionMs: 1000 });
    for (let i = 0; i < 10_000; i++) wheel.after(60_000 + i, () => {})();
    assert.equal(wheel.size, 0);
    wheel.close();
  });
});

describe('ManualTimers', () => {
  it('runs what falls due as time is advanced, in order', () => {
    const t = new ManualTimers(0);
    const fired: [string, number][] = [];
    t.after(100, () => fired.push(['b', t.now()]));
    t.after(50, () => {
      fired.push(['a', t.now()]);
      t.after(10, () => fired.push(['a2', t.now()]));
    });
    t.advance(40);
    assert.deepEqual(fired, []);
    t.advance(100);
    assert.deepEqual(fired, [['a', 50], ['a2', 60], ['b', 100]]);
    assert.equal(t.now(), 140);
  });
});
