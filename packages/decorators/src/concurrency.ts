/**
 * `concurrency(n)`: a bulkhead. At most `n` calls run at once; the rest wait in FIFO order, and
 * with `maxQueue` a call that finds the line full is refused at once instead of piling up.
 */
import { ConcurrencyLimitError, checkOptionsObject, InvalidOptionError } from './errors.js';
import { WaitQueue } from './queue.js';
import { findSignal } from './signal.js';
import { type AsyncDecorator, makeDecorator, perReceiver } from './wrap.js';

/** Options of {@link concurrency}. */
export interface ConcurrencyOptions {
  /** How many calls may wait; one more is refused with `ConcurrencyLimitError` (default: no bound). */
  maxQueue?: number;
  /** One limit per instance instead of one shared by every instance (default false). */
  perInstance?: boolean;
}

class Bulkhead {
  readonly queue = new WaitQueue();
  active = 0;

  constructor(readonly limit: number) {}

  /** Takes a slot, waiting for one if needed. */
  acquire(signal: AbortSignal | undefined): Promise<void> | undefined {
    if (this.active < this.limit) {
      this.active++;
      return undefined;
    }
    return this.queue.wait(1, signal, () => {});
  }

  /** Hands the slot to the next waiter, or frees it. */
  release(): void {
    if (this.queue.size > 0) this.queue.release();
    else this.active--;
  }
}

/**
 * Runs at most `limit` calls at a time; later calls wait their turn (an AbortSignal among their
 * arguments takes them out of the line). With `maxQueue`, calls that find the line full reject
 * at once with {@link ConcurrencyLimitError}. One limit is shared by all instances unless
 * `perInstance` is set. The result is always a promise, so on methods only async methods are
 * accepted.
 *
 * @example
 * class Crawler { @concurrency(4, { maxQueue: 100 }) async fetchPage(url: string) { ... } }
 */
export function concurrency(limit: number, options: ConcurrencyOptions = {}): AsyncDecorator {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InvalidOptionError(
      `concurrency(limit): limit must be an integer >= 1, got ${String(limit)}`,
    );
  }
  checkOptionsObject('concurrency(limit, options)', options, 'concurrency(4, { maxQueue: 100 })');
  const { maxQueue = Number.POSITIVE_INFINITY, perInstance = false } = options;
  if (typeof maxQueue !== 'number' || !(maxQueue >= 0)) {
    throw new InvalidOptionError(
      `concurrency(limit, { maxQueue }): maxQueue must be a number >= 0, got ${String(maxQueue)}`,
    );
  }
  return makeDecorator('@concurrency()', (fn, info) => {
    const create = () => new Bulkhead(limit);
    const shared = perInstance ? undefined : create();
    const bulkheadOf = shared ? () => shared : perReceiver(create);
    return async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const signal = findSignal(args);
      // A call nobody wants any more must not take a slot (the queue checks waiting calls).
      signal?.throwIfAborted();
      const bulkhead = bulkheadOf(this);
      if (bulkhead.active >= limit && bulkhead.queue.size >= maxQueue) {
        throw new ConcurrencyLimitError(info.name || 'function', limit, maxQueue);
      }
      const turn = bulkhead.acquire(signal);
      if (turn !== undefined) await turn;
      try {
        return await fn.apply(this, args);
      } finally {
        bulkhead.release();
      }
    };
  }) as AsyncDecorator;
}
