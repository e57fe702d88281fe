import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '@aws-sdk/client-ecs';
import { buildSnapshot, candidateOf, reserve } from './snapshot.js';
import { demand } from './testing.js';

const registered: Resource[] = [
  { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
  { name: 'MEMORY', type: 'INTEGER', integerValue: 4096 },
  { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22', '2375'] },
  { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
  { name: 'GPU', type: 'STRINGSET', stringSetValue: ['g0', 'g1'] },
];
const instance = (id: string) => ({
  containerInstanceArn: `arn:ci/${id}`,
  status: 'ACTIVE',
  agentConnected: true,
  attributes: [{ name: 'ecs.os-type', value: 'linux' }, { name: 'com.amazonaws.ecs.capability.privileged-container' }],
  registeredResources: registered,
  ec2InstanceId: `i-${id}`,
  registeredAt: 1_700_000_000,
});

describe('candidateOf', () => {
  it('subtracts what tasks hold (their placement reservation) and skips stopped ones', () => {
    const c = candidateOf(instance('a'), [
      { desiredStatus: 'RUNNING', lastStatus: 'PENDING', reservation: { cpu: 512, memory: 1024, portsTcp: [80], portsUdp: [53], gpuIds: ['g1'] } },
      { desiredStatus: 'STOPPED', lastStatus: 'RUNNING', reservation: { cpu: 1024, memory: 1024, portsTcp: [81], portsUdp: [], gpuIds: ['g0'] } },
    ]);
    assert.equal(c.remaining.cpu, 1536);
    assert.equal(c.remaining.memory, 3072);
    assert.deepEqual([...c.remaining.portsTcp], [22, 2375, 80]);
    assert.deepEqual([...c.remaining.portsUdp], [53]);
    assert.deepEqual(c.remaining.freeGpus, ['g0']);
    assert.deepEqual([...c.attributes], [['ecs.os-type', 'linux'], ['com.amazonaws.ecs.capability.privileged-container', undefined]]);
  });
});

describe('buildSnapshot', () => {
  it('orders candidates by ARN and asks for each instance\'s tasks', () => {
    const asked: string[] = [];
    const s = buildSnapshot([instance('b'), instance('a')], (arn) => (asked.push(arn), []));
    assert.deepEqual(s.map((c) => c.containerInstanceArn), ['arn:ci/a', 'arn:ci/b']);
    assert.deepEqual(asked, ['arn:ci/b', 'arn:ci/a']);
  });
});

describe('reserve', () => {
  it('takes the demand and the first free GPUs, leaving the input as it was', () => {
    const c = candidateOf(instance('a'), []);
    const { candidate, gpuIds } = reserve(c, demand({ cpu: 100, memory: 200, portsTcp: [8080], gpus: 1 }));
    assert.deepEqual(gpuIds, ['g0']);
    assert.deepEqual([candidate.remaining.cpu, candidate.remaining.memory], [1948, 3896]);
    assert.ok(candidate.remaining.portsTcp.has(8080));
    assert.deepEqual(candidate.remaining.freeGpus, ['g1']);
    assert.ok(!c.remaining.portsTcp.has(8080));
  });
});
