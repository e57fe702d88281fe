// Regenerates models/*.json from the botocore service models (Apache-2.0) in ../shared/aws-models:
// keeps shapes, enums, limits and errors; drops documentation. Run by hand when the models are updated.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = process.argv[2] ?? join(root, '..', 'shared', 'aws-models');
const files = { 'ecs-service-2.json': 'ecs.json', 'ecr-service-2.json': 'ecr.json' };

function strip(value) {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'documentation' || k === 'examples' || k === 'documentationUrl') continue;
      out[k] = strip(v);
    }
    return out;
  }
  return value;
}
for (const [from, to] of Object.entries(files)) {
  const model = JSON.parse(readFileSync(join(src, from), 'utf8'));
  writeFileSync(join(root, 'models', to), JSON.stringify(strip(model)) + '\n');
  console.log(`models/${to}: ${Object.keys(model.operations).length} operations`);
}
