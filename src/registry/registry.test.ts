/**
 * The registry end to end inside one process: the real server (store, blob store, OCI route, ECR API) with a
 * clock the test moves, driven over HTTP as clients do — the OCI distribution workflows (pull, push, content
 * discovery, content management), every refusal leaving nothing behind, authentication and authorisation, GC,
 * and the ECR API through the JS SDK.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  GetLifecyclePolicyPreviewCommand,
  InitiateLayerUploadCommand,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  SetRepositoryPolicyCommand,
  StartLifecyclePolicyPreviewCommand,
  TagResourceCommand,
  UploadLayerPartCommand,
} from '@aws-sdk/client-ecr';
import { startServer } from '../app/server-app.js';
import { callAws } from '../cli/aws-call.js';
import { AGENT_CREDENTIAL_KIND } from '../fleet/agent-credentials.js';
import { putOp } from '../state/catalog.js';
import type { RunningServer } from '../app/server-app.js';
import { compileServerConfig } from '../config/server-config.js';
import { ACCESS_KEY_ID, ACCOUNT, REGION, SECRET_ACCESS_KEY } from '../testing/harness.js';
import { silentLogger } from '../util/log.js';
import { Access } from './access.js';

const dataDir = mkdtempSync(join(tmpdir(), 'gantry-registry-'));
let offsetMs = 0;
const clock = { now: () => Date.now() + offsetMs };
let server: RunningServer;
let ecr: ECRClient;
let base: string;
let auth: string;

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const basic = (password: string) => `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`;

async function req(method: string, path: string, opts: { body?: Buffer | string; headers?: Record<string, string>; auth?: string | null } = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.auth !== null) headers['authorization'] = opts.auth ?? auth;
  const res = await fetch(`${base}${path}`, { method, headers, ...(opts.body !== undefined ? { body: opts.body } : {}) });
  const body = Buffer.from(await res.arrayBuffer());
  const json = (): any => JSON.parse(body.toString('utf8'));
  return { status: res.status, headers: res.headers, body, json, code: () => (json().errors?.[0]?.code as string | undefined) };
}

/** RevokeAuthorizationTokens as the root user (the JS SDK has no command for Gantry's extension). */
const revoke = (input: object) =>
  callAws({ endpoint: new URL(base), region: REGION, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY } }, 'ecr', 'RevokeAuthorizationTokens', input);

async function createRepo(name: string): Promise<void> {
  await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
}

/** Monolithic blob upload. */
async function pushBlob(repo: string, data: Buffer): Promise<string> {
  const r = await req('POST', `/v2/${repo}/blobs/uploads/?digest=${sha(data)}`, { body: data, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(r.status, 201, r.body.toString());
  return sha(data);
}

function imageManifest(config: Buffer, layers: readonly Buffer[], extra: object = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(l), size: l.length })),
      ...extra,
    }),
  );
}

async function pushImage(repo: string, tag: string, layerCount = 2): Promise<{ digest: string; manifest: Buffer; layers: Buffer[]; config: Buffer }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: randomBytes(4).toString('hex') }));
  const layers = Array.from({ length: layerCount }, () => randomBytes(10_000));
  for (const b of [config, ...layers]) await pushBlob(repo, b);
  const manifest = imageManifest(config, layers);
  const r = await req('PUT', `/v2/${repo}/manifests/${tag}`, { body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(r.status, 201, r.body.toString());
  assert.equal(r.headers.get('docker-content-digest'), sha(manifest));
  return { digest: sha(manifest), manifest, layers, config };
}

/** Files in the blob store: committed blobs and uploads in progress. */
function onDisk(): { blobs: string[]; uploads: string[] } {
  const root = join(dataDir, 'registry');
  const blobs: string[] = [];
  for (const alg of readdirSync(join(root, 'blobs'))) {
    for (const p of readdirSync(join(root, 'blobs', alg))) for (const h of readdirSync(join(root, 'blobs', alg, p))) blobs.push(`${alg}:${h}`);
  }
  return { blobs, uploads: readdirSync(join(root, 'uploads')) };
}

before(async () => {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const config = compileServerConfig({ port: '0', 'data-dir': dataDir, region: REGION, 'account-id': ACCOUNT, 'log-level': 'error' }, {});
  server = await startServer({ config, logger: silentLogger, clock, env: { GANTRY_ACCESS_KEY_ID: ACCESS_KEY_ID, GANTRY_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY } });
  base = server.url;
  ecr = new ECRClient({ endpoint: base, region: REGION, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY } });
  const token = await ecr.send(new GetAuthorizationTokenCommand({}));
  const data = token.authorizationData![0]!;
  assert.equal(data.proxyEndpoint, base);
  const [user, password] = Buffer.from(data.authorizationToken!, 'base64').toString('utf8').split(':') as [string, string];
  assert.equal(user, 'AWS');
  auth = basic(password);
});

after(async () => {
  ecr?.destroy();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('authentication', () => {
  test('no credentials: 401 with a Basic challenge, as ECR answers (what makes docker login send them)', async () => {
    const r = await req('GET', '/v2/', { auth: null });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm="/);
    assert.equal(r.code(), 'UNAUTHORIZED');
    assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.equal((await req('GET', '/v2/')).status, 200);
  });
  test('wrong, altered, foreign-user and expired tokens are refused', async () => {
    const password = Buffer.from(auth.slice(6), 'base64').toString().slice(4);
    const altered = password.slice(0, -2) + (password.endsWith('A') ? 'BB' : 'AA');
    for (const bad of [basic('not-a-token'), basic(altered), `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`, 'Bearer xyz']) {
      const r = await req('GET', '/v2/', { auth: bad });
      assert.equal(r.status, 401, bad);
      assert.equal(r.code(), 'UNAUTHORIZED');
    }
    offsetMs = 12 * 3600 * 1000 + 1000;
    try {
      const r = await req('GET', '/v2/');
      assert.equal(r.status, 401);
      assert.match(r.json().errors[0].message, /expired/);
    } finally {
      offsetMs = 0;
    }
  });
  test('RevokeAuthorizationTokens (Gantry extension): tokens issued before are refused, new ones work', async () => {
    const root = `arn:aws:iam::${ACCOUNT}:root`;
    const fresh = await ecr.send(new GetAuthorizationTokenCommand({}));
    const password = Buffer.from(fresh.authorizationData![0]!.authorizationToken!, 'base64').toString().slice(4);
    assert.equal((await req('GET', '/v2/', { auth: basic(password) })).status, 200);
    const before = Date.now();
    const revoked = await revoke({});
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    const body = revoked.body as { registryId: string; principalArn: string; revokedBefore: number };
    assert.equal(body.principalArn, root, 'the caller by default');
    assert.equal(body.registryId, ACCOUNT);
    assert.ok(body.revokedBefore * 1000 > before && body.revokedBefore * 1000 <= Date.now() + 1, `revokedBefore ${body.revokedBefore} is now`);
    const refused = await req('GET', '/v2/', { auth: basic(password) });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic realm="/);
    assert.match(refused.json().errors[0].message, /revoked/);
    assert.equal((await req('GET', '/v2/')).status, 401, 'the suite token was issued before the revocation too');
    await new Promise((r) => setTimeout(r, 5));
    const again = await ecr.send(new GetAuthorizationTokenCommand({}));
    auth = basic(Buffer.from(again.authorizationData![0]!.authorizationToken!, 'base64').toString().slice(4));
    assert.equal((await req('GET', '/v2/')).status, 200);
    const explicit = await revoke({ principalArn: root, registryId: ACCOUNT });
    assert.equal(explicit.status, 200);
    assert.ok((explicit.body as { revokedBefore: number }).revokedBefore >= body.revokedBefore, 'a later revocation never moves the instant back');
    assert.equal((await req('GET', '/v2/')).status, 401);
    await new Promise((r) => setTimeout(r, 5));
    auth = basic(Buffer.from((await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!.authorizationToken!, 'base64').toString().slice(4));
    assert.equal((await req('GET', '/v2/')).status, 200);
  });
  test("revoking a container instance's tokens replaces the token the server hands its agent", async () => {
    const instanceArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/c/0123456789abcdef0123456789abcdef`;
    const catalog = server.registry.registry.catalog;
    const record = { accessKeyId: 'GAGTTESTREVOKE000001', secretAccessKey: 's'.repeat(40), cluster: 'c', containerInstanceArn: instanceArn, createdAtMs: Date.now() };
    await catalog.transact(() => ({ ops: [putOp(AGENT_CREDENTIAL_KIND, record.accessKeyId, record, undefined)], result: undefined }));
    const image = [`${new URL(base).host}/app/web:1`];
    const first = server.registry.agentAuth(instanceArn, image)![new URL(base).host]!.password;
    assert.equal(server.registry.agentAuth(instanceArn, image)![new URL(base).host]!.password, first, 'reused while valid');
    const r = await revoke({ principalArn: instanceArn });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const revokedBeforeMs = Math.round((r.body as { revokedBefore: number }).revokedBefore * 1000);
    await new Promise((r) => setTimeout(r, 5));
    const second = server.registry.agentAuth(instanceArn, image)![new URL(base).host]!.password;
    assert.notEqual(second, first);
    assert.ok(server.registry.auth.tokens.verify(first).issuedAtMs < revokedBeforeMs);
    assert.ok(server.registry.auth.tokens.verify(second).issuedAtMs >= revokedBeforeMs);
  });
  test('RevokeAuthorizationTokens refuses bad input with InvalidParameterException and other callers with AccessDeniedException', async () => {
    const cases: [object, RegExp][] = [
      [{ principalArn: 'root' }, /principalArn.*must be an ARN/],
      [{ principalArn: '' }, /1 validation error detected: .*principalArn.*length greater than or equal to 1/],
      [{ principalArn: 'arn:aws:iam::999999999999:root' }, new RegExp(`must be a principal of account ${ACCOUNT}; got account 999999999999`)],
      [{ principalArn: `arn:aws:iam::${ACCOUNT}:user/nobody` }, /no principal .*user\/nobody holds an access key/],
      [{ registryId: '999999999999' }, /registryId/],
      [{ registryId: 'x' }, /validation error detected: .*registryId/],
    ];
    for (const [input, message] of cases) {
      const r = await revoke(input);
      assert.equal(r.status, 400, JSON.stringify(input));
      const err = r.body as { __type: string; message: string };
      assert.equal(err.__type, 'InvalidParameterException', JSON.stringify(input));
      assert.match(err.message, message);
    }
    const typeError = await revoke({ principalArn: 12 });
    assert.equal((typeError.body as { __type: string }).__type, 'SerializationException');
    assert.equal((await req('GET', '/v2/')).status, 200, 'a refused revocation revokes nothing');
    const access = new Access();
    const denied = (kind: 'user' | 'agent') => () => access.check({ arn: `arn:aws:iam::${ACCOUNT}:user/u`, kind }, 'ecr:RevokeAuthorizationTokens', undefined, `arn:aws:iam::${ACCOUNT}:root`);
    assert.throws(denied('user'), (e: Error & { code?: string }) => /AccessDenied/.test(e.name + String(e.code) + e.message) && /not authorized to perform: ecr:RevokeAuthorizationTokens/.test(e.message));
    assert.throws(denied('agent'), /not authorized to perform: ecr:RevokeAuthorizationTokens/);
  });
});

describe('push and pull', () => {
  before(async () => {
    await createRepo('app/web');
    await createRepo('app/other');
  });

  test('an unknown repository is NAME_UNKNOWN (ECR needs CreateRepository first)', async () => {
    const r = await req('POST', '/v2/nope/blobs/uploads/');
    assert.equal(r.status, 404);
    assert.equal(r.code(), 'NAME_UNKNOWN');
  });

  test('a client that goes away mid-download: the blob file is closed, and later reads are whole and right', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 3);
    const digest = await pushBlob('app/web', data);
    const openBlobFiles = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).includes(join(dataDir, 'registry', 'blobs'));
        } catch {
          return false;
        }
      }).length;
    for (let k = 0; k < 3; k++) {
      const url = new URL(base);
      await new Promise<void>((resolve, reject) => {
        const s = connect(Number(url.port), url.hostname, () => s.write(`GET /v2/app/web/blobs/${digest} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\n\r\n`));
        let got = 0;
        s.on('data', (d: Buffer) => {
          got += d.length;
          if (got > 300_000) {
            s.destroy();
            resolve();
          }
        });
        s.on('error', reject);
      });
    }
    for (let i = 0; i < 100 && openBlobFiles() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(openBlobFiles(), 0, 'every aborted read closed its file');
    for (let k = 0; k < 3; k++) {
      const [a, b] = await Promise.all([req('GET', `/v2/app/web/blobs/${digest}`), req('GET', `/v2/app/web/blobs/${digest}`, { headers: { range: 'bytes=1000000-5000000' } })]);
      assert.ok(a.body.equals(data));
      assert.ok(b.body.equals(data.subarray(1_000_000, 5_000_001)));
    }
  });

  test('monolithic and chunked uploads; blob HEAD/GET with Range', async () => {
    const data = randomBytes(700_000);
    const start = await req('POST', '/v2/app/web/blobs/uploads/');
    assert.equal(start.status, 202);
    const location = start.headers.get('location')!;
    assert.match(location, /^\/v2\/app\/web\/blobs\/uploads\/[0-9a-f-]{36}$/);
    assert.equal(start.headers.get('range'), '0-0');
    const p1 = await req('PATCH', location, { body: data.subarray(0, 300_000), headers: { 'content-range': '0-299999', 'content-type': 'application/octet-stream' } });
    assert.equal(p1.status, 202);
    assert.equal(p1.headers.get('range'), '0-299999');
    const outOfOrder = await req('PATCH', location, { body: data.subarray(0, 10), headers: { 'content-range': '5-14' } });
    assert.equal(outOfOrder.status, 416);
    assert.equal(outOfOrder.headers.get('range'), '0-299999');
    const status = await req('GET', location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-299999');
    const p2 = await req('PATCH', location, { body: data.subarray(300_000, 600_000) });
    assert.equal(p2.headers.get('range'), '0-599999');
    const done = await req('PUT', `${location}?digest=${sha(data)}`, { body: data.subarray(600_000) });
    assert.equal(done.status, 201, done.body.toString());
    assert.equal(done.headers.get('docker-content-digest'), sha(data));
    assert.equal(done.headers.get('location'), `/v2/app/web/blobs/${sha(data)}`);

    const head = await req('HEAD', `/v2/app/web/blobs/${sha(data)}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(data.length));
    assert.equal(head.headers.get('docker-content-digest'), sha(data));
    const full = await req('GET', `/v2/app/web/blobs/${sha(data)}`);
    assert.ok(full.body.equals(data));
    const part = await req('GET', `/v2/app/web/blobs/${sha(data)}`, { headers: { range: 'bytes=262140-262150' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 262140-262150/${data.length}`);
    assert.ok(part.body.equals(data.subarray(262140, 262151)));
    const beyond = await req('GET', `/v2/app/web/blobs/${sha(data)}`, { headers: { range: `bytes=${data.length}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${data.length}`);
    // Repositories are separate: another repository does not hold it until it is mounted.
    assert.equal((await req('HEAD', `/v2/app/other/blobs/${sha(data)}`)).status, 404);
    const mount = await req('POST', `/v2/app/other/blobs/uploads/?mount=${sha(data)}&from=app/web`);
    assert.equal(mount.status, 201);
    assert.equal((await req('GET', `/v2/app/other/blobs/${sha(data)}`)).body.length, data.length);
    const noSource = await req('POST', `/v2/app/other/blobs/uploads/?mount=${sha('nothing')}&from=app/web`);
    assert.equal(noSource.status, 202, 'an unmountable blob falls back to an upload');
    assert.equal((await req('DELETE', noSource.headers.get('location')!)).status, 204);
  });

  test('manifests by tag and digest: Content-Type, Docker-Content-Digest, ETag, conditional GET; tags and catalog pages', async () => {
    const { digest, manifest } = await pushImage('app/web', 'v1');
    for (const ref of ['v1', digest]) {
      const r = await req('GET', `/v2/app/web/manifests/${ref}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(r.status, 200);
      assert.ok(r.body.equals(manifest));
      assert.equal(r.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
      assert.equal(r.headers.get('docker-content-digest'), digest);
      assert.equal(r.headers.get('etag'), `"${digest}"`);
      const h = await req('HEAD', `/v2/app/web/manifests/${ref}`);
      assert.equal(h.headers.get('content-length'), String(manifest.length));
    }
    assert.equal((await req('GET', '/v2/app/web/manifests/v1', { headers: { 'if-none-match': `"${digest}"` } })).status, 304);
    for (const t of ['v2', 'v3', 'latest']) {
      assert.equal((await req('PUT', `/v2/app/web/manifests/${t}`, { body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })).status, 201);
    }
    const p1 = await req('GET', '/v2/app/web/tags/list?n=2');
    assert.deepEqual(p1.json(), { name: 'app/web', tags: ['latest', 'v1'] });
    assert.equal(p1.headers.get('link'), '</v2/app/web/tags/list?n=2&last=v1>; rel="next"');
    const p2 = await req('GET', '/v2/app/web/tags/list?n=2&last=v1');
    assert.deepEqual(p2.json().tags, ['v2', 'v3']);
    assert.equal(p2.headers.get('link'), null);
    const catalog = await req('GET', '/v2/_catalog?n=1');
    assert.deepEqual(catalog.json(), { repositories: ['app/other'] });
    assert.match(catalog.headers.get('link') ?? '', /last=app%2Fother/);
    const unknown = await req('GET', '/v2/app/web/manifests/nope');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.code(), 'MANIFEST_UNKNOWN');
  });

  test('a manifest list / index needs its manifests; referrers by subject and artifactType; delete', async () => {
    const a = await pushImage('app/other', 'amd');
    const orphan = sha('no such manifest');
    const entry = (digest: string, size: number, arch: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size, platform: { os: 'linux', architecture: arch } });
    const bad = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [entry(a.digest, a.manifest.length, 'amd64'), entry(orphan, 10, 'arm64')] }));
    const refused = await req('PUT', '/v2/app/other/manifests/multi', { body: bad, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' } });
    assert.equal(refused.status, 400);
    assert.equal(refused.code(), 'MANIFEST_BLOB_UNKNOWN');
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [entry(a.digest, a.manifest.length, 'amd64')] }));
    assert.equal((await req('PUT', '/v2/app/other/manifests/multi', { body: index, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' } })).status, 201);

    const empty = Buffer.from('{}');
    await pushBlob('app/other', empty);
    const sbom = randomBytes(100);
    await pushBlob('app/other', sbom);
    const artifact = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.example.sbom',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha(empty), size: 2 },
        layers: [{ mediaType: 'application/octet-stream', digest: sha(sbom), size: sbom.length }],
        subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: a.digest, size: a.manifest.length },
        annotations: { 'org.example': 'yes' },
      }),
    );
    const put = await req('PUT', `/v2/app/other/manifests/${sha(artifact)}`, { body: artifact, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('oci-subject'), a.digest);
    const refs = await req('GET', `/v2/app/other/referrers/${a.digest}`);
    assert.equal(refs.headers.get('content-type'), 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(refs.json().manifests, [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(artifact), size: artifact.length, artifactType: 'application/vnd.example.sbom', annotations: { 'org.example': 'yes' } },
    ]);
    const filtered = await req('GET', `/v2/app/other/referrers/${a.digest}?artifactType=application/vnd.other`);
    assert.deepEqual(filtered.json().manifests, []);
    assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');

    const inUse = await req('DELETE', `/v2/app/other/manifests/${a.digest}`);
    assert.equal(inUse.status, 409, 'an image a manifest list names cannot go first');
    assert.equal((await req('DELETE', '/v2/app/other/manifests/multi')).status, 202, 'deleting a tag');
    const idx = sha(index);
    assert.equal((await req('DELETE', `/v2/app/other/manifests/${idx}`)).status, 202);
    assert.equal((await req('DELETE', `/v2/app/other/manifests/${a.digest}`)).status, 202);
    assert.equal((await req('GET', `/v2/app/other/manifests/${a.digest}`)).status, 404);
    assert.equal((await req('GET', '/v2/app/other/manifests/amd')).status, 404, 'its tags went with it');
  });
});

describe('refusals leave nothing behind', () => {
  before(() => createRepo('refuse/me'));

  test('a digest mismatch: DIGEST_INVALID, no blob, no upload', async () => {
    const before = onDisk();
    const data = randomBytes(50_000);
    const wrong = sha('something else');
    const r = await req('POST', `/v2/refuse/me/blobs/uploads/?digest=${wrong}`, { body: data });
    assert.equal(r.status, 400);
    assert.equal(r.code(), 'DIGEST_INVALID');
    const start = await req('POST', '/v2/refuse/me/blobs/uploads/');
    const loc = start.headers.get('location')!;
    await req('PATCH', loc, { body: data });
    const put = await req('PUT', `${loc}?digest=${wrong}`);
    assert.equal(put.code(), 'DIGEST_INVALID');
    assert.equal((await req('GET', loc)).code(), 'BLOB_UPLOAD_UNKNOWN', 'the upload is over');
    for (const d of [wrong, sha(data)]) assert.equal((await req('HEAD', `/v2/refuse/me/blobs/${d}`)).status, 404);
    assert.deepEqual(onDisk(), before);
  });

  test('a truncated upload (the client goes away mid-body): no blob, no upload', async () => {
    const before = onDisk();
    const data = randomBytes(200_000);
    const url = new URL(base);
    await new Promise<void>((resolve, reject) => {
      const s = connect(Number(url.port), url.hostname, () => {
        s.write(
          `POST /v2/refuse/me/blobs/uploads/?digest=${sha(data)} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: ${auth}\r\nContent-Length: ${data.length}\r\n\r\n`,
        );
        s.write(data.subarray(0, 120_000), () => setTimeout(() => s.destroy(), 50));
      });
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    for (let i = 0; i < 50 && JSON.stringify(onDisk()) !== JSON.stringify(before); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(onDisk(), before);
    assert.equal((await req('HEAD', `/v2/refuse/me/blobs/${sha(data)}`)).status, 404);
  });

  test('a manifest naming a missing layer: MANIFEST_BLOB_UNKNOWN, no image, no tag', async () => {
    const config = Buffer.from('{"os":"linux","architecture":"amd64"}');
    await pushBlob('refuse/me', config);
    const manifest = imageManifest(config, [randomBytes(10)]);
    const before = onDisk();
    const r = await req('PUT', '/v2/refuse/me/manifests/broken', { body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(r.status, 400);
    assert.equal(r.code(), 'MANIFEST_BLOB_UNKNOWN');
    assert.equal((await req('GET', '/v2/refuse/me/manifests/broken')).status, 404);
    assert.deepEqual((await req('GET', '/v2/refuse/me/tags/list')).json().tags, []);
    assert.deepEqual(onDisk(), before);
    const wrongDigest = await req('PUT', `/v2/refuse/me/manifests/${sha('x')}`, { body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(wrongDigest.code(), 'DIGEST_INVALID');
    const invalid = await req('PUT', '/v2/refuse/me/manifests/x', { body: '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}', headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(invalid.code(), 'MANIFEST_INVALID');
  });

  test('an immutable tag is not moved: TAG_INVALID over OCI, ImageTagAlreadyExistsException over the API', async () => {
    const first = await pushImage('refuse/me', 'stable', 1);
    await ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'refuse/me', imageTagMutability: 'IMMUTABLE' }));
    const second = imageManifest(first.config, [...first.layers, ...first.layers]);
    const r = await req('PUT', '/v2/refuse/me/manifests/stable', { body: second, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(r.status, 400);
    assert.equal(r.code(), 'TAG_INVALID');
    assert.equal((await req('GET', '/v2/refuse/me/manifests/stable')).headers.get('docker-content-digest'), first.digest);
    assert.equal((await req('GET', `/v2/refuse/me/manifests/${sha(second)}`)).status, 404, 'the refused manifest is not stored untagged either');
    await assert.rejects(
      ecr.send(new PutImageCommand({ repositoryName: 'refuse/me', imageTag: 'stable', imageManifest: second.toString() })),
      (e: Error) => e.name === 'ImageTagAlreadyExistsException',
    );
    await ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'refuse/me', imageTagMutability: 'MUTABLE' }));
  });

  test('a principal the repository policy denies: DENIED (403), nothing stored', async () => {
    await createRepo('refuse/locked');
    await ecr.send(
      new SetRepositoryPolicyCommand({
        repositoryName: 'refuse/locked',
        policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: ['ecr:InitiateLayerUpload', 'ecr:PutImage'] }] }),
      }),
    );
    const before = onDisk();
    const r = await req('POST', '/v2/refuse/locked/blobs/uploads/');
    assert.equal(r.status, 403);
    assert.equal(r.code(), 'DENIED');
    assert.equal((await req('PUT', '/v2/refuse/locked/manifests/x', { body: '{}' })).status, 403);
    await assert.rejects(ecr.send(new InitiateLayerUploadCommand({ repositoryName: 'refuse/locked' })), (e: Error) => e.name === 'AccessDeniedException');
    assert.deepEqual(onDisk(), before);
    assert.equal((await req('GET', '/v2/refuse/locked/tags/list')).status, 200, 'what the policy does not deny stays allowed');
  });
});

describe('garbage collection', () => {
  test('unreferenced blobs go after the grace period; referenced ones stay', async () => {
    await createRepo('gc/repo');
    const kept = await pushImage('gc/repo', 'keep', 1);
    const loose = randomBytes(5000);
    await pushBlob('gc/repo', loose);
    await server.registry.runGc();
    assert.equal((await req('HEAD', `/v2/gc/repo/blobs/${sha(loose)}`)).status, 200, 'within the grace period');
    offsetMs = 2 * 3600 * 1000;
    try {
      await server.registry.runGc();
      assert.equal((await req('HEAD', `/v2/gc/repo/blobs/${sha(loose)}`, { auth })).status, 404);
      assert.ok(!onDisk().blobs.includes(sha(loose)), 'the bytes are gone');
      for (const d of [kept.digest, sha(kept.config), sha(kept.layers[0]!)]) assert.ok(onDisk().blobs.includes(d), d);
      assert.equal((await req('GET', '/v2/gc/repo/manifests/keep')).status, 200);
    } finally {
      offsetMs = 0;
    }
  });
});

describe('the ECR API', () => {
  before(() => createRepo('api/repo'));

  test('layers and images through the JSON API, and what DescribeImages/ListImages/BatchGetImage report', async () => {
    const layer = randomBytes(30_000);
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    for (const blob of [layer, config]) {
      const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: 'api/repo' }));
      await ecr.send(new UploadLayerPartCommand({ repositoryName: 'api/repo', uploadId, partFirstByte: 0, partLastByte: 9_999 > blob.length - 1 ? blob.length - 1 : 9_999, layerPartBlob: blob.subarray(0, Math.min(10_000, blob.length)) }));
      if (blob.length > 10_000) {
        await assert.rejects(
          ecr.send(new UploadLayerPartCommand({ repositoryName: 'api/repo', uploadId, partFirstByte: 5, partLastByte: 14, layerPartBlob: blob.subarray(5, 15) })),
          (e: Error) => e.name === 'InvalidLayerPartException',
        );
        await ecr.send(new UploadLayerPartCommand({ repositoryName: 'api/repo', uploadId, partFirstByte: 10_000, partLastByte: blob.length - 1, layerPartBlob: blob.subarray(10_000) }));
      }
      const done = await ecr.send(new CompleteLayerUploadCommand({ repositoryName: 'api/repo', uploadId, layerDigests: [sha(blob)] }));
      assert.equal(done.layerDigest, sha(blob));
    }
    const check = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: 'api/repo', layerDigests: [sha(layer), sha('missing')] }));
    assert.deepEqual(check.layers, [{ layerDigest: sha(layer), layerAvailability: 'AVAILABLE', layerSize: layer.length }]);
    assert.equal(check.failures?.[0]?.failureCode, 'MissingLayerDigest');

    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha(layer) }],
      }),
    );
    const put = await ecr.send(new PutImageCommand({ repositoryName: 'api/repo', imageTag: 'one', imageManifest: manifest.toString() }));
    assert.equal(put.image?.imageId?.imageDigest, sha(manifest));
    await assert.rejects(ecr.send(new PutImageCommand({ repositoryName: 'api/repo', imageTag: 'one', imageManifest: manifest.toString() })), (e: Error) => e.name === 'ImageAlreadyExistsException');
    await assert.rejects(
      ecr.send(new PutImageCommand({ repositoryName: 'api/repo', imageTag: 'two', imageDigest: sha('other'), imageManifest: manifest.toString() })),
      (e: Error) => e.name === 'ImageDigestDoesNotMatchException',
    );
    await ecr.send(new PutImageCommand({ repositoryName: 'api/repo', imageTag: 'two', imageManifest: manifest.toString() }));

    const described = await ecr.send(new DescribeImagesCommand({ repositoryName: 'api/repo' }));
    assert.equal(described.imageDetails?.length, 1);
    const d = described.imageDetails![0]!;
    assert.deepEqual(d.imageTags, ['one', 'two']);
    assert.equal(d.imageSizeInBytes, layer.length + config.length);
    assert.equal(d.imageManifestMediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.ok(d.imagePushedAt instanceof Date && Math.abs(d.imagePushedAt.getTime() - Date.now()) < 60_000);
    const listed = await ecr.send(new ListImagesCommand({ repositoryName: 'api/repo' }));
    assert.deepEqual(listed.imageIds?.map((i) => i.imageTag).sort(), ['one', 'two']);
    const got = await ecr.send(new BatchGetImageCommand({ repositoryName: 'api/repo', imageIds: [{ imageTag: 'one' }, { imageTag: 'nope' }] }));
    assert.equal(got.images?.[0]?.imageManifest, manifest.toString());
    assert.equal(got.failures?.[0]?.failureCode, 'ImageNotFound');

    const url = await ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'api/repo', layerDigest: sha(layer) }));
    const dl = await fetch(url.downloadUrl!);
    assert.equal(dl.status, 200);
    assert.ok(Buffer.from(await dl.arrayBuffer()).equals(layer));
    const misuse = await fetch(url.downloadUrl!.replace(sha(layer), sha(config)));
    assert.equal(misuse.status, 401, 'a download URL reads its own layer only');

    const del = await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'api/repo', imageIds: [{ imageTag: 'one' }] }));
    assert.deepEqual(del.imageIds, [{ imageDigest: sha(manifest), imageTag: 'one' }]);
    assert.deepEqual((await ecr.send(new ListImagesCommand({ repositoryName: 'api/repo' }))).imageIds?.map((i) => i.imageTag), ['two']);
  });

  test('repositories: describe, tags, delete needs force when not empty', async () => {
    const repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['api/repo'] }))).repositories![0]!;
    assert.equal(repo.repositoryUri, `${new URL(base).host}/api/repo`);
    assert.equal(repo.repositoryArn, `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/api/repo`);
    await ecr.send(new TagResourceCommand({ resourceArn: repo.repositoryArn, tags: [{ Key: 'team', Value: 'web' }] }));
    assert.deepEqual((await ecr.send(new ListTagsForResourceCommand({ resourceArn: repo.repositoryArn }))).tags, [{ Key: 'team', Value: 'web' }]);
    await assert.rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'api/repo' })), (e: Error) => e.name === 'RepositoryAlreadyExistsException');
    await assert.rejects(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['api/none'] })), (e: Error) => e.name === 'RepositoryNotFoundException');
    await assert.rejects(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'api/repo' })), (e: Error) => e.name === 'RepositoryNotEmptyException');
    await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'api/repo', force: true }));
    assert.equal((await req('GET', '/v2/api/repo/tags/list')).code(), 'NAME_UNKNOWN');
  });

  test('lifecycle policy: preview, then enforcement expires what it previewed', async () => {
    await createRepo('api/life');
    const pushed: string[] = [];
    for (const t of ['b1', 'b2', 'b3']) {
      pushed.push((await pushImage('api/life', t, 1)).digest);
      offsetMs += 2000;
    }
    offsetMs = 0;
    const policy = JSON.stringify({
      rules: [{ rulePriority: 1, description: 'keep two builds', selection: { tagStatus: 'tagged', tagPrefixList: ['b'], countType: 'imageCountMoreThan', countNumber: 2 }, action: { type: 'expire' } }],
    });
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'api/life', lifecyclePolicyText: policy }));
    const started = await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: 'api/life' }));
    assert.equal(started.status, 'COMPLETE');
    const preview = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: 'api/life' }));
    assert.deepEqual(preview.previewResults?.map((r) => [r.imageDigest, r.imageTags, r.appliedRulePriority, r.action?.type]), [[pushed[0], ['b1'], 1, 'EXPIRE']]);
    assert.equal(preview.summary?.expiringImageTotalCount, 1);
    await server.registry.runLifecycle();
    assert.deepEqual((await req('GET', '/v2/api/life/tags/list')).json().tags, ['b2', 'b3']);
  });
});
