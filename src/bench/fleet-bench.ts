/**
 * Fleet scale: N hollow instances (`gantry agent --runtime fake --instances N`, one separate process) register
 * with a `gantry server` process and hold their channels. Measured in one run:
 *
 *   server CPU over an idle window with no agents (baseline) · a 1-instance fleet's RSS (baseline)
 *   → spawn the N fleet: registrations per second (DescribeClusters' count, polled every 250 ms) and the time
 *     until every instance shows agentConnected · the fleet's RSS per instance · server CPU over the same idle
 *     window with N connected agents (heartbeats every 10 s each, pings, the instance monitor)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REGION, startGantry } from '../testing/harness.js';
import { EcsClient, cpuSeconds, rssMiB, sleep, spawnGantry, untilConnected, writeJoinToken } from './support.js';
import type { ChildGantry } from './support.js';

export interface FleetBenchOptions {
  readonly instances: number;
  /** The idle window over which server CPU is measured (a multiple of the 10 s heartbeat interval is fair). */
  readonly windowMs: number;
  /** Gives up on registration or connection after this long. */
  readonly timeoutMs: number;
}

export interface FleetBenchResult {
  readonly instances: number;
  readonly registered: number;
  readonly registerSeconds: number;
  readonly registrationsPerSecond: number;
  /** From spawning the fleet until every instance showed agentConnected. */
  readonly connectedSeconds: number;
  readonly fleetRssMiB: number;
  readonly oneInstanceRssMiB: number;
  readonly windowSeconds: number;
  /** Server CPU time over the window, as % of one core. */
  readonly serverIdleCpuPct: number;
  readonly serverBaselineCpuPct: number;
  readonly fleetIdleCpuPct: number;
}

export async function fleetBench(opts: FleetBenchOptions, progress: (m: string) => void): Promise<FleetBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-bench-fleet-'));
  const stateRoot = mkdtempSync(join(tmpdir(), 'gantry-bench-fleet-agents-'));
  const joinToken = writeJoinToken(dataDir);
  const gantry = await startGantry({ dataDir });
  const ecs = new EcsClient(gantry.url);
  const serverPid = gantry.child.pid!;
  const fleets: ChildGantry[] = [];
  const fleet = (cluster: string, n: number, dir: string): ChildGantry => {
    const f = spawnGantry([
      'agent',
      '--runtime',
      'fake',
      '--instances',
      String(n),
      '--endpoint',
      gantry.url,
      '--cluster',
      cluster,
      '--join-token',
      joinToken,
      '--region',
      REGION,
      '--state-dir',
      join(stateRoot, dir),
      '--log-level',
      'warn',
    ]);
    fleets.push(f);
    return f;
  };
  const cpuOver = async (pids: readonly number[]): Promise<number[]> => {
    const before = pids.map(cpuSeconds);
    const t0 = performance.now();
    await sleep(opts.windowMs);
    const seconds = (performance.now() - t0) / 1000;
    return pids.map((p, i) => ((cpuSeconds(p) - before[i]!) / seconds) * 100);
  };
  try {
    await ecs.call('CreateCluster', { clusterName: 'fleet' });
    await ecs.call('CreateCluster', { clusterName: 'one' });
    await sleep(2000);
    progress(`baseline: server CPU over ${opts.windowMs / 1000} s with no agents`);
    const [serverBaselineCpuPct] = await cpuOver([serverPid]);

    progress('baseline: RSS of a 1-instance fleet');
    const one = fleet('one', 1, 'one');
    await untilConnected(ecs, 'one', 1, opts.timeoutMs, one);
    await sleep(2000);
    const oneInstanceRssMiB = rssMiB(one.child.pid!);
    await one.stop();

    progress(`${opts.instances} hollow instances registering`);
    const big = fleet('fleet', opts.instances, 'fleet');
    const t0 = performance.now();
    let registered = 0;
    let registerSeconds = NaN;
    for (;;) {
      await sleep(250);
      registered = (await ecs.call('DescribeClusters', { clusters: ['fleet'] })).clusters[0].registeredContainerInstancesCount as number;
      if (registered >= opts.instances) {
        registerSeconds = (performance.now() - t0) / 1000;
        break;
      }
      if (performance.now() - t0 > opts.timeoutMs || big.child.exitCode !== null) {
        throw new Error(`only ${registered} of ${opts.instances} instances registered in ${Math.round((performance.now() - t0) / 1000)} s:\n${big.output()}`);
      }
    }
    progress(`registered in ${registerSeconds.toFixed(1)} s; waiting for every channel`);
    await untilConnected(ecs, 'fleet', opts.instances, opts.timeoutMs - (performance.now() - t0), big);
    const connectedSeconds = (performance.now() - t0) / 1000;
    await sleep(5000);
    const fleetRss = rssMiB(big.child.pid!);
    progress(`server CPU over ${opts.windowMs / 1000} s with ${opts.instances} connected agents`);
    const [serverIdleCpuPct, fleetIdleCpuPct] = await cpuOver([serverPid, big.child.pid!]);
    return {
      instances: opts.instances,
      registered,
      registerSeconds,
      registrationsPerSecond: opts.instances / registerSeconds,
      connectedSeconds,
      fleetRssMiB: fleetRss,
      oneInstanceRssMiB,
      windowSeconds: opts.windowMs / 1000,
      serverIdleCpuPct: serverIdleCpuPct!,
      serverBaselineCpuPct: serverBaselineCpuPct!,
      fleetIdleCpuPct: fleetIdleCpuPct!,
    };
  } finally {
    for (const f of fleets) await f.stop();
    ecs.close();
    await gantry.stop();
    rmSync(stateRoot, { recursive: true, force: true });
  }
}
