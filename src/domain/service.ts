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

export type ServiceDeploymentStatus = 'IN_PROGRESS' | 'SUCCESSFUL' | 'STOPPED' | 'ROLLBACK_REQUESTED' | 'ROLLBACK_IN_PROGRESS' | 'ROLLBACK_SUCCESSFUL' | 'ROLLBACK_FAILED';

/** One service deployment as ListServiceDeployments/DescribeServiceDeployments show it (kept after it finishes). */
export interface ServiceDeploymentRecord {
  /** The deployment id (`ecs-svc/…`). */
  id: string;
  taskDefinition: string;
  /** The deployments it replaced. */
  sources: { id: string; taskDefinition: string }[];
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  status: ServiceDeploymentStatus;
  statusReason: string;
  /** Set when this deployment is being (or was) rolled back. */
  rollback?: { reason: string; startedAt: number; toDeployment: string };
  /** Set on a rollback deployment: the deployment it rolls back. */
  rollbackOf?: string;
}

export const MAX_SERVICE_DEPLOYMENTS_KEPT = 25;

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
  /** Service deployments, newest first (at most MAX_SERVICE_DEPLOYMENTS_KEPT). */
  history?: ServiceDeploymentRecord[];
}

/**
 * Records a new deployment in the history: IN_PROGRESS, replacing the current ones; a deployment still in progress
 * that it supersedes is STOPPED (unless this one rolls it back, which the caller records).
 */
export function withDeploymentStarted(s: ServiceRecord, d: DeploymentRecord, nowSec: number, rollbackOf?: string): ServiceDeploymentRecord[] {
  const prior = (s.history ?? []).map((h) =>
    h.status === 'IN_PROGRESS' && h.id !== rollbackOf ? { ...h, status: 'STOPPED' as const, statusReason: `Superseded by deployment ${d.id}.`, finishedAt: nowSec, updatedAt: nowSec } : h,
  );
  const entry: ServiceDeploymentRecord = {
    id: d.id,
    taskDefinition: d.taskDefinition,
    sources: s.deployments.map((x) => ({ id: x.id, taskDefinition: x.taskDefinition })),
    createdAt: nowSec,
    updatedAt: nowSec,
    status: 'IN_PROGRESS',
    statusReason: rollbackOf === undefined ? 'Deployment in progress.' : `Rolling back deployment ${rollbackOf}.`,
    ...(rollbackOf !== undefined ? { rollbackOf } : {}),
  };
  return [entry, ...prior].slice(0, MAX_SERVICE_DEPLOYMENTS_KEPT);
}

/** Updates one history entry (by deployment id). */
export function withHistory(s: ServiceRecord, id: string, patch: Partial<ServiceDeploymentRecord>): ServiceDeploymentRecord[] {
  return (s.history ?? []).map((h) => (h.id === id ? { ...h, ...patch } : h));
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
