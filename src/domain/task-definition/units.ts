/**
 * Task-level `cpu` and `memory` arrive as strings in two notations each and are stored as plain integers
 * ([BC RegisterTaskDefinitionRequest.cpu/memory]: "String values are converted to an integer … when the task
 * definition is registered"). ECS answers a bad value with ClientException "Invalid 'cpu' setting for task."
 * [DG:task-cpu-memory-error]; we keep that prefix and add what would have been accepted.
 */
import { Ecs } from '../errors.js';

/** 1 vCPU = 1024 CPU units; 1 GB = 1024 MiB (ECS's own conversion: "1GB" registers as "1024"). */
const UNITS_PER_VCPU = 1024;
const MIB_PER_GB = 1024;

/** [BC RegisterTaskDefinitionRequest.cpu]: "Supported values are between 128 CPU units (0.125 vCPUs) and 196608 CPU units (192 vCPUs)." */
export const MIN_TASK_CPU = 128;
export const MAX_TASK_CPU = 196_608;

/** Largest value a stored integer may take (the model's Integer is 32-bit). */
const MAX_INT32 = 2_147_483_647;

const INTEGER = /^\d+$/;
// A decimal with optional fraction, then the unit; whitespace between number and unit is optional ("1vCPU", "1 vCPU").
const VCPU = /^(\d+(?:\.\d+)?|\.\d+)\s*vcpu$/i;
const GB = /^(\d+(?:\.\d+)?|\.\d+)\s*gb$/i;

/**
 * Parses a task-level cpu value ("256", "1 vCPU", "0.25 vcpu", "1vCPU") into integer CPU units, as a string.
 * Fractions of a vCPU must land on a whole number of units ("0.1 vCPU" = 102.4 units is rejected, not rounded).
 */
export function parseTaskCpu(raw: string): string {
  const units = toInteger(raw.trim(), VCPU, UNITS_PER_VCPU);
  if (units === undefined || units < MIN_TASK_CPU || units > MAX_TASK_CPU) {
    throw Ecs.client(
      `Invalid 'cpu' setting for task. Specify CPU units as an integer between ${MIN_TASK_CPU} and ${MAX_TASK_CPU} ` +
        `(for example '1024') or vCPUs (for example '1 vCPU' or '0.25 vcpu'); got '${raw}'.`,
    );
  }
  return String(units);
}

/** Parses a task-level memory value ("512", "1GB", "1 GB", "2gb", "0.5GB") into integer MiB, as a string. */
export function parseTaskMemory(raw: string): string {
  const mib = toInteger(raw.trim(), GB, MIB_PER_GB);
  if (mib === undefined || mib < 1) {
    throw Ecs.client(
      `Invalid 'memory' setting for task. Specify memory as an integer number of MiB (for example '2048') ` +
        `or in GB (for example '2GB' or '0.5 GB'); got '${raw}'.`,
    );
  }
  return String(mib);
}

/** A plain integer, or a decimal followed by `unit` scaled by `scale`; undefined unless the result is a safe integer. */
function toInteger(text: string, unit: RegExp, scale: number): number | undefined {
  let value: number;
  if (INTEGER.test(text)) {
    value = Number(text);
  } else {
    const match = unit.exec(text);
    if (match?.[1] === undefined) return undefined;
    // Multiplying by a power of two is exact in binary floating point, so the product is an integer exactly when
    // the decimal is a whole number of units (0.25 vCPU → 256) and fractional otherwise (0.3 GB → 307.2, rejected).
    value = Number(match[1]) * scale;
  }
  return Number.isInteger(value) && value <= MAX_INT32 ? value : undefined;
}
