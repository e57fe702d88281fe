/**
 * In-process mutual exclusion per key (a digest, an upload id). The filesystem blob store lives in one server
 * process, so this is what orders a blob's commit against its collection (see ./gc.ts); a shared object store
 * with several replicas would need a lease in the store instead.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.#tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Runs `fn` only if nobody holds the key; otherwise returns undefined at once (for refusing concurrent use). */
  async tryRun<T>(key: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.#tails.has(key)) return undefined;
    return this.run(key, fn);
  }

  held(key: string): boolean {
    return this.#tails.has(key);
  }
}
