/**
 * The vocabulary of the placement engine: what an instance offers (Candidate), what a task asks for
 * (TaskDemand), the two kinds of stage (Filter, Strategy) and what a placement answers. Pure data; see
 * README.md for how the stages chain.
 */
import type { Rng } from '../util/clock.js';

/** One container instance as placement sees it: identity, eligibility and what is left of it. */
export interface Candidate {
  readonly containerInstanceArn: string;
  /** ContainerInstance status (ACTIVE, DRAINING, …). */
  readonly status: string;
  readonly agentConnected: boolean;
  /** Attribute name → value (undefined for name-only capability attributes). */
  readonly attributes: ReadonlyMap<string, string | undefined>;
  readonly remaining: Remaining;
  /** What the cluster query language reads besides attributes. */
  readonly ec2InstanceId: string;
  readonly agentVersion: string | undefined;
  /** Epoch seconds. */
  readonly registeredAt: number;
  /** Tasks whose desiredStatus is RUNNING (ContainerInstance.runningTasksCount). */
  readonly runningTasksCount: number;
  /** Task group → how many of the instance's tasks still holding resources belong to it (`task:group`, spread, distinctInstance). */
  readonly groups: ReadonlyMap<string, number>;
}

/** What is left of an instance once the tasks holding resources on it are counted. */
export interface Remaining {
  /** CPU units; may be negative if an instance re-registered smaller than what it runs. */
  readonly cpu: number;
  /** MiB. */
  readonly memory: number;
  /** Host ports in use (reserved by the agent or held by tasks), by protocol. */
  readonly portsTcp: ReadonlySet<number>;
  readonly portsUdp: ReadonlySet<number>;
  /** GPU ids not assigned to any task, in the instance's order. */
  readonly freeGpus: readonly string[];
}

/** What one task needs of an instance. */
export interface TaskDemand {
  readonly cpu: number;
  readonly memory: number;
  /** Static host ports, by protocol (dynamic ports are bound by Docker and never collide here). */
  readonly portsTcp: readonly number[];
  readonly portsUdp: readonly number[];
  /** Number of GPUs. */
  readonly gpus: number;
  /** The task definition's requiresAttributes: the instance must have each (with the value, when one is given). */
  readonly requiresAttributes: readonly { readonly name: string; readonly value?: string | undefined }[];
}

/** Why a filter turned an instance down. `reason` is the ECS failure reason string; `detail` says it for people. */
export interface Rejection {
  readonly reason: string;
  readonly detail: string;
  /**
   * How far the instance is from passing this filter (e.g. MiB missing). Among instances rejected by the
   * same filter, the smallest shortfall is the closest match that ECS reports.
   */
  readonly shortfall?: number;
}

/**
 * A feasibility check: one method, answering whether one instance can take one task. Filters run in
 * pipeline order and the first rejection decides; placement constraints (memberOf, distinctInstance) are
 * further filters appended after the built-in ones.
 */
export interface Filter {
  /** Names the stage in placement explanations, e.g. 'memory'. */
  readonly name: string;
  check(candidate: Candidate, demand: TaskDemand): Rejection | undefined;
}

/** A placement strategy rule as the ECS API gives it. */
export interface StrategyRule {
  readonly type: string;
  readonly field?: string | undefined;
}

export interface StrategyContext {
  readonly rng: Rng;
  readonly demand: TaskDemand;
  /** The counting scope of `spread`: the task group (`service:<name>` for a service's tasks). */
  readonly group: string;
  /** Every instance of the cluster, as the tasks placed so far left it: spread counts tasks on all of them. */
  readonly all: readonly Candidate[];
}

/**
 * A strategy narrows the instances that fit to those it likes best; rules apply in order as successive
 * tie-breakers (ECS-SEMANTICS.md §2.2), and the pipeline picks at random among whatever remains. `candidates`
 * is never empty, and neither may the answer be.
 */
export interface Strategy {
  narrow(candidates: readonly Candidate[], rule: StrategyRule, ctx: StrategyContext): readonly Candidate[];
}

/** One instance turned down for one task, and by which stage. */
export interface InstanceRejection extends Rejection {
  readonly containerInstanceArn: string;
  readonly filter: string;
}

/** An ECS `failures[]` entry. */
export interface PlacementFailure {
  readonly arn: string;
  readonly reason: string;
  readonly detail?: string;
}

/** Where one task went, and what it was given there beyond plain amounts. */
export interface TaskPlacement {
  readonly containerInstanceArn: string;
  readonly gpuIds: readonly string[];
}

/** The outcome for one task: placed, or a failure naming the closest match; every rejection either way. */
export interface PlacementAttempt {
  readonly placement?: TaskPlacement;
  readonly failure?: PlacementFailure;
  /** Every instance turned down for this task (the reference pipeline lists them; the engine leaves this to explain). */
  readonly rejections?: readonly InstanceRejection[];
}
