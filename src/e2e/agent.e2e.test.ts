/**
 * The agent against a real server: `gantry server` in a child process, the agent in this process on the fake
 * runtime. Join with a token, run, stop and lose tasks through the JS SDK, restart the agent, and check that
 * what DescribeTasks shows is what the agent observed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateClusterCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import type { ECSClient, Task } from '@aws-sdk/client-ecs';
import { Agent } from '../agent/agent.js';
import type { AgentOptions } from '../agent/agent.js';
import { behaviourLabel } from '../agent/runtime/fake/behaviour.js';
import { FakeRuntime } from '../agent/runtime/fake/fake-runtime.js';
import { TimerWheel } from '../agent/timers.js';
import { REGION, startGantry } from '../testing/harness.js';
import type { GantryProcess } from '../testing/harness.js';
import { cryptoRng } from '../util/clock.js';
import { silentLogger } from '../util/log.js';
import { sdkClient } from './support.js';

const JOIN = { accessKeyId: 'GJTKE2EAGENTJOIN0001', secretAccessKey: 'e2e-agent-join-secret-000000000000000000' };
const CLUSTER = 'agents';

let gantry: GantryProcess;
let ecs: ECSClient;
const timers = new TimerWheel({ resolutionMs: 10 });
const runtime = new FakeRuntime({ host: { cpus: 2, memoryMiB: 4096 } });
const stateDir = mkdtempSync(join(tmpdir(), 'gantry-agent-e2e-'));
let agent: Agent;

function newAgent(): Agent {
  const options: AgentOptions = {
    endpoint: gantry.url,
    cluster: CLUSTER,
    region: REGION,
    registrationKey: JOIN,
    zone: 'zone-a',
    instanceType: 'gantry.test',
    attributes: [{ name: 'stack', value: 'e2e' }],
    reservedMemoryMiB: 0,
    reservedPorts: [22],
    reservedPortsUdp: [],
    stateDir,
    durable: true,
    lockStateDir: true,
    containerStopTimeoutSec: 2,
    containerStartTimeoutSec: 180,
    containerCleanupAfterMs: 3_600_000,
    imagePullBehavior: 'default',
    agentVersion: '0.1.0-e2e',
    heartbeatMs: 1000,
  };
  return new Agent({ options, runtime, timers, rng: cryptoRng, logger: silentLogger });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function task(arn: string): Promise<Task> {
  const out = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }));
  return out.tasks![0]!;
}

const taskIn = (arn: string, status: string) => until(`task ${status}`, async () => ((await task(arn)).lastStatus === status ? task(arn) : undefined));

before(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-e2e-'));
  writeFileSync(join(dataDir, 'join-token'), `${JOIN.accessKeyId}:${JOIN.secretAccessKey}\n`, { mode: 0o600 });
  gantry = await startGantry({ dataDir });
  ecs = sdkClient(gantry.url);
  await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web',
      containerDefinitions: [{ name: 'web', image: 'nginx:1.27', memory: 128, portMappings: [{ containerPort: 80, hostPort: 8080 }] }],
    }),
  );
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'crash',
      containerDefinitions: [{ name: 'job', image: 'busybox', memory: 64, dockerLabels: behaviourLabel({ script: [{ afterMs: 300, exit: 3 }] }) }],
    }),
  );
  agent = newAgent();
  await agent.start();
});

after(async () => {
  await agent?.stop();
  timers.close();
  await gantry?.stop();
});

describe('agent ↔ server', () => {
  test('the instance registers with its capabilities and shows as connected', async () => {
    const arns = await until('an instance', async () => (await ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns?.[0]);
    assert.equal(arns, agent.containerInstanceArn);
    const ci = await until('agentConnected', async () => {
      const c = (await ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [arns] }))).containerInstances![0]!;
      return c.agentConnected ? c : undefined;
    });
    const attrs = new Map((ci.attributes ?? []).map((a) => [a.name, a.value]));
    assert.equal(attrs.get('ecs.availability-zone'), 'zone-a');
    assert.equal(attrs.get('stack'), 'e2e');
    assert.ok(attrs.has('ecs.capability.container-health-check'));
    assert.equal(ci.registeredResources?.find((r) => r.name === 'CPU')?.integerValue, 2048);
    assert.equal(ci.versionInfo?.agentVersion, '0.1.0-e2e');
  });

  test('RunTask → RUNNING with bindings; StopTask → STOPPED with the exit code', async () => {
    const run = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'web' }));
    assert.deepEqual(run.failures, []);
    const arn = run.tasks![0]!.taskArn!;
    const running = await taskIn(arn, 'RUNNING');
    const c = running.containers![0]!;
    assert.ok(c.runtimeId);
    assert.deepEqual(c.networkBindings?.map((b) => [b.containerPort, b.hostPort]), [[80, 8080]]);
    assert.ok(running.pullStartedAt && running.pullStoppedAt && running.startedAt);

    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn, reason: 'e2e' }));
    const stopped = await taskIn(arn, 'STOPPED');
    assert.equal(stopped.stopCode, 'UserInitiated');
    assert.equal(stopped.stoppedReason, 'e2e');
    assert.equal(stopped.containers![0]!.exitCode, 143);
  });

  test('an essential container that exits stops its task', async () => {
    const run = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'crash' }));
    const stopped = await taskIn(run.tasks![0]!.taskArn!, 'STOPPED');
    assert.equal(stopped.stopCode, 'EssentialContainerExited');
    assert.equal(stopped.stoppedReason, 'Essential container in task exited');
    assert.equal(stopped.containers![0]!.exitCode, 3);
  });

  test('a restarted agent keeps its instance and its running tasks', async () => {
    const run = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'web', count: 1 }));
    // The first web task freed port 8080 when it stopped, so this one fits.
    assert.deepEqual(run.failures, []);
    const arn = run.tasks![0]!.taskArn!;
    const before = await taskIn(arn, 'RUNNING');
    const instance = agent.containerInstanceArn;
    await agent.stop();
    const containers = runtime.size;
    agent = newAgent();
    await agent.start();
    assert.equal(agent.containerInstanceArn, instance);
    await until('reconnected', async () => (agent.connected ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    const after = await task(arn);
    assert.equal(after.lastStatus, 'RUNNING');
    assert.equal(after.containers![0]!.runtimeId, before.containers![0]!.runtimeId);
    assert.equal(runtime.size, containers, 'nothing was started twice');
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
    await taskIn(arn, 'STOPPED');
  });
});
