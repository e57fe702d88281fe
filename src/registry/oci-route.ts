/**
 * The OCI distribution API (and Docker Registry HTTP API V2) under /v2/, as a front-door route:
 *
 *   GET    /v2/                                  version check (401 + Basic challenge without credentials)
 *   GET    /v2/_catalog?n=&last=                 repositories the caller may describe
 *   GET    /v2/<name>/tags/list?n=&last=         tags, paginated with Link
 *   GET|HEAD|PUT|DELETE /v2/<name>/manifests/<tag|digest>
 *   GET|HEAD|DELETE     /v2/<name>/blobs/<digest>          (GET honours Range)
 *   POST   /v2/<name>/blobs/uploads/[?digest=|?mount=&from=]
 *   GET|PATCH|PUT|DELETE /v2/<name>/blobs/uploads/<id>     status, chunk, finish (?digest=), cancel
 *   GET    /v2/<name>/referrers/<digest>[?artifactType=]
 *
 * Each request: authenticate → find the repository → authorise the ECR action → act. Bodies are streamed
 * straight into the blob store (never buffered whole), except manifests (≤ 4 MiB).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Logger } from '../util/log.js';
import type { Access } from './access.js';
import type { Authenticated, RegistryAuth } from './auth.js';
import { parseDigest } from './digest.js';
import { MediaType } from './manifest.js';
import { OciError, ociErrorBody, toOciError } from './oci-errors.js';
import type { Registry } from './registry.js';
import { MAX_MANIFEST_BYTES } from './registry.js';

export interface OciRouteDeps {
  readonly registry: Registry;
  readonly auth: RegistryAuth;
  readonly access: Access;
  readonly logger: Logger;
}

const NAME = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*';
const PATH = new RegExp(`^/v2/(${NAME})/(manifests/([^/]+)|blobs/uploads/([^/]*)|blobs/([^/]+)|tags/list|referrers/([^/]+))$`);
const API_VERSION = { 'Docker-Distribution-API-Version': 'registry/2.0' };
/** Page size when `n` is absent, and the most `n` may ask for. */
const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

export function ociRoute(deps: OciRouteDeps) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://registry');
    if (url.pathname !== '/v2' && !url.pathname.startsWith('/v2/')) return false;
    handle(deps, req, res, url).catch((e: unknown) => {
      const err = toOciError(e);
      if (err.status >= 500) deps.logger.error('registry request failed', { method: req.method, path: url.pathname, error: e });
      else deps.logger.debug('registry request refused', { method: req.method, path: url.pathname, code: err.code, message: err.message });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A refused upload must not leave the client blocked writing a body nobody reads.
      if (!req.complete) req.resume();
      sendJson(res, err.status, ociErrorBody(err), err.headers, req.method === 'HEAD');
    });
    return true;
  };
}

async function handle(deps: OciRouteDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const { registry, access } = deps;
  const method = req.method ?? 'GET';
  const who = deps.auth.authenticate(req, url.searchParams.get('gantry-token') ?? undefined);
  const scoped = who.claims.scope;
  if (url.pathname === '/v2/' || url.pathname === '/v2') {
    if (scoped) throw deps.auth.challenge('this token is limited to one layer');
    drain(req);
    sendJson(res, 200, '{}', {}, method === 'HEAD');
    return;
  }
  if (url.pathname === '/v2/_catalog') {
    if (method !== 'GET' || scoped) throw notAllowed(method);
    drain(req);
    const names = registry.repositoryNames().filter((n) => access.allowed(who.principal, 'ecr:DescribeRepositories', registry.state.repository(n)?.value));
    const page = paginate(names, url, '/v2/_catalog');
    sendJson(res, 200, JSON.stringify({ repositories: page.items }), page.link ? { Link: page.link } : {});
    return;
  }
  const m = PATH.exec(url.pathname);
  if (!m) {
    drain(req);
    throw new OciError('NAME_INVALID', 404, `No registry endpoint at ${url.pathname}: repository names are lowercase letters, digits and separators (. _ __ -), with / between components.`);
  }
  const name = m[1]!;
  if (name.length > 256) throw new OciError('NAME_INVALID', 400, 'repository names are at most 256 characters');
  const repo = registry.repository(name).value;
  const allow = (action: string, onRepo = repo): void => access.check(who.principal, action, onRepo);
  const [, , what, reference, uploadId, blobDigest, referrersDigest] = m;

  if (scoped) {
    // A pre-signed layer URL (GetDownloadUrlForLayer) reads that one blob and nothing else.
    if (!(method === 'GET' || method === 'HEAD') || blobDigest === undefined || scoped.repository !== name || (scoped.digest !== undefined && scoped.digest !== blobDigest)) {
      throw deps.auth.challenge('this token is limited to one layer');
    }
  }

  if (reference !== undefined) {
    if (method === 'GET' || method === 'HEAD') {
      allow('ecr:BatchGetImage');
      drain(req);
      return getManifest(deps, req, res, name, reference, method === 'HEAD');
    }
    if (method === 'PUT') {
      allow('ecr:PutImage');
      const bytes = await readLimited(req, MAX_MANIFEST_BYTES);
      const { digest, image } = await registry.putManifest(name, reference, bytes, { source: 'oci', contentType: req.headers['content-type'] });
      res.writeHead(201, {
        ...API_VERSION,
        Location: `/v2/${name}/manifests/${digest}`,
        'Docker-Content-Digest': digest,
        ...(image.subject !== undefined ? { 'OCI-Subject': image.subject } : {}),
        'Content-Length': 0,
      });
      res.end();
      return;
    }
    if (method === 'DELETE') {
      allow('ecr:BatchDeleteImage');
      drain(req);
      if (reference.includes(':')) {
        if (!parseDigest(reference)) throw new OciError('DIGEST_INVALID', 400, `'${reference}' is not a valid digest`);
        const r = await registry.deleteImages(name, [{ imageDigest: reference }]);
        const f = r.failures[0];
        if (f) {
          throw f.failureCode === 'ImageNotFound'
            ? new OciError('MANIFEST_UNKNOWN', 404, `manifest ${reference} is not in ${name}`)
            : new OciError('DENIED', 409, f.failureReason);
        }
      } else {
        await registry.untag(name, reference);
      }
      sendEmpty(res, 202);
      return;
    }
    throw notAllowed(method);
  }

  if (blobDigest !== undefined) {
    if (!parseDigest(blobDigest)) throw new OciError('DIGEST_INVALID', 400, `'${blobDigest}' is not a valid digest`);
    if (method === 'GET' || method === 'HEAD') {
      allow(method === 'GET' ? 'ecr:GetDownloadUrlForLayer' : 'ecr:BatchCheckLayerAvailability');
      drain(req);
      return getBlob(deps, req, res, name, blobDigest, method === 'HEAD');
    }
    if (method === 'DELETE') {
      allow('ecr:BatchDeleteImage');
      drain(req);
      await registry.deleteBlob(name, blobDigest);
      sendEmpty(res, 202);
      return;
    }
    throw notAllowed(method);
  }

  if (uploadId !== undefined) {
    return upload(deps, req, res, url, who, name, uploadId, allow);
  }

  if (referrersDigest !== undefined) {
    if (method !== 'GET') throw notAllowed(method);
    allow('ecr:BatchGetImage');
    drain(req);
    if (!parseDigest(referrersDigest)) throw new OciError('DIGEST_INVALID', 400, `'${referrersDigest}' is not a valid digest`);
    const artifactType = url.searchParams.get('artifactType') ?? undefined;
    const manifests = registry.referrers(name, referrersDigest, artifactType).map((i) => ({
      mediaType: i.mediaType,
      digest: i.digest,
      size: i.manifestSize,
      ...(i.artifactType !== undefined ? { artifactType: i.artifactType } : {}),
      ...(i.annotations !== undefined ? { annotations: i.annotations } : {}),
    }));
    sendJson(res, 200, JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }), {
      'Content-Type': MediaType.ociIndex,
      ...(artifactType !== undefined ? { 'OCI-Filters-Applied': 'artifactType' } : {}),
    });
    return;
  }

  if (what === 'tags/list') {
    if (method !== 'GET') throw notAllowed(method);
    allow('ecr:ListImages');
    drain(req);
    const tags = registry.state.tags(name).map((t) => t.value.tag).sort();
    const page = paginate(tags, url, `/v2/${name}/tags/list`);
    sendJson(res, 200, JSON.stringify({ name, tags: page.items }), page.link ? { Link: page.link } : {});
    return;
  }
  throw notAllowed(method);
}

async function getManifest(deps: OciRouteDeps, req: IncomingMessage, res: ServerResponse, name: string, reference: string, head: boolean): Promise<void> {
  if (reference.includes(':') && !parseDigest(reference)) throw new OciError('DIGEST_INVALID', 400, `'${reference}' is not a valid digest`);
  const image = deps.registry.resolve(name, reference);
  const etag = `"${image.digest}"`;
  const headers = { ...API_VERSION, 'Content-Type': image.mediaType, 'Docker-Content-Digest': image.digest, ETag: etag };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  if (head) {
    res.writeHead(200, { ...headers, 'Content-Length': image.manifestSize });
    res.end();
    return;
  }
  const bytes = await deps.registry.manifestBytes(image);
  deps.registry.notePull(image);
  res.writeHead(200, { ...headers, 'Content-Length': bytes.length });
  res.end(bytes);
}

async function getBlob(deps: OciRouteDeps, req: IncomingMessage, res: ServerResponse, name: string, digest: string, head: boolean): Promise<void> {
  const link = deps.registry.blob(name, digest);
  if (!link) throw new OciError('BLOB_UNKNOWN', 404, `blob ${digest} is not in ${name}`);
  const headers = {
    ...API_VERSION,
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    ETag: `"${digest}"`,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'max-age=31536000',
  };
  const range = parseRange(req.headers.range, link.size);
  if (range === 'unsatisfiable') {
    throw new OciError('RANGE_INVALID', 416, `the range ${req.headers.range} is outside the blob (${link.size} bytes)`, { 'Content-Range': `bytes */${link.size}` });
  }
  if (head) {
    deps.registry.touchLink(link);
    res.writeHead(200, { ...headers, 'Content-Length': link.size });
    res.end();
    return;
  }
  if (req.method === 'GET') deps.registry.touchLink(link);
  const { stream, recycle } = await deps.registry.openBlob(name, digest, range ?? (link.size > 0 ? undefined : { start: 0, end: -1 }));
  if (range) {
    res.writeHead(206, { ...headers, 'Content-Length': range.end - range.start + 1, 'Content-Range': `bytes ${range.start}-${range.end}/${link.size}` });
  } else {
    res.writeHead(200, { ...headers, 'Content-Length': link.size });
  }
  await send(stream, res, recycle);
}

/**
 * Streams a blob into the response as `pipeline` would (backpressure; an error on either side ends both),
 * handing each chunk back to the blob store once the socket has taken it, so the next batches reuse its memory.
 * A chunk whose write fails, or never completes, is simply never handed back.
 */
async function send(stream: Readable, res: ServerResponse, recycle: (chunk: Buffer) => void): Promise<void> {
  try {
    for await (const chunk of stream) {
      const c = chunk as Buffer;
      if (!res.write(c, (err) => err == null && recycle(c))) await drained(res);
    }
    res.end();
    await finished(res);
  } catch (e) {
    stream.destroy();
    res.destroy();
    throw e;
  }
}

/** Resolves once the response may take more; rejects if it closes first (the client went away). */
function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error('the client closed the connection'));
  return new Promise((resolve, reject) => {
    const settle = (e?: Error): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      res.off('error', settle);
      if (e) reject(e);
      else resolve();
    };
    const onDrain = (): void => settle();
    const onClose = (): void => settle(new Error('the client closed the connection'));
    res.on('drain', onDrain);
    res.on('close', onClose);
    res.on('error', settle);
  });
}

async function upload(
  deps: OciRouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  who: Authenticated,
  name: string,
  id: string,
  allow: (action: string, onRepo?: Parameters<Access['check']>[2]) => void,
): Promise<void> {
  const { registry } = deps;
  const method = req.method ?? 'GET';
  const location = (uploadId: string) => `/v2/${name}/blobs/uploads/${uploadId}`;
  const progress = (uploadId: string, size: number, status: number): void => {
    res.writeHead(status, {
      ...API_VERSION,
      Location: location(uploadId),
      Range: `0-${Math.max(0, size - 1)}`,
      'Docker-Upload-UUID': uploadId,
      'Content-Length': 0,
    });
    res.end();
  };
  const created = (digest: string): void => {
    res.writeHead(201, { ...API_VERSION, Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': 0 });
    res.end();
  };

  if (id === '') {
    if (method !== 'POST') throw notAllowed(method);
    allow('ecr:InitiateLayerUpload');
    const mount = url.searchParams.get('mount');
    const from = url.searchParams.get('from');
    if (mount !== null && from !== null) {
      if (!parseDigest(mount)) throw new OciError('DIGEST_INVALID', 400, `'${mount}' is not a valid digest`);
      const source = registry.state.repository(from)?.value;
      if (source && deps.access.allowed(who.principal, 'ecr:GetDownloadUrlForLayer', source)) {
        const mounted = await registry.mountBlob(name, from, mount);
        if (mounted) {
          drain(req);
          created(mounted.digest);
          return;
        }
      }
      // Not mountable (no such blob, or no read access to `from`): fall back to a regular upload, as the spec says.
    }
    const digest = url.searchParams.get('digest');
    if (digest !== null) {
      allow('ecr:UploadLayerPart');
      allow('ecr:CompleteLayerUpload');
      if (!parseDigest(digest)) throw new OciError('DIGEST_INVALID', 400, `'${digest}' is not a valid digest`);
      const info = await registry.putBlob(name, digest, req);
      created(info.digest);
      return;
    }
    drain(req);
    const uploadId = await registry.startUpload(name);
    progress(uploadId, 0, 202);
    return;
  }

  if (method === 'GET') {
    allow('ecr:UploadLayerPart');
    drain(req);
    progress(id, await registry.uploadSize(name, id), 204);
    return;
  }
  if (method === 'PATCH') {
    allow('ecr:UploadLayerPart');
    const range = req.headers['content-range'];
    let offset: number | undefined;
    if (range !== undefined) {
      const r = /^(?:bytes )?(\d+)-(\d+)$/.exec(range.trim());
      if (!r) throw new OciError('BLOB_UPLOAD_INVALID', 400, `Content-Range must be <start>-<end>; got '${range}'`);
      offset = Number(r[1]);
      const length = req.headers['content-length'];
      if (length !== undefined && Number(r[2]) - offset + 1 !== Number(length)) {
        throw new OciError('BLOB_UPLOAD_INVALID', 416, `Content-Range ${range} does not match Content-Length ${length}`);
      }
    }
    try {
      const size = await registry.appendUpload(name, id, offset, req);
      progress(id, size, 202);
    } catch (e) {
      const err = toOciError(e);
      if (err.status === 416) {
        const size = await registry.blobs.uploadSize(id);
        throw new OciError(err.code, 416, err.message, { Range: `0-${Math.max(0, (size ?? 0) - 1)}`, Location: location(id), 'Docker-Upload-UUID': id });
      }
      throw e;
    }
    return;
  }
  if (method === 'PUT') {
    allow('ecr:CompleteLayerUpload');
    const digest = url.searchParams.get('digest');
    if (digest === null || !parseDigest(digest)) {
      throw new OciError('DIGEST_INVALID', 400, `finishing an upload needs ?digest=<algorithm>:<hex>; got ${digest === null ? 'none' : `'${digest}'`}`);
    }
    const length = Number(req.headers['content-length'] ?? '0');
    if (length > 0 || req.headers['transfer-encoding'] !== undefined) {
      allow('ecr:UploadLayerPart');
      await registry.appendUpload(name, id, undefined, req);
    } else {
      drain(req);
    }
    const info = await registry.completeUpload(name, id, digest);
    created(info.digest);
    return;
  }
  if (method === 'DELETE') {
    allow('ecr:UploadLayerPart');
    drain(req);
    await registry.cancelUpload(name, id);
    sendEmpty(res, 204);
    return;
  }
  throw notAllowed(method);
}

/** `n` and `last` pagination, with a Link header to the next page when there is one. */
function paginate(sorted: readonly string[], url: URL, path: string): { items: string[]; link?: string } {
  const nText = url.searchParams.get('n');
  const last = url.searchParams.get('last');
  let n = DEFAULT_PAGE;
  if (nText !== null) {
    if (!/^\d+$/.test(nText)) throw new OciError('UNSUPPORTED', 400, `n must be a non-negative integer; got '${nText}'`);
    n = Math.min(Number(nText), MAX_PAGE);
  }
  const start = last === null ? 0 : sorted.findIndex((s) => s > last);
  const rest = start < 0 ? [] : sorted.slice(start);
  const items = rest.slice(0, n);
  if (rest.length > n && items.length > 0) {
    return { items, link: `<${path}?n=${n}&last=${encodeURIComponent(items.at(-1)!)}>; rel="next"` };
  }
  return { items };
}

/** An HTTP Range header against a blob of `size` bytes: one range, or undefined for the whole blob. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | 'unsatisfiable' {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // several ranges or nonsense: serve the whole blob (RFC 9110 allows it)
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

function notAllowed(method: string): OciError {
  return new OciError('UNSUPPORTED', 405, `${method} is not supported here`);
}

function drain(req: IncomingMessage): void {
  if (!req.complete) req.resume();
}

async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new OciError('SIZE_INVALID', 400, `a manifest may be at most ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: string, headers: Readonly<Record<string, string>> = {}, head = false): void {
  res.writeHead(status, { ...API_VERSION, 'Content-Type': 'application/json', ...headers, 'Content-Length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { ...API_VERSION, 'Content-Length': 0 });
  res.end();
}
