import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  nextAction,
  reportedStatus,
  startOrder,
  taskRules,
  taskStatus,
  type Action,
  type ContainerView,
  type TaskView,
} from './transitions.js';

function c(name: string, over: Partial<ContainerView> = {}): ContainerView {
  return {
    name,
    essential: true,
    known: 'NONE',
    desired: 'RUNNING',
    dependsOn: [],
    needsCreated: [],
    needsRunning: [],
    health: 'UNKNOWN',
    everRan: false,
    startTimeoutMs: 60_000,
    ...over,
  };
}

const task = (containers: ContainerView[], desired: 'RUNNING' | 'STOPPED' = 'RUNNING'): TaskView => ({ desired, containers });
const NOW = 1_000_000;

describe('nextAction', () => {
  const cases: { name: string; task: TaskView; target: string; now?: number; want: Action['kind']; reason?: RegExp }[] = [
    { name: 'NONE pulls', task: task([c('a')]), target: 'a', want: 'pull' },
    { name: 'PULLED creates', task: task([c('a', { known: 'PULLED' })]), target: 'a', want: 'create' },
    { name: 'CREATED starts', task: task([c('a', { known: 'CREATED' })]), target: 'a', want: 'start' },
    { name: 'RUNNING is steady', task: task([c('a', { known: 'RUNNING' })]), target: 'a', want: 'none' },
    { name: 'STOPPED is terminal', task: task([c('a', { known: 'STOPPED' })]), target: 'a', want: 'none' },
    { name: 'desired STOPPED stops a running container', task: task([c('a', { known: 'RUNNING' })], 'STOPPED'), target: 'a', want: 'stop' },
    { name: 'desired STOPPED drops a never-created container', task: task([c('a')], 'STOPPED'), target: 'a', want: 'stop' },
    { name: 'container desired STOPPED wins over a RUNNING task', task: task([c('a', { known: 'CREATED', desired: 'STOPPED' })]), target: 'a', want: 'stop' },
    {
      name: 'dependencies may be pulled before they are satisfied',
      task: task([c('db'), c('app', { dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] })]),
      target: 'app',
      want: 'pull',
    },
    {
      name: 'create waits for the dependency to exist',
      task: task([c('db'), c('app', { known: 'PULLED', dependsOn: [{ containerName: 'db', condition: 'START' }] })]),
      target: 'app',
      want: 'wait',
    },
    {
      name: 'volumesFrom source must exist before create',
      task: task([c('data', { known: 'PULLED' }), c('app', { known: 'PULLED', needsCreated: ['data'] })]),
      target: 'app',
      want: 'wait',
    },
    {
      name: 'volumesFrom source created: create',
      task: task([c('data', { known: 'CREATED' }), c('app', { known: 'PULLED', needsCreated: ['data'] })]),
      target: 'app',
      want: 'create',
    },
    {
      name: 'START waits for the dependency to run',
      task: task([c('db', { known: 'CREATED' }), c('app', { known: 'CREATED', dependsOn: [{ containerName: 'db', condition: 'START' }] })]),
      target: 'app',
      want: 'wait',
    },
    {
      name: 'START met by a running dependency',
      task: task([c('db', { known: 'RUNNING', everRan: true }), c('app', { known: 'CREATED', dependsOn: [{ containerName: 'db', condition: 'START' }] })]),
      target: 'app',
      want: 'start',
    },
    {
      name: 'START met by a dependency that ran and exited',
      task: task([c('db', { known: 'STOPPED', everRan: true, exitCode: 3 }), c('app', { known: 'CREATED', dependsOn: [{ containerName: 'db', condition: 'START' }] })]),
      target: 'app',
      want: 'start',
    },
    {
      name: 'COMPLETE waits while the dependency runs',
      task: task([c('init', { known: 'RUNNING', everRan: true }), c('app', { known: 'CREATED', dependsOn: [{ containerName: 'init', condition: 'COMPLETE' }] })]),
      target: 'app',
      want: 'wait',
    },
    {
      name: 'COMPLETE met by any exit',
      task: task([c('init', { known: 'STOPPED', everRan: true, exitCode: 1 }), c('app', { known: 'CREATED', dependsOn: [{ containerName: 'init', condition: 'COMPLETE' }] })]),
      target: 'app',
      want: 'start',
    },
    {
      name: 'SUCCESS met by exit 0',
      task: task([c('init', { known: 'STOPPED', everRan: true, exitCode: 0 }), c('app', { known: 'CREATED', dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] })]),
      target: 'app',
      want: 'start',
    },
    {
      name: 'SUCCESS can never be met after exit 1',
      task: task([c('init', { known: 'STOPPED', everRan: true, exitCode: 1 }), c('app', { known: 'CREATED', dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] })]),
      target: 'app',
      want: 'fail',
      reason: /^DependencyConditionNotMet: container 'init' exited with code 1, not 0 \(condition SUCCESS\)$/,
    },
    {
      name: 'HEALTHY waits for the health check',
      task: task([c('db', { known: 'RUNNING', everRan: true, health: 'UNKNOWN' }), c('app', { known: 'CREATED', dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] })]),
      target: 'app',
      want: 'wait',
    },
    {
      name: 'HEALTHY met',
      task: task([c('db', { known: 'RUNNING', everRan: true, health: 'HEALTHY' }), c('app', { known: 'CREATED', dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] })]),
      target: 'app',
      want: 'start',
    },
    {
      name: 'HEALTHY can never be met once the dependency stopped',
      task: task([c('db', { known: 'STOPPED', everRan: true, exitCode: 0, essential: false }), c('app', { known: 'CREATED', dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] })]),
      target: 'app',
      want: 'fail',
      reason: /stopped before it was healthy/,
    },
    {
      name: 'a dependency that failed to start fails its dependents with its reason',
      task: task([
        c('db', { known: 'STOPPED', reason: 'CannotPullContainerError: no such image', essential: false }),
        c('app', { known: 'PULLED', dependsOn: [{ containerName: 'db', condition: 'START' }] }),
      ]),
      target: 'app',
      want: 'fail',
      reason: /container 'db' did not start \(CannotPullContainerError: no such image\)/,
    },
    {
      name: 'startTimeout turns a wait into a failure',
      task: task([
        c('db', { known: 'RUNNING', everRan: true }),
        c('app', { known: 'CREATED', waitingSinceMs: NOW - 60_000, dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] }),
      ]),
      target: 'app',
      want: 'fail',
      reason: /^DependencyConditionNotMet: timed out after 60 s waiting for container 'db' to be healthy$/,
    },
    {
      name: 'links need the source running at start',
      task: task([c('db', { known: 'CREATED' }), c('app', { known: 'CREATED', needsCreated: ['db'], needsRunning: ['db'] })]),
      target: 'app',
      want: 'wait',
    },
    {
      name: 'reverse order: a dependency waits for its running dependent to stop',
      task: task(
        [c('db', { known: 'RUNNING', everRan: true }), c('app', { known: 'RUNNING', everRan: true, dependsOn: [{ containerName: 'db', condition: 'START' }] })],
        'STOPPED',
      ),
      target: 'db',
      want: 'wait',
    },
    {
      name: 'reverse order: the dependent stops first',
      task: task(
        [c('db', { known: 'RUNNING', everRan: true }), c('app', { known: 'RUNNING', everRan: true, dependsOn: [{ containerName: 'db', condition: 'START' }] })],
        'STOPPED',
      ),
      target: 'app',
      want: 'stop',
    },
    {
      name: 'reverse order: a dependent that was never created does not hold anything up',
      task: task([c('db', { known: 'RUNNING', everRan: true }), c('app', { known: 'PULLED', dependsOn: [{ containerName: 'db', condition: 'START' }] })], 'STOPPED'),
      target: 'db',
      want: 'stop',
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const a = nextAction(tc.task, tc.target, tc.now ?? NOW);
      assert.equal(a.kind, tc.want, JSON.stringify(a));
      if (tc.reason !== undefined) {
        assert.equal(a.kind, 'fail');
        assert.match((a as { reason: string }).reason, tc.reason);
      }
    });
  }

  it('reports the deadline of a start wait', () => {
    const t = task([c('db', { known: 'RUNNING', everRan: true }), c('app', { known: 'CREATED', dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] })]);
    assert.deepEqual(nextAction(t, 'app', NOW), { kind: 'wait', on: "container 'db' to be healthy", untilMs: NOW + 60_000 });
  });
});

describe('taskRules', () => {
  const cases: { name: string; task: TaskView; want: ReturnType<typeof taskRules> }[] = [
    { name: 'all running: nothing to do', task: task([c('a', { known: 'RUNNING' })]), want: undefined },
    {
      name: 'an essential container exited',
      task: task([c('a', { known: 'STOPPED', everRan: true, exitCode: 0 }), c('b', { known: 'RUNNING' })]),
      want: { desired: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' },
    },
    {
      name: 'a non-essential container exited',
      task: task([c('a', { known: 'STOPPED', everRan: true, essential: false }), c('b', { known: 'RUNNING' })]),
      want: undefined,
    },
    {
      name: 'an essential container failed to start',
      task: task([c('a', { known: 'STOPPED', reason: 'CannotPullContainerError: denied' })]),
      want: { desired: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: denied' },
    },
    { name: 'already stopping keeps its own reason', task: task([c('a', { known: 'STOPPED', everRan: true })], 'STOPPED'), want: undefined },
  ];
  for (const tc of cases) it(tc.name, () => assert.deepEqual(taskRules(tc.task), tc.want));
});

describe('taskStatus', () => {
  const cases: { name: string; task: TaskView; prev?: 'PENDING' | 'RUNNING' | 'STOPPED'; want: string }[] = [
    { name: 'pulling', task: task([c('a', { known: 'PULLED' })]), want: 'PENDING' },
    { name: 'one of two running', task: task([c('a', { known: 'RUNNING' }), c('b', { known: 'CREATED' })]), want: 'PENDING' },
    { name: 'all running', task: task([c('a', { known: 'RUNNING' }), c('b', { known: 'RUNNING' })]), want: 'RUNNING' },
    { name: 'init done, app running', task: task([c('init', { known: 'STOPPED', essential: false }), c('b', { known: 'RUNNING' })]), want: 'RUNNING' },
    { name: 'all stopped', task: task([c('a', { known: 'STOPPED' }), c('b', { known: 'STOPPED' })]), want: 'STOPPED' },
    { name: 'never backwards while restarting', task: task([c('a', { known: 'CREATED' })]), prev: 'RUNNING', want: 'RUNNING' },
  ];
  for (const tc of cases) it(tc.name, () => assert.equal(taskStatus(tc.task, tc.prev ?? 'PENDING'), tc.want));

  it('maps known statuses onto what ECS reports', () => {
    assert.deepEqual(
      (['NONE', 'PULLED', 'CREATED', 'RUNNING', 'STOPPED'] as const).map(reportedStatus),
      ['PENDING', 'PENDING', 'PENDING', 'RUNNING', 'STOPPED'],
    );
  });
});

describe('startOrder', () => {
  it('puts dependencies first and keeps definition order otherwise', () => {
    const t = task([
      c('app', { dependsOn: [{ containerName: 'proxy', condition: 'HEALTHY' }, { containerName: 'init', condition: 'SUCCESS' }] }),
      c('proxy', { needsCreated: ['data'] }),
      c('init'),
      c('data'),
      c('sidecar'),
    ]);
    const order = startOrder(t);
    assert.deepEqual(order, ['init', 'data', 'proxy', 'app', 'sidecar']);
  });
});
