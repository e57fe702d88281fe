import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRng } from '../../util/clock.js';
import { candidate, demand } from '../testing.js';
import { randomStrategy } from './random.js';

describe('randomStrategy', () => {
  const all = ['a', 'b', 'c', 'd'].map((id) => candidate(id));

  it('narrows to exactly one of the candidates', () => {
    const out = randomStrategy.narrow(all, { type: 'random' }, { rng: seededRng(7), demand: demand(), group: 'g', all });
    assert.equal(out.length, 1);
    assert.ok(all.includes(out[0]!));
  });

  it('reaches every candidate, roughly evenly', () => {
    const rng = seededRng(42);
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const arn = randomStrategy.narrow(all, { type: 'random' }, { rng, demand: demand(), group: 'g', all })[0]!.containerInstanceArn;
      counts.set(arn, (counts.get(arn) ?? 0) + 1);
    }
    assert.equal(counts.size, 4);
    for (const n of counts.values()) assert.ok(n > 850 && n < 1150, `count ${n}`);
  });

  it('stays in range when the Rng returns its largest value', () => {
    const out = randomStrategy.narrow(all, { type: 'random' }, { rng: { float: () => 0.9999999999, hex: () => '' }, demand: demand(), group: 'g', all });
    assert.equal(out[0], all[3]);
  });
});
