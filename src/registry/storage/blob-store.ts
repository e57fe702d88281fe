/**
 * Where blob bytes live: content-addressed, deduplicated across repositories, behind one interface so the
 * local filesystem (now) and an S3-compatible object store (later) are interchangeable. Both must pass
 * ./contract.ts. Metadata (which repository has which blob, manifests, tags) is not kept here: it lives in
 * the store; this holds bytes only.
 *
 * An upload is a staging object written in order (`append` at its current size), then committed under its
 * digest once the bytes hash to it. A committed blob is never half-visible: it appears whole or not at all.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../digest.js';

export interface BlobInfo {
  readonly digest: string;
  readonly size: number;
}

export interface ByteRange {
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, inclusive. */
  readonly end: number;
}

export interface UploadInfo {
  readonly id: string;
  readonly size: number;
  /** Last write, epoch ms (for expiring abandoned uploads). */
  readonly modifiedMs: number;
}

export interface BlobStore {
  /** Creates an empty upload. */
  startUpload(id: string): Promise<void>;
  /** Bytes received so far, or undefined when there is no such upload. */
  uploadSize(id: string): Promise<number | undefined>;
  /**
   * Appends `data` to an upload that holds exactly `offset` bytes (else UploadOffsetError). Everything read
   * from `data` before it ended or failed is kept and durable when this settles; the new size is returned, or
   * the stream's error is rethrown after the bytes received are kept (so a client may resume).
   * `maxBytes` bounds what is read (a longer stream fails with BlobTooLargeError).
   */
  append(id: string, offset: number, data: AsyncIterable<Buffer> | Iterable<Buffer>, opts?: { readonly maxBytes?: number }): Promise<number>;
  /**
   * Verifies that the upload hashes to `expected` and makes it the blob of that digest (atomically; if the
   * blob exists already, the upload is dropped). The upload is gone afterwards either way: on a mismatch
   * DigestMismatchError is thrown and nothing is stored.
   */
  commitUpload(id: string, expected: Digest): Promise<BlobInfo>;
  /** Removes an upload (idempotent). */
  abortUpload(id: string): Promise<void>;
  /** Every upload present (for expiring abandoned ones). */
  uploads(): Promise<UploadInfo[]>;

  /** Stores a small blob (a manifest) given whole; returns its info. */
  put(data: Buffer, digest: Digest): Promise<BlobInfo>;
  stat(digest: string): Promise<BlobInfo | undefined>;
  /** The blob's bytes (or the inclusive range of them); BlobNotFoundError when absent. */
  read(digest: string, range?: ByteRange): Promise<Readable>;
  /**
   * Hands back a chunk `read` produced, once nothing refers to it any more (the socket has taken it): the store
   * may then reuse its memory for later reads. Optional — a chunk never handed back is garbage-collected — and
   * harmless for anything else (ignored).
   */
  recycle(chunk: Buffer): void;
  /** Reads a small blob whole (manifests). */
  readAll(digest: string): Promise<Buffer>;
  delete(digest: string): Promise<void>;
  /** Every blob present, with the time it was stored (epoch ms). */
  list(): AsyncIterable<{ readonly digest: string; readonly modifiedMs: number }>;
}

export class BlobNotFoundError extends Error {
  override name = 'BlobNotFoundError';
  constructor(readonly digest: string) {
    super(`blob ${digest} is not in the blob store`);
  }
}
export class UploadNotFoundError extends Error {
  override name = 'UploadNotFoundError';
  constructor(readonly id: string) {
    super(`upload ${id} does not exist`);
  }
}
export class UploadOffsetError extends Error {
  override name = 'UploadOffsetError';
  constructor(
    readonly id: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`upload ${id} holds ${actual} bytes; a chunk starting at ${expected} does not follow on`);
  }
}
export class DigestMismatchError extends Error {
  override name = 'DigestMismatchError';
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly size: number,
  ) {
    super(`the uploaded content (${size} bytes) has digest ${actual}, not ${expected}`);
  }
}
export class BlobTooLargeError extends Error {
  override name = 'BlobTooLargeError';
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}
