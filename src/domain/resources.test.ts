import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '@aws-sdk/client-ecs';
import { ApiError } from './errors.js';
import {
  holdsResources,
  instanceTaskCounts,
  registeredResourcesOf,
  remainingResources,
  reservedCpu,
  reservedHostPorts,
  reservedMemory,
} from './resources.js';
import type { TaskReservation } from './resources.js';

const registered: Resource[] = [
  { name: 'CPU', type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue: 2048 },
  { name: 'MEMORY', type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue: 4096 },
  { name: 'PORTS', type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: ['22', '51678'] },
  { name: 'PORTS_UDP', type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: [] },
  { name: 'GPU', type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: ['gpu-0', 'gpu-1'] },
  { name: 'WIDGETS', type: 'LONG', doubleValue: 0, longValue: 7, integerValue: 0 },
];
const byName = (rs: Resource[], name: string) => rs.find((r) => r.name === name);
const running = (t: TaskReservation): TaskReservation => ({ desiredStatus: 'RUNNING', lastStatus: 'RUNNING', ...t });

describe('remainingResources', () => {
  it('is the registered resources when nothing runs on the instance', () => {
    assert.deepEqual(remainingResources(registered, []), registered);
  });

  it('subtracts CPU and MEMORY, adds host ports to the used-port sets and removes assigned GPUs', () => {
    const tasks: TaskReservation[] = [
      running({
        cpu: '512',
        memory: '1024',
        containers: [
          { networkBindings: [{ hostPort: 8080, protocol: 'tcp' }, { hostPort: 53, protocol: 'udp' }], gpuIds: ['gpu-1'] },
          { networkBindings: [{ hostPort: 22 }] },
        ],
      }),
      running({ containers: [{ cpu: '128', memoryReservation: '256', memory: '512', networkBindings: [{ hostPortRange: '9000-9002' }] }] }),
    ];
    const out = remainingResources(registered, tasks);
    assert.equal(byName(out, 'CPU')?.integerValue, 2048 - 512 - 128);
    assert.equal(byName(out, 'MEMORY')?.integerValue, 4096 - 1024 - 256);
    assert.deepEqual(byName(out, 'PORTS')?.stringSetValue, ['22', '51678', '8080', '9000', '9001', '9002']);
    assert.deepEqual(byName(out, 'PORTS_UDP')?.stringSetValue, ['53']);
    assert.deepEqual(byName(out, 'GPU')?.stringSetValue, ['gpu-0']);
    assert.deepEqual(byName(out, 'WIDGETS'), byName(registered, 'WIDGETS'));
  });

  it('does not count tasks whose desiredStatus or lastStatus is STOPPED', () => {
    const out = remainingResources(registered, [
      { desiredStatus: 'STOPPED', lastStatus: 'RUNNING', cpu: '1024', memory: '1024' },
      { desiredStatus: 'RUNNING', lastStatus: 'STOPPED', cpu: '1024', memory: '1024' },
      { desiredStatus: 'RUNNING', lastStatus: 'PENDING', cpu: '256', memory: '512' },
    ]);
    assert.equal(byName(out, 'CPU')?.integerValue, 2048 - 256);
    assert.equal(byName(out, 'MEMORY')?.integerValue, 4096 - 512);
  });

  it('never changes its inputs', () => {
    const before = JSON.stringify(registered);
    remainingResources(registered, [running({ cpu: '1', memory: '1', containers: [{ networkBindings: [{ hostPort: 1 }], gpuIds: ['gpu-0'] }] })]);
    assert.equal(JSON.stringify(registered), before);
  });
});

describe('what a task reserves', () => {
  it('prefers task-level CPU and memory over the containers', () => {
    const t: TaskReservation = { cpu: '1024', memory: '2048', containers: [{ cpu: '10', memory: '20' }] };
    assert.equal(reservedCpu(t), 1024);
    assert.equal(reservedMemory(t), 2048);
  });

  it('sums containers, taking the soft memory limit when a container has one', () => {
    const t: TaskReservation = { containers: [{ cpu: '100', memory: '300', memoryReservation: '200' }, { cpu: '50', memory: '100' }, {}] };
    assert.equal(reservedCpu(t), 150);
    assert.equal(reservedMemory(t), 300);
  });

  it('treats unparsable amounts as nothing and ignores dynamic (zero) host ports', () => {
    assert.equal(reservedCpu({ cpu: 'lots' }), 0);
    assert.deepEqual(reservedHostPorts({ containers: [{ networkBindings: [{ hostPort: 0 }, { hostPortRange: 'x' }] }] }), { tcp: [], udp: [] });
  });

  it('holds resources until stopped', () => {
    assert.equal(holdsResources({ desiredStatus: 'RUNNING', lastStatus: 'PROVISIONING' }), true);
    assert.equal(holdsResources({ desiredStatus: 'STOPPED', lastStatus: 'RUNNING' }), false);
  });
});

describe('instanceTaskCounts', () => {
  it('counts desiredStatus RUNNING as running and not-yet-running tasks as pending', () => {
    const counts = instanceTaskCounts([
      { desiredStatus: 'RUNNING', lastStatus: 'RUNNING' },
      { desiredStatus: 'RUNNING', lastStatus: 'PENDING' },
      { desiredStatus: 'RUNNING', lastStatus: 'PROVISIONING' },
      { desiredStatus: 'STOPPED', lastStatus: 'RUNNING' },
      { desiredStatus: 'STOPPED', lastStatus: 'PENDING' },
      { desiredStatus: 'RUNNING', lastStatus: 'STOPPED' },
    ]);
    assert.deepEqual(counts, { runningTasksCount: 3, pendingTasksCount: 2 });
  });
});

describe('registeredResourcesOf', () => {
  const cpu = { name: 'CPU', type: 'INTEGER', integerValue: 1024 };
  const memory = { name: 'MEMORY', type: 'INTEGER', integerValue: 2048 };

  it('fills in every numeric member, empty port sets and the GPUs of platformDevices', () => {
    const out = registeredResourcesOf(
      [cpu, memory, { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22', '22', '0080'] }, { name: 'SCRATCH', type: 'DOUBLE', doubleValue: 1.5 }],
      [{ id: 'GPU-1', type: 'GPU' }, { id: '0', type: 'NEURON_DEVICE' }],
    );
    assert.deepEqual(out, [
      { name: 'CPU', type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue: 1024 },
      { name: 'MEMORY', type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue: 2048 },
      { name: 'PORTS', type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: ['22', '80'] },
      { name: 'SCRATCH', type: 'DOUBLE', doubleValue: 1.5, longValue: 0, integerValue: 0 },
      { name: 'PORTS_UDP', type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: [] },
      { name: 'GPU', type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: ['GPU-1'] },
    ]);
  });

  it('refuses what ECS could not account for with InvalidParameterException', () => {
    for (const total of [
      [memory],
      [cpu, { name: 'MEMORY', type: 'LONG', longValue: 1 }],
      [cpu, memory, { name: 'X', type: 'INTEGER', integerValue: 1.5 }],
      [cpu, memory, { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: ['0'] }],
    ] as Resource[][]) {
      assert.throws(() => registeredResourcesOf(total, undefined), (e) => e instanceof ApiError && e.code === 'InvalidParameterException', JSON.stringify(total));
    }
  });
});

describe('a placement reservation', () => {
  it('decides alone what a task holds: static ports from placement on, bound dynamic ports never', () => {
    const task: TaskReservation = {
      desiredStatus: 'RUNNING',
      lastStatus: 'RUNNING',
      cpu: '999',
      memory: '999',
      reservation: { cpu: 256, memory: 512, portsTcp: [8080], portsUdp: [53], gpuIds: ['gpu-0'] },
      containers: [{ cpu: '1', memory: '1', networkBindings: [{ hostPort: 8080 }, { hostPort: 32768 }], gpuIds: ['gpu-1'] }],
    };
    assert.equal(reservedCpu(task), 256);
    assert.equal(reservedMemory(task), 512);
    assert.deepEqual(reservedHostPorts(task), { tcp: ['8080'], udp: ['53'] });
    const out = remainingResources(registered, [task]);
    assert.deepEqual(byName(out, 'PORTS')?.stringSetValue, ['22', '51678', '8080']);
    assert.deepEqual(byName(out, 'GPU')?.stringSetValue, ['gpu-1']);
  });
});
