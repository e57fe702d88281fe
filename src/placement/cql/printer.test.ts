import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseCql, printCql } from './index.js';
import { printLiteral } from './printer.js';
import { expressionArb } from './testing.js';

const canon = (s: string) => printCql(parseCql(s));

describe('cql printer', () => {
  it('prints canonical text', () => {
    assert.equal(canon('not(task:group == database)'), 'not task:group == database');
    assert.equal(canon("ec2InstanceId IN ['i-abcd1234',\"i-wxyx7890\"]"), 'ec2InstanceId in [i-abcd1234, i-wxyx7890]');
    assert.equal(canon('attribute:a equals x && attribute:b !exists || !attribute:c exists'), 'attribute:a == x and attribute:b not_exists or not attribute:c exists');
    assert.equal(canon('attribute:a greater_than_equal 1 and (attribute:b matches x or attribute:c !in [y])'), 'attribute:a >= 1 and (attribute:b =~ x or attribute:c not_in [y])');
    assert.equal(canon('not (attribute:a exists and attribute:b exists)'), 'not (attribute:a exists and attribute:b exists)');
    assert.equal(canon('(attribute:a exists or attribute:b exists) or attribute:c exists'), '(attribute:a exists or attribute:b exists) or attribute:c exists');
  });

  it('quotes literals that would not lex back as one word', () => {
    assert.equal(printLiteral('t2.small'), 't2.small');
    assert.equal(printLiteral('g2.*'), 'g2.*');
    assert.equal(printLiteral(''), "''");
    assert.equal(printLiteral('a b'), "'a b'");
    assert.equal(printLiteral("it's"), `"it's"`);
    assert.equal(printLiteral(`'"`), `'''"'`);
    assert.equal(printLiteral('=='), "'=='");
    assert.equal(printLiteral('!x'), "'!x'");
    assert.equal(printLiteral('(a|b)'), "'(a|b)'");
    assert.equal(printLiteral('and'), 'and');
  });

  it('round-trips: parseCql(printCql(e)) deep-equals e for random ASTs', () => {
    fc.assert(
      fc.property(expressionArb(true), (e) => {
        assert.deepEqual(parseCql(printCql(e)), e);
      }),
      { numRuns: 2000 },
    );
  });

  it('printing is idempotent on parsed text', () => {
    fc.assert(
      fc.property(expressionArb(true), (e) => {
        const once = printCql(e);
        assert.equal(canon(once), once);
      }),
      { numRuns: 500 },
    );
  });
});
