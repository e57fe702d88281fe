/**
 * Placement decisions in process: a generated cluster of 5,000 instances (4 instance types, 3 zones, 10
 * attributes, fixed seed) takes 100,000 tasks from 100 groups, one decision at a time, each task recorded (as
 * the catalog feed records a committed task) before the next decision. Three scenarios:
 *   (a) binpack(memory) + memberOf(attribute:ecs.instance-type =~ …) + distinctInstance + a static host port
 *   (b) spread(attribute:ecs.availability-zone) + binpack(memory)
 *   (c) random
 * Baseline, same run, same cluster: the brute-force reference (../placement/pipeline.ts over a snapshot rebuilt
 * from the records for every decision, as an unindexed scheduler would) on the scenario's first decisions, where
 * the two are also checked to agree decision for decision.
 */
import { ClusterIndex } from '../placement/engine/cluster-index.js';
import type { EngineRequest } from '../placement/engine/cluster-index.js';
import type { InstanceRecordView, TaskRecordView } from '../placement/engine/entry.js';
import { memberOf } from '../placement/options.js';
import { placeTasks } from '../placement/pipeline.js';
import { buildSnapshot } from '../placement/snapshot.js';
import type { StrategyRule } from '../placement/types.js';
import { seededRng } from '../util/clock.js';
import type { Rng } from '../util/clock.js';
import { quantile } from './support.js';

export const INSTANCE_TYPES = [
  { type: 't3.large', cpu: 2048, memory: 7680 },
  { type: 'm5.xlarge', cpu: 4096, memory: 15360 },
  { type: 'c5.2xlarge', cpu: 8192, memory: 15360 },
  { type: 'r5.2xlarge', cpu: 8192, memory: 63488 },
] as const;
export const ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] as const;
/** Ports the agent reserves on every instance (ECS_RESERVED_PORTS' default). */
const RESERVED_PORTS = ['22', '2375', '2376', '51678', '51679'];

export interface BenchGroup {
  readonly name: string;
  readonly cpu: number;
  readonly memory: number;
  readonly hostPort: number;
}

/** The 100 groups: small tasks (32–128 CPU units, 128–512 MiB), each group with its own static host port. */
export function benchGroups(n: number, rng: Rng): BenchGroup[] {
  return Array.from({ length: n }, (_, g) => ({
    name: `family:app-${String(g).padStart(3, '0')}`,
    cpu: [32, 64, 128][Math.floor(rng.float() * 3)]!,
    memory: [128, 256, 512][Math.floor(rng.float() * 3)]!,
    hostPort: 10000 + g,
  }));
}

/** The attributes of generated instance i: its type, zone and eight more, as a real fleet has them. */
export function benchAttributes(i: number, rng: Rng): { type: (typeof INSTANCE_TYPES)[number]; attributes: { name: string; value?: string }[] } {
  const type = INSTANCE_TYPES[Math.floor(rng.float() * INSTANCE_TYPES.length)]!;
  const zone = ZONES[i % ZONES.length]!;
  return {
    type,
    attributes: [
      { name: 'ecs.instance-type', value: type.type },
      { name: 'ecs.availability-zone', value: zone },
      { name: 'ecs.os-type', value: 'linux' },
      { name: 'ecs.os-family', value: 'LINUX' },
      { name: 'ecs.cpu-architecture', value: 'x86_64' },
      { name: 'ecs.ami-id', value: `ami-0${Math.floor(rng.float() * 4)}` },
      { name: 'ecs.vpc-id', value: 'vpc-0bench' },
      { name: 'ecs.subnet-id', value: `subnet-${zone}` },
      { name: 'stack', value: rng.float() < 0.5 ? 'prod' : 'dev' },
      { name: 'team', value: `team-${Math.floor(rng.float() * 5)}` },
    ],
  };
}

function generateCluster(instances: number, seed: number): InstanceRecordView[] {
  const rng = seededRng(seed);
  return Array.from({ length: instances }, (_, i) => {
    const { type, attributes } = benchAttributes(i, rng);
    return {
      cluster: 'bench',
      containerInstanceArn: `arn:aws:ecs:eu-west-1:111122223333:container-instance/bench/${i.toString(16).padStart(32, '0')}`,
      ec2InstanceId: `i-${i.toString(16).padStart(17, '0')}`,
      status: 'ACTIVE',
      agentConnected: true,
      attributes,
      registeredResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: type.cpu },
        { name: 'MEMORY', type: 'INTEGER', integerValue: type.memory },
        { name: 'PORTS', type: 'STRINGSET', stringSetValue: RESERVED_PORTS },
        { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
      ],
      versionInfo: { agentVersion: '1.80.0' },
      registeredAt: 1_700_000_000,
    };
  });
}

export interface Scenario {
  readonly name: string;
  readonly strategy: readonly StrategyRule[];
  /** memberOf expression, if any. */
  readonly memberOf?: string;
  readonly distinctInstance: boolean;
  readonly staticPort: boolean;
  readonly target: number;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: '(a) binpack(memory) + memberOf + distinctInstance + static port',
    strategy: [{ type: 'binpack', field: 'memory' }],
    memberOf: "attribute:ecs.instance-type =~ '(m5|r5)\\..*'",
    distinctInstance: true,
    staticPort: true,
    target: 20_000,
  },
  {
    name: '(b) spread(zone) + binpack(memory)',
    strategy: [
      { type: 'spread', field: 'attribute:ecs.availability-zone' },
      { type: 'binpack', field: 'memory' },
    ],
    distinctInstance: false,
    staticPort: false,
    target: 10_000,
  },
  { name: '(c) random', strategy: [{ type: 'random' }], distinctInstance: false, staticPort: false, target: 50_000 },
];

export function engineRequest(s: Scenario, g: BenchGroup): EngineRequest {
  return {
    demand: { cpu: g.cpu, memory: g.memory, portsTcp: s.staticPort ? [g.hostPort] : [], portsUdp: [], gpus: 0, requiresAttributes: [] },
    count: 1,
    group: g.name,
    strategy: s.strategy,
    constraints: [...(s.memberOf ? [memberOf(s.memberOf, 'bench')] : []), ...(s.distinctInstance ? [{ type: 'distinctInstance' as const }] : [])],
  };
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly decisions: number;
  readonly placed: number;
  readonly failed: number;
  readonly perSecond: number;
  readonly p50us: number;
  readonly p99us: number;
  readonly maxUs: number;
  readonly reference: { readonly decisions: number; readonly perSecond: number; readonly agreed: number };
}

export interface PlacementBenchOptions {
  readonly instances: number;
  readonly tasks: number;
  readonly groups: number;
  readonly seed: number;
  /** Bounds on the reference's share: decisions and seconds. */
  readonly referenceDecisions: number;
  readonly referenceMs: number;
}

export function placementBench(opts: PlacementBenchOptions, progress: (m: string) => void): ScenarioResult[] {
  const records = generateCluster(opts.instances, opts.seed);
  const groups = benchGroups(opts.groups, seededRng(opts.seed + 1));
  return SCENARIOS.map((scenario) => runScenario(scenario, records, groups, opts, progress));
}

function runScenario(scenario: Scenario, records: readonly InstanceRecordView[], groups: readonly BenchGroup[], opts: PlacementBenchOptions, progress: (m: string) => void): ScenarioResult {
  progress(`placement ${scenario.name}: ${opts.instances} instances, ${opts.tasks} tasks from ${groups.length} groups`);
  const engine = new ClusterIndex();
  for (const r of records) engine.instanceChanged(r.containerInstanceArn, r);
  const tasksOn = new Map<string, TaskRecordView[]>();
  const record = (arn: string, g: BenchGroup): TaskRecordView => {
    const t: TaskRecordView = {
      cluster: 'bench',
      containerInstanceArn: arn,
      group: g.name,
      desiredStatus: 'RUNNING',
      lastStatus: 'PENDING',
      reservation: { cpu: g.cpu, memory: g.memory, portsTcp: scenario.staticPort ? [g.hostPort] : [], portsUdp: [], gpuIds: [] },
    };
    let list = tasksOn.get(arn);
    if (!list) tasksOn.set(arn, (list = []));
    list.push(t);
    return t;
  };
  // Groups take turns, as 100 services scaling out together would; each group's request is parsed once, as the
  // API parses a request once before deciding.
  const groupOf = (n: number) => groups[n % groups.length]!;
  const requests = new Map(groups.map((g) => [g, engineRequest(scenario, g)]));

  // Baseline: the reference, on the scenario's first decisions, checked against the engine as it goes.
  let refDecisions = 0;
  let refMs = 0;
  let agreed = 0;
  while (refDecisions < opts.referenceDecisions && refMs < opts.referenceMs) {
    const g = groupOf(refDecisions);
    const req = requests.get(g)!;
    const seed = opts.seed * 1_000_003 + refDecisions;
    const t0 = performance.now();
    const snapshot = buildSnapshot(records as Parameters<typeof buildSnapshot>[0], (arn) => tasksOn.get(arn) ?? []);
    const want = placeTasks(snapshot, req, seededRng(seed)).attempts[0]!;
    refMs += performance.now() - t0;
    const got = engine.place(req, seededRng(seed))[0]!;
    if (want.placement?.containerInstanceArn === got.placement?.containerInstanceArn && want.failure?.reason === got.failure?.reason) agreed++;
    if (got.placement) engine.taskChanged(undefined, record(got.placement.containerInstanceArn, g));
    refDecisions++;
  }

  // The engine, for every task (those the reference phase placed count too).
  const latencies = new Float64Array(opts.tasks);
  let placed = refDecisions;
  let failed = 0;
  const rng = seededRng(opts.seed * 7 + 3);
  const started = performance.now();
  for (let n = refDecisions; n < opts.tasks; n++) {
    const g = groupOf(n);
    const t0 = performance.now();
    const a = engine.place(requests.get(g)!, rng)[0]!;
    if (a.placement) engine.taskChanged(undefined, record(a.placement.containerInstanceArn, g));
    latencies[n - refDecisions] = performance.now() - t0;
    if (a.placement) placed++;
    else failed++;
  }
  const seconds = (performance.now() - started) / 1000;
  const decisions = opts.tasks - refDecisions;
  const sorted = Array.from(latencies.subarray(0, decisions)).sort((a, b) => a - b);
  return {
    scenario,
    decisions,
    placed,
    failed,
    perSecond: decisions / seconds,
    p50us: quantile(sorted, 0.5) * 1000,
    p99us: quantile(sorted, 0.99) * 1000,
    maxUs: (sorted[sorted.length - 1] ?? 0) * 1000,
    reference: { decisions: refDecisions, perSecond: refDecisions / (refMs / 1000), agreed },
  };
}
