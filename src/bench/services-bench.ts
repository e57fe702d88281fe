/**
 * Services at scale: a `gantry server` process and N hollow instances (separate process, 3 zones). S services of
 * T tasks each are created at once; measured: the time until every service is steady (one deployment, runningCount
 * == desiredCount), then the time for all of them to roll to a new revision (min 50 %, max 200 %) and be steady
 * again, and the server's CPU time and peak RSS over both phases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REGION, startGantry } from '../testing/harness.js';
import { EcsClient, cpuSeconds, rssMiB, sleep, spawnGantry, threadCpuSeconds, untilConnected, writeJoinToken } from './support.js';
import type { ChildGantry } from './support.js';

export interface ServicesBenchOptions {
  readonly instances: number;
  readonly services: number;
  readonly tasksPerService: number;
  readonly timeoutMs: number;
}

export interface ServicesBenchResult {
  readonly instances: number;
  readonly services: number;
  readonly tasks: number;
  readonly steadySeconds: number;
  readonly rolloutSeconds: number;
  readonly serverCpuSeconds: number;
  /** The server's main thread alone, and the hollow fleet's process, over both phases. */
  readonly serverMainThreadCpuSeconds: number;
  readonly fleetCpuSeconds: number;
  readonly serverPeakRssMiB: number;
  readonly serverIdleRssMiB: number;
}

export async function servicesBench(opts: ServicesBenchOptions, progress: (m: string) => void): Promise<ServicesBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-bench-services-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'gantry-bench-services-agents-'));
  const joinToken = writeJoinToken(dataDir);
  const gantry = await startGantry({ dataDir });
  const ecs = new EcsClient(gantry.url);
  const pid = gantry.child.pid!;
  let fleet: ChildGantry | undefined;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 250);
  try {
    await ecs.call('CreateCluster', { clusterName: 'bench' });
    progress(`services: ${opts.instances} hollow instances registering`);
    const perInstanceMemory = Math.ceil((opts.services * opts.tasksPerService * 2 * 128) / opts.instances / 1024) * 1024 + 4096;
    fleet = spawnGantry([
      'agent', '--runtime', 'fake', '--instances', String(opts.instances), '--endpoint', gantry.url, '--cluster', 'bench', '--join-token', joinToken,
      '--region', REGION, '--state-dir', stateDir, '--zones', 'eu-west-1a,eu-west-1b,eu-west-1c', '--cpu', '65536', '--memory', String(perInstanceMemory),
      '--log-level', 'warn',
    ]);
    await untilConnected(ecs, 'bench', opts.instances, opts.timeoutMs, fleet);
    for (const rev of [1, 2]) {
      await ecs.call('RegisterTaskDefinition', { family: 'app', containerDefinitions: [{ name: 'app', image: `busybox:${rev}`, cpu: 16, memory: 128 }] });
    }
    const idle = rssMiB(pid);
    const cpu0 = cpuSeconds(pid);
    const main0 = threadCpuSeconds(pid, pid);
    const fleetPid = fleet.child.pid!;
    const fleet0 = cpuSeconds(fleetPid);
    const names = Array.from({ length: opts.services }, (_, i) => `svc-${String(i).padStart(3, '0')}`);

    progress(`services: creating ${opts.services} services × ${opts.tasksPerService} tasks`);
    const t0 = performance.now();
    for (const name of names) {
      await ecs.call('CreateService', {
        cluster: 'bench',
        serviceName: name,
        taskDefinition: 'app:1',
        desiredCount: opts.tasksPerService,
        deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 200 },
      });
    }
    await untilSteady(ecs, names, 'app:1', opts.timeoutMs, progress);
    const steadySeconds = (performance.now() - t0) / 1000;

    progress(`services: rolling all ${opts.services} to app:2`);
    const t1 = performance.now();
    for (const name of names) await ecs.call('UpdateService', { cluster: 'bench', service: name, taskDefinition: 'app:2' });
    await untilSteady(ecs, names, 'app:2', opts.timeoutMs, progress);
    const rolloutSeconds = (performance.now() - t1) / 1000;
    const serverCpuSeconds = cpuSeconds(pid) - cpu0;
    const serverMainThreadCpuSeconds = threadCpuSeconds(pid, pid) - main0;
    const fleetCpuSeconds = cpuSeconds(fleetPid) - fleet0;
    return {
      instances: opts.instances,
      services: opts.services,
      tasks: opts.services * opts.tasksPerService,
      steadySeconds,
      rolloutSeconds,
      serverCpuSeconds,
      serverMainThreadCpuSeconds,
      fleetCpuSeconds,
      serverPeakRssMiB: Math.max(peak, rssMiB(pid)),
      serverIdleRssMiB: idle,
    };
  } finally {
    clearInterval(sampler);
    await fleet?.stop();
    ecs.close();
    await gantry.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Polls DescribeServices (10 at a time) until every service has one deployment of `revision`, fully running. */
async function untilSteady(ecs: EcsClient, names: readonly string[], revision: string, timeoutMs: number, progress: (m: string) => void): Promise<void> {
  const end = performance.now() + timeoutMs;
  let lastReport = 0;
  for (;;) {
    let steady = 0;
    let running = 0;
    for (let i = 0; i < names.length; i += 10) {
      const { services } = await ecs.call('DescribeServices', { cluster: 'bench', services: names.slice(i, i + 10) });
      for (const s of services as { deployments: { taskDefinition: string }[]; runningCount: number; desiredCount: number }[]) {
        running += s.runningCount;
        if (s.deployments.length === 1 && s.deployments[0]!.taskDefinition.endsWith(revision) && s.runningCount === s.desiredCount) steady++;
      }
    }
    if (steady === names.length) return;
    if (performance.now() > end) throw new Error(`only ${steady} of ${names.length} services steady on ${revision} after ${timeoutMs / 1000} s`);
    if (performance.now() - lastReport > 5000) {
      progress(`  ${steady}/${names.length} services steady, ${running} tasks running`);
      lastReport = performance.now();
    }
    await sleep(250);
  }
}
