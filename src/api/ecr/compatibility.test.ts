/**
 * Keeps docs/compatibility-ecr.md true: every ECR operation of the model is listed once, and the ones marked
 * supported or partial are exactly the ones the operation table serves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../app/server-app.js';
import { compileServerConfig } from '../../config/server-config.js';
import { assertCompatibilityDoc } from '../../testing/compatibility-doc.js';
import { silentLogger } from '../../util/log.js';

describe('docs/compatibility-ecr.md', () => {
  it('lists every model operation once, and its status matches what Gantry serves', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gantry-ecr-compat-'));
    const server = await startServer({
      config: compileServerConfig({ port: '0', 'data-dir': dataDir, 'log-level': 'error' }, {}),
      logger: silentLogger,
      env: {},
    });
    try {
      assertCompatibilityDoc('compatibility-ecr.md', 'ecr', (op) => server.registry.operations[op] !== undefined);
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
