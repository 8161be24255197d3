/**
 * `Future`: the eventual result of a task, with CPython's state machine
 * (PENDING -> RUNNING -> FINISHED, or PENDING -> CANCELLED -> CANCELLED_AND_NOTIFIED).
 */
import { CancelledError, InvalidStateError, invalidArgType, TimeoutError } from './errors.js';
import { after } from './timer.js';

/** The states a future moves through; `CANCELLED_AND_NOTIFIED` is set by the executor. */
export type FutureState =
  | 'PENDING'
  | 'RUNNING'
  | 'CANCELLED'
  | 'CANCELLED_AND_NOTIFIED'
  | 'FINISHED';

/** A callback registered with {@link Future.addDoneCallback}. */
export type DoneCallback<T> = (future: Future<T>) => void;

/**
 * Observes futures on behalf of `wait()` and `asCompleted()` (CPython's `_Waiter`). Executors
 * never see it: the future calls it when it finishes or when the executor acknowledges a cancel.
 * @internal
 */
export interface FutureWaiter {
  addResult(future: Future<unknown>): void;
  addException(future: Future<unknown>): void;
  addCancelled(future: Future<unknown>): void;
}

const inspect = Symbol.for('nodejs.util.inspect.custom');

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object' || typeof value === 'function') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name || typeof value;
  }
  return typeof value;
}

/**
 * The eventual result of a task submitted to an executor.
 *
 * A future is awaitable: `await future` gives the result or throws the task's error. It settles
 * exactly once; `cancel()` only succeeds while the task has not started.
 *
 * @example
 * ```ts
 * const future = executor.submit((a: number, b: number) => a ** b, 2, 8);
 * future.addDoneCallback((f) => console.log('done', f.done()));
 * console.log(await future); // 256
 * ```
 */
export class Future<T = unknown> implements PromiseLike<T> {
  // Few fields, filled lazily: 200,000 queued futures should fit in a small heap.
  #state: FutureState = 'PENDING';
  /** The result, or the error if #failed. */
  #value: unknown = undefined;
  #failed = false;
  // Done callbacks (functions) and wait()/asCompleted() waiters (objects), in registration
  // order: one is stored as it is, several in an array.
  #observers: Observer | Observer[] | undefined = undefined;
  // Pending then() calls, flat: [onfulfilled, onrejected, resolve, reject, ...]. Cheaper than
  // keeping a promise per future plus its resolving functions (200,000 queued tasks add up),
  // and an unobserved failed future never becomes an unhandled rejection.
  #reactions: unknown[] | undefined = undefined;

  /** The current state (CPython keeps it in `_state`). */
  get state(): FutureState {
    return this.#state;
  }

  /**
   * Cancels the task if it has not started. Returns `true` if the future is now cancelled
   * (including when it already was), `false` if it is running or finished.
   */
  cancel(): boolean {
    const state = this.#state;
    if (state === 'RUNNING' || state === 'FINISHED') return false;
    if (state === 'CANCELLED' || state === 'CANCELLED_AND_NOTIFIED') return true;
    this.#state = 'CANCELLED';
    this.#settlePromise(false, new CancelledError());
    this.#invokeCallbacks();
    return true;
  }

  /** `true` if the future was cancelled. */
  cancelled(): boolean {
    return this.#state === 'CANCELLED' || this.#state === 'CANCELLED_AND_NOTIFIED';
  }

  /** `true` while the task is running (it can no longer be cancelled). */
  running(): boolean {
    return this.#state === 'RUNNING';
  }

  /** `true` once the future finished or was cancelled. */
  done(): boolean {
    return this.#state !== 'PENDING' && this.#state !== 'RUNNING';
  }

  /**
   * Waits for the task and returns its result.
   * @param timeoutMs how long to wait; omit to wait forever. `0` only checks.
   * @throws {@link CancelledError} if the future was cancelled, {@link TimeoutError} if it did not
   *   finish in time, or the task's own error.
   */
  result(timeoutMs?: number): Promise<T> {
    if (this.done()) return this.#settled();
    if (timeoutMs !== undefined && checkTimeout(timeoutMs) <= 0) {
      return Promise.reject(new TimeoutError(`the future did not finish within ${timeoutMs} ms`));
    }
    return withTimeout(this.#settled(), timeoutMs);
  }

  /**
   * Waits for the task and returns the error it raised, or `undefined` if it succeeded.
   * @throws {@link CancelledError} if the future was cancelled, {@link TimeoutError} on timeout.
   */
  exception(timeoutMs?: number): Promise<unknown> {
    return this.result(timeoutMs).then(
      () => undefined,
      (error: unknown) => {
        if (this.#failed) return error;
        throw error;
      },
    );
  }

  /**
   * Calls `fn(future)` when the future finishes or is cancelled, in registration order; at once
   * if it is already done. An error thrown by `fn` is logged and ignored, as in CPython.
   */
  addDoneCallback(fn: DoneCallback<T>): void {
    // Checked now: anything else stored among the observers would be taken for a waiter, and
    // settling the future would throw in the executor (and never wake `await future`).
    if (typeof fn !== 'function') {
      throw invalidArgType(
        `addDoneCallback() needs a function, got ${fn === null ? 'null' : typeof fn}`,
      );
    }
    if (this.done()) {
      runCallback(fn, this);
      return;
    }
    this.#observe(fn);
  }

  /** Makes the future awaitable: `await future` gives the result. */
  // biome-ignore lint/suspicious/noThenProperty: a Future is deliberately a thenable.
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if (this.done()) return this.#settled().then(onfulfilled, onrejected);
    return new Promise<R1 | R2>((resolve, reject) => {
      // An exact-size literal for the usual single reaction (`[]` + push reserves 17 slots).
      if (this.#reactions === undefined)
        this.#reactions = [onfulfilled, onrejected, resolve, reject];
      else this.#reactions.push(onfulfilled, onrejected, resolve, reject);
    });
  }

  /**
   * Executor-facing: marks the future RUNNING and returns `true`, or, if it was cancelled,
   * acknowledges the cancel (waking `wait()` / `asCompleted()`) and returns `false`.
   * @throws {@link InvalidStateError} if the future is running or finished.
   */
  setRunningOrNotifyCancel(): boolean {
    if (this.#state === 'PENDING') {
      this.#state = 'RUNNING';
      return true;
    }
    if (this.#state === 'CANCELLED') {
      this.#state = 'CANCELLED_AND_NOTIFIED';
      this.#notifyWaiters('addCancelled');
      return false;
    }
    throw new InvalidStateError(`Future in unexpected state: ${this.toString()}`);
  }

  /**
   * Executor-facing: stores the task's result and wakes everything waiting.
   * @throws {@link InvalidStateError} if the future is already done.
   */
  setResult(value: T): void {
    this.#assertNotDone();
    this.#value = value;
    this.#state = 'FINISHED';
    this.#notifyWaiters('addResult');
    this.#settlePromise(true, value);
    this.#invokeCallbacks();
  }

  /**
   * Executor-facing: stores the task's error and wakes everything waiting.
   * @throws {@link InvalidStateError} if the future is already done.
   */
  setException(error: unknown): void {
    this.#assertNotDone();
    this.#value = error;
    this.#failed = true;
    this.#state = 'FINISHED';
    this.#notifyWaiters('addException');
    this.#settlePromise(false, error);
    this.#invokeCallbacks();
  }

  /**
   * For an executor taking this future's task from its queue: marks it RUNNING and returns
   * `true` if the task should run now. `false` if it was cancelled (acknowledged here, as
   * {@link setRunningOrNotifyCancel} does) or if the caller has taken it over by hand (marked it
   * running, acknowledged a cancel or settled it: those methods are public), in which case the
   * executor leaves it alone instead of failing on its state. @internal
   */
  _start(): boolean {
    const state = this.#state;
    if (state === 'PENDING' || state === 'CANCELLED') return this.setRunningOrNotifyCancel();
    return false;
  }

  /** `true` if the future finished with an error (used by `wait(FIRST_EXCEPTION)`). @internal */
  _failed(): boolean {
    return this.#failed;
  }

  /** The result of a successfully finished future, without waiting (for `map()`). @internal */
  _value(): T | undefined {
    return this.#failed ? undefined : (this.#value as T);
  }

  /** @internal */
  _addWaiter(waiter: FutureWaiter): void {
    this.#observe(waiter);
  }

  /** @internal */
  _removeWaiter(waiter: FutureWaiter): void {
    const observers = this.#observers;
    if (observers === waiter) this.#observers = undefined;
    else if (Array.isArray(observers)) {
      const index = observers.indexOf(waiter);
      if (index !== -1) observers.splice(index, 1);
    }
  }

  /** Renders like CPython's repr: `<Future state=finished returned number>`. */
  toString(): string {
    switch (this.#state) {
      case 'FINISHED':
        return this.#failed
          ? `<Future state=finished raised ${describeValue(this.#value)}>`
          : `<Future state=finished returned ${describeValue(this.#value)}>`;
      case 'CANCELLED_AND_NOTIFIED':
        return '<Future state=cancelled>';
      default:
        return `<Future state=${this.#state.toLowerCase()}>`;
    }
  }

  [inspect](): string {
    return this.toString();
  }

  #assertNotDone(): void {
    if (this.done()) throw new InvalidStateError(`${this.#state}: ${this.toString()}`);
  }

  #settled(): Promise<T> {
    switch (this.#state) {
      case 'FINISHED':
        return this.#failed ? Promise.reject(this.#value) : Promise.resolve(this.#value as T);
      case 'CANCELLED':
      case 'CANCELLED_AND_NOTIFIED':
        return Promise.reject(new CancelledError());
      default:
        return this.then();
    }
  }

  #observe(observer: Observer): void {
    const observers = this.#observers;
    if (observers === undefined) this.#observers = observer;
    else if (Array.isArray(observers)) observers.push(observer);
    else this.#observers = [observers, observer];
  }

  #notifyWaiters(event: 'addResult' | 'addException' | 'addCancelled'): void {
    const observers = this.#observers;
    if (observers === undefined) return;
    if (!Array.isArray(observers)) {
      if (typeof observers !== 'function') observers[event](this);
      return;
    }
    for (const observer of observers) if (typeof observer !== 'function') observer[event](this);
  }

  // Runs the pending then() reactions, all in one microtask (as promise reactions would).
  #settlePromise(ok: boolean, value: unknown): void {
    const reactions = this.#reactions;
    if (reactions === undefined) return;
    this.#reactions = undefined;
    queueMicrotask(() => runReactions(reactions, ok, value));
  }

  // Callbacks run once; waiters stay registered (a cancelled future notifies them again when
  // the executor acknowledges the cancel).
  #invokeCallbacks(): void {
    const observers = this.#observers;
    if (typeof observers === 'function') {
      this.#observers = undefined;
      runCallback(observers, this);
      return;
    }
    if (!Array.isArray(observers)) return;
    const waiters = observers.filter((observer) => typeof observer !== 'function');
    this.#observers = waiters.length > 1 ? waiters : waiters[0];
    for (const observer of observers) {
      if (typeof observer === 'function') runCallback(observer, this);
    }
  }
}

type Resolve = (value: unknown) => void;
// Stored without T so that Future<T> stays covariant (a Future<number> is a Future<unknown>).
type Observer = DoneCallback<any> | FutureWaiter;

function runReactions(reactions: unknown[], ok: boolean, value: unknown): void {
  for (let i = 0; i < reactions.length; i += 4) {
    const handler = reactions[ok ? i : i + 1];
    const resolve = reactions[i + 2] as Resolve;
    const reject = reactions[i + 3] as Resolve;
    if (typeof handler !== 'function') {
      if (ok) resolve(value);
      else reject(value);
      continue;
    }
    try {
      resolve(handler(value));
    } catch (error) {
      reject(error);
    }
  }
}

function runCallback<T>(fn: DoneCallback<T>, future: Future<T>): void {
  try {
    fn(future);
  } catch (error) {
    console.error(`exception calling callback for ${future.toString()}`, error);
  }
}

/** Validates a `timeoutMs` option and returns it. */
export function checkTimeout(timeoutMs: number, name = 'timeoutMs'): number {
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) {
    throw invalidArgType(`${name} must be a number of milliseconds, got ${String(timeoutMs)}`);
  }
  return timeoutMs;
}

/** Races `promise` against a timer; `undefined` waits forever. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined || timeoutMs === Number.POSITIVE_INFINITY) return promise;
  return new Promise<T>((resolve, reject) => {
    const cancel = after(timeoutMs, () =>
      reject(new TimeoutError(`the future did not finish within ${timeoutMs} ms`)),
    );
    promise.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}
