/**
 * The placement engine for one cluster: ECS's pipeline (../pipeline.ts states it literally) answered from state
 * kept incrementally, so a decision costs a few passes over typed arrays instead of rebuilding the cluster.
 *
 * What is kept (README.md draws it):
 *  - per instance (InstanceEntry): registered resources, attributes, and the sums of what its tasks hold,
 *    updated as task and instance records change (PlacementIndex feeds them from the catalog);
 *  - columns in ARN order (slot i = i-th instance by ARN, INACTIVE ones left out): free CPU, free memory, free
 *    GPUs, eligibility (ACTIVE and agent-connected);
 *  - lazily, and then kept in step: a taken-flag column per static host port asked for, a task-count column per
 *    task group asked for, the result column of each memberOf expression and requiresAttributes set that reads
 *    no tasks (valid until an instance's attributes, status or agent change: the "static epoch"), and the value-id
 *    column of each attribute spread over.
 *
 * A decision (`place`) runs the filters as one pass over the columns into a scratch index list, narrows it with
 * the strategy rules in order, picks, and takes the task's resources in place so the next task of the call sees
 * them; every tentative reservation is undone before `place` returns, because the caller commits task records
 * whose arrival through the catalog feed accounts for them for good. Randomness is drawn exactly as the reference
 * pipeline draws it, so the two agree decision for decision (engine.test.ts).
 */
import { constraintFilter } from '../constraints.js';
import { evaluateCql } from '../cql/index.js';
import { attributesFilter } from '../filters/attributes.js';
import { portsFilter } from '../filters/ports.js';
import { RANDOM_PROBES } from '../strategies/random.js';
import { attributeBucket } from '../strategies/spread.js';
import { BUILTIN_FILTERS } from '../pipeline.js';
import { constraintText, strategyText } from '../options.js';
import type { Constraint } from '../options.js';
import type { Filter, PlacementFailure, StrategyRule, TaskDemand, TaskPlacement } from '../types.js';
import type { Rng } from '../../util/clock.js';
import { contributionOf, InstanceEntry } from './entry.js';
import type { Contribution, InstanceRecordView, TaskRecordView } from './entry.js';

export interface EngineRequest {
  readonly demand: TaskDemand;
  readonly count: number;
  /** Counting scope of spread and distinctInstance; the group the placed tasks join. */
  readonly group: string;
  readonly strategy: readonly StrategyRule[];
  readonly constraints: readonly Constraint[];
}

/** The outcome for one task: placed, or a failure naming the closest match. */
export interface EngineAttempt {
  readonly placement?: TaskPlacement;
  readonly failure?: PlacementFailure;
}

/** Stages, in pipeline order; a constraint j is STAGE_CONSTRAINT + j. 0 means the instance fits. */
const STAGE_AGENT = 1;
const STAGE_CPU = 2;
const STAGE_MEMORY = 3;
const STAGE_PORTS = 4;
const STAGE_GPU = 5;
const STAGE_ATTRIBUTES = 6;
const STAGE_CONSTRAINT = 7;

/** Bounds on the lazily built columns; past them a cache starts over (it is rebuilt on demand). */
const MAX_PORT_COLUMNS = 512;
const MAX_GROUP_COLUMNS = 4096;
const MAX_CACHED_EXPRESSIONS = 1024;

type ConstraintCheck =
  | { readonly kind: 'bits'; readonly bits: Uint8Array }
  | { readonly kind: 'dynamic'; readonly constraint: Extract<Constraint, { type: 'memberOf' }> }
  | { readonly kind: 'distinct'; readonly counts: Int32Array };

/** A request resolved against the columns: everything the hot loop reads, found once per call. */
interface Plan {
  readonly req: EngineRequest;
  readonly ports: readonly Uint8Array[];
  readonly requires: Uint8Array | undefined;
  /** Every constraint, in order (failure reasons and explanations follow this order). */
  readonly checks: readonly ConstraintCheck[];
  /** The slots that pass everything no task changes (eligibility, requiresAttributes, memberOf without task subjects). */
  readonly base: Int32Array;
  /** What the hot loop still checks per slot beyond resources: distinctInstance's counts, memberOf reading tasks. */
  readonly distinct: Int32Array | undefined;
  readonly dynamic: readonly Extract<Constraint, { type: 'memberOf' }>[];
  /**
   * The first rule's key when the hot loop can apply it while collecting: per slot (binpack, spread over
   * instances), or per attribute value id through `fusedIds` (spread over an attribute: the group's tasks per
   * value, kept current by `place` as it places).
   */
  readonly fused: Float64Array | Int32Array | undefined;
  readonly fusedIds: Int32Array | undefined;
  /** The group's task counts per slot, when a rule or constraint reads them. */
  readonly groupCounts: Int32Array | undefined;
  /** Per spread-attribute rule (by rule index): value id per slot, and how many ids there are. */
  readonly attributeIds: ReadonlyMap<number, { readonly ids: Int32Array; readonly size: number }>;
}

interface Cached<T> {
  readonly epoch: number;
  readonly value: T;
}

export class ClusterIndex {
  readonly #entries = new Map<string, InstanceEntry>();
  #slots: InstanceEntry[] = [];
  #dirty = false;
  /** Bumped whenever what static memberOf expressions, requiresAttributes or attribute spreads read may have changed. */
  #epoch = 0;

  #cpu = new Float64Array(0);
  #memory = new Float64Array(0);
  #gpus = new Int32Array(0);
  #eligible = new Uint8Array(0);
  #scratch = new Int32Array(0);
  #bucketCounts = new Float64Array(64);
  /** Port column key: the port for TCP, 65536 + port for UDP. */
  readonly #ports = new Map<number, Uint8Array>();
  readonly #groups = new Map<string, Int32Array>();
  readonly #memberOf = new Map<string, Cached<Uint8Array>>();
  readonly #requires = new Map<string, Cached<Uint8Array>>();
  readonly #attributeIds = new Map<string, Cached<{ ids: Int32Array; size: number }>>();
  readonly #bases = new Map<string, Cached<Int32Array>>();
  readonly #zones = new Map<string, Cached<readonly string[]>>();

  /** Instances that can be considered (every status but INACTIVE). */
  get size(): number {
    this.#fresh();
    return this.#slots.length;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Keeping state: the feed

  /** An instance record changed; `record` undefined means it was deleted. */
  instanceChanged(arn: string, record: InstanceRecordView | undefined): void {
    let e = this.#entries.get(arn);
    if (record === undefined || record.status === 'INACTIVE') {
      if (!e?.present) return;
      e.present = false;
      this.#dirty = true;
      if (e.usedCpu === 0 && e.usedMemory === 0 && e.groups.size === 0 && e.running === 0) this.#entries.delete(arn);
      return;
    }
    if (!e) this.#entries.set(arn, (e = new InstanceEntry(arn)));
    const wasPresent = e.present;
    const before = { tcp: e.regTcp, udp: e.regUdp };
    const staticChanged = e.setRecord(record);
    if (!wasPresent) {
      this.#dirty = true;
      return;
    }
    if (staticChanged) this.#epoch++;
    if (this.#dirty || e.slot < 0) return;
    this.#writeResources(e);
    if (before.tcp !== e.regTcp || before.udp !== e.regUdp) {
      for (const [key, col] of this.#ports) col[e.slot] = this.#portTaken(e, key) ? 1 : 0;
    }
  }

  /** A task record changed: what it held (before) is given back and what it holds (after) is taken. */
  taskChanged(before: TaskRecordView | undefined, after: TaskRecordView | undefined): void {
    const was = before?.containerInstanceArn === undefined ? undefined : contributionOf(before);
    const now = after?.containerInstanceArn === undefined ? undefined : contributionOf(after);
    if (was) this.#apply(before!.containerInstanceArn!, was, -1);
    if (now) this.#apply(after!.containerInstanceArn!, now, 1);
  }

  #apply(arn: string, c: Contribution, sign: 1 | -1): void {
    let e = this.#entries.get(arn);
    if (!e) this.#entries.set(arn, (e = new InstanceEntry(arn)));
    this.#applyTo(e, c, sign);
    if (!e.present && e.usedCpu === 0 && e.usedMemory === 0 && e.groups.size === 0 && e.running === 0) this.#entries.delete(arn);
  }

  #applyTo(e: InstanceEntry, c: Contribution, sign: 1 | -1): void {
    e.apply(c, sign);
    const s = e.slot;
    if (this.#dirty || s < 0) return;
    this.#cpu[s] = e.freeCpu;
    this.#memory[s] = e.freeMemory;
    if (c.gpuIds.length > 0) this.#gpus[s] = e.freeGpus().length;
    for (const p of c.portsTcp) {
      const col = this.#ports.get(p);
      if (col) col[s] = e.tcpTaken(p) ? 1 : 0;
    }
    for (const p of c.portsUdp) {
      const col = this.#ports.get(65536 + p);
      if (col) col[s] = e.udpTaken(p) ? 1 : 0;
    }
    if (c.group !== undefined) {
      const col = this.#groups.get(c.group);
      if (col) col[s] = e.inGroup(c.group);
    }
  }

  #writeResources(e: InstanceEntry): void {
    const s = e.slot;
    this.#cpu[s] = e.freeCpu;
    this.#memory[s] = e.freeMemory;
    this.#gpus[s] = e.gpuIds.length === 0 ? 0 : e.freeGpus().length;
    this.#eligible[s] = e.status === 'ACTIVE' && e.agentConnected ? 1 : 0;
  }

  #portTaken(e: InstanceEntry, key: number): boolean {
    return key >= 65536 ? e.udpTaken(key - 65536) : e.tcpTaken(key);
  }

  /** Rebuilds the ARN-ordered columns after instances came or went. */
  #fresh(): void {
    if (!this.#dirty) return;
    for (const e of this.#slots) e.slot = -1;
    const slots = [...this.#entries.values()].filter((e) => e.present);
    slots.sort((a, b) => (a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0));
    this.#slots = slots;
    const n = slots.length;
    this.#cpu = new Float64Array(n);
    this.#memory = new Float64Array(n);
    this.#gpus = new Int32Array(n);
    this.#eligible = new Uint8Array(n);
    this.#scratch = new Int32Array(n);
    slots.forEach((e, i) => {
      e.slot = i;
      this.#writeResources(e);
    });
    this.#ports.clear();
    this.#groups.clear();
    this.#epoch++;
    this.#dirty = false;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Lazily built columns

  #portColumn(key: number): Uint8Array {
    let col = this.#ports.get(key);
    if (col) return col;
    col = new Uint8Array(this.#slots.length);
    for (const e of this.#slots) col[e.slot] = this.#portTaken(e, key) ? 1 : 0;
    this.#ports.set(key, col);
    return col;
  }

  #groupColumn(group: string): Int32Array {
    let col = this.#groups.get(group);
    if (col) return col;
    if (this.#groups.size >= MAX_GROUP_COLUMNS) this.#groups.clear();
    col = new Int32Array(this.#slots.length);
    for (const e of this.#slots) col[e.slot] = e.inGroup(group);
    this.#groups.set(group, col);
    return col;
  }

  #cached<T>(cache: Map<string, Cached<T>>, key: string, build: () => T): T {
    const hit = cache.get(key);
    if (hit && hit.epoch === this.#epoch) return hit.value;
    if (cache.size >= MAX_CACHED_EXPRESSIONS) cache.clear();
    const value = build();
    cache.set(key, { epoch: this.#epoch, value });
    return value;
  }

  #memberOfColumn(c: Extract<Constraint, { type: 'memberOf' }>): Uint8Array {
    return this.#cached(this.#memberOf, c.expression, () => {
      const bits = new Uint8Array(this.#slots.length);
      for (const e of this.#slots) bits[e.slot] = evaluateCql(c.ast, e.subject) ? 1 : 0;
      return bits;
    });
  }

  #requiresColumn(demand: TaskDemand): Uint8Array | undefined {
    if (demand.requiresAttributes.length === 0) return undefined;
    const key = JSON.stringify(demand.requiresAttributes);
    return this.#cached(this.#requires, key, () => {
      const bits = new Uint8Array(this.#slots.length);
      for (const e of this.#slots) bits[e.slot] = attributesFilter.check(e.candidate(), demand) === undefined ? 1 : 0;
      return bits;
    });
  }

  #attributeColumn(name: string): { ids: Int32Array; size: number } {
    return this.#cached(this.#attributeIds, name, () => {
      const ids = new Int32Array(this.#slots.length);
      const seen = new Map<string, number>();
      for (const e of this.#slots) {
        if (!e.attributes.has(name)) continue; // id 0: the attribute is absent
        const v = e.attributes.get(name) ?? '';
        let id = seen.get(v);
        if (id === undefined) seen.set(v, (id = seen.size + 1));
        ids[e.slot] = id;
      }
      return { ids, size: seen.size + 1 };
    });
  }

  #plan(req: EngineRequest): Plan {
    this.#fresh();
    const d = req.demand;
    // The port and group columns a plan holds must stay in their maps for the whole call, because tentative
    // reservations reach them through the maps: make room before building any, never while.
    const portKeys = [...d.portsTcp, ...d.portsUdp.map((p) => 65536 + p)];
    if (portKeys.some((key) => !this.#ports.has(key)) && this.#ports.size + portKeys.length > MAX_PORT_COLUMNS) this.#ports.clear();
    const ports = portKeys.map((key) => this.#portColumn(key));
    const needsGroup = req.constraints.some((c) => c.type === 'distinctInstance') || req.strategy.some((r) => r.type === 'spread');
    const groupCounts = needsGroup ? this.#groupColumn(req.group) : undefined;
    const checks = req.constraints.map((c): ConstraintCheck => {
      if (c.type === 'distinctInstance') return { kind: 'distinct', counts: groupCounts! };
      return c.dynamic ? { kind: 'dynamic', constraint: c } : { kind: 'bits', bits: this.#memberOfColumn(c) };
    });
    const attributeIds = new Map<number, { ids: Int32Array; size: number }>();
    req.strategy.forEach((r, i) => {
      if (r.type === 'spread' && r.field !== undefined && r.field.startsWith('attribute:')) attributeIds.set(i, this.#attributeColumn(r.field.slice('attribute:'.length)));
    });
    const requires = this.#requiresColumn(d);
    const statics = checks.flatMap((c) => (c.kind === 'bits' ? [c.bits] : []));
    const baseKey = `${JSON.stringify(d.requiresAttributes)}\u0000${req.constraints.flatMap((c) => (c.type === 'memberOf' && !c.dynamic ? [c.expression] : [])).join('\u0000')}`;
    const base = this.#cached(this.#bases, baseKey, () => {
      const out: number[] = [];
      for (let i = 0; i < this.#slots.length; i++) {
        if (this.#eligible[i] === 0 || (requires !== undefined && requires[i] === 0) || statics.some((bits) => bits[i] === 0)) continue;
        out.push(i);
      }
      return Int32Array.from(out);
    });
    const first = req.strategy[0];
    let fused: Float64Array | Int32Array | undefined;
    let fusedIds: Int32Array | undefined;
    if (first?.type === 'binpack') fused = first.field === 'cpu' ? this.#cpu : this.#memory;
    else if (first?.type === 'spread') {
      const attribute = attributeIds.get(0);
      if (attribute === undefined) fused = groupCounts;
      else {
        fused = Float64Array.from(this.#bucketTotals(groupCounts!, attribute));
        fusedIds = attribute.ids;
      }
    }
    return {
      req,
      ports,
      requires,
      checks,
      base,
      distinct: req.constraints.some((c) => c.type === 'distinctInstance') ? groupCounts : undefined,
      dynamic: req.constraints.flatMap((c) => (c.type === 'memberOf' && c.dynamic ? [c] : [])),
      fused,
      fusedIds,
      groupCounts,
      attributeIds,
    };
  }

  // ------------------------------------------------------------------------------------------------------------
  // Deciding

  /** Places `count` tasks one after another; the index is left as it was. */
  place(req: EngineRequest, rng: Rng): EngineAttempt[] {
    const plan = this.#plan(req);
    if (this.#slots.length === 0) throw new RangeError('place needs at least one container instance');
    const attempts: EngineAttempt[] = [];
    const undo: [InstanceEntry, Contribution][] = [];
    let failure: PlacementFailure | undefined;
    try {
      for (let t = 0; t < req.count; t++) {
        // Nothing changes after a failure, so every later task of the call fails the same way.
        if (failure) {
          attempts.push({ failure });
          continue;
        }
        const slot = this.#decide(plan, rng);
        if (slot < 0) {
          failure = this.#closest(plan);
          attempts.push({ failure });
          continue;
        }
        const e = this.#slots[slot]!;
        const contribution = this.#take(e, req);
        // The task counts for its group where it went: so does a fused attribute spread's total for that value.
        if (plan.fusedIds !== undefined) plan.fused![plan.fusedIds[slot]!]! += 1;
        undo.push([e, contribution]);
        attempts.push({ placement: { containerInstanceArn: e.arn, gpuIds: contribution.gpuIds } });
      }
    } finally {
      for (let i = undo.length - 1; i >= 0; i--) this.#applyTo(undo[i]![0], undo[i]![1], -1);
    }
    return attempts;
  }

  /**
   * StartTask: one task on each named instance, in order (an instance may be named twice), checked by the built-in
   * filters only — the caller chose the instances, so no strategy or constraint applies. Unknown or INACTIVE
   * instances are the caller's to report. The index is left as it was.
   */
  placeOn(arns: readonly string[], demand: TaskDemand, group: string): EngineAttempt[] {
    this.#fresh();
    const req: EngineRequest = { demand, count: 1, group, strategy: [], constraints: [] };
    const plan = this.#plan(req);
    const attempts: EngineAttempt[] = [];
    const undo: [InstanceEntry, Contribution][] = [];
    try {
      for (const arn of arns) {
        const e = this.#entries.get(arn);
        if (!e || e.slot < 0) throw new RangeError(`placeOn: ${arn} is not a current instance of the cluster`);
        const stage = this.#stageOf(plan, e.slot);
        if (stage !== 0) {
          const r = this.#rejection(plan, e, stage);
          attempts.push({ failure: { arn, reason: r.reason, detail: r.detail } });
          continue;
        }
        const contribution = this.#take(e, req);
        undo.push([e, contribution]);
        attempts.push({ placement: { containerInstanceArn: arn, gpuIds: contribution.gpuIds } });
      }
    } finally {
      for (let i = undo.length - 1; i >= 0; i--) this.#applyTo(undo[i]![0], undo[i]![1], -1);
    }
    return attempts;
  }

  #take(e: InstanceEntry, req: EngineRequest): Contribution {
    const d = req.demand;
    const contribution: Contribution = {
      cpu: d.cpu,
      memory: d.memory,
      portsTcp: d.portsTcp,
      portsUdp: d.portsUdp,
      gpuIds: d.gpus > 0 ? e.freeGpus().slice(0, d.gpus) : [],
      running: true,
      group: req.group,
    };
    this.#applyTo(e, contribution, 1);
    return contribution;
  }

  /** One decision: the slot the next task goes to, or -1 when none fits. */
  #decide(plan: Plan, rng: Rng): number {
    const rules = plan.req.strategy;
    if (rules[0]?.type === 'random') {
      // Probe the cluster as strategies/random.ts does; only if that misses, list what fits and draw from it.
      const n = this.#slots.length;
      for (let p = 0; p < RANDOM_PROBES; p++) {
        const i = Math.min(Math.floor(rng.float() * n), n - 1);
        if (this.#stageOf(plan, i) === 0) return i;
      }
      const k = this.#collect(plan);
      return k === 0 ? -1 : this.#scratch[Math.min(Math.floor(rng.float() * k), k - 1)]!;
    }
    const k = this.#collect(plan);
    return k === 0 ? -1 : this.#choose(plan, k, rng);
  }

  /**
   * The filters as one pass over the slots that pass the static ones: fitting slots into the scratch list, in ARN
   * order; returns how many. With a fused first rule, only the slots with its least key are kept.
   */
  #collect(plan: Plan): number {
    const d = plan.req.demand;
    const out = this.#scratch;
    const cpu = this.#cpu;
    const memory = this.#memory;
    const dCpu = d.cpu;
    const dMemory = d.memory;
    const dGpus = d.gpus;
    const gpus = this.#gpus;
    const ports = plan.ports;
    const nPorts = ports.length;
    const distinct = plan.distinct;
    const dynamic = plan.dynamic;
    const nDynamic = dynamic.length;
    const key = plan.fused;
    const keyIds = plan.fusedIds;
    const base = plan.base;
    const m = base.length;
    let best = Infinity;
    let k = 0;
    outer: for (let j = 0; j < m; j++) {
      const i = base[j]!;
      if (cpu[i]! < dCpu || memory[i]! < dMemory) continue;
      const kv = key === undefined ? 0 : keyIds === undefined ? key[i]! : key[keyIds[i]!]!;
      if (kv > best) continue;
      for (let p = 0; p < nPorts; p++) if (ports[p]![i] !== 0) continue outer;
      if (dGpus > 0 && gpus[i]! < dGpus) continue;
      if (distinct !== undefined && distinct[i] !== 0) continue;
      for (let c = 0; c < nDynamic; c++) if (!evaluateCql(dynamic[c]!.ast, this.#slots[i]!.subject)) continue outer;
      if (key !== undefined && kv < best) {
        best = kv;
        k = 0;
      }
      out[k++] = i;
    }
    return k;
  }

  #satisfies(check: ConstraintCheck, slot: number): boolean {
    switch (check.kind) {
      case 'bits':
        return check.bits[slot] === 1;
      case 'distinct':
        return check.counts[slot] === 0;
      case 'dynamic':
        return evaluateCql(check.constraint.ast, this.#slots[slot]!.subject);
    }
  }

  /** The first stage that rejects the slot, 0 when it fits. */
  #stageOf(plan: Plan, i: number): number {
    const d = plan.req.demand;
    if (this.#eligible[i] === 0) return STAGE_AGENT;
    if (this.#cpu[i]! < d.cpu) return STAGE_CPU;
    if (this.#memory[i]! < d.memory) return STAGE_MEMORY;
    for (const col of plan.ports) if (col[i] !== 0) return STAGE_PORTS;
    if (d.gpus > 0 && this.#gpus[i]! < d.gpus) return STAGE_GPU;
    if (plan.requires !== undefined && plan.requires[i] === 0) return STAGE_ATTRIBUTES;
    for (let c = 0; c < plan.checks.length; c++) if (!this.#satisfies(plan.checks[c]!, i)) return STAGE_CONSTRAINT + c;
    return 0;
  }

  /** The filter behind a stage, which says why in words (the reference pipeline's, so the wording is one). */
  #filter(plan: Plan, stage: number): Filter {
    if (stage < STAGE_CONSTRAINT) return BUILTIN_FILTERS[stage - 1]!;
    return constraintFilter(plan.req.constraints[stage - STAGE_CONSTRAINT]!, plan.req.group);
  }

  #rejection(plan: Plan, e: InstanceEntry, stage: number): { reason: string; detail: string; shortfall: number; filter: string } {
    const f = this.#filter(plan, stage);
    const r = f.check(e.candidate(), plan.req.demand);
    if (!r) throw new Error(`placement engine: stage ${f.name} rejected ${e.arn} but its filter accepts it`);
    return { reason: r.reason, detail: r.detail, shortfall: r.shortfall ?? 0, filter: f.name };
  }

  /** How far a rejected slot is from passing its stage, from the columns where that is cheap (the filters agree). */
  #shortfall(plan: Plan, i: number, stage: number): number {
    const d = plan.req.demand;
    switch (stage) {
      case STAGE_CPU:
        return d.cpu - this.#cpu[i]!;
      case STAGE_MEMORY:
        return d.memory - this.#memory[i]!;
      case STAGE_GPU:
        return d.gpus - this.#gpus[i]!;
      case STAGE_PORTS:
        return portsFilter.check(this.#slots[i]!.candidate(), d)?.shortfall ?? 0;
      case STAGE_ATTRIBUTES:
        return attributesFilter.check(this.#slots[i]!.candidate(), d)?.shortfall ?? 0;
      default:
        return 0;
    }
  }

  /** Nothing fits: the instance that got furthest, then the smallest shortfall, then the first by ARN. */
  #closest(plan: Plan): PlacementFailure {
    const n = this.#slots.length;
    let bestStage = 0;
    let bestShortfall = Infinity;
    let best = 0;
    for (let i = 0; i < n; i++) {
      const stage = this.#stageOf(plan, i);
      if (stage < bestStage) continue;
      const shortfall = stage === bestStage || stage <= STAGE_ATTRIBUTES ? this.#shortfall(plan, i, stage) : 0;
      if (stage > bestStage || shortfall < bestShortfall) {
        bestStage = stage;
        bestShortfall = shortfall;
        best = i;
      }
    }
    const e = this.#slots[best]!;
    const r = this.#rejection(plan, e, bestStage);
    return { arn: e.arn, reason: r.reason, detail: r.detail };
  }

  /** The strategy rules in order over the scratch list (`k` > 0 fitting slots), then the pick; returns the slot. */
  #choose(plan: Plan, k: number, rng: Rng): number {
    const set = this.#scratch;
    const rules = plan.req.strategy;
    for (let r = plan.fused === undefined ? 0 : 1; r < rules.length && k > 1; r++) {
      const rule = rules[r]!;
      if (rule.type === 'random') {
        set[0] = this.#probeAmong(set, k, rng);
        k = 1;
      } else if (rule.type === 'binpack') {
        k = narrowToLeast(set, k, rule.field === 'cpu' ? this.#cpu : this.#memory);
      } else if (rule.type === 'spread') {
        const attribute = plan.attributeIds.get(r);
        if (attribute === undefined) k = narrowToLeast(set, k, plan.groupCounts!);
        else k = narrowToLeast(set, k, this.#bucketTotals(plan.groupCounts!, attribute), attribute.ids);
      }
    }
    return k === 1 ? set[0]! : set[Math.min(Math.floor(rng.float() * k), k - 1)]!;
  }

  /** strategies/random.ts over the narrowed set `set[0..k)` (ascending slots): probe the cluster, then draw from the set. */
  #probeAmong(set: Int32Array, k: number, rng: Rng): number {
    const n = this.#slots.length;
    for (let p = 0; p < RANDOM_PROBES; p++) {
      const i = Math.min(Math.floor(rng.float() * n), n - 1);
      let lo = 0;
      let hi = k - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const v = set[mid]!;
        if (v === i) return i;
        if (v < i) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    return set[Math.min(Math.floor(rng.float() * k), k - 1)]!;
  }

  /** Tasks of the group per attribute value id, over every instance (spread counts all of the cluster). */
  #bucketTotals(groupCounts: Int32Array, attribute: { ids: Int32Array; size: number }): Float64Array {
    if (this.#bucketCounts.length < attribute.size) this.#bucketCounts = new Float64Array(attribute.size * 2);
    const totals = this.#bucketCounts;
    totals.fill(0, 0, attribute.size);
    const ids = attribute.ids;
    const n = this.#slots.length;
    for (let i = 0; i < n; i++) {
      const c = groupCounts[i]!;
      if (c !== 0) totals[ids[i]!]! += c;
    }
    return totals;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Explaining

  /**
   * Why each instance would or would not take the request's first task — the stage that rejected it, or how each
   * strategy rule ranked it — and where `count` tasks would go. Nothing is changed.
   */
  explain(req: EngineRequest, rng: Rng): PlacementExplanation {
    const plan = this.#plan(req);
    const n = this.#slots.length;
    const rows: InstanceExplanation[] = [];
    const fitting: number[] = [];
    for (let i = 0; i < n; i++) {
      const e = this.#slots[i]!;
      const stage = this.#stageOf(plan, i);
      const row: InstanceExplanation = {
        containerInstanceArn: e.arn,
        ec2InstanceId: e.ec2InstanceId,
        status: e.status,
        agentConnected: e.agentConnected,
        availabilityZone: e.attributes.get('ecs.availability-zone'),
        instanceType: e.attributes.get('ecs.instance-type'),
        remainingCpu: e.freeCpu,
        remainingMemory: e.freeMemory,
        outcome: stage === 0 ? 'ELIGIBLE' : 'REJECTED',
        tasksPlaced: 0,
        ranks: [],
      };
      if (stage !== 0) {
        const r = this.#rejection(plan, e, stage);
        row.rejectedBy = r.filter === 'memberOf' || r.filter === 'distinctInstance' ? constraintText(req.constraints[stage - STAGE_CONSTRAINT]!) : r.filter;
        row.reason = r.reason;
        row.detail = r.detail;
      } else fitting.push(i);
      rows.push(row);
    }
    // How each rule ranks the instances still in the running, as the first task's decision narrows them.
    let alive = fitting;
    req.strategy.forEach((rule, r) => {
      if (alive.length === 0) return;
      const value = this.#rankOf(plan, rule, r);
      let best = Infinity;
      if (rule.type !== 'random') for (const i of alive) best = Math.min(best, value(i));
      const kept: number[] = [];
      for (const i of alive) {
        const v = rule.type === 'random' ? undefined : value(i);
        const keeps = rule.type === 'random' || v === best;
        rows[i]!.ranks.push({ rule: strategyText(rule), ...(v === undefined ? {} : { value: v }), best: keeps });
        if (keeps) kept.push(i);
      }
      alive = kept;
    });
    const attempts = this.place(req, rng);
    const index = new Map(this.#slots.map((e, i) => [e.arn, i]));
    for (const a of attempts) {
      if (!a.placement) continue;
      const row = rows[index.get(a.placement.containerInstanceArn)!]!;
      row.tasksPlaced++;
      row.outcome = 'PLACED';
    }
    const rejectedBy: Record<string, number> = {};
    for (const row of rows) if (row.rejectedBy !== undefined) rejectedBy[row.rejectedBy] = (rejectedBy[row.rejectedBy] ?? 0) + 1;
    return {
      group: req.group,
      strategy: req.strategy.map(strategyText),
      constraints: req.constraints.map(constraintText),
      instances: rows,
      placements: attempts.flatMap((a) => (a.placement ? [a.placement.containerInstanceArn] : [])),
      failures: attempts.flatMap((a) => (a.failure ? [a.failure] : [])),
      summary: { instances: n, eligible: fitting.length, rejectedBy },
    };
  }

  #rankOf(plan: Plan, rule: StrategyRule, r: number): (slot: number) => number {
    if (rule.type === 'binpack') return rule.field === 'cpu' ? (i) => this.#cpu[i]! : (i) => this.#memory[i]!;
    if (rule.type === 'spread') {
      const attribute = plan.attributeIds.get(r);
      if (attribute === undefined) return (i) => plan.groupCounts![i]!;
      const totals = Float64Array.from(this.#bucketTotals(plan.groupCounts!, attribute));
      return (i) => totals[attribute.ids[i]!]!;
    }
    return () => 0;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Scale-in

  /**
   * Which `count` of `tasks` (a service's or group's running tasks) to stop, by the strategy rules in reverse
   * [DG:task-placement-strategies]: binpack stops the task on the instance that would have the most of the
   * resource left, spread stops from the field value (zone, instance) with the most tasks of the group, random
   * at random; rules in order as tie-breakers, then at random. Tasks are chosen one at a time, each choice
   * counted before the next. Tasks on instances the index does not hold are stopped first.
   */
  selectForScaleIn<T extends { readonly containerInstanceArn?: string | undefined }>(
    tasks: readonly T[],
    count: number,
    strategy: readonly StrategyRule[],
    group: string,
    rng: Rng,
  ): T[] {
    this.#fresh();
    const left = [...tasks];
    const chosen: T[] = [];
    const removed = new Map<string, number>(); // instance ARN → tasks of the group already chosen there
    const held = new Map<string, { cpu: number; memory: number }>();
    while (chosen.length < count && left.length > 0) {
      const orphan = left.findIndex((t) => t.containerInstanceArn === undefined || !this.#entries.get(t.containerInstanceArn)?.present);
      if (orphan >= 0) {
        chosen.push(left.splice(orphan, 1)[0]!);
        continue;
      }
      let pool = left.map((_, i) => i);
      const entryOf = (i: number) => this.#entries.get(left[i]!.containerInstanceArn!)!;
      const groupOn = (e: InstanceEntry) => e.inGroup(group) - (removed.get(e.arn) ?? 0);
      for (const rule of strategy) {
        if (pool.length <= 1) break;
        if (rule.type === 'random') {
          pool = [pool[Math.min(Math.floor(rng.float() * pool.length), pool.length - 1)]!];
          continue;
        }
        let key: (i: number) => number;
        if (rule.type === 'binpack') {
          key = (i) => {
            const e = entryOf(i);
            const freed = held.get(e.arn) ?? { cpu: 0, memory: 0 };
            const own = reservationOf(left[i]!);
            return rule.field === 'cpu' ? e.freeCpu + freed.cpu + own.cpu : e.freeMemory + freed.memory + own.memory;
          };
        } else if (rule.field === undefined || rule.field === 'instanceId' || rule.field === 'host') {
          key = (i) => groupOn(entryOf(i));
        } else {
          const name = rule.field.slice('attribute:'.length);
          const totals = new Map<string, number>();
          const bucket = (e: InstanceEntry) => attributeBucket(e.attributes, name);
          for (const e of this.#slots) totals.set(bucket(e), (totals.get(bucket(e)) ?? 0) + groupOn(e));
          key = (i) => totals.get(bucket(entryOf(i))) ?? 0;
        }
        let most = -Infinity;
        for (const i of pool) most = Math.max(most, key(i));
        pool = pool.filter((i) => key(i) === most);
      }
      const pick = pool.length === 1 ? pool[0]! : pool[Math.min(Math.floor(rng.float() * pool.length), pool.length - 1)]!;
      const task = left.splice(pick, 1)[0]!;
      const arn = task.containerInstanceArn!;
      removed.set(arn, (removed.get(arn) ?? 0) + 1);
      const r = reservationOf(task);
      const h = held.get(arn) ?? { cpu: 0, memory: 0 };
      held.set(arn, { cpu: h.cpu + r.cpu, memory: h.memory + r.memory });
      chosen.push(task);
    }
    return chosen;
  }

  /** The zones (ecs.availability-zone) that have an ACTIVE, agent-connected instance; cached until instances change. */
  activeZones(): readonly string[] {
    this.#fresh();
    return this.#cached(this.#zones, 'zones', () => {
      const zones = new Set<string>();
      for (const e of this.#slots) {
        const z = e.attributes.get('ecs.availability-zone');
        if (e.status === 'ACTIVE' && e.agentConnected && z !== undefined) zones.add(z);
      }
      return [...zones].sort();
    });
  }

  /** The instance as the reference pipeline sees it (tests, explanations). */
  candidateOf(arn: string) {
    return this.#entries.get(arn)?.present ? this.#entries.get(arn)!.candidate() : undefined;
  }

  /** Every current instance (not INACTIVE) in ARN order, as the reference pipeline sees them. */
  candidates() {
    this.#fresh();
    return this.#slots.map((e) => e.candidate());
  }
}

function reservationOf(task: object): { cpu: number; memory: number } {
  const r = (task as { reservation?: { cpu?: number; memory?: number } }).reservation;
  return { cpu: r?.cpu ?? 0, memory: r?.memory ?? 0 };
}

/** Narrows `set[0..k)` to the slots with the least key (`keys[slot]`, or `keys[ids[slot]]`), keeping order; returns the new k. */
function narrowToLeast(set: Int32Array, k: number, keys: Float64Array | Int32Array, ids?: Int32Array): number {
  let least = Infinity;
  for (let j = 0; j < k; j++) {
    const s = set[j]!;
    const v = keys[ids === undefined ? s : ids[s]!]!;
    if (v < least) least = v;
  }
  let m = 0;
  for (let j = 0; j < k; j++) {
    const s = set[j]!;
    if (keys[ids === undefined ? s : ids[s]!] === least) set[m++] = s;
  }
  return m;
}

export interface InstanceExplanation {
  readonly containerInstanceArn: string;
  readonly ec2InstanceId: string;
  readonly status: string;
  readonly agentConnected: boolean;
  readonly availabilityZone: string | undefined;
  readonly instanceType: string | undefined;
  readonly remainingCpu: number;
  readonly remainingMemory: number;
  /** PLACED: takes at least one of the tasks; ELIGIBLE: passed every filter and constraint; REJECTED: did not. */
  outcome: 'PLACED' | 'ELIGIBLE' | 'REJECTED';
  /** The stage that rejected it: agent, cpu, memory, ports, gpu, attributes, or the constraint as text. */
  rejectedBy?: string;
  reason?: string;
  detail?: string;
  /** For an eligible instance, each strategy rule it was ranked by (until one ranked it out): its value and whether it was among the best. */
  readonly ranks: { readonly rule: string; readonly value?: number; readonly best: boolean }[];
  tasksPlaced: number;
}

export interface PlacementExplanation {
  readonly group: string;
  readonly strategy: readonly string[];
  readonly constraints: readonly string[];
  readonly instances: readonly InstanceExplanation[];
  /** Where the request's tasks would go, in order. */
  readonly placements: readonly string[];
  readonly failures: readonly PlacementFailure[];
  readonly summary: { readonly instances: number; readonly eligible: number; readonly rejectedBy: Readonly<Record<string, number>> };
}

export type { InstanceRecordView, TaskRecordView };
