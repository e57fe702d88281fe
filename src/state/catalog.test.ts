import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { CommitOptions, CommitResult, Store, WriteOp } from '../store/types.js';
import { Catalog, checkOp, putOp } from './catalog.js';
import { GroupIndex } from './group-index.js';

async function open() {
  const store = await SqliteStore.open({ path: ':memory:' });
  let commits = 0;
  let conflicts = 0;
  const counting: Store = {
    backend: store.backend,
    get: (k, key) => store.get(k, key),
    load: (k) => store.load(k),
    changes: (a, l) => store.changes(a, l),
    revision: () => store.revision(),
    close: () => store.close(),
    commit: async (ops: readonly WriteOp[], options?: CommitOptions): Promise<CommitResult> => {
      commits++;
      try {
        return await store.commit(ops, options);
      } catch (e) {
        conflicts++;
        throw e;
      }
    },
  };
  const catalog = await Catalog.open(counting, ['counter', 'child', 'parent']);
  return { store, catalog, stats: () => ({ commits, conflicts }) };
}

describe('Catalog', () => {
  it('pipelines concurrent read-modify-writes of one record without store conflicts', async () => {
    const { catalog, stats, store } = await open();
    await catalog.commit([{ op: 'put', kind: 'counter', key: 'n', value: 0 }]);
    const bump = () =>
      catalog.transact(() => {
        const cur = catalog.get<number>('counter', 'n');
        return { ops: [putOp('counter', 'n', (cur?.value ?? 0) + 1, cur)], result: (cur?.value ?? 0) + 1 };
      });
    const results = await Promise.all(Array.from({ length: 100 }, bump));
    assert.deepEqual([...results].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i + 1));
    assert.equal(catalog.get('counter', 'n')?.value, 100);
    assert.equal((await store.get('counter', 'n'))?.value, 100);
    assert.equal(stats().conflicts, 0);
    await store.close();
  });

  it('shows in-flight writes to decisions but not to plain readers', async () => {
    const { catalog, store } = await open();
    const write = catalog.transact(() => ({ ops: [putOp('counter', 'x', 1, undefined)], result: 'ok' }));
    assert.equal(catalog.get('counter', 'x'), undefined, 'a reader must not see a write before it is durable');
    let seen: unknown;
    const read = catalog.transact(() => {
      seen = catalog.get('counter', 'x')?.value;
      return { ops: [], result: undefined };
    });
    assert.equal(seen, 1, 'a decision sees the in-flight write');
    await Promise.all([write, read]);
    assert.equal(catalog.get('counter', 'x')?.value, 1);
    await store.close();
  });

  it('reverts a failed commit and re-decides the commits that depended on it', async () => {
    const { catalog, store } = await open();
    // Another writer (as a replica would) changes the record behind the catalog's back.
    await catalog.commit([{ op: 'put', kind: 'counter', key: 'n', value: 0 }]);
    await store.commit([{ op: 'put', kind: 'counter', key: 'other', value: 1 }]);
    const attempts: number[] = [];
    const bump = (id: number) =>
      catalog.transact(() => {
        attempts.push(id);
        const cur = catalog.get<number>('counter', 'n');
        return { ops: [putOp('counter', 'n', (cur?.value ?? 0) + 1, cur)], result: undefined };
      });
    await Promise.all([bump(1), bump(2), bump(3)]);
    // The predicted revisions were off by the foreign commit, so at least one decision ran again; the
    // result must still count every increment exactly once.
    assert.equal((await store.get('counter', 'n'))?.value, 3);
    assert.ok(attempts.length > 3);
    await store.close();
  });

  it('keeps group indexes in step with in-flight and failed writes', async () => {
    const { catalog, store } = await open();
    const idx = new GroupIndex(catalog, 'child', (v) => (v as { parent: string }).parent);
    await catalog.commit([{ op: 'put', kind: 'parent', key: 'p', value: {} }]);
    const parent = catalog.get('parent', 'p');
    const ok = catalog.transact(() => ({ ops: [checkOp('parent', 'p', parent), putOp('child', 'c1', { parent: 'p' }, undefined)], result: 1 }));
    assert.deepEqual([...idx.keys('p')], ['c1']);
    await ok;
    // A write whose guard fails (stale parent revision) disappears from the index again.
    const stale = { value: {}, rev: 999 };
    await assert.rejects(catalog.transact(() => ({ ops: [checkOp('parent', 'p', stale), putOp('child', 'c2', { parent: 'p' }, undefined)], result: 1 }), 1));
    assert.deepEqual([...idx.keys('p')], ['c1']);
    await store.close();
  });
});
