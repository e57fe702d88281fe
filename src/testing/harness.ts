/**
 * End-to-end harness: starts a real `gantry server` process on a free loopback port with its own data
 * directory, and drives it with the three real clients: the JS SDK, Debian's AWS CLI (/usr/bin/aws) and
 * boto3 (/usr/bin/python3).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ACCESS_KEY_ID = 'AKIAGANTRYTEST000001';
export const SECRET_ACCESS_KEY = 'gantry-test-secret-key-0000000000000000';
export const REGION = 'eu-west-1';
export const ACCOUNT = '111122223333';

export interface GantryProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Output so far (for diagnostics). */
  output(): string;
  /** SIGKILL, no cleanup: what a crash looks like. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export async function startGantry(opts: { dataDir?: string; port?: number; extraArgs?: string[] } = {}): Promise<GantryProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'gantry-e2e-'));
  // GANTRY_SERVER_NODE_ARGS passes node flags to the server process only (e.g. --cpu-prof for a bench).
  const nodeArgs = (process.env['GANTRY_SERVER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      join(ROOT, 'dist', 'cli', 'main.js'),
      'server',
      '--port',
      String(opts.port ?? 0),
      '--data-dir',
      dataDir,
      '--region',
      REGION,
      '--account-id',
      ACCOUNT,
      '--log-level',
      'warn',
      ...(opts.extraArgs ?? []),
    ],
    {
      env: { ...process.env, GANTRY_ACCESS_KEY_ID: ACCESS_KEY_ID, GANTRY_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const fail = (e: Error) => {
      if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
      reject(e);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`gantry did not start in 20 s:\n${out}`));
    }, 20_000);
    const check = () => {
      const m = /Gantry is running at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`gantry exited with ${code} before starting:\n${out}`));
    });
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    dataDir,
    child,
    output: () => out,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function clientEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/root',
    AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Parsed stdout when it is JSON. */
  readonly json: any;
  /** The exception name from "An error occurred (X) when calling …". */
  readonly errorCode: string | undefined;
}

/** Runs Debian's AWS CLI v2 (/usr/bin/aws) against the server. */
export function aws(url: string, args: readonly string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync('/usr/bin/aws', [...args, '--endpoint-url', url, '--output', 'json'], {
    env: clientEnv(env),
    encoding: 'utf8',
    timeout: 120_000,
  });
  let json: unknown;
  try {
    json = r.stdout.trim() === '' ? undefined : JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  const m = /An error occurred \(([^)]+)\)/.exec(r.stderr);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json, errorCode: m?.[1] };
}

export interface BotoCall {
  readonly service: 'ecs' | 'ecr';
  readonly op: string;
  readonly params?: object;
  /** Use the client's paginator for this op and return every page. */
  readonly paginate?: boolean;
}
export type BotoResult = { ok: true; result: any } | { ok: false; code: string; message: string; status: number };

/** Runs calls through boto3 (Debian's python3-boto3) in one Python process; results in order. */
export function boto3(url: string, calls: readonly BotoCall[], env: Record<string, string> = {}): BotoResult[] {
  const r = spawnSync('/usr/bin/python3', [join(ROOT, 'scripts', 'clients', 'boto3-driver.py'), url], {
    env: clientEnv(env),
    input: JSON.stringify(calls),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`boto3 driver failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as BotoResult[];
}
