/**
 * Keeps docs/compatibility.md true: every ECS operation of the model (Gantry's extensions included) is listed
 * once, and the ones marked supported or partial are exactly the ones the operation table serves.
 */
import { describe, it } from 'node:test';
import { assertCompatibilityDoc } from '../../testing/compatibility-doc.js';
import { createTestEcs } from './testing.js';

describe('docs/compatibility.md', () => {
  it('lists every model operation once, and its status matches what Gantry serves', async () => {
    const ecs = await createTestEcs();
    try {
      assertCompatibilityDoc('compatibility.md', 'ecs', (op) => ecs.ops[op] !== undefined);
    } finally {
      await ecs.close();
    }
  });
});
