/**
 * The contract every Store backend must pass (SQLite now, PostgreSQL later): run it from each backend's
 * test file with a factory for a fresh, empty store. `reopen` (when the backend is durable) opens the same
 * database again after `close`, to check that what was committed is still there.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreConflictError } from './types.js';
import type { Store } from './types.js';

export interface StoreFactory {
  open(): Promise<{ store: Store; reopen?: () => Promise<Store> }>;
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    it('returns undefined for a missing record and starts at revision 0', async () => {
      const { store } = await factory.open();
      assert.equal(await store.get('cluster', 'nope'), undefined);
      assert.equal(await store.revision(), 0);
      await store.close();
    });

    it('stores a batch atomically at one revision, and revisions increase per commit', async () => {
      const { store } = await factory.open();
      const r1 = await store.commit([
        { op: 'put', kind: 'cluster', key: 'a', value: { n: 1 } },
        { op: 'put', kind: 'cluster', key: 'b', value: { n: 2 } },
      ]);
      const r2 = await store.commit([{ op: 'put', kind: 'cluster', key: 'a', value: { n: 3 } }]);
      assert.ok(r2.rev > r1.rev);
      assert.deepEqual(await store.get('cluster', 'a'), { kind: 'cluster', key: 'a', value: { n: 3 }, rev: r2.rev });
      assert.equal((await store.get('cluster', 'b'))?.rev, r1.rev);
      assert.equal(await store.revision(), r2.rev);
      await store.close();
    });

    it('keeps kinds apart and loads a kind in key order', async () => {
      const { store } = await factory.open();
      await store.commit([
        { op: 'put', kind: 'task', key: 'k2', value: 2 },
        { op: 'put', kind: 'task', key: 'k1', value: 1 },
        { op: 'put', kind: 'cluster', key: 'k1', value: 'c' },
      ]);
      assert.deepEqual((await store.load('task')).map((r) => [r.key, r.value]), [['k1', 1], ['k2', 2]]);
      assert.deepEqual((await store.load('cluster')).map((r) => r.value), ['c']);
      assert.deepEqual(await store.load('service'), []);
      await store.close();
    });

    it('round-trips JSON values of every type', async () => {
      const { store } = await factory.open();
      const value = { s: 'ünïcødé ✓', n: 1.5, i: -7, b: false, nul: null, arr: [1, 'x', { y: [] }], nested: { deep: { deeper: true } } };
      await store.commit([{ op: 'put', kind: 'k', key: 'weird/key:with spaces', value }]);
      assert.deepEqual((await store.get('k', 'weird/key:with spaces'))?.value, value);
      await store.close();
    });

    it('rejects a whole batch when a guard fails, writing nothing', async () => {
      const { store } = await factory.open();
      const { rev } = await store.commit([{ op: 'put', kind: 'c', key: 'x', value: 1 }]);
      await assert.rejects(
        store.commit([
          { op: 'put', kind: 'c', key: 'y', value: 2 },
          { op: 'put', kind: 'c', key: 'x', value: 3, ifRev: 0 },
        ]),
        (e: unknown) => e instanceof StoreConflictError && e.key === 'x' && e.actualRev === rev && e.expectedRev === 0,
      );
      assert.equal(await store.get('c', 'y'), undefined);
      assert.equal((await store.get('c', 'x'))?.value, 1);
      assert.equal(await store.revision(), rev);
      await store.commit([{ op: 'put', kind: 'c', key: 'x', value: 4, ifRev: rev }]);
      assert.equal((await store.get('c', 'x'))?.value, 4);
      await assert.rejects(store.commit([{ op: 'delete', kind: 'c', key: 'x', ifRev: rev }]), StoreConflictError);
      await store.close();
    });

    it('fails a batch whose read guard (check) no longer holds, and passes one whose guard holds', async () => {
      const { store } = await factory.open();
      const a = await store.commit([{ op: 'put', kind: 'c', key: 'parent', value: 1 }]);
      await store.commit([
        { op: 'check', kind: 'c', key: 'parent', ifRev: a.rev },
        { op: 'put', kind: 'c', key: 'child1', value: 1 },
      ]);
      assert.equal((await store.get('c', 'parent'))?.rev, a.rev, 'a check writes nothing');
      await store.commit([{ op: 'put', kind: 'c', key: 'parent', value: 2 }]);
      await assert.rejects(
        store.commit([
          { op: 'check', kind: 'c', key: 'parent', ifRev: a.rev },
          { op: 'put', kind: 'c', key: 'child2', value: 1 },
        ]),
        StoreConflictError,
      );
      assert.equal(await store.get('c', 'child2'), undefined);
      await assert.rejects(store.commit([{ op: 'check', kind: 'c', key: 'absent', ifRev: 5 }]), StoreConflictError);
      await store.commit([{ op: 'check', kind: 'c', key: 'absent', ifRev: 0 }]);
      await store.close();
    });

    it('commits at an expected revision only when no other batch came in between', async () => {
      const { store } = await factory.open();
      const base = await store.revision();
      const [a, b] = await Promise.all([
        store.commit([{ op: 'put', kind: 'c', key: 'a', value: 1 }], { expectRev: base + 1 }),
        store.commit([{ op: 'put', kind: 'c', key: 'b', value: 1 }], { expectRev: base + 2 }),
      ]);
      assert.equal(a.rev, base + 1);
      assert.equal(b.rev, base + 2);
      await assert.rejects(store.commit([{ op: 'put', kind: 'c', key: 'c', value: 1 }], { expectRev: base + 2 }), StoreConflictError);
      await assert.rejects(store.commit([{ op: 'put', kind: 'c', key: 'c', value: 1 }], { expectRev: base + 9 }), StoreConflictError);
      assert.equal(await store.get('c', 'c'), undefined);
      assert.equal(await store.revision(), base + 2);
      await store.close();
    });

    it('commits a chained batch only right after a commit of the same writer', async () => {
      const { store } = await factory.open();
      const base = await store.revision();
      await store.commit([{ op: 'put', kind: 'c', key: 'a', value: 1 }], { expectRev: base + 1, writer: 'A' });
      // A's next batch, predicted to follow its own, succeeds…
      await store.commit([{ op: 'put', kind: 'c', key: 'a', value: 2, ifRev: base + 1 }], { expectRev: base + 2, writer: 'A', chained: true });
      // …but when B took the revision in between, a chained batch of A fails even though its numbers line up.
      await store.commit([{ op: 'put', kind: 'c', key: 'a', value: 3 }], { writer: 'B' });
      await assert.rejects(
        store.commit([{ op: 'put', kind: 'c', key: 'a', value: 4, ifRev: base + 3 }], { expectRev: base + 4, writer: 'A', chained: true }),
        StoreConflictError,
      );
      assert.equal((await store.get('c', 'a'))?.value, 3);
      await store.close();
    });

    it('deletes records and reports deletions in the change feed', async () => {
      const { store } = await factory.open();
      const a = await store.commit([{ op: 'put', kind: 'c', key: 'x', value: 1 }]);
      const b = await store.commit([{ op: 'delete', kind: 'c', key: 'x' }]);
      assert.equal(await store.get('c', 'x'), undefined);
      const feed = await store.changes(a.rev, 10);
      assert.deepEqual(feed, [{ rev: b.rev, kind: 'c', key: 'x', value: undefined, deleted: true }]);
      // Revisions never go backwards, even when the newest record is gone.
      const c = await store.commit([{ op: 'put', kind: 'c', key: 'y', value: 2 }]);
      assert.ok(c.rev > b.rev);
      await store.close();
    });

    it('pages through the change feed in revision order', async () => {
      const { store } = await factory.open();
      for (let i = 0; i < 7; i++) await store.commit([{ op: 'put', kind: 'c', key: `k${i}`, value: i }]);
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const page = await store.changes(after, 3);
        if (page.length === 0) break;
        seen.push(...page.map((c) => c.value as number));
        after = page.at(-1)!.rev;
      }
      assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
      await store.close();
    });

    it('serialises concurrent optimistic read-modify-write cycles without lost updates', async () => {
      const { store } = await factory.open();
      await store.commit([{ op: 'put', kind: 'counter', key: 'n', value: 0 }]);
      let conflicts = 0;
      const increment = async (): Promise<void> => {
        for (;;) {
          const cur = (await store.get<number>('counter', 'n'))!;
          try {
            await store.commit([{ op: 'put', kind: 'counter', key: 'n', value: cur.value + 1, ifRev: cur.rev }]);
            return;
          } catch (e) {
            if (!(e instanceof StoreConflictError)) throw e;
            conflicts++;
          }
        }
      };
      await Promise.all(Array.from({ length: 40 }, increment));
      assert.equal((await store.get('counter', 'n'))?.value, 40);
      assert.ok(conflicts > 0, 'the test should have produced conflicting writers');
      await store.close();
    });

    it('isolates a failing batch from the other batches committed alongside it', async () => {
      const { store } = await factory.open();
      await store.commit([{ op: 'put', kind: 'c', key: 'taken', value: 1 }]);
      const results = await Promise.allSettled([
        store.commit([{ op: 'put', kind: 'c', key: 'a', value: 1 }]),
        store.commit([{ op: 'put', kind: 'c', key: 'taken', value: 2, ifRev: 0 }]),
        store.commit([{ op: 'put', kind: 'c', key: 'b', value: 1 }]),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.equal((await store.get('c', 'taken'))?.value, 1);
      assert.ok(await store.get('c', 'a'));
      assert.ok(await store.get('c', 'b'));
      await store.close();
    });

    it('keeps everything committed across close and reopen', async (t) => {
      const { store, reopen } = await factory.open();
      if (!reopen) return t.skip('backend is not durable');
      const { rev } = await store.commit([{ op: 'put', kind: 'c', key: 'x', value: { keep: true } }]);
      await store.commit([{ op: 'delete', kind: 'c', key: 'x' }]);
      await store.commit([{ op: 'put', kind: 'c', key: 'y', value: 1 }]);
      const last = await store.revision();
      await store.close();
      const again = await reopen();
      assert.equal(await again.get('c', 'x'), undefined);
      assert.equal((await again.get('c', 'y'))?.value, 1);
      assert.equal(await again.revision(), last);
      assert.ok(last > rev);
      const next = await again.commit([{ op: 'put', kind: 'c', key: 'z', value: 1 }]);
      assert.ok(next.rev > last);
      await again.close();
    });
  });
}
