/**
 * API cost (issue #2): signed DescribeTaskDefinition (read) and RegisterTaskDefinition (durable write) calls
 * from 8 concurrent loopback clients against a real `gantry server`, beside the bare SigV4-verifying
 * baseline server, all in one run. Requests are signed before the clock starts so the load generator
 * spends its time sending, not hashing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { signJsonRequest } from '../testing/signer.js';
import { ACCESS_KEY_ID, REGION, ROOT, SECRET_ACCESS_KEY, startGantry } from '../testing/harness.js';
import { runLoad } from './loadgen.js';
import type { LoadRequest, LoadResult } from './loadgen.js';

const PREFIX = 'AmazonEC2ContainerServiceV20141113';
const CONCURRENCY = 8;

export interface ApiBenchOptions {
  readonly durationMs: number;
  readonly maxRequests: number;
}

function taskDefinitionBody(i: number): string {
  return JSON.stringify({
    family: 'bench-web',
    networkMode: 'bridge',
    containerDefinitions: [
      {
        name: 'web',
        image: `public.ecr.aws/nginx/nginx:1.${i % 30}`,
        cpu: 256,
        memory: 512,
        essential: true,
        portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }],
        environment: [{ name: 'MODE', value: 'bench' }],
      },
    ],
  });
}

async function sign(url: string, op: string, body: string): Promise<LoadRequest> {
  const s = await signJsonRequest({
    url,
    target: `${PREFIX}.${op}`,
    body,
    service: 'ecs',
    region: REGION,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
  });
  return { url: s.url, headers: s.headers, body: s.body };
}

async function startBaseline(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'baseline-server.js'), REGION, ACCESS_KEY_ID, SECRET_ACCESS_KEY], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (c) => reject(new Error(`baseline server exited (${c})`)));
  });
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill('SIGTERM') };
}

export interface ApiBenchRow {
  readonly name: string;
  readonly result: LoadResult;
  readonly baseline: LoadResult;
  readonly ratio: number;
  readonly target: number;
}

export async function apiBench(opts: ApiBenchOptions, progress: (m: string) => void): Promise<ApiBenchRow[]> {
  const gantry = await startGantry();
  const baseline = await startBaseline();
  try {
    const url = gantry.url + '/';
    // A task definition to describe.
    const setup = await runLoad({ requests: [await sign(url, 'RegisterTaskDefinition', taskDefinitionBody(0))], concurrency: 1, durationMs: 10_000, maxRequests: 1 });
    if (setup.errors > 0) throw new Error(`setup failed: ${setup.firstError}`);

    const reads = await Promise.all(Array.from({ length: 64 }, () => sign(url, 'DescribeTaskDefinition', JSON.stringify({ taskDefinition: 'bench-web' }))));
    const writes = await Promise.all(Array.from({ length: 512 }, (_, i) => sign(url, 'RegisterTaskDefinition', taskDefinitionBody(i))));
    const toBaseline = (rs: LoadRequest[]) => rs.map((r) => ({ ...r, url: baseline.url }));
    const load = (requests: readonly LoadRequest[]) => runLoad({ requests, concurrency: CONCURRENCY, ...opts });

    progress('warming up');
    await runLoad({ requests: reads, concurrency: CONCURRENCY, durationMs: 1000, maxRequests: 5000 });
    await runLoad({ requests: toBaseline(reads), concurrency: CONCURRENCY, durationMs: 1000, maxRequests: 5000 });

    progress('baseline: bare node:http + SigV4 verification');
    const base = await load(toBaseline(reads));
    progress('gantry: DescribeTaskDefinition');
    const read = await load(reads);
    progress('baseline again (for write comparison)');
    const base2 = await load(toBaseline(writes));
    progress('gantry: RegisterTaskDefinition (durable)');
    const write = await load(writes);
    return [
      { name: 'DescribeTaskDefinition (read)', result: read, baseline: base, ratio: read.rps / base.rps, target: 0.5 },
      { name: 'RegisterTaskDefinition (durable write)', result: write, baseline: base2, ratio: write.rps / base2.rps, target: 0.25 },
    ];
  } finally {
    baseline.stop();
    await gantry.stop();
  }
}
