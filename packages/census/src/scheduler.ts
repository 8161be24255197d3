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

  /** The current waits (for a countdown on the terminal). */
  currentWaits(): SchedulerWait[] {
    return Object.values(this.waits).filter((w): w is SchedulerWait => w !== undefined);
  }

  /** Stops the timer and rejects every waiter (used when a run ends early). */
  close(reason: unknown): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const kind of ['rest', 'graphql'] as const) {
      for (const w of this.queues[kind].splice(0)) {
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
      if (only !== undefined && b.index !== only) continue;
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

function abortError(signal: AbortSignal): CensusError {
  return new CensusError('ERR_CENSUS_ABORTED', 'the census was aborted', { cause: signal.reason });
}
