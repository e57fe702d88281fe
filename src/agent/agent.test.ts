import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRng } from '../util/clock.js';
import { silentLogger } from '../util/log.js';
import { Agent } from './agent.js';
import type { AgentOptions } from './agent.js';
import { RegistrationError } from './registration.js';
import { FakeRuntime } from './runtime/fake/fake-runtime.js';
import { loadState } from './state-dir.js';
import { desiredTask, eventually } from './testing.js';
import { JOIN_KEY, TestHub } from './test-hub.js';
import { TimerWheel } from './timers.js';

let hub: TestHub;
before(async () => {
  hub = await new TestHub().listen();
});
after(() => hub.close());

const timers = new TimerWheel({ resolutionMs: 5 });
after(() => timers.close());

function options(stateDir: string, over: Partial<AgentOptions> = {}): AgentOptions {
  return {
    endpoint: hub.url,
    cluster: 'demo',
    region: 'us-east-1',
    registrationKey: JOIN_KEY,
    zone: 'zone-a',
    instanceType: 't.test',
    attributes: [{ name: 'team', value: 'web' }],
    reservedMemoryMiB: 256,
    reservedPorts: [22, 7400],
    reservedPortsUdp: [],
    stateDir,
    durable: true,
    lockStateDir: true,
    containerStopTimeoutSec: 30,
    containerStartTimeoutSec: 180,
    containerCleanupAfterMs: 3_600_000,
    imagePullBehavior: 'default',
    agentVersion: '0.1.0-test',
    heartbeatMs: 100,
    ...over,
  };
}

function agentOn(runtime: FakeRuntime, stateDir: string, over: Partial<AgentOptions> = {}) {
  return new Agent({ options: options(stateDir, over), runtime, timers, rng: seededRng(7), logger: silentLogger });
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'gantry-agent-'));

describe('Agent', () => {
  it('registers with what the host offers, connects, runs what the server wants and reports it', async () => {
    const runtime = new FakeRuntime({ host: { cpus: 4, memoryMiB: 8192 } });
    const dir = tempDir();
    const agent = agentOn(runtime, dir);
    await agent.start();
    const arn = agent.containerInstanceArn!;
    const reg = hub.registrations.at(-1)!;
    assert.equal(reg.cluster, 'demo');
    assert.deepEqual(reg.totalResources, [
      { name: 'CPU', type: 'INTEGER', integerValue: 4096 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: 8192 - 256 },
      { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22', '7400'] },
      { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
    ]);
    const attr = new Map(reg.attributes.map((a) => [a.name, a.value]));
    assert.equal(attr.get('ecs.availability-zone'), 'zone-a');
    assert.equal(attr.get('ecs.instance-type'), 't.test');
    assert.equal(attr.get('ecs.os-type'), 'linux');
    assert.equal(attr.get('ecs.cpu-architecture'), 'x86_64');
    assert.equal(attr.get('team'), 'web');
    for (const cap of [
      'com.amazonaws.ecs.capability.docker-remote-api.1.17',
      'com.amazonaws.ecs.capability.docker-remote-api.1.41',
      'com.amazonaws.ecs.capability.logging-driver.json-file',
      'com.amazonaws.ecs.capability.logging-driver.syslog',
      'com.amazonaws.ecs.capability.privileged-container',
      'ecs.capability.container-health-check',
      'ecs.capability.container-ordering',
      'ecs.capability.task-cpu-mem-limit',
    ]) {
      assert.ok(attr.has(cap), `advertises ${cap}`);
    }
    assert.ok(reg.clientToken.length > 0);
    assert.equal(loadState(dir)?.containerInstanceArn, arn, 'the identity is saved');

    await eventually(() => hub.of('hello', arn).length === 1, 5000, 'hello');
    assert.deepEqual(hub.of('hello', arn)[0]!.tasks, []);
    const t = desiredTask([{ name: 'web', image: 'nginx:1' }]);
    hub.send(arn, { t: 'desired', tasks: [t] });
    await eventually(() => hub.of('report', arn).some((m) => m.report.lastStatus === 'RUNNING'), 5000, 'RUNNING report');
    const seqs = hub.of('report', arn).map((m) => m.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'reports are numbered in order');
    await eventually(() => hub.of('heartbeat', arn).length >= 2, 5000, 'heartbeats');
    await agent.stop();
    assert.deepEqual(await agent.exited, { kind: 'stopped' });
  });

  it('re-sends what was not acknowledged after a reconnect, and hello carries every task', async () => {
    const runtime = new FakeRuntime();
    const agent = agentOn(runtime, tempDir());
    await agent.start();
    const arn = agent.containerInstanceArn!;
    await eventually(() => hub.of('hello', arn).length === 1, 5000, 'hello');
    hub.autoAck = false;
    const t = desiredTask([{ name: 'web', image: 'nginx:1' }]);
    hub.desired.set(arn, [t]);
    hub.send(arn, { t: 'desired', tasks: [t] });
    await eventually(() => hub.of('report', arn).some((m) => m.report.lastStatus === 'RUNNING'), 5000, 'RUNNING report');
    const lastSeq = hub.of('report', arn).at(-1)!.seq;

    hub.dropAll();
    await eventually(() => hub.of('hello', arn).length === 2, 10_000, 'second hello');
    await eventually(() => hub.sessions.filter((s) => s.instanceArn === arn).at(-1)!.messages.some((m) => m.t === 'report'), 5000, 're-sent report');
    const session = hub.sessions.filter((s) => s.instanceArn === arn).at(-1)!;
    const hello = session.messages[0]!;
    assert.equal(hello.t, 'hello');
    assert.deepEqual(hello.t === 'hello' && hello.tasks.map((x) => [x.taskArn, x.lastStatus]), [[t.taskArn, 'RUNNING']]);
    const resent = session.messages.filter((m) => m.t === 'report');
    assert.deepEqual(resent.map((m) => m.t === 'report' && m.seq), [lastSeq], 'only the newest unacknowledged report of the task');

    hub.autoAck = true;
    hub.send(arn, { t: 'ack', seq: lastSeq });
    await agent.stop();
  });

  it('a restarted agent keeps its identity, adopts its containers and re-sends unacknowledged reports', async () => {
    const runtime = new FakeRuntime();
    const dir = tempDir();
    const first = agentOn(runtime, dir);
    await first.start();
    const arn = first.containerInstanceArn!;
    await eventually(() => hub.of('hello', arn).length === 1, 5000, 'hello');
    hub.autoAck = false;
    const t = desiredTask([{ name: 'web', image: 'nginx:1' }]);
    hub.send(arn, { t: 'desired', tasks: [t] });
    await eventually(() => hub.of('report', arn).some((m) => m.report.lastStatus === 'RUNNING'), 5000, 'RUNNING report');
    const lastSeq = hub.of('report', arn).at(-1)!.seq;
    await first.stop();
    assert.equal(runtime.size, 1, 'containers keep running');

    const registrations = hub.registrations.length;
    const second = agentOn(runtime, dir);
    await second.start();
    assert.equal(second.containerInstanceArn, arn);
    assert.equal(hub.registrations.length, registrations, 'no second registration');
    await eventually(() => hub.of('hello', arn).length === 2, 5000, 'hello after restart');
    const hello = hub.of('hello', arn)[1]!;
    assert.equal(hello.tasks[0]?.lastStatus, 'RUNNING');
    await eventually(() => hub.of('report', arn).some((m) => m.seq >= lastSeq && hub.of('report', arn).indexOf(m) > 0), 5000, 're-sent report');
    hub.send(arn, { t: 'desired', tasks: [t] });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(runtime.size, 1, 'nothing started twice');
    hub.autoAck = true;
    await second.stop();
  });

  it('re-registers with the same instance ARN when what it offers changes', async () => {
    const runtime = new FakeRuntime();
    const dir = tempDir();
    const a = agentOn(runtime, dir);
    await a.start();
    const arn = a.containerInstanceArn!;
    const firstReg = hub.registrations.at(-1)!;
    await a.stop();
    const b = agentOn(runtime, dir, { attributes: [{ name: 'team', value: 'data' }] });
    await b.start();
    assert.equal(b.containerInstanceArn, arn);
    const reg = hub.registrations.at(-1)!;
    assert.notEqual(reg, firstReg);
    assert.equal(reg.containerInstanceArn, arn);
    assert.equal(reg.clientToken, firstReg.clientToken);
    assert.equal(loadState(dir)?.accessKeyId, [...hub.credentials.keys()].at(-1), 'the new credentials are saved');
    await b.stop();
  });

  it('stops when the server refuses it', async () => {
    const agent = agentOn(new FakeRuntime(), tempDir());
    await agent.start();
    const arn = agent.containerInstanceArn!;
    await eventually(() => hub.of('hello', arn).length === 1, 5000, 'hello');
    hub.send(arn, { t: 'refused', reason: 'instance deregistered' });
    assert.deepEqual(await agent.exited, { kind: 'refused', reason: 'instance deregistered' });
  });

  it('keeps dialling while the server refuses the upgrade, and connects once it accepts', async () => {
    const agent = agentOn(new FakeRuntime(), tempDir());
    hub.rejectUpgrades = true;
    await agent.start();
    const arn = agent.containerInstanceArn!;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(hub.of('hello', arn).length, 0);
    hub.rejectUpgrades = false;
    await eventually(() => hub.of('hello', arn).length === 1, 10_000, 'hello after the server accepts');
    await agent.stop();
  });

  it('refuses to start without a join token, or with a bad one', async () => {
    const noKey = new Agent({ options: { ...options(tempDir()), registrationKey: undefined } as unknown as AgentOptions, runtime: new FakeRuntime(), timers, rng: seededRng(1), logger: silentLogger });
    await assert.rejects(noKey.start(), (e: Error) => e instanceof RegistrationError && /join token/.test(e.message));
    const bad = agentOn(new FakeRuntime(), tempDir(), { registrationKey: { accessKeyId: JOIN_KEY.accessKeyId, secretAccessKey: 'wrong' } });
    await assert.rejects(bad.start(), (e: Error) => e instanceof RegistrationError && /refused \(403/.test(e.message));
  });

  it('one agent per state directory', async () => {
    const dir = tempDir();
    const a = agentOn(new FakeRuntime(), dir);
    await a.start();
    const b = agentOn(new FakeRuntime(), dir);
    await assert.rejects(b.start(), /another agent/);
    await a.stop();
  });
});
