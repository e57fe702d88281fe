import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuntimeError } from '../runtime.js';
import { jsonMessages, splitImageReference, summarisePull } from './json-stream.js';

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}
async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const pullStream = [
  '{"status":"Pulling from library/nginx","id":"1.27"}\r\n',
  '{"status":"Pulling fs layer","progressDetail":{},"id":"a1b2"}\r\n{"status":"Downloading","progressDetail":{"current":100,"total":200},"progress":"[=>  ]","id":"a1',
  'b2"}\r\n{"status":"Pull complete","progressDetail":{},"id":"a1b2"}\r\n',
  `{"status":"Digest: ${DIGEST}"}\r\n`,
  '{"status":"Status: Downloaded newer image for nginx:1.27"}\r\n',
];

describe('jsonMessages', () => {
  it('parses one object per line whatever the chunking, with or without a final newline', async () => {
    assert.deepEqual(await all(jsonMessages(chunks('{"a":', '1}\n\n{"b"', ':2}\r\n{"c":3}'))), [{ a: 1 }, { b: 2 }, { c: 3 }]);
  });

  it('turns an unreadable line into an error message rather than throwing', async () => {
    assert.deepEqual(await all(jsonMessages(chunks('not json\n'))), [{ error: 'unreadable message from the Docker engine: not json' }]);
  });
});

describe('summarisePull', () => {
  it('reads the digest, the final status and each layer\'s progress', async () => {
    const seen: string[] = [];
    const s = await summarisePull(jsonMessages(chunks(...pullStream)), 'nginx:1.27', (m) => m.status && seen.push(m.status));
    assert.equal(s.digest, DIGEST);
    assert.equal(s.status, 'Status: Downloaded newer image for nginx:1.27');
    assert.deepEqual([...s.layers], [['1.27', 'Pulling from library/nginx'], ['a1b2', 'Pull complete']]);
    assert.equal(seen.length, 6);
  });

  it('fails with CannotPullContainerError on an error in the stream', async () => {
    const stream = chunks(pullStream[0]!, '{"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}\r\n');
    await assert.rejects(summarisePull(jsonMessages(stream), 'private/app:1'), (e: unknown) => {
      assert.ok(e instanceof RuntimeError);
      assert.equal(e.kind, 'CannotPullContainerError');
      assert.equal(e.message, 'CannotPullContainerError: pull image private/app:1: unauthorized: authentication required');
      return true;
    });
  });

  it('has no digest for an image that was imported rather than pulled', async () => {
    const s = await summarisePull(jsonMessages(chunks('{"status":"sha256:0123"}\n')), 'local:1');
    assert.equal(s.digest, undefined);
  });
});

describe('splitImageReference', () => {
  it('separates repository and tag or digest, defaulting to latest (never "all tags")', () => {
    assert.deepEqual(splitImageReference('nginx'), { repository: 'nginx', tag: 'latest' });
    assert.deepEqual(splitImageReference('nginx:1.27'), { repository: 'nginx', tag: '1.27' });
    assert.deepEqual(splitImageReference('localhost:5000/team/app'), { repository: 'localhost:5000/team/app', tag: 'latest' });
    assert.deepEqual(splitImageReference('localhost:5000/team/app:v2'), { repository: 'localhost:5000/team/app', tag: 'v2' });
    assert.deepEqual(splitImageReference(`123.dkr.ecr.eu-west-1.amazonaws.com/app@${DIGEST}`), { repository: '123.dkr.ecr.eu-west-1.amazonaws.com/app', tag: DIGEST });
  });
});
