/**
 * Shared pieces of the end-to-end suites: one way to call an ECS operation with each of the three real clients
 * (JS SDK, Debian's AWS CLI, boto3), one way to check the error each of them reports, and a server with a
 * cluster of hollow instances.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ecs from '@aws-sdk/client-ecs';
import type { ECSClientConfig } from '@aws-sdk/client-ecs';
import { EcsClient, spawnGantry, untilConnected, writeJoinToken } from '../bench/support.js';
import { ACCESS_KEY_ID, ACCOUNT, REGION, SECRET_ACCESS_KEY, aws, boto3, startGantry } from '../testing/harness.js';
import type { BotoCall, BotoResult, CliResult, GantryProcess } from '../testing/harness.js';

export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113';

/** ARNs as the test server (REGION, ACCOUNT) mints them. */
export const clusterArn = (name: string): string => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`;
export const tdArn = (family: string, revision: number): string => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;

export function sdkClient(url: string, config: Partial<ECSClientConfig> = {}): ecs.ECSClient {
  // The SDK warns once per process that releases after January 2027 need Node 22; noise in test output.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  return new ecs.ECSClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    ...config,
  });
}

type CommandCtor = new (input: object) => Parameters<ecs.ECSClient['send']>[0];

/** Sends `op` through the JS SDK by name (e.g. 'CreateCluster' → CreateClusterCommand). */
export async function sdkCall(client: ecs.ECSClient, op: string, params: object = {}): Promise<any> {
  const Ctor = (ecs as unknown as Record<string, CommandCtor | undefined>)[`${op}Command`];
  if (Ctor === undefined) throw new Error(`the JS SDK has no ${op}Command`);
  return client.send(new Ctor(params));
}

/** The error the JS SDK threw for `op` (fails the test if it succeeded). */
export async function sdkError(client: ecs.ECSClient, op: string, params: object = {}): Promise<any> {
  try {
    await sdkCall(client, op, params);
  } catch (e) {
    return e;
  }
  assert.fail(`${op} ${JSON.stringify(params)} succeeded through the JS SDK; an error was expected`);
}

export const kebab = (op: string): string => op.replace(/(?<!^)(?=[A-Z])/g, '-').toLowerCase();

/** Runs `aws ecs <op> --cli-input-json <params>`: the CLI's own serialiser, whatever the operation's flags. */
export function cliCall(url: string, op: string, params: object = {}): CliResult {
  return aws(url, ['ecs', kebab(op), '--cli-input-json', JSON.stringify(params)]);
}

/** A CLI call that must succeed; returns the parsed output. */
export function cliOk(r: CliResult, what = 'aws'): any {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}): ${r.stderr}`);
  return r.json;
}

/** One boto3 driver run; every call must succeed. */
export function botoOk(url: string, calls: readonly BotoCall[]): any[] {
  const results = boto3(url, calls);
  return results.map((r, i) => {
    assert.ok(r.ok, `boto3 call #${i} ${calls[i]!.op} failed: ${JSON.stringify(r)}`);
    return r.result;
  });
}

export const ecsCall = (op: string, params: object = {}, paginate = false): BotoCall =>
  paginate ? { service: 'ecs', op, params, paginate } : { service: 'ecs', op, params };

export interface ExpectedError {
  readonly op: string;
  readonly code: string;
  /** Must match the message each client reports. */
  readonly message?: RegExp;
}

export function assertSdkError(e: any, x: ExpectedError, label = ''): void {
  const where = `${label}${x.op}`;
  assert.equal(e?.name, x.code, `${where}: JS SDK error.name (${String(e?.message)})`);
  assert.equal(e.$metadata?.httpStatusCode, 400, `${where}: JS SDK $metadata.httpStatusCode`);
  assert.equal(e.$fault, 'client', `${where}: JS SDK $fault`);
  if (x.message) assert.match(e.message, x.message, `${where}: JS SDK error.message`);
}

export function assertCliError(r: CliResult, x: ExpectedError, label = ''): void {
  const where = `${label}${x.op}`;
  assert.equal(r.status, 254, `${where}: CLI exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '', `${where}: CLI prints nothing on stdout`);
  const line = r.stderr.split('\n').find((l) => l.startsWith('An error occurred'));
  assert.ok(line, `${where}: no "An error occurred" line in ${JSON.stringify(r.stderr)}`);
  const prefix = `An error occurred (${x.code}) when calling the ${x.op} operation: `;
  assert.ok(line.startsWith(prefix), `${where}: expected "${prefix}…", got "${line}"`);
  if (x.message) assert.match(line.slice(prefix.length), x.message, `${where}: CLI message`);
}

export function assertBotoError(r: BotoResult, x: ExpectedError, label = ''): void {
  const where = `${label}${x.op}`;
  assert.equal(r.ok, false, `${where}: boto3 call succeeded: ${JSON.stringify(r)}`);
  if (r.ok) return;
  assert.equal(r.code, x.code, `${where}: boto3 Error.Code (${r.message})`);
  assert.equal(r.status, 400, `${where}: boto3 HTTPStatusCode`);
  if (x.message) assert.match(r.message, x.message, `${where}: boto3 Error.Message`);
}

/** An error case sent identically by all three clients. */
export interface ErrorCase extends ExpectedError {
  readonly name: string;
  readonly params: object;
}

export function assertNoDuplicates(items: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const i of items) {
    assert.ok(!seen.has(i), `${what}: ${i} returned twice`);
    seen.add(i);
  }
}

export const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

/** Epoch seconds (not milliseconds, not a string) within `slackS` of now. */
export function assertEpochSecondsNow(v: unknown, what: string, slackS = 120): void {
  assert.equal(typeof v, 'number', `${what} must be a JSON number, got ${JSON.stringify(v)}`);
  const now = Date.now() / 1000;
  assert.ok(Math.abs((v as number) - now) < slackS, `${what}=${String(v)} is not epoch seconds near ${now}`);
}

/** What the CLI prints for a timestamp it parsed from epoch seconds: ISO 8601, near now. */
export function assertIsoNow(v: unknown, what: string, slackS = 120): void {
  assert.equal(typeof v, 'string', `${what}: expected an ISO 8601 string, got ${JSON.stringify(v)}`);
  assert.match(v as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, what);
  const ms = Date.parse(v as string);
  assert.ok(Math.abs(ms - Date.now()) < slackS * 1000, `${what}=${String(v)} is not near now`);
}

/** A `gantry server` process with a cluster of hollow instances (`gantry agent --runtime fake`, one process). */
export interface HollowCluster {
  readonly gantry: GantryProcess;
  readonly ecs: EcsClient;
  close(): Promise<void>;
}

export async function startHollowCluster(opts: { cluster: string; instances: number; agentArgs: readonly string[] }): Promise<HollowCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-e2e-hollow-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'gantry-e2e-hollow-agents-'));
  const joinToken = writeJoinToken(dataDir);
  const gantry = await startGantry({ dataDir });
  const ecs = new EcsClient(gantry.url);
  await ecs.call('CreateCluster', { clusterName: opts.cluster });
  const fleet = spawnGantry([
    'agent', '--runtime', 'fake', '--instances', String(opts.instances), '--endpoint', gantry.url, '--cluster', opts.cluster, '--join-token', joinToken,
    '--region', REGION, '--state-dir', stateDir, '--log-level', 'warn', ...opts.agentArgs,
  ]);
  await untilConnected(ecs, opts.cluster, opts.instances, 60_000, fleet);
  return {
    gantry,
    ecs,
    close: async () => {
      await fleet.stop();
      ecs.close();
      await gantry.stop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
