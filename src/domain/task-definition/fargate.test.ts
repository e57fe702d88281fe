import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FARGATE_SIZES, NO_FARGATE_CONFIGURATION, assertFargateSize, fargateSizeViolation } from './fargate.js';
import { expectApiError } from './testing.js';

describe('FARGATE_SIZES', () => {
  it('matches the documented table row by row', () => {
    const table = Object.fromEntries(FARGATE_SIZES.map((r) => [r.cpu, [r.memory[0], r.memory.at(-1), r.memory.length]]));
    assert.deepEqual(table, {
      256: [512, 2048, 3],
      512: [1024, 4096, 4],
      1024: [2048, 8192, 7],
      2048: [4096, 16384, 13],
      4096: [8192, 30720, 23],
      8192: [16384, 61440, 12],
      16384: [32768, 122880, 12],
    });
  });

  it('steps 8 vCPU by 4 GB and 16 vCPU by 8 GB', () => {
    assert.equal(fargateSizeViolation('8192', '20480'), undefined);
    assert.notEqual(fargateSizeViolation('8192', '18432'), undefined);
    assert.equal(fargateSizeViolation('16384', '40960'), undefined);
    assert.notEqual(fargateSizeViolation('16384', '36864'), undefined);
  });
});

describe('assertFargateSize', () => {
  it('accepts every documented pair', () => {
    for (const row of FARGATE_SIZES) for (const m of row.memory) assertFargateSize(String(row.cpu), String(m));
  });

  it('rejects 256 CPU with 4096 memory (ECS-SEMANTICS 9.2) with ClientException', () => {
    expectApiError(() => assertFargateSize('256', '4096'), 'ClientException', 'No Fargate configuration exists for given values');
    expectApiError(() => assertFargateSize('256', '4096'), 'ClientException', '256 CPU, 4096 memory');
  });

  it('keeps the documented prefix and names the allowed memory for a known cpu', () => {
    const message = fargateSizeViolation('256', '4096') ?? '';
    assert.ok(message.startsWith(`${NO_FARGATE_CONFIGURATION}: 256 CPU, 4096 memory.`));
    assert.ok(message.includes('512, 1024, 2048'));
  });

  it('lists the valid cpu values for an unknown cpu', () => {
    expectApiError(() => assertFargateSize('128', '512'), 'ClientException', 'Valid CPU values are 256, 512, 1024');
    expectApiError(() => assertFargateSize('3072', '8192'), 'ClientException', NO_FARGATE_CONFIGURATION);
  });

  it('rejects memory between steps', () => {
    expectApiError(() => assertFargateSize('1024', '2560'), 'ClientException', NO_FARGATE_CONFIGURATION);
  });

  it('requires at least 1 vCPU and at most 4 vCPU for Windows', () => {
    assertFargateSize('1024', '2048', 'WINDOWS');
    assertFargateSize('4096', '30720', 'WINDOWS');
    expectApiError(() => assertFargateSize('512', '1024', 'WINDOWS'), 'ClientException', 'for Windows containers');
    expectApiError(() => assertFargateSize('8192', '16384', 'WINDOWS'), 'ClientException', NO_FARGATE_CONFIGURATION);
  });
});
