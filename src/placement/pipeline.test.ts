import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { seededRng } from '../util/clock.js';
import { BUILTIN_FILTERS, placeOn, placeTasks } from './pipeline.js';
import { ARN_PREFIX, candidate, demand } from './testing.js';
import { memberOf } from './options.js';

const rng = () => seededRng(1);

describe('placeTasks', () => {
  it('runs the filters in ECS order: agent, cpu, memory, ports, gpu, attributes', () => {
    assert.deepEqual(
      BUILTIN_FILTERS.map((f) => f.name),
      ['agent', 'cpu', 'memory', 'ports', 'gpu', 'attributes'],
    );
  });

  it('places on an instance that fits and records why each other instance was rejected', () => {
    const snapshot = [
      candidate('a', { agentConnected: false }),
      candidate('b', { remaining: { cpu: 100 } }),
      candidate('c', { remaining: { memory: 100 } }),
      candidate('d'),
    ];
    const { attempts } = placeTasks(snapshot, { demand: demand({ cpu: 256, memory: 512 }), count: 1 }, rng());
    assert.equal(attempts[0]?.placement?.containerInstanceArn, ARN_PREFIX + 'd');
    assert.deepEqual(
      attempts[0]?.rejections!.map((r) => [r.containerInstanceArn.slice(ARN_PREFIX.length), r.filter, r.reason]),
      [
        ['a', 'agent', 'AGENT'],
        ['b', 'cpu', 'RESOURCE:CPU'],
        ['c', 'memory', 'RESOURCE:MEMORY'],
      ],
    );
  });

  it('places several tasks one after another against the updated state', () => {
    const snapshot = [candidate('a', { remaining: { cpu: 1024, memory: 1024 } }), candidate('b', { remaining: { cpu: 1024, memory: 1024 } })];
    const { attempts, snapshot: after } = placeTasks(snapshot, { demand: demand({ cpu: 512, memory: 512 }), count: 5 }, rng());
    assert.equal(attempts.filter((a) => a.placement).length, 4);
    assert.deepEqual(attempts[4]?.failure?.reason, 'RESOURCE:CPU');
    assert.deepEqual(after.map((c) => [c.remaining.cpu, c.remaining.memory]), [[0, 0], [0, 0]]);
    // The input snapshot is untouched.
    assert.deepEqual(snapshot.map((c) => c.remaining.cpu), [1024, 1024]);
  });

  it('takes static ports, so a second task with the same host port goes elsewhere or fails', () => {
    const snapshot = [candidate('a'), candidate('b')];
    const d = demand({ portsTcp: [80], portsUdp: [53] });
    const { attempts, snapshot: after } = placeTasks(snapshot, { demand: d, count: 3 }, rng());
    const placed = attempts.flatMap((a) => (a.placement ? [a.placement.containerInstanceArn] : []));
    assert.deepEqual([...placed].sort(), [ARN_PREFIX + 'a', ARN_PREFIX + 'b']);
    assert.equal(attempts[2]?.failure?.reason, 'RESOURCE:PORTS_TCP');
    for (const c of after) assert.ok(c.remaining.portsTcp.has(80) && c.remaining.portsUdp.has(53));
  });

  it('assigns distinct GPU ids to successive tasks', () => {
    const snapshot = [candidate('a', { remaining: { freeGpus: ['g0', 'g1', 'g2'] } })];
    const { attempts } = placeTasks(snapshot, { demand: demand({ gpus: 2 }), count: 2 }, rng());
    assert.deepEqual(attempts[0]?.placement?.gpuIds, ['g0', 'g1']);
    assert.equal(attempts[1]?.failure?.reason, 'RESOURCE:GPU');
  });

  it('reports the closest match: the instance that got furthest, then the smallest shortfall', () => {
    const snapshot = [
      candidate('a', { agentConnected: false }),
      candidate('b', { remaining: { memory: 100 } }),
      candidate('c', { remaining: { memory: 400 } }),
      candidate('d', { remaining: { cpu: 10 } }),
    ];
    const { attempts } = placeTasks(snapshot, { demand: demand({ cpu: 100, memory: 500 }), count: 1 }, rng());
    assert.deepEqual(attempts[0]?.failure, {
      arn: ARN_PREFIX + 'c',
      reason: 'RESOURCE:MEMORY',
      detail: 'The task needs 500 MiB of memory; the instance has 400 MiB left.',
    });
    assert.equal(attempts[0]?.rejections!.length, 4);
  });

  it('runs placement constraints after the built-in filters', () => {
    const onlyB = memberOf('ec2InstanceId == i-b', 'test');
    const snapshot = [candidate('a'), candidate('b'), candidate('c', { agentConnected: false })];
    const { attempts } = placeTasks(snapshot, { demand: demand(), count: 2, constraints: [onlyB] }, rng());
    assert.equal(attempts[0]?.placement?.containerInstanceArn, ARN_PREFIX + 'b');
    assert.equal(attempts[0]?.rejections!.find((r) => r.containerInstanceArn.endsWith('a'))?.filter, 'memberOf');
    assert.equal(attempts[0]?.rejections!.find((r) => r.containerInstanceArn.endsWith('c'))?.filter, 'agent');
  });

  it('is reproducible for a given Rng seed, and spreads over instances at random', () => {
    const snapshot = ['a', 'b', 'c', 'd', 'e'].map((id) => candidate(id, { remaining: { cpu: 100_000, memory: 100_000 } }));
    const arns = (seed: number) => placeTasks(snapshot, { demand: demand({ cpu: 1 }), count: 10 }, seededRng(seed)).attempts.map((a) => a.placement?.containerInstanceArn);
    assert.deepEqual(arns(3), arns(3));
    assert.ok(new Set(arns(3)).size > 1);
  });

  it('refuses an unknown strategy type rather than placing some other way', () => {
    assert.throws(() => placeTasks([candidate('a'), candidate('b')], { demand: demand(), count: 1, strategy: [{ type: 'pack', field: 'cpu' }] }, rng()), RangeError);
  });

  it('never over-commits an instance, whatever the instances and demands (property)', () => {
    const remaining = fc.record({
      cpu: fc.integer({ min: -100, max: 4096 }),
      memory: fc.integer({ min: 0, max: 8192 }),
      ports: fc.uniqueArray(fc.integer({ min: 1, max: 20 }), { maxLength: 5 }),
      gpus: fc.integer({ min: 0, max: 4 }),
      connected: fc.boolean(),
    });
    const want = fc.record({
      cpu: fc.integer({ min: 0, max: 2048 }),
      memory: fc.integer({ min: 0, max: 4096 }),
      ports: fc.uniqueArray(fc.integer({ min: 1, max: 20 }), { maxLength: 3 }),
      gpus: fc.integer({ min: 0, max: 2 }),
      count: fc.integer({ min: 1, max: 10 }),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(fc.array(remaining, { minLength: 1, maxLength: 6 }), want, (instances, w) => {
        const snapshot = instances.map((r, i) =>
          candidate(String(i), {
            agentConnected: r.connected,
            remaining: { cpu: r.cpu, memory: r.memory, portsTcp: new Set(r.ports), freeGpus: Array.from({ length: r.gpus }, (_, g) => `g${g}`) },
          }),
        );
        const d = demand({ cpu: w.cpu, memory: w.memory, portsTcp: w.ports, gpus: w.gpus });
        const { attempts } = placeTasks(snapshot, { demand: d, count: w.count }, seededRng(w.seed));
        assert.equal(attempts.length, w.count);
        snapshot.forEach((c, i) => {
          const here = attempts.filter((a) => a.placement?.containerInstanceArn === c.containerInstanceArn);
          if (here.length === 0) return;
          assert.ok(instances[i]!.connected);
          assert.ok(here.length * w.cpu <= Math.max(c.remaining.cpu, 0) || w.cpu === 0);
          assert.ok(here.length * w.memory <= c.remaining.memory);
          assert.ok(here.length * w.gpus <= c.remaining.freeGpus.length);
          const gpus = here.flatMap((a) => a.placement!.gpuIds);
          assert.equal(new Set(gpus).size, gpus.length);
          if (w.ports.length > 0) {
            assert.equal(here.length, 1);
            for (const p of w.ports) assert.ok(!c.remaining.portsTcp.has(p));
          }
        });
        for (const a of attempts) assert.ok((a.placement === undefined) !== (a.failure === undefined));
      }),
      { numRuns: 300 },
    );
  });
});

describe('placeOn', () => {
  it('places on the named instance when it fits', () => {
    const { attempts, snapshot } = placeOn([candidate('a'), candidate('b')], ARN_PREFIX + 'b', demand({ cpu: 1024 }));
    assert.equal(attempts[0]?.placement?.containerInstanceArn, ARN_PREFIX + 'b');
    assert.deepEqual(snapshot.map((c) => c.remaining.cpu), [1024, 0]);
  });

  it('fails with the first filter that rejects it, even when another instance would fit', () => {
    const { attempts } = placeOn([candidate('a'), candidate('b', { remaining: { memory: 1 } })], ARN_PREFIX + 'b', demand({ memory: 2 }));
    assert.deepEqual(attempts[0]?.failure?.arn, ARN_PREFIX + 'b');
    assert.deepEqual(attempts[0]?.failure?.reason, 'RESOURCE:MEMORY');
  });
});
