/**
 * AST → canonical text: one space around binary operators, lowercase `and` / `or` / `not`, symbol operators
 * (`==`, `!=`, `>`, `>=`, `<`, `<=`, `=~`, `!~`) and word operators `in`, `not_in`, `exists`, `not_exists`; lists as
 * `[a, b]`; parentheses only where the AST nests a same- or lower-precedence connective; literals bare when they lex
 * back as one word, otherwise single-quoted (double-quoted if they contain `'` but no `"`; quotes doubled inside).
 * Guarantee: parseCql(printCql(e)) deep-equals e for every e the parser can produce.
 */
import type { CqlCompareOperator, CqlExpression } from './ast.js';
import { lex } from './lexer.js';
import { subjectText } from './semantics.js';

const SYMBOL: Readonly<Record<CqlCompareOperator, string>> = {
  equals: '==',
  not_equals: '!=',
  greater_than: '>',
  greater_than_equal: '>=',
  less_than: '<',
  less_than_equal: '<=',
  matches: '=~',
  not_matches: '!~',
};

export function printLiteral(value: string): string {
  if (isBare(value)) return value;
  const q = value.includes("'") && !value.includes('"') ? '"' : "'";
  return q + value.split(q).join(q + q) + q;
}

function isBare(value: string): boolean {
  if (value === '') return false;
  try {
    const t = lex(value);
    return t.length === 2 && t[0]?.kind === 'word' && t[0].text === value;
  } catch {
    return false;
  }
}

export function print(e: CqlExpression): string {
  switch (e.type) {
    case 'or':
      return e.operands.map((o) => (o.type === 'or' ? `(${print(o)})` : print(o))).join(' or ');
    case 'and':
      return e.operands.map((o) => (o.type === 'or' || o.type === 'and' ? `(${print(o)})` : print(o))).join(' and ');
    case 'not':
      return e.operand.type === 'or' || e.operand.type === 'and' ? `not (${print(e.operand)})` : `not ${print(e.operand)}`;
    case 'exists':
      return `${subjectText(e.subject)} ${e.operator}`;
    case 'in':
      return `${subjectText(e.subject)} ${e.operator} [${e.values.map(printLiteral).join(', ')}]`;
    case 'compare':
      return `${subjectText(e.subject)} ${SYMBOL[e.operator]} ${printLiteral(e.value)}`;
  }
}
