/**
 * A service as Gantry keeps it (Kind.service, key `cluster/serviceName`): the Service wire shape's configuration,
 * its deployments (PRIMARY first) and its recent events. Counts (running, pending, per deployment) are not stored:
 * DescribeServices derives them from the service's tasks, so a task report never rewrites its service.
 */
import type { PlacementConstraint, PlacementStrategy } from '@aws-sdk/client-ecs';
import type { WireTag } from './tags.js';

export type ServiceStatus = 'ACTIVE' | 'DRAINING' | 'INACTIVE';
export type RolloutState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

export interface DeploymentRecord {
  /** `ecs-svc/` and 19 digits, as ECS's; also every task's `startedBy`. */
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  taskDefinition: string;
  createdAt: number;
  updatedAt: number;
  rolloutState: RolloutState;
  rolloutStateReason: string;
}

export interface ServiceEventRecord {
  id: string;
  createdAt: number;
  message: string;
}

export interface ServiceRecord {
  cluster: string;
  serviceName: string;
  serviceArn: string;
  clusterArn: string;
  status: ServiceStatus;
  desiredCount: number;
  launchType: 'EC2';
  /** The PRIMARY deployment's task definition ARN. */
  taskDefinition: string;
  deploymentConfiguration: {
    maximumPercent: number;
    minimumHealthyPercent: number;
    deploymentCircuitBreaker: { enable: boolean; rollback: boolean };
    strategy: 'ROLLING';
  };
  deployments: DeploymentRecord[];
  placementConstraints: PlacementConstraint[];
  placementStrategy: PlacementStrategy[];
  healthCheckGracePeriodSeconds: number;
  schedulingStrategy: 'REPLICA' | 'DAEMON';
  deploymentController: { type: 'ECS' };
  tags: WireTag[];
  enableECSManagedTags: boolean;
  propagateTags: 'TASK_DEFINITION' | 'SERVICE' | 'NONE';
  enableExecuteCommand: boolean;
  availabilityZoneRebalancing: 'ENABLED' | 'DISABLED';
  createdAt: number;
  createdBy: string;
  /** Newest first, at most MAX_SERVICE_EVENTS. */
  events: ServiceEventRecord[];
  /** Internal: the task definition of the last deployment that COMPLETED (circuit-breaker rollback target). */
  lastCompletedTaskDefinition?: string;
  /** Internal: the CreateService clientToken (idempotency). */
  clientToken?: string;
}

export const MAX_SERVICE_EVENTS = 100;

export const serviceKey = (cluster: string, name: string): string => `${cluster}/${name}`;
export const serviceGroup = (name: string): string => `service:${name}`;

/** A deployment id: `ecs-svc/` + 19 digits from the given random hex. */
export function deploymentId(hex: string): string {
  let digits = BigInt(`0x${hex.padEnd(16, '0').slice(0, 16)}`).toString().padStart(19, '0');
  if (digits.length > 19) digits = digits.slice(-19);
  return `ecs-svc/${digits}`;
}

/** Adds events, newest first; an event identical to the newest one is not repeated (ECS suppresses duplicates). */
export function withEvents(events: readonly ServiceEventRecord[], add: readonly ServiceEventRecord[]): ServiceEventRecord[] {
  let out = [...events];
  for (const e of add) {
    if (out[0]?.message === e.message) continue;
    out = [e, ...out];
  }
  return out.slice(0, MAX_SERVICE_EVENTS);
}
