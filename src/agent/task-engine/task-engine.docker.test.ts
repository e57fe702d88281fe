/**
 * The task engine on a real Docker engine: ordering, volumes, health checks, stop signals, OOM, adoption and
 * cleanup, as Docker really does them. Skips (saying why) only when no engine can be found or started.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DesiredTask, TaskReport } from '../../domain/task.js';
import { TEST_PID_LABEL, busyboxImage, dockerHostOrSkip, removeOrphanedTestContainers } from '../../testing/docker.js';
import { silentLogger } from '../../util/log.js';
import { DockerRuntime } from '../runtime/docker/docker-runtime.js';
import { LABELS } from '../runtime/runtime.js';
import { desiredTask, eventually, latest } from '../testing.js';
import { TimerWheel } from '../timers.js';
import type { ContainerDef } from './container-spec.js';
import { TaskEngine } from './task-engine.js';

const { host, skip } = await dockerHostOrSkip();

const INSTANCE = `arn:aws:ecs:us-east-1:000000000000:container-instance/demo/docker-test-${process.pid}`;
const labels = { [TEST_PID_LABEL]: String(process.pid) };

describe('TaskEngine on Docker', { skip }, () => {
  let runtime: DockerRuntime;
  let image: string;
  const timers = new TimerWheel({ resolutionMs: 10 });
  const reports: TaskReport[] = [];
  let engine: TaskEngine;
  const make = () =>
    new TaskEngine({
      runtime,
      timers,
      logger: silentLogger,
      config: {
        cluster: 'demo',
        containerInstanceArn: INSTANCE,
        defaultStopTimeoutSec: 5,
        defaultStartTimeoutSec: 60,
        pullBehavior: 'prefer-cached',
        cleanupAfterMs: 1500,
        resyncIntervalMs: 5000,
      },
      onReport: (r) => reports.push(r),
    });
  const last = (t: DesiredTask) => latest(reports).get(t.taskArn);
  const waitFor = (t: DesiredTask, status: string, ms = 30_000) => eventually(() => last(t)?.lastStatus === status, ms, `task ${status}`);
  const def = (c: ContainerDef): ContainerDef => ({ ...c, image, dockerLabels: { ...labels, ...(c.dockerLabels ?? {}) } });

  before(async () => {
    runtime = new DockerRuntime({ host: host! });
    await removeOrphanedTestContainers(runtime);
    image = await busyboxImage(runtime);
    engine = make();
    await engine.start();
  });

  after(async () => {
    engine?.stop();
    timers.close();
    if (runtime) {
      for (const c of await runtime.listContainers({ [LABELS.instance]: INSTANCE })) await runtime.removeContainer(c.id);
      await runtime.close();
    }
  });

  it('init (SUCCESS) → web (healthy, dynamic port, shared task volume) → stop in reverse order → cleanup', async () => {
    const t = desiredTask(
      [
        def({ name: 'init', essential: false, command: ['sh', '-c', 'echo ready > /data/flag'], mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }] }),
        def({
          name: 'web',
          command: ['sh', '-c', 'trap "exit 143" TERM; test -f /data/flag || exit 9; httpd -f -p 8080 & wait'],
          dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }],
          mountPoints: [{ sourceVolume: 'data', containerPath: '/data', readOnly: true }],
          portMappings: [{ containerPort: 8080, hostPort: 0 }],
          healthCheck: { command: ['CMD-SHELL', 'true'], interval: 1, timeout: 2, retries: 2 },
          memory: 64,
        }),
      ],
      { volumes: [{ name: 'data', host: {} }] },
    );
    engine.reconcile([t]);
    await waitFor(t, 'RUNNING');
    const c = (name: string) => last(t)!.containers.find((x) => x.name === name)!;
    assert.equal(c('init').lastStatus, 'STOPPED');
    assert.equal(c('init').exitCode, 0);
    const binding = c('web').networkBindings?.find((b) => b.containerPort === 8080);
    assert.ok(binding !== undefined && (binding.hostPort ?? 0) > 0, `a dynamic host port: ${JSON.stringify(c('web').networkBindings)}`);
    await eventually(() => c('web').healthStatus === 'HEALTHY', 15_000, 'healthy');

    engine.reconcile([{ ...t, desiredStatus: 'STOPPED' }]);
    await waitFor(t, 'STOPPED');
    assert.equal(c('web').exitCode, 143, 'SIGTERM handled');
    assert.ok((await runtime.listContainers({ [LABELS.taskArn]: t.taskArn })).length === 2, 'kept until the retention passes');
    await eventually(() => engine.task(t.taskArn) === undefined, 10_000, 'cleanup');
    assert.deepEqual(await runtime.listContainers({ [LABELS.taskArn]: t.taskArn }), []);
  });

  it('an essential container killed for memory: OutOfMemoryError', async () => {
    const t = desiredTask([def({ name: 'hog', memory: 8, command: ['sh', '-c', 'a=x; while true; do a=$a$a; done'] })]);
    engine.reconcile([t]);
    await waitFor(t, 'STOPPED');
    const r = last(t)!;
    assert.equal(r.containers[0]!.reason, 'OutOfMemoryError: Container killed due to memory usage');
    assert.equal(r.containers[0]!.exitCode, 137);
    assert.equal(r.stopCode, 'EssentialContainerExited');
  });

  it('a missing executable: CannotStartContainerError, TaskFailedToStart', async () => {
    const t = desiredTask([def({ name: 'bad', entryPoint: ['/no/such/binary'] })]);
    engine.reconcile([t]);
    await waitFor(t, 'STOPPED');
    assert.equal(last(t)!.stopCode, 'TaskFailedToStart');
    assert.match(last(t)!.containers[0]!.reason ?? '', /^CannotStartContainerError: /);
  });

  it('a stop signal that is ignored ends in SIGKILL after stopTimeout', async () => {
    const t = desiredTask([def({ name: 'stubborn', stopTimeout: 1, command: ['sh', '-c', 'trap "" TERM; sleep 600 & wait'] })]);
    engine.reconcile([t]);
    await waitFor(t, 'RUNNING');
    engine.reconcile([{ ...t, desiredStatus: 'STOPPED' }]);
    await waitFor(t, 'STOPPED', 15_000);
    assert.equal(last(t)!.containers[0]!.exitCode, 137);
  });

  it('a restarted engine adopts running containers instead of starting new ones', async () => {
    const t = desiredTask([def({ name: 'keep', command: ['sh', '-c', 'trap "exit 143" TERM; sleep 600 & wait'] })]);
    engine.reconcile([t]);
    await waitFor(t, 'RUNNING');
    const id = last(t)!.containers[0]!.runtimeId;
    engine.stop();
    engine = make();
    await engine.start();
    assert.equal(engine.task(t.taskArn)?.status, 'RUNNING');
    engine.reconcile([t]);
    await new Promise((r) => setTimeout(r, 300));
    const found = await runtime.listContainers({ [LABELS.taskArn]: t.taskArn });
    assert.deepEqual(found.map((c) => c.id), [id]);
    engine.reconcile([]);
    await waitFor(t, 'STOPPED');
  });
});
