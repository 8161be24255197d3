/**
 * The rate-limit budget: what each token may still send, per resource, according to GitHub's
 * documented limits and the `x-ratelimit-*` headers it has seen. This module is pure (time is
 * passed in), so every rule is unit-tested without a server; `scheduler.ts` turns it into
 * waiting.
 *
 * The rules (see ../shared/notes/github-api.md §3 and §4):
 * - primary: per token and resource (`core`, `graphql`), `x-ratelimit-remaining` requests until
 *   `x-ratelimit-reset`. A request is only sent when the remaining count, minus every request
 *   already in flight, allows it. When the window has passed, one probe request learns the new
 *   window before any other is sent.
 * - secondary: at most `concurrency` (<= 100) requests in flight per token, and at most 900 REST
 *   and 2,000 GraphQL points in any 60 s. A point is held from the moment a request is sent
 *   until 60 s after its response arrived: the server saw the request somewhere in between, so
 *   no 60 s window on the server can ever hold more than the limit, whatever the latency.
 * - no primary limit: a success without any `x-ratelimit-*` header while the count is unknown
 *   (GitHub Enterprise Server with rate limiting off) ends the one-probe-at-a-time rule until
 *   headers (or a spent limit) appear; the secondary limits and `retry-after` still apply.
 * - `retry-after` (on a rate-limit answer or a 5xx): nothing is sent on that token until it has
 *   passed (at most an hour).
 */

/** Which API a request goes to: REST (`core` resource) or GraphQL (`graphql` resource). */
export type ApiKind = 'rest' | 'graphql';

/** The limits the budget enforces. Defaults are GitHub's documented figures. */
export interface BudgetLimits {
  /** Requests in flight per token (GitHub: at most 100 concurrent). */
  readonly concurrency: number;
  /** Secondary limit for REST, points per window (GitHub: 900 per minute). */
  readonly restPoints: number;
  /** Secondary limit for GraphQL, points per window (GitHub: 2,000 per minute). */
  readonly graphqlPoints: number;
  /** The secondary window in milliseconds (GitHub: 60,000). */
  readonly windowMs: number;
  /** How long after `x-ratelimit-reset` the budget waits before probing the new window. */
  readonly resetMarginMs: number;
  /**
   * How long a spent primary limit waits when its reset cannot be placed on this clock: the
   * answer gave no reset, or its reset is already past here and the server's `Date` does not
   * explain it (GitHub: "wait at least one minute").
   */
  readonly unknownResetWaitMs: number;
}

/** GitHub's documented limits, with 64 requests in flight per token. */
export const githubLimits: BudgetLimits = {
  concurrency: 64,
  restPoints: 900,
  graphqlPoints: 2000,
  windowMs: 60_000,
  resetMarginMs: 1000,
  unknownResetWaitMs: 60_000,
};

/** The longest a primary window lasts (GitHub's are an hour): no estimated wait is longer. */
const longestWindowMs = 3_600_000;

/** The rate-limit headers of one response, parsed. */
export interface RateHeaders {
  readonly limit: number;
  readonly remaining: number;
  /** Window reset, UTC epoch seconds. */
  readonly reset: number;
  readonly resource?: string | undefined;
}

/** Parses `x-ratelimit-*` headers; undefined when any of limit/remaining/reset is missing. */
export function parseRateHeaders(
  get: (name: string) => string | undefined,
): RateHeaders | undefined {
  const limit = Number(get('x-ratelimit-limit'));
  const remaining = Number(get('x-ratelimit-remaining'));
  const reset = Number(get('x-ratelimit-reset'));
  if (![limit, remaining, reset].every((n) => Number.isFinite(n) && n >= 0)) return undefined;
  if (get('x-ratelimit-remaining') === undefined || get('x-ratelimit-reset') === undefined) {
    return undefined;
  }
  return { limit, remaining, reset, resource: get('x-ratelimit-resource') };
}

/** The primary limit of one token for one resource. */
export class PrimaryBucket {
  /** Last known limit per window, once seen. */
  limit: number | undefined;
  /** Requests this bucket may still send in the current window; undefined when unknown. */
  remaining: number | undefined;
  /** The current window's reset, epoch milliseconds. */
  resetMs: number | undefined;
  /** Requests sent and not yet answered. */
  inflight = 0;
  /**
   * No primary limit to learn: while the count was unknown, a success came without any
   * `x-ratelimit-*` header (GitHub Enterprise Server with rate limiting off, its default), so
   * requests go without waiting for a probe. Headers, or a spent limit, end it.
   */
  unlimited = false;

  constructor(private readonly marginMs: number) {}

  /** Forgets the count once the window has certainly passed, so that the next send probes. */
  refresh(now: number): void {
    if (this.resetMs !== undefined && now >= this.resetMs + this.marginMs) {
      this.remaining = undefined;
    }
  }

  /** 0 when a request may go now; ms to wait; Infinity to wait for a response in flight. */
  waitMs(now: number): number {
    this.refresh(now);
    if (this.remaining === undefined) {
      return this.unlimited || this.inflight === 0 ? 0 : Number.POSITIVE_INFINITY;
    }
    if (this.remaining >= 1) return 0;
    if (this.resetMs === undefined) return Number.POSITIVE_INFINITY;
    return Math.max(1, this.resetMs + this.marginMs - now);
  }

  start(): void {
    this.inflight++;
    if (this.remaining !== undefined) this.remaining--;
  }

  finish(): void {
    this.inflight = Math.max(0, this.inflight - 1);
  }

  /**
   * Takes in the headers of a response (call after {@link finish}). Every other request in
   * flight is assumed to count against what the headers say remains: that can only make the
   * budget more careful, never less. Given `now`, a reset further away than any window can be
   * (a bogus header, or this clock far behind the server's) is placed by {@link placeFarReset}:
   * once the count runs out, a probe learns the truth, instead of the budget waiting for ever.
   */
  observe(h: RateHeaders, now?: number, serverDateMs?: number): void {
    const resetMs =
      now === undefined ? h.reset * 1000 : placeFarReset(h.reset * 1000, now, serverDateMs);
    const known = h.remaining - this.inflight;
    this.unlimited = false;
    this.limit = h.limit;
    if (this.resetMs === undefined || resetMs > this.resetMs) {
      this.resetMs = resetMs;
      this.remaining = known;
    } else if (resetMs === this.resetMs) {
      this.remaining = Math.min(this.remaining ?? Number.POSITIVE_INFINITY, known);
    }
    // An older window's headers (a slow response) say nothing about the current one.
  }

  /**
   * A success without any `x-ratelimit-*` header: when the count is unknown (before the first
   * headers, or once a window has passed), there is no primary limit to learn. A count being
   * kept is not dropped for one answer that lacks them.
   */
  noLimit(now: number): void {
    this.refresh(now);
    if (this.remaining === undefined) this.unlimited = true;
  }

  /** Marks the window as spent until `resetMs` (a rate-limit response without usable headers). */
  exhaust(resetMs: number): void {
    this.unlimited = false;
    this.remaining = 0;
    this.resetMs = Math.max(this.resetMs ?? 0, resetMs);
  }
}

/** The secondary points limit: a sliding window over when responses arrived. */
export class SlidingWindow {
  inflight = 0;
  private readonly done: number[] = [];
  private head = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  private prune(now: number): void {
    while (this.head < this.done.length && this.done[this.head]! <= now - this.windowMs) {
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.done.length) {
      this.done.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Points held now: requests in flight plus responses within the last window. */
  used(now: number): number {
    this.prune(now);
    return this.inflight + this.done.length - this.head;
  }

  /** 0 when one more point fits; otherwise ms until the oldest point leaves (or Infinity). */
  waitMs(now: number): number {
    if (this.used(now) < this.limit) return 0;
    const oldest = this.done[this.head];
    return oldest === undefined ? Number.POSITIVE_INFINITY : oldest + this.windowMs - now;
  }

  start(): void {
    this.inflight++;
  }

  finish(now: number): void {
    this.inflight = Math.max(0, this.inflight - 1);
    this.done.push(now);
  }
}

/** Why a request cannot go yet, for progress displays. */
export type WaitReason = 'none' | 'concurrency' | 'primary' | 'secondary' | 'retry-after';

/** Everything one token may still do. */
export class TokenBudget {
  readonly core: PrimaryBucket;
  readonly graphql: PrimaryBucket;
  readonly restWindow: SlidingWindow;
  readonly graphqlWindow: SlidingWindow;
  inflight = 0;
  /** Nothing is sent before this time (epoch ms), after a `retry-after`. */
  blockedUntil = 0;
  /**
   * The API rejected this token (401) and the scheduler no longer hands it out (see
   * `BudgetScheduler.retire`); what the budget last knew stays, for the record.
   */
  retired = false;

  constructor(
    /** Index of the token in the census's token list (the token itself is never kept here). */
    readonly index: number,
    readonly limits: BudgetLimits,
  ) {
    this.core = new PrimaryBucket(limits.resetMarginMs);
    this.graphql = new PrimaryBucket(limits.resetMarginMs);
    this.restWindow = new SlidingWindow(limits.restPoints, limits.windowMs);
    this.graphqlWindow = new SlidingWindow(limits.graphqlPoints, limits.windowMs);
  }

  bucket(kind: ApiKind): PrimaryBucket {
    return kind === 'rest' ? this.core : this.graphql;
  }

  window(kind: ApiKind): SlidingWindow {
    return kind === 'rest' ? this.restWindow : this.graphqlWindow;
  }

  /**
   * How long until a request of `kind` may be sent: 0 now, a number of ms, or Infinity when
   * only a response in flight can change the answer. `primary: false` is for calls that GitHub
   * does not count against the primary limit (`GET /rate_limit`).
   */
  wait(kind: ApiKind, now: number, primary = true): { ms: number; reason: WaitReason } {
    if (this.blockedUntil > now) return { ms: this.blockedUntil - now, reason: 'retry-after' };
    if (this.inflight >= this.limits.concurrency) {
      return { ms: Number.POSITIVE_INFINITY, reason: 'concurrency' };
    }
    const p = primary ? this.bucket(kind).waitMs(now) : 0;
    const s = this.window(kind).waitMs(now);
    if (p === 0 && s === 0) return { ms: 0, reason: 'none' };
    return p >= s ? { ms: p, reason: 'primary' } : { ms: s, reason: 'secondary' };
  }

  start(kind: ApiKind, primary = true): void {
    this.inflight++;
    if (primary) this.bucket(kind).start();
    this.window(kind).start();
  }

  /** Records a response (or a failed attempt, without headers) at time `now`. */
  finish(kind: ApiKind, now: number, outcome: Outcome, primary = true): void {
    this.inflight = Math.max(0, this.inflight - 1);
    this.window(kind).finish(now);
    const bucket = primary ? this.bucket(kind) : undefined;
    bucket?.finish();
    if (outcome.headers) {
      const target =
        outcome.headers.resource === 'graphql'
          ? this.graphql
          : outcome.headers.resource === 'core'
            ? this.core
            : bucket;
      target?.observe(outcome.headers, now, outcome.serverDateMs);
    } else if (outcome.noPrimaryLimit) {
      bucket?.noLimit(now);
    }
    if (outcome.retryAfterMs !== undefined) {
      // At most a window: a longer one is bogus (or in ms), and would hold the token for ever.
      const ms = Math.min(outcome.retryAfterMs, longestWindowMs);
      this.blockedUntil = Math.max(this.blockedUntil, now + ms);
    }
    if (outcome.exhaustedUntilMs !== undefined) {
      (bucket ?? this.bucket(kind)).exhaust(this.exhaustedUntil(now, outcome));
    }
  }

  /**
   * When a spent primary limit may be probed again, on this clock. `x-ratelimit-reset` is the
   * server's clock: when that time is already past here, the clocks differ (this one is ahead),
   * and waiting for it would mean probing again at once, over and over. Then the server's clock
   * is estimated from the answer's `Date` (whole seconds, so the estimate errs late by up to a
   * second); without one, or when even the server's clock is past its reset, the wait is
   * `unknownResetWaitMs`. A reset further away than any window is placed by
   * {@link placeFarReset}.
   */
  private exhaustedUntil(now: number, outcome: Outcome): number {
    const reset = outcome.exhaustedUntilMs ?? 0;
    if (reset > now) return placeFarReset(reset, now, outcome.serverDateMs);
    const date = outcome.serverDateMs;
    const skewed = date !== undefined && Number.isFinite(date) ? reset + (now - date) : undefined;
    if (skewed !== undefined && skewed > now) return Math.min(skewed, now + longestWindowMs);
    return now + this.limits.unknownResetWaitMs;
  }
}

/**
 * A reset (epoch ms, the server's clock) that is at most a window away here, as it is. One
 * further away than any window lasts cannot be right on this clock: this clock is behind the
 * server's, or the header is bogus (a reset in milliseconds is 50,000 years away). It is placed
 * by the server's `Date` when that puts it within a window, and otherwise a window from now, so
 * that a probe then learns the truth instead of the budget waiting for ever.
 */
function placeFarReset(resetMs: number, now: number, serverDateMs: number | undefined): number {
  if (resetMs <= now + longestWindowMs) return resetMs;
  if (serverDateMs !== undefined && Number.isFinite(serverDateMs)) {
    const skewed = resetMs + (now - serverDateMs);
    if (skewed > now && skewed <= now + longestWindowMs) return skewed;
  }
  return now + longestWindowMs;
}

/** What a response taught the budget. */
export interface Outcome {
  readonly headers?: RateHeaders | undefined;
  /** A `retry-after` (or a secondary-limit response): hold the whole token this long. */
  readonly retryAfterMs?: number | undefined;
  /**
   * A primary-limit response: the resource is spent until this time (epoch ms on the server's
   * clock, from `x-ratelimit-reset`; 0 when the response did not say).
   */
  readonly exhaustedUntilMs?: number | undefined;
  /** The response's `Date` (epoch ms, the server's clock), when it had one. */
  readonly serverDateMs?: number | undefined;
  /** A success (2xx/3xx) that carried no `x-ratelimit-*` header at all. */
  readonly noPrimaryLimit?: boolean | undefined;
}
