/**
 * Wire shapes for RegisterTaskDefinition: what comes in and what the pure core hands back to be stored.
 *
 * The input is the AWS JSON request body. An earlier layer (src/protocol/awsjson/model.ts) has already checked it
 * against the botocore model — JSON types, required members, enums, model min/max — so this folder only enforces
 * the semantic rules ECS documents in prose. The SDK's request type has no Date members, so it *is* the wire shape.
 *
 * Mostly types; the few helpers here are shared by the rule files.
 */
import type {
  Attribute,
  Compatibility,
  ContainerDefinition,
  KeyValuePair,
  MountPoint,
  PortMapping,
  RegisterTaskDefinitionRequest,
  SystemControl,
  TaskDefinition,
  TaskDefinitionPlacementConstraint,
  Volume,
  VolumeFrom,
} from '@aws-sdk/client-ecs';
import type { Wire } from '../records.js';
import type { WireTag } from '../tags.js';

export type RegisterTaskDefinitionInput = RegisterTaskDefinitionRequest;

/** Who is registering, where. Injected so the core stays pure (no clock, no config reads). */
export interface NormaliseContext {
  readonly accountId: string;
  readonly region: string;
  /** The caller's principal ARN; echoed as `registeredBy` when known. */
  readonly registeredBy?: string;
}

/** The full stored TaskDefinition as it goes on the wire: the model's shape with timestamps as epoch seconds. */
export type StoredTaskDefinition = Wire<TaskDefinition>;

/** A container definition after defaults are filled in the way ECS echoes them back. */
export interface NormalisedContainerDefinition extends ContainerDefinition {
  name: string;
  image: string;
  cpu: number;
  essential: boolean;
  portMappings: PortMapping[];
  environment: KeyValuePair[];
  mountPoints: MountPoint[];
  volumesFrom: VolumeFrom[];
  systemControls: SystemControl[];
}

/** Members the caller assigns when it stores a revision (ARN, revision number, status, lifecycle timestamps). */
type AssignedByCaller = 'taskDefinitionArn' | 'revision' | 'status' | 'registeredAt' | 'deregisteredAt' | 'deleteRequestedAt';

/**
 * The stored TaskDefinition minus what the caller assigns, plus the request's tags kept beside it (ECS returns tags
 * as a sibling of `taskDefinition`, never inside it).
 */
export interface NormalisedTaskDefinition extends Omit<StoredTaskDefinition, AssignedByCaller> {
  family: string;
  containerDefinitions: NormalisedContainerDefinition[];
  volumes: Volume[];
  placementConstraints: TaskDefinitionPlacementConstraint[];
  requiresAttributes: Attribute[];
  compatibilities: Compatibility[];
  /** Validated by the shared tag rules (src/domain/tags.ts): a missing value is stored as ''. */
  tags: WireTag[];
}

/** The network mode actually in force: ECS defaults an absent `networkMode` to bridge (Linux). */
export type EffectiveNetworkMode = 'bridge' | 'host' | 'awsvpc' | 'none';

/** Operating-system family as far as validation cares (all WINDOWS_SERVER_* behave alike). */
export type OsKind = 'LINUX' | 'WINDOWS';

/**
 * Deep copy of a JSON wire value that drops `undefined` members, so the stored definition never aliases the
 * caller's request and never carries keys that would not survive serialisation anyway.
 */
export function cloneWire<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * Whether an image lives in an ECR-style registry: `<12-digit account>.dkr.ecr[-fips].<region>.<domain>/…`. The
 * domain is left open so that both AWS's registries and an ECR-compatible registry using the same host scheme
 * count (both need registry auth through the execution role or the agent's credentials).
 */
export function isEcrImage(image: string): boolean {
  return /^\d{12}\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.[^/]+\//.test(image);
}

export function osKindOf(input: Pick<RegisterTaskDefinitionInput, 'runtimePlatform'>): OsKind {
  return input.runtimePlatform?.operatingSystemFamily?.startsWith('WINDOWS') === true ? 'WINDOWS' : 'LINUX';
}
