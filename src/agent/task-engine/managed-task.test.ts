import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredTask, TaskReport } from '../../domain/task.js';
import { silentLogger } from '../../util/log.js';
import { behaviourLabel } from '../runtime/fake/behaviour.js';
import type { FakeBehaviour } from '../runtime/fake/behaviour.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import type { PullBehavior } from '../runtime/runtime.js';
import { desiredTask, fakeTimersFrom, settle } from '../testing.js';
import { ManualTimers } from '../timers.js';
import type { ContainerDef } from './container-spec.js';
import { TaskEngine } from './task-engine.js';

function harness(opts: { images?: string[]; pull?: PullBehavior; startDelayMs?: number } = {}) {
  const timers = new ManualTimers();
  const runtime = new FakeRuntime({
    clock: timers,
    timers: fakeTimersFrom(timers),
    images: opts.images ?? [],
    ...(opts.startDelayMs !== undefined ? { startDelayMs: opts.startDelayMs } : {}),
  });
  const reports: TaskReport[] = [];
  const engine = new TaskEngine({
    runtime,
    timers,
    logger: silentLogger,
    config: {
      cluster: 'demo',
      containerInstanceArn: 'arn:aws:ecs:us-east-1:000000000000:container-instance/demo/ci',
      defaultStopTimeoutSec: 30,
      defaultStartTimeoutSec: 180,
      pullBehavior: opts.pull ?? 'default',
      cleanupAfterMs: 3_600_000,
      resyncIntervalMs: 0,
    },
    onReport: (r) => reports.push(r),
  });
  let started = false;
  const run = async (...tasks: DesiredTask[]) => {
    if (!started) await engine.start();
    started = true;
    engine.reconcile(tasks);
    await settle();
  };
  const last = (t: DesiredTask): TaskReport => {
    const r = reports.filter((x) => x.taskArn === t.taskArn).at(-1);
    assert.ok(r, 'the task reported');
    return r;
  };
  const container = (t: DesiredTask, name: string) => last(t).containers.find((c) => c.name === name)!;
  const advance = async (ms: number) => {
    timers.advance(ms);
    await settle();
  };
  return { timers, runtime, engine, reports, run, last, container, advance };
}

const app = (over: Partial<ContainerDef> = {}, behaviour?: FakeBehaviour): ContainerDef => ({
  name: 'app',
  image: 'nginx:1',
  ...over,
  ...(behaviour !== undefined ? { dockerLabels: behaviourLabel(behaviour) } : {}),
});

describe('ManagedTask', () => {
  it('pulls, creates and starts; reports every transition with timestamps and bindings', async () => {
    const h = harness();
    const t = desiredTask([app({ portMappings: [{ containerPort: 80, hostPort: 8080 }] })]);
    await h.run(t);
    const r = h.last(t);
    assert.equal(r.lastStatus, 'RUNNING');
    assert.equal(h.reports[0]!.lastStatus, 'PENDING', 'the first report is PENDING');
    assert.ok(r.pullStartedAt !== undefined && r.pullStoppedAt !== undefined && r.startedAt !== undefined);
    assert.ok(r.pullStartedAt <= r.pullStoppedAt && r.pullStoppedAt <= r.startedAt);
    const c = r.containers[0]!;
    assert.equal(c.lastStatus, 'RUNNING');
    assert.ok(c.runtimeId);
    assert.match(c.imageDigest ?? '', /^sha256:/);
    assert.deepEqual(c.networkBindings, [{ bindIP: '0.0.0.0', containerPort: 80, hostPort: 8080, protocol: 'tcp' }]);
    assert.equal(c.healthStatus, 'UNKNOWN');
  });

  it('stops when the server says so: SIGTERM, exit 143, executionStoppedAt', async () => {
    const h = harness();
    const t = desiredTask([app()]);
    await h.run(t);
    await h.advance(5000);
    await h.run({ ...t, desiredStatus: 'STOPPED', version: 2 });
    const r = h.last(t);
    assert.equal(r.lastStatus, 'STOPPED');
    assert.equal(r.containers[0]!.exitCode, 143);
    assert.equal(r.stopCode, undefined, 'the server owns the stop code of a stop it asked for');
    assert.ok(r.executionStoppedAt !== undefined && r.executionStoppedAt >= r.startedAt!);
  });

  it('an essential container exiting stops the task; a non-essential one does not', async () => {
    const h = harness();
    const t = desiredTask([
      app({ name: 'side', essential: false }, { script: [{ afterMs: 1000, exit: 0 }] }),
      app({ name: 'main' }, { script: [{ afterMs: 5000, exit: 2 }] }),
      app({ name: 'other' }),
    ]);
    await h.run(t);
    await h.advance(1000);
    assert.equal(h.last(t).lastStatus, 'RUNNING');
    assert.equal(h.container(t, 'side').lastStatus, 'STOPPED');
    assert.equal(h.container(t, 'side').exitCode, 0);
    await h.advance(4000);
    const r = h.last(t);
    assert.equal(r.lastStatus, 'STOPPED');
    assert.equal(r.stopCode, 'EssentialContainerExited');
    assert.equal(r.stoppedReason, 'Essential container in task exited');
    assert.equal(h.container(t, 'main').exitCode, 2);
    assert.equal(h.container(t, 'other').exitCode, 143, 'the others were stopped');
  });

  it('a failed pull stops the task with CannotPullContainerError (TaskFailedToStart)', async () => {
    const h = harness();
    h.runtime.control.failPulls('nginx:1', 'manifest unknown');
    const t = desiredTask([app()]);
    await h.run(t);
    const r = h.last(t);
    assert.equal(r.lastStatus, 'STOPPED');
    assert.equal(r.stopCode, 'TaskFailedToStart');
    assert.match(r.stoppedReason ?? '', /^CannotPullContainerError: .*manifest unknown/);
    assert.equal(r.containers[0]!.reason, r.stoppedReason);
    assert.equal(r.containers[0]!.exitCode, undefined);
    assert.ok(r.pullStoppedAt !== undefined);
  });

  describe('pull behaviour', () => {
    const cases: { behavior: PullBehavior; cached: boolean; pullFails: boolean; runs: boolean }[] = [
      { behavior: 'default', cached: true, pullFails: true, runs: true },
      { behavior: 'default', cached: false, pullFails: true, runs: false },
      { behavior: 'always', cached: true, pullFails: true, runs: false },
      { behavior: 'always', cached: false, pullFails: false, runs: true },
      { behavior: 'once', cached: true, pullFails: true, runs: true },
      { behavior: 'once', cached: false, pullFails: false, runs: true },
      { behavior: 'prefer-cached', cached: true, pullFails: true, runs: true },
      { behavior: 'prefer-cached', cached: false, pullFails: true, runs: false },
    ];
    for (const c of cases) {
      it(`${c.behavior}, ${c.cached ? 'cached' : 'not cached'}, pull ${c.pullFails ? 'fails' : 'works'} → ${c.runs ? 'runs' : 'fails'}`, async () => {
        const h = harness({ pull: c.behavior, images: c.cached ? ['nginx:1'] : [] });
        if (c.pullFails) h.runtime.control.failPulls('nginx:1', 'registry down');
        const t = desiredTask([app()]);
        await h.run(t);
        assert.equal(h.last(t).lastStatus, c.runs ? 'RUNNING' : 'STOPPED');
      });
    }
  });

  it('a container that cannot start: CannotStartContainerError', async () => {
    const h = harness();
    const t = desiredTask([app({}, { startError: 'exec: "nginx": executable file not found in $PATH' })]);
    await h.run(t);
    const r = h.last(t);
    assert.equal(r.lastStatus, 'STOPPED');
    assert.equal(r.stopCode, 'TaskFailedToStart');
    assert.match(r.containers[0]!.reason ?? '', /^CannotStartContainerError: exec: "nginx"/);
  });

  it('OOM kill: OutOfMemoryError reason, exit 137', async () => {
    const h = harness();
    const t = desiredTask([app({}, { script: [{ afterMs: 2000, oom: true }] })]);
    await h.run(t);
    await h.advance(2000);
    const c = h.container(t, 'app');
    assert.equal(c.lastStatus, 'STOPPED');
    assert.equal(c.exitCode, 137);
    assert.equal(c.reason, 'OutOfMemoryError: Container killed due to memory usage');
    assert.equal(h.last(t).stopCode, 'EssentialContainerExited');
  });

  it('a refused definition stops the task with the reason', async () => {
    const h = harness();
    const t = desiredTask([app({ logConfiguration: { logDriver: 'awslogs', options: {} } })]);
    await h.run(t);
    assert.match(h.last(t).stoppedReason ?? '', /^CannotCreateContainerError: log driver 'awslogs'/);
  });

  it('dependsOn SUCCESS: the app starts after init exits 0', async () => {
    const h = harness();
    const t = desiredTask([
      app({ name: 'init', essential: false }, { script: [{ afterMs: 3000, exit: 0 }] }),
      app({ dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] }),
    ]);
    await h.run(t);
    assert.equal(h.container(t, 'app').lastStatus, 'PENDING');
    assert.equal(h.last(t).lastStatus, 'PENDING');
    await h.advance(3000);
    assert.equal(h.container(t, 'app').lastStatus, 'RUNNING');
    assert.equal(h.last(t).lastStatus, 'RUNNING');
  });

  it('dependsOn SUCCESS not met: the app gets a reason and the task stops', async () => {
    const h = harness();
    const t = desiredTask([
      app({ name: 'init', essential: false }, { script: [{ afterMs: 1000, exit: 3 }] }),
      app({ dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] }),
    ]);
    await h.run(t);
    await h.advance(1000);
    const r = h.last(t);
    assert.equal(r.lastStatus, 'STOPPED');
    assert.equal(r.stopCode, 'TaskFailedToStart');
    assert.match(h.container(t, 'app').reason ?? '', /^DependencyConditionNotMet: container 'init' exited with code 3/);
  });

  it('dependsOn HEALTHY: waits for the health check, reports healthStatus', async () => {
    const h = harness();
    const t = desiredTask([
      app({ name: 'db', healthCheck: { command: ['CMD', 'true'], interval: 5 } }),
      app({ dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] }),
    ]);
    await h.run(t);
    assert.equal(h.container(t, 'app').lastStatus, 'PENDING');
    assert.equal(h.container(t, 'db').healthStatus, 'UNKNOWN');
    await h.advance(5000);
    assert.equal(h.container(t, 'db').healthStatus, 'HEALTHY');
    assert.equal(h.container(t, 'app').lastStatus, 'RUNNING');
  });

  it('startTimeout: a dependency that never becomes healthy fails the dependent', async () => {
    const h = harness();
    const t = desiredTask([
      app({ name: 'db', essential: false, healthCheck: { command: ['CMD', 'false'], interval: 5, retries: 1 } }, { health: 'fail' }),
      app({ startTimeout: 20, dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] }),
    ]);
    await h.run(t);
    await h.advance(19_000);
    assert.equal(h.container(t, 'app').lastStatus, 'PENDING');
    assert.equal(h.container(t, 'db').healthStatus, 'UNHEALTHY');
    await h.advance(1000);
    assert.match(h.container(t, 'app').reason ?? '', /timed out after 20 s waiting for container 'db' to be healthy/);
    assert.equal(h.last(t).lastStatus, 'STOPPED');
  });

  it('stops in the reverse of the start order', async () => {
    const h = harness();
    const t = desiredTask([
      app({ name: 'db' }, { ignoreStopSignal: true }),
      app({ stopTimeout: 5, dependsOn: [{ containerName: 'db', condition: 'START' }] }, { ignoreStopSignal: true }),
    ]);
    await h.run(t);
    const order: string[] = [];
    h.runtime.subscribe((e) => {
      if (e.type === 'die') order.push(e.labels['com.gantry.container-name']!);
    });
    await h.run({ ...t, desiredStatus: 'STOPPED' });
    await h.advance(5000);
    assert.deepEqual(order, ['app'], 'db waits while app uses its stop timeout');
    assert.equal(h.container(t, 'app').exitCode, 137);
    await h.advance(30_000);
    assert.deepEqual(order, ['app', 'db']);
    assert.equal(h.last(t).lastStatus, 'STOPPED');
  });

  it('restartPolicy restarts in place after a long enough run, not after a crash at once or an ignored code', async () => {
    const h = harness();
    const policy = { enabled: true, ignoredExitCodes: [0], restartAttemptPeriod: 60 };
    const t = desiredTask([app({ restartPolicy: policy }, { script: [{ afterMs: 120_000, exit: 1 }] })]);
    await h.run(t);
    const id = h.container(t, 'app').runtimeId;
    await h.advance(120_000);
    assert.equal(h.last(t).lastStatus, 'RUNNING');
    assert.equal(h.container(t, 'app').lastStatus, 'RUNNING');
    assert.equal(h.container(t, 'app').runtimeId, id, 'the same container');

    const quick = desiredTask([app({ restartPolicy: policy }, { script: [{ afterMs: 1000, exit: 1 }] })]);
    await h.run(t, quick);
    await h.advance(1000);
    assert.equal(h.last(quick).lastStatus, 'STOPPED');

    const ignored = desiredTask([app({ restartPolicy: policy }, { script: [{ afterMs: 90_000, exit: 0 }] })]);
    await h.run(t, ignored);
    await h.advance(90_000);
    assert.equal(h.last(ignored).lastStatus, 'STOPPED');
  });

  it('host network mode reports the definition ports as bindings', async () => {
    const h = harness();
    const t = desiredTask([app({ portMappings: [{ containerPort: 9000 }] })], { networkMode: 'host' });
    await h.run(t);
    assert.deepEqual(h.container(t, 'app').networkBindings, [{ bindIP: '0.0.0.0', containerPort: 9000, hostPort: 9000, protocol: 'tcp' }]);
  });

  it('a container removed behind the agent\'s back is reported stopped with a reason', async () => {
    const h = harness();
    const t = desiredTask([app()]);
    await h.run(t);
    await h.runtime.removeContainer(h.container(t, 'app').runtimeId!);
    await settle();
    assert.equal(h.last(t).lastStatus, 'STOPPED');
    assert.ok(h.container(t, 'app').reason);
  });
});
