/**
 * The records Gantry keeps in the store, one interface per kind. They hold the ECS wire shapes (timestamps as
 * epoch seconds, exactly as the API returns them) plus the few internal fields the API does not show, so a
 * describe call is a projection, not a translation.
 */
import type {
  Attribute,
  ClusterConfiguration,
  ClusterServiceConnectDefaults,
  ClusterSetting,
  CapacityProviderStrategyItem,
  Resource,
  VersionInfo,
} from '@aws-sdk/client-ecs';
import type { WireTag } from './tags.js';

/** `Wire<T>`: an SDK type with Date fields as the epoch-second numbers that travel on the wire. */
export type Wire<T> = T extends Date
  ? number
  : T extends readonly (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export const Kind = {
  cluster: 'cluster',
  taskDefinitionFamily: 'taskdef-family',
  taskDefinition: 'taskdef',
  containerInstance: 'instance',
  task: 'task',
  service: 'service',
  accountSetting: 'account-setting',
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];
export const ECS_KINDS: readonly string[] = Object.values(Kind);

export type ClusterStatus = 'ACTIVE' | 'PROVISIONING' | 'DEPROVISIONING' | 'FAILED' | 'INACTIVE';

export interface ClusterRecord {
  clusterName: string;
  clusterArn: string;
  status: ClusterStatus;
  settings: ClusterSetting[];
  configuration?: Wire<ClusterConfiguration>;
  serviceConnectDefaults?: ClusterServiceConnectDefaults;
  capacityProviders: string[];
  defaultCapacityProviderStrategy: CapacityProviderStrategyItem[];
  tags: WireTag[];
  /** Internal: epoch ms, for ordering and retention of INACTIVE records. */
  createdAtMs: number;
  deletedAtMs?: number;
}

/** Key: family. Remembers the highest revision ever issued so numbers are never reused, even after deletion. */
export interface TaskDefinitionFamilyRecord {
  family: string;
  lastRevision: number;
}

export type ContainerInstanceStatus = 'REGISTERING' | 'REGISTRATION_FAILED' | 'ACTIVE' | 'INACTIVE' | 'DEREGISTERING' | 'DRAINING';

export interface ContainerInstanceRecord {
  cluster: string;
  /** 32-hex id: the last part of the ARN. */
  id: string;
  containerInstanceArn: string;
  ec2InstanceId: string;
  capacityProviderName?: string;
  /** Bumped on every change, as ECS's `version`. */
  version: number;
  versionInfo: VersionInfo;
  registeredResources: Resource[];
  status: ContainerInstanceStatus;
  statusReason?: string;
  agentConnected: boolean;
  agentUpdateStatus?: string;
  attributes: Attribute[];
  registeredAt: number;
  tags: WireTag[];
  /** Internal: the registration's clientToken (idempotency) and when the agent was last heard from (epoch ms). */
  clientToken?: string;
  lastHeartbeatMs?: number;
}

export interface AccountSettingRecord {
  name: string;
  value: string;
  /** The principal the setting applies to, or 'default' for the account default. */
  principalArn: string;
}

/**
 * Key: `family:revision`. The TaskDefinition wire shape as DescribeTaskDefinition returns it, with its tags
 * (returned only with include TAGS).
 */
export interface TaskDefinitionRecord extends Wire<import('@aws-sdk/client-ecs').TaskDefinition> {
  family: string;
  revision: number;
  taskDefinitionArn: string;
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';
  registeredAt: number;
  tags: WireTag[];
}
