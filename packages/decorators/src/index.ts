/**
 * @forage/decorators: Python-style decorators for TypeScript. Each export works as a standard
 * method decorator, as a legacy `experimentalDecorators` method decorator and as a higher-order
 * function on a plain function.
 */
export { type CacheInfo, type CacheOptions, cache, cacheClear, cacheInfo } from './cache.js';
export {
  CancelledError,
  ConcurrencyLimitError,
  DecoratorsError,
  DecoratorTargetError,
  InvalidOptionError,
  TimeoutError,
} from './errors.js';
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
} from './wrap.js';
