/**
 * Primary limits (fixed windows per token and resource, as GitHub's `x-ratelimit-*` headers
 * describe them) and secondary limits (concurrency and points per sliding minute).
 */
import type { RateWindow, SecondaryLimitOptions } from './options.js';

/** The resources the emulator meters. */
export type Resource = 'core' | 'graphql';

/** A primary-limit bucket: `used` points since the window opened at the first request. */
export class Bucket {
  used = 0;
  resetAt = 0;
  constructor(readonly window: RateWindow) {}

  /** Opens a new window when the previous one has ended. */
  refresh(now: number): this {
    if (now >= this.resetAt) {
      this.used = 0;
      this.resetAt = now + this.window.windowMs;
    }
    return this;
  }

  get limit(): number {
    return this.window.limit;
  }

  get remaining(): number {
    return Math.max(0, this.window.limit - this.used);
  }

  /** Reset as GitHub sends it: UTC epoch seconds, rounded up so waiting until then is enough. */
  get resetSeconds(): number {
    return Math.ceil(this.resetAt / 1000);
  }

  /** Spends `cost` if it fits; false (and nothing spent) if it does not. */
  trySpend(cost: number): boolean {
    if (this.used + cost > this.window.limit) return false;
    this.used += cost;
    return true;
  }
}

const SLOTS = 60;

/** Points over a sliding window, kept in 60 slots so memory per token is constant. */
class SlidingPoints {
  private readonly starts = new Float64Array(SLOTS).fill(-1);
  private readonly points = new Float64Array(SLOTS);
  private readonly slotMs: number;
  constructor(windowMs: number) {
    this.slotMs = windowMs / SLOTS;
  }

  total(now: number): number {
    const current = Math.floor(now / this.slotMs);
    let sum = 0;
    for (let i = 0; i < SLOTS; i++) {
      if (this.starts[i]! > current - SLOTS) sum += this.points[i]!;
    }
    return sum;
  }

  add(now: number, points: number): void {
    const current = Math.floor(now / this.slotMs);
    const i = current % SLOTS;
    if (this.starts[i] !== current) {
      this.starts[i] = current;
      this.points[i] = 0;
    }
    this.points[i] = this.points[i]! + points;
  }
}

/** Why a request was refused by a secondary limit. */
export type SecondaryReason = 'concurrency' | 'rest-points' | 'graphql-points' | 'blocked';

/** One client's secondary-limit state. */
export class SecondaryState {
  inFlight = 0;
  blockedUntil = 0;
  private readonly rest: SlidingPoints;
  private readonly graphql: SlidingPoints;
  constructor(private readonly options: Required<SecondaryLimitOptions>) {
    this.rest = new SlidingPoints(options.windowMs);
    this.graphql = new SlidingPoints(options.windowMs);
  }

  /**
   * Admits a request costing `points` on `resource` (the request is already counted in
   * `inFlight`), or says why not. A refusal blocks the client for `retryAfterSeconds`.
   */
  admit(now: number, resource: Resource, points: number): SecondaryReason | undefined {
    if (now < this.blockedUntil) return 'blocked';
    let reason: SecondaryReason | undefined;
    if (this.inFlight > this.options.maxConcurrent) reason = 'concurrency';
    else if (resource === 'graphql') {
      if (this.graphql.total(now) + points > this.options.graphqlPoints) reason = 'graphql-points';
    } else if (this.rest.total(now) + points > this.options.restPoints) reason = 'rest-points';
    if (reason) {
      this.blockedUntil = now + this.options.retryAfterSeconds * 1000;
      return reason;
    }
    (resource === 'graphql' ? this.graphql : this.rest).add(now, points);
    return undefined;
  }

  /** Seconds to send in `retry-after`. */
  retryAfter(now: number): number {
    return Math.max(1, Math.ceil((this.blockedUntil - now) / 1000));
  }
}
