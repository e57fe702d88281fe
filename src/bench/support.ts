/**
 * What the benchmarks that drive whole processes share: a small signed ECS client on one keep-alive
 * connection (signing with the agent's own signer, so the client costs next to nothing per call), gantry
 * processes with join tokens, and per-process CPU time and memory from /proc.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { signRequest } from '../auth/sigv4-sign.js';
import { ACCESS_KEY_ID, REGION, ROOT, SECRET_ACCESS_KEY } from '../testing/harness.js';

const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113';

export const BENCH_JOIN = { accessKeyId: 'GJTKBENCHJOINTOKEN01', secretAccessKey: 'bench-join-secret-000000000000000000000000' };

/** Writes the join token into a data directory before the server starts, so agents can be told it up front. */
export function writeJoinToken(dataDir: string): string {
  writeFileSync(join(dataDir, 'join-token'), `${BENCH_JOIN.accessKeyId}:${BENCH_JOIN.secretAccessKey}\n`, { mode: 0o600 });
  return `${BENCH_JOIN.accessKeyId}:${BENCH_JOIN.secretAccessKey}`;
}

export class EcsClient {
  readonly #url: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 4 });

  constructor(url: string) {
    this.#url = url.endsWith('/') ? url : `${url}/`;
  }

  /** Calls an ECS operation as the root user; throws with the error body on anything but 200. */
  call<T = any>(op: string, input: object): Promise<T> {
    const body = JSON.stringify(input);
    const headers = signRequest(
      {
        method: 'POST',
        url: this.#url,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${TARGET_PREFIX}.${op}` },
        body,
      },
      { service: 'ecs', region: REGION, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }, nowMs: Date.now() },
    );
    return new Promise((resolve, reject) => {
      const req = request(this.#url, { method: 'POST', headers, agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) resolve(JSON.parse(text) as T);
          else reject(new Error(`${op}: HTTP ${res.statusCode} ${text.slice(0, 300)}`));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

export interface ChildGantry {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `gantry <args>` as a child process (an agent, a hollow fleet), stopped with SIGTERM. */
export function spawnGantry(args: readonly string[]): ChildGantry {
  // GANTRY_FLEET_NODE_ARGS passes node flags to these processes (the hollow fleet), e.g. --cpu-prof.
  const nodeArgs = (process.env['GANTRY_FLEET_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist', 'cli', 'main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const TICKS_PER_SECOND = 100;

/** User + system CPU time a process has used so far, in seconds (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds of one thread of a process (the main thread's id is the process id). */
export function threadCpuSeconds(pid: number, tid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Waits until every instance of the cluster shows agentConnected (asking only about those that did not yet). */
export async function untilConnected(ecs: EcsClient, cluster: string, n: number, timeoutMs: number, agent?: ChildGantry): Promise<void> {
  const end = performance.now() + timeoutMs;
  const gone = () => agent !== undefined && agent.child.exitCode !== null;
  let arns: string[] = [];
  while (arns.length < n) {
    arns = [];
    let nextToken: string | undefined;
    do {
      const page = await ecs.call('ListContainerInstances', { cluster, maxResults: 100, ...(nextToken ? { nextToken } : {}) });
      arns.push(...(page.containerInstanceArns as string[]));
      nextToken = page.nextToken;
    } while (nextToken);
    if (arns.length < n) {
      if (performance.now() > end || gone()) throw new Error(`only ${arns.length} of ${n} instances registered in cluster ${cluster}`);
      await sleep(250);
    }
  }
  let waiting = arns;
  while (waiting.length > 0) {
    const still: string[] = [];
    for (let i = 0; i < waiting.length; i += 100) {
      const out = await ecs.call('DescribeContainerInstances', { cluster, containerInstances: waiting.slice(i, i + 100) });
      for (const ci of out.containerInstances as { containerInstanceArn: string; agentConnected: boolean }[]) if (!ci.agentConnected) still.push(ci.containerInstanceArn);
    }
    waiting = still;
    if (waiting.length === 0) return;
    if (performance.now() > end || gone()) throw new Error(`${waiting.length} of ${n} instances never connected their agent`);
    await sleep(250);
  }
}
