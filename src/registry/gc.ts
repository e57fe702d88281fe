/**
 * Garbage collection: removes what no manifest references, safely while pushes run.
 *
 *   1. links    a repository's link to a blob that no image of that repository references (and that is not a
 *               manifest itself) goes once it is older than the grace period — a push uploads layers before
 *               its manifest, and the grace period (renewed when a client checks the blob) covers that gap.
 *               The deletion is a guarded decision: a manifest PUT that references the link either commits
 *               first (and GC then sees the reference) or fails its guard and is refused cleanly.
 *   2. uploads  abandoned uploads (no activity for the upload TTL), and upload files without a record.
 *   3. blobs    bytes no repository links. Checked and deleted under the digest's lock, which every commit
 *               of that digest (upload, mount, manifest) holds from writing the bytes until its link is
 *               durable — so a blob is never deleted between a commit's bytes and its link.
 */
import { deleteOp } from '../state/catalog.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { RegistryKind, imageKey, linkKey } from './records.js';
import type { BlobLinkRecord, UploadRecord } from './records.js';
import type { Registry } from './registry.js';

export interface GcOptions {
  /** How old an unreferenced link or blob must be before it goes. */
  readonly graceMs: number;
  /** How long an upload may sit without a write. */
  readonly uploadTtlMs: number;
}

export const DEFAULT_GC: GcOptions = { graceMs: 60 * 60 * 1000, uploadTtlMs: 24 * 60 * 60 * 1000 };

export interface GcResult {
  readonly links: number;
  readonly uploads: number;
  readonly blobs: number;
  readonly bytes: number;
}

export async function collectGarbage(deps: { registry: Registry; clock: Clock; logger: Logger }, opts: GcOptions = DEFAULT_GC): Promise<GcResult> {
  const { registry, clock } = deps;
  const { state, catalog, blobs } = registry;
  const now = clock.now();
  let links = 0;
  let uploads = 0;
  let collected = 0;
  let bytes = 0;

  // 1. Unreferenced links past their grace period.
  const candidates: BlobLinkRecord[] = [];
  for (const [, v] of catalog.all<BlobLinkRecord>(RegistryKind.blobLink)) {
    if (now - v.value.linkedAtMs > opts.graceMs) candidates.push(v.value);
  }
  for (const c of candidates) {
    const removed = await catalog.transact(() => {
      const link = state.link(c.repositoryName, c.digest);
      if (!link || now - link.value.linkedAtMs <= opts.graceMs) return { ops: [], result: false };
      if (state.image(c.repositoryName, c.digest)) return { ops: [], result: false };
      if (state.referencedBy.keys(imageKey(c.repositoryName, c.digest)).size > 0) return { ops: [], result: false };
      return { ops: [deleteOp(RegistryKind.blobLink, linkKey(c.repositoryName, c.digest), link)], result: true };
    });
    if (removed) links++;
  }

  // 2. Abandoned uploads.
  const onDisk = await blobs.uploads();
  const active = new Map(onDisk.map((u) => [u.id, u]));
  for (const [id, v] of [...catalog.all<UploadRecord>(RegistryKind.upload)]) {
    const lastWrite = active.get(id)?.modifiedMs ?? v.value.createdAtMs;
    if (now - Math.max(lastWrite, v.value.createdAtMs) <= opts.uploadTtlMs) continue;
    await blobs.abortUpload(id);
    await catalog.transact(() => {
      const cur = state.upload(id);
      return { ops: cur ? [deleteOp(RegistryKind.upload, id, cur)] : [], result: undefined };
    });
    uploads++;
  }
  for (const u of onDisk) {
    if (!state.upload(u.id) && now - u.modifiedMs > opts.graceMs) {
      await blobs.abortUpload(u.id);
      uploads++;
    }
  }

  // 3. Blobs no repository links.
  for await (const b of blobs.list()) {
    if (state.linksByDigest.keys(b.digest).size > 0 || now - b.modifiedMs <= opts.graceMs) continue;
    await registry.digestLocks.run(b.digest, async () => {
      if (state.linksByDigest.keys(b.digest).size > 0) return;
      const info = await blobs.stat(b.digest);
      await blobs.delete(b.digest);
      collected++;
      bytes += info?.size ?? 0;
    });
  }
  const result = { links, uploads, blobs: collected, bytes };
  if (links + uploads + collected > 0) deps.logger.info('registry garbage collected', { ...result });
  return result;
}
