/**
 * The on-disk format of an encrypted blob (AES-256-GCM, envelope keys). One file per blob or upload:
 *
 *   header (80 bytes)
 *     0  magic "GNTRYBL1"                          8
 *     8  plaintext bytes per segment (u32 BE)      4
 *    12  master key id (8 bytes of its SHA-256)    8
 *    20  nonce of the wrapped data key            12
 *    32  data key, wrapped by the master key      32   (AES-256-GCM, AAD = bytes 0..19)
 *    64  tag of the wrapped data key              16
 *   segments, each: nonce (12) · ciphertext (≤ segment size) · tag (16), AAD = segment index (u64 BE)
 *
 * Every file has its own random data key, so a master key never encrypts bulk data, and rotating the master
 * key means re-wrapping 32 bytes per file. Segments make ranged reads cheap (a Range request decrypts only the
 * segments it touches) and let an upload grow by appending; every segment carries a fresh random nonce, so
 * re-writing the partial last segment of an upload when more bytes arrive never reuses a nonce. Binding each
 * segment to its index stops segments being reordered; truncation shows as a size that does not match the
 * size recorded in the store (and as the wrong digest).
 */
import { createCipheriv, createDecipheriv, createHash, randomFillSync } from 'node:crypto';

export const MAGIC = Buffer.from('GNTRYBL1', 'latin1');
export const HEADER_SIZE = 80;
export const NONCE = 12;
export const TAG = 16;
export const SEGMENT_OVERHEAD = NONCE + TAG;
/** Plaintext per segment: 256 KiB keeps per-segment costs negligible and ranged reads cheap. */
export const DEFAULT_SEGMENT_SIZE = 256 * 1024;

export class SealedFormatError extends Error {
  override name = 'SealedFormatError';
}

export interface MasterKey {
  readonly key: Buffer;
  /** First 8 bytes of SHA-256("gantry-registry-master-key" ‖ key): names the key without revealing it. */
  readonly id: Buffer;
}

export function masterKey(key: Buffer): MasterKey {
  if (key.length !== 32) throw new SealedFormatError(`the registry master key must be 32 bytes; got ${key.length}`);
  return { key, id: createHash('sha256').update('gantry-registry-master-key').update(key).digest().subarray(0, 8) };
}

/** A fresh header and the data key it wraps. */
export function newHeader(master: MasterKey, segmentSize = DEFAULT_SEGMENT_SIZE): { header: Buffer; dataKey: Buffer } {
  const header = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(segmentSize, 8);
  master.id.copy(header, 12);
  const dataKey = randomFillSync(Buffer.alloc(32));
  const nonce = randomFillSync(Buffer.alloc(NONCE));
  nonce.copy(header, 20);
  const c = createCipheriv('aes-256-gcm', master.key, nonce);
  c.setAAD(header.subarray(0, 20));
  const wrapped = Buffer.concat([c.update(dataKey), c.final()]);
  wrapped.copy(header, 32);
  c.getAuthTag().copy(header, 64);
  return { header, dataKey };
}

/** Unwraps a header's data key; SealedFormatError when the header is not ours or the master key is wrong. */
export function openHeader(master: MasterKey, header: Buffer): { dataKey: Buffer; segmentSize: number } {
  if (header.length < HEADER_SIZE || !header.subarray(0, 8).equals(MAGIC)) throw new SealedFormatError('not a Gantry blob file (bad magic)');
  if (!header.subarray(12, 20).equals(master.id)) {
    throw new SealedFormatError('the blob was encrypted with a different master key than the one configured');
  }
  const segmentSize = header.readUInt32BE(8);
  const d = createDecipheriv('aes-256-gcm', master.key, header.subarray(20, 32));
  d.setAAD(header.subarray(0, 20));
  d.setAuthTag(header.subarray(64, 80));
  try {
    const dataKey = Buffer.concat([d.update(header.subarray(32, 64)), d.final()]);
    return { dataKey, segmentSize };
  } catch {
    throw new SealedFormatError('the blob header failed authentication (corrupt, or a different master key)');
  }
}

function indexAad(index: number): Buffer {
  const aad = Buffer.alloc(8);
  aad.writeBigUInt64BE(BigInt(index));
  return aad;
}

/** Nonces come from a pool refilled in bulk: one getrandom call per 4096 segments instead of one each. */
const noncePool = { buf: Buffer.alloc(0), at: 0 };
function freshNonce(): Buffer {
  if (noncePool.at + NONCE > noncePool.buf.length) {
    noncePool.buf = randomFillSync(Buffer.allocUnsafe(NONCE * 4096));
    noncePool.at = 0;
  }
  const n = noncePool.buf.subarray(noncePool.at, noncePool.at + NONCE);
  noncePool.at += NONCE;
  return n;
}

/** Encrypts one segment into `out` at `at` (which must have room for plain.length + overhead); returns bytes written. */
export function sealSegment(dataKey: Uint8Array, index: number, plain: Uint8Array, out: Buffer, at: number): number {
  let n = at;
  for (const part of sealSegmentParts(dataKey, index, plain)) n += part.copy(out, n);
  return n - at;
}

/**
 * Encrypts one segment and returns it as parts to write one after another (nonce, ciphertext, tag), so a
 * batch of segments can go to disk in one gathering write without being copied into one buffer first.
 */
export function sealSegmentParts(dataKey: Uint8Array, index: number, plain: Uint8Array): Buffer[] {
  const nonce = freshNonce();
  const c = createCipheriv('aes-256-gcm', dataKey, nonce);
  c.setAAD(indexAad(index));
  const body = c.update(plain);
  const rest = c.final();
  return rest.length === 0 ? [nonce, body, c.getAuthTag()] : [nonce, body, rest, c.getAuthTag()];
}

/** Decrypts one sealed segment; SealedFormatError when it fails authentication. */
export function openSegment(dataKey: Uint8Array, index: number, sealed: Buffer): Buffer {
  if (sealed.length < SEGMENT_OVERHEAD) throw new SealedFormatError(`segment ${index} is truncated`);
  const d = createDecipheriv('aes-256-gcm', dataKey, sealed.subarray(0, NONCE));
  d.setAAD(indexAad(index));
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    const body = sealed.subarray(NONCE, sealed.length - TAG);
    const a = d.update(body);
    const b = d.final();
    return b.length === 0 ? a : Buffer.concat([a, b]);
  } catch {
    throw new SealedFormatError(`segment ${index} failed authentication (corrupt or tampered)`);
  }
}

/** Decrypting in pieces of this size keeps each output buffer small (reused by malloc, cache-warm when copied). */
const OPEN_PIECE = 64 * 1024;

/**
 * Decrypts one sealed segment into `out` at `at`; returns the plaintext length. SealedFormatError when it fails
 * authentication — `out` then holds unauthenticated bytes and must be discarded by the caller.
 */
export function openSegmentInto(dataKey: Uint8Array, index: number, sealed: Buffer, out: Buffer, at: number): number {
  if (sealed.length < SEGMENT_OVERHEAD) throw new SealedFormatError(`segment ${index} is truncated`);
  const d = createDecipheriv('aes-256-gcm', dataKey, sealed.subarray(0, NONCE));
  d.setAAD(indexAad(index));
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  const end = sealed.length - TAG;
  let n = at;
  try {
    for (let from = NONCE; from < end; from += OPEN_PIECE) n += d.update(sealed.subarray(from, Math.min(end, from + OPEN_PIECE))).copy(out, n);
    n += d.final().copy(out, n);
  } catch {
    throw new SealedFormatError(`segment ${index} failed authentication (corrupt or tampered)`);
  }
  return n - at;
}

/** Plaintext size of a file of `fileSize` bytes; `torn` when its last segment is incomplete (a crash mid-write). */
export function plainSizeOf(fileSize: number, segmentSize: number): { size: number; completeBytes: number; torn: boolean } {
  const body = Math.max(0, fileSize - HEADER_SIZE);
  const stride = segmentSize + SEGMENT_OVERHEAD;
  const full = Math.floor(body / stride);
  const rem = body - full * stride;
  if (rem === 0) return { size: full * segmentSize, completeBytes: fileSize, torn: false };
  if (rem <= SEGMENT_OVERHEAD) return { size: full * segmentSize, completeBytes: HEADER_SIZE + full * stride, torn: true };
  return { size: full * segmentSize + rem - SEGMENT_OVERHEAD, completeBytes: fileSize, torn: false };
}

/** File offset of segment `index`. */
export function segmentOffset(index: number, segmentSize: number): number {
  return HEADER_SIZE + index * (segmentSize + SEGMENT_OVERHEAD);
}
