/**
 * Placement options as the ECS API gives them (PlacementStrategy[], PlacementConstraint[]) checked once at the
 * edge and compiled for the engine: strategy fields normalised, memberOf expressions parsed (a syntax error is
 * an InvalidParameterException naming the offset), ECS's limits applied [BC RunTaskRequest]:
 *  - at most 5 strategy rules;
 *  - at most 10 constraints per task, the task definition's and the request's together;
 *  - an expression of at most 2000 characters, required for memberOf and refused for distinctInstance.
 * Used by RunTask, services and ExplainPlacement alike, so every caller refuses the same things.
 */
import type { PlacementConstraint, PlacementStrategy, TaskDefinitionPlacementConstraint } from '@aws-sdk/client-ecs';
import { Ecs } from '../domain/errors.js';
import { parseCql } from './cql/index.js';
import type { CqlExpression } from './cql/index.js';
import type { StrategyRule } from './types.js';

export const MAX_STRATEGY_RULES = 5;
export const MAX_CONSTRAINTS = 10;
export const MAX_EXPRESSION = 2000;

/** A compiled placement constraint. `dynamic` memberOf expressions read the instance's tasks and cannot be cached. */
export type Constraint =
  | { readonly type: 'memberOf'; readonly expression: string; readonly ast: CqlExpression; readonly dynamic: boolean }
  | { readonly type: 'distinctInstance' };

/** RunTask's default: "distribute tasks randomly across your cluster" [DG:scheduling_tasks]. */
export const RUN_TASK_DEFAULT_STRATEGY: readonly StrategyRule[] = [{ type: 'random' }];

/**
 * Services' default on EC2: spread over availability zones, then over instances (the scheduler "gives priority to
 * instances that have the fewest number of running tasks for this service in their respective Availability Zone"
 * and then "favors container instances with the fewest number of running tasks for this service" [DG:ecs_services]).
 */
export const SERVICE_DEFAULT_STRATEGY: readonly StrategyRule[] = [
  { type: 'spread', field: 'attribute:ecs.availability-zone' },
  { type: 'spread', field: 'instanceId' },
];

/** Strategy rules after ECS's checks, with fields in canonical form (`host` → `instanceId`, binpack fields lower case). */
export function parseStrategy(input: readonly PlacementStrategy[] | undefined, defaults: readonly StrategyRule[]): readonly StrategyRule[] {
  if (input === undefined || input.length === 0) return defaults;
  if (input.length > MAX_STRATEGY_RULES) {
    throw Ecs.invalidParameter(`A task can have at most ${MAX_STRATEGY_RULES} placement strategy rules; got ${input.length}.`);
  }
  return input.map((s, i) => strategyRule(s, i));
}

function strategyRule(s: PlacementStrategy, i: number): StrategyRule {
  const where = `placementStrategy[${i}]`;
  const field = s.field;
  switch (s.type) {
    case 'random':
      return { type: 'random' };
    case 'binpack': {
      const f = field?.toLowerCase();
      if (f !== 'cpu' && f !== 'memory') {
        throw Ecs.invalidParameter(`${where}: binpack needs field 'cpu' or 'memory'${field === undefined ? '' : `, not '${field}'`}.`);
      }
      return { type: 'binpack', field: f };
    }
    case 'spread': {
      if (field === undefined || field.trim() === '') {
        throw Ecs.invalidParameter(`${where}: spread needs a field: instanceId, host, or attribute:<name> (e.g. attribute:ecs.availability-zone).`);
      }
      if (field === 'instanceId' || field === 'host') return { type: 'spread', field: 'instanceId' };
      if (field.startsWith('attribute:') && field.length > 'attribute:'.length) return { type: 'spread', field };
      throw Ecs.invalidParameter(`${where}: spread field '${field}' is not valid; use instanceId, host, or attribute:<name> (e.g. attribute:ecs.availability-zone).`);
    }
    default:
      throw Ecs.invalidParameter(`${where}: type must be one of random, spread, binpack${s.type === undefined ? '' : `; got '${s.type}'`}.`);
  }
}

/** The request's constraints, checked and compiled (at most 10 on their own; combineConstraints adds the definition's). */
export function parseConstraints(request: readonly PlacementConstraint[] | undefined): readonly Constraint[] {
  if ((request?.length ?? 0) > MAX_CONSTRAINTS) {
    throw Ecs.invalidParameter(`A task can have at most ${MAX_CONSTRAINTS} placement constraints; got ${request!.length}.`);
  }
  return (request ?? []).map((c, i): Constraint => {
    const where = `placementConstraints[${i}]`;
    if (c.type === 'distinctInstance') {
      if (c.expression !== undefined && c.expression !== '') {
        throw Ecs.invalidParameter(`${where}: you can't specify an expression if the constraint type is distinctInstance.`);
      }
      return { type: 'distinctInstance' };
    }
    if (c.type === 'memberOf') return memberOf(c.expression, where);
    throw Ecs.invalidParameter(`${where}: type must be distinctInstance or memberOf${c.type === undefined ? '' : `; got '${c.type}'`}.`);
  });
}

/**
 * The constraints a task is placed under, in the order they are checked: the task definition's memberOf (checked
 * at registration) first, then the request's memberOf, then distinctInstance — memberOf decides which instances
 * are candidates at all, distinctInstance which of those the group already uses, so a task that cannot be placed
 * is reported against the constraint that really stopped it. At most 10 together [BC RunTaskRequest.placementConstraints].
 */
export function combineConstraints(fromDefinition: readonly TaskDefinitionPlacementConstraint[] | undefined, request: readonly Constraint[]): readonly Constraint[] {
  const own = fromDefinition ?? [];
  const total = own.length + request.length;
  if (total > MAX_CONSTRAINTS) {
    throw Ecs.invalidParameter(
      `A task can have at most ${MAX_CONSTRAINTS} placement constraints, the task definition's and the request's together; got ${total} (${own.length} from the task definition).`,
    );
  }
  return [
    ...own.map((c, i) => memberOf(c.expression, `the task definition's placementConstraints[${i}]`)),
    ...request.filter((c) => c.type === 'memberOf'),
    ...request.filter((c) => c.type === 'distinctInstance'),
  ];
}

/** One memberOf expression, parsed. A syntax error keeps the parser's offset and expectation, prefixed with where it was. */
export function memberOf(expression: string | undefined, where: string): Constraint {
  if (expression === undefined || expression.trim() === '') throw Ecs.invalidParameter(`${where}: a memberOf constraint requires an expression.`);
  if (expression.length > MAX_EXPRESSION) {
    throw Ecs.invalidParameter(`${where}: the expression can have at most ${MAX_EXPRESSION} characters; got ${expression.length}.`);
  }
  let ast: CqlExpression;
  try {
    ast = parseCql(expression);
  } catch (e) {
    throw Ecs.invalidParameter(`${where}: ${(e as Error).message}`);
  }
  return { type: 'memberOf', expression, ast, dynamic: readsTasks(ast) };
}

/** Whether an expression reads the instance's tasks (task:group, runningTasksCount): its answer changes with every placement. */
function readsTasks(e: CqlExpression): boolean {
  switch (e.type) {
    case 'or':
    case 'and':
      return e.operands.some(readsTasks);
    case 'not':
      return readsTasks(e.operand);
    default:
      return e.subject.kind === 'task:group' || e.subject.kind === 'runningTasksCount';
  }
}

/** The ECS failure reason for a constraint, as RunTask's failures[] and service events carry it. */
export function constraintReason(c: Constraint): string {
  return c.type === 'memberOf' ? 'MemberOf placement constraint unsatisfied.' : 'DistinctInstance placement constraint unsatisfied.';
}

/** How a constraint reads back to a person: `memberOf(attribute:ecs.instance-type =~ t3.*)`, `distinctInstance`. */
export function constraintText(c: Constraint): string {
  return c.type === 'memberOf' ? `memberOf(${c.expression})` : 'distinctInstance';
}

/** How a strategy rule reads back: `binpack(memory)`, `spread(attribute:ecs.availability-zone)`, `random`. */
export function strategyText(r: StrategyRule): string {
  return r.field === undefined ? r.type : `${r.type}(${r.field})`;
}
