import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, HttpRequest, QueryParameterBag, SourceData } from '@smithy/types';
import { ApiError } from '../domain/errors.js';
import { verifySigV4, type IncomingSignedRequest, type VerifiedRequest, type VerifyOptions } from './sigv4.js';

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

const AKID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const REGION = 'us-east-1';
const HOST = '127.0.0.1:4566';
const NOW = Date.UTC(2026, 0, 1, 0, 0, 0);
const ECS_OPTS: VerifyOptions = { region: REGION, services: ['ecs'], nowMs: NOW };
const lookup = (id: string) => (id === AKID ? { secretAccessKey: SECRET } : undefined);
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key ' +
  'and signing method. Consult the service documentation for details.';

/** @aws-crypto/sha256-js is not installed; smithy only needs update/digest/reset. */
class NodeSha256 implements Checksum {
  private readonly secret: Buffer | undefined;
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : toBuffer(secret);
    this.hash = this.fresh();
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** What the SDKs put on the wire for a query component (smithy's escapeUri). */
function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function buildQuery(query: QueryParameterBag | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === null) parts.push(escapeUri(k));
    else for (const one of Array.isArray(v) ? v : [v]) parts.push(escapeUri(k) + '=' + escapeUri(one));
  }
  return parts.length === 0 ? '' : '?' + parts.join('&');
}

interface SignInput {
  method?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  service?: string;
  region?: string;
  akid?: string;
  secret?: string;
  sessionToken?: string;
  /** false = sign like the CLI/boto3 (no x-amz-content-sha256 header). */
  applyChecksum?: boolean;
  at?: number;
}

function signer(i: SignInput): SignatureV4 {
  const credentials =
    i.sessionToken === undefined
      ? { accessKeyId: i.akid ?? AKID, secretAccessKey: i.secret ?? SECRET }
      : { accessKeyId: i.akid ?? AKID, secretAccessKey: i.secret ?? SECRET, sessionToken: i.sessionToken };
  return new SignatureV4({
    service: i.service ?? 'ecs',
    region: i.region ?? REGION,
    sha256: NodeSha256,
    credentials,
    applyChecksum: i.applyChecksum ?? true,
  });
}

function toSmithy(i: SignInput): HttpRequest {
  const req: HttpRequest = {
    method: i.method ?? 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path: i.path ?? '/',
    query: i.query ?? {},
    headers: { host: HOST, ...i.headers },
  };
  if (i.body !== undefined) req.body = i.body;
  return req;
}

function toIncoming(signed: HttpRequest, body: Buffer | string | undefined): IncomingSignedRequest & { headers: Record<string, string[]> } {
  const headers: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(signed.headers)) (headers[k.toLowerCase()] ??= []).push(v);
  return {
    method: signed.method,
    url: signed.path + buildQuery(signed.query),
    headers,
    body: body === undefined ? Buffer.alloc(0) : Buffer.from(body),
  };
}

async function sign(i: SignInput) {
  const signed = await signer(i).sign(toSmithy(i), { signingDate: new Date(i.at ?? NOW) });
  return toIncoming(signed, i.body);
}

async function presign(i: SignInput & { expiresIn?: number; unhoistable?: string[] }) {
  const options: Parameters<SignatureV4['presign']>[1] = { signingDate: new Date(i.at ?? NOW), expiresIn: i.expiresIn ?? 300 };
  if (i.unhoistable !== undefined) options.unhoistableHeaders = new Set(i.unhoistable);
  const signed = await signer(i).presign(toSmithy(i), options);
  return toIncoming(signed, i.body);
}

const ECS_BODY = JSON.stringify({ cluster: 'default', taskDefinition: 'web:3', count: 1, launchType: 'EC2' });

/** The headers the JS SDK v3 sends for an ECS call (it then adds x-amz-content-sha256 and x-amz-date). */
function jsSdkHeaders(body: string, target = 'RunTask'): Record<string, string> {
  return {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': `AmazonEC2ContainerServiceV20141113.${target}`,
    'content-length': String(Buffer.byteLength(body)),
    'amz-sdk-invocation-id': '0b8a7f6e-2b55-4a57-9f3c-1f3c2a1b0c9d',
    'amz-sdk-request': 'attempt=1; max=3',
    'x-amz-user-agent': 'aws-sdk-js/3.1164.0',
    'user-agent': 'aws-sdk-js/3.1164.0 ua/2.1 os/linux#6.1 lang/js md/nodejs#20.19.0 api/ecs#3.1164.0',
  };
}

function jsStyle(body = ECS_BODY, extra: Partial<SignInput> = {}) {
  return sign({ headers: jsSdkHeaders(body), body, ...extra });
}

/** Like the CLI/boto3: only content-type, host, x-amz-date and x-amz-target are signed; the rest ride along. */
async function cliStyle(body = ECS_BODY, extra: Partial<SignInput> = {}) {
  const req = await sign({
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.RunTask' },
    body,
    applyChecksum: false,
    ...extra,
  });
  req.headers['user-agent'] = ['aws-cli/2.9.19 Python/3.11.2 Linux/6.1 source/x86_64.debian.12 prompt/off command/ecs.run-task'];
  req.headers['content-length'] = [String(Buffer.byteLength(body))];
  req.headers['accept-encoding'] = ['identity'];
  return req;
}

function signedHeaderList(req: IncomingSignedRequest): string[] {
  const auth = req.headers['authorization']?.[0] ?? '';
  return /SignedHeaders=([^,\s]+)/.exec(auth)?.[1]?.split(';') ?? [];
}

function expectError(fn: () => unknown, code: string, message?: string | RegExp): ApiError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ApiError, `expected ApiError ${code}, got ${caught === undefined ? 'no error' : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.status, 400);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else if (message !== undefined) assert.match(caught.message, message);
  return caught;
}

function withAuth(req: IncomingSignedRequest, edit: (auth: string) => string): IncomingSignedRequest {
  const headers: Record<string, string[] | undefined> = { ...req.headers };
  headers['authorization'] = [edit(req.headers['authorization']?.[0] ?? '')];
  return { ...req, headers };
}

function withHeader(req: IncomingSignedRequest, name: string, value: string | undefined): IncomingSignedRequest {
  const headers: Record<string, string[] | undefined> = { ...req.headers };
  if (value === undefined) delete headers[name];
  else headers[name] = [value];
  return { ...req, headers };
}

/** An independent, spec-by-the-letter signer for the cases smithy cannot produce (Date header, repeated headers). */
function referenceSignature(canonicalRequest: string, longDate: string, scope: string, secret = SECRET): string {
  const [date, region, service] = scope.split('/') as [string, string, string];
  const h = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const key = h(h(h(h('AWS4' + secret, date), region), service), 'aws4_request');
  const sts = ['AWS4-HMAC-SHA256', longDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  return createHmac('sha256', key).update(sts).digest('hex');
}

// ---------------------------------------------------------------------------------------------------------------

describe('requests that verify', () => {
  test('JSON 1.1 POST as the JS SDK signs it (nine headers incl. x-amz-content-sha256)', async () => {
    const req = await jsStyle();
    assert.deepEqual(signedHeaderList(req), [
      'amz-sdk-invocation-id', 'amz-sdk-request', 'content-length', 'content-type', 'host',
      'x-amz-content-sha256', 'x-amz-date', 'x-amz-target', 'x-amz-user-agent',
    ]);
    const v = verifySigV4(req, ECS_OPTS, lookup);
    assert.deepEqual(v, { accessKeyId: AKID, service: 'ecs', region: REGION, signedAt: NOW } satisfies VerifiedRequest);
  });

  test('JSON 1.1 POST as the CLI/boto3 sign it (four headers, no content hash header)', async () => {
    const req = await cliStyle();
    assert.deepEqual(signedHeaderList(req), ['content-type', 'host', 'x-amz-date', 'x-amz-target']);
    assert.equal(req.headers['x-amz-content-sha256'], undefined);
    assert.equal(verifySigV4(req, ECS_OPTS, lookup).accessKeyId, AKID);
  });

  test('empty input {} and an empty body', async () => {
    verifySigV4(await jsStyle('{}'), ECS_OPTS, lookup);
    verifySigV4(await cliStyle('{}'), ECS_OPTS, lookup);
    verifySigV4(await sign({ method: 'GET', headers: {}, applyChecksum: false }), ECS_OPTS, lookup);
  });

  test('ECR scope against an ECR endpoint; a server may accept several services', async () => {
    const req = await jsStyle('{}', { service: 'ecr' });
    assert.equal(verifySigV4(req, { ...ECS_OPTS, services: ['ecr'] }, lookup).service, 'ecr');
    assert.equal(verifySigV4(req, { ...ECS_OPTS, services: ['ecs', 'ecr'] }, lookup).service, 'ecr');
  });

  test('session token is returned (header form)', async () => {
    const req = await jsStyle(ECS_BODY, { sessionToken: 'FwoGZXIvYXdzEJr//////////token' });
    assert.ok(signedHeaderList(req).includes('x-amz-security-token'));
    assert.equal(verifySigV4(req, ECS_OPTS, lookup).sessionToken, 'FwoGZXIvYXdzEJr//////////token');
  });

  test('edges of the clock-skew window are accepted', async () => {
    const req = await jsStyle();
    verifySigV4(req, { ...ECS_OPTS, nowMs: NOW + 5 * 60_000 }, lookup);
    verifySigV4(req, { ...ECS_OPTS, nowMs: NOW - 5 * 60_000 }, lookup);
    verifySigV4(req, { ...ECS_OPTS, nowMs: NOW + 15 * 60_000, maxSkewMs: 15 * 60_000 }, lookup);
  });

  test('presigned GET with query parameters (repeated keys, reserved characters, unicode)', async () => {
    const req = await presign({
      method: 'GET',
      path: '/v2/_catalog',
      query: { n: '100', last: 'my repo/with+plus', tag: ['b', 'a', 'a b'], "k!'()*": '✓ ü', empty: '' },
      headers: {},
    });
    assert.match(req.url, /X-Amz-Signature=[0-9a-f]{64}/);
    assert.equal(req.headers['authorization'], undefined);
    const v = verifySigV4(req, { ...ECS_OPTS, nowMs: NOW + 60_000 }, lookup);
    assert.equal(v.signedAt, NOW);
    assert.equal(v.sessionToken, undefined);
  });

  test('presigned WebSocket upgrade with a session token; hop-by-hop and sec-* headers are not signed', async () => {
    const req = await presign({
      method: 'GET',
      path: '/ws',
      query: { clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/default', seqNum: '1' },
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-version': '13',
      },
      sessionToken: 'tok/en+=',
      expiresIn: 60,
    });
    assert.deepEqual(new URLSearchParams(req.url.slice(req.url.indexOf('?'))).get('X-Amz-SignedHeaders'), 'host');
    const v = verifySigV4(req, { ...ECS_OPTS, nowMs: NOW + 59_000 }, lookup);
    assert.equal(v.sessionToken, 'tok/en+=');
  });

  test('presigned with UNSIGNED-PAYLOAD (hoisted into the query, or left as a header) accepts any body', async () => {
    const hoisted = await presign({ method: 'PUT', path: '/up', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    assert.match(hoisted.url, /[?&]x-amz-content-sha256=UNSIGNED-PAYLOAD&/);
    verifySigV4({ ...hoisted, body: Buffer.from('anything') }, ECS_OPTS, lookup);
    const header = await presign({
      method: 'PUT', path: '/up', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, unhoistable: ['x-amz-content-sha256'],
    });
    assert.deepEqual(header.headers['x-amz-content-sha256'], ['UNSIGNED-PAYLOAD']);
    verifySigV4({ ...header, body: Buffer.from('anything') }, ECS_OPTS, lookup);
  });

  test('presigned, bodiless, signed S3-style with UNSIGNED-PAYLOAD but without saying so', () => {
    const longDate = '20260101T000000Z';
    const scope = `20260101/${REGION}/ecs/aws4_request`;
    const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${AKID}%2F${scope.replaceAll('/', '%2F')}` +
      `&X-Amz-Date=${longDate}&X-Amz-Expires=60&X-Amz-SignedHeaders=host`;
    const canonical = `GET\n/ws\n${query}\nhost:${HOST}\n\nhost\nUNSIGNED-PAYLOAD`;
    const req = { method: 'GET', url: `/ws?${query}&X-Amz-Signature=${referenceSignature(canonical, longDate, scope)}`, headers: { host: [HOST] }, body: Buffer.alloc(0) };
    verifySigV4(req, ECS_OPTS, lookup);
    // …but a body is never waved through on that guess.
    expectError(() => verifySigV4({ ...req, body: Buffer.from('x') }, ECS_OPTS, lookup), 'InvalidSignatureException', MISMATCH);
  });

  test('paths with special characters, dot segments and empty segments (wire path as the SDK sends it)', async () => {
    const paths = [
      '/v2/my-repo/manifests/sha256:0123abcd',
      '/v2/' + escapeUri('my repo') + '/blobs/' + escapeUri('a+b=c&d'),
      '/' + escapeUri('✓ ü 日本') + '/x',
      '/a%2Fb/%2fc', // an encoded slash stays part of its segment; lower-case escapes are not normalised
      "/a!b*c'(d)$e,f;g=h:i@j", // sub-delimiters left bare on the wire are encoded for signing
      '/a/./b/../c//d/',
      '/../a/..',
      '/trailing/',
      '//',
      '/~user/-_.',
      '/%25percent',
    ];
    for (const path of paths) {
      const req = await sign({ method: 'GET', path, headers: {}, applyChecksum: false });
      assert.ok(req.url.startsWith(path), path);
      assert.doesNotThrow(() => verifySigV4(req, ECS_OPTS, lookup), path);
      const withQuery = await sign({ method: 'GET', path, query: { 'a b': 'c/d', z: '' }, headers: {} });
      assert.doesNotThrow(() => verifySigV4(withQuery, ECS_OPTS, lookup), path + ' with query');
    }
  });

  test('query canonicalisation does not depend on how the client escaped it', async () => {
    const req = await sign({ method: 'GET', path: '/q', query: { 'a b': 'x~y', c: '1' }, headers: {} });
    assert.equal(req.url, '/q?a%20b=x~y&c=1');
    // Same parameters, differently (but equivalently) escaped and ordered on the wire.
    verifySigV4({ ...req, url: '/q?c=%31&a%20b=x%7ey' }, ECS_OPTS, lookup);
  });

  test('header values: inner runs of spaces collapse, ends trimmed, repeats joined with a comma', async () => {
    const req = await sign({ headers: { ...jsSdkHeaders('{}'), 'x-custom': 'a   b \t c' }, body: '{}' });
    verifySigV4(req, ECS_OPTS, lookup);
    // Repeated headers (botocore would join them with ',') cannot come from smithy: sign by the book instead.
    const longDate = '20260101T000000Z';
    const scope = `20260101/${REGION}/ecs/aws4_request`;
    const canonical = `POST\n/\n\nhost:${HOST}\nx-amz-date:${longDate}\nx-multi:a b,c d\n\nhost;x-amz-date;x-multi\n${createHash('sha256').update('{}').digest('hex')}`;
    const sig = referenceSignature(canonical, longDate, scope);
    const multi = {
      method: 'POST', url: '/', body: Buffer.from('{}'),
      headers: {
        host: [HOST], 'x-amz-date': [longDate], 'x-multi': [' a   b', 'c\t\td '],
        authorization: [`AWS4-HMAC-SHA256 Credential=${AKID}/${scope},SignedHeaders=host;x-amz-date;x-multi,Signature=${sig}`],
      },
    };
    verifySigV4(multi, ECS_OPTS, lookup);
  });

  test('Date header instead of X-Amz-Date', () => {
    const date = 'Thu, 01 Jan 2026 00:00:00 GMT';
    const longDate = '20260101T000000Z';
    const scope = `20260101/${REGION}/ecs/aws4_request`;
    const canonical = `POST\n/\n\ndate:${date}\nhost:${HOST}\n\ndate;host\n${createHash('sha256').update('{}').digest('hex')}`;
    const req = {
      method: 'POST', url: '/', body: Buffer.from('{}'),
      headers: {
        host: [HOST], date: [date],
        authorization: [`AWS4-HMAC-SHA256   Credential=${AKID}/${scope} ,  SignedHeaders=date;host ,Signature=${referenceSignature(canonical, longDate, scope)}`],
      },
    };
    assert.equal(verifySigV4(req, ECS_OPTS, lookup).signedAt, NOW);
  });

  test('Authorization parameters in any order', async () => {
    const req = await jsStyle();
    const parts = /^AWS4-HMAC-SHA256 (.*)$/.exec(req.headers['authorization']![0]!)![1]!.split(', ');
    verifySigV4(withAuth(req, () => `AWS4-HMAC-SHA256 ${[...parts].reverse().join(',')}`), ECS_OPTS, lookup);
  });

  test('a rotated secret is not served from the derived-key cache', async () => {
    const req = await jsStyle();
    verifySigV4(req, ECS_OPTS, lookup);
    expectError(() => verifySigV4(req, ECS_OPTS, () => ({ secretAccessKey: 'rotated' })), 'InvalidSignatureException', MISMATCH);
  });
});

describe('requests that are refused', () => {
  test('no Authorization header and no presigned query: MissingAuthenticationToken', async () => {
    const req = withHeader(await jsStyle(), 'authorization', undefined);
    expectError(() => verifySigV4(req, ECS_OPTS, lookup), 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    expectError(
      () => verifySigV4({ ...req, url: '/?X-Amz-Signature=00' }, ECS_OPTS, lookup),
      'MissingAuthenticationTokenException',
    );
  });

  test('malformed Authorization header: IncompleteSignature naming what is missing, never echoing the signature', async () => {
    const req = await jsStyle();
    const sig = /Signature=([0-9a-f]{64})/.exec(req.headers['authorization']![0]!)![1]!;
    const noCred = expectError(
      () => verifySigV4(withAuth(req, (a) => a.replace(/Credential=[^,]*, /, '')), ECS_OPTS, lookup),
      'IncompleteSignatureException',
      "Authorization header requires 'Credential' parameter.",
    );
    assert.ok(!noCred.message.includes(sig));
    expectError(
      () => verifySigV4(withAuth(req, (a) => a.replace(/, Signature=.*/, '')), ECS_OPTS, lookup),
      'IncompleteSignatureException',
      "Authorization header requires 'Signature' parameter.",
    );
    expectError(
      () => verifySigV4(withAuth(req, (a) => a.replace(/SignedHeaders=[^,]*, /, '')), ECS_OPTS, lookup),
      'IncompleteSignatureException',
      "Authorization header requires 'SignedHeaders' parameter.",
    );
    const bearer = expectError(
      () => verifySigV4(withAuth(req, () => `Bearer ${sig}`), ECS_OPTS, lookup),
      'IncompleteSignatureException',
      /requires 'Credential'.*requires 'Signature'.*requires 'SignedHeaders'/,
    );
    assert.ok(!bearer.message.includes(sig));
    expectError(
      () => verifySigV4(withAuth(req, (a) => a.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256')), ECS_OPTS, lookup),
      'IncompleteSignatureException',
      "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'.",
    );
    expectError(
      () => verifySigV4(withAuth(req, (a) => a.replace(`${AKID}/`, '')), ECS_OPTS, lookup),
      'IncompleteSignatureException',
      /^Credential must have exactly 5 slash-delimited elements/,
    );
    expectError(
      () => verifySigV4({ ...req, headers: { ...req.headers, authorization: [req.headers['authorization']![0]!, 'x'] } }, ECS_OPTS, lookup),
      'IncompleteSignatureException',
    );
  });

  test('missing or unparseable X-Amz-Date: IncompleteSignature', async () => {
    const req = await jsStyle();
    expectError(
      () => verifySigV4(withHeader(req, 'x-amz-date', undefined), ECS_OPTS, lookup),
      'IncompleteSignatureException',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
    for (const bad of ['2026-01-01T00:00:00Z', '20260231T000000Z', '20260101T240000Z', '20260101T000000', 'yesterday']) {
      expectError(() => verifySigV4(withHeader(req, 'x-amz-date', bad), ECS_OPTS, lookup), 'IncompleteSignatureException', /ISO-8601/);
    }
  });

  test('host, and the header carrying the date, must be signed', async () => {
    const req = await jsStyle();
    expectError(
      () => verifySigV4(withAuth(req, (a) => a.replace(';host;', ';')), ECS_OPTS, lookup),
      'IncompleteSignatureException',
      "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    );
    expectError(
      () => verifySigV4(withAuth(req, (a) => a.replace(';x-amz-date;', ';')), ECS_OPTS, lookup),
      'IncompleteSignatureException',
      "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
    );
  });

  test('Authorization header and presigned query together', async () => {
    const req = await jsStyle();
    expectError(() => verifySigV4({ ...req, url: '/?X-Amz-Algorithm=AWS4-HMAC-SHA256' }, ECS_OPTS, lookup), 'IncompleteSignatureException');
  });

  test('unknown access key: UnrecognizedClient', async () => {
    const req = await jsStyle(ECS_BODY, { akid: 'AKIDUNKNOWN' });
    expectError(
      () => verifySigV4(req, ECS_OPTS, lookup),
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  });

  test('wrong secret: InvalidSignature mismatch', async () => {
    const req = await jsStyle(ECS_BODY, { secret: 'not-the-secret' });
    expectError(() => verifySigV4(req, ECS_OPTS, lookup), 'InvalidSignatureException', MISMATCH);
  });

  test('tampered body', async () => {
    // Without a content-hash header the signature itself catches it…
    const cli = await cliStyle();
    expectError(() => verifySigV4({ ...cli, body: Buffer.from(ECS_BODY.replace('1', '9')) }, ECS_OPTS, lookup), 'InvalidSignatureException', MISMATCH);
    // …with one, the header no longer matches the bytes.
    const js = await jsStyle();
    expectError(
      () => verifySigV4({ ...js, body: Buffer.from(ECS_BODY.replace('1', '9')) }, ECS_OPTS, lookup),
      'InvalidSignatureException',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  });

  test('x-amz-content-sha256 that does not match the body (incl. UNSIGNED-PAYLOAD outside presigned URLs)', async () => {
    const js = await jsStyle();
    const other = createHash('sha256').update('other').digest('hex');
    for (const claimed of [other, 'UNSIGNED-PAYLOAD', other.toUpperCase(), '']) {
      expectError(
        () => verifySigV4(withHeader(js, 'x-amz-content-sha256', claimed), ECS_OPTS, lookup),
        'InvalidSignatureException',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    }
  });

  test('tampered signed header, path, query or method; unsigned headers may change', async () => {
    const js = await jsStyle();
    expectError(
      () => verifySigV4(withHeader(js, 'x-amz-target', 'AmazonEC2ContainerServiceV20141113.StopTask'), ECS_OPTS, lookup),
      'InvalidSignatureException',
      MISMATCH,
    );
    expectError(() => verifySigV4(withHeader(js, 'host', 'evil:4566'), ECS_OPTS, lookup), 'InvalidSignatureException', MISMATCH);
    expectError(() => verifySigV4({ ...js, url: '/x' }, ECS_OPTS, lookup), 'InvalidSignatureException', MISMATCH);
    expectError(() => verifySigV4({ ...js, url: '/?a=b' }, ECS_OPTS, lookup), 'InvalidSignatureException', MISMATCH);
    expectError(() => verifySigV4({ ...js, method: 'PUT' }, ECS_OPTS, lookup), 'InvalidSignatureException', MISMATCH);
    verifySigV4(withHeader(js, 'user-agent', 'something else'), ECS_OPTS, lookup);
    const cli = await cliStyle();
    verifySigV4(withHeader(cli, 'content-length', '1'), ECS_OPTS, lookup);
    expectError(() => verifySigV4(withHeader(cli, 'content-type', 'application/json'), ECS_OPTS, lookup), 'InvalidSignatureException', MISMATCH);
  });

  test('malformed signature value', async () => {
    const js = await jsStyle();
    for (const bad of ['', 'zz', '0'.repeat(64), 'g'.repeat(64), '0'.repeat(63), '0'.repeat(65)]) {
      expectError(() => verifySigV4(withAuth(js, (a) => a.replace(/Signature=.*/, `Signature=${bad}`)), ECS_OPTS, lookup), 'InvalidSignatureException', MISMATCH);
    }
  });

  test('credential scoped to another region', async () => {
    const req = await jsStyle(ECS_BODY, { region: 'eu-west-1' });
    expectError(
      () => verifySigV4(req, ECS_OPTS, lookup),
      'InvalidSignatureException',
      'Credential should be scoped to a valid region. ',
    );
  });

  test('credential scoped to another service', async () => {
    const req = await jsStyle(ECS_BODY, { service: 'ecr' });
    expectError(() => verifySigV4(req, ECS_OPTS, lookup), 'InvalidSignatureException', "Credential should be scoped to correct service: 'ecs'. ");
  });

  test('credential scope date or terminator wrong', async () => {
    const req = await jsStyle();
    expectError(
      () => verifySigV4(withAuth(req, (a) => a.replace('/20260101/', '/20251231/')), ECS_OPTS, lookup),
      'InvalidSignatureException',
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20251231' != '20260101', from '20260101T000000Z'.",
    );
    expectError(
      () => verifySigV4(withAuth(req, (a) => a.replace('/aws4_request', '/aws4_reques')), ECS_OPTS, lookup),
      'InvalidSignatureException',
      "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reques'. ",
    );
  });

  test('clock skew beyond five minutes, both directions, in AWS wording', async () => {
    const req = await jsStyle();
    expectError(
      () => verifySigV4(req, { ...ECS_OPTS, nowMs: NOW + 10 * 60_000 }, lookup),
      'InvalidSignatureException',
      'Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z (20260101T001000Z - 5 min.)',
    );
    expectError(
      () => verifySigV4(req, { ...ECS_OPTS, nowMs: NOW - 10 * 60_000 }, lookup),
      'InvalidSignatureException',
      'Signature not yet current: 20260101T000000Z is still later than 20251231T235500Z (20251231T235000Z + 5 min.)',
    );
    expectError(() => verifySigV4(req, { ...ECS_OPTS, nowMs: NOW + 5 * 60_000 + 1 }, lookup), 'InvalidSignatureException', /^Signature expired/);
    expectError(() => verifySigV4(req, { ...ECS_OPTS, nowMs: NOW + 61_000, maxSkewMs: 60_000 }, lookup), 'InvalidSignatureException', /- 1 min\.\)$/);
  });

  test('presigned: expired, not yet valid, missing or malformed parameters, tampered query', async () => {
    const req = await presign({ method: 'GET', path: '/ws', query: { a: '1' }, headers: {}, expiresIn: 300 });
    verifySigV4(req, { ...ECS_OPTS, nowMs: NOW + 300_000 }, lookup);
    expectError(() => verifySigV4(req, { ...ECS_OPTS, nowMs: NOW + 300_001 }, lookup), 'InvalidSignatureException', /^Signature expired/);
    expectError(() => verifySigV4(req, { ...ECS_OPTS, nowMs: NOW - 301_000 }, lookup), 'InvalidSignatureException', /^Signature not yet current/);
    expectError(() => verifySigV4({ ...req, url: req.url.replace('a=1', 'a=2') }, ECS_OPTS, lookup), 'InvalidSignatureException', MISMATCH);
    expectError(() => verifySigV4({ ...req, url: req.url.replace('X-Amz-Expires=300', 'X-Amz-Expires=3000') }, ECS_OPTS, lookup), 'InvalidSignatureException', MISMATCH);
    expectError(
      () => verifySigV4({ ...req, url: req.url.replace(/&X-Amz-Signature=[0-9a-f]+/, '') }, ECS_OPTS, lookup),
      'IncompleteSignatureException',
      "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters.",
    );
    expectError(
      () => verifySigV4({ ...req, url: req.url.replace(/X-Amz-Credential=[^&]+&/, '') }, ECS_OPTS, lookup),
      'IncompleteSignatureException',
      "AWS query-string parameters must include 'X-Amz-Credential'. Re-examine the query-string parameters.",
    );
    expectError(() => verifySigV4({ ...req, url: req.url.replace('X-Amz-Expires=300', 'X-Amz-Expires=604801') }, ECS_OPTS, lookup), 'IncompleteSignatureException');
    expectError(() => verifySigV4({ ...req, url: req.url.replace('X-Amz-Expires=300', 'X-Amz-Expires=-1') }, ECS_OPTS, lookup), 'IncompleteSignatureException');
    expectError(() => verifySigV4({ ...req, url: req.url.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1') }, ECS_OPTS, lookup), 'IncompleteSignatureException');
    expectError(() => verifySigV4({ ...req, body: Buffer.from('x') }, ECS_OPTS, lookup), 'InvalidSignatureException', MISMATCH);
    const unknown = await presign({ method: 'GET', path: '/ws', headers: {}, akid: 'AKIDUNKNOWN' });
    expectError(() => verifySigV4(unknown, ECS_OPTS, lookup), 'UnrecognizedClientException');
  });

  test('inherited property names in SignedHeaders do not crash the verifier', async () => {
    const req = await jsStyle();
    expectError(
      () => verifySigV4(withAuth(req, (a) => a.replace('SignedHeaders=', 'SignedHeaders=__proto__;constructor;')), ECS_OPTS, lookup),
      'InvalidSignatureException',
      MISMATCH,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('randomised round trips', () => {
  /** mulberry32: deterministic, so a failure reproduces. */
  function rng(seed: number) {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const ALPHABET = ['a', 'Z', '0', '-', '_', '.', '~', ' ', '/', '+', '%', '&', '=', '?', '#', '!', '*', "'", '(', ')', ':', '@', 'é', '✓', '😀'];

  test('random bodies, paths, queries and header values verify; a flipped bit does not', async () => {
    const rand = rng(20260101);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const str = (max: number) => Array.from({ length: Math.floor(rand() * max) }, () => pick(ALPHABET)).join('');
    for (let i = 0; i < 300; i++) {
      const body = Buffer.from(Array.from({ length: Math.floor(rand() * 600) }, () => Math.floor(rand() * 256)));
      const segments = Array.from({ length: Math.floor(rand() * 4) }, () => (rand() < 0.2 ? pick(['.', '..', '']) : escapeUri(str(8))));
      const path = '/' + segments.join('/') + (rand() < 0.3 ? '/' : '');
      const query: Record<string, string | string[]> = {};
      for (let q = Math.floor(rand() * 4); q > 0; q--) {
        const key = 'k' + str(5);
        query[key] = rand() < 0.2 ? [str(5), str(5)] : str(10);
      }
      const headers = { ...jsSdkHeaders(''), 'content-length': String(body.length), 'x-extra': 'v' + str(12) + 'v' };
      const style = pick(['js', 'cli', 'presigned'] as const);
      const at = NOW + Math.floor(rand() * 86_400_000);
      const opts = { ...ECS_OPTS, nowMs: at + Math.floor(rand() * 200_000) - 100_000 };
      const req =
        style === 'presigned'
          ? await presign({ method: 'GET', path, query, headers: {}, at, body })
          : await sign({ method: pick(['POST', 'GET', 'PUT']), path, query, headers, body, at, applyChecksum: style === 'js' });
      try {
        verifySigV4(req, opts, lookup);
      } catch (e) {
        assert.fail(`case ${i} (${style}) ${req.method} ${req.url}: ${String(e)}`);
      }
      if (body.length > 0) {
        const flipped = Buffer.from(body);
        const at2 = Math.floor(rand() * flipped.length);
        flipped[at2] = flipped[at2]! ^ (1 << Math.floor(rand() * 8));
        expectError(() => verifySigV4({ ...req, body: flipped }, opts, lookup), 'InvalidSignatureException');
      }
      const auth = req.headers['authorization']?.[0];
      if (auth !== undefined) {
        const last = auth.at(-1) === '0' ? '1' : '0';
        expectError(() => verifySigV4(withAuth(req, () => auth.slice(0, -1) + last), opts, lookup), 'InvalidSignatureException', MISMATCH);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Other signers: botocore's SigV4Auth directly, and the real clients end to end. Each is skipped when unavailable.

const PYTHON = '/usr/bin/python3';
const hasBotocore = spawnSync(PYTHON, ['-c', 'import botocore'], { stdio: 'ignore' }).status === 0;
const hasBoto3 = hasBotocore && spawnSync(PYTHON, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;
const hasAwsCli = spawnSync('/usr/bin/aws', ['--version'], { stdio: 'ignore' }).status === 0;

function run(file: string, args: string[], input: string, env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: env ?? process.env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

const BOTOCORE_SIGN = `
import sys, json, base64
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
out = []
for c in json.load(sys.stdin):
    req = AWSRequest(method=c['method'], url=c['url'], data=base64.b64decode(c['body']), headers=c['headers'])
    creds = Credentials(c['akid'], c['secret'], c.get('token'))
    if c['presign']:
        SigV4QueryAuth(creds, c['service'], c['region'], expires=300).add_auth(req)
    else:
        SigV4Auth(creds, c['service'], c['region']).add_auth(req)
    out.append({'url': req.url, 'headers': list(req.headers.items())})
print(json.dumps(out))
`;

test('botocore SigV4Auth / SigV4QueryAuth signatures verify', { skip: hasBotocore ? false : 'botocore not importable' }, async () => {
  const body = Buffer.from(ECS_BODY);
  const cases = [
    { method: 'POST', path: '/', body, presign: false, token: null,
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AmazonEC2ContainerServiceV20141113.RunTask' } },
    { method: 'POST', path: '/', body, presign: false, token: 'session/token=',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AmazonEC2ContainerServiceV20141113.ListClusters', 'X-Pad': '  a   b  ' } },
    { method: 'GET', path: '/v2/' + escapeUri('my repo') + "/a!b/./c/../d//e%2Fé/", body: Buffer.alloc(0), presign: false, token: null,
      headers: {}, query: 'b=2&a=1&a=0&sp=x%20y&u=%C3%A9' },
    { method: 'GET', path: '/ws', body: Buffer.alloc(0), presign: true, token: 'tok', headers: {}, query: 'clusterArn=arn%3Aaws%3Aecs&seq=1' },
    { method: 'GET', path: '', body: Buffer.alloc(0), presign: false, token: null, headers: {} },
  ];
  const input = cases.map((c) => ({
    method: c.method,
    url: `http://${HOST}${c.path.replace('é', '%C3%A9')}${c.query === undefined ? '' : '?' + c.query}`,
    body: c.body.toString('base64'),
    headers: c.headers,
    akid: AKID, secret: SECRET, token: c.token, presign: c.presign, service: 'ecs', region: REGION,
  }));
  const r = await run(PYTHON, ['-c', BOTOCORE_SIGN], JSON.stringify(input));
  assert.equal(r.code, 0, r.stderr);
  const signed = JSON.parse(r.stdout) as { url: string; headers: [string, string][] }[];
  signed.forEach((s, i) => {
    const headers: Record<string, string[]> = { host: [HOST] };
    for (const [k, v] of s.headers) (headers[k.toLowerCase()] ??= []).push(v);
    const u = new URL(s.url);
    const req = { method: cases[i]!.method, url: (u.pathname || '/') + u.search, headers, body: cases[i]!.body };
    const v = verifySigV4(req, { ...ECS_OPTS, nowMs: Date.now() }, lookup);
    assert.equal(v.sessionToken, cases[i]!.token ?? undefined, `case ${i}`);
  });
  const first = signed[0]!.headers.find(([k]) => k === 'Authorization')![1];
  assert.match(first, /SignedHeaders=content-type;host;x-amz-date;x-amz-target,/);
});

/** A loopback server that verifies every request and answers like an ECS endpoint would. */
async function withVerifyingServer(fn: (endpoint: string, seen: (VerifiedRequest | ApiError)[]) => Promise<void>) {
  const seen: (VerifiedRequest | ApiError)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let status = 200;
      let body = '{"clusterArns":[]}';
      try {
        const incoming = { method: req.method ?? '', url: req.url ?? '', headers: req.headersDistinct, body: Buffer.concat(chunks) };
        seen.push(verifySigV4(incoming, { ...ECS_OPTS, nowMs: Date.now() }, lookup));
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        seen.push(e);
        status = e.status;
        body = JSON.stringify({ __type: e.code, message: e.message });
      }
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'test', date: new Date().toUTCString() });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const realClientEnv = (home: string): NodeJS.ProcessEnv => ({
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  HOME: home,
  AWS_ACCESS_KEY_ID: AKID,
  AWS_SECRET_ACCESS_KEY: SECRET,
  AWS_SESSION_TOKEN: 'real-client-token',
  AWS_DEFAULT_REGION: REGION,
  AWS_CONFIG_FILE: join(home, 'config'),
  AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
  AWS_MAX_ATTEMPTS: '1',
  AWS_EC2_METADATA_DISABLED: 'true',
});

test('the real JS SDK (@aws-sdk/client-ecs) is verified', async (t) => {
  let sdk: typeof import('@aws-sdk/client-ecs');
  try {
    sdk = await import('@aws-sdk/client-ecs');
  } catch {
    t.skip('@aws-sdk/client-ecs not installed');
    return;
  }
  await withVerifyingServer(async (endpoint, seen) => {
    const client = new sdk.ECSClient({
      endpoint, region: REGION, maxAttempts: 1,
      credentials: { accessKeyId: AKID, secretAccessKey: SECRET, sessionToken: 'js-token' },
    });
    await client.send(new sdk.ListClustersCommand({}));
    await client.send(new sdk.ListClustersCommand({ maxResults: 10, nextToken: 'a b/c+d=é' }));
    client.destroy();
    assert.equal(seen.length, 2);
    for (const v of seen) {
      assert.ok(!(v instanceof ApiError), String(v));
      assert.equal(v.sessionToken, 'js-token');
    }
  });
});

test('real boto3 is verified', { skip: hasBoto3 ? false : 'boto3 not importable' }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'sigv4-boto3-'));
  try {
    await withVerifyingServer(async (endpoint, seen) => {
      const script = `import boto3\nc = boto3.client('ecs', endpoint_url='${endpoint}')\nc.list_clusters()\nc.list_clusters(maxResults=5, nextToken='a b/c+d=\\u00e9')\n`;
      const r = await run(PYTHON, ['-c', script], '', realClientEnv(home));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(seen.length, 2);
      for (const v of seen) assert.ok(!(v instanceof ApiError), String(v));
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('the real AWS CLI is verified', { skip: hasAwsCli ? false : '/usr/bin/aws not available' }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'sigv4-cli-'));
  try {
    await withVerifyingServer(async (endpoint, seen) => {
      const r = await run('/usr/bin/aws', ['ecs', 'list-clusters', '--endpoint-url', endpoint, '--output', 'json'], '', realClientEnv(home));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(seen.length, 1);
      assert.ok(!(seen[0] instanceof ApiError), String(seen[0]));
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
