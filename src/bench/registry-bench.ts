/**
 * Registry throughput: skopeo pushes and pulls one generated multi-layer image (~200 MB, random content)
 * against Gantry's registry (blobs encrypted at rest) and against Debian's reference registry
 * (`docker-registry`, distribution 2.8, filesystem storage in a temp dir), both on loopback, in the same run.
 * Rounds alternate between the two so drift on a shared machine hits both alike; each push goes to a new
 * image (fresh random layers) in a new repository, so no layer is skipped as already present or mounted;
 * each pull goes to an empty directory.
 */
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, startGantry } from '../testing/harness.js';
import { writeOciLayout } from '../testing/oci-layout.js';

export interface RegistryBenchOptions {
  /** Layer sizes in bytes. */
  readonly layers: readonly number[];
  readonly rounds: number;
}

export interface RegistryBenchResult {
  readonly imageBytes: number;
  readonly layers: number;
  readonly rounds: number;
  readonly gantry: { readonly push: number[]; readonly pull: number[] };
  readonly reference: { readonly push: number[]; readonly pull: number[] };
}

const SKOPEO = '/usr/bin/skopeo';
const REFERENCE = '/usr/bin/docker-registry';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Runs skopeo; returns wall seconds. */
function skopeo(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(SKOPEO, ['--insecure-policy', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Number(process.hrtime.bigint() - started) / 1e9);
      else reject(new Error(`skopeo ${args.join(' ')} failed (${code}): ${err.slice(-2000)}`));
    });
  });
}

export async function registryBench(opts: RegistryBenchOptions, log: (m: string) => void): Promise<RegistryBenchResult> {
  for (const bin of [SKOPEO, REFERENCE]) {
    if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).error) throw new Error(`${bin} is missing: apt-get install skopeo docker-registry (npm run bench installs them)`);
  }
  const work = mkdtempSync(join(tmpdir(), 'gantry-registry-bench-'));
  let reference: ChildProcess | undefined;
  const gantry = await startGantry();
  try {

    // The reference: Debian's docker-registry with filesystem storage, no auth, on loopback.
    const refPort = await freePort();
    const refConfig = join(work, 'reference.yml');
    writeFileSync(
      refConfig,
      [
        'version: 0.1',
        'log: {level: error}',
        'storage:',
        `  filesystem: {rootdirectory: ${join(work, 'reference-storage')}}`,
        '  cache: {blobdescriptor: inmemory}',
        `http: {addr: "127.0.0.1:${refPort}"}`,
        '',
      ].join('\n'),
    );
    reference = spawn(REFERENCE, ['serve', refConfig], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitFor(`http://127.0.0.1:${refPort}/v2/`, 20_000);

    const ecr = new ECRClient({ endpoint: gantry.url, region: REGION, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY } });
    const auth = await ecr.send(new GetAuthorizationTokenCommand({}));
    const creds = Buffer.from(auth.authorizationData![0]!.authorizationToken!, 'base64').toString('utf8');
    const gantryHost = new URL(gantry.url).host;

    const result: RegistryBenchResult = { imageBytes: 0, layers: opts.layers.length, rounds: opts.rounds, gantry: { push: [], pull: [] }, reference: { push: [], pull: [] } };
    for (let round = 0; round < opts.rounds; round++) {
      // A new image every round (new random layers): nothing can be skipped as already pushed or mounted.
      const layout = join(work, `image-${round}`);
      const image = writeOciLayout(layout, { tag: 'bench', layers: opts.layers });
      (result as { imageBytes: number }).imageBytes = image.layerBytes;
      const repo = `bench/image-${round}`;
      await ecr.send(new CreateRepositoryCommand({ repositoryName: repo }));
      const targets = [
        { name: 'gantry' as const, host: gantryHost, auth: ['--dest-creds', creds], srcAuth: ['--src-creds', creds] },
        { name: 'reference' as const, host: `127.0.0.1:${refPort}`, auth: [], srcAuth: [] },
      ];
      // Alternate which goes first, so neither always runs on a warmer page cache.
      if (round % 2 === 1) targets.reverse();
      for (const t of targets) {
        const push = await skopeo(['copy', '--dest-tls-verify=false', ...t.auth, `oci:${layout}:bench`, `docker://${t.host}/${repo}:bench`]);
        const out = join(work, `pull-${t.name}-${round}`);
        const pull = await skopeo(['copy', '--src-tls-verify=false', ...t.srcAuth, `docker://${t.host}/${repo}:bench`, `dir:${out}`]);
        rmSync(out, { recursive: true, force: true });
        if (t === targets[1]) rmSync(layout, { recursive: true, force: true });
        result[t.name].push.push(push);
        result[t.name].pull.push(pull);
        log(`round ${round + 1}/${opts.rounds} ${t.name.padEnd(9)} push ${push.toFixed(2)} s, pull ${pull.toFixed(2)} s`);
      }
    }
    return result;
  } finally {
    reference?.kill('SIGTERM');
    await gantry.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
