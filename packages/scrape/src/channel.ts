/**
 * A bounded hand-off from the crawl to the consumer of `for await`: producers wait when
 * `capacity` items are buffered, so a slow consumer slows the crawl instead of filling memory.
 */
export class Channel<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  #closed = false;
  #error: unknown;
  #takers: ((r: IteratorResult<T>) => void)[] = [];
  #rejecters: ((e: unknown) => void)[] = [];
  #spaceWaiters: (() => void)[] = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Adds an item; resolves once there is room for it (immediately unless the buffer is full). */
  async push(item: T): Promise<void> {
    if (this.#closed) return;
    const taker = this.#takers.shift();
    if (taker) {
      this.#rejecters.shift();
      taker({ value: item, done: false });
      return;
    }
    this.#items.push(item);
    await this.room();
  }

  /** Resolves when the buffer has room (at once unless it is full), so producers can wait before working. */
  async room(): Promise<void> {
    while (this.#items.length >= this.#capacity && !this.#closed) {
      await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
    }
  }

  /** Ends the stream (after buffered items), with an error if given. */
  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    for (const w of this.#spaceWaiters.splice(0)) w();
    const takers = this.#takers.splice(0);
    const rejecters = this.#rejecters.splice(0);
    takers.forEach((t, i) => {
      if (error !== undefined) rejecters[i]!(error);
      else t({ value: undefined, done: true });
    });
  }

  /** The next item, or done when closed and drained. */
  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) {
      const item = this.#items.shift() as T;
      // Every waiting producer has already queued its item; they wait only for the buffer to
      // drop to capacity, so release them all then (waking one per take would strand some).
      if (this.#items.length < this.#capacity)
        for (const wake of this.#spaceWaiters.splice(0)) wake();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.#closed) {
      return this.#error !== undefined
        ? Promise.reject(this.#error)
        : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#takers.push(resolve);
      this.#rejecters.push(reject);
    });
  }
}
