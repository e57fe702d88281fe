/**
 * AST of the ECS cluster query language (ECS-SEMANTICS.md §2.6, [DG:cluster-query-language]).
 *
 * `and` / `or` are n-ary (≥ 2 operands): a chain `a and b and c` written at one level becomes one node, while a
 * parenthesised group stays a node of its own, so `parseCql(printCql(e))` reproduces `e` exactly. Parentheses that
 * are not needed for grouping leave no trace in the AST. Literals keep their text as written (minus quotes); typed
 * interpretation (numbers, dates, versions, regular expressions) is validated by the parser and applied by the
 * evaluator.
 */

/** Subjects other than `attribute:NAME`, spelled as in the language. */
export type CqlField = 'agentConnected' | 'agentVersion' | 'ec2InstanceId' | 'registeredAt' | 'runningTasksCount' | 'task:group';

export type CqlSubjectRef = { readonly kind: 'attribute'; readonly name: string } | { readonly kind: CqlField };

/** Operators taking one literal (canonical word forms of `== != > >= < <= =~ !~`). */
export type CqlCompareOperator =
  | 'equals'
  | 'not_equals'
  | 'greater_than'
  | 'greater_than_equal'
  | 'less_than'
  | 'less_than_equal'
  | 'matches'
  | 'not_matches';

export type CqlOperator = CqlCompareOperator | 'in' | 'not_in' | 'exists' | 'not_exists';

export type CqlCondition =
  | { readonly type: 'compare'; readonly subject: CqlSubjectRef; readonly operator: CqlCompareOperator; readonly value: string }
  | { readonly type: 'in'; readonly subject: CqlSubjectRef; readonly operator: 'in' | 'not_in'; readonly values: readonly string[] }
  | { readonly type: 'exists'; readonly subject: CqlSubjectRef; readonly operator: 'exists' | 'not_exists' };

export type CqlExpression =
  | { readonly type: 'or'; readonly operands: readonly CqlExpression[] }
  | { readonly type: 'and'; readonly operands: readonly CqlExpression[] }
  | { readonly type: 'not'; readonly operand: CqlExpression }
  | CqlCondition;

/** What `evaluateCql` asks of a container instance. */
export interface CqlSubject {
  /** `attribute:NAME` — undefined when the instance has no such attribute; '' for a value-less attribute. */
  attribute(name: string): string | undefined;
  readonly agentConnected: boolean;
  /** Compared as a semantic version (numeric dot-separated segments). */
  readonly agentVersion: string | undefined;
  readonly ec2InstanceId: string;
  /** Epoch seconds. */
  readonly registeredAt: number;
  readonly runningTasksCount: number;
  /** `task:group` — groups of the tasks on the instance. */
  taskGroups(): ReadonlySet<string>;
}
