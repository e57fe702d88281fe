/**
 * `npm run bench [-- section…]`: Gantry's benchmarks. Every figure is printed beside a baseline measured
 * in the same run, as a ratio, because these machines are noisy. Sections: api, startup, fleet, placement, placement-api, services, registry
 * (all by default). Each prints one table, with units, and the command that reproduces it.
 */
import { apiBench } from './api-bench.js';
import { fleetBench } from './fleet-bench.js';
import { placementApiBench } from './placement-api-bench.js';
import { placementBench } from './placement-bench.js';
import { registryBench } from './registry-bench.js';
import { servicesBench } from './services-bench.js';
import { startupBench } from './startup-bench.js';

const SECTIONS = ['api', 'startup', 'fleet', 'placement', 'placement-api', 'services', 'registry'] as const;
const sections = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = sections.filter((s) => !(SECTIONS as readonly string[]).includes(s));
const want = (name: (typeof SECTIONS)[number]) => sections.length === 0 || sections.includes(name);
const durationMs = Number(process.env['GANTRY_BENCH_SECONDS'] ?? '5') * 1000;
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

const fmt = (n: number, d = 0) => n.toFixed(d).padStart(8);

/** A table: a title, the command that reproduces it, aligned columns, and notes. */
function table(title: string, command: string, head: readonly string[], rows: readonly (readonly string[])[], notes: readonly string[] = []): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${title}\n  reproduce: ${command}`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  for (const n of notes) console.log(`  ${n}`);
}

async function main(): Promise<void> {
  if (unknown.length > 0) {
    console.error(`unknown section(s) ${unknown.join(', ')}; sections are ${SECTIONS.join(', ')}`);
    process.exitCode = 2;
    return;
  }
  if (want('api')) {
    log(`api: 8 concurrent clients, ${durationMs / 1000}s per measurement`);
    const rows = await apiBench({ durationMs, maxRequests: 2_000_000 }, log);
    console.log('\nAPI cost — signed requests from 8 concurrent loopback clients\n  reproduce: node dist/bench/main.js api');
    console.log('operation                                   req/s    p50 ms   p99 ms | baseline req/s  p50 ms   p99 ms | ratio  target  errors');
    for (const r of rows) {
      console.log(
        `${r.name.padEnd(40)}${fmt(r.result.rps)} ${fmt(r.result.p50ms, 2)} ${fmt(r.result.p99ms, 2)} |     ${fmt(r.baseline.rps)} ${fmt(r.baseline.p50ms, 2)} ${fmt(r.baseline.p99ms, 2)} | ${(r.ratio * 100).toFixed(0).padStart(4)}%  ≥${(r.target * 100).toFixed(0)}%  ${r.result.errors}${r.result.firstError ? ' ' + r.result.firstError : ''}`,
      );
    }
  }

  if (want('startup')) {
    const tasks = Number(process.env['GANTRY_BENCH_STARTUP_TASKS'] ?? '40');
    log(`startup: ${tasks} tasks one at a time on the local Docker engine, interleaved with raw create+start`);
    const r = await startupBench({ tasks, warmup: 3, pollMs: 20 }, log);
    const ms = (n: number) => n.toFixed(1);
    table(
      `Task start latency on the local Docker engine — ${r.tasks} tasks, one at a time (busybox, image present)`,
      'node dist/bench/main.js startup',
      ['measure', 'p50 ms', 'p99 ms', 'baseline', 'p50 ms', 'p99 ms', 'p50 ratio', 'target'],
      [
        [
          'RunTask → RUNNING in DescribeTasks',
          ms(r.gantry.p50),
          ms(r.gantry.p99),
          'docker create + start',
          ms(r.raw.p50),
          ms(r.raw.p99),
          `${(r.gantry.p50 / r.raw.p50).toFixed(2)}×`,
          '≤1.15×',
        ],
        ['RunTask → startedAt (agent saw it run)', ms(r.agentStarted.p50), ms(r.agentStarted.p99), 'docker create + start', ms(r.raw.p50), ms(r.raw.p99), `${(r.agentStarted.p50 / r.raw.p50).toFixed(2)}×`, ''],
      ],
      [
        `where Gantry's time goes (p50 ms): RunTask ${ms(r.phases.runTask)} · desired set → agent starts ${ms(r.phases.toAgent)} · image check ${ms(r.phases.imageCheck)} · create + start + inspect ${ms(r.phases.createStart)} · report → commit → visible in DescribeTasks ${ms(r.phases.visible)}`,
        `the engine's own start (Created → State.StartedAt, p50): Gantry's containers ${ms(r.engineStart.gantry)} ms, raw ${ms(r.engineStart.raw)} ms (a difference there is the engine's, e.g. the poller's CPU on a small machine)`,
        `DescribeTasks is polled every ${r.pollMs} ms, which adds ${r.pollMs / 2} ms on average to the first row; ${r.warmup} warm-up tasks of each kind are not counted.`,
      ],
    );
  }

  if (want('placement')) await placementSection();
  if (want('placement-api')) await placementApiSection();
  if (want('services')) await servicesSection();

  if (want('registry')) await registrySection();

  if (want('fleet')) {
    const instances = Number(process.env['GANTRY_BENCH_FLEET_INSTANCES'] ?? '5000');
    const windowMs = Number(process.env['GANTRY_BENCH_FLEET_WINDOW_SECONDS'] ?? '20') * 1000;
    log(`fleet: ${instances} hollow instances in one agent process against one server process`);
    const r = await fleetBench({ instances, windowMs, timeoutMs: 600_000 }, log);
    const perInstanceKiB = ((r.fleetRssMiB - r.oneInstanceRssMiB) * 1024) / Math.max(1, r.instances - 1);
    table(
      `Fleet scale — ${r.instances} hollow instances (one \`gantry agent --runtime fake\` process) against one \`gantry server\``,
      'node dist/bench/main.js fleet   (GANTRY_BENCH_FLEET_INSTANCES, GANTRY_BENCH_FLEET_WINDOW_SECONDS)',
      ['measure', 'value', 'baseline', 'value', 'ratio'],
      [
        ['registration rate', `${r.registrationsPerSecond.toFixed(0)} /s`, '', '', ''],
        [`all ${r.instances} registered`, `${r.registerSeconds.toFixed(1)} s`, '', '', ''],
        ['all channels connected', `${r.connectedSeconds.toFixed(1)} s`, '', '', ''],
        ['agent process RSS', `${r.fleetRssMiB.toFixed(0)} MiB`, '1-instance fleet', `${r.oneInstanceRssMiB.toFixed(0)} MiB`, `${(r.fleetRssMiB / r.oneInstanceRssMiB).toFixed(1)}×`],
        ['agent RSS per instance (marginal)', `${perInstanceKiB.toFixed(1)} KiB`, '', '', ''],
        [
          `server CPU, idle, ${r.windowSeconds} s window`,
          `${r.serverIdleCpuPct.toFixed(2)} %`,
          'no agents',
          `${r.serverBaselineCpuPct.toFixed(2)} %`,
          `+${(r.serverIdleCpuPct - r.serverBaselineCpuPct).toFixed(2)} pts`,
        ],
        [`agent process CPU, same window`, `${r.fleetIdleCpuPct.toFixed(2)} %`, '', '', ''],
      ],
      [
        'CPU is user + system time from /proc over the window, as % of one core. Idle means every instance connected,',
        'no tasks: the cost is heartbeats (every 10 s per channel, with a ping) and the instance monitor.',
      ],
    );
  }
}

async function registrySection(): Promise<void> {
  const layerMiB = (process.env['GANTRY_BENCH_REGISTRY_LAYERS_MIB'] ?? '60,50,40,30,20').split(',').map(Number);
  const rounds = Number(process.env['GANTRY_BENCH_REGISTRY_ROUNDS'] ?? '3');
  log(`registry: skopeo push + pull of one ${layerMiB.reduce((a, b) => a + b, 0)} MiB image, ${rounds} rounds, Gantry vs docker-registry`);
  const r = await registryBench({ layers: layerMiB.map((m) => m * 1024 * 1024), rounds }, log);
  const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const s = (n: number) => `${n.toFixed(2)} s`;
  const mbps = (secs: number) => `${(r.imageBytes / 1e6 / secs).toFixed(0)} MB/s`;
  const row = (what: 'push' | 'pull') => {
    const g = median(r.gantry[what]);
    const ref = median(r.reference[what]);
    return [`skopeo ${what}`, s(g), mbps(g), 'docker-registry 2.8', s(ref), mbps(ref), `${(g / ref).toFixed(2)}×`, '≤1.00×'];
  };
  table(
    `Registry — skopeo push and pull of one ${(r.imageBytes / 1e6).toFixed(0)} MB image in ${r.layers} layers, median of ${r.rounds} rounds (loopback)`,
    'node dist/bench/main.js registry   (GANTRY_BENCH_REGISTRY_LAYERS_MIB, GANTRY_BENCH_REGISTRY_ROUNDS)',
    ['measure', 'Gantry', 'rate', 'baseline', 'time', 'rate', 'ratio', 'target'],
    [row('push'), row('pull')],
    [
      'Gantry encrypts every blob at rest (AES-256-GCM, envelope keys) and fsyncs each blob before acknowledging it;',
      'the reference stores plain files.',
      `all rounds (s): Gantry push ${r.gantry.push.map((x) => x.toFixed(2)).join(' ')} · pull ${r.gantry.pull.map((x) => x.toFixed(2)).join(' ')} · reference push ${r.reference.push.map((x) => x.toFixed(2)).join(' ')} · pull ${r.reference.pull.map((x) => x.toFixed(2)).join(' ')}`,
    ],
  );
}

async function placementSection(): Promise<void> {
  const instances = Number(process.env['GANTRY_BENCH_PLACEMENT_INSTANCES'] ?? '5000');
  const tasks = Number(process.env['GANTRY_BENCH_PLACEMENT_TASKS'] ?? '100000');
  const results = placementBench({ instances, tasks, groups: 100, seed: 42, referenceDecisions: 300, referenceMs: 3000 }, log);
  table(
    `Placement decisions in process — ${instances} instances (4 types, 3 zones, 10 attributes, seed 42), ${tasks} tasks from 100 groups, one at a time`,
    'node dist/bench/main.js placement   (GANTRY_BENCH_PLACEMENT_INSTANCES, GANTRY_BENCH_PLACEMENT_TASKS)',
    ['scenario', 'placed', 'failed', 'decisions/s', 'p50 µs', 'p99 µs', 'max µs', 'reference/s', 'speed-up', 'agree', 'target'],
    results.map((r) => [
      r.scenario.name,
      String(r.placed),
      String(r.failed),
      r.perSecond.toFixed(0),
      r.p50us.toFixed(1),
      r.p99us.toFixed(1),
      r.maxUs.toFixed(0),
      r.reference.perSecond.toFixed(1),
      `${(r.perSecond / r.reference.perSecond).toFixed(0)}×`,
      `${r.reference.agreed}/${r.reference.decisions}`,
      `≥${r.scenario.target}/s${r.scenario.name.startsWith('(a)') ? ', p99 ≤200 µs' : ''}`,
    ]),
    [
      'One decision = the engine placing one task and the task being recorded (as the catalog feed records a commit) before the next.',
      "reference = ECS's rules written out literally (src/placement/pipeline.ts) over a snapshot rebuilt from the records per decision;",
      'it runs on each scenario\'s first decisions (at most 300 or 3 s), where the engine is checked to make the same decisions ("agree").',
    ],
  );
}

async function placementApiSection(): Promise<void> {
  const instances = Number(process.env['GANTRY_BENCH_PLACEMENT_INSTANCES'] ?? '5000');
  const seconds = Number(process.env['GANTRY_BENCH_PLACEMENT_API_SECONDS'] ?? '8');
  const r = await placementApiBench({ instances, groups: 100, durationMs: seconds * 1000, maxCalls: 100_000, timeoutMs: 600_000 }, log);
  table(
    `Placement through the API — RunTask count=10 from 8 concurrent clients, durable commits, ${instances} hollow instances (separate process)`,
    'node dist/bench/main.js placement-api   (GANTRY_BENCH_PLACEMENT_INSTANCES, GANTRY_BENCH_PLACEMENT_API_SECONDS)',
    ['scenario', 'RunTask calls', 'tasks placed', 'tasks/s', 'call p50 ms', 'call p99 ms', 'server CPU µs/task', 'main thread µs/task', 'errors', 'target'],
    r.rows.map((row) => [
      row.scenario.name,
      String(row.load.requests),
      String(row.tasksPlaced),
      row.tasksPerSecond.toFixed(0),
      row.load.p50ms.toFixed(1),
      row.load.p99ms.toFixed(1),
      row.serverCpuMicrosPerTask.toFixed(0),
      row.mainThreadCpuMicrosPerTask.toFixed(0),
      `${row.load.errors}${row.load.firstError ? ` (${row.load.firstError.slice(0, 80)})` : ''}`,
      '≥5000/s',
    ]),
    [
      `audit after the run: ${r.audit.tasks} tasks on ${r.audit.instances} instances read back through the API — ${r.audit.problems.length === 0 ? 'no instance over-committed (CPU, memory, host ports, distinctInstance groups)' : `${r.audit.problems.length} PROBLEMS: ${r.audit.problems.slice(0, 5).join('; ')}`}`,
      'Each RunTask answers only once its tasks are committed (fsync); the hollow agents then run and report every task, which the server also commits.',
      'CPU per task counts the server process (all threads) and its main thread, including the agents\' reports of those tasks: on this 2-core machine,',
      'shared with the load generator and the hollow fleet, the main thread is the limit, so µs/task is the figure that noise does not move.',
      "The in-process decision rates and the reference's are in the 'placement' section of the same run.",
    ],
  );
}

async function servicesSection(): Promise<void> {
  const instances = Number(process.env['GANTRY_BENCH_SERVICES_INSTANCES'] ?? '5000');
  const services = Number(process.env['GANTRY_BENCH_SERVICES'] ?? '100');
  const tasksPerService = Number(process.env['GANTRY_BENCH_SERVICES_TASKS'] ?? '1000');
  const r = await servicesBench({ instances, services, tasksPerService, timeoutMs: 900_000 }, log);
  table(
    `Services at scale — ${r.services} services × ${tasksPerService} tasks on ${r.instances} hollow instances (separate process), one server process`,
    'node dist/bench/main.js services   (GANTRY_BENCH_SERVICES_INSTANCES, GANTRY_BENCH_SERVICES, GANTRY_BENCH_SERVICES_TASKS)',
    ['measure', 'value', 'target'],
    [
      [`${r.tasks} tasks steady (create → every service steady)`, `${r.steadySeconds.toFixed(1)} s`, '≤ 30 s for 100,000'],
      ['all services rolled to a new revision (min 50 %, max 200 %)', `${r.rolloutSeconds.toFixed(1)} s`, '≤ 60 s'],
      ['server CPU time over both phases', `${r.serverCpuSeconds.toFixed(1)} s (main thread ${r.serverMainThreadCpuSeconds.toFixed(1)} s)`, ''],
      ['hollow fleet CPU time over both phases (the other process on this 2-core machine)', `${r.fleetCpuSeconds.toFixed(1)} s`, ''],
      ['server peak RSS', `${r.serverPeakRssMiB.toFixed(0)} MiB (idle with the fleet: ${r.serverIdleRssMiB.toFixed(0)} MiB)`, '≤ 1536 MiB'],
    ],
    ['Steady = one deployment of the expected revision with runningCount == desiredCount, polled with DescribeServices every 250 ms.'],
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
