/**
 * `retry(options)`: tenacity's model. After each attempt a predicate (`retryIf`) decides whether
 * the outcome deserves another try; if so a wait strategy picks the sleep, a stop strategy may
 * give up, and the hooks see everything through one {@link RetryState}.
 */

import { checkOptionFunction, DecoratorsError, InvalidOptionError } from './errors.js';
import { exceptionsOnly, retryIfAny, retryIfException } from './retry-if.js';
import type {
  Attempt,
  Outcome,
  RetryPredicate,
  RetryState,
  StopStrategy,
  WaitStrategy,
} from './retry-state.js';
import {
  sleep as defaultSleep,
  findSignal,
  type LinkedSignal,
  linkSignals,
  type Sleep,
} from './signal.js';
import { stopAfterAttempt } from './stop.js';
import { isThenable } from './thenable.js';
import { waitRandomExponential } from './wait.js';
import {
  type AnyFunction,
  type AsyncDecorator,
  controlOf,
  makeDecorator,
  registerControl,
} from './wrap.js';

/** A hook called with the retry state; may return a promise, which is awaited. */
export type RetryHook = (state: RetryState) => void | PromiseLike<void>;

/** Options of {@link retry}. Every one is optional; the defaults are safe, not "forever". */
export interface RetryOptions {
  /** When to give up (default `stopAfterAttempt(3)`). */
  stop?: StopStrategy;
  /** How long to sleep between attempts (default `waitRandomExponential()`: 100 ms doubling, full jitter, at most 30 s). */
  wait?: WaitStrategy;
  /** Which outcomes to retry; an array means "any of them" (default: every thrown error). */
  retryIf?: RetryPredicate | readonly RetryPredicate[];
  /** Called before each attempt. */
  before?: RetryHook;
  /** Called after each attempt, with its outcome. */
  after?: RetryHook;
  /** Called before each sleep, with `nextDelayMs` set. */
  beforeSleep?: RetryHook;
  /** Called once when the stop strategy gives up, before the error is thrown. */
  onGiveUp?: RetryHook;
  /**
   * On giving up, rethrow the last error as is (default true). When false, or when the last
   * attempt returned a value `retryIf` rejected, a {@link RetryError} with every attempt is thrown.
   */
  reraise?: boolean;
  /**
   * Aborting it stops retrying: a pending sleep ends at once and the call rejects with
   * `signal.reason`. An `AbortSignal` among the call's own arguments (or an options argument's
   * `signal`) is honoured the same way.
   */
  signal?: AbortSignal;
  /** The sleep to use (tests pass a fake one). */
  sleep?: Sleep;
  /** The clock for `elapsedMs` and `stopAfterDelay`, in ms (default `performance.now`). */
  now?: () => number;
}

/** `retry` gave up: holds every attempt; `cause` is the last error, if the last attempt threw. */
export class RetryError<T = unknown> extends DecoratorsError {
  /** Every attempt, oldest first. */
  readonly attempts: readonly Attempt<T>[];

  constructor(name: string, attempts: readonly Attempt<T>[]) {
    const last = attempts[attempts.length - 1];
    const lastOutcome = last?.outcome;
    const why =
      lastOutcome === undefined
        ? 'no attempt was made'
        : lastOutcome.ok
          ? 'the last result was rejected by retryIf'
          : `last error: ${errorMessage(lastOutcome.error)}`;
    super(
      `${name || 'function'}() failed after ${attempts.length} attempt(s); ${why}`,
      'ERR_RETRY_EXHAUSTED',
      lastOutcome !== undefined && !lastOutcome.ok ? { cause: lastOutcome.error } : undefined,
    );
    this.attempts = attempts;
  }

  /** The last attempt. */
  get lastAttempt(): Attempt<T> | undefined {
    return this.attempts[this.attempts.length - 1];
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Counters kept per retried function (shared by all instances for a method). */
export interface RetryStats {
  /** Calls made to the wrapper. */
  calls: number;
  /** Attempts made, the first call of each included. */
  attempts: number;
  /** Attempts that were retries (`attempts - calls` when every call finished). */
  retries: number;
  /** Calls that ended with a result. */
  successes: number;
  /** Calls that ended with an error (given up, not retryable, or aborted). */
  failures: number;
  /** Milliseconds spent sleeping between attempts. */
  idleMs: number;
}

interface Config {
  stop: StopStrategy;
  wait: WaitStrategy;
  retryIf: RetryPredicate;
  before: RetryHook | undefined;
  after: RetryHook | undefined;
  beforeSleep: RetryHook | undefined;
  onGiveUp: RetryHook | undefined;
  reraise: boolean;
  signal: AbortSignal | undefined;
  sleep: Sleep;
  now: () => number;
}

interface MutableState {
  name: string;
  args: readonly unknown[];
  attempt: number;
  startedAt: number;
  elapsedMs: number;
  idleMs: number;
  outcome: Outcome | undefined;
  nextDelayMs: number | undefined;
  attempts: Attempt[];
}

function configure(options: RetryOptions): Config {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('retry(options): options must be an object, e.g. retry({})');
  }
  for (const key of [
    'stop',
    'wait',
    'before',
    'after',
    'beforeSleep',
    'onGiveUp',
    'sleep',
    'now',
  ]) {
    checkOptionFunction('retry(options)', key, options[key as keyof RetryOptions]);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new InvalidOptionError('retry(options): signal must be an AbortSignal');
  }
  const retryIf = options.retryIf;
  const predicates = typeof retryIf === 'function' || retryIf === undefined ? [] : retryIf;
  if (!Array.isArray(predicates) || predicates.some((p) => typeof p !== 'function')) {
    throw new InvalidOptionError(
      'retry(options): retryIf must be a predicate or an array of predicates, e.g. retryIfException(HttpError)',
    );
  }
  return {
    stop: options.stop ?? stopAfterAttempt(3),
    wait: options.wait ?? waitRandomExponential(),
    retryIf:
      retryIf === undefined
        ? retryIfException()
        : typeof retryIf === 'function'
          ? retryIf
          : retryIfAny(...retryIf),
    before: options.before,
    after: options.after,
    beforeSleep: options.beforeSleep,
    onGiveUp: options.onGiveUp,
    reraise: options.reraise ?? true,
    signal: options.signal,
    sleep: options.sleep ?? defaultSleep,
    now: options.now ?? (() => performance.now()),
  };
}

function checkDelay(name: string, delay: number): number {
  if (typeof delay !== 'number' || !(delay >= 0) || delay === Number.POSITIVE_INFINITY) {
    throw new InvalidOptionError(
      `retry of ${name}(): the wait strategy returned ${String(delay)}; it must return a finite number of ms >= 0`,
    );
  }
  return delay;
}

async function attemptOnce(fn: AnyFunction, self: unknown, args: unknown[]): Promise<Outcome> {
  try {
    return { ok: true, value: await fn.apply(self, args) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** One retried call: who to call, with what, and what is known so far. */
interface Call {
  fn: AnyFunction;
  self: unknown;
  args: unknown[];
  name: string;
  signal: AbortSignal | undefined;
  startedAt: number;
}

/**
 * The retry loop. `first` is the outcome of a first attempt already made by the wrapper's fast
 * path (which skips building any state while calls succeed).
 */
async function run(c: Config, stats: RetryStats, call: Call, first?: Outcome): Promise<unknown> {
  const { fn, self, args, name, signal, startedAt } = call;
  const state: MutableState = {
    name,
    args,
    attempt: 0,
    startedAt,
    elapsedMs: 0,
    idleMs: 0,
    outcome: undefined,
    nextDelayMs: undefined,
    attempts: [],
  };
  for (;;) {
    state.attempt++;
    state.nextDelayMs = undefined;
    let outcome: Outcome;
    let attemptStart = startedAt;
    if (state.attempt === 1 && first !== undefined) {
      outcome = first;
    } else {
      signal?.throwIfAborted();
      stats.attempts++;
      if (state.attempt > 1) stats.retries++;
      if (c.before) await c.before(state);
      if (state.attempt > 1) attemptStart = c.now();
      outcome = await attemptOnce(fn, self, args);
    }
    const attemptEnd = c.now();
    state.outcome = outcome;
    state.elapsedMs = attemptEnd - startedAt;
    state.attempts.push({
      number: state.attempt,
      outcome,
      startedAt: attemptStart,
      durationMs: attemptEnd - attemptStart,
    });
    if (c.after) await c.after(state);
    // An aborted call is final whatever retryIf says: the caller no longer wants the result.
    // A failure then rejects with the abort's reason (what the caller asked for, and what a
    // pending sleep would have rejected with), not with whatever the attempt happened to throw.
    if (signal?.aborted) {
      if (outcome.ok) return outcome.value;
      throw signal.reason;
    }
    if (!c.retryIf(state)) {
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    }
    const delay = checkDelay(name, c.wait(state));
    state.nextDelayMs = delay;
    if (c.stop(state)) {
      if (c.onGiveUp) await c.onGiveUp(state);
      if (c.reraise && !outcome.ok) throw outcome.error;
      throw new RetryError(name, state.attempts);
    }
    if (c.beforeSleep) await c.beforeSleep(state);
    if (delay > 0) await c.sleep(delay, signal);
    state.idleMs += delay;
    stats.idleMs += delay;
  }
}

/**
 * The signal that cancels a call: the options' one, the call's own one, or, when there are
 * both, a link to both that the caller must dispose of when the call ends.
 */
function signalFor(
  configured: AbortSignal | undefined,
  args: unknown[],
): { signal: AbortSignal | undefined; link: LinkedSignal | undefined } {
  const own = args.length === 0 ? undefined : findSignal(args);
  if (own === undefined || configured === undefined) {
    return { signal: own ?? configured, link: undefined };
  }
  const link = linkSignals(new AbortController(), [configured, own]);
  return { signal: link.signal, link };
}

/**
 * Retries a failing call, tenacity style. Every option is optional: by default it makes at most
 * 3 attempts, retries on any thrown error, sleeps with exponential backoff and full jitter, and
 * rethrows the last error. The wrapped function always returns a promise, so on methods it only
 * accepts async methods (a compile-time error otherwise).
 *
 * @example
 * class Api {
 *   @retry({ stop: stopAfterAttempt(5), wait: waitRetryAfter(waitRandomExponential()) })
 *   async fetchPage(url: string, signal?: AbortSignal): Promise<string> { ... }
 * }
 * const load = retry({ retryIf: retryIfException(NetworkError) })(fetchJson);
 */
export function retry(options: RetryOptions = {}): AsyncDecorator {
  const config = configure(options);
  // Without hooks around attempts, and when results are never retried, a successful first
  // attempt can return at once.
  const fastFirstAttempt =
    config.before === undefined && config.after === undefined && exceptionsOnly(config.retryIf);
  return makeDecorator('@retry()', (fn, info) => {
    const stats: RetryStats = {
      calls: 0,
      attempts: 0,
      retries: 0,
      successes: 0,
      failures: 0,
      idleMs: 0,
    };
    const settle = async (
      call: Call,
      first: Outcome | undefined,
      link?: LinkedSignal,
    ): Promise<unknown> => {
      try {
        const value = await run(config, stats, call, first);
        stats.successes++;
        return value;
      } catch (error) {
        stats.failures++;
        throw error;
      } finally {
        link?.dispose();
      }
    };
    const succeeded = (value: unknown) => {
      stats.successes++;
      return value;
    };
    const wrapper = function (this: unknown, ...args: unknown[]): Promise<unknown> {
      stats.calls++;
      const { signal, link } = signalFor(config.signal, args);
      if (signal?.aborted) {
        link?.dispose();
        stats.failures++;
        return Promise.reject(signal.reason);
      }
      const call: Call = { fn, self: this, args, name: info.name, signal, startedAt: config.now() };
      if (!fastFirstAttempt || link !== undefined) return settle(call, undefined, link);
      // The common case, kept cheap: a first attempt that succeeds needs no retry state at all.
      stats.attempts++;
      let result: unknown;
      try {
        result = fn.apply(this, args);
      } catch (error) {
        return settle(call, { ok: false, error });
      }
      if (!isThenable(result)) return Promise.resolve(succeeded(result));
      return Promise.resolve(result).then(succeeded, (error: unknown) =>
        settle(call, { ok: false, error }),
      );
    };
    registerControl(wrapper, 'retry', stats);
    return wrapper;
  }) as AsyncDecorator;
}

/**
 * The counters of a retried function or method (a snapshot): calls, attempts, retries,
 * successes, failures and time spent sleeping. Like tenacity's `fn.statistics`.
 *
 * @example
 * const get = retry()(fetchJson);
 * await get(url);
 * retryStats(get).retries; // 0 if the first attempt worked
 */
export function retryStats(fn: AnyFunction): RetryStats {
  return { ...controlOf<RetryStats>(fn, 'retry', 'retryStats(fn)') };
}
