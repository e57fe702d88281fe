/**
 * Cluster query language (ECS-SEMANTICS.md §2.6): `memberOf` placement constraints and
 * `ListContainerInstances --filter`. Pure: no I/O, no clock.
 */
import type { CqlExpression, CqlSubject } from './ast.js';
import { evaluate } from './evaluate.js';
import { parse } from './parser.js';
import { print } from './printer.js';

export type { CqlCompareOperator, CqlCondition, CqlExpression, CqlField, CqlOperator, CqlSubject, CqlSubjectRef } from './ast.js';

/** Parses a CQL expression; throws InvalidParameterException naming the character offset and what was expected. */
export function parseCql(text: string): CqlExpression {
  return parse(text);
}

/** Canonical text; `parseCql(printCql(e))` deep-equals `e`. */
export function printCql(expr: CqlExpression): string {
  return print(expr);
}

export function evaluateCql(expr: CqlExpression, subject: CqlSubject): boolean {
  return evaluate(expr, subject);
}
