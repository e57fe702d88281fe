import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { digestOf } from '../digest.js';
import { blobStoreContract } from './contract.js';
import { FsBlobStore } from './fs-blob-store.js';
import { masterKey, SealedFormatError } from './sealed-format.js';

const KEY = masterKey(Buffer.alloc(32, 7));
const tempRoot = () => mkdtempSync(join(tmpdir(), 'gantry-blobs-'));

blobStoreContract('filesystem, 256 KiB segments', async () => {
  const root = tempRoot();
  return { store: await FsBlobStore.open({ root, masterKey: KEY }), cleanup: async () => rmSync(root, { recursive: true, force: true }) };
});
// Small segments: every range and append path crosses many segment boundaries.
blobStoreContract('filesystem, 1000-byte segments', async () => {
  const root = tempRoot();
  return { store: await FsBlobStore.open({ root, masterKey: KEY, segmentSize: 1000 }), cleanup: async () => rmSync(root, { recursive: true, force: true }) };
});

describe('FsBlobStore on disk', () => {
  test('bytes are encrypted at rest, and unreadable with another master key', async () => {
    const root = tempRoot();
    try {
      const store = await FsBlobStore.open({ root, masterKey: KEY });
      const data = Buffer.from('a very recognisable plaintext '.repeat(1000));
      await store.put(data, digestOf(data));
      const file = join(root, 'blobs', 'sha256', digestOf(data).hex.slice(0, 2), digestOf(data).hex);
      const onDisk = readFileSync(file);
      assert.equal(onDisk.includes(Buffer.from('recognisable')), false);
      const other = await FsBlobStore.open({ root, masterKey: masterKey(Buffer.alloc(32, 8)) });
      await assert.rejects(other.read(digestOf(data).text), SealedFormatError);
      // A flipped byte in the middle fails authentication rather than returning wrong bytes.
      onDisk[onDisk.length >> 1]! ^= 1;
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, onDisk);
      await assert.rejects(store.readAll(digestOf(data).text), SealedFormatError);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('an upload survives a restart (hashed from disk at commit) and a torn last segment is cut off', async () => {
    const root = tempRoot();
    try {
      const data = randomBytes(5000);
      const first = await FsBlobStore.open({ root, masterKey: KEY, segmentSize: 1000 });
      await first.startUpload('r1');
      await first.append('r1', 0, [data.subarray(0, 3500)]);
      // A crash mid-write: the file ends inside the last (partial) segment.
      const file = join(root, 'uploads', 'r1');
      truncateSync(file, statSync(file).size - 10);
      const second = await FsBlobStore.open({ root, masterKey: KEY, segmentSize: 1000 });
      assert.equal(await second.uploadSize('r1'), 3000, 'the torn segment is dropped; whole segments remain');
      await second.append('r1', 3000, [data.subarray(3000)]);
      await second.commitUpload('r1', digestOf(data));
      assert.ok((await second.readAll(digestOf(data).text)).equals(data));
      assert.deepEqual(readdirSync(join(root, 'uploads')), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
