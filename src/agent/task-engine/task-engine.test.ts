import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredTask, TaskReport } from '../../domain/task.js';
import { silentLogger } from '../../util/log.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import type { ContainerRuntime, RuntimeEvent } from '../runtime/runtime.js';
import { desiredTask, fakeTimersFrom, latest, settle } from '../testing.js';
import { ManualTimers } from '../timers.js';
import type { ContainerDef } from './container-spec.js';
import { TaskEngine } from './task-engine.js';

const INSTANCE = 'arn:aws:ecs:us-east-1:000000000000:container-instance/demo/ci';

function engineOn(runtime: FakeRuntime, timers: ManualTimers, reports: TaskReport[], instance = INSTANCE) {
  return new TaskEngine({
    runtime,
    timers,
    logger: silentLogger,
    config: {
      cluster: 'demo',
      containerInstanceArn: instance,
      defaultStopTimeoutSec: 30,
      defaultStartTimeoutSec: 180,
      pullBehavior: 'default',
      cleanupAfterMs: 3_600_000,
      resyncIntervalMs: 60_000,
    },
    onReport: (r) => reports.push(r),
  });
}

async function setup() {
  const timers = new ManualTimers();
  const runtime = new FakeRuntime({ clock: timers, timers: fakeTimersFrom(timers) });
  const reports: TaskReport[] = [];
  const engine = engineOn(runtime, timers, reports);
  await engine.start();
  const status = (t: DesiredTask) => latest(reports).get(t.taskArn)?.lastStatus;
  const reconcile = async (...tasks: DesiredTask[]) => {
    engine.reconcile(tasks);
    await settle();
  };
  const advance = async (ms: number) => {
    timers.advance(ms);
    await settle();
  };
  return { timers, runtime, reports, engine, status, reconcile, advance };
}

const web: ContainerDef = { name: 'web', image: 'nginx:1', portMappings: [{ containerPort: 80, hostPort: 8080 }] };

describe('TaskEngine', () => {
  it('starts what is listed and stops what no longer is', async () => {
    const h = await setup();
    const a = desiredTask([web]);
    const b = desiredTask([{ name: 'worker', image: 'busybox' }]);
    await h.reconcile(a, b);
    assert.equal(h.status(a), 'RUNNING');
    assert.equal(h.status(b), 'RUNNING');
    await h.reconcile(a);
    assert.equal(h.status(a), 'RUNNING');
    assert.equal(h.status(b), 'STOPPED');
  });

  it('a task sent as STOPPED that never ran here is reported STOPPED at once', async () => {
    const h = await setup();
    const t = desiredTask([web], { desiredStatus: 'STOPPED' });
    await h.reconcile(t);
    const r = latest(h.reports).get(t.taskArn)!;
    assert.equal(r.lastStatus, 'STOPPED');
    assert.deepEqual(r.containers.map((c) => c.lastStatus), ['STOPPED']);
    assert.equal(h.runtime.size, 0);
  });

  it('removes the containers of a stopped task after the retention period, and does not start it again', async () => {
    const h = await setup();
    const t = desiredTask([web]);
    await h.reconcile(t);
    await h.reconcile({ ...t, desiredStatus: 'STOPPED' });
    assert.equal(h.runtime.size, 1, 'kept for the retention period');
    await h.advance(3_600_000);
    assert.equal(h.runtime.size, 0);
    assert.equal(h.engine.task(t.taskArn), undefined);
    const before = h.reports.length;
    await h.reconcile({ ...t, desiredStatus: 'STOPPED' });
    assert.equal(h.engine.task(t.taskArn), undefined, 'a cleaned-up task the server still lists is not resurrected');
    assert.equal(h.reports.length, before);
  });

  it('holds a task whose static host port is still held by a stopping task', async () => {
    const h = await setup();
    const old = desiredTask([{ ...web, stopTimeout: 10, dockerLabels: { 'com.gantry.fake.behaviour': '{"ignoreStopSignal":true}' } }], { reservedPorts: { tcp: [8080], udp: [] } });
    await h.reconcile(old);
    const next = desiredTask([web], { reservedPorts: { tcp: [8080], udp: [] } });
    await h.reconcile({ ...old, desiredStatus: 'STOPPED' }, next);
    assert.equal(h.status(old), 'RUNNING', 'still stopping');
    assert.notEqual(h.status(next), 'RUNNING');
    assert.equal(h.runtime.size, 1, 'nothing created for the waiting task');
    await h.advance(10_000);
    assert.equal(h.status(old), 'STOPPED');
    assert.equal(h.status(next), 'RUNNING');
  });

  it('a restarted agent adopts its containers: no duplicates, nothing lost, exits while away are noticed', async () => {
    const h = await setup();
    const keep = desiredTask([web]);
    const dies = desiredTask([{ name: 'job', image: 'busybox' }]);
    await h.reconcile(keep, dies);
    const runtimeIdBefore = latest(h.reports).get(keep.taskArn)!.containers[0]!.runtimeId;
    h.engine.stop();
    // While no agent runs, one essential container exits.
    h.runtime.control.exit(latest(h.reports).get(dies.taskArn)!.containers[0]!.runtimeId!, 1);
    await settle();

    const reports: TaskReport[] = [];
    const again = engineOn(h.runtime, h.timers, reports);
    await again.start();
    await settle();
    const byArn = new Map(again.reports().map((r) => [r.taskArn, r]));
    assert.equal(byArn.get(keep.taskArn)?.lastStatus, 'RUNNING');
    assert.equal(byArn.get(keep.taskArn)?.containers[0]?.runtimeId, runtimeIdBefore);
    assert.equal(byArn.get(dies.taskArn)?.lastStatus, 'STOPPED');
    assert.equal(byArn.get(dies.taskArn)?.stopCode, 'EssentialContainerExited', 'the essential label tells, before the server does');
    assert.equal(byArn.get(dies.taskArn)?.containers[0]?.exitCode, 1);

    again.reconcile([keep, dies]);
    await settle();
    assert.equal(h.runtime.size, 2, 'no container was created twice');
    assert.equal(latest(reports).get(keep.taskArn)?.lastStatus, 'RUNNING');
  });

  it('adopts only its own instance\'s containers', async () => {
    const h = await setup();
    await h.reconcile(desiredTask([web]));
    const other = engineOn(h.runtime, h.timers, [], 'arn:aws:ecs:us-east-1:000000000000:container-instance/demo/other');
    await other.start();
    assert.equal(other.size, 0);
  });

  it('periodic resync notices a change whose event was missed', async () => {
    const timers = new ManualTimers();
    const runtime = new FakeRuntime({ clock: timers, timers: fakeTimersFrom(timers) });
    // A runtime whose event stream loses every 'die'.
    const lossy: ContainerRuntime = Object.assign(Object.create(runtime) as FakeRuntime, {
      subscribe: (l: (e: RuntimeEvent) => void) => runtime.subscribe((e) => e.type !== 'die' && l(e)),
    });
    const reports: TaskReport[] = [];
    const engine = engineOn(lossy as FakeRuntime, timers, reports);
    await engine.start();
    const t = desiredTask([web]);
    engine.reconcile([t]);
    await settle();
    runtime.control.exit(latest(reports).get(t.taskArn)!.containers[0]!.runtimeId!, 0);
    await settle();
    assert.equal(latest(reports).get(t.taskArn)?.lastStatus, 'RUNNING', 'the exit went unnoticed');
    timers.advance(60_000);
    await settle();
    assert.equal(latest(reports).get(t.taskArn)?.lastStatus, 'STOPPED');
  });
});
