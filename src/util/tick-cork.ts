import type { Duplex } from 'node:stream';

/**
 * Makes the frames written to one socket during one turn of the event loop leave in one write: the socket is
 * corked by the first write of the turn and uncorked when the turn ends (setImmediate). An agent reports many
 * task transitions at once and the server answers each instance with acks and desired-set changes; a write
 * system call per WebSocket frame was the largest single cost of a hollow fleet (15 % of its CPU in the services
 * bench) and 8 % of the server's main thread.
 */
export class TickCork {
  #corked = false;

  constructor(private readonly socket: Duplex) {}

  /** Call before writing: the write joins this turn's batch. */
  hold(): void {
    if (this.#corked || this.socket.destroyed) return;
    this.#corked = true;
    this.socket.cork();
    setImmediate(() => {
      this.#corked = false;
      this.socket.uncork();
    });
  }
}
