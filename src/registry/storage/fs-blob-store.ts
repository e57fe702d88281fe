/**
 * The local-filesystem blob store: encrypted files (./sealed-format.ts) under one directory.
 *
 *   <root>/blobs/sha256/ab/abcdef…   committed blobs, named by digest, never modified after the rename
 *   <root>/uploads/<id>              uploads in progress, in the same sealed format
 *
 * Crash safety: an upload is appended in place and fsync'd before each append is acknowledged; a commit
 * verifies the digest, fsyncs the file, renames it into blobs/ (atomic) and fsyncs the directory. A crash
 * therefore leaves either a whole blob under its digest or none; a torn last segment of an upload is cut off
 * when the upload is next touched (the client is told the size that survived, and resumes from there).
 *
 * The running hash of each upload is kept in memory so a commit need not read the bytes back; after a
 * restart (or an append that did not start at the hashed size) the commit hashes the file instead.
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Hash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestOf, newHash, parseDigest } from '../digest.js';
import type { Digest } from '../digest.js';
import {
  BlobNotFoundError,
  BlobTooLargeError,
  DigestMismatchError,
  UploadNotFoundError,
  UploadOffsetError,
} from './blob-store.js';
import type { BlobInfo, BlobStore, ByteRange, UploadInfo } from './blob-store.js';
import {
  DEFAULT_SEGMENT_SIZE,
  HEADER_SIZE,
  SEGMENT_OVERHEAD,
  SealedFormatError,
  newHeader,
  openHeader,
  openSegment,
  plainSizeOf,
  sealSegment,
  segmentOffset,
} from './sealed-format.js';
import type { MasterKey } from './sealed-format.js';

export interface FsBlobStoreOptions {
  readonly root: string;
  readonly masterKey: MasterKey;
  readonly segmentSize?: number;
}

/** Sealed segments are written in batches of this many bytes (fewer, larger writes). */
const WRITE_BATCH = 1024 * 1024;
/** Segments are read and decrypted this many at a time when streaming a blob. */
const READ_SEGMENTS = 16;
const UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/;

interface RunningHash {
  readonly hash: Hash;
  size: number;
}

interface OpenUpload {
  readonly fh: FileHandle;
  readonly dataKey: Buffer;
  readonly segmentSize: number;
  readonly size: number;
}

export class FsBlobStore implements BlobStore {
  readonly #root: string;
  readonly #master: MasterKey;
  readonly #segmentSize: number;
  readonly #hashes = new Map<string, RunningHash>();

  private constructor(opts: FsBlobStoreOptions) {
    this.#root = opts.root;
    this.#master = opts.masterKey;
    this.#segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  }

  static async open(opts: FsBlobStoreOptions): Promise<FsBlobStore> {
    await mkdir(join(opts.root, 'blobs'), { recursive: true, mode: 0o700 });
    await mkdir(join(opts.root, 'uploads'), { recursive: true, mode: 0o700 });
    return new FsBlobStore(opts);
  }

  #uploadPath(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new UploadNotFoundError(id);
    return join(this.#root, 'uploads', id);
  }

  #blobPath(digest: string): string {
    const d = parseDigest(digest);
    if (!d) throw new BlobNotFoundError(digest);
    return join(this.#root, 'blobs', d.algorithm, d.hex.slice(0, 2), d.hex);
  }

  async startUpload(id: string): Promise<void> {
    const { header } = newHeader(this.#master, this.#segmentSize);
    const fh = await open(this.#uploadPath(id), constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o600);
    try {
      await fh.write(header, 0, header.length, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    this.#hashes.set(id, { hash: newHash('sha256'), size: 0 });
  }

  /** Opens an upload, cutting off a torn or unauthentic last segment left by a crash. */
  async #openUpload(id: string): Promise<OpenUpload> {
    let fh: FileHandle;
    try {
      fh = await open(this.#uploadPath(id), 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UploadNotFoundError(id);
      throw e;
    }
    try {
      const header = Buffer.alloc(HEADER_SIZE);
      const { bytesRead } = await fh.read(header, 0, HEADER_SIZE, 0);
      if (bytesRead < HEADER_SIZE) throw new SealedFormatError(`upload ${id} has no complete header`);
      const { dataKey, segmentSize } = openHeader(this.#master, header);
      const fileSize = (await fh.stat()).size;
      let { size, completeBytes } = plainSizeOf(fileSize, segmentSize);
      if (size > 0) {
        // The last segment must open; if a crash tore it, drop it (and anything after it).
        const last = Math.ceil(size / segmentSize) - 1;
        const at = segmentOffset(last, segmentSize);
        const sealed = Buffer.alloc(completeBytes - at);
        await fh.read(sealed, 0, sealed.length, at);
        try {
          openSegment(dataKey, last, sealed);
        } catch {
          completeBytes = at;
          size = last * segmentSize;
        }
      }
      if (completeBytes !== fileSize) {
        await fh.truncate(completeBytes);
        await fh.sync();
        this.#hashes.delete(id);
      }
      return { fh, dataKey, segmentSize, size };
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async uploadSize(id: string): Promise<number | undefined> {
    try {
      const u = await this.#openUpload(id);
      await u.fh.close();
      return u.size;
    } catch (e) {
      if (e instanceof UploadNotFoundError) return undefined;
      throw e;
    }
  }

  async append(id: string, offset: number, data: AsyncIterable<Buffer> | Iterable<Buffer>, opts: { readonly maxBytes?: number } = {}): Promise<number> {
    const u = await this.#openUpload(id);
    const { fh, dataKey, segmentSize } = u;
    try {
      if (u.size !== offset) throw new UploadOffsetError(id, offset, u.size);
      let running = this.#hashes.get(id);
      if (running !== undefined && running.size !== u.size) {
        this.#hashes.delete(id);
        running = undefined;
      }
      let index = Math.floor(u.size / segmentSize);
      let writePos = segmentOffset(index, segmentSize);
      const pending = Buffer.allocUnsafe(segmentSize);
      let pendingLen = u.size - index * segmentSize;
      if (pendingLen > 0) {
        const sealed = Buffer.alloc(pendingLen + SEGMENT_OVERHEAD);
        await fh.read(sealed, 0, sealed.length, writePos);
        openSegment(dataKey, index, sealed).copy(pending, 0);
      }
      const stride = segmentSize + SEGMENT_OVERHEAD;
      // Two batch buffers: one fills (hash, encrypt) while the other is written, so receiving, encrypting and
      // writing overlap.
      const buffers = [Buffer.allocUnsafe(WRITE_BATCH + stride), Buffer.allocUnsafe(WRITE_BATCH + stride)];
      let which = 0;
      let batch = buffers[0]!;
      let batchLen = 0;
      let size = u.size;
      let writing: Promise<void> | undefined;
      const write = async (buf: Buffer, len: number, at: number): Promise<void> => {
        let off = 0;
        while (off < len) off += (await fh.write(buf, off, len - off, at + off)).bytesWritten;
      };
      const flushBatch = async (): Promise<void> => {
        await writing;
        writing = batchLen > 0 ? write(batch, batchLen, writePos) : undefined;
        writePos += batchLen;
        which ^= 1;
        batch = buffers[which]!;
        batchLen = 0;
      };
      let failure: unknown;
      try {
        for await (const chunk of data) {
          if (opts.maxBytes !== undefined && size - offset + chunk.length > opts.maxBytes) throw new BlobTooLargeError(opts.maxBytes);
          running?.hash.update(chunk);
          size += chunk.length;
          let at = 0;
          while (at < chunk.length) {
            const n = Math.min(segmentSize - pendingLen, chunk.length - at);
            chunk.copy(pending, pendingLen, at, at + n);
            pendingLen += n;
            at += n;
            if (pendingLen === segmentSize) {
              batchLen += sealSegment(dataKey, index, pending, batch, batchLen);
              index++;
              pendingLen = 0;
              if (batchLen >= WRITE_BATCH) await flushBatch();
            }
          }
        }
      } catch (e) {
        failure = e;
      }
      // Keep what arrived: the complete segments, then the partial one (re-written by the next append).
      try {
        if (pendingLen > 0) batchLen += sealSegment(dataKey, index, pending.subarray(0, pendingLen), batch, batchLen);
        await flushBatch();
        await writing;
        await fh.datasync();
      } catch (e) {
        this.#hashes.delete(id);
        await writing?.catch(() => undefined);
        throw e;
      }
      if (running !== undefined) running.size = size;
      if (failure !== undefined) throw failure;
      return size;
    } finally {
      await fh.close();
    }
  }

  async commitUpload(id: string, expected: Digest): Promise<BlobInfo> {
    const u = await this.#openUpload(id);
    let actual: string;
    try {
      const running = this.#hashes.get(id);
      if (running !== undefined && running.size === u.size && expected.algorithm === 'sha256') {
        actual = `sha256:${running.hash.digest('hex')}`;
      } else {
        const h = newHash(expected.algorithm);
        for await (const plain of this.#segments(u.fh, u.dataKey, u.segmentSize, 0, u.size - 1, u.size)) h.update(plain);
        actual = `${expected.algorithm}:${h.digest('hex')}`;
      }
      this.#hashes.delete(id);
      if (actual === expected.text) await u.fh.sync();
    } finally {
      await u.fh.close();
    }
    if (actual !== expected.text) {
      await this.abortUpload(id);
      throw new DigestMismatchError(expected.text, actual, u.size);
    }
    const target = this.#blobPath(expected.text);
    const dir = join(target, '..');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (await exists(target)) {
      await this.abortUpload(id);
    } else {
      await rename(this.#uploadPath(id), target);
      await syncDir(dir);
    }
    return { digest: expected.text, size: u.size };
  }

  async abortUpload(id: string): Promise<void> {
    this.#hashes.delete(id);
    await rm(this.#uploadPath(id), { force: true });
  }

  async uploads(): Promise<UploadInfo[]> {
    const out: UploadInfo[] = [];
    for (const name of await readdir(join(this.#root, 'uploads'))) {
      try {
        const s = await stat(join(this.#root, 'uploads', name));
        out.push({ id: name, size: plainSizeOf(s.size, this.#segmentSize).size, modifiedMs: s.mtimeMs });
      } catch {
        /* removed meanwhile */
      }
    }
    return out;
  }

  async put(data: Buffer, digest: Digest): Promise<BlobInfo> {
    const actual = digestOf(data, digest.algorithm).text;
    if (actual !== digest.text) throw new DigestMismatchError(digest.text, actual, data.length);
    const existing = await this.stat(digest.text);
    if (existing) return existing;
    const id = `put-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    await this.startUpload(id);
    try {
      await this.append(id, 0, [data]);
      return await this.commitUpload(id, digest);
    } catch (e) {
      await this.abortUpload(id);
      throw e;
    }
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    let path: string;
    try {
      path = this.#blobPath(digest);
    } catch {
      return undefined;
    }
    try {
      const s = await stat(path);
      return { digest, size: plainSizeOf(s.size, await this.#segmentSizeOf(path)).size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** The segment size a file was written with (normally this store's; read from the header otherwise). */
  async #segmentSizeOf(path: string): Promise<number> {
    const fh = await open(path, 'r');
    try {
      const header = Buffer.alloc(12);
      await fh.read(header, 0, 12, 0);
      return header.readUInt32BE(8);
    } finally {
      await fh.close();
    }
  }

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    let fh: FileHandle;
    try {
      fh = await open(this.#blobPath(digest), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(digest);
      throw e;
    }
    try {
      const header = Buffer.alloc(HEADER_SIZE);
      await fh.read(header, 0, HEADER_SIZE, 0);
      const { dataKey, segmentSize } = openHeader(this.#master, header);
      const size = plainSizeOf((await fh.stat()).size, segmentSize).size;
      const start = range?.start ?? 0;
      const end = range?.end ?? size - 1;
      if (start < 0 || end >= size || (start > end && !(start === 0 && end === -1))) {
        throw new RangeError(`range ${start}-${end} is outside the blob (${size} bytes)`);
      }
      const gen = this.#segments(fh, dataKey, segmentSize, start, end, size);
      const stream = Readable.from(gen, { objectMode: false, highWaterMark: 1024 * 1024 });
      stream.once('close', () => void fh.close().catch(() => undefined));
      return stream;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /**
   * Decrypted plaintext of bytes start..end (inclusive), in segment-sized pieces. The next batch of segments
   * is read from disk while the current one is decrypted and consumed (two buffers, alternating).
   */
  async *#segments(fh: FileHandle, dataKey: Buffer, segmentSize: number, start: number, end: number, size: number): AsyncGenerator<Buffer> {
    if (end < start) return;
    const stride = segmentSize + SEGMENT_OVERHEAD;
    const first = Math.floor(start / segmentSize);
    const last = Math.floor(end / segmentSize);
    const buffers = [Buffer.allocUnsafe(stride * READ_SEGMENTS), Buffer.allocUnsafe(stride * READ_SEGMENTS)];
    interface Batch {
      readonly i: number;
      readonly n: number;
      readonly want: number;
      readonly buf: Buffer;
    }
    const readBatch = async (i: number, buf: Buffer): Promise<Batch> => {
      const n = Math.min(READ_SEGMENTS, last - i + 1);
      const lastPlain = Math.min(size, (i + n) * segmentSize) - (i + n - 1) * segmentSize;
      const want = (n - 1) * stride + lastPlain + SEGMENT_OVERHEAD;
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, segmentOffset(i, segmentSize) + got);
        if (bytesRead === 0) throw new SealedFormatError(`blob file ends early at segment ${i}`);
        got += bytesRead;
      }
      return { i, n, want, buf };
    };
    let which = 0;
    let pending: Promise<Batch> | undefined = readBatch(first, buffers[0]!);
    try {
      while (pending !== undefined) {
        const batch: Batch = await pending;
        const next: number = batch.i + batch.n;
        which ^= 1;
        pending = next <= last ? readBatch(next, buffers[which]!) : undefined;
        // Decrypt the whole batch before yielding, so the buffer is free before the read after next reuses it.
        const pieces: Buffer[] = [];
        for (let k = 0; k < batch.n; k++) {
          const idx = batch.i + k;
          const from = k * stride;
          const to = k === batch.n - 1 ? batch.want : from + stride;
          let plain = openSegment(dataKey, idx, batch.buf.subarray(from, to));
          const base = idx * segmentSize;
          if (idx === first || idx === last) plain = plain.subarray(Math.max(0, start - base), Math.min(plain.length, end - base + 1));
          pieces.push(plain);
        }
        yield* pieces;
      }
    } finally {
      // Stopped early (the client went away): let the read in flight finish before the file is closed.
      await pending?.catch(() => undefined);
    }
  }

  async readAll(digest: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.read(digest)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async delete(digest: string): Promise<void> {
    try {
      await unlink(this.#blobPath(digest));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && !(e instanceof BlobNotFoundError)) throw e;
    }
  }

  async *list(): AsyncIterable<{ readonly digest: string; readonly modifiedMs: number }> {
    const base = join(this.#root, 'blobs');
    for (const algorithm of await readdir(base)) {
      for (const prefix of await readdir(join(base, algorithm))) {
        let names: string[];
        try {
          names = await readdir(join(base, algorithm, prefix));
        } catch {
          continue;
        }
        for (const hex of names) {
          const digest = `${algorithm}:${hex}`;
          if (!parseDigest(digest)) continue;
          try {
            yield { digest, modifiedMs: (await stat(join(base, algorithm, prefix, hex))).mtimeMs };
          } catch {
            /* deleted meanwhile */
          }
        }
      }
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

