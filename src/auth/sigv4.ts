/**
 * AWS Signature Version 4 verification for incoming requests (Authorization header and presigned query string).
 *
 * The canonical request is rebuilt the way the clients we serve build it — @smithy/signature-v4 (JS SDK v3) and
 * botocore (CLI, boto3) — for non-S3 services. Where those two and the SigV4 documentation disagree, the comments
 * say which one wins and why. Everything here runs on every API request, so the common shape (`POST /`, no query,
 * a handful of single-valued headers) takes fast paths that avoid regexes, sorting and intermediate arrays.
 */
import * as nodeCrypto from 'node:crypto';
import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { Protocol } from '../domain/errors.js';

export interface IncomingSignedRequest {
  method: string;
  /** Raw request target as received (path + query, undecoded), e.g. '/' or '/v2/x?a=b%20c'. */
  url: string;
  /** Lower-cased names -> values as received (node's `req.headersDistinct`). */
  headers: Readonly<Record<string, string[] | undefined>>;
  /** Raw body bytes (empty Buffer for none). */
  body: Buffer;
}

export interface VerifyOptions {
  /** The server's region; the credential scope region must equal it. */
  region: string;
  /** Allowed credential scope services, e.g. ['ecs'] or ['ecr']. */
  services: readonly string[];
  nowMs: number;
  /** Allowed clock difference between client and server; default 5 minutes (AWS's value). */
  maxSkewMs?: number;
}

export interface SigningSecret {
  secretAccessKey: string;
}

export type SecretLookup = (accessKeyId: string) => SigningSecret | undefined;

export interface VerifiedRequest {
  accessKeyId: string;
  service: string;
  region: string;
  /** The signing time claimed by the request (ms since the epoch). */
  signedAt: number;
  /** x-amz-security-token (header, or X-Amz-Security-Token for presigned); its validity is the caller's business. */
  sessionToken?: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const TERMINATOR = 'aws4_request';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const DEFAULT_MAX_SKEW_MS = 5 * 60_000;
/** AWS refuses presigned URLs valid for longer than a week. */
const MAX_PRESIGN_EXPIRES_S = 604_800;
/** Longest attacker-supplied fragment we are willing to reflect in an error message. */
const MAX_ECHO = 128;

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key ' +
  'and signing method. Consult the service documentation for details.';

/**
 * Verifies a SigV4-signed request and returns who signed it. Throws an ApiError (IncompleteSignatureException,
 * InvalidSignatureException, MissingAuthenticationTokenException or UnrecognizedClientException) otherwise.
 */
export function verifySigV4(req: IncomingSignedRequest, opts: VerifyOptions, lookup: SecretLookup): VerifiedRequest {
  const headers = req.headers;
  const url = req.url;
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const params = q < 0 || q === url.length - 1 ? NO_PARAMS : parseQuery(url.slice(q + 1));

  const authValues = headerValues(headers, 'authorization');
  const presigned = params.length > 0 && findParam(params, 'X-Amz-Algorithm') !== undefined;
  if (authValues !== undefined && presigned) {
    // Two credentials in one request would let one of them go unchecked by whoever reads the other.
    throw Protocol.incompleteSignature(
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.',
    );
  }
  let auth: AuthParts;
  if (authValues !== undefined) auth = parseAuthorizationHeader(authValues, headers);
  else if (presigned) auth = parsePresignedQuery(params, headers);
  else throw Protocol.missingAuthenticationToken('Missing Authentication Token');

  // The credential is the access key id followed by the scope; AWS insists on exactly five elements.
  const cred = auth.credential;
  const s1 = cred.indexOf('/');
  const s2 = s1 < 0 ? -1 : cred.indexOf('/', s1 + 1);
  const s3 = s2 < 0 ? -1 : cred.indexOf('/', s2 + 1);
  const s4 = s3 < 0 ? -1 : cred.indexOf('/', s3 + 1);
  if (s4 < 0 || cred.indexOf('/', s4 + 1) >= 0) {
    throw Protocol.incompleteSignature(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${echo(cred)}'`,
    );
  }
  const accessKeyId = cred.slice(0, s1);
  const scopeDate = cred.slice(s1 + 1, s2);
  const scopeRegion = cred.slice(s2 + 1, s3);
  const scopeService = cred.slice(s3 + 1, s4);
  const terminator = cred.slice(s4 + 1);

  const signedNames = auth.signedHeaders.split(';');
  if (!signedNames.includes('host')) {
    throw Protocol.incompleteSignature("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  // A date the signature does not cover could be replaced to defeat the expiry check.
  if (auth.dateHeader !== undefined && !signedNames.includes(auth.dateHeader)) {
    throw Protocol.incompleteSignature(
      `'${auth.dateHeader === 'date' ? 'Date' : 'X-Amz-Date'}' must be a 'SignedHeader' in the AWS Authorization.`,
    );
  }

  if (terminator !== TERMINATOR) {
    throw Protocol.invalidSignature(`Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${echo(terminator)}'. `);
  }
  if (scopeDate !== auth.longDate.slice(0, 8)) {
    throw Protocol.invalidSignature(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${echo(scopeDate)}' != '${auth.longDate.slice(0, 8)}', from '${auth.longDate}'.`,
    );
  }
  if (scopeRegion !== opts.region) {
    throw Protocol.invalidSignature('Credential should be scoped to a valid region. ');
  }
  if (!opts.services.includes(scopeService)) {
    throw Protocol.invalidSignature(`Credential should be scoped to correct service: '${opts.services[0] ?? ''}'. `);
  }

  checkTime(auth, opts);

  const secret = lookup(accessKeyId);
  if (secret === undefined) {
    throw Protocol.unrecognizedClient('The security token included in the request is invalid.');
  }

  // Hash the raw bytes: a re-serialised body would differ from what the client hashed.
  let payloadHash: string;
  let fallbackPayloadHash: string | undefined;
  const claimedHash = auth.claimedPayloadHash;
  if (claimedHash === undefined) {
    payloadHash = bodySha256(req.body);
    // S3-style presigners sign UNSIGNED-PAYLOAD without saying so; smithy and botocore sign the empty body's hash.
    // Only a bodiless request may be either, so only then is the second guess allowed.
    if (auth.presigned && req.body.length === 0) fallbackPayloadHash = UNSIGNED_PAYLOAD;
  } else if (auth.presigned && claimedHash === UNSIGNED_PAYLOAD) {
    payloadHash = UNSIGNED_PAYLOAD;
  } else {
    payloadHash = bodySha256(req.body);
    if (claimedHash !== payloadHash) {
      throw Protocol.invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
  }

  let canonical = req.method + '\n' + canonicalUri(rawPath) + '\n' + canonicalQuery(params, auth.presigned) + '\n';
  for (let i = 0; i < signedNames.length; i++) {
    const name = signedNames[i]!;
    canonical += name + ':' + canonicalHeaderValue(headerValues(headers, name)) + '\n';
  }
  canonical += '\n' + auth.signedHeaders + '\n';

  const scope = cred.slice(s1 + 1);
  const key = signingKey(secret.secretAccessKey, scopeDate, scopeRegion, scopeService);
  const provided = auth.signature.length === 64 ? Buffer.from(auth.signature, 'hex') : undefined;
  // Buffer.from(…, 'hex') stops at the first non-hex character, so a short result means a malformed signature.
  const ok =
    provided !== undefined &&
    provided.length === 32 &&
    (signatureMatches(provided, key, auth.longDate, scope, canonical + payloadHash) ||
      (fallbackPayloadHash !== undefined && signatureMatches(provided, key, auth.longDate, scope, canonical + fallbackPayloadHash)));
  if (!ok) throw Protocol.invalidSignature(SIGNATURE_MISMATCH);

  const result: VerifiedRequest = {
    accessKeyId,
    service: scopeService,
    region: scopeRegion,
    signedAt: auth.signedAt,
  };
  if (auth.sessionToken !== undefined) result.sessionToken = auth.sessionToken;
  return result;
}

interface AuthParts {
  presigned: boolean;
  credential: string;
  signedHeaders: string;
  signature: string;
  /** YYYYMMDDTHHMMSSZ, exactly as it enters the string to sign. */
  longDate: string;
  signedAt: number;
  /** Header that carried the date and so must be signed ('x-amz-date' or 'date'); undefined when in the query. */
  dateHeader: 'x-amz-date' | 'date' | undefined;
  /** Presigned only: X-Amz-Expires in seconds. */
  expiresS: number;
  claimedPayloadHash: string | undefined;
  sessionToken: string | undefined;
}

function parseAuthorizationHeader(values: string[], headers: IncomingSignedRequest['headers']): AuthParts {
  if (values.length !== 1) throw Protocol.incompleteSignature('Only one Authorization header is allowed.');
  const value = values[0]!;
  let start = 0;
  while (start < value.length && isSpace(value.charCodeAt(start))) start++;
  let schemeEnd = start;
  while (schemeEnd < value.length && !isSpace(value.charCodeAt(schemeEnd))) schemeEnd++;
  const scheme = value.slice(start, schemeEnd);

  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  if (scheme === ALGORITHM) {
    // "Credential=…, SignedHeaders=…, Signature=…" in any order; clients differ in the spaces after the commas.
    let pos = schemeEnd;
    while (pos < value.length) {
      let end = value.indexOf(',', pos);
      if (end < 0) end = value.length;
      const eq = value.indexOf('=', pos);
      if (eq > pos && eq < end) {
        const name = value.slice(pos, eq).trim();
        const v = value.slice(eq + 1, end).trim();
        if (name === 'Credential') credential ??= v;
        else if (name === 'SignedHeaders') signedHeaders ??= v;
        else if (name === 'Signature') signature ??= v;
      }
      pos = end + 1;
    }
  } else if (/^AWS4-[A-Z0-9-]{1,40}$/.test(scheme)) {
    throw Protocol.incompleteSignature(`Unsupported AWS 'algorithm': '${scheme}'.`);
  }

  const amzDate = singleHeader(headers, 'x-amz-date');
  const httpDate = amzDate === undefined ? singleHeader(headers, 'date') : undefined;
  if (credential === undefined || signedHeaders === undefined || signature === undefined || (amzDate ?? httpDate) === undefined) {
    // AWS lists every missing part (and echoes the header, which we don't: it carries the signature).
    let message = '';
    if (credential === undefined) message += "Authorization header requires 'Credential' parameter. ";
    if (signature === undefined) message += "Authorization header requires 'Signature' parameter. ";
    if (signedHeaders === undefined) message += "Authorization header requires 'SignedHeaders' parameter. ";
    if ((amzDate ?? httpDate) === undefined) {
      message += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
    }
    throw Protocol.incompleteSignature(message.trimEnd());
  }

  let signedAt: number;
  let longDate: string;
  if (amzDate !== undefined) {
    signedAt = parseAmzDate(amzDate);
    longDate = amzDate;
  } else {
    // Only whole seconds enter the string to sign, so drop anything finer the parser might keep.
    signedAt = Date.parse(httpDate!);
    if (Number.isFinite(signedAt)) signedAt -= signedAt % 1000;
    longDate = Number.isFinite(signedAt) ? formatAmzDate(signedAt) : '';
  }
  if (!Number.isFinite(signedAt)) {
    throw Protocol.incompleteSignature(
      `Date must be in ISO-8601 'basic format'. Got '${echo(amzDate ?? httpDate ?? '')}'. See http://docs.aws.amazon.com/general/latest/gr/sigv4-date-handling.html`,
    );
  }

  const token = headerValues(headers, 'x-amz-security-token');
  return {
    presigned: false,
    credential,
    signedHeaders,
    signature,
    longDate,
    signedAt,
    dateHeader: amzDate !== undefined ? 'x-amz-date' : 'date',
    expiresS: 0,
    claimedPayloadHash: headerValues(headers, 'x-amz-content-sha256')?.join(','),
    sessionToken: token?.join(','),
  };
}

function parsePresignedQuery(params: readonly QueryParam[], headers: IncomingSignedRequest['headers']): AuthParts {
  const algorithm = paramValue(params, 'X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) {
    throw Protocol.incompleteSignature(`X-Amz-Algorithm only supports '${ALGORITHM}'.`);
  }
  const credential = paramValue(params, 'X-Amz-Credential');
  const amzDate = paramValue(params, 'X-Amz-Date');
  const expires = paramValue(params, 'X-Amz-Expires');
  const signedHeaders = paramValue(params, 'X-Amz-SignedHeaders');
  const signature = paramValue(params, 'X-Amz-Signature');
  const missing =
    credential === undefined ? 'X-Amz-Credential'
    : amzDate === undefined ? 'X-Amz-Date'
    : expires === undefined ? 'X-Amz-Expires'
    : signedHeaders === undefined ? 'X-Amz-SignedHeaders'
    : signature === undefined ? 'X-Amz-Signature'
    : undefined;
  if (missing !== undefined) {
    throw Protocol.incompleteSignature(`AWS query-string parameters must include '${missing}'. Re-examine the query-string parameters.`);
  }
  const signedAt = parseAmzDate(amzDate!);
  if (!Number.isFinite(signedAt)) {
    throw Protocol.incompleteSignature(
      `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'". Got '${echo(amzDate!)}'.`,
    );
  }
  const expiresS = /^[0-9]{1,7}$/.test(expires!) ? Number(expires) : NaN;
  if (!(expiresS >= 1 && expiresS <= MAX_PRESIGN_EXPIRES_S)) {
    throw Protocol.incompleteSignature(
      `X-Amz-Expires must be a whole number of seconds between 1 and ${MAX_PRESIGN_EXPIRES_S}. Got '${echo(expires!)}'.`,
    );
  }
  return {
    presigned: true,
    credential: credential!,
    signedHeaders: signedHeaders!,
    signature: signature!,
    longDate: amzDate!,
    signedAt,
    dateHeader: undefined,
    expiresS,
    // smithy hoists x-amz-* headers into the query when presigning (keeping their case) unless told not to, so the
    // claimed hash may arrive either way.
    claimedPayloadHash: paramValue(params, 'X-Amz-Content-Sha256', true) ?? headerValues(headers, 'x-amz-content-sha256')?.join(','),
    sessionToken: paramValue(params, 'X-Amz-Security-Token', true),
  };
}

function checkTime(auth: AuthParts, opts: VerifyOptions): void {
  const maxSkewMs = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const now = opts.nowMs;
  const minutes = () => `${Math.round((maxSkewMs / 60_000) * 1000) / 1000} min.`;
  // AWS's wording; the JS SDK recognises InvalidSignatureException as clock skew and corrects from our Date header.
  if (auth.signedAt - now > maxSkewMs) {
    throw Protocol.invalidSignature(
      `Signature not yet current: ${auth.longDate} is still later than ${formatAmzDate(now + maxSkewMs)} (${formatAmzDate(now)} + ${minutes()})`,
    );
  }
  if (auth.presigned) {
    const ttlMs = auth.expiresS * 1000;
    if (now - auth.signedAt > ttlMs) {
      throw Protocol.invalidSignature(
        `Signature expired: ${auth.longDate} is now earlier than ${formatAmzDate(now - ttlMs)} (${formatAmzDate(now)} - ${auth.expiresS} sec.)`,
      );
    }
  } else if (now - auth.signedAt > maxSkewMs) {
    throw Protocol.invalidSignature(
      `Signature expired: ${auth.longDate} is now earlier than ${formatAmzDate(now - maxSkewMs)} (${formatAmzDate(now)} - ${minutes()})`,
    );
  }
}

function signatureMatches(provided: Buffer, key: KeyObject, longDate: string, scope: string, canonicalRequest: string): boolean {
  const digest = sha256Hex(canonicalRequest);
  const expected = createHmac('sha256', key)
    .update(ALGORITHM + '\n' + longDate + '\n' + scope + '\n' + digest)
    .digest();
  return timingSafeEqual(expected, provided);
}

// ---------------------------------------------------------------------------------------------------------------
// Signing keys. Deriving one costs four HMACs; a client signs thousands of requests with the same key per day.

const KEY_CACHE_MAX = 256;
/** KeyObjects rather than Buffers: createHmac skips importing the key each time (about a third faster). */
const keyCache = new Map<string, KeyObject>();

function signingKey(secret: string, date: string, region: string, service: string): KeyObject {
  // The secret is part of the cache key so that a rotated secret never reuses a key derived from the old one.
  const cacheKey = date + '\n' + region + '\n' + service + '\n' + secret;
  const cached = keyCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const kDate = createHmac('sha256', 'AWS4' + secret).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  const kSigning = createSecretKey(createHmac('sha256', kService).update(TERMINATOR).digest());
  // Oldest-first eviction is enough: live keys are re-derived at most once per eviction, and the map stays small.
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(cacheKey, kSigning);
  return kSigning;
}

function bodySha256(body: Buffer): string {
  return body.length === 0 ? EMPTY_SHA256 : sha256Hex(body);
}

/** crypto.hash (Node >= 20.12) digests in one call, about twice as fast as createHash for inputs this small. */
const sha256Hex: (data: string | Buffer) => string =
  typeof nodeCrypto.hash === 'function'
    ? (data) => nodeCrypto.hash('sha256', data, 'hex')
    : (data) => createHash('sha256').update(data).digest('hex');

// ---------------------------------------------------------------------------------------------------------------
// Headers

function headerValues(headers: IncomingSignedRequest['headers'], name: string): string[] | undefined {
  const v = headers[name];
  // A name such as '__proto__' or 'constructor' in SignedHeaders must not pick up inherited properties.
  return Array.isArray(v) && v.length > 0 ? v : undefined;
}

function singleHeader(headers: IncomingSignedRequest['headers'], name: string): string | undefined {
  const v = headerValues(headers, name);
  return v === undefined ? undefined : v.length === 1 ? v[0] : v.join(',');
}

/**
 * Repeated headers are joined with ',' (botocore; smithy never sends repeats), and each value has runs of spaces
 * and tabs collapsed and the ends trimmed (smithy's rule; botocore's str.split() agrees on anything node accepts).
 */
function canonicalHeaderValue(values: string[] | undefined): string {
  if (values === undefined) return '';
  if (values.length === 1) return trimAll(values[0]!);
  let out = trimAll(values[0]!);
  for (let i = 1; i < values.length; i++) out += ',' + trimAll(values[i]!);
  return out;
}

const NEEDS_TRIM = /^[ \t]|[ \t]$|\t| {2}/;

function trimAll(v: string): string {
  if (!NEEDS_TRIM.test(v)) return v;
  const collapsed = v.replace(/[ \t]+/g, ' ');
  const from = collapsed.charCodeAt(0) === 32 ? 1 : 0;
  const to = collapsed.length > from && collapsed.charCodeAt(collapsed.length - 1) === 32 ? collapsed.length - 1 : collapsed.length;
  return collapsed.slice(from, to);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

// ---------------------------------------------------------------------------------------------------------------
// URI and query

/**
 * The path as the SDKs canonicalise it for non-S3 services: drop empty and '.' segments, resolve '..', keep a
 * leading and (if anything is left) a trailing '/', then percent-encode the *already encoded* wire path once more,
 * leaving '/' alone. This is smithy's getCanonicalPath with uriEscapePath and botocore's
 * quote(normalize_url_path(path), safe='/~'). Note it is not "decode, then encode twice": a wire path with an
 * unencoded sub-delimiter ('/a!b') or lower-case escapes ('/a%2fb') is signed by both clients as
 * '/a%21b' and '/a%252fb', which a decode/re-encode would turn into '/a%2521b' and '/a%252Fb'.
 */
function canonicalUri(rawPath: string): string {
  if (rawPath === '/') return rawPath;
  let path = rawPath;
  if (path.length === 0 || path.charCodeAt(0) !== 47) {
    // Absolute-form request target (through a proxy): the signature covers only the path.
    const scheme = path.indexOf('://');
    if (scheme >= 0) {
      const slash = path.indexOf('/', scheme + 3);
      path = slash < 0 ? '/' : path.slice(slash);
    }
  }
  if (path.length === 0) return '/';
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment.length === 0 || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const lead = path.charCodeAt(0) === 47 ? '/' : '';
  const trail = segments.length > 0 && path.charCodeAt(path.length - 1) === 47 ? '/' : '';
  return lead + escapeRfc3986(segments.join('/'), true) + trail;
}

interface QueryParam {
  /** Key and value in canonical form: percent-decoded, then re-encoded with only RFC 3986 unreserved left bare. */
  key: string;
  value: string;
}

const NO_PARAMS: readonly QueryParam[] = [];

function parseQuery(raw: string): QueryParam[] {
  const hash = raw.indexOf('#');
  const query = hash < 0 ? raw : raw.slice(0, hash);
  const params: QueryParam[] = [];
  let pos = 0;
  while (pos <= query.length) {
    let end = query.indexOf('&', pos);
    if (end < 0) end = query.length;
    // Empty pairs ('a=1&&b=2', a trailing '&') are artefacts of concatenation, never something a client signed.
    if (end > pos) {
      const eq = query.indexOf('=', pos);
      if (eq >= 0 && eq < end) {
        params.push({ key: recodeComponent(query.slice(pos, eq)), value: recodeComponent(query.slice(eq + 1, end)) });
      } else {
        // A key without '=' is signed as 'key=' (the SigV4 spec, botocore, AWS).
        params.push({ key: recodeComponent(query.slice(pos, end)), value: '' });
      }
    }
    pos = end + 1;
  }
  return params;
}

/**
 * Sorted by key, then value (both already encoded, so code-unit order is byte order). For presigned requests
 * X-Amz-Signature is left out, as it cannot sign itself.
 */
function canonicalQuery(params: readonly QueryParam[], presigned: boolean): string {
  if (params.length === 0) return '';
  let list = params;
  if (presigned) list = params.filter((p) => p.key.toLowerCase() !== 'x-amz-signature');
  if (list.length === 1) return list[0]!.key + '=' + list[0]!.value;
  const sorted = list === params ? params.slice() : (list as QueryParam[]);
  sorted.sort(compareParams);
  let out = '';
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i]!;
    out += (i === 0 ? '' : '&') + p.key + '=' + p.value;
  }
  return out;
}

function compareParams(a: QueryParam, b: QueryParam): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

function findParam(params: readonly QueryParam[], key: string, anyCase = false): QueryParam | undefined {
  for (let i = 0; i < params.length; i++) {
    const k = params[i]!.key;
    if (k === key || (anyCase && k.length === key.length && k.toLowerCase() === key.toLowerCase())) return params[i];
  }
  return undefined;
}

/**
 * The decoded value of a parameter whose name is made of unreserved characters (so its canonical form is itself).
 * `anyCase` is for headers that a presigner hoisted into the query under whatever case the caller gave them.
 */
function paramValue(params: readonly QueryParam[], key: string, anyCase = false): string | undefined {
  const p = findParam(params, key, anyCase);
  if (p === undefined) return undefined;
  try {
    return decodeURIComponent(p.value);
  } catch {
    // Not UTF-8 underneath: no client we serve produces that, so it can't be a valid auth parameter anyway.
    throw Protocol.incompleteSignature(`Query-string parameter '${key}' is not valid percent-encoded UTF-8.`);
  }
}

const HEX = '0123456789ABCDEF';

function isUnreserved(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126
  );
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function pctByte(b: number): string {
  return '%' + HEX[b >> 4]! + HEX[b & 15]!;
}

/**
 * Percent-encodes everything outside the RFC 3986 unreserved set (optionally keeping '/'), including '%' itself.
 * This is smithy's escapeUri / botocore's quote(…, safe='~'). Characters beyond ASCII (which node never hands us
 * in a request target) are encoded as UTF-8, as encodeURIComponent would.
 */
function escapeRfc3986(s: string, keepSlash: boolean): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isUnreserved(c) && !(keepSlash && c === 47)) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isUnreserved(c) || (keepSlash && c === 47)) out += s[i];
    else if (c < 0x80) out += pctByte(c);
    else {
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      out += encodeUtf8(cp);
    }
  }
  return out;
}

function encodeUtf8(cp: number): string {
  // Lone surrogates have no UTF-8 form; U+FFFD is what TextEncoder would substitute.
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  if (cp < 0x800) return pctByte(0xc0 | (cp >> 6)) + pctByte(0x80 | (cp & 63));
  if (cp < 0x10000) return pctByte(0xe0 | (cp >> 12)) + pctByte(0x80 | ((cp >> 6) & 63)) + pctByte(0x80 | (cp & 63));
  return (
    pctByte(0xf0 | (cp >> 18)) + pctByte(0x80 | ((cp >> 12) & 63)) + pctByte(0x80 | ((cp >> 6) & 63)) + pctByte(0x80 | (cp & 63))
  );
}

/**
 * A query component as received -> its canonical form, i.e. escapeUri(decodeURIComponent(raw)), done byte by byte
 * so that it never throws: valid escapes are decoded (and re-encoded in upper case unless unreserved), anything
 * else not unreserved is encoded. '+' is a literal plus (RFC 3986); the SDKs send spaces as %20.
 */
function recodeComponent(raw: string): string {
  let i = 0;
  for (; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (!isUnreserved(c)) break;
  }
  if (i === raw.length) return raw;
  let out = raw.slice(0, i);
  for (; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (isUnreserved(c)) {
      out += raw[i];
      continue;
    }
    if (c === 37 && i + 2 < raw.length) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        const b = (hi << 4) | lo;
        out += isUnreserved(b) ? String.fromCharCode(b) : pctByte(b);
        i += 2;
        continue;
      }
    }
    if (c < 0x80) out += pctByte(c);
    else {
      const cp = raw.codePointAt(i)!;
      if (cp > 0xffff) i++;
      out += encodeUtf8(cp);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Dates

/** 'YYYYMMDDTHHMMSSZ' -> ms since the epoch, NaN unless exactly that shape with in-range fields. */
function parseAmzDate(s: string): number {
  if (s.length !== 16 || s.charCodeAt(8) !== 84 /* T */ || s.charCodeAt(15) !== 90 /* Z */) return NaN;
  const year = digits(s, 0, 4);
  const month = digits(s, 4, 2);
  const day = digits(s, 6, 2);
  const hour = digits(s, 9, 2);
  const minute = digits(s, 11, 2);
  const second = digits(s, 13, 2);
  // NaN fails every comparison, so malformed digits fall out here too.
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59)) return NaN;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 20260231 over into March; a date that does not round-trip is not a real date.
  return new Date(ms).getUTCDate() === day ? ms : NaN;
}

function digits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

function formatAmzDate(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-01-01T00:00:00.000Z
  return iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
}

function echo(s: string): string {
  return s.length > MAX_ECHO ? s.slice(0, MAX_ECHO) + '…' : s;
}
