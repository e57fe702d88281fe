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
 *
 * Hashing, encryption and decryption run on a small pool of worker threads (./crypto-pool.ts), batch by
 * batch: the main thread copies request bytes into batch buffers and hands them over, and hands decrypted
 * segments to the response, so five layers pushed at once use every core instead of queueing on one.
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
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
import { CryptoPool, cryptoPool } from './crypto-pool.js';
import type { PoolSlot } from './crypto-pool.js';
import {
  DEFAULT_SEGMENT_SIZE,
  HEADER_SIZE,
  SEGMENT_OVERHEAD,
  SealedFormatError,
  newHeader,
  openHeader,
  openSegment,
  plainSizeOf,
  segmentOffset,
} from './sealed-format.js';
import type { MasterKey } from './sealed-format.js';

export interface FsBlobStoreOptions {
  readonly root: string;
  readonly masterKey: MasterKey;
  readonly segmentSize?: number;
}

/**
 * Uploads are hashed, encrypted and written in batches of about this much plaintext (whole segments; fewer,
 * larger writes).
 */
const BATCH_BYTES = 1024 * 1024;
/** At most this many segments per batch (one gathering write takes three buffers per segment). */
const BATCH_MAX_SEGMENTS = 256;
/** Batches of one append in flight at once (filled, being encrypted, being written). */
const APPEND_DEPTH = 3;
/**
 * While an upload streams in, its file is flushed (fdatasync) in the background every this many bytes, so the
 * flush before the append is acknowledged finds little left to write.
 */
const SYNC_EVERY = 8 * 1024 * 1024;
/**
 * Blobs are read and decrypted in batches of about this much, this many batches ahead. Each batch is decrypted
 * into a shared buffer from the same spares as upload batches, which goes back there once the socket has sent
 * it (`recycle`): a pull maps no new memory and leaves the main thread's garbage collector alone.
 */
const READ_BATCH_BYTES = 2 * 1024 * 1024;
const READ_DEPTH = 3;
const UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/;
const EMPTY_SHA256 = digestOf(Buffer.alloc(0)).text;

function segmentsPerBatch(segmentSize: number, bytes = BATCH_BYTES): number {
  return Math.max(1, Math.min(BATCH_MAX_SEGMENTS, Math.floor(bytes / segmentSize)));
}

/** A running upload hash: held by a crypto worker (`slot`) once the first bytes went there. */
interface RunningHash {
  readonly key: number;
  slot: PoolSlot | undefined;
  size: number;
}

/**
 * Upload batch buffers, shared with the crypto workers (SharedArrayBuffer) and reused across appends: a batch
 * goes to a worker and back without new ArrayBuffers on either side, so pushing does not feed the main
 * thread's garbage collector with hundreds of megabytes of short-lived buffers.
 */
const spareBatches = new Map<number, Buffer[]>();
const SPARE_BATCHES = 16;
function takeBatch(capacity: number): Buffer {
  return spareBatches.get(capacity)?.pop() ?? Buffer.from(new SharedArrayBuffer(capacity));
}
function giveBatch(b: Buffer): void {
  let list = spareBatches.get(b.length);
  if (list === undefined) spareBatches.set(b.length, (list = []));
  if (list.length < SPARE_BATCHES) list.push(b);
}
/** Read batches handed to a reader and not yet recycled: only these may come back, and each only once. */
const lentBatches = new WeakSet<SharedArrayBuffer>();

/** Swallows a rejection for now (the promise is awaited later), so it never counts as unhandled. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
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
  readonly #pool: CryptoPool = cryptoPool();

  private constructor(opts: FsBlobStoreOptions) {
    this.#root = opts.root;
    this.#master = opts.masterKey;
    this.#segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  }

  static async open(opts: FsBlobStoreOptions): Promise<FsBlobStore> {
    await mkdir(join(opts.root, 'blobs'), { recursive: true, mode: 0o700 });
    await mkdir(join(opts.root, 'uploads'), { recursive: true, mode: 0o700 });
    cryptoPool().warm();
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
    this.#forgetHash(id);
    this.#hashes.set(id, { key: CryptoPool.nextId(), slot: undefined, size: 0 });
  }

  /** Drops an upload's running hash (here and in the worker holding it). */
  #forgetHash(id: string): void {
    const running = this.#hashes.get(id);
    if (running === undefined) return;
    this.#hashes.delete(id);
    running.slot?.tell({ t: 'drop', key: running.key });
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
        this.#forgetHash(id);
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
    let slot: PoolSlot | undefined;
    try {
      if (u.size !== offset) throw new UploadOffsetError(id, offset, u.size);
      let running = this.#hashes.get(id);
      if (running !== undefined && (running.size !== u.size || running.slot?.dead === true)) {
        this.#forgetHash(id);
        running = undefined;
      }
      // Every batch of this append goes to one worker, in order: the one holding the running hash, if any.
      slot = running?.slot ?? this.#pool.forStream();
      slot.active++;
      const worker = slot;
      const key = new Uint8Array(dataKey);
      const stream = CryptoPool.nextId();
      const perBatch = segmentsPerBatch(segmentSize);
      const capacity = perBatch * segmentSize;
      const take = (): Buffer => takeBatch(capacity);

      let index = Math.floor(u.size / segmentSize);
      let at = segmentOffset(index, segmentSize);
      let batch = take();
      // The partial last segment is decrypted and re-sealed with the bytes that follow (under a new nonce).
      let batchLen = u.size - index * segmentSize;
      let hashFrom = batchLen;
      if (batchLen > 0) {
        const sealed = Buffer.alloc(batchLen + SEGMENT_OVERHEAD);
        await fh.read(sealed, 0, sealed.length, at);
        openSegment(dataKey, index, sealed).copy(batch, 0);
      }
      let size = u.size;
      const inFlight: Promise<void>[] = [];
      let writeFailure: { error: unknown } | undefined;
      let syncing: Promise<void> | undefined;
      let syncedAt = at;
      const send = (): void => {
        if (batchLen === 0) return;
        let hash: { key: number; init: boolean; from: number } | undefined;
        if (running !== undefined) {
          hash = { key: running.key, init: running.slot === undefined, from: hashFrom };
          running.slot = worker;
        }
        const sent = batch;
        const buf = sent.buffer as SharedArrayBuffer;
        const job = worker.request({ t: 'seal', id: CryptoPool.nextId(), stream, fd: fh.fd, dataKey: key, segmentSize, index, at, buf, len: batchLen, ...(hash ? { hash } : {}) });
        inFlight.push(
          quiet(
            job.then(
              () => giveBatch(sent),
              (e: unknown) => {
                writeFailure ??= { error: e };
              },
            ),
          ),
        );
        const segments = Math.ceil(batchLen / segmentSize);
        index += segments;
        at += segments * (segmentSize + SEGMENT_OVERHEAD);
        batch = take();
        batchLen = 0;
        hashFrom = 0;
        if (syncing === undefined && at - syncedAt >= SYNC_EVERY) {
          // Early writeback of what the workers wrote so far (only an optimisation: the flush below is the one
          // that makes the append durable). A failed flush fails the append.
          syncedAt = at;
          syncing = quiet(
            fh.datasync().then(
              () => void (syncing = undefined),
              (e: unknown) => {
                writeFailure ??= { error: e };
                syncing = undefined;
              },
            ),
          );
        }
      };
      let failure: unknown;
      try {
        for await (const chunk of data) {
          if (opts.maxBytes !== undefined && size - offset + chunk.length > opts.maxBytes) throw new BlobTooLargeError(opts.maxBytes);
          size += chunk.length;
          let from = 0;
          while (from < chunk.length) {
            const n = Math.min(capacity - batchLen, chunk.length - from);
            chunk.copy(batch, batchLen, from, from + n);
            batchLen += n;
            from += n;
            if (batchLen === capacity) {
              send();
              if (inFlight.length >= APPEND_DEPTH) await inFlight.shift();
              if (writeFailure !== undefined) throw writeFailure.error;
            }
          }
        }
      } catch (e) {
        failure = e;
      }
      // Keep what arrived: the complete segments, then the partial one (re-written by the next append).
      try {
        if (writeFailure === undefined) send();
        await Promise.all(inFlight);
        await syncing;
        if (writeFailure !== undefined) throw writeFailure.error;
        await fh.datasync();
      } catch (e) {
        this.#forgetHash(id);
        worker.tell({ t: 'drop', stream });
        throw e;
      }
      if (running !== undefined) running.size = size;
      if (failure !== undefined) throw failure;
      return size;
    } finally {
      if (slot !== undefined) slot.active--;
      await fh.close();
    }
  }

  async commitUpload(id: string, expected: Digest): Promise<BlobInfo> {
    const u = await this.#openUpload(id);
    let actual: string;
    try {
      const running = this.#hashes.get(id);
      let known: string | undefined;
      if (running !== undefined && running.size === u.size && expected.algorithm === 'sha256') {
        this.#hashes.delete(id);
        if (running.slot === undefined) {
          if (u.size === 0) known = EMPTY_SHA256;
        } else {
          const r = await running.slot.request({ t: 'digest', id: CryptoPool.nextId(), key: running.key }).catch(() => undefined);
          if (r?.hex !== undefined) known = `sha256:${r.hex}`;
        }
      } else {
        this.#forgetHash(id);
      }
      if (known === undefined) {
        // No running hash (a restart, a lost worker, another algorithm): hash what the file holds.
        const h = newHash(expected.algorithm);
        for await (const plain of this.#segments(u.fh, u.dataKey, u.segmentSize, 0, u.size - 1, u.size)) h.update(plain);
        known = `${expected.algorithm}:${h.digest('hex')}`;
      }
      actual = known;
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
    this.#forgetHash(id);
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
      // Start reading now, while the caller sends the response headers.
      stream.read(0);
      return stream;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /**
   * Decrypted plaintext of bytes start..end (inclusive), a batch of segments at a time. Batches of segments are
   * read and decrypted by the crypto workers, several ahead of the one being consumed.
   */
  async *#segments(fh: FileHandle, dataKey: Buffer, segmentSize: number, start: number, end: number, size: number): AsyncGenerator<Buffer> {
    if (end < start) return;
    const stride = segmentSize + SEGMENT_OVERHEAD;
    const first = Math.floor(start / segmentSize);
    const last = Math.floor(end / segmentSize);
    const perBatch = segmentsPerBatch(segmentSize, READ_BATCH_BYTES);
    const capacity = perBatch * segmentSize;
    const key = new Uint8Array(dataKey);
    interface Batch {
      readonly i: number;
      readonly out: Buffer;
      readonly len: number;
      readonly done: Promise<unknown>;
    }
    const queue: Batch[] = [];
    let next = first;
    // The first batches are small, so the first bytes go out soon after the request; then they double.
    let batchSegments = 1;
    const submit = (): void => {
      const n = Math.min(batchSegments, last - next + 1);
      batchSegments = Math.min(perBatch, batchSegments * 2);
      const lastPlain = Math.min(size, (next + n) * segmentSize) - (next + n - 1) * segmentSize;
      const want = (n - 1) * stride + lastPlain + SEGMENT_OVERHEAD;
      const out = takeBatch(capacity);
      const req = { t: 'open' as const, id: CryptoPool.nextId(), fd: fh.fd, dataKey: key, segmentSize, index: next, n, at: segmentOffset(next, segmentSize), want, out: out.buffer as SharedArrayBuffer };
      queue.push({ i: next, out, len: (n - 1) * segmentSize + lastPlain, done: quiet(slot.request(req)) });
      next += n;
    };
    // One worker per read, as per append: a single stream needs far less than a core (it is bounded by its
    // client), and on a busy machine spreading it over every worker only takes cores from that client.
    const slot = this.#pool.forStream();
    slot.active++;
    try {
      while (queue.length < READ_DEPTH && next <= last) submit();
      while (queue.length > 0) {
        const batch = queue.shift()!;
        await batch.done;
        while (queue.length < READ_DEPTH && next <= last) submit();
        // The batch holds the plaintext of segments batch.i… from byte batch.i × segmentSize; cut it to the range.
        const base = batch.i * segmentSize;
        lentBatches.add(batch.out.buffer as SharedArrayBuffer);
        yield batch.out.subarray(Math.max(0, start - base), Math.min(batch.len, end - base + 1));
      }
    } finally {
      // Stopped early (the client went away, or a segment failed authentication): the workers must be done with
      // the file before it is closed; buffers no reader saw go back to the spares once their worker is done.
      const settled = await Promise.allSettled(queue.map((b) => b.done));
      settled.forEach((s, k) => s.status === 'fulfilled' && giveBatch(queue[k]!.out));
      slot.active--;
    }
  }

  recycle(chunk: Buffer): void {
    const buffer = chunk.buffer;
    if (buffer instanceof SharedArrayBuffer && lentBatches.delete(buffer)) giveBatch(Buffer.from(buffer));
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

