/**
 * Recursive-descent parser: text → CqlExpression.
 *
 *   expr       := or
 *   or         := and { ("or" | "||") and }
 *   and        := unary { ("and" | "&&") unary }
 *   unary      := ("not" | "!") unary | "(" expr ")" | condition
 *   condition  := subject operator [argument]
 *   subject    := "agentConnected" | "agentVersion" | "ec2InstanceId" | "registeredAt" | "runningTasksCount"
 *               | "task:group" | "attribute:" NAME
 *   argument   := literal                         (the comparison and regex operators)
 *               | "[" literal { "," literal } "]" (in / not_in; a single bare literal is accepted as a 1-element list)
 *               | nothing                         (exists / not_exists)
 *   literal    := word | quoted string
 *
 * Precedence not > and > or (the guide does not state it; this is the usual reading and what its examples need).
 * Keywords and operator words (`and`, `or`, `not`, `equals`, `not_in`, …) are case-insensitive; subjects are not.
 * Validation at parse time (each an InvalidParameterException naming the offset): operator allowed for the subject,
 * runningTasksCount literal an integer, agentVersion a dotted version, registeredAt one of the guide's date forms,
 * agentConnected `true`/`false` (except under the regex operators), regular expressions compile.
 */
import type { CqlCompareOperator, CqlExpression, CqlOperator, CqlSubjectRef } from './ast.js';
import { describeToken, lex, syntaxError, type Token } from './lexer.js';
import {
  compileRegex,
  FIELDS,
  operatorsFor,
  parseBoolean,
  parseCount,
  parseDate,
  parseVersionLiteral,
  subjectText,
} from './semantics.js';

const OPERATOR_SPELLINGS: Readonly<Record<string, CqlOperator>> = {
  '==': 'equals',
  equals: 'equals',
  '!=': 'not_equals',
  not_equals: 'not_equals',
  '>': 'greater_than',
  greater_than: 'greater_than',
  '>=': 'greater_than_equal',
  greater_than_equal: 'greater_than_equal',
  '<': 'less_than',
  less_than: 'less_than',
  '<=': 'less_than_equal',
  less_than_equal: 'less_than_equal',
  exists: 'exists',
  '!exists': 'not_exists',
  not_exists: 'not_exists',
  in: 'in',
  '!in': 'not_in',
  not_in: 'not_in',
  '=~': 'matches',
  matches: 'matches',
  '!~': 'not_matches',
  not_matches: 'not_matches',
};

const SUBJECT_LIST = `${FIELDS.join(', ')} or attribute:NAME`;

class Parser {
  private pos = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos] ?? (this.tokens[this.tokens.length - 1] as Token);
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  private isKeyword(t: Token, word: string, symbol: string): boolean {
    return (t.kind === 'word' && t.text.toLowerCase() === word) || (t.kind === 'symbol' && t.text === symbol);
  }
  private fail(t: Token, expected: string): never {
    throw syntaxError(t.offset, `expected ${expected}, found ${describeToken(t)}`);
  }

  parseTop(): CqlExpression {
    if (this.peek().kind === 'eof') this.fail(this.peek(), 'an expression');
    const e = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'eof') this.fail(t, "'and', 'or' or end of expression");
    return e;
  }

  private parseOr(): CqlExpression {
    const operands = [this.parseAnd()];
    while (this.isKeyword(this.peek(), 'or', '||')) {
      this.next();
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? (operands[0] as CqlExpression) : { type: 'or', operands };
  }

  private parseAnd(): CqlExpression {
    const operands = [this.parseUnary()];
    while (this.isKeyword(this.peek(), 'and', '&&')) {
      this.next();
      operands.push(this.parseUnary());
    }
    return operands.length === 1 ? (operands[0] as CqlExpression) : { type: 'and', operands };
  }

  private parseUnary(): CqlExpression {
    const t = this.peek();
    if (this.isKeyword(t, 'not', '!')) {
      this.next();
      return { type: 'not', operand: this.parseUnary() };
    }
    if (t.kind === '(') {
      this.next();
      const inner = this.parseOr();
      const close = this.peek();
      if (close.kind !== ')') this.fail(close, "')', 'and' or 'or'");
      this.next();
      return inner;
    }
    return this.parseCondition();
  }

  private parseSubject(): CqlSubjectRef {
    const t = this.next();
    if (t.kind === 'word') {
      if (t.text.startsWith('attribute:')) {
        const name = t.text.slice('attribute:'.length);
        if (name === '') throw syntaxError(t.offset + t.text.length, 'expected an attribute name after attribute:');
        return { kind: 'attribute', name };
      }
      const field = FIELDS.find((f) => f === t.text);
      if (field !== undefined) return { kind: field };
    }
    return this.fail(t, `a subject (${SUBJECT_LIST}) or '(' or 'not'`);
  }

  private parseLiteral(): { text: string; offset: number } {
    const t = this.next();
    if (t.kind === 'word' || t.kind === 'string') return { text: t.text, offset: t.offset };
    return this.fail(t, 'a literal value (a word or a quoted string)');
  }

  private parseList(): { text: string; offset: number }[] {
    if (this.peek().kind !== '[') return [this.parseLiteral()];
    this.next();
    const items = [this.parseLiteral()];
    for (;;) {
      const t = this.next();
      if (t.kind === ']') return items;
      if (t.kind !== ',') this.fail(t, "',' or ']'");
      items.push(this.parseLiteral());
    }
  }

  private parseCondition(): CqlExpression {
    const subject = this.parseSubject();
    const opToken = this.next();
    const spelled = opToken.kind === 'word' ? opToken.text.toLowerCase() : opToken.kind === 'symbol' ? opToken.text : '';
    const operator = OPERATOR_SPELLINGS[spelled];
    if (operator === undefined) return this.fail(opToken, 'an operator (==, !=, >, >=, <, <=, exists, !exists, in, !in, =~, !~ or a word form)');
    if (!operatorsFor(subject).includes(operator)) {
      throw syntaxError(
        opToken.offset,
        `operator ${spelled} is not valid for ${subjectText(subject)} (expected one of ${operatorsFor(subject).join(', ')})`,
      );
    }
    if (operator === 'exists' || operator === 'not_exists') return { type: 'exists', subject, operator };
    if (operator === 'in' || operator === 'not_in') {
      const items = this.parseList();
      for (const it of items) checkLiteral(subject, operator, it.text, it.offset);
      return { type: 'in', subject, operator, values: items.map((x) => x.text) };
    }
    const lit = this.parseLiteral();
    checkLiteral(subject, operator, lit.text, lit.offset);
    return { type: 'compare', subject, operator: operator as CqlCompareOperator, value: lit.text };
  }
}

function checkLiteral(subject: CqlSubjectRef, operator: CqlOperator, text: string, offset: number): void {
  if (operator === 'matches' || operator === 'not_matches') {
    if (compileRegex(text) === undefined) throw syntaxError(offset, `expected a valid regular expression, found ${JSON.stringify(text)}`);
    return;
  }
  switch (subject.kind) {
    case 'runningTasksCount':
      if (parseCount(text) === undefined) throw syntaxError(offset, `expected an integer for runningTasksCount, found ${JSON.stringify(text)}`);
      return;
    case 'agentVersion':
      if (parseVersionLiteral(text) === undefined) throw syntaxError(offset, `expected a version such as 1.14.5 for agentVersion, found ${JSON.stringify(text)}`);
      return;
    case 'registeredAt':
      if (parseDate(text) === undefined)
        throw syntaxError(offset, `expected a date (2018-06-18, 2018-06-18T22:28:28, …Z or …+00:00) for registeredAt, found ${JSON.stringify(text)}`);
      return;
    case 'agentConnected':
      if (parseBoolean(text) === undefined) throw syntaxError(offset, `expected true or false for agentConnected, found ${JSON.stringify(text)}`);
      return;
    default:
      return;
  }
}

export function parse(text: string): CqlExpression {
  return new Parser(lex(text)).parseTop();
}
