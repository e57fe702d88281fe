/**
 * The log relay end to end inside one process: the real server (store, hub, `GET /gantry/v1/logs`), and an
 * agent on the fake runtime whose containers write their fake logs. Reads go over HTTP, signed like the CLI's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DescribeTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { Agent } from '../agent/agent.js';
import { behaviourLabel } from '../agent/runtime/fake/behaviour.js';
import { FakeRuntime } from '../agent/runtime/fake/fake-runtime.js';
import { LABELS } from '../agent/runtime/runtime.js';
import { TimerWheel } from '../agent/timers.js';
import { startServer } from '../app/server-app.js';
import type { RunningServer } from '../app/server-app.js';
import { signRequest } from '../auth/sigv4-sign.js';
import { compileServerConfig } from '../config/server-config.js';
import { sdkClient } from '../e2e/support.js';
import { LOG_STATUS_TRAILER, LOGS_PATH, NDJSON } from '../protocol/logs.js';
import type { LogRecord } from '../protocol/logs.js';
import { ACCESS_KEY_ID, ACCOUNT, REGION, SECRET_ACCESS_KEY } from '../testing/harness.js';
import { cryptoRng } from '../util/clock.js';
import { parseJoinToken } from './join-token.js';
import { silentLogger } from '../util/log.js';

const CLUSTER = 'logs';
const dataDir = mkdtempSync(join(tmpdir(), 'gantry-logs-relay-'));
const stateDir = mkdtempSync(join(tmpdir(), 'gantry-logs-agent-'));
const timers = new TimerWheel({ resolutionMs: 5 });
const runtime = new FakeRuntime({ host: { cpus: 2, memoryMiB: 4096 }, images: ['busybox'], maxLogLines: 10_000 });
let server: RunningServer;
let ecs: ECSClient;
let agent: Agent;

interface Read {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly trailer: string | undefined;
}

/** A signed GET of the logs endpoint; `abortAfter` closes the connection once that much has arrived. */
function read(query: Record<string, string>, opts: { ndjson?: boolean; key?: { accessKeyId: string; secretAccessKey: string }; until?: (body: string) => boolean } = {}): Promise<Read> {
  const url = new URL(LOGS_PATH, server.url);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const headers = signRequest(
    { method: 'GET', url: url.toString(), headers: opts.ndjson === false ? {} : { accept: NDJSON } },
    { service: 'ecs', region: REGION, credentials: opts.key ?? { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }, nowMs: Date.now() },
  );
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
        if (opts.until?.(body)) {
          req.destroy();
          resolve({ status: res.statusCode!, contentType: String(res.headers['content-type']), body, trailer: undefined });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, contentType: String(res.headers['content-type']), body, trailer: res.trailers[LOG_STATUS_TRAILER.toLowerCase()] }));
      res.on('error', () => undefined);
    });
    req.on('error', (e) => (opts.until ? undefined : reject(e)));
    req.end();
  });
}

const records = (body: string): LogRecord[] => body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LogRecord);

async function runTask(family: string): Promise<{ arn: string; id: string }> {
  const run = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: family }));
  assert.deepEqual(run.failures, []);
  const arn = run.tasks![0]!.taskArn!;
  const end = Date.now() + 10_000;
  for (;;) {
    const t = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }))).tasks![0]!;
    if (t.lastStatus === 'RUNNING' || t.lastStatus === 'STOPPED') break;
    if (Date.now() > end) throw new Error(`task ${arn} did not start`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { arn, id: arn.split('/').at(-1)! };
}

/** The fake container of a task's container, to write to its log. */
async function containerOf(taskArn: string, name: string): Promise<string> {
  const [c] = await runtime.listContainers({ [LABELS.taskArn]: taskArn, [LABELS.containerName]: name });
  assert.ok(c, `a fake container for ${name} of ${taskArn}`);
  return c.id;
}

function newAgent(): Agent {
  return new Agent({
    options: {
      endpoint: server.url,
      cluster: CLUSTER,
      region: REGION,
      registrationKey: parseJoinToken(server.joinToken())!,
      attributes: [],
      reservedMemoryMiB: 0,
      reservedPorts: [],
      reservedPortsUdp: [],
      stateDir,
      durable: false,
      lockStateDir: true,
      containerStopTimeoutSec: 1,
      containerStartTimeoutSec: 60,
      containerCleanupAfterMs: 3_600_000,
      imagePullBehavior: 'prefer-cached',
      agentVersion: '0.1.0-test',
      heartbeatMs: 500,
    },
    runtime,
    timers,
    rng: cryptoRng,
    logger: silentLogger,
  });
}

before(async () => {
  const config = compileServerConfig({ port: '0', 'data-dir': dataDir, region: REGION, 'account-id': ACCOUNT, 'log-level': 'error' }, {});
  server = await startServer({
    config,
    logger: silentLogger,
    env: { GANTRY_ACCESS_KEY_ID: ACCESS_KEY_ID, GANTRY_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY },
  });
  await server.ensureCluster(CLUSTER);
  ecs = sdkClient(server.url);
  const chatty = behaviourLabel({
    script: [
      { afterMs: 0, log: 'hello from stdout' },
      { afterMs: 0, log: 'hello from stderr', stream: 'stderr' },
      { afterMs: 0, log: 'third' },
    ],
  });
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'chatty', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 32, dockerLabels: chatty }] }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'pair',
      containerDefinitions: [
        { name: 'web', image: 'busybox', memory: 32, dockerLabels: chatty },
        { name: 'sidecar', image: 'busybox', memory: 32 },
      ],
    }),
  );
  agent = newAgent();
  await agent.start();
});

after(async () => {
  await agent?.stop();
  timers.close();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
});

describe('GET /gantry/v1/logs through the hub and the agent (fake runtime)', () => {
  it('returns what the container wrote, as NDJSON with the stream of each line, and ends with status ok', async () => {
    const { id } = await runTask('chatty');
    const r = await read({ cluster: CLUSTER, task: id });
    assert.equal(r.status, 200);
    assert.match(r.contentType, /application\/x-ndjson/);
    assert.deepEqual(records(r.body).map((l) => [l.stream, l.line]), [
      ['stdout', 'hello from stdout'],
      ['stderr', 'hello from stderr'],
      ['stdout', 'third'],
    ]);
    assert.ok(!Number.isNaN(Date.parse(records(r.body)[0]!.time)));
    assert.equal(r.trailer, 'ok');
  });

  it('plain text by default, with tail; the task may be named by ARN', async () => {
    const { arn } = await runTask('chatty');
    const r = await read({ cluster: CLUSTER, task: arn, tail: '2' }, { ndjson: false });
    assert.equal(r.status, 200);
    assert.match(r.contentType, /text\/plain/);
    assert.equal(r.body, 'hello from stderr\nthird\n');
  });

  it('follows: new lines arrive as they are written, and the stream ends when the container stops', async () => {
    const { arn, id } = await runTask('chatty');
    const container = await containerOf(arn, 'app');
    const reading = read({ cluster: CLUSTER, task: id, follow: '1' });
    await new Promise((r) => setTimeout(r, 100));
    runtime.control.log(container, 'written later');
    await new Promise((r) => setTimeout(r, 100));
    runtime.control.exit(container, 0);
    const r = await reading;
    assert.equal(r.status, 200);
    assert.deepEqual(records(r.body).map((l) => l.line), ['hello from stdout', 'hello from stderr', 'third', 'written later']);
    assert.equal(r.trailer, 'ok');
  });

  it('a many-thousand-line log arrives whole and in order', async () => {
    const { arn, id } = await runTask('chatty');
    const container = await containerOf(arn, 'app');
    for (let i = 0; i < 5000; i++) runtime.control.log(container, `bulk ${i} ${'x'.repeat(100)}`);
    const r = await read({ cluster: CLUSTER, task: id, tail: '5000' });
    const lines = records(r.body).map((l) => l.line);
    assert.equal(lines.length, 5000);
    assert.equal(lines[0]!.startsWith('bulk 0 '), true);
    assert.equal(lines[4999]!.startsWith('bulk 4999 '), true);
  });

  it('a reader that goes away cancels the stream on the agent', async () => {
    const { id } = await runTask('chatty');
    const r = await read({ cluster: CLUSTER, task: id, follow: '1' }, { until: (body) => body.includes('third') });
    assert.equal(r.status, 200);
    const end = Date.now() + 5000;
    while (agent.openLogStreams > 0 && Date.now() < end) await new Promise((res) => setTimeout(res, 10));
    assert.equal(agent.openLogStreams, 0);
  });

  it('errors: unknown task 404, unknown or missing container 400 listing the containers, bad tail 400, wrong key 403', async () => {
    const missing = await read({ cluster: CLUSTER, task: '0123456789abcdef0123456789abcdef' });
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body).message, /Task 0123456789abcdef0123456789abcdef was not found in cluster logs/);
    assert.equal((await read({ cluster: 'nope', task: 'x' })).status, 404);

    const { id } = await runTask('pair');
    const unknown = await read({ cluster: CLUSTER, task: id, container: 'db' });
    assert.equal(unknown.status, 400);
    assert.match(JSON.parse(unknown.body).message, /no container named 'db'; its containers are: web, sidecar/);
    const ambiguous = await read({ cluster: CLUSTER, task: id });
    assert.equal(ambiguous.status, 400);
    assert.match(JSON.parse(ambiguous.body).message, /2 containers \(web, sidecar\); name one/);
    const named = await read({ cluster: CLUSTER, task: id, container: 'web' });
    assert.equal(named.status, 200);
    assert.equal(records(named.body).length, 3);

    assert.equal((await read({ cluster: CLUSTER, task: id, container: 'web', tail: 'ten' })).status, 400);
    const forged = await read({ cluster: CLUSTER, task: id, container: 'web' }, { key: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'wrong' } });
    assert.equal(forged.status, 403);
  });

  it('an agent that is not connected: 503 saying so', async () => {
    const { id } = await runTask('chatty');
    await agent.stop();
    try {
      const end = Date.now() + 5000;
      let r: Read;
      do {
        r = await read({ cluster: CLUSTER, task: id });
        if (r.status === 503) break;
        await new Promise((res) => setTimeout(res, 20));
      } while (Date.now() < end);
      assert.equal(r.status, 503);
      assert.match(JSON.parse(r.body).message, /is not connected/);
    } finally {
      agent = newAgent();
      await agent.start();
    }
  });
});
