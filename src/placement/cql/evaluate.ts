/**
 * AST × subject → boolean. Pure; no clock.
 *
 * Reading of the guide (which is silent on missing values and multi-valued subjects):
 * - Each negative operator is the complement of its positive twin: `!=` ≡ not `==`, `!in` ≡ not `in`,
 *   `!~` ≡ not `=~`, `!exists` ≡ not `exists`.
 * - A subject with no value (an attribute the instance lacks, an unknown/unparseable agentVersion) satisfies no
 *   positive operator — so `attribute:stack == prod`, `> …`, `in […]`, `=~ …`, `exists` are false — and therefore
 *   every negative one: `attribute:stack != prod` is true for an instance without `stack` (as with ECS memberOf,
 *   where `attribute:stack != prod` keeps instances that have no stack attribute).
 * - `task:group` is the set of groups of the tasks on the instance. A positive operator holds when ANY task has a
 *   group that satisfies it (`task:group == database` — some task is in group database); a negative one is its
 *   complement (`task:group != database` — no task is in group database, the anti-affinity reading, same as the
 *   guide's `not(task:group == database)`). An instance with no tasks satisfies no positive operator.
 * - Comparisons: numbers for runningTasksCount, instants (epoch seconds) for registeredAt, semantic versions for
 *   agentVersion, `true`/`false` case-insensitively for agentConnected, exact strings (UTF-16 code-unit order for
 *   `<`/`>`) otherwise. `=~` must match the whole value.
 */
import type { CqlCondition, CqlExpression, CqlSubject, CqlSubjectRef } from './ast.js';
import { compareVersions, compileRegex, parseBoolean, parseCount, parseDate, parseVersion, parseVersionLiteral } from './semantics.js';

type Positive = 'equals' | 'greater_than' | 'greater_than_equal' | 'less_than' | 'less_than_equal' | 'matches' | 'in' | 'exists';

const POSITIVE_OF: Readonly<Record<CqlCondition['operator'], readonly [Positive, boolean]>> = {
  equals: ['equals', false],
  not_equals: ['equals', true],
  greater_than: ['greater_than', false],
  greater_than_equal: ['greater_than_equal', false],
  less_than: ['less_than', false],
  less_than_equal: ['less_than_equal', false],
  matches: ['matches', false],
  not_matches: ['matches', true],
  in: ['in', false],
  not_in: ['in', true],
  exists: ['exists', false],
  not_exists: ['exists', true],
};

const regexCache = new Map<string, RegExp | undefined>();
function regex(text: string): RegExp | undefined {
  if (!regexCache.has(text)) {
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(text, compileRegex(text));
  }
  return regexCache.get(text);
}

/** The values the subject has: none, one, or (task:group) many. */
function valuesOf(ref: CqlSubjectRef, s: CqlSubject): readonly string[] {
  switch (ref.kind) {
    case 'attribute': {
      const v = s.attribute(ref.name);
      return v === undefined ? [] : [v];
    }
    case 'task:group':
      return [...s.taskGroups()];
    case 'agentConnected':
      return [String(s.agentConnected)];
    case 'agentVersion':
      return s.agentVersion === undefined ? [] : [s.agentVersion];
    case 'ec2InstanceId':
      return [s.ec2InstanceId];
    case 'registeredAt':
      return [String(s.registeredAt)];
    case 'runningTasksCount':
      return [String(s.runningTasksCount)];
  }
}

/** Typed three-way comparison of one subject value with a literal; undefined when either side can't be read. */
function compare(ref: CqlSubjectRef, s: CqlSubject, value: string, literal: string): number | undefined {
  switch (ref.kind) {
    case 'runningTasksCount': {
      const n = parseCount(literal);
      return n === undefined ? undefined : s.runningTasksCount - n;
    }
    case 'registeredAt': {
      const d = parseDate(literal);
      return d === undefined ? undefined : s.registeredAt - d;
    }
    case 'agentVersion': {
      const a = parseVersion(value);
      const b = parseVersionLiteral(literal);
      return a === undefined || b === undefined ? undefined : compareVersions(a, b);
    }
    case 'agentConnected': {
      const b = parseBoolean(literal);
      return b === undefined ? undefined : Number(s.agentConnected) - Number(b);
    }
    default:
      return value < literal ? -1 : value > literal ? 1 : 0;
  }
}

function holds(op: Positive, ref: CqlSubjectRef, s: CqlSubject, value: string, literals: readonly string[]): boolean {
  switch (op) {
    case 'exists':
      return true;
    case 'matches':
      return literals.some((l) => regex(l)?.test(value) ?? false);
    case 'in':
      return literals.some((l) => compare(ref, s, value, l) === 0);
    default: {
      const c = compare(ref, s, value, literals[0] ?? '');
      if (c === undefined) return false;
      if (op === 'equals') return c === 0;
      if (op === 'greater_than') return c > 0;
      if (op === 'greater_than_equal') return c >= 0;
      if (op === 'less_than') return c < 0;
      return c <= 0;
    }
  }
}

function condition(e: CqlCondition, s: CqlSubject): boolean {
  const [op, negated] = POSITIVE_OF[e.operator];
  const literals = e.type === 'compare' ? [e.value] : e.type === 'in' ? e.values : [];
  const any = valuesOf(e.subject, s).some((v) => holds(op, e.subject, s, v, literals));
  return negated ? !any : any;
}

export function evaluate(e: CqlExpression, s: CqlSubject): boolean {
  switch (e.type) {
    case 'or':
      return e.operands.some((o) => evaluate(o, s));
    case 'and':
      return e.operands.every((o) => evaluate(o, s));
    case 'not':
      return !evaluate(e.operand, s);
    default:
      return condition(e, s);
  }
}
