import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskDefinitionRecord } from './records.js';
import type { ContainerReport, TaskContainerRecord, TaskRecord, TaskReport } from './task.js';
import { applyTaskReport, compactTask, desiredTaskOf, stopTask, taskHealth } from './task-lifecycle.js';

const TASK_ARN = 'arn:aws:ecs:us-west-2:123456789012:task/c1/0123456789abcdef0123456789abcdef';
const T0 = 1_767_225_600;

function container(name: string, over: Partial<TaskContainerRecord> = {}): TaskContainerRecord {
  return {
    containerArn: `arn:aws:ecs:us-west-2:123456789012:container/c1/0123456789abcdef0123456789abcdef/${name}`,
    taskArn: TASK_ARN,
    name,
    image: 'nginx',
    lastStatus: 'PENDING',
    networkBindings: [],
    healthStatus: 'UNKNOWN',
    cpu: '0',
    essential: true,
    hasHealthCheck: false,
    ...over,
  };
}

function task(over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    cluster: 'c1',
    id: '0123456789abcdef0123456789abcdef',
    taskArn: TASK_ARN,
    clusterArn: 'arn:aws:ecs:us-west-2:123456789012:cluster/c1',
    taskDefinitionArn: 'arn:aws:ecs:us-west-2:123456789012:task-definition/web:1',
    containerInstanceArn: 'arn:aws:ecs:us-west-2:123456789012:container-instance/c1/abc',
    launchType: 'EC2',
    lastStatus: 'PENDING',
    desiredStatus: 'RUNNING',
    version: 1,
    createdAt: T0,
    healthStatus: 'UNKNOWN',
    overrides: { containerOverrides: [{ name: 'web' }, { name: 'sidecar' }], inferenceAcceleratorOverrides: [] },
    containers: [container('web'), container('sidecar', { essential: false })],
    tags: [],
    enableExecuteCommand: false,
    reservation: { cpu: 0, memory: 256, portsTcp: [80], portsUdp: [], gpuIds: [] },
    ...over,
  };
}

const report = (lastStatus: TaskReport['lastStatus'], containers: ContainerReport[] = [], over: Partial<TaskReport> = {}): TaskReport => ({
  taskArn: TASK_ARN,
  lastStatus,
  containers,
  ...over,
});

describe('applyTaskReport', () => {
  it('moves PENDING → RUNNING with startedAt, container details and a version bump', () => {
    const next = applyTaskReport(
      task({ reportedAt: T0 }),
      report('RUNNING', [{ name: 'web', lastStatus: 'RUNNING', runtimeId: 'd0cker', networkBindings: [{ bindIP: '0.0.0.0', containerPort: 80, hostPort: 80, protocol: 'tcp' }] }], { pullStartedAt: T0 + 1, pullStoppedAt: T0 + 2 }),
      T0 + 3,
    );
    assert.ok(next);
    assert.equal(next.lastStatus, 'RUNNING');
    assert.equal(next.startedAt, T0 + 3);
    assert.deepEqual([next.pullStartedAt, next.pullStoppedAt], [T0 + 1, T0 + 2]);
    assert.equal(next.version, 2);
    assert.equal(next.containers[0]?.runtimeId, 'd0cker');
    assert.equal(next.containers[0]?.lastStatus, 'RUNNING');
    assert.equal(next.containers[0]?.networkBindings[0]?.hostPort, 80);
    assert.equal(next.containers[1]?.lastStatus, 'PENDING');
  });

  it('uses the agent\'s startedAt when it sends one', () => {
    assert.equal(applyTaskReport(task(), report('RUNNING', [], { startedAt: T0 + 1 }), T0 + 9)?.startedAt, T0 + 1);
  });

  it('answers undefined for a repeated report, a report of another task, and a late RUNNING after STOPPED', () => {
    const running = applyTaskReport(task({ reportedAt: T0 }), report('RUNNING', [{ name: 'web', lastStatus: 'RUNNING' }]), T0 + 1)!;
    assert.equal(applyTaskReport(running, report('RUNNING', [{ name: 'web', lastStatus: 'RUNNING' }]), T0 + 2), undefined);
    assert.equal(applyTaskReport(running, { ...report('STOPPED'), taskArn: TASK_ARN.replace('0123', '9999') }, T0 + 2), undefined);
    const stopped = applyTaskReport(running, report('STOPPED', [{ name: 'web', lastStatus: 'STOPPED', exitCode: 0 }]), T0 + 3)!;
    assert.equal(applyTaskReport(stopped, report('RUNNING', [{ name: 'web', lastStatus: 'RUNNING' }]), T0 + 4), undefined);
    assert.equal(applyTaskReport(stopped, report('PENDING'), T0 + 4), undefined);
  });

  it('ignores a late PENDING after RUNNING, for the task and for its containers', () => {
    const running = applyTaskReport(task({ reportedAt: T0 }), report('RUNNING', [{ name: 'web', lastStatus: 'RUNNING' }]), T0 + 1)!;
    assert.equal(applyTaskReport(running, report('PENDING', [{ name: 'web', lastStatus: 'PENDING' }]), T0 + 2), undefined);
  });

  it('marks the first report, even one that changes nothing visible, without bumping the version', () => {
    const next = applyTaskReport(task(), report('PENDING'), T0 + 1);
    assert.equal(next?.reportedAt, T0 + 1);
    assert.equal(next?.version, 1);
  });

  it('stops on STOPPED: timestamps, desiredStatus, every container STOPPED, exit codes, EssentialContainerExited', () => {
    const running = applyTaskReport(task({ reportedAt: T0 }), report('RUNNING', [{ name: 'web', lastStatus: 'RUNNING' }, { name: 'sidecar', lastStatus: 'RUNNING' }]), T0 + 1)!;
    const next = applyTaskReport(running, report('STOPPED', [{ name: 'web', lastStatus: 'STOPPED', exitCode: 1, reason: 'boom' }], { executionStoppedAt: T0 + 4 }), T0 + 5)!;
    assert.equal(next.lastStatus, 'STOPPED');
    assert.equal(next.desiredStatus, 'STOPPED');
    assert.deepEqual([next.stoppingAt, next.executionStoppedAt, next.stoppedAt], [T0 + 5, T0 + 4, T0 + 5]);
    assert.equal(next.stopCode, 'EssentialContainerExited');
    assert.equal(next.stoppedReason, 'Essential container in task exited');
    assert.deepEqual(next.containers.map((c) => [c.name, c.lastStatus, c.exitCode, c.reason]), [
      ['web', 'STOPPED', 1, 'boom'],
      ['sidecar', 'STOPPED', undefined, undefined],
    ]);
  });

  it('stops the task when an essential container exits while it should run', () => {
    const running = applyTaskReport(task({ reportedAt: T0 }), report('RUNNING', [{ name: 'web', lastStatus: 'RUNNING' }]), T0 + 1)!;
    const next = applyTaskReport(running, report('RUNNING', [{ name: 'web', lastStatus: 'STOPPED', exitCode: 137 }]), T0 + 2)!;
    assert.equal(next.lastStatus, 'RUNNING');
    assert.equal(next.desiredStatus, 'STOPPED');
    assert.equal(next.stopCode, 'EssentialContainerExited');
    assert.equal(next.stoppingAt, T0 + 2);
    assert.equal(next.containers[0]?.exitCode, 137);
  });

  it('does not stop the task when a non-essential container exits', () => {
    const next = applyTaskReport(task({ lastStatus: 'RUNNING', reportedAt: T0 }), report('RUNNING', [{ name: 'sidecar', lastStatus: 'STOPPED', exitCode: 0 }]), T0 + 2)!;
    assert.equal(next.desiredStatus, 'RUNNING');
    assert.equal(next.stopCode, undefined);
  });

  it('keeps a requested stop\'s code and reason when the agent confirms it', () => {
    const stopping = stopTask(task({ lastStatus: 'RUNNING', reportedAt: T0 }), 'UserInitiated', 'done', T0 + 1)!;
    const next = applyTaskReport(stopping, report('STOPPED', [{ name: 'web', lastStatus: 'STOPPED', exitCode: 143 }]), T0 + 3)!;
    assert.deepEqual([next.stopCode, next.stoppedReason, next.stoppingAt, next.stoppedAt], ['UserInitiated', 'done', T0 + 1, T0 + 3]);
  });

  it('calls a task that stops before it ever ran TaskFailedToStart, with the container\'s reason', () => {
    const next = applyTaskReport(task({ reportedAt: T0 }), report('STOPPED', [{ name: 'web', lastStatus: 'STOPPED', reason: 'CannotPullContainerError: pull access denied' }]), T0 + 1)!;
    assert.equal(next.stopCode, 'TaskFailedToStart');
    assert.equal(next.stoppedReason, 'CannotPullContainerError: pull access denied');
  });

  it('fills in details at the same status, e.g. the exit code of a task that was stopped at once', () => {
    const stopped = stopTask(task(), 'UserInitiated', 'x', T0 + 1)!;
    assert.equal(stopped.lastStatus, 'STOPPED');
    const next = applyTaskReport(stopped, report('STOPPED', [{ name: 'web', lastStatus: 'STOPPED', exitCode: 0 }]), T0 + 2)!;
    assert.equal(next.containers[0]?.exitCode, 0);
    assert.equal(next.stoppedAt, T0 + 1);
  });

  it('derives healthStatus from essential containers with health checks', () => {
    const t = task({
      lastStatus: 'RUNNING',
      reportedAt: T0,
      containers: [container('web', { hasHealthCheck: true, lastStatus: 'RUNNING' }), container('sidecar', { essential: false, hasHealthCheck: true, lastStatus: 'RUNNING' })],
    });
    const healthy = applyTaskReport(t, report('RUNNING', [{ name: 'web', lastStatus: 'RUNNING', healthStatus: 'HEALTHY' }, { name: 'sidecar', lastStatus: 'RUNNING', healthStatus: 'UNHEALTHY' }]), T0 + 1)!;
    assert.equal(healthy.healthStatus, 'HEALTHY');
    const unhealthy = applyTaskReport(healthy, report('RUNNING', [{ name: 'web', lastStatus: 'RUNNING', healthStatus: 'UNHEALTHY' }]), T0 + 2)!;
    assert.equal(unhealthy.healthStatus, 'UNHEALTHY');
    assert.equal(unhealthy.version, healthy.version + 1);
  });

  it('keeps containers without a health check UNKNOWN whatever the agent says', () => {
    const next = applyTaskReport(task({ reportedAt: T0 }), report('RUNNING', [{ name: 'web', lastStatus: 'RUNNING', healthStatus: 'HEALTHY' }]), T0 + 1)!;
    assert.equal(next.containers[0]?.healthStatus, 'UNKNOWN');
    assert.equal(next.healthStatus, 'UNKNOWN');
  });
});

describe('taskHealth', () => {
  const c = (essential: boolean, hasHealthCheck: boolean, healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN') => ({ essential, hasHealthCheck, healthStatus });
  for (const [containers, want] of [
    [[], 'UNKNOWN'],
    [[c(true, false, 'UNKNOWN')], 'UNKNOWN'],
    [[c(true, true, 'HEALTHY'), c(true, false, 'UNKNOWN')], 'HEALTHY'],
    [[c(true, true, 'HEALTHY'), c(true, true, 'UNKNOWN')], 'UNKNOWN'],
    [[c(true, true, 'HEALTHY'), c(true, true, 'UNHEALTHY')], 'UNHEALTHY'],
    [[c(true, true, 'HEALTHY'), c(false, true, 'UNHEALTHY')], 'HEALTHY'],
  ] as const) {
    it(`${JSON.stringify(containers)} → ${want}`, () => assert.equal(taskHealth(containers), want));
  }
});

describe('stopTask', () => {
  it('stops a task no agent has reported on at once', () => {
    const next = stopTask(task(), 'UserInitiated', 'Task stopped by user', T0 + 1)!;
    assert.deepEqual(
      [next.desiredStatus, next.lastStatus, next.stopCode, next.stoppedReason, next.stoppingAt, next.executionStoppedAt, next.stoppedAt, next.version],
      ['STOPPED', 'STOPPED', 'UserInitiated', 'Task stopped by user', T0 + 1, T0 + 1, T0 + 1, 2],
    );
    assert.ok(next.containers.every((c) => c.lastStatus === 'STOPPED'));
  });

  it('asks a task an agent runs to stop, leaving lastStatus to the agent', () => {
    const next = stopTask(task({ lastStatus: 'RUNNING', reportedAt: T0 }), 'ServiceSchedulerInitiated', 'scale in', T0 + 1)!;
    assert.deepEqual([next.desiredStatus, next.lastStatus, next.stoppingAt, next.stoppedAt], ['STOPPED', 'RUNNING', T0 + 1, undefined]);
  });

  it('keeps the first stop request, and finishes a stopping task when told its instance is gone', () => {
    const first = stopTask(task({ lastStatus: 'RUNNING', reportedAt: T0 }), 'UserInitiated', 'first', T0 + 1)!;
    assert.equal(stopTask(first, 'UserInitiated', 'second', T0 + 2), undefined);
    const done = stopTask(first, 'InfrastructureHealth', 'instance gone', T0 + 3, { immediately: true })!;
    assert.deepEqual([done.lastStatus, done.stopCode, done.stoppedReason, done.stoppingAt, done.stoppedAt], ['STOPPED', 'UserInitiated', 'first', T0 + 1, T0 + 3]);
    assert.equal(stopTask(done, 'UserInitiated', 'again', T0 + 4, { immediately: true }), undefined);
  });
});

describe('desiredTaskOf', () => {
  const def = {
    family: 'web',
    revision: 3,
    taskDefinitionArn: 'arn:aws:ecs:us-west-2:123456789012:task-definition/web:3',
    status: 'ACTIVE',
    registeredAt: T0,
    tags: [],
    networkMode: 'host',
    cpu: '512',
    containerDefinitions: [
      { name: 'web', image: 'nginx', cpu: 256, memory: 512, command: ['a'], environment: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { name: 'sidecar', image: 'busybox', memory: 64 },
    ],
    volumes: [],
  } as TaskDefinitionRecord;

  it('applies the task\'s overrides and carries what placement reserved', () => {
    const t = task({
      version: 4,
      overrides: {
        containerOverrides: [{ name: 'web', command: ['b', 'c'], environment: [{ name: 'B', value: 'x' }, { name: 'C', value: '3' }], memory: 1024, memoryReservation: 128 }, { name: 'sidecar' }],
        memory: '2048',
        inferenceAcceleratorOverrides: [],
      },
      containers: [container('web', { gpuIds: ['g0'] }), container('sidecar')],
    });
    const d = desiredTaskOf(t, def);
    assert.deepEqual([d.family, d.revision, d.version, d.networkMode, d.cpu, d.memory, d.desiredStatus], ['web', 3, 4, 'host', '512', '2048', 'RUNNING']);
    assert.deepEqual(d.containers[0], {
      name: 'web',
      image: 'nginx',
      cpu: 256,
      memory: 1024,
      memoryReservation: 128,
      command: ['b', 'c'],
      environment: [{ name: 'A', value: '1' }, { name: 'B', value: 'x' }, { name: 'C', value: '3' }],
    });
    assert.deepEqual(d.containers[1], def.containerDefinitions![1]);
    assert.deepEqual(d.reservedPorts, { tcp: [80], udp: [] });
    assert.deepEqual(d.gpuIds, { web: ['g0'] });
  });
});

/** Every key of a task record and of its containers: the compiler checks both lists are complete. */
const TASK_RECORD_KEYS = Object.keys({
  cluster: true, id: true, taskArn: true, clusterArn: true, taskDefinitionArn: true, containerInstanceArn: true,
  containerInstanceId: true, availabilityZone: true, launchType: true, lastStatus: true, desiredStatus: true, version: true,
  createdAt: true, pullStartedAt: true, pullStoppedAt: true, startedAt: true, stoppingAt: true, executionStoppedAt: true,
  stoppedAt: true, connectivity: true, connectivityAt: true, stopCode: true, stoppedReason: true, group: true, startedBy: true,
  cpu: true, memory: true, healthStatus: true, overrides: true, containers: true, attributes: true, tags: true,
  enableExecuteCommand: true, reservation: true, clientToken: true, requestDigest: true, instanceVersion: true,
  serviceName: true, protectedUntil: true, reportedAt: true,
} satisfies Record<keyof TaskRecord, true>) as (keyof TaskRecord)[];
const TASK_CONTAINER_KEYS = Object.keys({
  containerArn: true, taskArn: true, name: true, image: true, imageDigest: true, runtimeId: true, lastStatus: true,
  exitCode: true, reason: true, networkBindings: true, healthStatus: true, cpu: true, memory: true, memoryReservation: true,
  gpuIds: true, essential: true, hasHealthCheck: true,
} satisfies Record<keyof TaskContainerRecord, true>) as (keyof TaskContainerRecord)[];

describe('compactTask', () => {
  it('keeps every key and value of a fully populated record (TASK_RECORD_KEYS), in one key order, leaving out undefined ones', () => {
    const full = Object.fromEntries(TASK_RECORD_KEYS.map((k, i) => [k, `v${i}`])) as unknown as TaskRecord;
    full.containers = [Object.fromEntries(TASK_CONTAINER_KEYS.map((k, i) => [k, `c${i}`])) as unknown as TaskContainerRecord];
    // Shuffled key order in, fixed order out.
    const shuffled = Object.fromEntries(Object.entries(full).reverse()) as unknown as TaskRecord;
    const out = compactTask(shuffled);
    assert.deepEqual(out, full);
    // The same keys in the same order for records with the same keys, whatever order they came in.
    assert.deepEqual(Object.keys(compactTask(full)), Object.keys(out));
    assert.deepEqual(Object.keys(compactTask(full).containers[0]!), Object.keys(out.containers[0]!));
    assert.equal('startedAt' in compactTask({ ...task(), startedAt: undefined } as unknown as TaskRecord), false);
  });

  it('gives records that went through the same transitions the same keys in the same order', () => {
    // Key order decides V8's hidden class: records built in different orders would not share one.
    const through = (t: TaskRecord) => {
      const running = applyTaskReport(t, { taskArn: t.taskArn, lastStatus: 'RUNNING', containers: [{ name: 'web', lastStatus: 'RUNNING', runtimeId: 'abc' }] }, T0 + 1)!;
      return [running, stopTask(running, 'UserInitiated', 'bye', T0 + 2)!];
    };
    const a = through(task({ reportedAt: T0 }));
    const b = through(Object.fromEntries(Object.entries(task({ reportedAt: T0 })).reverse()) as unknown as TaskRecord);
    for (const i of [0, 1]) {
      assert.deepEqual(Object.keys(a[i]!), Object.keys(b[i]!));
      assert.deepEqual(Object.keys(a[i]!.containers[0]!), Object.keys(b[i]!.containers[0]!));
    }
  });
});
