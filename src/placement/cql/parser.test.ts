import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../domain/errors.js';
import type { CqlExpression } from './ast.js';
import { parseCql } from './index.js';

const cmp = (name: string, operator: string, value: string) => ({ type: 'compare', subject: { kind: 'attribute', name }, operator, value });
const A = cmp('a', 'equals', '1');
const B = cmp('b', 'equals', '2');
const C = cmp('c', 'equals', '3');

function rejects(text: string, offset: number, what: RegExp): void {
  assert.throws(
    () => parseCql(text),
    (e: unknown) => {
      assert.ok(e instanceof ApiError, String(e));
      assert.equal(e.code, 'InvalidParameterException');
      assert.match(e.message, new RegExp(`at offset ${offset}:`), e.message);
      assert.match(e.message, what);
      return true;
    },
    text,
  );
}

describe('cql parser', () => {
  it('parses the guide examples', () => {
    assert.deepEqual(parseCql('attribute:ecs.instance-type == t2.small'), cmp('ecs.instance-type', 'equals', 't2.small'));
    assert.deepEqual(parseCql('attribute:ecs.availability-zone in [us-east-1a, us-east-1b]'), {
      type: 'in', subject: { kind: 'attribute', name: 'ecs.availability-zone' }, operator: 'in', values: ['us-east-1a', 'us-east-1b'],
    });
    assert.deepEqual(parseCql('attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d'), {
      type: 'and', operands: [cmp('ecs.instance-type', 'matches', 'g2.*'), cmp('ecs.availability-zone', 'not_equals', 'us-east-1d')],
    });
    assert.deepEqual(parseCql('task:group == service:production'), { type: 'compare', subject: { kind: 'task:group' }, operator: 'equals', value: 'service:production' });
    assert.deepEqual(parseCql('not(task:group == database)'), {
      type: 'not', operand: { type: 'compare', subject: { kind: 'task:group' }, operator: 'equals', value: 'database' },
    });
    assert.deepEqual(parseCql('runningTasksCount == 1'), { type: 'compare', subject: { kind: 'runningTasksCount' }, operator: 'equals', value: '1' });
    assert.deepEqual(parseCql('agentVersion < 1.14.5'), { type: 'compare', subject: { kind: 'agentVersion' }, operator: 'less_than', value: '1.14.5' });
    assert.deepEqual(parseCql('registeredAt < 2018-02-13'), { type: 'compare', subject: { kind: 'registeredAt' }, operator: 'less_than', value: '2018-02-13' });
    assert.deepEqual(parseCql("ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']"), {
      type: 'in', subject: { kind: 'ec2InstanceId' }, operator: 'in', values: ['i-abcd1234', 'i-wxyx7890'],
    });
    assert.deepEqual(parseCql('attribute:stack != prod'), cmp('stack', 'not_equals', 'prod'));
    assert.deepEqual(parseCql('attribute:ecs.os-family == WINDOWS_SERVER_2022_FULL'), cmp('ecs.os-family', 'equals', 'WINDOWS_SERVER_2022_FULL'));
    assert.deepEqual(parseCql('attribute:ecs.instance-type =~ g2.*'), cmp('ecs.instance-type', 'matches', 'g2.*'));
    for (const d of ['2018-06-18T22:28:28+00:00', '2018-06-18T22:28:28Z', '2018-06-18T22:28:28', '2018-06-18']) {
      assert.equal((parseCql(`registeredAt >= ${d}`) as { value: string }).value, d);
    }
  });

  it('accepts every operator in symbol and word form', () => {
    const pairs: [string, string, string][] = [
      ['==', 'equals', 'equals'], ['!=', 'not_equals', 'not_equals'], ['>', 'greater_than', 'greater_than'],
      ['>=', 'greater_than_equal', 'greater_than_equal'], ['<', 'less_than', 'less_than'], ['<=', 'less_than_equal', 'less_than_equal'],
      ['=~', 'matches', 'matches'], ['!~', 'not_matches', 'not_matches'],
    ];
    for (const [sym, word, op] of pairs) {
      assert.deepEqual(parseCql(`attribute:a ${sym} x`), cmp('a', op, 'x'), sym);
      assert.deepEqual(parseCql(`attribute:a ${word} x`), cmp('a', op, 'x'), word);
      assert.deepEqual(parseCql(`attribute:a ${word.toUpperCase()} x`), cmp('a', op, 'x'), word);
    }
    const exists = (operator: string) => ({ type: 'exists', subject: { kind: 'attribute', name: 'a' }, operator });
    assert.deepEqual(parseCql('attribute:a exists'), exists('exists'));
    assert.deepEqual(parseCql('attribute:a !exists'), exists('not_exists'));
    assert.deepEqual(parseCql('attribute:a not_exists'), exists('not_exists'));
    const inn = (operator: string, values: string[]) => ({ type: 'in', subject: { kind: 'attribute', name: 'a' }, operator, values });
    assert.deepEqual(parseCql('attribute:a in [x]'), inn('in', ['x']));
    assert.deepEqual(parseCql('attribute:a !in [x,y]'), inn('not_in', ['x', 'y']));
    assert.deepEqual(parseCql('attribute:a not_in ["x" , \'y\']'), inn('not_in', ['x', 'y']));
    assert.deepEqual(parseCql('attribute:a in x'), inn('in', ['x']), 'a single literal is a one-element list');
  });

  it('gives not > and > or, left to right, and flattens same-level chains', () => {
    const p = (s: string) => parseCql(s.replace(/A/g, 'attribute:a == 1').replace(/B/g, 'attribute:b == 2').replace(/C/g, 'attribute:c == 3'));
    assert.deepEqual(p('A or B and C'), { type: 'or', operands: [A, { type: 'and', operands: [B, C] }] });
    assert.deepEqual(p('A and B or C'), { type: 'or', operands: [{ type: 'and', operands: [A, B] }, C] });
    assert.deepEqual(p('not A and B'), { type: 'and', operands: [{ type: 'not', operand: A }, B] });
    assert.deepEqual(p('! A || B && C'), { type: 'or', operands: [{ type: 'not', operand: A }, { type: 'and', operands: [B, C] }] });
    assert.deepEqual(p('A and B and C'), { type: 'and', operands: [A, B, C] });
    assert.deepEqual(p('A OR B Or C'), { type: 'or', operands: [A, B, C] });
    assert.deepEqual(p('(A or B) and C'), { type: 'and', operands: [{ type: 'or', operands: [A, B] }, C] });
    assert.deepEqual(p('not (A or B)'), { type: 'not', operand: { type: 'or', operands: [A, B] } });
    assert.deepEqual(p('not not A'), { type: 'not', operand: { type: 'not', operand: A } });
    assert.deepEqual(p('A and (B and C)'), { type: 'and', operands: [A, { type: 'and', operands: [B, C] }] });
    assert.deepEqual(p('((A))'), A as CqlExpression);
  });

  it('reports syntax errors with the offset and what was expected', () => {
    rejects('', 0, /expected an expression/);
    rejects('   ', 3, /expected an expression/);
    rejects('foo == bar', 0, /expected a subject .*attribute:NAME/);
    rejects('attribute: == x', 10, /expected an attribute name/);
    rejects('attribute:a', 11, /expected an operator .*found end of expression/);
    rejects('attribute:a is x', 12, /expected an operator.*found 'is'/);
    rejects('attribute:a ==', 14, /expected a literal value/);
    rejects('attribute:a == x y', 17, /expected 'and', 'or' or end of expression, found 'y'/);
    rejects('(attribute:a == x', 17, /expected '\)', 'and' or 'or'/);
    rejects('attribute:a == x)', 16, /expected 'and', 'or' or end/);
    rejects('attribute:a in [x, ]', 19, /expected a literal/);
    rejects('attribute:a in [x y]', 18, /expected ',' or '\]'/);
    rejects('attribute:a exists x', 19, /expected 'and', 'or'/);
    rejects('attribute:a == x and', 20, /expected a subject/);
    rejects("attribute:a == 'x", 15, /unterminated/);
  });

  it('validates operators per subject and typed literals', () => {
    rejects('runningTasksCount =~ 1', 18, /operator =~ is not valid for runningTasksCount/);
    rejects('agentConnected > true', 15, /not valid for agentConnected/);
    rejects('ec2InstanceId exists', 14, /not valid for ec2InstanceId/);
    rejects('registeredAt in [2018-01-01]', 13, /not valid for registeredAt/);
    rejects('runningTasksCount == many', 21, /expected an integer/);
    rejects('agentVersion < 1.x', 15, /expected a version/);
    rejects('registeredAt < 2018-02-30', 15, /expected a date/);
    rejects('registeredAt < 18/06/2018', 15, /expected a date/);
    rejects('agentConnected == yes', 18, /expected true or false/);
    rejects("attribute:a =~ '('", 15, /expected a valid regular expression/);
  });
});
