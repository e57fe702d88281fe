/**
 * Keeps docs/compatibility.md true: every ECS operation of the model is listed once, and the ones marked
 * supported or partial are exactly the ones the operation table serves.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadServiceModel, modelPath } from '../../protocol/awsjson/model.js';
import { ROOT } from '../../testing/harness.js';
import { createTestEcs } from './testing.js';

describe('docs/compatibility.md', () => {
  it('lists every model operation once, and its status matches what Gantry serves', async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'compatibility.md'), 'utf8');
    const rows = new Map<string, string>();
    for (const line of doc.split('\n')) {
      const m = /^\| ([A-Z][A-Za-z]+) \| (supported|partial|not yet) \|/.exec(line);
      if (!m) continue;
      assert.ok(!rows.has(m[1]!), `${m[1]} is listed twice`);
      rows.set(m[1]!, m[2]!);
    }
    const model = loadServiceModel(modelPath('ecs'));
    const ecs = await createTestEcs();
    try {
      for (const op of model.operations) {
        const status = rows.get(op);
        assert.ok(status, `${op} is missing from docs/compatibility.md`);
        const served = ecs.ops[op] !== undefined;
        assert.equal(served, status !== 'not yet', `${op} is marked '${status}' but is ${served ? '' : 'not '}served`);
      }
      for (const op of rows.keys()) assert.ok(model.operations.has(op), `${op} is not an ECS operation`);
    } finally {
      await ecs.close();
    }
  });
});
