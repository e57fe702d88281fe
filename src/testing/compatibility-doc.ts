/**
 * Keeps a compatibility table true (docs/compatibility*.md): every operation of the service model is listed once,
 * no row names an operation the model lacks, and the ones marked supported or partial are exactly those served.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadServiceModel, modelPath } from '../protocol/awsjson/model.js';
import { ROOT } from './harness.js';

export function assertCompatibilityDoc(docFile: string, model: 'ecs' | 'ecr', served: (operation: string) => boolean): void {
  const doc = readFileSync(join(ROOT, 'docs', docFile), 'utf8');
  const rows = new Map<string, string>();
  for (const line of doc.split('\n')) {
    const m = /^\| ([A-Z][A-Za-z]+) \| (supported|partial|not yet) \|/.exec(line);
    if (!m) continue;
    assert.ok(!rows.has(m[1]!), `${m[1]} is listed twice`);
    rows.set(m[1]!, m[2]!);
  }
  const operations = loadServiceModel(modelPath(model)).operations;
  for (const op of operations) {
    const status = rows.get(op);
    assert.ok(status, `${op} is missing from docs/${docFile}`);
    assert.equal(served(op), status !== 'not yet', `${op} is marked '${status}' but is ${served(op) ? '' : 'not '}served`);
  }
  for (const op of rows.keys()) assert.ok(operations.has(op), `${op} is not an ${model.toUpperCase()} operation`);
}
