import type { Catalog } from './catalog.js';

/**
 * A secondary index over one kind of the catalog: group → keys (e.g. cluster name → its container
 * instances). A record may belong to no group, one, or several (an image to every digest it references). Built from the catalog at creation and kept current by its speculative change feed, so it
 * also holds records of commits still in flight: decisions must see those (see Catalog). Readers therefore
 * treat `keys` as candidates and read each record through `catalog.get`, which shows committed records
 * only outside a decision.
 */
export class GroupIndex {
  readonly #groups = new Map<string, Set<string>>();

  constructor(
    catalog: Catalog,
    readonly kind: string,
    readonly groupOf: (value: unknown, key: string) => string | readonly string[] | undefined,
  ) {
    for (const [key, v] of catalog.all(kind)) this.#add(groupOf(v.value, key), key);
    catalog.subscribeSpeculative((c) => {
      if (c.kind !== kind) return;
      const before = c.before === undefined ? undefined : groupOf(c.before, c.key);
      const after = c.after === undefined ? undefined : groupOf(c.after, c.key);
      if (before === after) return;
      this.#remove(before, c.key);
      this.#add(after, c.key);
    });
  }

  #add(groups: string | readonly string[] | undefined, key: string): void {
    if (groups === undefined) return;
    if (typeof groups !== 'string') {
      for (const g of groups) this.#add(g, key);
      return;
    }
    const group = groups;
    let s = this.#groups.get(group);
    if (!s) this.#groups.set(group, (s = new Set()));
    s.add(key);
  }

  #remove(groups: string | readonly string[] | undefined, key: string): void {
    if (groups === undefined) return;
    if (typeof groups !== 'string') {
      for (const g of groups) this.#remove(g, key);
      return;
    }
    const group = groups;
    const s = this.#groups.get(group);
    if (!s) return;
    s.delete(key);
    if (s.size === 0) this.#groups.delete(group);
  }

  keys(group: string): ReadonlySet<string> {
    return this.#groups.get(group) ?? EMPTY;
  }

  size(group: string): number {
    return this.#groups.get(group)?.size ?? 0;
  }
}
const EMPTY: ReadonlySet<string> = new Set();
