/**
 * AWS Signature Version 4 signing for Gantry's own clients (the agent's registration call and its channel
 * upgrade): header-signed requests and presigned URLs, built the way @smithy/signature-v4 builds them for
 * non-S3 services, so src/auth/sigv4.ts (which is tested against the SDKs) accepts them. Only node:crypto;
 * the SDK signer is a dev dependency and stays out of the agent.
 */
import { createHash, createHmac } from 'node:crypto';

export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SigningOptions {
  readonly service: string;
  readonly region: string;
  readonly credentials: SigningCredentials;
  /** Signing time (ms since the epoch); only whole seconds count. */
  readonly nowMs: number;
}

export interface RequestToSign {
  readonly method: string;
  readonly url: string;
  /** Headers to send and sign (names in any case). `host` is added from the URL. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * The headers to send: the caller's, plus host, x-amz-date, x-amz-content-sha256, x-amz-security-token (with a
 * session token) and authorization. Every header given is signed.
 */
export function signRequest(req: RequestToSign, opts: SigningOptions): Record<string, string> {
  const url = new URL(req.url);
  const longDate = amzDate(opts.nowMs);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  headers['host'] = url.host;
  headers['x-amz-date'] = longDate;
  if (opts.credentials.sessionToken !== undefined) headers['x-amz-security-token'] = opts.credentials.sessionToken;
  const payloadHash = req.body === undefined || req.body.length === 0 ? EMPTY_SHA256 : sha256Hex(req.body);
  headers['x-amz-content-sha256'] = payloadHash;

  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalHeaders = names.map((n) => `${n}:${trimValue(headers[n]!)}\n`).join('');
  const canonical = [req.method.toUpperCase(), canonicalUri(url.pathname), canonicalQuery(url.searchParams), canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = credentialScope(longDate, opts);
  const signature = sign(canonical, longDate, scope, opts);
  headers['authorization'] = `${ALGORITHM} Credential=${opts.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

/** A presigned URL (only `host` signed), valid for `expiresSec`; e.g. for a WebSocket upgrade. */
export function presignUrl(url: string, opts: SigningOptions & { readonly method?: string; readonly expiresSec: number }): string {
  const u = new URL(url);
  const longDate = amzDate(opts.nowMs);
  const scope = credentialScope(longDate, opts);
  const params = u.searchParams;
  params.set('X-Amz-Algorithm', ALGORITHM);
  params.set('X-Amz-Credential', `${opts.credentials.accessKeyId}/${scope}`);
  params.set('X-Amz-Date', longDate);
  params.set('X-Amz-Expires', String(Math.max(1, Math.min(604_800, Math.floor(opts.expiresSec)))));
  if (opts.credentials.sessionToken !== undefined) params.set('X-Amz-Security-Token', opts.credentials.sessionToken);
  params.set('X-Amz-SignedHeaders', 'host');
  const canonical = [(opts.method ?? 'GET').toUpperCase(), canonicalUri(u.pathname), canonicalQuery(params), `host:${u.host}\n`, 'host', EMPTY_SHA256].join('\n');
  const signature = sign(canonical, longDate, scope, opts);
  // URLSearchParams would encode spaces as '+', which SigV4 reads as a literal plus: build the query ourselves.
  const query = [...params.entries()].map(([k, v]) => `${escape(k)}=${escape(v)}`).join('&');
  return `${u.protocol}//${u.host}${u.pathname}?${query}&X-Amz-Signature=${signature}`;
}

function credentialScope(longDate: string, opts: SigningOptions): string {
  return `${longDate.slice(0, 8)}/${opts.region}/${opts.service}/aws4_request`;
}

function sign(canonical: string, longDate: string, scope: string, opts: SigningOptions): string {
  const stringToSign = `${ALGORITHM}\n${longDate}\n${scope}\n${sha256Hex(canonical)}`;
  const kDate = hmac(`AWS4${opts.credentials.secretAccessKey}`, longDate.slice(0, 8));
  const kRegion = hmac(kDate, opts.region);
  const kService = hmac(kRegion, opts.service);
  const kSigning = hmac(kService, 'aws4_request');
  return createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function amzDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
}

function trimValue(v: string): string {
  return v.trim().replace(/\s+/g, ' ');
}

/**
 * Non-S3 services sign the path normalised (no empty or '.' segments, '..' resolved) and encoded twice: the
 * wire form that URL already produced, escaped once more with '/' kept.
 */
function canonicalUri(wirePath: string): string {
  if (wirePath === '' || wirePath === '/') return '/';
  const segments: string[] = [];
  for (const s of wirePath.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  const trail = segments.length > 0 && wirePath.endsWith('/') ? '/' : '';
  return '/' + segments.map(escape).join('/') + trail;
}

function canonicalQuery(params: URLSearchParams): string {
  const pairs = [...params.entries()].filter(([k]) => k !== 'X-Amz-Signature').map(([k, v]) => [escape(k), escape(v)] as const);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** RFC 3986: everything but A-Z a-z 0-9 - _ . ~ percent-encoded as UTF-8. */
function escape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}
