import {
  type RetryOptions,
  type RetryState,
  retryIfException,
  stopAfterAttempt,
  waitRandomExponential,
  waitRetryAfter,
} from '@forage/decorators';
import { ScrapeError } from './errors.js';

/** How failed requests are retried. */
export interface RetryPolicy {
  /** Retries after the first attempt. Default 3. */
  retries: number;
  /** Backoff scale for 5xx and network errors: full-jitter exponential from this many ms. Default 250. */
  baseDelayMs: number;
  /** Longest wait accepted; a `Retry-After` asking for more fails the request instead. Default 60 s. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseDelayMs: 250, maxDelayMs: 60_000 };

/** Statuses that mean "slow down, try again": these honour `Retry-After` and pause the host. */
const SLOW_DOWN = new Set([429, 503]);
const TRANSIENT = new Set([408, 500, 502, 504]);

/**
 * Whether a failed request is worth another attempt: 429/503 (unless `Retry-After` asks for
 * longer than the policy allows), 408/500/502/504, timeouts and network errors. 404s, robots,
 * size and redirect limits are final.
 */
export function isRetryable(error: unknown, policy: RetryPolicy): boolean {
  if (!(error instanceof ScrapeError)) return false;
  if (error.code === 'ERR_SCRAPE_HTTP' && error.status !== undefined) {
    if (SLOW_DOWN.has(error.status)) return (error.retryAfterMs ?? 0) <= policy.maxDelayMs;
    return TRANSIENT.has(error.status);
  }
  return error.code === 'ERR_SCRAPE_NETWORK' || error.code === 'ERR_SCRAPE_TIMEOUT';
}

/**
 * Whether a request that failed for good in this run may pass in a later one: the failures
 * {@link isRetryable} retries (429/503 also when their `Retry-After` was too long to wait for),
 * that is, a server or network that is down for now. A scrape journals such a page as failed,
 * and a rerun tries it again. 404, 410 and other 4xx, robots, size and redirect limits are final.
 */
export function isTemporary(error: unknown): boolean {
  if (!(error instanceof ScrapeError)) return false;
  if (error.code === 'ERR_SCRAPE_HTTP' && error.status !== undefined)
    return SLOW_DOWN.has(error.status) || TRANSIENT.has(error.status);
  return error.code === 'ERR_SCRAPE_NETWORK' || error.code === 'ERR_SCRAPE_TIMEOUT';
}

/** True when the server asked the whole host to slow down (so all its requests should wait). */
export function isSlowDown(error: unknown): boolean {
  return error instanceof ScrapeError && error.status !== undefined && SLOW_DOWN.has(error.status);
}

/**
 * The `@forage/decorators` `retry` options for a policy: stop after `retries` retries, wait
 * what `Retry-After` says (the `retryAfterMs` of a {@link ScrapeError}) or else a full-jitter
 * exponential backoff, and retry only what {@link isRetryable} allows.
 */
export function retryOptions(
  policy: RetryPolicy,
  hooks: {
    shouldStop: () => boolean;
    beforeSleep: (error: unknown, delayMs: number, state: RetryState) => void;
    signal: AbortSignal;
  },
): RetryOptions {
  return {
    stop: stopAfterAttempt(policy.retries + 1),
    wait: waitRetryAfter(
      waitRandomExponential({ multiplier: policy.baseDelayMs, max: policy.maxDelayMs }),
      { max: policy.maxDelayMs },
    ),
    retryIf: retryIfException((error) => !hooks.shouldStop() && isRetryable(error, policy)),
    beforeSleep: (state) => {
      const outcome = state.outcome;
      if (outcome && !outcome.ok) hooks.beforeSleep(outcome.error, state.nextDelayMs ?? 0, state);
    },
    signal: hooks.signal,
  };
}
