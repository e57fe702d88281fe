import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from './errors.js';
import { applyContainerOverrides, normaliseOverrides } from './task-overrides.js';

const containers = [
  { name: 'web', image: 'nginx', memory: 512, memoryReservation: 256, environment: [{ name: 'A', value: '1' }] },
  { name: 'log', image: 'fluentd', memory: 128 },
];
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof ApiError ? e.code : String(e);
  }
  return 'no error';
};

describe('normaliseOverrides', () => {
  it('lists every container of the definition, just by name when it has no override', () => {
    assert.deepEqual(normaliseOverrides(undefined, containers), {
      containerOverrides: [{ name: 'web' }, { name: 'log' }],
      inferenceAcceleratorOverrides: [],
    });
    const o = normaliseOverrides({ containerOverrides: [{ name: 'log', command: ['x'] }], cpu: '1 vCPU', memory: '1GB', taskRoleArn: 'arn:aws:iam::1:role/r' }, containers);
    assert.deepEqual(o, {
      containerOverrides: [{ name: 'web' }, { name: 'log', command: ['x'] }],
      inferenceAcceleratorOverrides: [],
      cpu: '1024',
      memory: '1024',
      taskRoleArn: 'arn:aws:iam::1:role/r',
    });
  });

  it('refuses overrides for containers the definition does not have, with ECS\'s message', () => {
    assert.throws(() => normaliseOverrides({ containerOverrides: [{ name: 'db', command: ['x'] }] }, containers), /Override for container named db is not a container in the TaskDefinition\./);
  });

  it('refuses more than 8192 characters of overrides (JSON included)', () => {
    const env = Array.from({ length: 200 }, (_, i) => ({ name: `VARIABLE_${i}`, value: 'x'.repeat(30) }));
    assert.equal(code(() => normaliseOverrides({ containerOverrides: [{ name: 'web', environment: env }] }, containers)), 'InvalidParameterException');
  });

  it('refuses nameless overrides, duplicates, bad amounts and a soft limit above the hard one', () => {
    for (const o of [
      { containerOverrides: [{ command: ['x'] }] },
      { containerOverrides: [{ name: 'web' }, { name: 'web' }] },
      { containerOverrides: [{ name: 'web', cpu: -1 }] },
      { containerOverrides: [{ name: 'web', memory: 4 }] },
      { containerOverrides: [{ name: 'web', memory: 200 }] },
      { containerOverrides: [{ name: 'log', memoryReservation: 256 }] },
      { containerOverrides: [{ name: 'web', environment: [{ value: 'x' }] }] },
      { containerOverrides: [{ name: 'web', resourceRequirements: [{ type: 'GPU' as const, value: '0' }] }] },
    ]) {
      assert.equal(code(() => normaliseOverrides(o, containers)), 'InvalidParameterException', JSON.stringify(o));
    }
    assert.equal(code(() => normaliseOverrides({ cpu: 'lots' }, containers)), 'ClientException');
  });

  it('drops empty, nameless entries', () => {
    assert.deepEqual(normaliseOverrides({ containerOverrides: [{}] }, containers).containerOverrides, [{ name: 'web' }, { name: 'log' }]);
  });
});

describe('applyContainerOverrides', () => {
  it('replaces command, amounts and files, merges environment by name, and leaves the rest alone', () => {
    const out = applyContainerOverrides(containers, {
      containerOverrides: [
        {
          name: 'web',
          command: ['run'],
          environment: [{ name: 'A', value: '2' }, { name: 'B', value: '3' }],
          environmentFiles: [{ value: 'arn:aws:s3:::b/f.env', type: 's3' }],
          cpu: 10,
          memory: 1024,
          memoryReservation: 512,
          resourceRequirements: [{ type: 'GPU', value: '1' }],
        },
      ],
    });
    assert.deepEqual(out[0], {
      name: 'web',
      image: 'nginx',
      command: ['run'],
      environment: [{ name: 'A', value: '2' }, { name: 'B', value: '3' }],
      environmentFiles: [{ value: 'arn:aws:s3:::b/f.env', type: 's3' }],
      cpu: 10,
      memory: 1024,
      memoryReservation: 512,
      resourceRequirements: [{ type: 'GPU', value: '1' }],
    });
    assert.equal(out[1], containers[1]);
    assert.deepEqual(containers[0]?.environment, [{ name: 'A', value: '1' }]);
  });
});
