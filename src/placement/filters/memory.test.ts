import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidate, demand } from '../testing.js';
import { memoryFilter } from './memory.js';

describe('memoryFilter', () => {
  const c = candidate('a', { remaining: { memory: 1000 } });
  it('fits a task up to exactly what is left', () => {
    assert.equal(memoryFilter.check(c, demand({ memory: 1000 })), undefined);
  });
  it('rejects more with RESOURCE:MEMORY and the MiB missing', () => {
    const r = memoryFilter.check(c, demand({ memory: 1500 }));
    assert.equal(r?.reason, 'RESOURCE:MEMORY');
    assert.equal(r?.shortfall, 500);
    assert.match(r?.detail ?? '', /1500 MiB.*1000 MiB left/);
  });
});
