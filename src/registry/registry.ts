/**
 * The registry's operations, shared by the OCI distribution API (./oci-route.ts) and the ECR API
 * (src/api/ecr): uploads, blobs, manifests, tags, deletion. Errors are ApiErrors with ECR's exception names
 * (with an OCI hint where the OCI code depends on the request).
 *
 * Order of every write, for crash safety: bytes first (the blob store commits a blob whole, under its
 * digest), metadata after (one guarded, durable catalog commit). A crash in between leaves a blob nobody
 * references, which GC removes; never metadata pointing at bytes that are not there. A blob's commit and its
 * collection are ordered by a per-digest lock (./gc.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ApiError, Ecr } from '../domain/errors.js';
import { checkOp, deleteOp, putOp } from '../state/catalog.js';
import type { Catalog, Versioned } from '../state/catalog.js';
import type { WriteOp } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import { epochSeconds } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { digestOf, parseDigest } from './digest.js';
import { KeyedLock } from './keyed-lock.js';
import { ManifestError, parseManifest } from './manifest.js';
import type { ParsedManifest } from './manifest.js';
import { ociHint } from './oci-errors.js';
import { RegistryKind, imageKey, linkKey, tagKey } from './records.js';
import type { BlobLinkRecord, ImageRecord, RepositoryRecord, TagRecord, UploadRecord } from './records.js';
import { RegistryState } from './state.js';
import { BlobNotFoundError, BlobTooLargeError, DigestMismatchError, UploadNotFoundError, UploadOffsetError } from './storage/blob-store.js';
import type { BlobInfo, BlobStore, ByteRange } from './storage/blob-store.js';

/** ECR's limit on a manifest (ImageManifest max length). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** The largest single layer Gantry accepts (ECR's layer limit is 52,000 MiB). */
export const MAX_BLOB_BYTES = 52_000 * 1024 * 1024;

/** An unreferenced blob link used again after this long is renewed (see touchLink and ./gc.ts). */
export const LINK_RENEW_AFTER_MS = 10 * 60 * 1000;

const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export interface RegistryDeps {
  readonly catalog: Catalog;
  readonly blobs: BlobStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly accountId: string;
}

export interface PutManifestOptions {
  /** The ECR API's PutImage refuses a push that changes nothing (ImageAlreadyExistsException); OCI accepts it. */
  readonly source: 'oci' | 'ecr';
  readonly contentType?: string | undefined;
  /** ECR PutImage's imageDigest: the digest the manifest must have. */
  readonly expectedDigest?: string | undefined;
}

export interface PutManifestResult {
  readonly digest: string;
  readonly image: ImageRecord;
}

export class Registry {
  readonly state: RegistryState;
  readonly blobs: BlobStore;
  readonly #deps: RegistryDeps;
  /** Orders a blob's commit (bytes, then link) against its collection by GC. */
  readonly digestLocks = new KeyedLock();
  /** One request at a time per upload (a second concurrent PATCH is refused, not interleaved). */
  readonly #uploadLocks = new KeyedLock();

  constructor(deps: RegistryDeps) {
    this.#deps = deps;
    this.blobs = deps.blobs;
    this.state = new RegistryState(deps.catalog);
  }

  get catalog(): Catalog {
    return this.#deps.catalog;
  }

  get registryId(): string {
    return this.#deps.accountId;
  }

  repository(name: string): Versioned<RepositoryRecord> {
    const r = this.state.repository(name);
    if (!r) throw Ecr.repositoryNotFound(name, this.#deps.accountId);
    return r;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Uploads

  async startUpload(repo: string): Promise<string> {
    const id = randomUUID();
    await this.blobs.startUpload(id);
    try {
      await this.catalog.transact(() => {
        const r = this.repository(repo);
        const record: UploadRecord = { id, repositoryName: repo, createdAtMs: this.#deps.clock.now() };
        return { ops: [checkOp(RegistryKind.repository, repo, r), putOp(RegistryKind.upload, id, record, undefined)], result: undefined };
      });
    } catch (e) {
      await this.blobs.abortUpload(id);
      throw e;
    }
    return id;
  }

  #upload(repo: string, id: string): Versioned<UploadRecord> {
    const u = this.state.upload(id);
    if (!u || u.value.repositoryName !== repo) {
      throw Ecr.uploadNotFound(`The upload with id '${id}' does not exist in the repository '${repo}'.`);
    }
    return u;
  }

  /** Bytes an upload holds. */
  async uploadSize(repo: string, id: string): Promise<number> {
    this.#upload(repo, id);
    const size = await this.blobs.uploadSize(id);
    if (size === undefined) throw Ecr.uploadNotFound(`The upload with id '${id}' has no data; start a new upload.`);
    return size;
  }

  /**
   * Appends a chunk. `offset` (from Content-Range / partFirstByte) must be the upload's size when given.
   * A second request on the same upload while one runs is refused.
   */
  async appendUpload(repo: string, id: string, offset: number | undefined, body: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<number> {
    this.#upload(repo, id);
    const r = await this.#uploadLocks.tryRun(id, async () => {
      const size = await this.blobs.uploadSize(id);
      if (size === undefined) throw Ecr.uploadNotFound(`The upload with id '${id}' has no data; start a new upload.`);
      if (offset !== undefined && offset !== size) {
        throw Ecr.invalidLayerPart(`The part starts at byte ${offset} but the upload holds ${size} bytes; the next part must start at ${size}.`);
      }
      try {
        return await this.blobs.append(id, size, body, { maxBytes: MAX_BLOB_BYTES - size });
      } catch (e) {
        throw this.#blobError(e);
      }
    });
    if (r === undefined) throw Ecr.invalidLayerPart(`Another request is writing to upload '${id}'; chunks must be sent one after another.`);
    return r;
  }

  /**
   * Verifies the upload against `digest` and links the blob into the repository. On a mismatch the upload
   * is discarded and nothing is stored.
   */
  async completeUpload(repo: string, id: string, digestText: string): Promise<BlobInfo> {
    this.#upload(repo, id);
    const digest = parseDigest(digestText);
    if (!digest) throw ociHint(Ecr.invalidLayer(`'${digestText}' is not a valid digest (sha256:<64 hex digits>).`), 'DIGEST_INVALID', 400);
    const r = await this.#uploadLocks.tryRun(id, () =>
      this.digestLocks.run(digest.text, async () => {
        let info: BlobInfo;
        try {
          info = await this.blobs.commitUpload(id, digest);
        } catch (e) {
          if (e instanceof DigestMismatchError || e instanceof UploadNotFoundError) await this.#forgetUpload(id);
          throw this.#blobError(e);
        }
        await this.catalog.transact(() => {
          const ops: WriteOp[] = [];
          const u = this.state.upload(id);
          if (u) ops.push(deleteOp(RegistryKind.upload, id, u));
          ops.push(...this.#linkOps(repo, info));
          return { ops, result: undefined };
        });
        return info;
      }),
    );
    if (r === undefined) throw Ecr.invalidLayerPart(`Another request is writing to upload '${id}'.`);
    return r;
  }

  async cancelUpload(repo: string, id: string): Promise<void> {
    this.#upload(repo, id);
    await this.#uploadLocks.run(id, async () => {
      await this.blobs.abortUpload(id);
      await this.#forgetUpload(id);
    });
  }

  async #forgetUpload(id: string): Promise<void> {
    await this.catalog.transact(() => {
      const u = this.state.upload(id);
      return { ops: u ? [deleteOp(RegistryKind.upload, id, u)] : [], result: undefined };
    });
  }

  /** A whole blob in one request (OCI monolithic upload): stored only if it is complete and hashes to `digest`. */
  async putBlob(repo: string, digestText: string, body: AsyncIterable<Buffer>): Promise<BlobInfo> {
    const id = await this.startUpload(repo);
    try {
      await this.appendUpload(repo, id, 0, body);
      return await this.completeUpload(repo, id, digestText);
    } catch (e) {
      await this.blobs.abortUpload(id).catch(() => undefined);
      await this.#forgetUpload(id).catch(() => undefined);
      throw e;
    }
  }

  /** The writes that make `repo` hold a blob (nothing when it already does); fails if the repository is gone. */
  #linkOps(repo: string, info: BlobInfo): WriteOp[] {
    const r = this.repository(repo);
    const existing = this.state.link(repo, info.digest);
    const ops: WriteOp[] = [checkOp(RegistryKind.repository, repo, r)];
    if (!existing) {
      const link: BlobLinkRecord = { repositoryName: repo, digest: info.digest, size: info.size, linkedAtMs: this.#deps.clock.now() };
      ops.push(putOp(RegistryKind.blobLink, linkKey(repo, info.digest), link, undefined));
    }
    return ops;
  }

  /** Cross-repository mount: links a blob `from` holds into `repo` without moving bytes. False when `from` lacks it. */
  async mountBlob(repo: string, from: string, digest: string): Promise<BlobInfo | undefined> {
    return this.digestLocks.run(digest, async () => {
      const source = this.state.link(from, digest);
      if (!source || !(await this.blobs.stat(digest))) return undefined;
      const info = { digest, size: source.value.size };
      await this.catalog.transact(() => ({ ops: [checkOp(RegistryKind.blobLink, linkKey(from, digest), this.state.link(from, digest)), ...this.#linkOps(repo, info)], result: undefined }));
      return info;
    });
  }

  #blobError(e: unknown): unknown {
    if (e instanceof DigestMismatchError) {
      return ociHint(Ecr.invalidLayer(`The uploaded content (${e.size} bytes) has digest ${e.actual}, not ${e.expected}; nothing was stored.`), 'DIGEST_INVALID', 400);
    }
    if (e instanceof UploadOffsetError) return Ecr.invalidLayerPart(`The part starts at byte ${e.expected} but the upload holds ${e.actual} bytes.`);
    if (e instanceof UploadNotFoundError) return Ecr.uploadNotFound(`The upload with id '${e.id}' does not exist.`);
    if (e instanceof BlobTooLargeError) return ociHint(Ecr.limitExceeded(`A layer may be at most ${MAX_BLOB_BYTES} bytes.`), 'SIZE_INVALID', 400);
    return e;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Blobs

  /** The repository's link to a blob, or undefined when it does not hold it. */
  blob(repo: string, digest: string): BlobLinkRecord | undefined {
    return this.state.link(repo, digest)?.value;
  }

  /**
   * The blob's bytes as a stream; `recycle` hands a chunk back once it has been sent, so its memory serves
   * the next reads (optional).
   */
  async openBlob(repo: string, digest: string, range?: ByteRange): Promise<{ size: number; stream: Readable; recycle: (chunk: Buffer) => void }> {
    const link = this.blob(repo, digest);
    if (!link) throw this.#layerNotFound(repo, digest);
    try {
      return { size: link.size, stream: await this.blobs.read(digest, range), recycle: (chunk) => this.blobs.recycle(chunk) };
    } catch (e) {
      if (e instanceof BlobNotFoundError) throw this.#layerNotFound(repo, digest);
      throw e;
    }
  }

  #layerNotFound(repo: string, digest: string): ApiError {
    return Ecr.layersNotFound(`The layer with digest '${digest}' does not exist in the repository '${repo}'.`);
  }

  /**
   * A client checking for a blob it is about to reference (HEAD before skipping an upload) renews a link no
   * manifest references yet, so GC's grace period counts from the last use, not the first push.
   */
  touchLink(link: BlobLinkRecord): void {
    const now = this.#deps.clock.now();
    if (now - link.linkedAtMs < LINK_RENEW_AFTER_MS) return;
    if (this.state.referencedBy.keys(imageKey(link.repositoryName, link.digest)).size > 0) return;
    this.catalog
      .transact(() => {
        const cur = this.state.link(link.repositoryName, link.digest);
        if (!cur || now - cur.value.linkedAtMs < LINK_RENEW_AFTER_MS) return { ops: [], result: undefined };
        return { ops: [putOp(RegistryKind.blobLink, linkKey(link.repositoryName, link.digest), { ...cur.value, linkedAtMs: now }, cur)], result: undefined };
      })
      .catch((e: unknown) => this.#deps.logger.debug('could not renew a blob link', { error: e }));
  }

  /** Removes a blob from a repository (not from others that hold it). Refused while a manifest of the repository references it. */
  async deleteBlob(repo: string, digest: string): Promise<void> {
    await this.catalog.transact(() => {
      this.repository(repo);
      const link = this.state.link(repo, digest);
      if (!link) throw this.#layerNotFound(repo, digest);
      const users = this.state.read<ImageRecord>(RegistryKind.image, this.state.referencedBy.keys(imageKey(repo, digest)));
      if (users.length > 0 || this.state.image(repo, digest)) {
        throw ociHint(Ecr.invalidParameter(`The blob ${digest} is referenced by manifests of '${repo}'; delete those images first.`), 'DENIED', 409);
      }
      return { ops: [deleteOp(RegistryKind.blobLink, linkKey(repo, digest), link)], result: undefined };
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Manifests

  /** Stores a manifest under its digest and, when `reference` is a tag, tags it. */
  async putManifest(repo: string, reference: string, bytes: Buffer, opts: PutManifestOptions): Promise<PutManifestResult> {
    this.repository(repo);
    if (bytes.length > MAX_MANIFEST_BYTES) throw ociHint(Ecr.limitExceeded(`A manifest may be at most ${MAX_MANIFEST_BYTES} bytes.`), 'SIZE_INVALID', 400);
    const byDigest = reference.includes(':');
    const tag = byDigest ? undefined : reference;
    if (tag !== undefined && !TAG_PATTERN.test(tag)) {
      throw ociHint(Ecr.invalidParameter(`'${tag}' is not a valid tag: up to 128 letters, digits, _, . and -, not starting with . or -.`), 'TAG_INVALID', 400);
    }
    const expectedText = byDigest ? reference : opts.expectedDigest;
    const expected = expectedText === undefined ? undefined : parseDigest(expectedText);
    if (expectedText !== undefined && !expected) throw ociHint(Ecr.invalidParameter(`'${expectedText}' is not a valid digest.`), 'DIGEST_INVALID', 400);
    const digest = digestOf(bytes, expected?.algorithm ?? 'sha256');
    if (expected && digest.text !== expected.text) {
      throw Ecr.imageDigestDoesNotMatch(`The manifest's digest is ${digest.text}, not ${expected.text}; nothing was stored.`);
    }
    let parsed: ParsedManifest;
    try {
      parsed = parseManifest(bytes, opts.contentType);
    } catch (e) {
      if (e instanceof ManifestError) {
        throw e.reason === 'unsupported'
          ? ociHint(Ecr.unsupportedImageType(e.message), 'MANIFEST_INVALID', 400)
          : ociHint(Ecr.invalidParameter(`Invalid parameter at 'imageManifest' failed to satisfy constraint: '${e.message}'`), 'MANIFEST_INVALID', 400);
      }
      throw e;
    }
    // Cheap refusals before any bytes are written; the decision below checks again against the latest state.
    this.#missingReferences(repo, parsed);

    return this.digestLocks.run(digest.text, async () => {
      await this.blobs.put(bytes, digest);
      return this.catalog.transact(() => {
        const r = this.repository(repo);
        const ops: WriteOp[] = [checkOp(RegistryKind.repository, repo, r)];
        this.#missingReferences(repo, parsed);
        for (const d of parsed.requiredBlobs) ops.push(checkOp(RegistryKind.blobLink, linkKey(repo, d), this.state.link(repo, d)));
        const children: ImageRecord[] = [];
        for (const m of parsed.manifests) {
          const child = this.state.image(repo, m.digest)!;
          ops.push(checkOp(RegistryKind.image, imageKey(repo, m.digest), child));
          children.push(child.value);
        }
        const existing = this.state.image(repo, digest.text);
        const current = tag === undefined ? undefined : this.state.tag(repo, tag);
        if (tag !== undefined && current && current.value.digest !== digest.text && immutable(r.value, tag)) {
          throw Ecr.imageTagAlreadyExists(
            `The image tag '${tag}' already exists in the '${repo}' repository and cannot be overwritten because the repository is immutable.`,
          );
        }
        if (opts.source === 'ecr' && existing && (tag === undefined || current?.value.digest === digest.text)) {
          throw Ecr.imageAlreadyExists(
            `Image with digest '${digest.text}'${tag !== undefined ? ` and tag '${tag}'` : ''} already exists in the repository with name '${repo}' in registry with id '${this.registryId}'`,
          );
        }
        const now = this.#deps.clock.now();
        const image: ImageRecord = existing?.value ?? {
          repositoryName: repo,
          digest: digest.text,
          mediaType: parsed.mediaType,
          ...(parsed.artifactType !== undefined ? { artifactType: parsed.artifactType } : {}),
          manifestSize: bytes.length,
          sizeInBytes:
            parsed.kind === 'image'
              ? (parsed.config?.size ?? 0) + parsed.layers.reduce((s, l) => s + l.size, 0)
              : children.reduce((s, c) => s + c.sizeInBytes, 0),
          pushedAt: epochSeconds(now),
          blobs: [...parsed.requiredBlobs],
          manifests: parsed.manifests.map((m) => m.digest),
          ...(parsed.subject ? { subject: parsed.subject.digest } : {}),
          ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
        };
        if (!existing) ops.push(putOp(RegistryKind.image, imageKey(repo, digest.text), image, undefined));
        if (!this.state.link(repo, digest.text)) {
          const link: BlobLinkRecord = { repositoryName: repo, digest: digest.text, size: bytes.length, linkedAtMs: now };
          ops.push(putOp(RegistryKind.blobLink, linkKey(repo, digest.text), link, undefined));
        }
        if (tag !== undefined && current?.value.digest !== digest.text) {
          const t: TagRecord = { repositoryName: repo, tag, digest: digest.text, taggedAtMs: now };
          ops.push(putOp(RegistryKind.tag, tagKey(repo, tag), t, current));
        }
        return { ops, result: { digest: digest.text, image } };
      });
    });
  }

  #missingReferences(repo: string, parsed: ParsedManifest): void {
    const missing = parsed.requiredBlobs.filter((d) => !this.state.link(repo, d));
    if (missing.length > 0) {
      throw ociHint(
        Ecr.layersNotFound(`The manifest references ${missing.length === 1 ? 'a blob' : 'blobs'} that '${repo}' does not hold: ${missing.join(', ')}. Push the layers first.`),
        'MANIFEST_BLOB_UNKNOWN',
        400,
      );
    }
    const missingManifests = parsed.manifests.filter((m) => !this.state.image(repo, m.digest)).map((m) => m.digest);
    if (missingManifests.length > 0) {
      throw Ecr.referencedImagesNotFound(`The index references manifests that '${repo}' does not hold: ${missingManifests.join(', ')}. Push them first.`);
    }
  }

  /** The image a tag or digest names. */
  resolve(repo: string, reference: string): ImageRecord {
    this.repository(repo);
    const digest = reference.includes(':') ? reference : this.state.tag(repo, reference)?.value.digest;
    const image = digest === undefined ? undefined : this.state.image(repo, digest)?.value;
    if (!image) {
      throw Ecr.imageNotFound(`The image with imageId {${reference.includes(':') ? `imageDigest:'${reference}'` : `imageTag:'${reference}'`}} does not exist within the repository with name '${repo}' in the registry with id '${this.registryId}'`);
    }
    return image;
  }

  manifestBytes(image: ImageRecord): Promise<Buffer> {
    return this.blobs.readAll(image.digest);
  }

  /** Records a pull (ECR's lastRecordedPullTime); at most one write per image per hour. */
  notePull(image: ImageRecord): void {
    const now = epochSeconds(this.#deps.clock.now());
    if (image.lastPulledAt !== undefined && now - image.lastPulledAt < 3600) return;
    this.catalog
      .transact(() => {
        const cur = this.state.image(image.repositoryName, image.digest);
        if (!cur || (cur.value.lastPulledAt !== undefined && now - cur.value.lastPulledAt < 3600)) return { ops: [], result: undefined };
        return { ops: [putOp(RegistryKind.image, imageKey(image.repositoryName, image.digest), { ...cur.value, lastPulledAt: now }, cur)], result: undefined };
      })
      .catch((e: unknown) => this.#deps.logger.debug('could not record a pull', { error: e }));
  }

  /**
   * Deletes images and tags as ECR's BatchDeleteImage does: a tag alone removes the tag (and the image with
   * its last tag); a digest removes the image and all its tags. Returns what was deleted and what failed.
   */
  async deleteImages(
    repo: string,
    ids: readonly { imageDigest?: string | undefined; imageTag?: string | undefined }[],
  ): Promise<{ deleted: { imageDigest: string; imageTag?: string }[]; failures: { imageId: object; failureCode: string; failureReason: string }[] }> {
    return this.catalog.transact(() => {
      this.repository(repo);
      const deleted: { imageDigest: string; imageTag?: string }[] = [];
      const failures: { imageId: object; failureCode: string; failureReason: string }[] = [];
      const ops = new Map<string, WriteOp>();
      const goneImages = new Set<string>();
      const goneTags = new Set<string>();
      const removeImage = (image: Versioned<ImageRecord>): void => {
        goneImages.add(image.value.digest);
        ops.set(`i${image.value.digest}`, deleteOp(RegistryKind.image, imageKey(repo, image.value.digest), image));
        for (const t of this.state.tagsOf(repo, image.value.digest)) {
          const tv = this.state.tag(repo, t);
          if (tv && !goneTags.has(t)) {
            goneTags.add(t);
            ops.set(`t${t}`, deleteOp(RegistryKind.tag, tagKey(repo, t), tv));
          }
        }
      };
      for (const id of ids) {
        const imageId = { ...(id.imageDigest !== undefined ? { imageDigest: id.imageDigest } : {}), ...(id.imageTag !== undefined ? { imageTag: id.imageTag } : {}) };
        if (id.imageDigest === undefined && id.imageTag === undefined) {
          failures.push({ imageId, failureCode: 'MissingDigestAndTag', failureReason: 'Invalid request parameters: both tag and digest cannot be null' });
          continue;
        }
        if (id.imageDigest !== undefined && !parseDigest(id.imageDigest)) {
          failures.push({ imageId, failureCode: 'InvalidImageDigest', failureReason: 'Invalid request parameters: image digest should satisfy the regex \'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+\'' });
          continue;
        }
        const tagRec = id.imageTag !== undefined && !goneTags.has(id.imageTag) ? this.state.tag(repo, id.imageTag) : undefined;
        const digest = id.imageDigest ?? tagRec?.value.digest;
        const image = digest !== undefined && !goneImages.has(digest) ? this.state.image(repo, digest) : undefined;
        if (!image || (id.imageTag !== undefined && (!tagRec || tagRec.value.digest !== image.value.digest))) {
          failures.push({
            imageId,
            failureCode: id.imageTag !== undefined && image ? 'ImageTagDoesNotMatchDigest' : 'ImageNotFound',
            failureReason: id.imageTag !== undefined && image ? 'Invalid request parameters: given tag does not match the given digest' : 'Requested image not found',
          });
          continue;
        }
        const parents = this.state
          .read<ImageRecord>(RegistryKind.image, this.state.referencedBy.keys(imageKey(repo, image.value.digest)))
          .filter((p) => p.value.manifests.includes(image.value.digest) && !goneImages.has(p.value.digest));
        const remainingTags = this.state.tagsOf(repo, image.value.digest).filter((t) => !goneTags.has(t));
        if (id.imageTag !== undefined && id.imageDigest === undefined && remainingTags.length > 1) {
          goneTags.add(id.imageTag);
          ops.set(`t${id.imageTag}`, deleteOp(RegistryKind.tag, tagKey(repo, id.imageTag), tagRec!));
          deleted.push({ imageDigest: image.value.digest, imageTag: id.imageTag });
          continue;
        }
        if (parents.length > 0) {
          failures.push({ imageId, failureCode: 'ImageReferencedByManifestList', failureReason: `Requested image is referenced by manifest list: [${parents.map((p) => p.value.digest).join(', ')}]` });
          continue;
        }
        const tags = remainingTags;
        removeImage(image);
        if (tags.length === 0) deleted.push({ imageDigest: image.value.digest });
        else for (const t of tags) deleted.push({ imageDigest: image.value.digest, imageTag: t });
      }
      return { ops: [...ops.values()], result: { deleted, failures } };
    });
  }

  /** OCI DELETE of a tag: removes the tag only. */
  async untag(repo: string, tag: string): Promise<void> {
    await this.catalog.transact(() => {
      this.repository(repo);
      const t = this.state.tag(repo, tag);
      if (!t) throw Ecr.imageNotFound(`The tag '${tag}' does not exist in the repository '${repo}'.`);
      return { ops: [deleteOp(RegistryKind.tag, tagKey(repo, tag), t)], result: undefined };
    });
  }

  /** Images whose `subject` is `digest`, optionally of one artifactType (the referrers API). */
  referrers(repo: string, digest: string, artifactType?: string): ImageRecord[] {
    this.repository(repo);
    return this.state
      .read<ImageRecord>(RegistryKind.image, this.state.referrers.keys(imageKey(repo, digest)))
      .map((v) => v.value)
      .filter((i) => i.subject === digest && (artifactType === undefined || i.artifactType === artifactType))
      .sort((a, b) => (a.digest < b.digest ? -1 : 1));
  }

  repositoryNames(): string[] {
    return [...this.catalog.all<RepositoryRecord>(RegistryKind.repository)].map(([k]) => k).sort();
  }
}

/** Does the repository's tag mutability forbid moving `tag`? (The *_WITH_EXCLUSION modes flip matching tags.) */
export function immutable(repo: RepositoryRecord, tag: string): boolean {
  const excluded = (repo.imageTagMutabilityExclusionFilters ?? []).some((f) => wildcard(f.filter).test(tag));
  switch (repo.imageTagMutability) {
    case 'IMMUTABLE':
      return true;
    case 'MUTABLE':
      return false;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !excluded;
    case 'MUTABLE_WITH_EXCLUSION':
      return excluded;
  }
}

export function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*')}$`);
}
