/**
 * Run-time overrides (ECS-SEMANTICS.md §5.4, [BC TaskOverride / ContainerOverride]): checked against the task
 * definition once, when a task is launched, and applied to its container definitions whenever the agent is
 * told what to run. Pure.
 *
 * What an override does to a container: `command`, `environmentFiles`, `cpu`, `memory`, `memoryReservation`
 * and `resourceRequirements` replace the definition's; `environment` is merged by name, the override winning.
 * Task-level `cpu` and `memory` replace the definition's (same notations as at registration).
 */
import type { ContainerDefinition, ContainerOverride, TaskOverride } from '@aws-sdk/client-ecs';
import { Ecs } from './errors.js';
import type { Wire } from './records.js';
import { parseTaskCpu, parseTaskMemory } from './task-definition/units.js';

/** [BC RunTaskRequest.overrides]: "A total of 8192 characters are allowed for overrides … including the JSON formatting characters." */
export const MAX_OVERRIDES_CHARS = 8192;
/** [BC ContainerDefinition.memory]: Docker 20.10+ cannot start a container with less. */
const MIN_CONTAINER_MEMORY_MIB = 6;

type ContainerLike = Pick<ContainerDefinition, 'name' | 'memory' | 'memoryReservation'>;

/**
 * Checks `overrides` against the definition's containers and returns them as ECS records them on the task:
 * one containerOverrides entry per container of the definition (just `{name}` when it has no override), in
 * the definition's order, and inferenceAcceleratorOverrides always present.
 */
export function normaliseOverrides(overrides: TaskOverride | undefined, containers: readonly ContainerLike[]): Wire<TaskOverride> {
  const given = overrides ?? {};
  if (JSON.stringify(given).length > MAX_OVERRIDES_CHARS) {
    throw Ecs.invalidParameter(`Container Overrides length must be at most ${MAX_OVERRIDES_CHARS} characters (JSON included); shorten the overrides.`);
  }
  const byName = new Map<string, ContainerOverride>();
  for (const [i, o] of (given.containerOverrides ?? []).entries()) {
    const { name, ...rest } = o;
    if (name === undefined || name === '') {
      if (Object.keys(rest).length === 0) continue;
      throw Ecs.invalidParameter(`containerOverrides[${i}] overrides something but has no name: name the container it applies to.`);
    }
    const target = containers.find((c) => c.name === name);
    if (!target) throw Ecs.invalidParameter(`Override for container named ${name} is not a container in the TaskDefinition.`);
    if (byName.has(name)) throw Ecs.invalidParameter(`containerOverrides names container '${name}' more than once; give each container one override.`);
    checkContainerOverride(o, target);
    byName.set(name, o);
  }
  const out: Wire<TaskOverride> = {
    containerOverrides: containers.map((c) => byName.get(c.name ?? '') ?? { name: c.name }),
    inferenceAcceleratorOverrides: given.inferenceAcceleratorOverrides ?? [],
  };
  if (given.cpu !== undefined) out.cpu = parseTaskCpu(given.cpu);
  if (given.memory !== undefined) out.memory = parseTaskMemory(given.memory);
  if (given.taskRoleArn !== undefined) out.taskRoleArn = given.taskRoleArn;
  if (given.executionRoleArn !== undefined) out.executionRoleArn = given.executionRoleArn;
  if (given.ephemeralStorage !== undefined) out.ephemeralStorage = given.ephemeralStorage;
  return out;
}

/** The definition's containers with the task's overrides applied. Containers without an override are returned as they are. */
export function applyContainerOverrides<C extends Wire<ContainerDefinition>>(containers: readonly C[], overrides: Wire<TaskOverride> | undefined): C[] {
  const byName = new Map((overrides?.containerOverrides ?? []).map((o) => [o.name, o]));
  return containers.map((c) => {
    const o = byName.get(c.name);
    if (!o) return c;
    const out: C = { ...c };
    if (o.command !== undefined) out.command = [...o.command];
    if (o.environment !== undefined) out.environment = mergeEnvironment(c.environment ?? [], o.environment);
    if (o.environmentFiles !== undefined) out.environmentFiles = o.environmentFiles.map((f) => ({ ...f }));
    if (o.cpu !== undefined) out.cpu = o.cpu;
    if (o.memory !== undefined) out.memory = o.memory;
    if (o.memoryReservation !== undefined) out.memoryReservation = o.memoryReservation;
    if (o.resourceRequirements !== undefined) out.resourceRequirements = o.resourceRequirements.map((r) => ({ ...r }));
    return out;
  });
}

function mergeEnvironment(base: NonNullable<ContainerDefinition['environment']>, add: NonNullable<ContainerOverride['environment']>): NonNullable<ContainerDefinition['environment']> {
  const m = new Map(base.map((e) => [e.name, e]));
  for (const e of add) m.set(e.name, e);
  return [...m.values()].map((e) => ({ ...e }));
}

function checkContainerOverride(o: ContainerOverride, c: ContainerLike): void {
  const where = `the override for container '${o.name}'`;
  if (o.cpu !== undefined && (!Number.isInteger(o.cpu) || o.cpu < 0)) throw Ecs.invalidParameter(`cpu in ${where} must be a non-negative integer number of CPU units.`);
  for (const [field, v] of [
    ['memory', o.memory],
    ['memoryReservation', o.memoryReservation],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < MIN_CONTAINER_MEMORY_MIB)) {
      throw Ecs.invalidParameter(`${field} in ${where} must be an integer of at least ${MIN_CONTAINER_MEMORY_MIB} MiB.`);
    }
  }
  const memory = o.memory ?? c.memory;
  const reservation = o.memoryReservation ?? c.memoryReservation;
  if (memory !== undefined && reservation !== undefined && reservation > memory) {
    throw Ecs.invalidParameter(
      `With ${where}, container '${o.name}' would have memoryReservation ${reservation} MiB above its memory limit of ${memory} MiB; the soft limit must not exceed the hard one.`,
    );
  }
  for (const e of o.environment ?? []) {
    if (e.name === undefined || e.name === '') throw Ecs.invalidParameter(`Every environment variable in ${where} needs a name.`);
  }
  for (const r of o.resourceRequirements ?? []) {
    if (r.type === 'GPU' && !/^[1-9]\d*$/.test(r.value ?? '')) throw Ecs.invalidParameter(`The GPU resourceRequirement in ${where} must be a positive whole number of GPUs.`);
  }
}
