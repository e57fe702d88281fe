/** Builders for placement tests: a roomy, eligible instance and an empty demand, overridden per case. */
import type { Candidate, Remaining, TaskDemand } from './types.js';

export const ARN_PREFIX = 'arn:aws:ecs:us-west-2:123456789012:container-instance/c1/';

export function candidate(
  id: string,
  over: Partial<Omit<Candidate, 'remaining' | 'attributes'>> & { remaining?: Partial<Remaining>; attributes?: Record<string, string | undefined> } = {},
): Candidate {
  const { remaining, attributes, ...rest } = over;
  return {
    containerInstanceArn: ARN_PREFIX + id,
    status: 'ACTIVE',
    agentConnected: true,
    ec2InstanceId: `i-${id}`,
    agentVersion: '1.80.0',
    registeredAt: 1_700_000_000,
    runningTasksCount: 0,
    groups: new Map(),
    ...rest,
    attributes: new Map(Object.entries(attributes ?? {})),
    remaining: { cpu: 1024, memory: 2048, portsTcp: new Set([22]), portsUdp: new Set(), freeGpus: [], ...remaining },
  };
}

export function demand(over: Partial<TaskDemand> = {}): TaskDemand {
  return { cpu: 0, memory: 0, portsTcp: [], portsUdp: [], gpus: 0, requiresAttributes: [], ...over };
}
