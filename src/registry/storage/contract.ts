/**
 * The contract every BlobStore backend passes (filesystem now, S3-compatible later): run it from each
 * backend's test file with a factory for a fresh, empty store.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { digestOf } from '../digest.js';
import { BlobNotFoundError, BlobTooLargeError, DigestMismatchError, UploadNotFoundError, UploadOffsetError } from './blob-store.js';
import type { BlobStore } from './blob-store.js';

export interface ContractSubject {
  readonly store: BlobStore;
  cleanup(): Promise<void>;
}

async function collect(s: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Splits `data` into pieces of the given sizes (the rest as a last piece). */
function pieces(data: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const s of sizes) {
    out.push(data.subarray(at, at + s));
    at += s;
  }
  if (at < data.length) out.push(data.subarray(at));
  return out;
}

async function* failingAfter(chunks: readonly Buffer[], error: Error): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
  throw error;
}

export function blobStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`BlobStore contract: ${name}`, () => {
    const withStore = (fn: (s: BlobStore) => Promise<void>) => async () => {
      const subject = await open();
      try {
        await fn(subject.store);
      } finally {
        await subject.cleanup();
      }
    };

    test('a chunked upload, committed under its digest, reads back whole and in ranges', withStore(async (s) => {
      const data = randomBytes(3 * 70_000 + 123);
      const d = digestOf(data);
      await s.startUpload('u1');
      assert.equal(await s.uploadSize('u1'), 0);
      let size = 0;
      for (const chunk of [data.subarray(0, 1), data.subarray(1, 65_537), data.subarray(65_537, 140_000), data.subarray(140_000)]) {
        size = await s.append('u1', size, pieces(chunk, [7, 1000, 30_000]));
        assert.equal(await s.uploadSize('u1'), size);
      }
      assert.equal(size, data.length);
      assert.deepEqual(await s.commitUpload('u1', d), { digest: d.text, size: data.length });
      assert.equal(await s.uploadSize('u1'), undefined, 'the upload is gone once committed');
      assert.deepEqual(await s.stat(d.text), { digest: d.text, size: data.length });
      assert.ok((await collect(await s.read(d.text))).equals(data));
      assert.ok((await s.readAll(d.text)).equals(data));
      for (const [start, end] of [[0, 0], [5, 5], [0, 65_535], [65_535, 65_537], [1, data.length - 2], [data.length - 1, data.length - 1], [100_000, 200_001]] as const) {
        const got = await collect(await s.read(d.text, { start, end }));
        assert.ok(got.equals(data.subarray(start, end + 1)), `range ${start}-${end}`);
      }
      await assert.rejects(s.read(d.text, { start: 0, end: data.length }), RangeError);
    }));

    test('chunks handed back (recycle) never change what later or concurrent reads return', withStore(async (s) => {
      const blobs = [randomBytes(5 * 1024 * 1024 + 17), randomBytes(3 * 1024 * 1024 + 5)];
      for (const [k, b] of blobs.entries()) {
        await s.startUpload(`r${k}`);
        await s.append(`r${k}`, 0, pieces(b, [1024 * 1024, 1024 * 1024]));
        await s.commitUpload(`r${k}`, digestOf(b));
      }
      /** Copies each chunk, then hands it back at once, as the registry does once the socket has sent it. */
      const readRecycling = async (b: Buffer, range?: { start: number; end: number }): Promise<Buffer> => {
        const parts: Buffer[] = [];
        for await (const c of await s.read(digestOf(b).text, range)) {
          parts.push(Buffer.from(c as Buffer));
          s.recycle(c as Buffer);
          s.recycle(c as Buffer);
        }
        return Buffer.concat(parts);
      };
      for (let round = 0; round < 3; round++) {
        const [a, b, r] = await Promise.all([readRecycling(blobs[0]!), readRecycling(blobs[1]!), readRecycling(blobs[0]!, { start: 1_000_000, end: 4_500_000 })]);
        assert.ok(a.equals(blobs[0]!) && b.equals(blobs[1]!), `round ${round}`);
        assert.ok(r.equals(blobs[0]!.subarray(1_000_000, 4_500_001)), `round ${round}, range`);
      }
      // A reader that stops early gives its buffers back safely too.
      const early = await s.read(digestOf(blobs[0]!).text);
      for await (const c of early) {
        s.recycle(c as Buffer);
        break;
      }
      s.recycle(Buffer.alloc(10));
      s.recycle(Buffer.from(new SharedArrayBuffer(2 * 1024 * 1024)));
      assert.ok((await collect(await s.read(digestOf(blobs[0]!).text))).equals(blobs[0]!));
    }));

    test('an empty blob', withStore(async (s) => {
      const d = digestOf(Buffer.alloc(0));
      await s.startUpload('empty');
      assert.deepEqual(await s.commitUpload('empty', d), { digest: d.text, size: 0 });
      assert.equal((await collect(await s.read(d.text))).length, 0);
    }));

    test('a chunk that does not follow on is refused and changes nothing', withStore(async (s) => {
      await s.startUpload('u2');
      await s.append('u2', 0, [Buffer.from('hello')]);
      await assert.rejects(s.append('u2', 3, [Buffer.from('xx')]), (e: unknown) => e instanceof UploadOffsetError && e.actual === 5);
      await assert.rejects(s.append('u2', 9, [Buffer.from('xx')]), UploadOffsetError);
      assert.equal(await s.uploadSize('u2'), 5);
      await assert.rejects(s.append('nope', 0, [Buffer.from('x')]), UploadNotFoundError);
    }));

    test('a digest mismatch stores nothing and ends the upload', withStore(async (s) => {
      const data = randomBytes(1000);
      const wrong = digestOf(Buffer.from('something else'));
      await s.startUpload('u3');
      await s.append('u3', 0, [data]);
      await assert.rejects(s.commitUpload('u3', wrong), (e: unknown) => e instanceof DigestMismatchError && e.actual === digestOf(data).text);
      assert.equal(await s.stat(wrong.text), undefined);
      assert.equal(await s.stat(digestOf(data).text), undefined);
      assert.equal(await s.uploadSize('u3'), undefined);
      const listed: string[] = [];
      for await (const b of s.list()) listed.push(b.digest);
      assert.deepEqual(listed, []);
    }));

    test('bytes received before a client went away are kept, and the upload resumes from there', withStore(async (s) => {
      const data = randomBytes(100_000);
      await s.startUpload('u4');
      await assert.rejects(s.append('u4', 0, failingAfter([data.subarray(0, 30_000), data.subarray(30_000, 41_000)], new Error('aborted'))), /aborted/);
      assert.equal(await s.uploadSize('u4'), 41_000);
      await s.append('u4', 41_000, [data.subarray(41_000)]);
      await s.commitUpload('u4', digestOf(data));
      assert.ok((await s.readAll(digestOf(data).text)).equals(data));
    }));

    test('maxBytes bounds an append', withStore(async (s) => {
      await s.startUpload('u5');
      await assert.rejects(s.append('u5', 0, [Buffer.alloc(600), Buffer.alloc(600)], { maxBytes: 1000 }), BlobTooLargeError);
    }));

    test('the same content twice is stored once; put, delete, list, abort', withStore(async (s) => {
      const data = Buffer.from('{"schemaVersion":2}');
      const d = digestOf(data);
      await s.put(data, d);
      await s.startUpload('dup');
      await s.append('dup', 0, [data]);
      await s.commitUpload('dup', d);
      const listed: string[] = [];
      for await (const b of s.list()) listed.push(b.digest);
      assert.deepEqual(listed, [d.text]);
      await assert.rejects(s.put(Buffer.from('x'), d), DigestMismatchError);
      await s.startUpload('gone');
      assert.deepEqual((await s.uploads()).map((u) => u.id), ['gone']);
      await s.abortUpload('gone');
      await s.abortUpload('gone');
      assert.deepEqual(await s.uploads(), []);
      await s.delete(d.text);
      await s.delete(d.text);
      assert.equal(await s.stat(d.text), undefined);
      await assert.rejects(s.read(d.text), BlobNotFoundError);
    }));

    test('concurrent uploads of different blobs do not interfere', withStore(async (s) => {
      const blobs = Array.from({ length: 6 }, (_, i) => randomBytes(50_000 + i * 17_000));
      await Promise.all(
        blobs.map(async (b, i) => {
          await s.startUpload(`c${i}`);
          await s.append(`c${i}`, 0, pieces(b, [10_000, 20_000]));
          await s.commitUpload(`c${i}`, digestOf(b));
        }),
      );
      for (const b of blobs) assert.ok((await s.readAll(digestOf(b).text)).equals(b));
    }));
  });
}
