/**
 * Test support for the agent: desired tasks, the fake runtime on hand-driven time, and waiting for the
 * promises a step set off to settle.
 */
import type { DesiredTask, TaskReport } from '../domain/task.js';
import type { ContainerDef } from './task-engine/container-spec.js';

let counter = 0;

export function desiredTask(containers: ContainerDef[], over: Partial<DesiredTask> = {}): DesiredTask {
  const id = (++counter).toString(16).padStart(32, '0');
  return {
    taskArn: `arn:aws:ecs:us-east-1:000000000000:task/demo/${id}`,
    family: 'web',
    revision: 1,
    desiredStatus: 'RUNNING',
    version: 1,
    networkMode: 'bridge',
    containers,
    volumes: [],
    reservedPorts: { tcp: [], udp: [] },
    gpuIds: {},
    ...over,
  };
}

/** The fake runtime's timers on top of the agent's (so ManualTimers drive both). */
export { fakeTimersFrom } from './hollow-fleet.js';

/** Lets every promise chain that is ready run to completion (runtime calls, events, outcomes). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** The newest report of each task, by ARN. */
export function latest(reports: readonly TaskReport[]): Map<string, TaskReport> {
  const m = new Map<string, TaskReport>();
  for (const r of reports) m.set(r.taskArn, r);
  return m;
}

/** Polls until `fn` returns true (real time; for tests over sockets). */
export async function eventually(fn: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
