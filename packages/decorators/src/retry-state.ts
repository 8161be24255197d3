/** The state a retry strategy (stop, wait, retryIf) and the retry hooks see. */

/** How one attempt ended. */
export type Outcome<T = unknown> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/** One finished attempt, as kept in {@link RetryState.attempts} and `RetryError.attempts`. */
export interface Attempt<T = unknown> {
  /** 1 for the first call, 2 for the first retry, ... */
  readonly number: number;
  readonly outcome: Outcome<T>;
  /** When the attempt started, in the retry clock's milliseconds. */
  readonly startedAt: number;
  readonly durationMs: number;
}

/** Everything known about a retried call so far (tenacity's `RetryCallState`). */
export interface RetryState<T = unknown> {
  /** The name of the retried function or method. */
  readonly name: string;
  /** The arguments of the call. */
  readonly args: readonly unknown[];
  /** The number of the current (or just finished) attempt, starting at 1. */
  readonly attempt: number;
  /** When the first attempt started, in the retry clock's milliseconds. */
  readonly startedAt: number;
  /** Milliseconds since the first attempt started. */
  readonly elapsedMs: number;
  /** Milliseconds spent sleeping between attempts so far. */
  readonly idleMs: number;
  /** How the last attempt ended; undefined before the first one finishes. */
  readonly outcome: Outcome<T> | undefined;
  /** The sleep chosen before the next attempt; undefined until the wait strategy ran. */
  readonly nextDelayMs: number | undefined;
  /** Every finished attempt, oldest first. */
  readonly attempts: readonly Attempt<T>[];
}

/** Decides whether to give up (true) after a failed attempt. */
export type StopStrategy = (state: RetryState) => boolean;
/** Decides how long to sleep (ms) before the next attempt. */
export type WaitStrategy = (state: RetryState) => number;
/** Decides whether an outcome deserves another attempt (true) or is final. */
export type RetryPredicate = (state: RetryState) => boolean;
