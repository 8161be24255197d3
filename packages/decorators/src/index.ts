/**
 * @forage/decorators: Python-style decorators for TypeScript. Each export works as a standard
 * method decorator, as a legacy `experimentalDecorators` method decorator and as a higher-order
 * function on a plain function.
 */
export { type CacheInfo, type CacheOptions, cache, cacheClear, cacheInfo } from './cache.js';
export { cachedProperty, type GetterDecorator, invalidate } from './cached-property.js';
export { type ConcurrencyOptions, concurrency } from './concurrency.js';
export {
  cancel,
  type DebounceDecorator,
  type DebounceOptions,
  debounce,
  flush,
} from './debounce.js';
export { type DeprecatedOptions, deprecated } from './deprecated.js';
export {
  CancelledError,
  ConcurrencyLimitError,
  DecoratorsError,
  DecoratorTargetError,
  InvalidOptionError,
  TimeoutError,
} from './errors.js';
export { once } from './once.js';
export {
  RetryError,
  type RetryHook,
  type RetryOptions,
  type RetryStats,
  retry,
  retryStats,
} from './retry.js';
export {
  type ErrorMatcher,
  retryIfAll,
  retryIfAny,
  retryIfException,
  retryIfResult,
} from './retry-if.js';
export type {
  Attempt,
  Outcome,
  RetryPredicate,
  RetryState,
  StopStrategy,
  WaitStrategy,
} from './retry-state.js';
export { type Sleep, sleep } from './signal.js';
export { stopAfterAttempt, stopAfterDelay, stopAll, stopAny, stopBeforeDelay } from './stop.js';
export { summarize } from './summarize.js';
export { type ThrottleOptions, throttle } from './throttle.js';
export { type TimedOptions, type Timings, timed, timings } from './timed.js';
export { type TimeoutOptions, timeout } from './timeout.js';
export { type TraceEvent, type TraceLogger, type TraceOptions, trace } from './trace.js';
export {
  retryAfterOf,
  type WaitExponentialOptions,
  type WaitIncrementingOptions,
  type WaitRetryAfterOptions,
  waitChain,
  waitCombine,
  waitExponential,
  waitFixed,
  waitIncrementing,
  waitRandom,
  waitRandomExponential,
  waitRetryAfter,
} from './wait.js';
export {
  type AnyFunction,
  type AsyncDecorator,
  type Decorator,
  decorator,
  unwrap,
  type Wrap,
  type WrapInfo,
  type WrappedFunction,
} from './wrap.js';
