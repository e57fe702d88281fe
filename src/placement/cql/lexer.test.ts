import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../domain/errors.js';
import { lex } from './lexer.js';

const kinds = (s: string) => lex(s).map((t) => ('text' in t ? `${t.kind}:${t.text}` : t.kind));

describe('cql lexer', () => {
  it('splits words, symbols and punctuation with offsets', () => {
    const t = lex('not(task:group == database)');
    assert.deepEqual(kinds('not(task:group == database)'), ['word:not', '(', 'word:task:group', 'symbol:==', 'word:database', ')', 'eof']);
    assert.deepEqual(t.map((x) => x.offset), [0, 3, 4, 15, 18, 26, 27]);
  });

  it('recognises every symbol, longest first', () => {
    assert.deepEqual(kinds('== != >= <= =~ !~ && || > < !'), [
      'symbol:==', 'symbol:!=', 'symbol:>=', 'symbol:<=', 'symbol:=~', 'symbol:!~', 'symbol:&&', 'symbol:||', 'symbol:>', 'symbol:<', 'symbol:!', 'eof',
    ]);
  });

  it('glues !exists and !in only when they end there', () => {
    assert.deepEqual(kinds('!exists !in !in] !inx'), ['symbol:!exists', 'symbol:!in', 'symbol:!in', ']', 'symbol:!', 'word:inx', 'eof']);
  });

  it('keeps regexes, dates and attribute names as single words', () => {
    assert.deepEqual(kinds('attribute:ecs.instance-type =~ g2.* 2018-06-18T22:28:28+00:00'), [
      'word:attribute:ecs.instance-type', 'symbol:=~', 'word:g2.*', 'word:2018-06-18T22:28:28+00:00', 'eof',
    ]);
    assert.deepEqual(kinds('a==b'), ['word:a==b', 'eof']);
  });

  it('reads quoted strings with doubled quotes and no backslash escapes', () => {
    assert.deepEqual(kinds(`['i-abcd1234', "it's", 'it''s', '\\d+', '']`), [
      '[', 'string:i-abcd1234', ',', "string:it's", ',', "string:it's", ',', 'string:\\d+', ',', 'string:', ']', 'eof',
    ]);
  });

  it('rejects an unterminated string at its opening quote', () => {
    assert.throws(() => lex("a == 'abc"), (e: unknown) => e instanceof ApiError && e.code === 'InvalidParameterException' && /offset 5/.test(e.message) && /closing '/.test(e.message));
  });
});
