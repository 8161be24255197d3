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
   * Lets a request in when it arrives, or says why not. GitHub's concurrency limit refuses the
   * request that would go over it, not the ones already in flight, so this is judged here, before
   * the simulated latency: a request counted in `inFlight` has been accepted. A refusal blocks the
   * client for `retryAfterSeconds`, for requests that arrive later. Call {@link leave} when an
   * admitted request ends.
   */
  enter(now: number): SecondaryReason | undefined {
    if (now < this.blockedUntil) return 'blocked';
    if (this.inFlight >= this.options.maxConcurrent) {
      this.block(now);
      return 'concurrency';
    }
    this.inFlight++;
    return undefined;
  }

  /** Ends a request that {@link enter} let in. */
  leave(): void {
    this.inFlight--;
  }

  /**
   * Charges `points` on `resource` for a request already let in by {@link enter}, or says why
   * not (nothing charged). A refusal blocks the client for `retryAfterSeconds`. A block set after
   * the request was let in does not refuse it: only its points are judged here.
   */
  admit(now: number, resource: Resource, points: number): SecondaryReason | undefined {
    const window = resource === 'graphql' ? this.graphql : this.rest;
    const limit = resource === 'graphql' ? this.options.graphqlPoints : this.options.restPoints;
    if (window.total(now) + points > limit) {
      this.block(now);
      return resource === 'graphql' ? 'graphql-points' : 'rest-points';
    }
    window.add(now, points);
    return undefined;
  }

  private block(now: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, now + this.options.retryAfterSeconds * 1000);
  }

  /** Seconds to send in `retry-after`. */
  retryAfter(now: number): number {
    return Math.max(1, Math.ceil((this.blockedUntil - now) / 1000));
  }
}
