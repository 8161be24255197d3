/**
 * Wait strategies for `retry`: how long to sleep before the next attempt, in milliseconds. Each
 * is a plain function of the retry state; {@link waitChain} and {@link waitCombine} compose them.
 */
import { checkFunctionList, InvalidOptionError } from './errors.js';
import type { RetryState, WaitStrategy } from './retry-state.js';

function check(api: string, name: string, value: number, min = 0): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min) {
    throw new InvalidOptionError(
      `${api}: ${name} must be a number >= ${min}, got ${String(value)}`,
    );
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

/**
 * Always waits `ms`.
 *
 * @example retry({ wait: waitFixed(500) })
 */
export function waitFixed(ms: number): WaitStrategy {
  check('waitFixed(ms)', 'ms', ms);
  return () => ms;
}

/**
 * Waits a uniformly random time between `minMs` and `maxMs`.
 *
 * @example retry({ wait: waitRandom(100, 400) })
 */
export function waitRandom(minMs: number, maxMs: number): WaitStrategy {
  check('waitRandom(minMs, maxMs)', 'minMs', minMs);
  check('waitRandom(minMs, maxMs)', 'maxMs', maxMs, minMs);
  return () => minMs + Math.random() * (maxMs - minMs);
}

/** Options of {@link waitIncrementing}. */
export interface WaitIncrementingOptions {
  /** The first wait, in ms (default 0). */
  start?: number;
  /** Added for each further retry, in ms (default 100). */
  increment?: number;
  /** The cap, in ms (default no cap). */
  max?: number;
}

/**
 * Waits `start`, then `start + increment`, `start + 2 * increment`, ... up to `max`.
 *
 * @example retry({ wait: waitIncrementing({ start: 100, increment: 100, max: 1_000 }) })
 */
export function waitIncrementing(options: WaitIncrementingOptions = {}): WaitStrategy {
  const { start = 0, increment = 100, max = Number.POSITIVE_INFINITY } = options;
  check('waitIncrementing()', 'start', start);
  check('waitIncrementing()', 'increment', increment);
  check('waitIncrementing()', 'max', max);
  return (state) => clamp(start + increment * (state.attempt - 1), 0, max);
}

/** Options of {@link waitExponential} and {@link waitRandomExponential}. */
export interface WaitExponentialOptions {
  /** The first wait, in ms: the wait is `multiplier * base ** (attempt - 1)` (default 100). */
  multiplier?: number;
  /** The smallest wait, in ms (default 0). */
  min?: number;
  /** The largest wait, in ms (default 30 000). */
  max?: number;
  /** The growth factor (default 2). */
  base?: number;
}

function exponential(api: string, options: WaitExponentialOptions) {
  const { multiplier = 100, min = 0, max = 30_000, base = 2 } = options;
  check(api, 'multiplier', multiplier);
  check(api, 'min', min);
  check(api, 'max', max, min);
  check(api, 'base', base, 1);
  return {
    min,
    at: (state: RetryState) => {
      const raw = multiplier * base ** (state.attempt - 1);
      return clamp(Number.isFinite(raw) ? raw : max, min, max);
    },
  };
}

/**
 * Exponential backoff: `multiplier * base ** (attempt - 1)` ms, clamped to `[min, max]`.
 *
 * @example retry({ wait: waitExponential({ multiplier: 200, max: 10_000 }) })
 */
export function waitExponential(options: WaitExponentialOptions = {}): WaitStrategy {
  return exponential('waitExponential()', options).at;
}

/**
 * Exponential backoff with full jitter: a uniformly random wait between `min` and the
 * exponential wait (AWS's "full jitter", tenacity's `wait_random_exponential`). The best default
 * when many clients retry the same server.
 *
 * @example retry({ wait: waitRandomExponential({ multiplier: 500, max: 60_000 }) })
 */
export function waitRandomExponential(options: WaitExponentialOptions = {}): WaitStrategy {
  const { min, at } = exponential('waitRandomExponential()', options);
  return (state) => min + Math.random() * (at(state) - min);
}

/**
 * Uses the first strategy for the first retry, the second for the second, ..., and the last
 * one for every retry after that.
 *
 * @example retry({ wait: waitChain(waitFixed(100), waitFixed(100), waitFixed(1_000)) })
 */
export function waitChain(...strategies: WaitStrategy[]): WaitStrategy {
  if (strategies.length === 0) {
    throw new InvalidOptionError('waitChain(...strategies): pass at least one wait strategy');
  }
  checkFunctionList('waitChain(...strategies)', strategies);
  return (state) => {
    const index = Math.min(state.attempt - 1, strategies.length - 1);
    return (strategies[index] as WaitStrategy)(state);
  };
}

/**
 * Adds the waits of several strategies (tenacity's `wait_combine`, or `+`).
 *
 * @example retry({ wait: waitCombine(waitFixed(1_000), waitRandom(0, 500)) })
 */
export function waitCombine(...strategies: WaitStrategy[]): WaitStrategy {
  checkFunctionList('waitCombine(...strategies)', strategies);
  return (state) => strategies.reduce((sum, wait) => sum + wait(state), 0);
}

/** Options of {@link waitRetryAfter}. */
export interface WaitRetryAfterOptions {
  /** Never wait longer than this, in ms, whatever the server says (default 5 minutes). */
  max?: number;
}

/** Parses a `Retry-After` value: delta-seconds or an HTTP date. */
function parseRetryAfter(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value * 1000 : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : date - Date.now();
}

function headerOf(headers: unknown): unknown {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') return get.call(headers, 'retry-after') ?? undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'retry-after') return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/**
 * The delay an error asks for, in ms: its `retryAfterMs`, its `retryAfter` (seconds or an HTTP
 * date), or a `Retry-After` header on `error.headers` or `error.response.headers`.
 */
export function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as {
    retryAfterMs?: unknown;
    retryAfter?: unknown;
    headers?: unknown;
    response?: { headers?: unknown };
  };
  if (typeof e.retryAfterMs === 'number' && Number.isFinite(e.retryAfterMs)) return e.retryAfterMs;
  return (
    parseRetryAfter(e.retryAfter) ??
    parseRetryAfter(headerOf(e.headers)) ??
    parseRetryAfter(headerOf(e.response?.headers))
  );
}

/**
 * Honours the server: waits what the error says (`retryAfterMs`, `retryAfter`, or a
 * `Retry-After` header, see {@link retryAfterOf}), capped at `max`; when the error says
 * nothing, waits what `fallback` says.
 *
 * @example retry({ wait: waitRetryAfter(waitRandomExponential()) })
 */
export function waitRetryAfter(
  fallback: WaitStrategy = waitRandomExponential(),
  options: WaitRetryAfterOptions = {},
): WaitStrategy {
  checkFunctionList('waitRetryAfter(fallback)', [fallback]);
  const { max = 300_000 } = options;
  check('waitRetryAfter()', 'max', max);
  return (state) => {
    const outcome = state.outcome;
    const asked = outcome && !outcome.ok ? retryAfterOf(outcome.error) : undefined;
    return asked === undefined ? fallback(state) : clamp(asked, 0, max);
  };
}
