import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import { verifySigV4 } from './sigv4.js';
import { presignUrl, signRequest } from './sigv4-sign.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const NOW = Date.UTC(2026, 0, 1, 12, 30, 45);
const opts = { service: 'ecs', region: 'us-east-1', credentials, nowMs: NOW };
const lookup = (id: string) => (id === credentials.accessKeyId ? { secretAccessKey: credentials.secretAccessKey } : undefined);

class NodeSha256 implements Checksum {
  readonly #secret: Buffer | undefined;
  #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : typeof secret === 'string' ? Buffer.from(secret) : Buffer.from(secret as Uint8Array);
    this.#hash = this.#fresh();
  }
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
  reset(): void {
    this.#hash = this.#fresh();
  }
  #fresh() {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
}

const smithy = new SignatureV4({ service: 'ecs', region: 'us-east-1', credentials, sha256: NodeSha256 });

/** What a node server hands the verifier for a request to `url` with these headers. */
function incoming(method: string, url: string, headers: Record<string, string>, body = '') {
  const u = new URL(url);
  const distinct: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) distinct[k.toLowerCase()] = [v];
  return { method, url: u.pathname + u.search, headers: distinct, body: Buffer.from(body) };
}

describe('signRequest', () => {
  const cases = [
    { name: 'registration POST', url: 'http://127.0.0.1:7400/agent/v1/register', body: '{"cluster":"default"}' },
    { name: 'a query and a path that needs escaping', url: 'https://gantry.example:8443/a%20b/c?z=1&a=x%20y&a=b', body: '' },
  ];
  for (const tc of cases) {
    it(`${tc.name}: verifySigV4 accepts it`, () => {
      const headers = signRequest({ method: 'POST', url: tc.url, headers: { 'Content-Type': 'application/json' }, body: tc.body }, opts);
      const v = verifySigV4(incoming('POST', tc.url, headers, tc.body), { region: 'us-east-1', services: ['ecs'], nowMs: NOW }, lookup);
      assert.equal(v.accessKeyId, credentials.accessKeyId);
      assert.equal(v.signedAt, NOW - (NOW % 1000));
    });

    it(`${tc.name}: the same signature as @smithy/signature-v4`, async () => {
      const u = new URL(tc.url);
      const query: Record<string, string | string[]> = {};
      for (const k of new Set(u.searchParams.keys())) {
        const all = u.searchParams.getAll(k);
        query[k] = all.length === 1 ? all[0]! : all;
      }
      const signed = await smithy.sign(
        {
          method: 'POST',
          protocol: u.protocol,
          hostname: u.hostname,
          ...(u.port ? { port: Number(u.port) } : {}),
          path: u.pathname,
          query,
          headers: { host: u.host, 'content-type': 'application/json' },
          body: tc.body,
        },
        { signingDate: new Date(NOW) },
      );
      const ours = signRequest({ method: 'POST', url: tc.url, headers: { 'Content-Type': 'application/json' }, body: tc.body }, opts);
      assert.equal(ours['authorization'], signed.headers['authorization']);
    });
  }

  it('a tampered body or a wrong secret is refused', () => {
    const url = 'http://127.0.0.1:7400/agent/v1/register';
    const headers = signRequest({ method: 'POST', url, body: '{"a":1}' }, opts);
    assert.throws(() => verifySigV4(incoming('POST', url, headers, '{"a":2}'), { region: 'us-east-1', services: ['ecs'], nowMs: NOW }, lookup));
    const wrong = signRequest({ method: 'POST', url, body: '{}' }, { ...opts, credentials: { ...credentials, secretAccessKey: 'nope' } });
    assert.throws(() => verifySigV4(incoming('POST', url, wrong, '{}'), { region: 'us-east-1', services: ['ecs'], nowMs: NOW }, lookup), /signature/);
  });
});

describe('presignUrl', () => {
  const url = 'ws://127.0.0.1:7400/agent/v1/channel?cluster=my%20cluster';

  it('verifySigV4 accepts it, and refuses it once expired', () => {
    const signed = presignUrl(url, { ...opts, expiresSec: 60 });
    const u = new URL(signed);
    const req = { method: 'GET', url: u.pathname + u.search, headers: { host: [u.host] }, body: Buffer.alloc(0) };
    assert.equal(verifySigV4(req, { region: 'us-east-1', services: ['ecs'], nowMs: NOW + 30_000 }, lookup).accessKeyId, credentials.accessKeyId);
    assert.throws(() => verifySigV4(req, { region: 'us-east-1', services: ['ecs'], nowMs: NOW + 61_000 }, lookup), /expired/i);
  });

  it('the same signature as @smithy/signature-v4', async () => {
    const u = new URL(url);
    const presigned = await smithy.presign(
      { method: 'GET', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: u.pathname, query: { cluster: 'my cluster' }, headers: { host: u.host } },
      { signingDate: new Date(NOW), expiresIn: 60 },
    );
    const ours = new URL(presignUrl(url, { ...opts, expiresSec: 60 }));
    assert.equal(ours.searchParams.get('X-Amz-Signature'), presigned.query!['X-Amz-Signature']);
    assert.equal(ours.searchParams.get('cluster'), 'my cluster');
  });
});
