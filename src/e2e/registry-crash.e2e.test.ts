/**
 * A registry crash (issue #6): the server is killed with SIGKILL while skopeo pushes several images, and started
 * again on the same data directory and port. Every push skopeo saw complete is still there and pulls back byte
 * for byte; of the pushes cut short, every blob the registry serves is whole (its bytes hash to its digest) —
 * a partial blob is never visible; and the cut pushes can simply be repeated.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, startGantry } from '../testing/harness.js';
import type { GantryProcess } from '../testing/harness.js';
import { writeOciLayout } from '../testing/oci-layout.js';
import type { LayoutImage } from '../testing/oci-layout.js';

const skip = spawnSync('/usr/bin/skopeo', ['--version']).status === 0 ? undefined : 'skopeo is not installed (apt-get install skopeo)';
const IMAGES = 6;
const work = mkdtempSync(join(tmpdir(), 'gantry-e2e-registry-crash-'));
let gantry: GantryProcess;
let dataDir: string;

function client(url: string): ECRClient {
  return new ECRClient({ endpoint: url, region: REGION, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY } });
}

async function password(url: string): Promise<string> {
  const ecr = client(url);
  try {
    const r = await ecr.send(new GetAuthorizationTokenCommand({}));
    return Buffer.from(r.authorizationData![0]!.authorizationToken!, 'base64').toString('utf8').slice(4);
  } finally {
    ecr.destroy();
  }
}

/** skopeo push of one layout; resolves with its exit code. */
function push(layout: string, target: string, creds: string): { done: Promise<number> } {
  const child = spawn('/usr/bin/skopeo', ['--insecure-policy', 'copy', '--retry-times', '0', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${layout}:v1`, `docker://${target}`], {
    stdio: 'ignore',
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work },
  });
  return { done: new Promise((resolve) => child.once('exit', (code) => resolve(code ?? -1))) };
}

async function get(url: string, path: string, pw: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Basic ${Buffer.from(`AWS:${pw}`).toString('base64')}` } });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('kill -9 of the server during pushes', { skip }, () => {
  before(async () => {
    process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
    dataDir = mkdtempSync(join(tmpdir(), 'gantry-e2e-'));
    gantry = await startGantry({ dataDir });
  });
  after(async () => {
    await gantry?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('completed pushes survive whole; cut ones expose no partial blob and can be pushed again', async () => {
    const url = gantry.url;
    const host = new URL(url).host;
    const port = Number(new URL(url).port);
    const ecr = client(url);
    const layouts: { dir: string; image: LayoutImage; repo: string }[] = [];
    for (let i = 0; i < IMAGES; i++) {
      const dir = join(work, `image-${i}`);
      layouts.push({ dir, image: writeOciLayout(dir, { tag: 'v1', layers: [4_000_000, 3_000_000, 2_000_000] }), repo: `crash/image-${i}` });
      await ecr.send(new CreateRepositoryCommand({ repositoryName: `crash/image-${i}` }));
    }
    ecr.destroy();
    const creds = `AWS:${await password(url)}`;

    // The first two pushes complete; the rest start together and the server dies under them.
    const completed: number[] = [];
    for (const i of [0, 1]) {
      assert.equal(await push(layouts[i]!.dir, `${host}/${layouts[i]!.repo}:v1`, creds).done, 0);
      completed.push(i);
    }
    const running = layouts.slice(2).map((l, k) => ({ i: k + 2, ...push(l.dir, `${host}/${l.repo}:v1`, creds) }));
    await new Promise((r) => setTimeout(r, 150));
    await gantry.kill9();
    for (const r of running) if ((await r.done) === 0) completed.push(r.i);

    gantry = await startGantry({ dataDir, port });
    const pw = await password(gantry.url);
    for (const [i, l] of layouts.entries()) {
      const manifest = await get(gantry.url, `/v2/${l.repo}/manifests/v1`, pw);
      if (completed.includes(i)) {
        assert.equal(manifest.status, 200, `completed push ${i} is lost`);
        assert.equal(sha(manifest.body), l.image.digest);
      }
      // Whatever the registry serves is whole: every blob it has hashes to its digest.
      for (const blob of l.image.blobs) {
        const b = await get(gantry.url, `/v2/${l.repo}/blobs/${blob}`, pw);
        assert.ok(b.status === 200 || b.status === 404, `blob ${blob}: ${b.status}`);
        if (b.status === 200) assert.equal(sha(b.body), blob, `a partial or corrupt blob is visible in ${l.repo}`);
        if (completed.includes(i)) assert.equal(b.status, 200, `a blob of completed push ${i} is missing`);
      }
    }
    // The cut pushes go through on the restarted server, and everything pulls back byte for byte.
    const again = `AWS:${pw}`;
    for (const [i, l] of layouts.entries()) {
      if (!completed.includes(i)) assert.equal(await push(l.dir, `${new URL(gantry.url).host}/${l.repo}:v1`, again).done, 0, `push ${i} again`);
      const out = join(work, `out-${i}`);
      const pull = spawnSync('/usr/bin/skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', '--src-creds', again, `docker://${new URL(gantry.url).host}/${l.repo}:v1`, `oci:${out}:v1`], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work } });
      assert.equal(pull.status, 0, pull.stderr);
      for (const blob of l.image.blobs) assert.equal(sha(readFileSync(join(out, 'blobs', 'sha256', blob.slice(7)))), blob);
    }
    assert.ok(completed.length >= 2);
    assert.ok(completed.length < IMAGES, "the kill came after every push had finished: nothing was cut");
  });
});
