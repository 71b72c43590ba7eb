/**
 * A counting semaphore. Without one, thousands of clients starting together (or retrying
 * together) queue more session creations than the edge can serve within their timeout,
 * and every timed-out attempt is work the edge did for nothing.
 */
export class Gate {
  readonly #limit: number;
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  async acquire(): Promise<() => void> {
    if (this.#inFlight >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#inFlight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight -= 1;
      this.#waiting.shift()?.();
    };
  }
}
