import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demandOf } from './demand.js';

describe('demandOf', () => {
  const containers = [
    { name: 'a', cpu: 128, memory: 512, memoryReservation: 256, portMappings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' as const }, { containerPort: 53, hostPort: 53, protocol: 'udp' as const }] },
    { name: 'b', cpu: 64, memory: 128, portMappings: [{ containerPort: 9000, hostPort: 0 }, { containerPortRange: '7000-7010' }], resourceRequirements: [{ type: 'GPU' as const, value: '2' }] },
  ];

  it('sums containers (soft memory limit first) and keeps static bridge host ports only', () => {
    assert.deepEqual(demandOf({ networkMode: 'bridge', containers }), {
      cpu: 192,
      memory: 384,
      portsTcp: [8080],
      portsUdp: [53],
      gpus: 2,
      requiresAttributes: [],
    });
  });

  it('prefers task-level cpu and memory', () => {
    const d = demandOf({ networkMode: 'bridge', cpu: '1024', memory: '2048', containers });
    assert.deepEqual([d.cpu, d.memory], [1024, 2048]);
  });

  it('binds every mapped port on the host in host mode, and none in awsvpc or none mode', () => {
    const host = [{ name: 'h', memory: 64, portMappings: [{ containerPort: 443, hostPort: 443 }, { containerPort: 444 }] }];
    assert.deepEqual(demandOf({ networkMode: 'host', containers: host }).portsTcp, [443, 444]);
    assert.deepEqual(demandOf({ networkMode: 'awsvpc', containers: host }).portsTcp, []);
    assert.deepEqual(demandOf({ networkMode: 'none', containers: [{ memory: 1 }] }).portsTcp, []);
  });

  it('carries requiresAttributes, with values when given', () => {
    const d = demandOf({ networkMode: 'bridge', containers: [], requiresAttributes: [{ name: 'x' }, { name: 'y', value: 'v' }] });
    assert.deepEqual(d.requiresAttributes, [{ name: 'x' }, { name: 'y', value: 'v' }]);
  });
});
