/**
 * Fargate task sizes: the only task-level cpu/memory pairs a Fargate-compatible definition may use
 * [ECS-SEMANTICS 5.2], [DG:AWS_Fargate "Task CPU and memory"], [BC RegisterTaskDefinitionRequest.memory].
 * The table is data so the validator, its error hint and the tests all read the same rows.
 */
import { Ecs } from '../errors.js';
import type { OsKind } from './model.js';

export interface FargateSize {
  /** Task CPU units. */
  readonly cpu: number;
  /** Every task memory value (MiB) allowed with this cpu, ascending. */
  readonly memory: readonly number[];
  /** Windows containers on Fargate need at least 1 vCPU, and the 8 and 16 vCPU sizes are Linux-only. */
  readonly windows: boolean;
}

function steps(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

export const FARGATE_SIZES: readonly FargateSize[] = [
  { cpu: 256, memory: [512, 1024, 2048], windows: false },
  { cpu: 512, memory: steps(1024, 4096, 1024), windows: false },
  { cpu: 1024, memory: steps(2048, 8192, 1024), windows: true },
  { cpu: 2048, memory: steps(4096, 16384, 1024), windows: true },
  { cpu: 4096, memory: steps(8192, 30720, 1024), windows: true },
  // 8 and 16 vCPU need Linux platform version 1.4.0 or later; the platform version is chosen at run time, so
  // registration accepts them (as ECS does) and leaves the platform check to RunTask/CreateService.
  { cpu: 8192, memory: steps(16384, 61440, 4096), windows: false },
  { cpu: 16384, memory: steps(32768, 122880, 8192), windows: false },
];

/** Keep this exact prefix: clients and tests match on it [DG:task-cpu-memory-error]. */
export const NO_FARGATE_CONFIGURATION = 'No Fargate configuration exists for given values';

/**
 * Why a task-level cpu/memory pair (already normalised to integer strings) is not a Fargate size, or undefined if
 * it is one. Non-throwing so the compatibility computation can ask without failing the registration.
 */
export function fargateSizeViolation(cpu: string, memory: string, os: OsKind = 'LINUX'): string | undefined {
  const c = Number(cpu);
  const m = Number(memory);
  const row = FARGATE_SIZES.find((r) => r.cpu === c && (os === 'LINUX' || r.windows));
  if (row?.memory.includes(m) === true) return undefined;
  const base = `${NO_FARGATE_CONFIGURATION}: ${cpu} CPU, ${memory} memory. See the Amazon ECS documentation for the valid values.`;
  if (row !== undefined) return `${base} With ${cpu} CPU units the memory must be one of ${row.memory.join(', ')} MiB.`;
  const cpus = FARGATE_SIZES.filter((r) => os === 'LINUX' || r.windows).map((r) => r.cpu);
  const osNote = os === 'WINDOWS' ? ' for Windows containers' : '';
  return `${base} Valid CPU values${osNote} are ${cpus.join(', ')}.`;
}

/** Throws ClientException "No Fargate configuration exists for given values: …" unless the pair is a Fargate size. */
export function assertFargateSize(cpu: string, memory: string, os: OsKind = 'LINUX'): void {
  const violation = fargateSizeViolation(cpu, memory, os);
  if (violation !== undefined) throw Ecs.client(violation);
}
