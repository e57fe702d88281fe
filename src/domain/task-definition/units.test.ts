import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectApiError as rejects } from './testing.js';
import { parseTaskCpu, parseTaskMemory } from './units.js';

describe('parseTaskCpu', () => {
  it('accepts integer CPU units as given', () => {
    assert.equal(parseTaskCpu('256'), '256');
    assert.equal(parseTaskCpu('1024'), '1024');
    assert.equal(parseTaskCpu(' 2048 '), '2048');
  });

  it('normalises leading zeros', () => {
    assert.equal(parseTaskCpu('0512'), '512');
  });

  it('converts vCPU notation in every documented spelling', () => {
    assert.equal(parseTaskCpu('1 vCPU'), '1024');
    assert.equal(parseTaskCpu('1 vcpu'), '1024');
    assert.equal(parseTaskCpu('1vCPU'), '1024');
    assert.equal(parseTaskCpu('0.25 vcpu'), '256');
    assert.equal(parseTaskCpu('.5 VCPU'), '512');
    assert.equal(parseTaskCpu('16 vCPU'), '16384');
  });

  it('accepts the documented bounds 128 and 196608', () => {
    assert.equal(parseTaskCpu('128'), '128');
    assert.equal(parseTaskCpu('0.125 vCPU'), '128');
    assert.equal(parseTaskCpu('196608'), '196608');
    assert.equal(parseTaskCpu('192 vCPU'), '196608');
  });

  it('rejects values outside 128–196608 with ClientException', () => {
    rejects(() => parseTaskCpu('127'), 'ClientException', "Invalid 'cpu' setting for task.");
    rejects(() => parseTaskCpu('0'), 'ClientException', "Invalid 'cpu' setting for task.");
    rejects(() => parseTaskCpu('196609'), 'ClientException', 'between 128 and 196608');
  });

  it('rejects fractions that do not land on whole units', () => {
    rejects(() => parseTaskCpu('0.1 vCPU'), 'ClientException', "Invalid 'cpu' setting for task.");
  });

  it('rejects malformed values and says what is accepted', () => {
    for (const bad of ['', 'abc', '1.5', '-256', '1 cpu', '1 vCPUs', '1 GB', '2 x vCPU', '1e3']) {
      rejects(() => parseTaskCpu(bad), 'ClientException', "'1 vCPU'");
    }
  });
});

describe('parseTaskMemory', () => {
  it('accepts integer MiB as given', () => {
    assert.equal(parseTaskMemory('512'), '512');
    assert.equal(parseTaskMemory('30720'), '30720');
  });

  it('converts GB notation in every documented spelling', () => {
    assert.equal(parseTaskMemory('1GB'), '1024');
    assert.equal(parseTaskMemory('1 GB'), '1024');
    assert.equal(parseTaskMemory('2gb'), '2048');
    assert.equal(parseTaskMemory('0.5GB'), '512');
    assert.equal(parseTaskMemory('120 GB'), '122880');
  });

  it('rejects zero, fractions of a MiB and malformed values with ClientException', () => {
    rejects(() => parseTaskMemory('0'), 'ClientException', "Invalid 'memory' setting for task.");
    rejects(() => parseTaskMemory('0.3GB'), 'ClientException', "Invalid 'memory' setting for task.");
    for (const bad of ['', '1.5', '1 MB', '1 TB', 'GB', '-1GB', '1 vCPU']) {
      rejects(() => parseTaskMemory(bad), 'ClientException', "'2GB'");
    }
  });

  it('rejects values beyond a 32-bit integer', () => {
    rejects(() => parseTaskMemory('99999999999'), 'ClientException', "Invalid 'memory' setting for task.");
  });
});
