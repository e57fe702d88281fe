/**
 * Keeps docs/compatibility-ecr.md true: every ECR operation of the model is listed once, and the ones marked
 * supported or partial are exactly the ones the operation table serves.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../app/server-app.js';
import { compileServerConfig } from '../../config/server-config.js';
import { loadServiceModel, modelPath } from '../../protocol/awsjson/model.js';
import { ROOT } from '../../testing/harness.js';
import { silentLogger } from '../../util/log.js';

describe('docs/compatibility-ecr.md', () => {
  it('lists every model operation once, and its status matches what Gantry serves', async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'compatibility-ecr.md'), 'utf8');
    const rows = new Map<string, string>();
    for (const line of doc.split('\n')) {
      const m = /^\| ([A-Z][A-Za-z]+) \| (supported|partial|not yet) \|/.exec(line);
      if (!m) continue;
      assert.ok(!rows.has(m[1]!), `${m[1]} is listed twice`);
      rows.set(m[1]!, m[2]!);
    }
    const model = loadServiceModel(modelPath('ecr'));
    const dataDir = mkdtempSync(join(tmpdir(), 'gantry-ecr-compat-'));
    const server = await startServer({
      config: compileServerConfig({ port: '0', 'data-dir': dataDir, 'log-level': 'error' }, {}),
      logger: silentLogger,
      env: {},
    });
    try {
      const served = server.registry.operations;
      for (const op of model.operations) {
        const status = rows.get(op);
        assert.ok(status, `${op} is missing from docs/compatibility-ecr.md`);
        assert.equal(served[op] !== undefined, status !== 'not yet', `${op} is marked '${status}' but is ${served[op] !== undefined ? '' : 'not '}served`);
      }
      for (const op of rows.keys()) assert.ok(model.operations.has(op), `${op} is not an ECR operation`);
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
