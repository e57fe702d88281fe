/**
 * One container definition on its own: validate what can be judged without looking at the other containers, and
 * fill in the defaults ECS echoes back (cpu 0, essential true, empty environment/mountPoints/volumesFrom/
 * portMappings/systemControls, health-check timings). Cross-container rules live in references.ts, ports.ts and
 * validate.ts; launch-type rules in launch-types.ts.
 *
 * Exceptions: every content error here is a ClientException, as ECS reports them ("Container.image should not be
 * null or empty.", "Invalid setting for container 'x'. At least one of 'memory' or 'memoryReservation' must be
 * specified."). Messages quote ECS's own wording where it is publicly known.
 */
import type { ContainerDefinition, HealthCheck } from '@aws-sdk/client-ecs';
import { NAME_PATTERN } from '../arn.js';
import { Ecs } from '../errors.js';
import { cloneWire } from './model.js';
import type { EffectiveNetworkMode, NormalisedContainerDefinition, OsKind } from './model.js';
import { normalisePortMappings } from './ports.js';

export interface ContainerEnv {
  readonly networkMode: EffectiveNetworkMode;
  readonly os: OsKind;
  /** Task-level memory in MiB, when given. */
  readonly taskMemory: number | undefined;
}

/** [BC ContainerDefinition.memory]: Docker 20.10+ reserves 6 MiB per container, so less cannot start. */
export const MIN_CONTAINER_MEMORY_MIB = 6;

export function normaliseContainer(input: ContainerDefinition, env: ContainerEnv): NormalisedContainerDefinition {
  const name = checkName(input.name);
  const image = checkImage(name, input.image);
  const raw = cloneWire(input);
  checkCpu(name, raw.cpu);
  checkMemory(name, raw, env.taskMemory);
  checkNetworkModeParameters(raw, env.networkMode);
  checkWindowsParameters(name, raw, env.os);
  checkUlimits(name, raw);
  checkTimeouts(name, raw);
  checkResourceRequirements(name, raw);
  checkDocumentedLimits(name, raw);
  checkLinuxParameters(name, raw);

  const out: NormalisedContainerDefinition = {
    ...raw,
    name,
    image,
    cpu: raw.cpu ?? 0,
    essential: raw.essential ?? true,
    portMappings: normalisePortMappings(name, raw.portMappings, env.networkMode),
    environment: raw.environment ?? [],
    mountPoints: raw.mountPoints ?? [],
    volumesFrom: raw.volumesFrom ?? [],
    systemControls: raw.systemControls ?? [],
  };
  if (raw.healthCheck !== undefined) out.healthCheck = normaliseHealthCheck(name, raw.healthCheck);
  return out;
}

function checkName(name: string | undefined): string {
  if (name === undefined || name === '') throw Ecs.client('Container.name should not be null or empty.');
  if (!NAME_PATTERN.test(name)) {
    throw Ecs.client(
      `Invalid container name '${name}'. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
    );
  }
  return name;
}

// [BC ContainerDefinition.image]: with a tag, ≤ 255 characters of letters, digits, '-', '_', ':', '.', '/', '#';
// with a digest the 255 limit applies before the '@', and the digest must be sha256 with 64 hex digits.
const IMAGE_REFERENCE = /^[A-Za-z0-9_:./#-]+$/;
const IMAGE_DIGEST = /^sha256:[A-Fa-f0-9]{64}$/;

function checkImage(container: string, image: string | undefined): string {
  if (image === undefined || image.trim() === '') throw Ecs.client('Container.image should not be null or empty.');
  const at = image.indexOf('@');
  const reference = at === -1 ? image : image.slice(0, at);
  const prefix = `Invalid 'image' setting for container '${container}'.`;
  if (reference.length > 255) throw Ecs.client(`${prefix} The image name may be at most 255 characters (before any '@digest').`);
  if (!IMAGE_REFERENCE.test(reference)) {
    throw Ecs.client(`${prefix} Only letters, numbers, hyphens, underscores, colons, periods, forward slashes and number signs are allowed.`);
  }
  if (at !== -1 && !IMAGE_DIGEST.test(image.slice(at + 1))) {
    throw Ecs.client(`${prefix} A digest must be 'sha256:' followed by exactly 64 hexadecimal characters.`);
  }
  return image;
}

function checkCpu(container: string, cpu: number | undefined): void {
  // The model types cpu as a plain Integer; ECS documents values below 2 as meaning "2 shares", never negatives.
  if (cpu !== undefined && cpu < 0) {
    throw Ecs.client(`Invalid 'cpu' setting for container '${container}'. CPU units must be zero or a positive integer; got ${cpu}.`);
  }
}

function checkMemory(container: string, c: ContainerDefinition, taskMemory: number | undefined): void {
  const prefix = `Invalid setting for container '${container}'.`;
  // [BC ContainerDefinition.memoryReservation]: without task memory one of the two must be given (and non-zero).
  if (taskMemory === undefined && c.memory === undefined && c.memoryReservation === undefined) {
    throw Ecs.client(`${prefix} At least one of 'memory' or 'memoryReservation' must be specified.`);
  }
  for (const field of ['memory', 'memoryReservation'] as const) {
    const value = c[field];
    if (value !== undefined && value < MIN_CONTAINER_MEMORY_MIB) {
      throw Ecs.client(`${prefix} '${field}' must be at least ${MIN_CONTAINER_MEMORY_MIB} MiB; got ${value}.`);
    }
  }
  // The model text says "greater than", but ECS accepts equality (awsdocs/amazon-ecs-developer-guide PR #242 corrects
  // the guide to "greater than or equal to"); equal hard and soft limits are common and valid for Docker.
  if (c.memory !== undefined && c.memoryReservation !== undefined && c.memory < c.memoryReservation) {
    throw Ecs.client(`${prefix} 'memory' must be greater than or equal to 'memoryReservation'.`);
  }
  if (taskMemory !== undefined && c.memory !== undefined && c.memory > taskMemory) {
    throw Ecs.client(`The 'memory' setting for container '${container}' is greater than for the task.`);
  }
}

/**
 * Parameters whose meaning depends on the task's network namespace ([BC ContainerDefinition] member docs). The
 * messages are ECS's own, which do not name the container.
 */
function checkNetworkModeParameters(c: ContainerDefinition, mode: EffectiveNetworkMode): void {
  // Empty lists are what CloudFormation and the console send for "unset"; ECS accepts them in every mode.
  if (nonEmpty(c.links) && mode !== 'bridge') throw Ecs.client(`Links are not supported when networkMode=${mode}.`);
  if (mode !== 'awsvpc') return;
  if (c.hostname !== undefined) throw Ecs.client('Hostname is not supported on container when networkMode=awsvpc.');
  if (nonEmpty(c.dnsServers)) throw Ecs.client('DNS servers are not supported on container when networkMode=awsvpc.');
  if (nonEmpty(c.dnsSearchDomains)) throw Ecs.client('DNS search domains are not supported on container when networkMode=awsvpc.');
  if (nonEmpty(c.extraHosts)) throw Ecs.client('Extra hosts are not supported on container when networkMode=awsvpc.');
}

/**
 * [BC ContainerDefinition]: "This parameter is not supported for Windows containers." Only the Linux-kernel
 * features are refused outright; softer notes (user, ulimits, …) are left to the runtime, as the OS is known here
 * only when runtimePlatform says so.
 */
function checkWindowsParameters(container: string, c: ContainerDefinition, os: OsKind): void {
  if (os !== 'WINDOWS') return;
  for (const field of ['linuxParameters', 'privileged'] as const) {
    const value: unknown = c[field];
    if (value === undefined || value === false || (Array.isArray(value) && value.length === 0)) continue;
    throw Ecs.client(`The '${field}' parameter is not supported for Windows containers (container '${container}').`);
  }
}

function checkUlimits(container: string, c: ContainerDefinition): void {
  const seen = new Set<string>();
  for (const u of c.ulimits ?? []) {
    const name = u.name ?? '';
    if (seen.has(name)) throw Ecs.client(`Invalid 'ulimits' setting for container '${container}'. Ulimit '${name}' is specified more than once.`);
    seen.add(name);
    // Docker rejects a soft limit above the hard limit; -1 means unlimited (e.g. memlock).
    const soft = u.softLimit ?? 0;
    const hard = u.hardLimit ?? 0;
    if (hard !== -1 && (soft === -1 || soft > hard)) {
      throw Ecs.client(`Invalid 'ulimits' setting for container '${container}'. The soft limit of '${name}' exceeds its hard limit.`);
    }
  }
}

function checkTimeouts(container: string, c: ContainerDefinition): void {
  // Negative waits are meaningless; the Fargate 2–120 s window is a launch-type rule (launch-types.ts), since on
  // EC2 the agent's ECS_CONTAINER_STOP_TIMEOUT allows longer values.
  for (const field of ['startTimeout', 'stopTimeout'] as const) {
    const value = c[field];
    if (value !== undefined && value < 0) {
      throw Ecs.client(`Invalid '${field}' setting for container '${container}'. The value must be zero or a positive number of seconds.`);
    }
  }
}

function checkResourceRequirements(container: string, c: ContainerDefinition): void {
  const seen = new Set<string>();
  for (const r of c.resourceRequirements ?? []) {
    const type = r.type ?? '';
    const value = r.value ?? '';
    const prefix = `Invalid 'resourceRequirements' setting for container '${container}'.`;
    if (seen.has(type)) throw Ecs.client(`${prefix} Resource type '${type}' is specified more than once.`);
    seen.add(type);
    // [BC ResourceRequirement.value]: GPU is a count of physical GPUs (or ALL); NeuronDevice must be ALL.
    if (type === 'GPU' && value !== 'ALL' && !/^[1-9]\d*$/.test(value)) {
      throw Ecs.client(`${prefix} The GPU value must be a positive integer (or ALL); got '${value}'.`);
    }
    if (type === 'NeuronDevice' && value !== 'ALL') throw Ecs.client(`${prefix} The NeuronDevice value must be ALL; got '${value}'.`);
    if (type === 'InferenceAccelerator' && value === '') throw Ecs.client(`${prefix} The InferenceAccelerator value must name a device.`);
  }
}

/** Documented caps, ranges and required members of a container's list-valued parameters. */
function checkDocumentedLimits(container: string, c: ContainerDefinition): void {
  const prefix = (field: string): string => `Invalid '${field}' setting for container '${container}'.`;
  // [BC ContainerDefinition.environmentFiles]: "You can specify up to ten environment files."
  if ((c.environmentFiles?.length ?? 0) > 10) throw Ecs.client(`${prefix('environmentFiles')} At most 10 environment files are allowed.`);
  // [BC ContainerDefinition.credentialSpecs]: "The maximum number of ARNs is 1."
  if ((c.credentialSpecs?.length ?? 0) > 1) throw Ecs.client(`${prefix('credentialSpecs')} At most 1 credential spec is allowed.`);
  const policy = c.restartPolicy;
  if (policy !== undefined) {
    // [BC ContainerRestartPolicy]: ≤ 50 ignored exit codes; restartAttemptPeriod 60–1800 seconds.
    if ((policy.ignoredExitCodes?.length ?? 0) > 50) throw Ecs.client(`${prefix('restartPolicy')} At most 50 ignored exit codes are allowed.`);
    const period = policy.restartAttemptPeriod;
    if (period !== undefined && (period < 60 || period > 1800)) {
      throw Ecs.client(`${prefix('restartPolicy')} 'restartAttemptPeriod' must be between 60 and 1800 seconds; got ${period}.`);
    }
  }
  for (const mp of c.mountPoints ?? []) {
    if (!mp.sourceVolume || !mp.containerPath) {
      throw Ecs.client(`${prefix('mountPoints')} Each mount point needs both 'sourceVolume' and 'containerPath'.`);
    }
  }
  for (const vf of c.volumesFrom ?? []) {
    if (!vf.sourceContainer) throw Ecs.client(`${prefix('volumesFrom')} Each entry needs a 'sourceContainer'.`);
  }
}

function checkLinuxParameters(container: string, c: ContainerDefinition): void {
  const lp = c.linuxParameters;
  if (lp === undefined) return;
  const prefix = `Invalid 'linuxParameters' setting for container '${container}'.`;
  // [BC LinuxParameters]: maxSwap "Accepted values are 0 or any positive integer"; swappiness "between 0 and 100".
  if (lp.maxSwap !== undefined && lp.maxSwap < 0) throw Ecs.client(`${prefix} 'maxSwap' must be 0 or a positive integer.`);
  if (lp.swappiness !== undefined && (lp.swappiness < 0 || lp.swappiness > 100)) {
    throw Ecs.client(`${prefix} 'swappiness' must be between 0 and 100.`);
  }
  if (lp.sharedMemorySize !== undefined && lp.sharedMemorySize <= 0) throw Ecs.client(`${prefix} 'sharedMemorySize' must be a positive number of MiB.`);
  for (const t of lp.tmpfs ?? []) {
    if ((t.size ?? 0) <= 0) throw Ecs.client(`${prefix} Each tmpfs mount needs a positive 'size' in MiB.`);
  }
}

/** [BC HealthCheck] bounds, and the defaults ECS writes into the stored definition (startPeriod stays off). */
const HEALTH_BOUNDS = {
  interval: { min: 5, max: 300, default: 30 },
  timeout: { min: 2, max: 60, default: 5 },
  retries: { min: 1, max: 10, default: 3 },
  startPeriod: { min: 0, max: 300, default: undefined },
} as const;

export function normaliseHealthCheck(container: string, hc: HealthCheck): HealthCheck {
  const prefix = `Invalid 'healthCheck' setting for container '${container}'.`;
  const command = hc.command ?? [];
  // [BC HealthCheck.command]: "must start with CMD … or CMD-SHELL"; a bare keyword has nothing to run.
  if ((command[0] !== 'CMD' && command[0] !== 'CMD-SHELL') || command.length < 2) {
    throw Ecs.client(`${prefix} The command must start with CMD or CMD-SHELL followed by the command to run.`);
  }
  const out: HealthCheck = { ...hc, command };
  for (const [field, bound] of Object.entries(HEALTH_BOUNDS) as [keyof typeof HEALTH_BOUNDS, (typeof HEALTH_BOUNDS)[keyof typeof HEALTH_BOUNDS]][]) {
    const value = hc[field] ?? bound.default;
    if (value === undefined) continue;
    if (value < bound.min || value > bound.max) {
      throw Ecs.client(`${prefix} '${field}' must be between ${bound.min} and ${bound.max}; got ${value}.`);
    }
    out[field] = value;
  }
  return out;
}

function nonEmpty(list: readonly unknown[] | undefined): boolean {
  return list !== undefined && list.length > 0;
}
