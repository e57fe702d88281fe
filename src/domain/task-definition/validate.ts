/**
 * RegisterTaskDefinition's pure core: request in, stored definition out (or the ECS exception the real service
 * would return). The caller assigns the ARN, revision, status and registeredAt, and keeps the tags beside it.
 *
 * Pipeline, in the order failures are reported (the first failing rule wins, as on AWS):
 *   1. request-level: family, tags, container count, launch types the endpoint serves
 *   2. task size: cpu/memory notations → integers                                     (units.ts)
 *   3. each container alone, with its defaults and port mappings                       (containers.ts, ports.ts)
 *   4. containers together: unique names, an essential one, resource sums, port clashes (here, ports.ts)
 *   5. volumes and every cross-reference                                              (volumes.ts, references.ts)
 *   6. task-level parameters: runtime platform, placement constraints, ephemeral storage
 *   7. launch types: enforce requiresCompatibilities, derive compatibilities           (launch-types.ts, fargate.ts)
 *   8. requiresAttributes                                                             (attributes.ts)
 *
 * Exceptions follow what ECS is seen to return: content errors are ClientException; tag-format errors are
 * InvalidParameterException (tags.ts); requiring MANAGED_INSTANCES is UnsupportedFeatureException.
 */
import type { RuntimePlatform, TaskDefinitionPlacementConstraint } from '@aws-sdk/client-ecs';
import { NAME_PATTERN, isArn } from '../arn.js';
import { Ecs } from '../errors.js';
import { deriveRequiredAttributes } from './attributes.js';
import { normaliseContainer } from './containers.js';
import type { DraftTaskDefinition } from './launch-types.js';
import { assertServedLaunchTypes, resolveCompatibilities } from './launch-types.js';
import { cloneWire, osKindOf } from './model.js';
import type {
  EffectiveNetworkMode,
  NormaliseContext,
  NormalisedContainerDefinition,
  NormalisedTaskDefinition,
  OsKind,
  RegisterTaskDefinitionInput,
} from './model.js';
import { assertNoPortConflicts } from './ports.js';
import { assertReferences } from './references.js';
import { normaliseTags } from './tags.js';
import { parseTaskCpu, parseTaskMemory } from './units.js';
import { normaliseVolumes } from './volumes.js';

/** Task-definition containers quota [ECS-SEMANTICS 5.1] ([CR#368]). */
export const MAX_CONTAINERS = 10;
/** [BC RegisterTaskDefinitionRequest.placementConstraints], [ECS-SEMANTICS 1.2]. */
export const MAX_PLACEMENT_CONSTRAINTS = 10;
const MAX_CONSTRAINT_EXPRESSION = 2000;
/** [BC EphemeralStorage.sizeInGiB]: 21–200 GiB. */
const EPHEMERAL_GIB = { min: 21, max: 200 } as const;

export function normaliseTaskDefinition(input: RegisterTaskDefinitionInput, ctx: NormaliseContext): NormalisedTaskDefinition {
  // 1. Request level.
  const family = checkFamily(input.family);
  const tags = normaliseTags(input.tags);
  const inputContainers = input.containerDefinitions ?? [];
  if (inputContainers.length === 0) throw Ecs.client('Container list cannot be empty.');
  if (inputContainers.length > MAX_CONTAINERS) {
    throw Ecs.client(`Too many containers. A task definition can contain at most ${MAX_CONTAINERS} containers; got ${inputContainers.length}.`);
  }
  const required = input.requiresCompatibilities ?? [];
  assertServedLaunchTypes(required);

  // 2. Task size.
  const cpu = input.cpu === undefined ? undefined : parseTaskCpu(input.cpu);
  const memory = input.memory === undefined ? undefined : parseTaskMemory(input.memory);

  // 3. Each container alone. ECS defaults an absent networkMode to bridge and stores it absent.
  const networkMode: EffectiveNetworkMode = input.networkMode ?? 'bridge';
  const os = osKindOf(input);
  const containers = inputContainers.map((c) =>
    normaliseContainer(c, { networkMode, os, taskMemory: memory === undefined ? undefined : Number(memory) }),
  );

  // 4. Containers together.
  checkContainerSet(containers);
  checkTaskResources(containers, cpu, memory);
  assertNoPortConflicts(containers, networkMode);

  // 5. Volumes and references.
  const volumes = normaliseVolumes(input.volumes);
  assertReferences({
    containers,
    volumes,
    networkMode,
    proxyConfiguration: input.proxyConfiguration,
    inferenceAccelerators: input.inferenceAccelerators,
  });

  // 6. Task-level parameters.
  checkRuntimePlatform(input, os);
  const placementConstraints = normalisePlacementConstraints(input.placementConstraints);
  checkEphemeralStorage(input);

  // 7–8. Assemble the draft in the model's member order, then derive what depends on the whole definition.
  const draft: DraftTaskDefinition = {
    containerDefinitions: containers,
    family,
    ...defined('taskRoleArn', input.taskRoleArn === undefined ? undefined : roleArn(input.taskRoleArn, ctx)),
    ...defined('executionRoleArn', input.executionRoleArn === undefined ? undefined : roleArn(input.executionRoleArn, ctx)),
    ...defined('networkMode', input.networkMode),
    volumes,
    placementConstraints,
    ...defined('runtimePlatform', input.runtimePlatform === undefined ? undefined : cloneWire(input.runtimePlatform)),
    ...defined('requiresCompatibilities', input.requiresCompatibilities === undefined ? undefined : [...input.requiresCompatibilities]),
    ...defined('cpu', cpu),
    ...defined('memory', memory),
    ...defined('inferenceAccelerators', input.inferenceAccelerators === undefined ? undefined : cloneWire(input.inferenceAccelerators)),
    ...defined('pidMode', input.pidMode),
    ...defined('ipcMode', input.ipcMode),
    ...defined('proxyConfiguration', input.proxyConfiguration === undefined ? undefined : cloneWire(input.proxyConfiguration)),
    ...defined('registeredBy', ctx.registeredBy),
    ...defined('ephemeralStorage', input.ephemeralStorage === undefined ? undefined : cloneWire(input.ephemeralStorage)),
    ...defined('enableFaultInjection', input.enableFaultInjection),
  };
  const compatibilities = resolveCompatibilities(draft, required);
  const requiresAttributes = deriveRequiredAttributes(draft);
  return { ...draft, requiresAttributes, compatibilities, tags };
}

function checkFamily(family: string | undefined): string {
  if (family === undefined || family === '') throw Ecs.client('Family can not be blank.');
  if (!NAME_PATTERN.test(family)) {
    // ClientException: ECS reports the other family/container-name problems ("Family can not be blank.",
    // "Container.name should not be null or empty.") that way, and the model gives no pattern to check earlier.
    throw Ecs.client(`Invalid family '${family}'. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`);
  }
  return family;
}

function checkContainerSet(containers: readonly NormalisedContainerDefinition[]): void {
  const names = new Set<string>();
  for (const c of containers) {
    if (names.has(c.name)) throw Ecs.client('Container names must be unique within a Task Definition.');
    names.add(c.name);
  }
  // [BC ContainerDefinition.essential]: "All tasks must have at least one essential container."
  if (!containers.some((c) => c.essential)) throw Ecs.client("Task definition doesn't have any essential container.");
}

/**
 * Container reservations must fit in the task size when one is given [BC ContainerDefinition.cpu/memory]. Memory is
 * reserved per container as memoryReservation when set, else memory (the same rule placement uses).
 */
function checkTaskResources(containers: readonly NormalisedContainerDefinition[], cpu: string | undefined, memory: string | undefined): void {
  if (cpu !== undefined && containers.reduce((sum, c) => sum + c.cpu, 0) > Number(cpu)) {
    throw Ecs.client("The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.");
  }
  if (memory !== undefined) {
    const reserved = containers.reduce((sum, c) => sum + (c.memoryReservation ?? c.memory ?? 0), 0);
    if (reserved > Number(memory)) {
      throw Ecs.client("The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'.");
    }
  }
}

/**
 * [BC RuntimePlatform], [BC RegisterTaskDefinitionRequest.networkMode/pidMode/ipcMode], [DG:AWS_Fargate]: Windows
 * runs on X86_64 only, uses the default (NAT) or awsvpc network mode, and has no PID/IPC namespace sharing.
 */
function checkRuntimePlatform(input: RegisterTaskDefinitionInput, os: OsKind): void {
  if (os !== 'WINDOWS') return;
  const platform: RuntimePlatform = input.runtimePlatform ?? {};
  if (platform.cpuArchitecture === 'ARM64') throw Ecs.client('Windows containers do not support the ARM64 CPU architecture; use X86_64.');
  if (input.networkMode !== undefined && input.networkMode !== 'awsvpc') {
    throw Ecs.client(`Windows containers do not support networkMode=${input.networkMode}; omit networkMode or use awsvpc.`);
  }
  if (input.pidMode !== undefined) throw Ecs.client("The 'pidMode' parameter is not supported for Windows containers.");
  if (input.ipcMode !== undefined) throw Ecs.client("The 'ipcMode' parameter is not supported for Windows containers.");
}

/** Only `memberOf` with a cluster-query-language expression; at most 10 [BC TaskDefinitionPlacementConstraint]. */
function normalisePlacementConstraints(constraints: readonly TaskDefinitionPlacementConstraint[] | undefined): TaskDefinitionPlacementConstraint[] {
  const list = constraints ?? [];
  if (list.length > MAX_PLACEMENT_CONSTRAINTS) {
    throw Ecs.client(`Too many placement constraints. A task definition can have at most ${MAX_PLACEMENT_CONSTRAINTS}; got ${list.length}.`);
  }
  return list.map((pc) => {
    if (pc.type !== 'memberOf') throw Ecs.client("Invalid placement constraint. Task definitions support only the 'memberOf' constraint type.");
    // The expression is parsed by the placement engine when tasks are placed; here it must exist and fit the limit.
    const expression = pc.expression ?? '';
    if (expression.trim() === '') throw Ecs.client("Invalid placement constraint. A 'memberOf' constraint requires an expression.");
    if (expression.length > MAX_CONSTRAINT_EXPRESSION) {
      throw Ecs.client(`Invalid placement constraint. The expression can be at most ${MAX_CONSTRAINT_EXPRESSION} characters.`);
    }
    return { type: pc.type, expression };
  });
}

/** [BC EphemeralStorage]: 21–200 GiB, a Fargate feature ("for tasks hosted on Fargate"). */
function checkEphemeralStorage(input: RegisterTaskDefinitionInput): void {
  const storage = input.ephemeralStorage;
  if (storage === undefined) return;
  const size = storage.sizeInGiB ?? 0;
  if (size < EPHEMERAL_GIB.min || size > EPHEMERAL_GIB.max) {
    throw Ecs.client(`Invalid 'ephemeralStorage' setting. 'sizeInGiB' must be between ${EPHEMERAL_GIB.min} and ${EPHEMERAL_GIB.max}; got ${size}.`);
  }
  // Only meaningful where the definition is validated for Fargate; on EC2 the instance's disk is the limit.
  if (!(input.requiresCompatibilities ?? []).includes('FARGATE')) {
    throw Ecs.client("The 'ephemeralStorage' parameter is only supported for task definitions that require FARGATE compatibility.");
  }
}

/**
 * Role names are accepted in place of ARNs ([BC RegisterTaskDefinitionRequest.taskRoleArn]: "The short name or
 * full ARN"); ECS fills in the account server-side and stores the ARN (aws-actions/amazon-ecs-render-task-definition
 * #19, answered by an AWS maintainer). A name may carry an IAM path ("path/name").
 */
function roleArn(value: string, ctx: NormaliseContext): string {
  if (isArn(value)) return value;
  return `arn:${partitionOf(ctx.region)}:iam::${ctx.accountId}:role/${value}`;
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

/** `{ [key]: value }` when value is defined, `{}` otherwise — so absent members stay absent under exactOptionalPropertyTypes. */
function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
