/**
 * Retry predicates for `retry`: which outcomes deserve another attempt. Each is a plain function
 * of the retry state; {@link retryIfAny} and {@link retryIfAll} compose them.
 */
import { checkFunctionList, InvalidOptionError } from './errors.js';
import type { RetryPredicate } from './retry-state.js';

type ErrorClass = abstract new (...args: any[]) => unknown;

/** An error class, or a predicate over the thrown value. */
export type ErrorMatcher = ErrorClass | ((error: unknown) => boolean);

/** Predicates that never retry a returned value, so a success is always final. */
const EXCEPTIONS_ONLY = new WeakSet<RetryPredicate>();

/** True when `predicate` is known to retry only errors (built from retryIfException). */
export function exceptionsOnly(predicate: RetryPredicate): boolean {
  return EXCEPTIONS_ONLY.has(predicate);
}

function markExceptionsOnly(predicate: RetryPredicate): RetryPredicate {
  EXCEPTIONS_ONLY.add(predicate);
  return predicate;
}

/**
 * Error classes, and any other `class` (thrown values need not be Errors; calling a class as a
 * predicate would throw a TypeError in place of the attempt's error), match by `instanceof`.
 */
function isErrorClass(matcher: ErrorMatcher): matcher is ErrorClass {
  return (
    typeof matcher === 'function' &&
    (matcher === Error ||
      (matcher.prototype as unknown) instanceof Error ||
      Function.prototype.toString.call(matcher).startsWith('class'))
  );
}

/**
 * Retries when the attempt threw and the error matches any of `matchers` (an error class, or
 * a predicate over the error). With no matchers, retries on every error.
 *
 * @example retry({ retryIf: retryIfException(FetchError, (e) => (e as HttpError).status >= 500) })
 */
export function retryIfException(...matchers: ErrorMatcher[]): RetryPredicate {
  for (const matcher of matchers) {
    if (typeof matcher !== 'function') {
      throw new InvalidOptionError(
        `retryIfException(...matchers): expected an error class or a predicate, got ${typeof matcher}`,
      );
    }
  }
  const tests = matchers.map((matcher) =>
    isErrorClass(matcher)
      ? (error: unknown) => error instanceof matcher
      : (matcher as (error: unknown) => boolean),
  );
  return markExceptionsOnly((state) => {
    const outcome = state.outcome;
    if (outcome === undefined || outcome.ok) return false;
    return tests.length === 0 || tests.some((test) => test(outcome.error));
  });
}

/**
 * Retries when the attempt returned a value for which `predicate` is true (for example an
 * empty page that should be asked again).
 *
 * @example retry({ retryIf: retryIfResult((page) => page === undefined) })
 */
export function retryIfResult<T = unknown>(predicate: (value: T) => boolean): RetryPredicate {
  if (typeof predicate !== 'function') {
    throw new InvalidOptionError('retryIfResult(predicate): predicate must be a function');
  }
  return (state) => {
    const outcome = state.outcome;
    return outcome?.ok === true && predicate(outcome.value as T);
  };
}

/**
 * Retries when any of the predicates says so (tenacity's `retry_any`, or `|`).
 *
 * @example retryIfAny(retryIfException(), retryIfResult((v) => v === null))
 */
export function retryIfAny(...predicates: RetryPredicate[]): RetryPredicate {
  checkFunctionList('retryIfAny(...predicates)', predicates);
  const any: RetryPredicate = (state) => predicates.some((predicate) => predicate(state));
  return predicates.every(exceptionsOnly) ? markExceptionsOnly(any) : any;
}

/**
 * Retries only when all of the predicates say so (tenacity's `retry_all`, or `&`).
 *
 * @example retryIfAll(retryIfException(HttpError), retryIfException((e) => isTransient(e)))
 */
export function retryIfAll(...predicates: RetryPredicate[]): RetryPredicate {
  checkFunctionList('retryIfAll(...predicates)', predicates);
  const all: RetryPredicate = (state) =>
    predicates.length > 0 && predicates.every((predicate) => predicate(state));
  return predicates.length > 0 && predicates.some(exceptionsOnly) ? markExceptionsOnly(all) : all;
}
