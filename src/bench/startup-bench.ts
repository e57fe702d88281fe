/**
 * Task start latency on the local Docker engine: RunTask → RUNNING as DescribeTasks reports it, for tasks
 * started one at a time by a `gantry agent` process, against `docker create` + `docker start` of the same
 * container (the create body the agent itself would send) through the Engine API — interleaved, one Gantry
 * task then one raw container, so drift in the engine's speed hits both alike.
 *
 * The task record's own timestamps (pullStartedAt, pullStoppedAt, startedAt; same machine, same clock) split
 * Gantry's time into phases, so a regression shows where it is; the engine's own record of each container
 * (Created → State.StartedAt) separates the engine's work from Gantry's, for both kinds of start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerRuntime } from '../agent/runtime/docker/docker-runtime.js';
import { toCreateBody } from '../agent/runtime/docker/create-body.js';
import { buildContainerSpec } from '../agent/task-engine/container-spec.js';
import type { ContainerDef } from '../agent/task-engine/container-spec.js';
import type { DesiredTask } from '../domain/task.js';
import { busyboxImage, dockerForTests, removeOrphanedTestContainers, TEST_PID_LABEL } from '../testing/docker.js';
import { REGION, startGantry } from '../testing/harness.js';
import { EcsClient, quantile, sleep, spawnGantry, untilConnected, writeJoinToken } from './support.js';

export interface StartupBenchOptions {
  readonly tasks: number;
  /** Starts of each kind run first and not counted (caches, the engine's first-use costs). */
  readonly warmup: number;
  /** DescribeTasks polling interval. */
  readonly pollMs: number;
}

export interface Distribution {
  readonly p50: number;
  readonly p99: number;
}

export interface StartupBenchResult {
  readonly tasks: number;
  readonly warmup: number;
  readonly pollMs: number;
  /** RunTask sent → DescribeTasks first shows RUNNING (ms). */
  readonly gantry: Distribution;
  /** RunTask sent → the agent's startedAt (ms): without the report's trip back and the polling. */
  readonly agentStarted: Distribution;
  /** POST /containers/create → POST /containers/{id}/start answered (ms). */
  readonly raw: Distribution;
  /** Medians of Gantry's phases (ms). */
  readonly phases: Phases;
  /** Medians of the engine's own start (Created → State.StartedAt, ms) of Gantry's containers and the raw ones. */
  readonly engineStart: { readonly gantry: number; readonly raw: number };
}

interface Phases {
  /** RunTask sent → answered (placement and its durable commit). */
  readonly runTask: number;
  /** RunTask answered → the agent starts on the task (desired set pushed, reconciled). */
  readonly toAgent: number;
  /** The image check (pull behaviour prefer-cached: one image inspect). */
  readonly imageCheck: number;
  /** Create, start and the inspect after it, until the agent saw the task run. */
  readonly createStart: number;
  /** The agent saw it run → DescribeTasks shows RUNNING (report, outbox, commit, and the polling). */
  readonly visible: number;
}

const CLUSTER = 'startup';

export async function startupBench(opts: StartupBenchOptions, progress: (m: string) => void): Promise<StartupBenchResult> {
  const engine = await dockerForTests();
  const runtime = new DockerRuntime({ host: engine.host });
  await removeOrphanedTestContainers(runtime);
  const image = await busyboxImage(runtime);
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-bench-startup-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'gantry-bench-startup-agent-'));
  const joinToken = writeJoinToken(dataDir);
  const gantry = await startGantry({ dataDir });
  const ecs = new EcsClient(gantry.url);
  const agent = spawnGantry([
    'agent',
    '--endpoint',
    gantry.url,
    '--cluster',
    CLUSTER,
    '--join-token',
    joinToken,
    '--region',
    REGION,
    '--docker-host',
    engine.host,
    '--state-dir',
    stateDir,
    '--image-pull-behavior',
    'prefer-cached',
    '--log-level',
    'warn',
  ]);
  try {
    await ecs.call('CreateCluster', { clusterName: CLUSTER });
    const def: ContainerDef = {
      name: 'app',
      image,
      memory: 32,
      essential: true,
      command: ['sleep', '3600'],
      dockerLabels: { [TEST_PID_LABEL]: String(process.pid) },
    };
    const registered = await ecs.call('RegisterTaskDefinition', { family: 'startup', containerDefinitions: [def] });
    const revision = registered.taskDefinition.revision as number;
    await untilConnected(ecs, CLUSTER, 1, 60_000, agent).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; the agent said:\n${agent.output()}`);
    });
    progress('agent connected');

    const gantryMs: number[] = [];
    const agentMs: number[] = [];
    const rawMs: number[] = [];
    const engineStart = { gantry: [] as number[], raw: [] as number[] };
    const phases = { runTask: [] as number[], toAgent: [] as number[], imageCheck: [] as number[], createStart: [] as number[], visible: [] as number[] };
    for (let i = 0; i < opts.warmup + opts.tasks; i++) {
      const counted = i >= opts.warmup;
      const g = await startWithGantry(ecs, opts.pollMs);
      const r = await startRaw(runtime, def, revision, i);
      if (counted) {
        gantryMs.push(g.totalMs);
        agentMs.push(g.agentStartedMs);
        rawMs.push(r.ms);
        for (const k of Object.keys(phases) as (keyof typeof phases)[]) phases[k].push(g.phases[k]);
        // Asked after the clock stopped, so the inspections cost the measurements nothing.
        engineStart.gantry.push(await engineStartMs(runtime, g.runtimeId));
        engineStart.raw.push(await engineStartMs(runtime, r.id));
      }
      if ((i + 1) % 10 === 0) progress(`${i + 1} of ${opts.warmup + opts.tasks} (last: gantry ${g.totalMs.toFixed(0)} ms, raw ${r.ms.toFixed(0)} ms)`);
      // Let the engine finish what a start sets off (events, network setup) before the next measurement.
      await sleep(100);
    }
    const dist = (v: number[]): Distribution => {
      const s = [...v].sort((a, b) => a - b);
      return { p50: quantile(s, 0.5), p99: quantile(s, 0.99) };
    };
    const median = (v: number[]) => dist(v).p50;
    return {
      tasks: opts.tasks,
      warmup: opts.warmup,
      pollMs: opts.pollMs,
      gantry: dist(gantryMs),
      agentStarted: dist(agentMs),
      raw: dist(rawMs),
      phases: {
        runTask: median(phases.runTask),
        toAgent: median(phases.toAgent),
        imageCheck: median(phases.imageCheck),
        createStart: median(phases.createStart),
        visible: median(phases.visible),
      },
      engineStart: { gantry: median(engineStart.gantry), raw: median(engineStart.raw) },
    };
  } finally {
    // The agent leaves containers running when it stops; every container of this run carries the pid label.
    await agent.stop();
    ecs.close();
    await gantry.stop();
    const mine = await runtime.engine.json<{ Id: string }[]>('GET', '/containers/json', {
      query: { all: true, filters: JSON.stringify({ label: [`${TEST_PID_LABEL}=${process.pid}`] }) },
    });
    for (const c of mine) await runtime.removeContainer(c.Id);
    await runtime.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

interface GantryStart {
  readonly runtimeId: string;
  readonly totalMs: number;
  readonly agentStartedMs: number;
  readonly phases: Phases;
}

async function startWithGantry(ecs: EcsClient, pollMs: number): Promise<GantryStart> {
  const t0 = Date.now();
  const run = await ecs.call('RunTask', { cluster: CLUSTER, taskDefinition: 'startup' });
  const ran = Date.now();
  if (run.failures?.length > 0) throw new Error(`RunTask failed: ${JSON.stringify(run.failures)}`);
  const arn = run.tasks[0].taskArn as string;
  for (let k = 1; ; k++) {
    // Polls on a fixed schedule from the RunTask call, so a slow answer does not shift the next one.
    await sleep(Math.max(0, t0 + k * pollMs - Date.now()));
    const task = (await ecs.call('DescribeTasks', { cluster: CLUSTER, tasks: [arn] })).tasks[0];
    const seen = Date.now();
    if (task.lastStatus === 'RUNNING') {
      const ms = (s: number) => Math.round(s * 1000);
      const pullStarted = ms(task.pullStartedAt);
      const pullStopped = ms(task.pullStoppedAt);
      const started = ms(task.startedAt);
      return {
        runtimeId: task.containers[0].runtimeId as string,
        totalMs: seen - t0,
        agentStartedMs: started - t0,
        phases: { runTask: ran - t0, toAgent: pullStarted - ran, imageCheck: pullStopped - pullStarted, createStart: started - pullStopped, visible: seen - started },
      };
    }
    if (task.lastStatus === 'STOPPED') throw new Error(`task ${arn} stopped instead of running: ${task.stoppedReason} ${JSON.stringify(task.containers)}`);
    if (seen - t0 > 60_000) throw new Error(`task ${arn} did not run within 60 s (last status ${task.lastStatus})`);
  }
}

/** The create body the agent sends for this definition, with labels of a task no agent knows; then create + start. */
async function startRaw(runtime: DockerRuntime, def: ContainerDef, revision: number, i: number): Promise<{ id: string; ms: number }> {
  const taskArn = `arn:aws:ecs:eu-west-1:111122223333:task/${CLUSTER}/baseline${String(process.pid)}x${String(i).padStart(6, '0')}`;
  const task: DesiredTask = {
    taskArn,
    family: 'startup',
    revision,
    desiredStatus: 'RUNNING',
    version: 1,
    networkMode: 'bridge',
    containers: [def],
    volumes: [],
    reservedPorts: { tcp: [], udp: [] },
  };
  const instance = `arn:aws:ecs:eu-west-1:111122223333:container-instance/${CLUSTER}/baseline`;
  const built = buildContainerSpec(task, def, { cluster: CLUSTER, containerInstanceArn: instance, defaultStopTimeoutSec: 30, runtimeIds: new Map() });
  if (!built.ok) throw new Error(built.reason);
  const spec = built.spec;
  const body = toCreateBody(spec);
  const t0 = performance.now();
  const created = await runtime.engine.request<{ Id?: string; message?: string }>('POST', '/containers/create', { query: { name: spec.name }, body });
  if (created.status !== 201 || !created.body.Id) throw new Error(`docker create: HTTP ${created.status} ${created.body.message ?? ''}`);
  const started = await runtime.engine.request<{ message?: string }>('POST', `/containers/${created.body.Id}/start`);
  if (started.status !== 204) throw new Error(`docker start: HTTP ${started.status} ${started.body?.message ?? ''}`);
  return { id: created.body.Id, ms: performance.now() - t0 };
}

/** How long the engine itself took to start a container, by its own clock (Created → State.StartedAt). */
async function engineStartMs(runtime: DockerRuntime, id: string): Promise<number> {
  const c = await runtime.engine.json<{ Created: string; State: { StartedAt: string } }>('GET', `/containers/${encodeURIComponent(id)}/json`);
  return Date.parse(c.State.StartedAt) - Date.parse(c.Created);
}
