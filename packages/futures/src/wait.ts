/**
 * `wait()` and `asCompleted()`: block on a group of futures, possibly from different executors.
 * Both install a small waiter object on every pending future (CPython's `_Waiter` strategies)
 * and remove it when they return.
 */
import { checkOptions, invalidArgType, TimeoutError } from './errors.js';
import { checkTimeout, type Future, type FutureWaiter } from './future.js';
import { after, MAX_TIMER_MS } from './timer.js';

/** `wait()` returns when any future finishes or is cancelled. */
export const FIRST_COMPLETED = 'FIRST_COMPLETED';
/** `wait()` returns when any future fails, or when all are done if none fails. */
export const FIRST_EXCEPTION = 'FIRST_EXCEPTION';
/** `wait()` returns when every future is done. */
export const ALL_COMPLETED = 'ALL_COMPLETED';

/** When {@link wait} returns. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/** Options of {@link wait}. */
export interface WaitOptions {
  /** Give up after this many milliseconds and return the partition as it is. */
  timeoutMs?: number;
  /** Default {@link ALL_COMPLETED}. */
  returnWhen?: ReturnWhen;
}

/** The result of {@link wait} (Python: `DoneAndNotDoneFutures`). */
export interface DoneAndNotDone<F> {
  done: Set<F>;
  notDone: Set<F>;
}

/** Options of {@link asCompleted}. */
export interface AsCompletedOptions {
  /** Deadline, counted from the call, after which the iterator throws {@link TimeoutError}. */
  timeoutMs?: number;
}

// A cancelled future only counts as done once its executor acknowledged the cancel (CPython:
// CANCELLED_AND_NOTIFIED); until then the task may still be in a queue.
function isSettled(future: Future<unknown>): boolean {
  const state = future.state;
  return state === 'FINISHED' || state === 'CANCELLED_AND_NOTIFIED';
}

/**
 * The distinct futures of `futures`, or a `TypeError` naming what is not one: a promise (say
 * `future.result()`) or another value would otherwise fail with a message about internals, or
 * count as never done. Futures are recognised by their interface, not their class, so that
 * another copy of this package works too.
 */
function futureSet<F extends Future<unknown>>(futures: Iterable<F>, what: string): Set<F> {
  if (typeof (futures as Partial<Iterable<F>> | null)?.[Symbol.iterator] !== 'function') {
    const got =
      typeof (futures as Partial<Future<unknown>> | null)?._addWaiter === 'function'
        ? 'one future: put it in an array'
        : futures === null
          ? 'null'
          : typeof futures;
    throw invalidArgType(`${what} takes an iterable of futures, such as an array, got ${got}`);
  }
  const all = new Set<F>();
  let position = 0;
  for (const f of futures) {
    position += 1;
    if (typeof (f as Partial<Future<unknown>> | null)?._addWaiter !== 'function') {
      const got =
        f instanceof Promise
          ? 'a Promise: pass the future itself, not future.result() or a promise made from it'
          : f === null
            ? 'null'
            : typeof f;
      throw invalidArgType(
        `${what} takes futures (what submit() returns); item ${position} is ${got}`,
      );
    }
    all.add(f);
  }
  return all;
}

/** Calls `wake` once the condition of `returnWhen` holds. */
class GroupWaiter implements FutureWaiter {
  #pending: number;

  constructor(
    pending: number,
    private readonly returnWhen: ReturnWhen,
    private readonly wake: () => void,
  ) {
    this.#pending = pending;
  }

  addResult(): void {
    this.#settle(false);
  }

  addException(): void {
    this.#settle(this.returnWhen === FIRST_EXCEPTION);
  }

  addCancelled(): void {
    this.#settle(false);
  }

  #settle(failed: boolean): void {
    this.#pending -= 1;
    if (failed || this.returnWhen === FIRST_COMPLETED || this.#pending <= 0) this.wake();
  }
}

/**
 * Waits for futures and partitions them into `done` and `notDone`. Never throws on timeout:
 * it returns the partition as it stands. Duplicates count once.
 *
 * A future cancelled while still queued counts as not done until its executor reaches it (as in
 * CPython); `future.done()` is already `true` for it.
 *
 * @example
 * ```ts
 * const { done, notDone } = await wait(futures, { timeoutMs: 1000, returnWhen: FIRST_EXCEPTION });
 * ```
 */
export async function wait<F extends Future<unknown>>(
  futures: Iterable<F>,
  options: WaitOptions = {},
): Promise<DoneAndNotDone<F>> {
  const { timeoutMs, returnWhen = ALL_COMPLETED } = checkOptions(
    options,
    ['timeoutMs', 'returnWhen'],
    'wait()',
  );
  if (
    returnWhen !== FIRST_COMPLETED &&
    returnWhen !== FIRST_EXCEPTION &&
    returnWhen !== ALL_COMPLETED
  ) {
    throw Object.assign(
      new RangeError(
        `returnWhen must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got ${String(returnWhen)}`,
      ),
      { code: 'ERR_INVALID_ARG_VALUE' },
    );
  }
  if (timeoutMs !== undefined) checkTimeout(timeoutMs);
  const all = futureSet(futures, 'wait()');
  if (!shouldWait(all, returnWhen)) return partition(all);

  const pending = [...all].filter((f) => !isSettled(f));
  await new Promise<void>((resolve) => {
    let cancelTimer: (() => void) | undefined;
    const waiter = new GroupWaiter(pending.length, returnWhen, () => {
      cancelTimer?.();
      for (const f of pending) f._removeWaiter(waiter);
      resolve();
    });
    for (const f of pending) f._addWaiter(waiter);
    if (timeoutMs !== undefined && timeoutMs !== Number.POSITIVE_INFINITY) {
      cancelTimer = after(timeoutMs, () => {
        for (const f of pending) f._removeWaiter(waiter);
        resolve();
      });
    }
  });
  return partition(all);
}

function shouldWait(all: Set<Future<unknown>>, returnWhen: ReturnWhen): boolean {
  let settled = 0;
  for (const f of all) {
    if (!isSettled(f)) continue;
    settled += 1;
    if (returnWhen === FIRST_COMPLETED) return false;
    if (returnWhen === FIRST_EXCEPTION && f._failed()) return false;
  }
  return settled < all.size;
}

function partition<F extends Future<unknown>>(all: Set<F>): DoneAndNotDone<F> {
  const done = new Set<F>();
  const notDone = new Set<F>();
  for (const f of all) (isSettled(f) ? done : notDone).add(f);
  return { done, notDone };
}

/** Queues futures as they finish, for {@link asCompleted}. */
class CompletionQueue implements FutureWaiter {
  readonly finished: Future<unknown>[] = [];
  wake: (() => void) | undefined = undefined;

  addResult(future: Future<unknown>): void {
    this.finished.push(future);
    this.wake?.();
  }

  addException(future: Future<unknown>): void {
    this.addResult(future);
  }

  addCancelled(future: Future<unknown>): void {
    this.addResult(future);
  }
}

/**
 * Yields futures as they complete: those already finished (or cancelled) first, then the rest in
 * completion order, each once. Throws {@link TimeoutError} (`"2 (of 4) futures unfinished"`) if
 * the deadline, counted from the call, passes first.
 *
 * @example
 * ```ts
 * for await (const future of asCompleted(futures, { timeoutMs: 5000 })) {
 *   console.log(await future);
 * }
 * ```
 */
export function asCompleted<F extends Future<unknown>>(
  futures: Iterable<F>,
  options: AsCompletedOptions = {},
): AsyncIterableIterator<F> {
  const { timeoutMs } = checkOptions(options, ['timeoutMs'], 'asCompleted()');
  if (timeoutMs !== undefined) checkTimeout(timeoutMs);
  const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  const pending = futureSet(futures, 'asCompleted()');
  const total = pending.size;
  const queue = new CompletionQueue();
  // Install before reading states so that a future finishing in between is not missed.
  for (const f of pending) f._addWaiter(queue);
  const alreadyDone = [...pending].filter(isSettled);
  return new CompletedIterator(pending, total, alreadyDone, queue, deadline);
}

/**
 * A hand-written iterator rather than an async generator: `yield` in an async generator awaits
 * its operand, and a Future is awaitable, so a generator would yield results, not futures.
 */
class CompletedIterator<F extends Future<unknown>> implements AsyncIterableIterator<F> {
  #alreadyDone: F[];
  /** The last next() call, settled or not. */
  #previous: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pending: Set<F>,
    private readonly total: number,
    alreadyDone: F[],
    private readonly queue: CompletionQueue,
    private readonly deadline: number | undefined,
  ) {
    this.#alreadyDone = alreadyDone.reverse();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<F>> {
    // Overlapping calls (`Promise.all([it.next(), it.next()])`) take turns, as an async
    // generator's do; otherwise each would replace the one before as the queue's wake-up, and
    // that one would never settle.
    const result = this.#previous.then(() => this.#next());
    this.#previous = result.catch(() => {});
    return result;
  }

  async #next(): Promise<IteratorResult<F>> {
    try {
      return this.#yield(this.#alreadyDone.pop()) ?? (await this.#nextCompleted());
    } catch (error) {
      this.#stop();
      throw error;
    }
  }

  async return(): Promise<IteratorResult<F>> {
    this.#stop();
    return { done: true, value: undefined };
  }

  #yield(f: F | undefined): IteratorResult<F> | undefined {
    if (f === undefined || !this.pending.delete(f)) return undefined;
    f._removeWaiter(this.queue);
    return { done: false, value: f };
  }

  async #nextCompleted(): Promise<IteratorResult<F>> {
    while (this.pending.size > 0) {
      const result = this.#yield(this.queue.finished.shift() as F | undefined);
      if (result !== undefined) return result;
      if (this.queue.finished.length > 0) continue;
      const remaining = this.deadline === undefined ? undefined : this.deadline - performance.now();
      if (remaining !== undefined && remaining <= 0) {
        throw new TimeoutError(`${this.pending.size} (of ${this.total}) futures unfinished`);
      }
      await new Promise<void>((resolve) => {
        // The loop measures the time left again, so a capped timer only means one more turn.
        const timer =
          remaining === undefined
            ? undefined
            : setTimeout(resolve, Math.min(remaining, MAX_TIMER_MS));
        this.queue.wake = () => {
          this.queue.wake = undefined;
          if (timer !== undefined) clearTimeout(timer);
          resolve();
        };
      });
      this.queue.wake = undefined;
    }
    this.#stop();
    return { done: true, value: undefined };
  }

  #stop(): void {
    for (const f of this.pending) f._removeWaiter(this.queue);
    this.pending.clear();
    this.#alreadyDone = [];
    // A next() still waiting (return() called meanwhile) ends now.
    this.queue.wake?.();
  }
}
