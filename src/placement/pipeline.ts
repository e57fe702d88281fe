/**
 * The reference pipeline: ECS's placement rules written out literally over immutable candidate objects
 * (README.md draws it). For each task, every candidate runs the filters in order until one rejects it; the
 * strategy rules narrow the instances that passed, in order; one of those left is picked at random. The chosen
 * instance's resources are taken before the next task of the call is placed.
 *
 * The engine (engine/) answers the same questions from incrementally kept indexes, fast; tests and the bench
 * hold it to this pipeline's answers on random clusters, decision for decision. The two draw randomness the same
 * way: a `random` rule draws as strategies/random.ts says — always when it is the first rule, otherwise only
 * while more than one instance is left, like every rule — and the final pick draws once when more than one
 * instance is left after the rules; candidates are always in ARN order.
 *
 * Pure: no I/O, no clock. A task no instance can take fails with the closest match, as ECS reports it
 * (ECS-SEMANTICS.md §2.7): `{arn: <instance>, reason: 'RESOURCE:MEMORY'}`. The closest match is the instance
 * that got furthest through the filters, then the one with the smallest shortfall at the filter that stopped it,
 * then the first in ARN order (the ECS guide does not define "closest"; this is the reading that explains the
 * most to the user).
 */
import type { Rng } from '../util/clock.js';
import { constraintFilter } from './constraints.js';
import { agentFilter } from './filters/agent.js';
import { attributesFilter } from './filters/attributes.js';
import { cpuFilter } from './filters/cpu.js';
import { gpuFilter } from './filters/gpu.js';
import { memoryFilter } from './filters/memory.js';
import { portsFilter } from './filters/ports.js';
import { RUN_TASK_DEFAULT_STRATEGY } from './options.js';
import type { Constraint } from './options.js';
import { reserve } from './snapshot.js';
import type { Snapshot } from './snapshot.js';
import { strategyFor } from './strategies/index.js';
import type { Candidate, Filter, InstanceRejection, PlacementAttempt, PlacementFailure, StrategyRule, TaskDemand } from './types.js';

/**
 * The built-in stages, in ECS's order: eligibility, then the task definition's resource needs (CPU, memory,
 * ports, GPU), then the attributes it requires. Placement constraints run after these, in their order.
 */
export const BUILTIN_FILTERS: readonly Filter[] = [agentFilter, cpuFilter, memoryFilter, portsFilter, gpuFilter, attributesFilter];

export interface PlacementRequest {
  readonly demand: TaskDemand;
  /** How many tasks to place, one after another. */
  readonly count: number;
  /** The task group: the counting scope of spread and distinctInstance. Default `family:unknown`. */
  readonly group?: string;
  /** Strategy rules, applied in order (checked by options.ts). Default: random. */
  readonly strategy?: readonly StrategyRule[];
  /** Placement constraints (options.ts), after the built-in filters. */
  readonly constraints?: readonly Constraint[];
}

export interface PlacementResult {
  /** One per task, in order. */
  readonly attempts: readonly PlacementAttempt[];
  /** The snapshot with every placed task's resources taken. */
  readonly snapshot: Snapshot;
}

/** The filters a request runs, in order. */
export function filtersFor(req: Pick<PlacementRequest, 'group' | 'constraints'>): Filter[] {
  const group = req.group ?? 'family:unknown';
  return [...BUILTIN_FILTERS, ...(req.constraints ?? []).map((c) => constraintFilter(c, group))];
}

/** Places `count` tasks among the snapshot's instances (in ARN order). The snapshot must not be empty. */
export function placeTasks(snapshot: Snapshot, req: PlacementRequest, rng: Rng): PlacementResult {
  if (snapshot.length === 0) throw new RangeError('placeTasks needs at least one candidate instance');
  const filters = filtersFor(req);
  const group = req.group ?? 'family:unknown';
  const rules = req.strategy ?? RUN_TASK_DEFAULT_STRATEGY;
  let current = snapshot;
  const attempts: PlacementAttempt[] = [];
  for (let n = 0; n < req.count; n++) {
    const { fit, rejections } = evaluate(current, filters, req.demand);
    if (fit.length === 0) {
      attempts.push({ failure: closestFailure(rejections), rejections: rejections.map((r) => r.rejection) });
      continue;
    }
    const chosen = choose(fit, rules, rng, req.demand, group, current);
    const { candidate, gpuIds } = reserve(chosen, req.demand, group);
    current = current.map((c) => (c === chosen ? candidate : c));
    attempts.push({ placement: { containerInstanceArn: chosen.containerInstanceArn, gpuIds }, rejections: rejections.map((r) => r.rejection) });
  }
  return { attempts, snapshot: current };
}

/**
 * One task on one named instance (StartTask: the caller chose the instance, so there is no strategy and no
 * constraint). The instance must be in the snapshot.
 */
export function placeOn(snapshot: Snapshot, containerInstanceArn: string, demand: TaskDemand, group?: string): PlacementResult {
  const target = snapshot.find((c) => c.containerInstanceArn === containerInstanceArn);
  if (!target) throw new RangeError(`placeOn: ${containerInstanceArn} is not in the snapshot`);
  const { rejections } = evaluate([target], BUILTIN_FILTERS, demand);
  const first = rejections[0];
  if (first) return { attempts: [{ failure: failureOf(first.rejection), rejections: [first.rejection] }], snapshot };
  const { candidate, gpuIds } = reserve(target, demand, group);
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

function choose(fit: readonly Candidate[], rules: readonly StrategyRule[], rng: Rng, demand: TaskDemand, group: string, all: Snapshot): Candidate {
  let left = fit;
  for (const [r, rule] of rules.entries()) {
    // A first random rule draws even for one candidate: it probes the whole cluster (strategies/random.ts).
    if (left.length <= 1 && !(r === 0 && rule.type === 'random')) break;
    const strategy = strategyFor(rule.type);
    if (!strategy) throw new RangeError(`placement strategy '${rule.type}' is not implemented`);
    const narrowed = strategy.narrow(left, rule, { rng, demand, group, all });
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
