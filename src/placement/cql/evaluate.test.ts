import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { CqlExpression } from './ast.js';
import { evaluateCql, parseCql, printCql } from './index.js';
import { expressionArb, plainSubjectArb, subjectOf, type PlainSubject } from './testing.js';

const base: PlainSubject = {
  attributes: { 'ecs.instance-type': 't2.small', 'ecs.availability-zone': 'us-east-1a', 'ecs.os-family': 'WINDOWS_SERVER_2022_FULL', marker: '' },
  agentConnected: true,
  agentVersion: '1.14.4',
  ec2InstanceId: 'i-abcd1234',
  registeredAt: Date.UTC(2018, 1, 12, 23, 59, 59) / 1000,
  runningTasksCount: 1,
  groups: ['service:production', 'family:web'],
};
const ev = (text: string, over: Partial<PlainSubject> = {}) => evaluateCql(parseCql(text), subjectOf({ ...base, ...over }));

describe('cql evaluate', () => {
  it('evaluates the guide examples', () => {
    assert.equal(ev('attribute:ecs.instance-type == t2.small'), true);
    assert.equal(ev('attribute:ecs.instance-type == t2.small', { attributes: { 'ecs.instance-type': 't2.medium' } }), false);
    assert.equal(ev('attribute:ecs.availability-zone in [us-east-1a, us-east-1b]'), true);
    assert.equal(ev('attribute:ecs.availability-zone in [us-east-1a, us-east-1b]', { attributes: { 'ecs.availability-zone': 'us-east-1c' } }), false);
    const g2 = 'attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d';
    assert.equal(ev(g2), false);
    assert.equal(ev(g2, { attributes: { 'ecs.instance-type': 'g2.2xlarge', 'ecs.availability-zone': 'us-east-1a' } }), true);
    assert.equal(ev(g2, { attributes: { 'ecs.instance-type': 'g2.2xlarge', 'ecs.availability-zone': 'us-east-1d' } }), false);
    assert.equal(ev('task:group == service:production'), true);
    assert.equal(ev('not(task:group == database)'), true);
    assert.equal(ev('not(task:group == database)', { groups: ['database'] }), false);
    assert.equal(ev('runningTasksCount == 1'), true);
    assert.equal(ev('runningTasksCount == 1', { runningTasksCount: 10 }), false);
    assert.equal(ev('agentVersion < 1.14.5'), true);
    assert.equal(ev('agentVersion < 1.14.5', { agentVersion: '1.14.10' }), false, 'semantic, not lexical');
    assert.equal(ev('registeredAt < 2018-02-13'), true);
    assert.equal(ev('registeredAt < 2018-02-13', { registeredAt: Date.UTC(2018, 1, 13) / 1000 }), false);
    assert.equal(ev("ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']"), true);
    assert.equal(ev("ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", { ec2InstanceId: 'i-1' }), false);
    assert.equal(ev('attribute:stack != prod'), true, 'missing attribute satisfies !=');
    assert.equal(ev('attribute:stack != prod', { attributes: { stack: 'prod' } }), false);
    assert.equal(ev('attribute:ecs.os-family == WINDOWS_SERVER_2022_FULL'), true);
  });

  it('applies each operator with typed comparisons', () => {
    assert.equal(ev('runningTasksCount > 0'), true);
    assert.equal(ev('runningTasksCount greater_than 1'), false);
    assert.equal(ev('runningTasksCount >= 1'), true);
    assert.equal(ev('runningTasksCount <= 0'), false);
    assert.equal(ev('runningTasksCount less_than 10', { runningTasksCount: 9 }), true, 'numeric, not lexical');
    assert.equal(ev('runningTasksCount != 1'), false);
    assert.equal(ev('agentVersion == 1.14.4.0'), true, 'missing segments are 0');
    assert.equal(ev('agentVersion >= 1.9'), true);
    assert.equal(ev('agentVersion > 1.14.4', { agentVersion: 'v1.14.5-rc1' }), true);
    assert.equal(ev('agentVersion < 9', { agentVersion: undefined }), false);
    assert.equal(ev('agentVersion != 9', { agentVersion: undefined }), true);
    assert.equal(ev('registeredAt == 2018-02-12T23:59:59Z'), true);
    assert.equal(ev('registeredAt == 2018-02-12T23:59:59'), true, 'no zone = UTC');
    assert.equal(ev('registeredAt == 2018-02-13T01:59:59+02:00'), true);
    assert.equal(ev('registeredAt greater_than_equal 2018-02-12'), true);
    assert.equal(ev('agentConnected == true'), true);
    assert.equal(ev('agentConnected == FALSE', { agentConnected: false }), true);
    assert.equal(ev('agentConnected in [false]'), false);
    assert.equal(ev('agentConnected =~ t.*'), true);
    assert.equal(ev('ec2InstanceId =~ i-abcd'), false, 'whole-value match');
    assert.equal(ev('ec2InstanceId =~ i-abcd.*'), true);
    assert.equal(ev('ec2InstanceId !~ i-abcd.*'), false);
    assert.equal(ev('ec2InstanceId not_in [i-1]'), true);
    assert.equal(ev('attribute:ecs.instance-type > t2.a'), true, 'string ordering');
    assert.equal(ev('attribute:ecs.instance-type exists'), true);
    assert.equal(ev('attribute:marker exists'), true, 'value-less attribute exists');
    assert.equal(ev('attribute:marker == ""'), true);
    assert.equal(ev('attribute:nope exists'), false);
    assert.equal(ev('attribute:nope !exists'), true);
    assert.equal(ev('attribute:nope not_exists'), true);
    for (const op of ['==', '>', '>=', '<', '<=', '=~', 'in']) assert.equal(ev(`attribute:nope ${op} x`), false, op);
    for (const op of ['!=', '!~', '!in']) assert.equal(ev(`attribute:nope ${op} x`), true, op);
  });

  it('task:group: positive operators ask whether any task has such a group, negative ones are complements', () => {
    assert.equal(ev('task:group =~ service:.*'), true);
    assert.equal(ev('task:group != service:production'), false, 'one task is in that group');
    assert.equal(ev('task:group != database'), true);
    assert.equal(ev('task:group in [database, family:web]'), true);
    assert.equal(ev('task:group exists'), true);
    assert.equal(ev('task:group exists', { groups: [] }), false);
    assert.equal(ev('task:group == x', { groups: [] }), false);
    assert.equal(ev('task:group != x', { groups: [] }), true);
  });

  it('respects precedence and parentheses', () => {
    const T = 'runningTasksCount == 1';
    const F = 'runningTasksCount == 2';
    assert.equal(ev(`${T} or ${T} and ${F}`), true);
    assert.equal(ev(`(${T} or ${T}) and ${F}`), false);
    assert.equal(ev(`not ${F} and ${T}`), true);
    assert.equal(ev(`not (${F} or ${T})`), false);
    assert.equal(ev(`! ${T} || ${T}`), true);
    assert.equal(ev(`${F} && ${T} || ${T}`), true);
  });

  it('agrees with a literal reference evaluator on random expressions and subjects', () => {
    fc.assert(
      fc.property(expressionArb(false), plainSubjectArb, (e, p) => {
        assert.equal(evaluateCql(e, subjectOf(p)), reference(e, p), printCql(e));
      }),
      { numRuns: 3000 },
    );
  });
});

// ---- an independent, deliberately naive reference evaluator ---------------------------------------------------

function refVersion(v: string): number[] | null {
  let s = v.startsWith('v') ? v.slice(1) : v;
  const cut = s.search(/[-+]/);
  if (cut >= 0) s = s.slice(0, cut);
  const parts = s.split('.');
  if (parts.some((x) => !/^[0-9]+$/.test(x))) return null;
  return parts.map((x) => parseInt(x, 10));
}
function refVersionCmp(a: number[], b: number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = i < a.length ? (a[i] as number) : 0;
    const y = i < b.length ? (b[i] as number) : 0;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}
function refDate(s: string): number {
  if (s.length === 10) return Date.parse(`${s}T00:00:00Z`) / 1000;
  if (s.length === 19) return Date.parse(`${s}Z`) / 1000;
  return Date.parse(s) / 1000;
}
function ordered(op: string, c: number): boolean {
  if (op === 'equals') return c === 0;
  if (op === 'not_equals') return c !== 0;
  if (op === 'greater_than') return c > 0;
  if (op === 'greater_than_equal') return c >= 0;
  if (op === 'less_than') return c < 0;
  if (op === 'less_than_equal') return c <= 0;
  throw new Error(op);
}
function strCmp(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

function reference(e: CqlExpression, p: PlainSubject): boolean {
  if (e.type === 'and') {
    let r = true;
    for (const o of e.operands) r = reference(o, p) && r;
    return r;
  }
  if (e.type === 'or') {
    let r = false;
    for (const o of e.operands) r = reference(o, p) || r;
    return r;
  }
  if (e.type === 'not') return !reference(e.operand, p);
  const subj = e.subject;
  const op = e.operator;
  const negative = op === 'not_equals' || op === 'not_matches' || op === 'not_in' || op === 'not_exists';
  // one value of the subject against the positive form of the operator
  const one = (v: string): boolean => {
    if (e.type === 'exists') return true;
    if (e.type === 'in') return e.values.some((l) => one2(v, 'equals', l));
    if (op === 'matches' || op === 'not_matches') return new RegExp(`^(?:${e.value})$`).test(v);
    return one2(v, op === 'not_equals' ? 'equals' : op, e.value);
  };
  const one2 = (v: string, o: string, lit: string): boolean => {
    switch (subj.kind) {
      case 'runningTasksCount':
        return ordered(o, p.runningTasksCount - parseInt(lit, 10));
      case 'registeredAt':
        return ordered(o, p.registeredAt - refDate(lit));
      case 'agentVersion': {
        const a = refVersion(v);
        return a !== null && ordered(o, refVersionCmp(a, refVersion(lit) as number[]));
      }
      case 'agentConnected':
        return ordered(o, strCmp(v, lit.toLowerCase()));
      default:
        return ordered(o, strCmp(v, lit));
    }
  };
  let values: string[];
  if (subj.kind === 'attribute') values = subj.name in p.attributes ? [p.attributes[subj.name] as string] : [];
  else if (subj.kind === 'task:group') values = p.groups;
  else if (subj.kind === 'agentVersion') values = p.agentVersion === undefined ? [] : [p.agentVersion];
  else if (subj.kind === 'agentConnected') values = [p.agentConnected ? 'true' : 'false'];
  else if (subj.kind === 'ec2InstanceId') values = [p.ec2InstanceId];
  else values = ['n/a'];
  let found = false;
  for (const v of values) if (one(v)) found = true;
  return negative ? !found : found;
}
