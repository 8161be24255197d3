import {
  type ApiKind,
  type BudgetLimits,
  type Outcome,
  TokenBudget,
  type WaitReason,
} from './budget.js';
import { CensusError } from './errors.js';

/** A permission to send one request with one token. Call `release` exactly once. */
export interface Lease {
  /** Index of the token to use (into the census's token list). */
  readonly tokenIndex: number;
  /** Records what the response taught (headers, retry-after) and frees the slot. */
  release(outcome: Outcome): void;
}

interface Waiter {
  readonly kind: ApiKind;
  readonly primary: boolean;
  /** Only this token may serve the waiter (a per-token call such as `/rate_limit`). */
  readonly only: number | undefined;
  readonly resolve: (lease: Lease) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** A clock, injectable for tests. */
export interface Clock {
  now(): number;
}

/** What the scheduler is waiting for, per kind, for progress displays. */
export interface SchedulerWait {
  readonly kind: ApiKind;
  readonly reason: WaitReason;
  /** Epoch ms when the wait ends, when known. */
  readonly until: number | undefined;
}

/**
 * Hands out {@link Lease}s in arrival order (per API kind) to whichever token's budget allows a
 * request now, and otherwise waits exactly until one does: a reset, a slot leaving the secondary
 * window, a `retry-after` ending, or a response coming back. It never hands out a lease the
 * known budget forbids.
 */
export class BudgetScheduler {
  readonly budgets: TokenBudget[];
  private readonly queues: Record<ApiKind, Waiter[]> = { rest: [], graphql: [] };
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly waits: Partial<Record<ApiKind, SchedulerWait>> = {};
  private waitStartedAt: number | undefined;
  /** Set once every token is retired: every waiter, and every later acquire, gets it. */
  private noTokenLeft: unknown;
  /** Milliseconds spent with requests queued and no budget to send them (not concurrency). */
  sleptMs = 0;

  constructor(
    tokenCount: number,
    limits: BudgetLimits,
    private readonly clock: Clock = Date,
  ) {
    if (tokenCount < 1) throw new RangeError('the scheduler needs at least one identity');
    this.budgets = Array.from({ length: tokenCount }, (_, i) => new TokenBudget(i, limits));
  }

  /** Waits for a lease to send one request of `kind`. Rejects when `signal` aborts. */
  acquire(kind: ApiKind, signal?: AbortSignal, primary = true, only?: number): Promise<Lease> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.noTokenLeft !== undefined) return Promise.reject(this.noTokenLeft);
    if (only !== undefined && this.budgets[only]?.retired) {
      return Promise.reject(new TokenRetired(only, this.budgets.length));
    }
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        kind,
        primary,
        only,
        resolve,
        reject,
        signal,
        onAbort: () => {
          const queue = this.queues[kind];
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          reject(abortError(signal!));
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.queues[kind].push(waiter);
      this.pump();
    });
  }

  /**
   * Stops handing out token `index` for the rest of the run: the API rejected it (401). Leases
   * already out are released as usual (their slots and the budget's counts stay right); waiters
   * that only this token may serve are rejected with {@link TokenRetired}; the others wait for
   * the tokens left, whose budgets are untouched. Once no token is left, every waiter, and every
   * later {@link acquire}, is rejected with `noneLeft` (the first one given). Returns whether
   * this call retired it (false when it already was), how many tokens are left, and, when none
   * is, the error everything is rejected with.
   */
  retire(index: number, noneLeft: unknown): { retired: boolean; left: number; error?: unknown } {
    const budget = this.budgets[index];
    const first = budget !== undefined && !budget.retired;
    if (budget) budget.retired = true;
    const left = this.budgets.filter((b) => !b.retired).length;
    if (left === 0) {
      this.noTokenLeft ??= noneLeft;
      this.rejectWaiters(() => true, this.noTokenLeft);
    } else if (first) {
      this.rejectWaiters((w) => w.only === index, new TokenRetired(index, this.budgets.length));
      this.pump();
    }
    return left === 0
      ? { retired: first, left, error: this.noTokenLeft }
      : { retired: first, left };
  }

  /** Indexes (0-based) of the tokens retired by {@link retire}, in order. */
  retired(): number[] {
    return this.budgets.filter((b) => b.retired).map((b) => b.index);
  }

  /** The current waits (for a countdown on the terminal). */
  currentWaits(): SchedulerWait[] {
    return Object.values(this.waits).filter((w): w is SchedulerWait => w !== undefined);
  }

  /** Stops the timer and rejects every waiter (used when a run ends early). */
  close(reason: unknown): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.rejectWaiters(() => true, reason);
  }

  private rejectWaiters(which: (w: Waiter) => boolean, reason: unknown): void {
    for (const kind of ['rest', 'graphql'] as const) {
      // Compacted in place, in one pass (a splice per rejected waiter was O(n²)); the waiters
      // that stay keep their order.
      const queue = this.queues[kind];
      const gone: Waiter[] = [];
      let kept = 0;
      for (const w of queue) {
        if (which(w)) gone.push(w);
        else queue[kept++] = w;
      }
      queue.length = kept;
      for (const w of gone) {
        w.signal?.removeEventListener('abort', w.onAbort);
        w.reject(reason);
      }
    }
  }

  private pump(): void {
    const now = this.clock.now();
    let soonest = Number.POSITIVE_INFINITY;
    let limited = false;
    for (const kind of ['rest', 'graphql'] as const) {
      const queue = this.queues[kind];
      delete this.waits[kind];
      while (queue.length > 0) {
        const head = queue[0]!;
        const pick = this.pick(kind, now, head.primary, head.only);
        if (pick.budget) {
          queue.shift();
          head.signal?.removeEventListener('abort', head.onAbort);
          head.resolve(this.lease(pick.budget, kind, head.primary));
          continue;
        }
        soonest = Math.min(soonest, pick.ms);
        if (pick.reason !== 'concurrency') limited = true;
        this.waits[kind] = {
          kind,
          reason: pick.reason,
          until: Number.isFinite(pick.ms) ? now + pick.ms : undefined,
        };
        break;
      }
    }
    this.account(now, limited);
    if (Number.isFinite(soonest)) this.arm(now + soonest);
  }

  /** The token that may send now (the one with the most headroom), or how long to wait. */
  private pick(
    kind: ApiKind,
    now: number,
    primary: boolean,
    only: number | undefined,
  ): { budget?: TokenBudget; ms: number; reason: WaitReason } {
    let best: TokenBudget | undefined;
    let ms = Number.POSITIVE_INFINITY;
    let reason: WaitReason = 'concurrency';
    for (const b of this.budgets) {
      if (b.retired || (only !== undefined && b.index !== only)) continue;
      const w = b.wait(kind, now, primary);
      if (w.ms === 0) {
        if (!best || b.inflight < best.inflight) best = b;
      } else if (w.ms < ms || (ms === Number.POSITIVE_INFINITY && reason === 'concurrency')) {
        ms = Math.min(ms, w.ms);
        reason = w.reason;
      }
    }
    return best ? { budget: best, ms: 0, reason: 'none' } : { ms, reason };
  }

  private lease(budget: TokenBudget, kind: ApiKind, primary: boolean): Lease {
    budget.start(kind, primary);
    let released = false;
    return {
      tokenIndex: budget.index,
      release: (outcome) => {
        if (released) return;
        released = true;
        budget.finish(kind, this.clock.now(), outcome, primary);
        this.pump();
      },
    };
  }

  private arm(at: number): void {
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    // A timer holds at most 2^31 - 1 ms (24.8 days); a longer delay would fire after 1 ms, over
    // and over. Waking up early only means looking again.
    const delay = Math.min(maxTimerMs, Math.max(1, Math.ceil(at - this.clock.now())));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.pump();
    }, delay);
  }

  /** Adds up the time during which work waited on a limit rather than on the network. */
  private account(now: number, limited: boolean): void {
    if (this.waitStartedAt !== undefined) this.sleptMs += now - this.waitStartedAt;
    this.waitStartedAt = limited ? now : undefined;
  }
}

/** The longest delay `setTimeout` keeps. */
const maxTimerMs = 2 ** 31 - 1;

/**
 * A request that only one token may send (`only`, such as that token's `GET /rate_limit`),
 * after the API rejected that token: it is not sent. The census goes on with the other tokens.
 */
export class TokenRetired extends CensusError {
  constructor(
    /** The token's index (0-based) in the census's token list. */
    readonly tokenIndex: number,
    tokenCount: number,
  ) {
    super(
      'ERR_CENSUS_TOKEN',
      `token ${tokenIndex + 1} of ${tokenCount} was rejected earlier in this run and is no longer used`,
    );
  }
}

function abortError(signal: AbortSignal): CensusError {
  return new CensusError('ERR_CENSUS_ABORTED', 'the census was aborted', { cause: signal.reason });
}
