import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidate, demand } from '../testing.js';
import { gpuFilter } from './gpu.js';

describe('gpuFilter', () => {
  it('passes tasks without GPUs anywhere', () => {
    assert.equal(gpuFilter.check(candidate('a'), demand()), undefined);
  });
  it('counts free GPU ids', () => {
    const c = candidate('a', { remaining: { freeGpus: ['gpu-0', 'gpu-1'] } });
    assert.equal(gpuFilter.check(c, demand({ gpus: 2 })), undefined);
    const r = gpuFilter.check(c, demand({ gpus: 3 }));
    assert.equal(r?.reason, 'RESOURCE:GPU');
    assert.equal(r?.shortfall, 1);
  });
});
