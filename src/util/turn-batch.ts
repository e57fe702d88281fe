/**
 * Collects what is added during one turn of the event loop and hands it over in one batch when the turn ends
 * (setImmediate): group commit for the store's writers, one message per turn to the writer thread.
 */
export class TurnBatch<T> {
  #items: T[] = [];
  #scheduled = false;

  constructor(private readonly take: (items: T[]) => void) {}

  /** Something is waiting to be handed over. */
  get pending(): boolean {
    return this.#scheduled || this.#items.length > 0;
  }

  add(item: T): void {
    this.#items.push(item);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Hands over what has gathered now (also run at the end of the turn). */
  flush(): void {
    this.#scheduled = false;
    const items = this.#items;
    if (items.length === 0) return;
    this.#items = [];
    this.take(items);
  }
}
