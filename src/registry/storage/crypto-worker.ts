/**
 * A registry crypto worker (./crypto-pool.ts): hashes, encrypts and writes upload batches; reads and
 * decrypts blob batches. Messages are handled one at a time, in order.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { readSync, writeSync, writevSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { PoolReply, PoolRequest } from './crypto-pool.js';
import { SEGMENT_OVERHEAD, SealedFormatError, openSegmentInto, sealSegmentParts } from './sealed-format.js';

const port = parentPort;
if (port === null) throw new Error('crypto-worker.js runs as a worker thread');

/** Running upload hashes, by key. */
const hashes = new Map<number, Hash>();
/** Appends one of whose batches failed: their later batches are refused, so a failed write never leaves a hole. */
const failed = new Set<number>();
/** Reused read buffer. */
let readBuf = Buffer.allocUnsafeSlow(0);

/** Writes all of `parts` at `at` (one gathering write; the rest one by one if the kernel takes less). */
function writeAll(fd: number, parts: Buffer[], at: number): void {
  let total = 0;
  for (const p of parts) total += p.length;
  let done = writevSync(fd, parts, at);
  if (done === total) return;
  let skip = done;
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    let off = skip;
    skip = 0;
    while (off < p.length) {
      const n = writeSync(fd, p, off, p.length - off, at + done);
      off += n;
      done += n;
    }
  }
}

function seal(m: PoolRequest & { t: 'seal' }): void {
  if (failed.has(m.stream)) throw new Error('an earlier batch of this append failed');
  try {
    const plain = Buffer.from(m.buf, 0, m.len);
    if (m.hash !== undefined) {
      if (m.hash.init) hashes.set(m.hash.key, createHash('sha256'));
      // A hash this worker does not hold (dropped, or this is a replacement worker) stays absent: the commit
      // then hashes the file instead.
      hashes.get(m.hash.key)?.update(plain.subarray(m.hash.from));
    }
    const parts: Buffer[] = [];
    for (let off = 0, index = m.index; off < m.len; off += m.segmentSize, index++) {
      for (const p of sealSegmentParts(m.dataKey, index, plain.subarray(off, Math.min(m.len, off + m.segmentSize)))) parts.push(p);
    }
    writeAll(m.fd, parts, m.at);
  } catch (e) {
    failed.add(m.stream);
    if (m.hash !== undefined) hashes.delete(m.hash.key);
    throw e;
  }
}

/**
 * Reads and decrypts `n` segments into the caller's shared buffer, their plaintext one after another. The
 * buffer is reused across batches (memory already mapped and warm: a fresh 2 MiB buffer costs a page fault per
 * 4 KiB touched, about as much CPU as the decryption itself).
 */
function open(m: PoolRequest & { t: 'open' }): void {
  if (readBuf.length < m.want) readBuf = Buffer.allocUnsafeSlow(m.want);
  let got = 0;
  while (got < m.want) {
    const n = readSync(m.fd, readBuf, got, m.want - got, m.at + got);
    if (n === 0) throw new SealedFormatError(`blob file ends early at segment ${m.index}`);
    got += n;
  }
  const stride = m.segmentSize + SEGMENT_OVERHEAD;
  const out = Buffer.from(m.out);
  if (out.length < m.want - m.n * SEGMENT_OVERHEAD) throw new RangeError('the read batch buffer is too small');
  let len = 0;
  for (let k = 0; k < m.n; k++) {
    const from = k * stride;
    const to = k === m.n - 1 ? m.want : from + stride;
    len += openSegmentInto(m.dataKey, m.index + k, readBuf.subarray(from, to), out, len);
  }
}

port.on('message', (m: PoolRequest) => {
  if (m.t === 'drop') {
    if (m.key !== undefined) hashes.delete(m.key);
    if (m.stream !== undefined) failed.delete(m.stream);
    return;
  }
  let reply: PoolReply;
  try {
    if (m.t === 'seal') {
      seal(m);
      reply = { id: m.id, ok: true };
    } else if (m.t === 'open') {
      open(m);
      reply = { id: m.id, ok: true };
    } else {
      const h = hashes.get(m.key);
      hashes.delete(m.key);
      reply = h === undefined ? { id: m.id, ok: true } : { id: m.id, ok: true, hex: h.digest('hex') };
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    reply = {
      id: m.id,
      ok: false,
      message: err instanceof Error ? err.message : String(e),
      ...(typeof err.code === 'string' ? { code: err.code } : {}),
      sealed: e instanceof SealedFormatError,
    };
  }
  port.postMessage(reply);
});
