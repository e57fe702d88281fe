/**
 * Crashes end to end (issue #3): the agent and the server are each killed with SIGKILL while tasks are starting
 * on a real Docker engine, and started again on the same state (the agent's state directory; the server's data
 * directory and port). Afterwards every task RunTask acknowledged exists and runs, Docker holds exactly one
 * container per (task, container) — none started twice, none belonging to a task the server does not know — and
 * stopping every task stops every container. A server restart on its own loses and changes nothing.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  CreateClusterCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import type { DesiredStatus, ECSClient, Task } from '@aws-sdk/client-ecs';
import { DockerRuntime } from '../agent/runtime/docker/docker-runtime.js';
import { LABELS } from '../agent/runtime/runtime.js';
import { TASK_STATUSES } from '../domain/task.js';
import { dockerHostOrSkip, removeOrphanedTestContainers } from '../testing/docker.js';
import { startGantry } from '../testing/harness.js';
import type { GantryProcess } from '../testing/harness.js';
import { agentStateDir, instanceContainers, removeInstanceContainers, serverDataDir, startAgent, testImage, testLabels, until } from './docker-e2e.js';
import type { AgentProcess, ListedContainer } from './docker-e2e.js';
import { sdkClient } from './support.js';

const { host: dockerHost, skip } = await dockerHostOrSkip();

const JOIN_TOKEN = 'GJTKE2ECRASHJOIN0001:e2e-crash-join-secret-00000000000000000000';
const CLUSTER = 'crash';
const CONTAINERS = ['app', 'side'] as const;
const IDLE = "trap 'exit 0' TERM; sleep 600 & wait";

let runtime: DockerRuntime;
let gantry: GantryProcess;
let ecs: ECSClient;
let agent: AgentProcess;
let dataDir: string;
let stateDir: string;
let port: number;
let instanceArn: string;
/** Every task a RunTask answer acknowledged, in order. */
const acknowledged: string[] = [];

const rank = (s: string | undefined) => TASK_STATUSES.indexOf((s ?? 'PROVISIONING') as (typeof TASK_STATUSES)[number]);

function startTheAgent(): AgentProcess {
  return startAgent({
    endpoint: gantry.url,
    cluster: CLUSTER,
    joinToken: JOIN_TOKEN,
    stateDir,
    dockerHost: dockerHost!,
    extraArgs: ['--container-stop-timeout', '5s', '--log-format', 'json', '--log-level', 'info'],
  });
}

const agentTail = () => `agent log (tail):\n${agent.output().split('\n').slice(-20).join('\n')}`;

/** DescribeTasks for every acknowledged task, by ARN (the API takes 100 at a time). */
async function describeAll(): Promise<Map<string, Task>> {
  const out = new Map<string, Task>();
  for (let i = 0; i < acknowledged.length; i += 100) {
    const r = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: acknowledged.slice(i, i + 100) }));
    assert.deepEqual(r.failures, [], 'every acknowledged task is known');
    for (const t of r.tasks ?? []) out.set(t.taskArn!, t);
  }
  assert.equal(out.size, acknowledged.length);
  return out;
}

async function listTasks(desiredStatus: DesiredStatus): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, desiredStatus, ...(nextToken ? { nextToken } : {}) }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

async function allIn(status: 'RUNNING' | 'STOPPED', timeoutMs: number): Promise<Map<string, Task>> {
  let last: Map<string, Task> | undefined;
  try {
    return await until(
      `all ${acknowledged.length} tasks ${status}`,
      async () => {
        last = await describeAll();
        return [...last.values()].every((t) => t.lastStatus === status) ? last : undefined;
      },
      timeoutMs,
      250,
    );
  } catch (e) {
    const states = [...(last?.values() ?? [])].map((t) => `${t.taskArn!.split('/').at(-1)} ${t.lastStatus}/${t.desiredStatus} ${t.stopCode ?? ''} ${t.stoppedReason ?? ''}`);
    throw new Error(`${(e as Error).message}\n${states.join('\n')}\n${agentTail()}`);
  }
}

/**
 * What Docker has for this instance against what the server knows: exactly one container per (task, container)
 * of every acknowledged task, each the one the server names (runtimeId), and none for a task the server does not
 * know. Returns the containers by task/container.
 */
async function checkDocker(tasks: Map<string, Task>): Promise<Map<string, ListedContainer>> {
  const known = new Set([...(await listTasks('RUNNING')), ...(await listTasks('STOPPED'))]);
  const byKey = new Map<string, ListedContainer[]>();
  for (const c of await instanceContainers(runtime, instanceArn)) {
    const arn = c.Labels[LABELS.taskArn];
    assert.ok(arn !== undefined && known.has(arn), `container ${c.Names[0]} belongs to a task the server does not know: ${arn}`);
    const key = `${arn}/${c.Labels[LABELS.containerName]}`;
    byKey.set(key, [...(byKey.get(key) ?? []), c]);
  }
  const out = new Map<string, ListedContainer>();
  for (const [key, list] of byKey) {
    assert.equal(list.length, 1, `${key}: ${list.length} containers (${list.map((c) => c.Names[0]).join(', ')}), expected exactly one`);
    out.set(key, list[0]!);
  }
  for (const [arn, t] of tasks) {
    for (const name of CONTAINERS) {
      const c = out.get(`${arn}/${name}`);
      assert.ok(c, `no container '${name}' for task ${arn}`);
      const reported = t.containers?.find((x) => x.name === name)?.runtimeId;
      assert.equal(reported, c.Id, `${arn}/${name}: the server's runtimeId is the container Docker has`);
    }
  }
  assert.equal(out.size, acknowledged.length * CONTAINERS.length, 'no container beyond those of the acknowledged tasks');
  return out;
}

async function runTen(): Promise<string[]> {
  const r = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'crashy', count: 10 }));
  assert.deepEqual(r.failures, []);
  const arns = r.tasks!.map((t) => t.taskArn!);
  assert.equal(arns.length, 10);
  acknowledged.push(...arns);
  return arns;
}

/** Waits until what Docker has of `batch` satisfies `ready` (the agent at work on it), and returns it. */
async function midStart(batch: readonly string[], what: string, ready: (cs: readonly ListedContainer[]) => boolean): Promise<ListedContainer[]> {
  const mine = new Set(batch);
  return until(
    what,
    async () => {
      const cs = (await instanceContainers(runtime, instanceArn)).filter((c) => mine.has(c.Labels[LABELS.taskArn] ?? ''));
      return ready(cs) ? cs : undefined;
    },
    30_000,
    10,
  );
}

async function agentConnected(): Promise<void> {
  await until(
    'the agent to be connected',
    async () => {
      const ci = (await ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [instanceArn] }))).containerInstances?.[0];
      return ci?.agentConnected === true ? true : undefined;
    },
    30_000,
    100,
  );
}

describe('kill -9 of the agent and of the server while tasks start', { skip }, () => {
  before(async () => {
    runtime = new DockerRuntime({ host: dockerHost! });
    await removeOrphanedTestContainers(runtime);
    const image = await testImage(runtime);
    dataDir = serverDataDir(JOIN_TOKEN);
    stateDir = agentStateDir();
    gantry = await startGantry({ dataDir });
    port = Number(new URL(gantry.url).port);
    ecs = sdkClient(gantry.url);
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'crashy',
        containerDefinitions: [
          { name: 'app', image, memory: 16, command: ['sh', '-c', IDLE], dependsOn: [{ containerName: 'side', condition: 'START' }], dockerLabels: testLabels() },
          { name: 'side', image, memory: 16, essential: false, command: ['sh', '-c', IDLE], dockerLabels: testLabels() },
        ],
      }),
    );
    agent = startTheAgent();
    instanceArn = await until('the agent to register', async () => (await ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns?.[0], 30_000);
    await agentConnected();
  });

  after(async () => {
    await agent?.stop();
    if (runtime && instanceArn) await removeInstanceContainers(runtime, instanceArn);
    await runtime?.close();
    await gantry?.stop();
    for (const dir of [dataDir, stateDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the agent killed while ten tasks start (twice): restarted on its state directory, it loses none and starts none twice', async (t) => {
    const batch = await runTen();
    // First kill: as soon as the server has heard of the batch from the agent, before it has done much more.
    await until(
      'the agent to report on the batch',
      async () => {
        const r = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: batch }));
        return (r.tasks ?? []).some((t) => t.pullStartedAt !== undefined) ? true : undefined;
      },
      30_000,
      5,
    );
    await agent.kill9();
    const atFirstKill = (await instanceContainers(runtime, instanceArn)).filter((c) => batch.includes(c.Labels[LABELS.taskArn] ?? ''));
    agent = startTheAgent();
    // Second kill: while Docker shows it starting containers.
    await midStart(batch, 'the agent to have started some containers', (cs) => cs.some((c) => c.State === 'running'));
    await agent.kill9();
    const atSecondKill = (await instanceContainers(runtime, instanceArn)).filter((c) => batch.includes(c.Labels[LABELS.taskArn] ?? ''));
    const full = batch.length * CONTAINERS.length;
    const states = (cs: readonly ListedContainer[]) => `${cs.length} containers (${cs.filter((c) => c.State === 'running').length} running)`;
    t.diagnostic(`at the first kill: ${states(atFirstKill)}; at the second: ${states(atSecondKill)} of ${full}`);
    assert.ok(
      atSecondKill.filter((c) => c.State === 'running').length < full,
      `the agent died before it had started everything (at the first kill ${atFirstKill.length} containers, at the second ${atSecondKill.length})`,
    );

    agent = startTheAgent();
    const tasks = await allIn('RUNNING', 90_000);
    const containers = await checkDocker(tasks);
    for (const [key, c] of containers) assert.equal(c.State, 'running', key);
    for (const t of tasks.values()) assert.equal(t.desiredStatus, 'RUNNING');
  });

  test('the server killed while ten more tasks start: restarted on its data directory and port, it loses nothing', async (t) => {
    const batch = await runTen();
    await midStart(batch, 'the agent to have created some containers', (cs) => cs.length >= 2);
    const beforeKill = await describeAll();
    const running = batch.filter((arn) => beforeKill.get(arn)!.lastStatus === 'RUNNING').length;
    t.diagnostic(`at the kill the server had ${running} of the ${batch.length} new tasks RUNNING`);
    assert.ok(running < batch.length, 'killed while tasks were still starting');
    await gantry.kill9();
    gantry = await startGantry({ dataDir, port });
    assert.equal(Number(new URL(gantry.url).port), port);
    const afterRestart = await describeAll();
    for (const [arn, b] of beforeKill) {
      const a = afterRestart.get(arn)!;
      // The agent may have reported in between (it reconnects on its own): only ever forwards.
      assert.ok((a.version ?? 0) >= (b.version ?? 0), `${arn}: version ${a.version} after, ${b.version} before`);
      assert.ok(rank(a.lastStatus) >= rank(b.lastStatus), `${arn}: ${b.lastStatus} → ${a.lastStatus}`);
      if (a.version === b.version) assert.deepEqual(a, b, `${arn}: unchanged version, unchanged task`);
      assert.equal(a.desiredStatus, 'RUNNING', arn);
      for (const field of ['taskDefinitionArn', 'createdAt', 'containerInstanceArn', 'desiredStatus', 'cpu', 'memory'] as const) {
        assert.deepEqual(a[field], b[field], `${arn}: ${field}`);
      }
      assert.deepEqual(a.containers?.map((c) => c.containerArn), b.containers?.map((c) => c.containerArn));
    }

    const tasks = await allIn('RUNNING', 90_000);
    const containers = await checkDocker(tasks);
    for (const [key, c] of containers) assert.equal(c.State, 'running', key);
  });

  test('a server killed while nothing changes comes back with exactly the same tasks', async () => {
    await agentConnected();
    const beforeKill = await describeAll();
    await gantry.kill9();
    gantry = await startGantry({ dataDir, port });
    assert.deepEqual(await describeAll(), beforeKill);
    // The agent comes back, says what it has, and that changes nothing either.
    await agentConnected();
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await describeAll(), beforeKill);
  });

  test('StopTask for every task stops every container', async () => {
    for (let i = 0; i < acknowledged.length; i += 5) {
      await Promise.all(acknowledged.slice(i, i + 5).map((arn) => ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn, reason: 'e2e: crash suite done' }))));
    }
    const tasks = await allIn('STOPPED', 60_000);
    for (const t of tasks.values()) {
      assert.equal(t.stopCode, 'UserInitiated');
      assert.equal(t.stoppedReason, 'e2e: crash suite done');
      for (const c of t.containers ?? []) assert.equal(c.exitCode, 0, `${t.taskArn}/${c.name}`);
    }
    const containers = await checkDocker(tasks);
    for (const [key, c] of containers) assert.equal(c.State, 'exited', key);
    assert.deepEqual(await listTasks('RUNNING'), []);
  });
});
