/**
 * The engine against the reference pipeline (../pipeline.ts, ECS's rules written out literally), on random
 * clusters: for every request — any demand, any strategy rules, any constraints, any count — both must place the
 * same tasks on the same instances with the same GPUs, and fail with the same closest instance, reason and detail.
 * Each run places several requests in a row, the tasks of each recorded before the next, as the API does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { seededRng } from '../../util/clock.js';
import { memberOf } from '../options.js';
import type { Constraint } from '../options.js';
import { placeTasks } from '../pipeline.js';
import { buildSnapshot } from '../snapshot.js';
import type { StrategyRule, TaskDemand } from '../types.js';
import { ClusterIndex } from './cluster-index.js';
import type { InstanceRecordView, TaskRecordView } from './entry.js';

const ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
const TYPES = ['t3.small', 't3.large', 'm5.xlarge', 'c5.2xlarge'];
const GROUPS = ['family:web', 'family:api', 'service:db'];

const EXPRESSIONS = [
  'attribute:ecs.instance-type =~ t3.*',
  'attribute:ecs.availability-zone in [eu-west-1a, eu-west-1b]',
  'attribute:ecs.instance-type =~ t3.* and attribute:ecs.availability-zone != eu-west-1c',
  'attribute:stack != prod',
  'attribute:stack exists',
  'not(task:group == family:api)',
  'task:group == service:db',
  'runningTasksCount < 2',
  'agentVersion >= 1.70.0',
  'ec2InstanceId in [i-1, i-3, i-5, i-7]',
  'registeredAt < 2023-11-15',
];

const instanceArb = fc.record({
  zone: fc.option(fc.constantFrom(...ZONES), { freq: 8 }),
  type: fc.constantFrom(...TYPES),
  stack: fc.option(fc.constantFrom('prod', 'dev', ''), { freq: 2 }),
  status: fc.constantFrom('ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'DRAINING', 'INACTIVE'),
  connected: fc.constantFrom(true, true, true, false),
  cpu: fc.constantFrom(1024, 2048, 4096, 8192),
  memory: fc.constantFrom(1024, 2048, 8192, 16384),
  ports: fc.uniqueArray(fc.constantFrom(22, 80, 443, 8080), { maxLength: 2 }),
  gpus: fc.integer({ min: 0, max: 2 }),
  agentVersion: fc.constantFrom('1.60.0', '1.70.0', '1.80.1'),
  registeredAt: fc.constantFrom(1_690_000_000, 1_700_000_000, 1_710_000_000),
  capability: fc.boolean(),
});

const taskArb = fc.record({
  on: fc.nat(),
  group: fc.constantFrom(...GROUPS),
  cpu: fc.constantFrom(0, 128, 256, 512),
  memory: fc.constantFrom(0, 128, 512),
  port: fc.option(fc.constantFrom(80, 8080, 9000), { freq: 3 }),
  udp: fc.option(fc.constantFrom(53), { freq: 5 }),
  status: fc.constantFrom('RUNNING', 'RUNNING', 'PENDING', 'STOPPING', 'STOPPED'),
});

const ruleArb: fc.Arbitrary<StrategyRule> = fc.oneof(
  fc.constant({ type: 'random' }),
  fc.constantFrom('cpu', 'memory').map((field) => ({ type: 'binpack', field })),
  fc.constantFrom('instanceId', 'attribute:ecs.availability-zone', 'attribute:ecs.instance-type', 'attribute:stack').map((field) => ({ type: 'spread', field })),
);

const requestArb = fc.record({
  cpu: fc.constantFrom(0, 128, 256, 1024),
  memory: fc.constantFrom(0, 128, 256, 1024),
  tcp: fc.constantFrom<number[]>([], [], [], [80], [443, 9000]),
  udp: fc.constantFrom<number[]>([], [], [], [53]),
  gpus: fc.constantFrom(0, 0, 0, 0, 0, 1),
  requires: fc.constantFrom(false, false, false, true),
  count: fc.constantFrom(1, 1, 2, 3, 5, 10),
  group: fc.constantFrom(...GROUPS),
  strategy: fc.array(ruleArb, { maxLength: 3 }),
  memberOf: fc.oneof(fc.constant<string[]>([]), fc.constantFrom(...EXPRESSIONS).map((e) => [e]), fc.uniqueArray(fc.constantFrom(...EXPRESSIONS), { minLength: 2, maxLength: 2 })),
  distinct: fc.boolean(),
  seed: fc.integer(),
});

type InstanceSpec = typeof instanceArb extends fc.Arbitrary<infer T> ? T : never;
type TaskSpec = typeof taskArb extends fc.Arbitrary<infer T> ? T : never;

function instanceRecord(i: number, x: InstanceSpec): InstanceRecordView {
  const attributes = [
    { name: 'ecs.instance-type', value: x.type },
    { name: 'ecs.os-type', value: 'linux' },
    ...(x.zone === null ? [] : [{ name: 'ecs.availability-zone', value: x.zone }]),
    ...(x.stack === null ? [] : [{ name: 'stack', value: x.stack }]),
    ...(x.capability ? [{ name: 'com.amazonaws.ecs.capability.privileged-container' }] : []),
  ];
  return {
    cluster: 'c',
    containerInstanceArn: `arn:aws:ecs:eu-west-1:1:container-instance/c/${String(i).padStart(4, '0')}`,
    ec2InstanceId: `i-${i}`,
    status: x.status,
    agentConnected: x.connected,
    attributes,
    registeredResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: x.cpu },
      { name: 'MEMORY', type: 'INTEGER', integerValue: x.memory },
      { name: 'PORTS', type: 'STRINGSET', stringSetValue: x.ports.map(String) },
      { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
      ...(x.gpus > 0 ? [{ name: 'GPU', type: 'STRINGSET', stringSetValue: Array.from({ length: x.gpus }, (_, g) => `gpu-${i}-${g}`) }] : []),
    ],
    versionInfo: { agentVersion: x.agentVersion },
    registeredAt: x.registeredAt,
  };
}

function taskRecord(instanceArn: string, t: TaskSpec): TaskRecordView {
  const stopping = t.status === 'STOPPING';
  return {
    cluster: 'c',
    containerInstanceArn: instanceArn,
    group: t.group,
    desiredStatus: stopping || t.status === 'STOPPED' ? 'STOPPED' : 'RUNNING',
    lastStatus: stopping ? 'RUNNING' : t.status,
    reservation: { cpu: t.cpu, memory: t.memory, portsTcp: t.port === null ? [] : [t.port], portsUdp: t.udp === null ? [] : [t.udp], gpuIds: [] },
  };
}

const stats: Record<string, number> = {};
describe('placement engine', () => {
  it('agrees with the reference pipeline on random clusters, request after request (property)', () => {
    fc.assert(
      fc.property(fc.array(instanceArb, { minLength: 1, maxLength: 20 }), fc.array(taskArb, { maxLength: 30 }), fc.array(requestArb, { minLength: 1, maxLength: 4 }), (instances, tasks, requests) => {
        const records = instances.map((x, i) => instanceRecord(i, x));
        const taskRecords: TaskRecordView[] = tasks.map((t) => taskRecord(records[t.on % records.length]!.containerInstanceArn, t));
        const engine = new ClusterIndex();
        for (const r of records) engine.instanceChanged(r.containerInstanceArn, r);
        for (const t of taskRecords) engine.taskChanged(undefined, t);
        const current = records.filter((r) => r.status !== 'INACTIVE');
        if (current.length === 0) return;
        for (const q of requests) {
          const demand: TaskDemand = {
            cpu: q.cpu,
            memory: q.memory,
            portsTcp: q.tcp,
            portsUdp: q.udp,
            gpus: q.gpus,
            requiresAttributes: q.requires ? [{ name: 'com.amazonaws.ecs.capability.privileged-container' }] : [],
          };
          const constraints: Constraint[] = [...q.memberOf.map((e) => memberOf(e, 'test')), ...(q.distinct ? [{ type: 'distinctInstance' as const }] : [])];
          const snapshot = buildSnapshot(current as Parameters<typeof buildSnapshot>[0], (arn) => taskRecords.filter((t) => t.containerInstanceArn === arn));
          const want = placeTasks(snapshot, { demand, count: q.count, group: q.group, strategy: q.strategy, constraints }, seededRng(q.seed)).attempts;
          const got = engine.place({ demand, count: q.count, group: q.group, strategy: q.strategy, constraints }, seededRng(q.seed));
          assert.deepEqual(
            got.map((a) => (a.placement ? { placed: a.placement.containerInstanceArn, gpus: a.placement.gpuIds } : { failed: a.failure })),
            want.map((a) => (a.placement ? { placed: a.placement.containerInstanceArn, gpus: a.placement.gpuIds } : { failed: a.failure })),
          );
          for (const a of got) stats[a.placement ? 'placed' : (a.failure!.reason as 'placed')] = (stats[a.placement ? 'placed' : (a.failure!.reason as 'placed')] ?? 0) + 1;
          // Record the placed tasks, as a committed RunTask would, before the next request.
          for (const a of got) {
            if (!a.placement) continue;
            const t: TaskRecordView = {
              cluster: 'c',
              containerInstanceArn: a.placement.containerInstanceArn,
              group: q.group,
              desiredStatus: 'RUNNING',
              lastStatus: 'PENDING',
              reservation: { cpu: demand.cpu, memory: demand.memory, portsTcp: demand.portsTcp, portsUdp: demand.portsUdp, gpuIds: a.placement.gpuIds },
            };
            taskRecords.push(t);
            engine.taskChanged(undefined, t);
          }
        }
        // And the engine's own view of every instance matches one rebuilt from the records.
        const rebuilt = buildSnapshot(current as Parameters<typeof buildSnapshot>[0], (arn) => taskRecords.filter((t) => t.containerInstanceArn === arn));
        assert.deepEqual(normalise(engine.candidates()), normalise(rebuilt));
      }),
      { numRuns: 400 },
    );
    // The generators must exercise placements as well as every kind of failure, or agreement means little.
    assert.ok((stats['placed'] ?? 0) > 500, JSON.stringify(stats));
    for (const reason of ['RESOURCE:CPU', 'RESOURCE:MEMORY', 'RESOURCE:PORTS_TCP', 'RESOURCE:PORTS_UDP', 'RESOURCE:GPU', 'ATTRIBUTE', 'AGENT', 'MemberOf placement constraint unsatisfied.', 'DistinctInstance placement constraint unsatisfied.']) {
      assert.ok((stats[reason] ?? 0) > 0, `no ${reason} failure was generated: ${JSON.stringify(stats)}`);
    }
  });

  it('gives the whole reservation back when a task stops, and follows an instance that changes', () => {
    const engine = new ClusterIndex();
    const x: InstanceSpec = { zone: 'eu-west-1a', type: 't3.small', stack: null, status: 'ACTIVE', connected: true, cpu: 1024, memory: 1024, ports: [], gpus: 1, agentVersion: '1.80.1', registeredAt: 1_700_000_000, capability: false };
    const rec = instanceRecord(1, x);
    engine.instanceChanged(rec.containerInstanceArn, rec);
    const demand: TaskDemand = { cpu: 1024, memory: 512, portsTcp: [80], portsUdp: [], gpus: 1, requiresAttributes: [] };
    const req = { demand, count: 1, group: 'g', strategy: [], constraints: [{ type: 'distinctInstance' as const }] };
    const [first] = engine.place(req, seededRng(1));
    assert.equal(first?.placement?.containerInstanceArn, rec.containerInstanceArn);
    const running: TaskRecordView = {
      cluster: 'c',
      containerInstanceArn: rec.containerInstanceArn,
      group: 'g',
      desiredStatus: 'RUNNING',
      lastStatus: 'RUNNING',
      reservation: { cpu: 1024, memory: 512, portsTcp: [80], portsUdp: [], gpuIds: first!.placement!.gpuIds },
    };
    engine.taskChanged(undefined, running);
    assert.equal(engine.place(req, seededRng(1))[0]?.failure?.reason, 'RESOURCE:CPU');
    engine.taskChanged(running, { ...running, desiredStatus: 'STOPPED' });
    assert.ok(engine.place(req, seededRng(1))[0]?.placement);
    engine.instanceChanged(rec.containerInstanceArn, { ...rec, status: 'DRAINING' });
    assert.equal(engine.place(req, seededRng(1))[0]?.failure?.reason, 'DRAINING');
    engine.instanceChanged(rec.containerInstanceArn, { ...rec, status: 'INACTIVE' });
    assert.equal(engine.size, 0);
  });
});

function normalise(cs: readonly import('../types.js').Candidate[]) {
  return cs.map((c) => ({
    ...c,
    attributes: [...c.attributes],
    groups: [...c.groups].sort(),
    remaining: { ...c.remaining, portsTcp: [...c.remaining.portsTcp].sort(), portsUdp: [...c.remaining.portsUdp].sort() },
  }));
}
