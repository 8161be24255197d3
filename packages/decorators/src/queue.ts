/**
 * A FIFO of callers waiting for their turn (throttle and concurrency). A waiter whose signal
 * aborts leaves the queue at once and rejects with the signal's reason.
 */

export interface Waiter {
  readonly weight: number;
  resolve(): void;
}

interface Entry extends Waiter {
  reject(reason: unknown): void;
  cleanup(): void;
}

export class WaitQueue {
  #entries: Entry[] = [];

  get size(): number {
    return this.#entries.length;
  }

  /** The next waiter, without removing it. */
  peek(): Waiter | undefined {
    return this.#entries[0];
  }

  /** Removes the next waiter and lets it go. */
  release(): void {
    const entry = this.#entries.shift();
    if (entry === undefined) return;
    entry.cleanup();
    entry.resolve();
  }

  /**
   * Waits in line. `onLeave` runs when an aborted waiter left, so the owner can look at the
   * new head of the queue.
   */
  wait(weight: number, signal: AbortSignal | undefined, onLeave: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        const index = this.#entries.indexOf(entry);
        if (index !== -1) this.#entries.splice(index, 1);
        reject(signal?.reason);
        onLeave();
      };
      const entry: Entry = {
        weight,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#entries.push(entry);
    });
  }
}
