/**
 * The scheduler's decision against its invariants, on random services and task sets (fast-check): it never starts
 * past maximumPercent, never stops a healthy task below minimumHealthyPercent, never starts more than are missing,
 * never stops a healthy PRIMARY task on an ACTIVE instance except to scale in, keeps PRIMARY first, and decides the
 * same thing twice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ServiceRecord } from '../domain/service.js';
import type { TaskRecord } from '../domain/task.js';
import { circuitBreakerThreshold, decide, isHealthy, isLive } from './scheduler.js';

const PRIMARY = 'ecs-svc/1111111111111111111';
const OLD = 'ecs-svc/2222222222222222222';

function service(desired: number, min: number, max: number, breaker: boolean): ServiceRecord {
  return {
    cluster: 'c',
    serviceName: 's',
    serviceArn: 'arn:aws:ecs:eu-west-1:1:service/c/s',
    clusterArn: 'arn:aws:ecs:eu-west-1:1:cluster/c',
    status: 'ACTIVE',
    desiredCount: desired,
    launchType: 'EC2',
    taskDefinition: 'td:2',
    deploymentConfiguration: { maximumPercent: max, minimumHealthyPercent: min, deploymentCircuitBreaker: { enable: breaker, rollback: breaker }, strategy: 'ROLLING' },
    deployments: [
      { id: PRIMARY, status: 'PRIMARY', taskDefinition: 'td:2', createdAt: 1, updatedAt: 1, rolloutState: 'IN_PROGRESS', rolloutStateReason: '' },
      { id: OLD, status: 'ACTIVE', taskDefinition: 'td:1', createdAt: 0, updatedAt: 0, rolloutState: 'COMPLETED', rolloutStateReason: '' },
    ],
    placementConstraints: [],
    placementStrategy: [],
    healthCheckGracePeriodSeconds: 0,
    schedulingStrategy: 'REPLICA',
    deploymentController: { type: 'ECS' },
    tags: [],
    enableECSManagedTags: false,
    propagateTags: 'NONE',
    enableExecuteCommand: false,
    availabilityZoneRebalancing: 'ENABLED',
    createdAt: 0,
    createdBy: 'root',
    events: [],
    lastCompletedTaskDefinition: 'td:1',
  };
}

const taskArb = fc.record({
  primary: fc.boolean(),
  status: fc.constantFrom('PENDING', 'RUNNING', 'RUNNING', 'RUNNING', 'STOPPED', 'STOPPING'),
  instance: fc.constantFrom('a', 'b', 'c', 'drain'),
  failed: fc.boolean(),
});

function taskOf(i: number, t: { primary: boolean; status: string; instance: string; failed: boolean }): TaskRecord {
  const stopped = t.status === 'STOPPED';
  return {
    cluster: 'c',
    id: `t${i}`,
    taskArn: `arn:aws:ecs:eu-west-1:1:task/c/t${i}`,
    clusterArn: '',
    taskDefinitionArn: t.primary ? 'td:2' : 'td:1',
    containerInstanceArn: `arn:aws:ecs:eu-west-1:1:container-instance/c/${t.instance}`,
    launchType: 'EC2',
    lastStatus: stopped ? 'STOPPED' : t.status === 'STOPPING' ? 'RUNNING' : (t.status as 'PENDING' | 'RUNNING'),
    desiredStatus: stopped || t.status === 'STOPPING' ? 'STOPPED' : 'RUNNING',
    version: 1,
    createdAt: 0,
    ...(t.status !== 'PENDING' && !(stopped && t.failed) ? { startedAt: 10 } : {}),
    ...(stopped ? { stoppedAt: 20, stopCode: t.failed ? ('TaskFailedToStart' as const) : ('ServiceSchedulerInitiated' as const) } : {}),
    startedBy: t.primary ? PRIMARY : OLD,
    group: 'service:s',
    healthStatus: 'UNKNOWN',
    overrides: {},
    containers: [{ containerArn: '', taskArn: '', name: 'web', image: 'x', lastStatus: 'RUNNING', networkBindings: [], healthStatus: 'UNKNOWN', cpu: '0', essential: true, hasHealthCheck: false }],
    tags: [],
    enableExecuteCommand: false,
    reservation: { cpu: 0, memory: 0, portsTcp: [], portsUdp: [], gpuIds: [] },
    serviceName: 's',
  } as TaskRecord;
}

describe('service scheduler decision (property)', () => {
  it('keeps to ECS bounds, whatever the service and its tasks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 100, max: 200 }),
        fc.boolean(),
        fc.array(taskArb, { maxLength: 30 }),
        (desired, min, max, breaker, specs) => {
          const s = service(desired, min, max, breaker);
          const tasks = specs.map((t, i) => taskOf(i, t));
          const input = { service: s, tasks, instanceStatus: (arn: string) => (arn.endsWith('/drain') ? 'DRAINING' : 'ACTIVE'), nowSec: 100, settleSec: 0 };
          const plan = decide(input);
          assert.deepEqual(decide(input), plan, 'the same state decides the same thing');
          const live = tasks.filter(isLive);
          const maxTotal = Math.floor((desired * max) / 100);
          const minHealthy = Math.ceil((desired * min) / 100);
          assert.ok(plan.start === 0 || live.length + plan.start <= maxTotal, `start ${plan.start} with ${live.length} live exceeds ${maxTotal}`);
          const keep = live.filter((t) => t.startedBy === PRIMARY && !t.containerInstanceArn!.endsWith('/drain'));
          assert.ok(plan.start <= Math.max(0, desired - keep.length));
          const healthy = live.filter((t) => isHealthy(t, 100, 0));
          const healthyStopped = plan.stop.filter((x) => isHealthy(x.task, 100, 0)).length;
          assert.ok(healthyStopped <= Math.max(0, healthy.length - minHealthy), `stopped ${healthyStopped} of ${healthy.length} healthy below ${minHealthy}`);
          for (const x of plan.stop) {
            assert.ok(isLive(x.task) && x.task.desiredStatus !== 'STOPPED');
            assert.ok(!(x.task.startedBy === PRIMARY && !x.task.containerInstanceArn!.endsWith('/drain')), 'a PRIMARY task on an ACTIVE instance is only stopped to scale in');
          }
          assert.equal(plan.scaleIn, Math.max(0, keep.length - desired));
          assert.equal(plan.deployments[0]!.id, PRIMARY);
          if (plan.rollbackTo !== undefined) assert.equal(plan.rollbackTo, 'td:1');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('uses ECS circuit-breaker thresholds', () => {
    assert.deepEqual([1, 25, 400, 800].map(circuitBreakerThreshold), [10, 13, 200, 200]);
  });
});
