/**
 * Placement through the API, durable: a `gantry server` process, N hollow instances (`gantry agent --runtime fake`,
 * a separate process: 4 instance types, 3 zones), and 8 concurrent clients sending signed RunTask calls with
 * count=10 for each placement scenario of placement-bench.ts, one after another on the same cluster. Every task is
 * committed (fsync) before its RunTask answers; the hollow agents then run and report them, as real agents would.
 *
 * Afterwards an audit reads every task and instance back through the API and checks that no instance holds more
 * CPU or memory than it registered, no host port is held twice on an instance, and no distinctInstance group has
 * two tasks on one instance.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signJsonRequest } from '../testing/signer.js';
import { ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, startGantry } from '../testing/harness.js';
import { runLoad } from './loadgen.js';
import type { LoadRequest, LoadResult } from './loadgen.js';
import { benchGroups, INSTANCE_TYPES, SCENARIOS, ZONES } from './placement-bench.js';
import type { Scenario } from './placement-bench.js';
import { cpuSeconds, EcsClient, sleep, spawnGantry, threadCpuSeconds, untilConnected, writeJoinToken } from './support.js';
import type { ChildGantry } from './support.js';
import { seededRng } from '../util/clock.js';

const PREFIX = 'AmazonEC2ContainerServiceV20141113';

export interface PlacementApiOptions {
  readonly instances: number;
  readonly groups: number;
  readonly durationMs: number;
  /** Upper bound on RunTask calls per scenario. */
  readonly maxCalls: number;
  readonly timeoutMs: number;
}

export interface PlacementApiRow {
  readonly scenario: Scenario;
  readonly load: LoadResult;
  readonly tasksPlaced: number;
  readonly tasksPerSecond: number;
  /** Server CPU per task placed (all threads), and the main thread's share: what bounds throughput on this machine. */
  readonly serverCpuMicrosPerTask: number;
  readonly mainThreadCpuMicrosPerTask: number;
}

export interface PlacementApiResult {
  readonly rows: PlacementApiRow[];
  readonly audit: { readonly instances: number; readonly tasks: number; readonly problems: string[] };
}

export async function placementApiBench(opts: PlacementApiOptions, progress: (m: string) => void): Promise<PlacementApiResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-bench-placement-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'gantry-bench-placement-agents-'));
  const joinToken = writeJoinToken(dataDir);
  const gantry = await startGantry({ dataDir });
  const ecs = new EcsClient(gantry.url);
  let fleet: ChildGantry | undefined;
  try {
    await ecs.call('CreateCluster', { clusterName: 'bench' });
    progress(`placement api: ${opts.instances} hollow instances registering`);
    fleet = spawnGantry([
      'agent', '--runtime', 'fake', '--instances', String(opts.instances), '--endpoint', gantry.url, '--cluster', 'bench', '--join-token', joinToken,
      '--region', REGION, '--state-dir', stateDir, '--zones', ZONES.join(','), '--instance-types', INSTANCE_TYPES.map((t) => t.type).join(','),
      '--cpu', '16384', '--memory', '65536', '--log-level', 'warn', ...(process.env['GANTRY_BENCH_FAKE_START_DELAY_MS'] ? ['--start-delay', process.env['GANTRY_BENCH_FAKE_START_DELAY_MS']] : []),
    ]);
    await untilConnected(ecs, 'bench', opts.instances, opts.timeoutMs, fleet);

    const groups = benchGroups(opts.groups, seededRng(43));
    progress(`placement api: registering ${groups.length} task definitions with a static host port each, and ${groups.length} without`);
    for (const [g, group] of groups.entries()) {
      const container = { name: 'app', image: 'busybox', cpu: group.cpu, memory: group.memory };
      await ecs.call('RegisterTaskDefinition', { family: `port-${g}`, containerDefinitions: [{ ...container, portMappings: [{ containerPort: 80, hostPort: group.hostPort }] }] });
      await ecs.call('RegisterTaskDefinition', { family: `plain-${g}`, containerDefinitions: [container] });
    }

    const rows: PlacementApiRow[] = [];
    for (const [s, scenario] of SCENARIOS.entries()) {
      const requests: LoadRequest[] = [];
      for (const g of groups.keys()) {
        const body = JSON.stringify({
          cluster: 'bench',
          taskDefinition: `${scenario.staticPort ? 'port' : 'plain'}-${g}`,
          count: 10,
          group: `s${s}-g${g}`,
          placementStrategy: scenario.strategy,
          placementConstraints: [
            ...(scenario.memberOf ? [{ type: 'memberOf', expression: scenario.memberOf }] : []),
            ...(scenario.distinctInstance ? [{ type: 'distinctInstance' }] : []),
          ],
        });
        const signed = await signJsonRequest({
          url: gantry.url,
          target: `${PREFIX}.RunTask`,
          body,
          service: 'ecs',
          region: REGION,
          accessKeyId: ACCESS_KEY_ID,
          secretAccessKey: SECRET_ACCESS_KEY,
        });
        requests.push({ url: signed.url, headers: signed.headers, body: signed.body });
      }
      progress(`placement api ${scenario.name}: RunTask count=10 from 8 clients for ${opts.durationMs / 1000} s`);
      const before = await countTasks(ecs);
      const pid = gantry.child.pid!;
      const cpu0 = cpuSeconds(pid);
      const main0 = threadCpuSeconds(pid, pid);
      const load = await runLoad({ requests, concurrency: 8, durationMs: opts.durationMs, maxRequests: opts.maxCalls });
      const placed = (await countTasks(ecs)) - before;
      // Let the agents' reports of these tasks be applied: they are part of each task's cost.
      await sleep(1000);
      const perTask = (s: number) => (placed > 0 ? (s * 1e6) / placed : 0);
      rows.push({
        scenario,
        load,
        tasksPlaced: placed,
        tasksPerSecond: placed / load.seconds,
        serverCpuMicrosPerTask: perTask(cpuSeconds(pid) - cpu0),
        mainThreadCpuMicrosPerTask: perTask(threadCpuSeconds(pid, pid) - main0),
      });
    }

    progress('placement api: auditing every instance and task through the API');
    const audit = process.env['GANTRY_BENCH_PLACEMENT_AUDIT'] === '0' ? { instances: 0, tasks: 0, problems: ['(audit skipped: GANTRY_BENCH_PLACEMENT_AUDIT=0)'] } : await auditCluster(ecs, 'bench');
    return { rows, audit };
  } finally {
    await fleet?.stop();
    ecs.close();
    await gantry.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function countTasks(ecs: EcsClient): Promise<number> {
  const c = (await ecs.call('DescribeClusters', { clusters: ['bench'] })).clusters[0];
  return (c.runningTasksCount as number) + (c.pendingTasksCount as number);
}

async function listAll(ecs: EcsClient, op: string, input: object, key: string): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.call(op, { ...input, maxResults: 100, ...(nextToken ? { nextToken } : {}) });
    out.push(...(page[key] as string[]));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

interface AuditTask {
  containerInstanceArn: string;
  group: string;
  cpu: string;
  memory: string;
  taskDefinitionArn: string;
}

/** Reads the cluster back through the API and lists every over-commitment found (none, when placement is right). */
export async function auditCluster(ecs: EcsClient, cluster: string): Promise<{ instances: number; tasks: number; problems: string[] }> {
  const taskArns = await listAll(ecs, 'ListTasks', { cluster }, 'taskArns');
  const tasks: AuditTask[] = [];
  for (let i = 0; i < taskArns.length; i += 100) tasks.push(...(await ecs.call('DescribeTasks', { cluster, tasks: taskArns.slice(i, i + 100) })).tasks);
  const instanceArns = await listAll(ecs, 'ListContainerInstances', { cluster }, 'containerInstanceArns');
  const byInstance = new Map<string, AuditTask[]>();
  for (const t of tasks) {
    let list = byInstance.get(t.containerInstanceArn);
    if (!list) byInstance.set(t.containerInstanceArn, (list = []));
    list.push(t);
  }
  const problems: string[] = [];
  for (let i = 0; i < instanceArns.length; i += 100) {
    const { containerInstances } = await ecs.call('DescribeContainerInstances', { cluster, containerInstances: instanceArns.slice(i, i + 100) });
    for (const ci of containerInstances as { containerInstanceArn: string; registeredResources: { name: string; integerValue: number }[] }[]) {
      const mine = byInstance.get(ci.containerInstanceArn) ?? [];
      const registered = (name: string) => ci.registeredResources.find((r) => r.name === name)!.integerValue;
      const cpu = mine.reduce((n, t) => n + Number(t.cpu), 0);
      const memory = mine.reduce((n, t) => n + Number(t.memory), 0);
      if (cpu > registered('CPU')) problems.push(`${ci.containerInstanceArn}: ${cpu} CPU units placed on ${registered('CPU')}`);
      if (memory > registered('MEMORY')) problems.push(`${ci.containerInstanceArn}: ${memory} MiB placed on ${registered('MEMORY')}`);
      // Each port-* family has its own host port, and distinctInstance groups are named s0-*: both at most once.
      const seen = new Set<string>();
      for (const t of mine) {
        const family = t.taskDefinitionArn.slice(t.taskDefinitionArn.lastIndexOf('/') + 1).split(':')[0]!;
        for (const key of [family.startsWith('port-') ? `port of ${family}` : undefined, t.group.startsWith('s0-') ? `group ${t.group}` : undefined]) {
          if (key === undefined) continue;
          if (seen.has(key)) problems.push(`${ci.containerInstanceArn}: two tasks hold the ${key}`);
          seen.add(key);
        }
      }
    }
  }
  return { instances: instanceArns.length, tasks: tasks.length, problems };
}
