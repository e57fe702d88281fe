/**
 * Launch-type compatibility. Each launch type is a rule function over the otherwise-valid draft that names the
 * first parameter it cannot run, or returns undefined. The same functions serve both directions of the API
 * [BC RegisterTaskDefinitionRequest.requiresCompatibilities, TaskDefinition.compatibilities]:
 *  - `requiresCompatibilities` asks ECS to validate against those launch types: a violation is a ClientException
 *    ("A client exception is returned if the task definition doesn't validate against the compatibilities specified");
 *  - `compatibilities` in the response lists every launch type the definition validates against, requested or not.
 *    Real responses show ["EXTERNAL","EC2"] for a bridge/EC2 definition and ["EC2","FARGATE"] for an awsvpc
 *    definition that requires only FARGATE; we list them in that order.
 *
 * EC2 accepts everything the base validation accepts. MANAGED_INSTANCES is an AWS-only capacity type (ECS-SEMANTICS
 * tier P3): requiring it is refused with UnsupportedFeatureException, and it is never offered in `compatibilities`.
 */
import type { Compatibility, ContainerDefinition } from '@aws-sdk/client-ecs';
import { Ecs } from '../errors.js';
import { fargateSizeViolation } from './fargate.js';
import type { NormalisedTaskDefinition } from './model.js';
import { isEcrImage, osKindOf } from './model.js';

export type LaunchType = 'EC2' | 'EXTERNAL' | 'FARGATE';

/** A definition that passed every launch-type-independent rule, before compatibilities and attributes are derived. */
export type DraftTaskDefinition = Omit<NormalisedTaskDefinition, 'compatibilities' | 'requiresAttributes' | 'tags'>;

type Rule = (d: DraftTaskDefinition) => string | undefined;

const RULES: Readonly<Record<LaunchType, Rule>> = {
  EC2: () => undefined,
  EXTERNAL: externalViolation,
  FARGATE: fargateViolation,
};

/** Response order observed on AWS. */
const ORDER: readonly LaunchType[] = ['EXTERNAL', 'EC2', 'FARGATE'];

export function launchTypeViolation(launchType: LaunchType, draft: DraftTaskDefinition): string | undefined {
  return RULES[launchType](draft);
}

/** Narrows `requiresCompatibilities` to the launch types this endpoint serves; checked before any content rule. */
export function assertServedLaunchTypes(required: readonly Compatibility[]): asserts required is readonly LaunchType[] {
  if (required.includes('MANAGED_INSTANCES')) {
    throw Ecs.unsupportedFeature('The MANAGED_INSTANCES launch type is not supported by this endpoint. Use EC2, EXTERNAL or FARGATE.');
  }
}

/** Enforces `requiresCompatibilities` and returns the `compatibilities` to store. */
export function resolveCompatibilities(draft: DraftTaskDefinition, required: readonly LaunchType[]): LaunchType[] {
  for (const launchType of required) {
    const violation = RULES[launchType](draft);
    if (violation !== undefined) throw Ecs.client(violation);
  }
  return ORDER.filter((lt) => RULES[lt](draft) === undefined);
}

// ---------------------------------------------------------------------------------------------------------------
// EXTERNAL (ECS Anywhere) [DG:ecs-anywhere "Considerations"]

function externalViolation(d: DraftTaskDefinition): string | undefined {
  if (d.networkMode === 'awsvpc') return 'The EXTERNAL launch type does not support networkMode=awsvpc; external instances support bridge, host and none.';
  const efs = d.volumes.find((v) => v.efsVolumeConfiguration !== undefined);
  if (efs !== undefined) return `The EXTERNAL launch type does not support Amazon EFS volumes (volume '${efs.name ?? ''}').`;
  const atLaunch = d.volumes.find((v) => v.configuredAtLaunch === true);
  if (atLaunch !== undefined) return `The EXTERNAL launch type does not support volumes configured at launch (volume '${atLaunch.name ?? ''}').`;
  if (d.proxyConfiguration !== undefined) return 'The EXTERNAL launch type does not support App Mesh proxy configuration.';
  if ((d.inferenceAccelerators?.length ?? 0) > 0) return 'The EXTERNAL launch type does not support Elastic Inference accelerators.';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// FARGATE [DG:AWS_Fargate "Task definitions"], [ECS-SEMANTICS 5.2], member docs in [BC ContainerDefinition]

/** [BC LogConfiguration.logDriver]: "For tasks on Fargate, the supported log drivers are awslogs, splunk, and awsfirelens." */
const FARGATE_LOG_DRIVERS: ReadonlySet<string> = new Set(['awslogs', 'splunk', 'awsfirelens']);

function fargateViolation(d: DraftTaskDefinition): string | undefined {
  // Order: the task-level requirements first, in the order ECS reports them, then the size table, then parameters.
  if (d.networkMode !== 'awsvpc') return "Fargate only supports network mode 'awsvpc'.";
  if (d.cpu === undefined) return "Fargate requires that 'cpu' be defined at the task level.";
  if (d.memory === undefined) return "Fargate requires that 'memory' be defined at the task level.";
  const os = osKindOf(d);
  const size = fargateSizeViolation(d.cpu, d.memory, os);
  if (size !== undefined) return size;
  if (d.placementConstraints.length > 0) return "Fargate does not support 'placementConstraints'.";
  if (d.ipcMode !== undefined) return "Fargate does not support 'ipcMode'.";
  // [BC RegisterTaskDefinitionRequest.pidMode]: "On Fargate for Linux containers, the only valid value is task."
  if (d.pidMode === 'host') return "Fargate does not support pidMode 'host'; only 'task' is allowed.";
  for (const v of d.volumes) {
    // [DG:AWS_Fargate]: docker volumes are not supported; [BC TaskDefinition.volumes]: nor is host.sourcePath.
    if (v.dockerVolumeConfiguration !== undefined) return `Fargate does not support 'dockerVolumeConfiguration' (volume '${v.name ?? ''}').`;
    if (v.host?.sourcePath !== undefined) return `Fargate does not support 'host.sourcePath' (volume '${v.name ?? ''}').`;
  }
  for (const c of d.containerDefinitions) {
    const violation = fargateContainerViolation(c, d.executionRoleArn !== undefined, os === 'WINDOWS');
    if (violation !== undefined) return violation;
  }
  return undefined;
}

function fargateContainerViolation(c: ContainerDefinition, hasExecutionRole: boolean, windows: boolean): string | undefined {
  const name = c.name ?? '';
  const unsupported = (param: string): string => `Fargate does not support '${param}' (container '${name}').`;
  // Booleans only matter when switched on, lists only when non-empty: CloudFormation and the console send
  // false/[] for "unset", and such definitions register on Fargate.
  if (c.privileged === true) return unsupported('privileged');
  if (c.disableNetworking === true) return unsupported('disableNetworking');
  for (const field of ['links', 'dnsServers', 'dnsSearchDomains', 'extraHosts', 'dockerSecurityOptions'] as const) {
    if ((c[field]?.length ?? 0) > 0) return unsupported(field);
  }
  if (windows && (c.ulimits?.length ?? 0) > 0) return unsupported('ulimits');
  const lp = c.linuxParameters;
  if ((lp?.devices?.length ?? 0) > 0) return unsupported('linuxParameters.devices');
  if (lp?.sharedMemorySize !== undefined) return unsupported('linuxParameters.sharedMemorySize');
  if ((lp?.tmpfs?.length ?? 0) > 0) return unsupported('linuxParameters.tmpfs');
  if (lp?.maxSwap !== undefined) return unsupported('linuxParameters.maxSwap');
  if (lp?.swappiness !== undefined) return unsupported('linuxParameters.swappiness');
  if (c.resourceRequirements?.some((r) => r.type === 'GPU') === true) return unsupported('GPU resourceRequirements');
  // [BC ContainerDefinition.startTimeout/stopTimeout]: "The valid values for Fargate are 2-120 seconds."
  for (const field of ['startTimeout', 'stopTimeout'] as const) {
    const value = c[field];
    if (value !== undefined && (value < 2 || value > 120)) {
      return `Invalid '${field}' setting for container '${name}'. Tasks using the Fargate launch type accept 2-120 seconds; got ${value}.`;
    }
  }
  const driver = c.logConfiguration?.logDriver;
  if (driver !== undefined && !FARGATE_LOG_DRIVERS.has(driver)) {
    return `Log driver '${driver}' is not supported on Fargate (container '${name}'); use awslogs, splunk or awsfirelens.`;
  }
  // [BC FirelensConfiguration.options]: "Tasks hosted on Fargate only support the file configuration file type."
  if (c.firelensConfiguration?.options?.['config-file-type'] === 's3') {
    return `Fargate supports only the 'file' FireLens configuration file type (container '${name}').`;
  }
  // Fargate has no instance role to fall back on: pulling from ECR and writing to CloudWatch Logs need the task
  // execution role. Both messages are ECS's own.
  if (!hasExecutionRole && driver === 'awslogs') return 'Fargate requires task definition to have execution role ARN to support log driver awslogs.';
  if (!hasExecutionRole && isEcrImage(c.image ?? '')) return 'Fargate requires task definition to have execution role ARN to support ECR images.';
  return undefined;
}
