import { ScrapeError } from './errors.js';

/** How failed requests are retried. */
export interface RetryPolicy {
  /** Retries after the first attempt. Default 3. */
  retries: number;
  /** First backoff for 5xx and network errors, doubled each time (with jitter). Default 250 ms. */
  baseDelayMs: number;
  /** Longest wait accepted, from `Retry-After` or backoff; a longer `Retry-After` fails the request. Default 60 s. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseDelayMs: 250, maxDelayMs: 60_000 };

/** Statuses that mean "slow down, try again": these honour `Retry-After` and pause the host. */
const SLOW_DOWN = new Set([429, 503]);
const TRANSIENT = new Set([408, 500, 502, 504]);

/**
 * How long to wait before retry number `attempt` (0-based) after `error`, or `null` when the
 * error is final. A 429/503 waits what `Retry-After` says (or the backoff when it says nothing).
 */
export function retryDelay(error: unknown, attempt: number, policy: RetryPolicy): number | null {
  if (attempt >= policy.retries || !(error instanceof ScrapeError)) return null;
  const backoff = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * 2 ** attempt * (0.75 + Math.random() / 2),
  );
  if (error.code === 'ERR_SCRAPE_HTTP' && error.status !== undefined) {
    if (SLOW_DOWN.has(error.status)) {
      const asked = error.retryAfterMs;
      if (asked === undefined) return backoff;
      return asked <= policy.maxDelayMs ? asked : null;
    }
    return TRANSIENT.has(error.status) ? backoff : null;
  }
  return error.code === 'ERR_SCRAPE_NETWORK' || error.code === 'ERR_SCRAPE_TIMEOUT'
    ? backoff
    : null;
}

/** True when the server asked the whole host to slow down (so all its requests should wait). */
export function isSlowDown(error: unknown): boolean {
  return error instanceof ScrapeError && error.status !== undefined && SLOW_DOWN.has(error.status);
}
