/**
 * `throttle({ limit, intervalMs })`: a token bucket. At most `limit` calls (or units of weight)
 * start per `intervalMs`, refilled continuously; calls beyond that wait their turn in FIFO order,
 * so a heavy call is never starved by light ones behind it.
 */
import { InvalidOptionError } from './errors.js';
import { WaitQueue } from './queue.js';
import { findSignal, MAX_TIMER_MS } from './signal.js';
import { type AsyncDecorator, makeDecorator, perReceiver } from './wrap.js';

/** Options of {@link throttle}. */
export interface ThrottleOptions {
  /** How many calls (or units of weight) may start per interval. */
  limit: number;
  /** The interval, in ms. */
  intervalMs: number;
  /** The cost of one call, from its arguments (default 1). Must be between 0 and `limit`. */
  weight?: (...args: never[]) => number;
  /** One bucket per instance instead of one shared by every instance (default false). */
  perInstance?: boolean;
  /** The clock, in ms (default `performance.now`). */
  now?: () => number;
}

class Bucket {
  readonly queue = new WaitQueue();
  #tokens: number;
  #last: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly limit: number,
    readonly intervalMs: number,
    readonly now: () => number,
  ) {
    this.#tokens = limit;
    this.#last = now();
  }

  #refill(): void {
    const now = this.now();
    this.#tokens = Math.min(
      this.limit,
      this.#tokens + ((now - this.#last) * this.limit) / this.intervalMs,
    );
    this.#last = now;
  }

  /** Resolves when a call of `weight` may start. */
  take(weight: number, signal: AbortSignal | undefined): Promise<void> | undefined {
    if (this.queue.size === 0) {
      this.#refill();
      if (this.#tokens >= weight) {
        this.#tokens -= weight;
        return undefined;
      }
    }
    const turn = this.queue.wait(weight, signal, () => this.#drain());
    this.#drain();
    return turn;
  }

  /** Lets waiters go while tokens last, then sleeps until the head of the queue can go. */
  #drain(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#refill();
    let head = this.queue.peek();
    while (head !== undefined && this.#tokens >= head.weight) {
      this.#tokens -= head.weight;
      this.queue.release();
      head = this.queue.peek();
    }
    if (head === undefined) return;
    const waitMs = ((head.weight - this.#tokens) * this.intervalMs) / this.limit;
    // Capped: a longer delay would fire after 1 ms (a monthly quota then polled every ms);
    // waking early only re-arms the timer.
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#drain();
      },
      Math.min(Math.ceil(waitMs), MAX_TIMER_MS),
    );
  }
}

function checkOptions(options: ThrottleOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      'throttle(options): pass { limit, intervalMs }, e.g. throttle({ limit: 10, intervalMs: 1000 })',
    );
  }
  const { limit, intervalMs, weight, now } = options;
  if (typeof limit !== 'number' || !(limit > 0) || !Number.isFinite(limit)) {
    throw new InvalidOptionError(
      `throttle(options): limit must be a number > 0, got ${String(limit)}`,
    );
  }
  if (typeof intervalMs !== 'number' || !(intervalMs > 0) || !Number.isFinite(intervalMs)) {
    throw new InvalidOptionError(
      `throttle(options): intervalMs must be a number > 0, got ${String(intervalMs)}`,
    );
  }
  if (weight !== undefined && typeof weight !== 'function') {
    throw new InvalidOptionError(
      'throttle(options): weight must be a function (...args) => number',
    );
  }
  if (now !== undefined && typeof now !== 'function') {
    throw new InvalidOptionError('throttle(options): now must be a function returning ms');
  }
}

/**
 * Limits how often the function starts: at most `limit` calls per `intervalMs` (a token bucket
 * that refills continuously). Calls over the limit wait their turn, first come first served;
 * an AbortSignal among a waiting call's arguments takes it out of the line. With `weight`, a
 * call may cost more than one token. One bucket is shared by all instances unless
 * `perInstance` is set. The result is always a promise, so on methods only async methods are
 * accepted.
 *
 * @example
 * class GitHub {
 *   @throttle({ limit: 5_000, intervalMs: 3_600_000 })
 *   async get(path: string) { ... }
 * }
 * const search = throttle({ limit: 30, intervalMs: 60_000, weight: (q: string[]) => q.length })(searchMany);
 */
export function throttle(options: ThrottleOptions): AsyncDecorator {
  checkOptions(options);
  const { limit, intervalMs, weight, perInstance = false } = options;
  const now = options.now ?? (() => performance.now());
  return makeDecorator('@throttle()', (fn, info) => {
    const create = () => new Bucket(limit, intervalMs, now);
    const shared = perInstance ? undefined : create();
    const bucketOf = shared ? () => shared : perReceiver(create);
    return async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const cost = weight === undefined ? 1 : weight(...(args as never[]));
      if (typeof cost !== 'number' || !(cost >= 0) || cost > limit) {
        throw new InvalidOptionError(
          `throttle of ${info.name}(): weight returned ${String(cost)}; it must be between 0 and limit (${limit})`,
        );
      }
      const signal = findSignal(args);
      // A call nobody wants any more must not spend a token (the queue checks waiting calls).
      signal?.throwIfAborted();
      const turn = bucketOf(this).take(cost, signal);
      if (turn !== undefined) await turn;
      return fn.apply(this, args);
    };
  }) as AsyncDecorator;
}
