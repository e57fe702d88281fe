/**
 * The hub's side of the channel, spoken to by hand: the real server in this process, one instance registered
 * with the join token and a raw WebSocket that plays its agent. What the hub sends is checked message by message.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import type { ECSClient } from '@aws-sdk/client-ecs';
import WebSocket from 'ws';
import type { DesiredTask } from '../domain/task.js';
import { register } from '../agent/registration.js';
import { startServer } from '../app/server-app.js';
import type { RunningServer } from '../app/server-app.js';
import { presignUrl } from '../auth/sigv4-sign.js';
import { compileServerConfig } from '../config/server-config.js';
import type { TaskReport } from '../domain/task.js';
import { sdkClient } from '../e2e/support.js';
import type { AgentMessage, ServerMessage } from '../protocol/agent/messages.js';
import { AGENT_CHANNEL_PATH, AGENT_PROTOCOL_VERSION } from '../protocol/agent/messages.js';
import { ACCESS_KEY_ID, ACCOUNT, REGION, SECRET_ACCESS_KEY } from '../testing/harness.js';
import { silentLogger } from '../util/log.js';
import { parseJoinToken } from './join-token.js';

const CLUSTER = 'hub';
const dataDir = mkdtempSync(join(tmpdir(), 'gantry-hub-'));
let server: RunningServer;
let ecs: ECSClient;
let instanceArn: string;
let ws: WebSocket;
const received: ServerMessage[] = [];
let arrived: (() => void) | undefined;

/** The next server message that satisfies `match` (already received or yet to come). */
async function next<T extends ServerMessage['t']>(t: T, from: number, match: (m: Extract<ServerMessage, { t: T }>) => boolean = () => true): Promise<Extract<ServerMessage, { t: T }>> {
  for (let i = from; ; i++) {
    while (i >= received.length) await new Promise<void>((r) => (arrived = r));
    const m = received[i]!;
    if (m.t === t && match(m as Extract<ServerMessage, { t: T }>)) return m as Extract<ServerMessage, { t: T }>;
  }
}

const send = (m: AgentMessage) => ws.send(JSON.stringify(m));
const desiredCount = () => received.filter((m) => m.t === 'desired' || m.t === 'desired-changes').length;

/** The desired set as the agent holds it: the last whole set, with every change since folded in. */
function desiredSet(upTo = received.length): Map<string, DesiredTask> {
  const set = new Map<string, DesiredTask>();
  for (const m of received.slice(0, upTo)) {
    if (m.t === 'desired') {
      set.clear();
      for (const t of m.tasks) set.set(t.taskArn, t);
    } else if (m.t === 'desired-changes') {
      for (const t of m.tasks) set.set(t.taskArn, t);
      for (const arn of m.removed) set.delete(arn);
    }
  }
  return set;
}

/** Waits for the next change message after `from` and answers the set as it stands then. */
async function nextSet(from: number): Promise<DesiredTask[]> {
  const m = await next('desired-changes', from);
  return [...desiredSet(received.indexOf(m) + 1).values()];
}

/**
 * Everything the hub had to say about what came before: messages on one channel are ordered, and the hub
 * answers a heartbeat only after the work a previous message set off (a commit, a desired-set flush) is out.
 */
async function roundTrip(): Promise<void> {
  const at = Date.now() + Math.random();
  const from = received.length;
  send({ t: 'heartbeat', at });
  await next('heartbeat', from);
}

async function report(seq: number, r: TaskReport): Promise<void> {
  const from = received.length;
  send({ t: 'report', seq, report: r });
  await next('ack', from, (m) => m.seq === seq);
  await roundTrip();
}

before(async () => {
  const config = compileServerConfig({ port: '0', 'data-dir': dataDir, region: REGION, 'account-id': ACCOUNT, 'log-level': 'error' }, {});
  server = await startServer({ config, logger: silentLogger, env: { GANTRY_ACCESS_KEY_ID: ACCESS_KEY_ID, GANTRY_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY } });
  await server.ensureCluster(CLUSTER);
  ecs = sdkClient(server.url);
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'web', image: 'busybox', memory: 32 }] }));
  const reg = await register({
    endpoint: server.url,
    region: REGION,
    key: parseJoinToken(server.joinToken())!,
    request: {
      cluster: CLUSTER,
      clientToken: randomUUID(),
      totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
        { name: 'MEMORY', type: 'INTEGER', integerValue: 4096 },
      ],
      attributes: [],
      versionInfo: { agentVersion: '0.1.0-test' },
    },
    nowMs: Date.now(),
  });
  instanceArn = reg.containerInstanceArn;
  const url = new URL(AGENT_CHANNEL_PATH, server.url.replace(/^http/, 'ws'));
  ws = new WebSocket(presignUrl(url.toString(), { service: 'ecs', region: REGION, credentials: reg, nowMs: Date.now(), expiresSec: 60 }));
  ws.on('message', (d) => {
    received.push(JSON.parse(d.toString()) as ServerMessage);
    arrived?.();
  });
  await new Promise((r) => ws.once('open', r));
  send({ t: 'hello', protocol: AGENT_PROTOCOL_VERSION, agentVersion: '0.1.0-test', containerInstanceArn: instanceArn, tasks: [] });
});

after(async () => {
  ws?.terminate();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('AgentHub desired sets', () => {
  it('sends the whole set after hello, then changes: when a task is placed, not after reports, and when a stop is asked or done', async () => {
    assert.deepEqual((await next('desired', 0)).tasks, []);

    const from = received.length;
    const run = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'web' }));
    const taskArn = run.tasks![0]!.taskArn!;
    const placed = await nextSet(from);
    assert.equal(placed.length, 1);
    assert.equal(placed[0]!.taskArn, taskArn);
    assert.equal(placed[0]!.desiredStatus, 'RUNNING');
    await roundTrip();

    // Reports change the task record, not what the agent must do: no set comes back for them.
    const before = desiredCount();
    await report(1, { taskArn, lastStatus: 'PENDING', pullStartedAt: Date.now() / 1000, containers: [{ name: 'web', lastStatus: 'PENDING' }] });
    await report(2, { taskArn, lastStatus: 'RUNNING', startedAt: Date.now() / 1000, containers: [{ name: 'web', lastStatus: 'RUNNING', runtimeId: 'c1' }] });
    assert.equal(desiredCount(), before);

    const stopFrom = received.length;
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    const stopping = await nextSet(stopFrom);
    assert.deepEqual(stopping.map((t) => [t.taskArn, t.desiredStatus]), [[taskArn, 'STOPPED']]);

    const doneFrom = received.length;
    await report(3, { taskArn, lastStatus: 'STOPPED', executionStoppedAt: Date.now() / 1000, containers: [{ name: 'web', lastStatus: 'STOPPED', exitCode: 0 }] });
    const done = await next('desired-changes', doneFrom);
    assert.deepEqual([done.tasks, done.removed], [[], [taskArn]], 'a stopped task leaves the set');
    assert.deepEqual([...desiredSet().keys()], []);
  });
});

describe('AgentHub and registry tokens', () => {
  it("sends the whole set again, with a fresh pull token, when the instance's registry tokens are revoked", async () => {
    const host = new URL(server.url).host;
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'private', containerDefinitions: [{ name: 'app', image: `${host}/team/app:1`, memory: 32 }] }));
    const from = received.length;
    const run = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'private' }));
    const taskArn = run.tasks![0]!.taskArn!;
    const placed = await next('desired-changes', from, (m) => m.tasks.some((t) => t.taskArn === taskArn));
    const before = placed.tasks.find((t) => t.taskArn === taskArn)!.registryAuth?.[host];
    assert.equal(before?.username, 'AWS');

    const at = received.length;
    await server.registry.auth.revokeTokens(instanceArn);
    const again = await next('desired', at);
    const after = again.tasks.find((t) => t.taskArn === taskArn)!.registryAuth?.[host];
    assert.equal(after?.username, 'AWS');
    assert.notEqual(after?.password, before?.password);
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
  });
});
