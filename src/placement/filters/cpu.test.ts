import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidate, demand } from '../testing.js';
import { cpuFilter } from './cpu.js';

describe('cpuFilter', () => {
  const c = candidate('a', { remaining: { cpu: 512 } });
  for (const [need, fits] of [
    [0, true],
    [512, true],
    [513, false],
  ] as const) {
    it(`${fits ? 'fits' : 'rejects'} a task needing ${need} of 512 units`, () => {
      const r = cpuFilter.check(c, demand({ cpu: need }));
      assert.equal(r === undefined, fits);
      if (r) assert.deepEqual([r.reason, r.shortfall], ['RESOURCE:CPU', 1]);
    });
  }

  it('treats an over-committed instance as having nothing left', () => {
    const r = cpuFilter.check(candidate('a', { remaining: { cpu: -100 } }), demand({ cpu: 1 }));
    assert.equal(r?.shortfall, 101);
    assert.match(r?.detail ?? '', /has 0 left/);
  });
});
