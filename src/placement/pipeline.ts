/**
 * The placement pipeline (README.md draws it): for each task, every candidate runs the filters in order until
 * one rejects it; the strategy rules narrow the instances that passed, in order; one of those left is picked
 * at random. The chosen instance's resources are taken before the next task of the call is placed.
 *
 * Pure: no I/O, no clock; randomness only from the Rng passed in. A task no instance can take fails with the
 * closest match, as ECS reports it (ECS-SEMANTICS.md §2.7): `{arn: <instance>, reason: 'RESOURCE:MEMORY'}`.
 * The closest match is the instance that got furthest through the filters, then the one with the smallest
 * shortfall at the filter that stopped it (the ECS guide does not define "closest"; this is the reading that
 * explains the most to the user).
 */
import type { Rng } from '../util/clock.js';
import { agentFilter } from './filters/agent.js';
import { attributesFilter } from './filters/attributes.js';
import { cpuFilter } from './filters/cpu.js';
import { gpuFilter } from './filters/gpu.js';
import { memoryFilter } from './filters/memory.js';
import { portsFilter } from './filters/ports.js';
import { reserve } from './snapshot.js';
import type { Snapshot } from './snapshot.js';
import { strategyFor } from './strategies/index.js';
import type { Candidate, Filter, InstanceRejection, PlacementAttempt, PlacementFailure, StrategyRule, TaskDemand } from './types.js';

/**
 * The built-in stages, in ECS's order: eligibility, then the task definition's resource needs (CPU, memory,
 * ports, GPU), then the attributes it requires. Placement constraints are passed as `constraints` and run
 * after these.
 */
export const BUILTIN_FILTERS: readonly Filter[] = [agentFilter, cpuFilter, memoryFilter, portsFilter, gpuFilter, attributesFilter];

/** RunTask's default: "distribute tasks randomly across your cluster" [DG:scheduling_tasks]. */
export const DEFAULT_STRATEGY: readonly StrategyRule[] = [{ type: 'random' }];

export interface PlacementRequest {
  readonly demand: TaskDemand;
  /** How many tasks to place, one after another. */
  readonly count: number;
  /** Strategy rules, applied in order; every type must be in the `strategies` table. Default: random. */
  readonly strategy?: readonly StrategyRule[];
  /** Further filters after the built-in ones (placement constraints). */
  readonly constraints?: readonly Filter[];
}

export interface PlacementResult {
  /** One per task, in order. */
  readonly attempts: readonly PlacementAttempt[];
  /** The snapshot with every placed task's resources taken. */
  readonly snapshot: Snapshot;
}

/** Places `count` tasks among the snapshot's instances. The snapshot must not be empty. */
export function placeTasks(snapshot: Snapshot, req: PlacementRequest, rng: Rng): PlacementResult {
  if (snapshot.length === 0) throw new RangeError('placeTasks needs at least one candidate instance');
  const filters = [...BUILTIN_FILTERS, ...(req.constraints ?? [])];
  const rules = req.strategy ?? DEFAULT_STRATEGY;
  let current = snapshot;
  const attempts: PlacementAttempt[] = [];
  for (let n = 0; n < req.count; n++) {
    const { fit, rejections } = evaluate(current, filters, req.demand);
    if (fit.length === 0) {
      attempts.push({ failure: closestFailure(rejections), rejections: rejections.map((r) => r.rejection) });
      continue;
    }
    const chosen = choose(fit, rules, rng, req.demand);
    const { candidate, gpuIds } = reserve(chosen, req.demand);
    current = current.map((c) => (c === chosen ? candidate : c));
    attempts.push({ placement: { containerInstanceArn: chosen.containerInstanceArn, gpuIds }, rejections: rejections.map((r) => r.rejection) });
  }
  return { attempts, snapshot: current };
}

/**
 * One task on one named instance (StartTask: the caller chose the instance, so there is no strategy). The
 * instance must be in the snapshot.
 */
export function placeOn(snapshot: Snapshot, containerInstanceArn: string, demand: TaskDemand, constraints: readonly Filter[] = []): PlacementResult {
  const target = snapshot.find((c) => c.containerInstanceArn === containerInstanceArn);
  if (!target) throw new RangeError(`placeOn: ${containerInstanceArn} is not in the snapshot`);
  const { rejections } = evaluate([target], [...BUILTIN_FILTERS, ...constraints], demand);
  const first = rejections[0];
  if (first) return { attempts: [{ failure: failureOf(first.rejection), rejections: [first.rejection] }], snapshot };
  const { candidate, gpuIds } = reserve(target, demand);
  return {
    attempts: [{ placement: { containerInstanceArn, gpuIds }, rejections: [] }],
    snapshot: snapshot.map((c) => (c === target ? candidate : c)),
  };
}

interface Ranked {
  readonly rejection: InstanceRejection;
  /** Index of the filter that rejected: how far the instance got. */
  readonly stage: number;
}

function evaluate(candidates: Snapshot, filters: readonly Filter[], demand: TaskDemand): { fit: Candidate[]; rejections: Ranked[] } {
  const fit: Candidate[] = [];
  const rejections: Ranked[] = [];
  for (const c of candidates) {
    let rejected: Ranked | undefined;
    for (let stage = 0; stage < filters.length && !rejected; stage++) {
      const f = filters[stage]!;
      const r = f.check(c, demand);
      if (r) rejected = { stage, rejection: { ...r, containerInstanceArn: c.containerInstanceArn, filter: f.name } };
    }
    if (rejected) rejections.push(rejected);
    else fit.push(c);
  }
  return { fit, rejections };
}

function choose(fit: readonly Candidate[], rules: readonly StrategyRule[], rng: Rng, demand: TaskDemand): Candidate {
  let left = fit;
  for (const rule of rules) {
    if (left.length <= 1) break;
    const strategy = strategyFor(rule.type);
    if (!strategy) throw new RangeError(`placement strategy '${rule.type}' is not implemented`);
    const narrowed = strategy.narrow(left, rule, { rng, demand });
    // A strategy is best effort: one that likes nothing leaves the choice to the next rule.
    if (narrowed.length > 0) left = narrowed;
  }
  return left.length === 1 ? left[0]! : left[Math.min(Math.floor(rng.float() * left.length), left.length - 1)]!;
}

/** `rejections` is never empty here: nothing fit, and the snapshot is not empty. */
function closestFailure(rejections: readonly Ranked[]): PlacementFailure {
  let best = rejections[0]!;
  for (const r of rejections) {
    if (r.stage > best.stage || (r.stage === best.stage && (r.rejection.shortfall ?? 0) < (best.rejection.shortfall ?? 0))) best = r;
  }
  return failureOf(best.rejection);
}

function failureOf(r: InstanceRejection): PlacementFailure {
  return { arn: r.containerInstanceArn, reason: r.reason, detail: r.detail };
}
