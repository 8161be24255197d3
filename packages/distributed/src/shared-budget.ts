/**
 * Token budgets kept in Redis, so that census workers on different machines that share a token
 * never exceed its limits together.
 *
 * Each worker still runs the census's own `BudgetScheduler` (which learns the primary limit from
 * the `x-ratelimit-*` headers, and keeps its own secondary window); before a request goes out it
 * must also take a slot in the token's shared window in Redis, one sorted set per token and
 * resource. A slot is held from the send until `windowMs` after the response (the census's rule:
 * no 60 s window on the server can then hold more than the limit, whatever the latency), or, for
 * a request never answered, until `windowMs` after a fixed 2 minutes from its send. The
 * primary limit is shared too: the lowest `remaining` any worker saw for the current reset is kept
 * in Redis and counted down by every send; once that reset (plus `resetMarginMs`) has passed, one
 * request at a time, from any worker, goes out to learn the new window, and the others wait for
 * its response. So is the number of requests in flight (GitHub allows at most 100 at once per
 * token): each send holds a member of the token's in-flight set until its response, with a lease
 * so that the slots of a worker that died come back. A `retry-after` (a secondary rate limit)
 * that any worker got holds the token for every worker until it has passed. Keys name the API's
 * host and a hash of the token. Redis's own clock times everything (one clock for all machines).
 * Tokens are identified by a SHA-256 prefix, never stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type ApiKind, type BudgetLimits, BudgetScheduler, type Lease } from '@forage/census';
import type { Redis } from 'ioredis';
import { DistributedError, ErrorCode } from './errors.js';

/** Where the shared budgets live. */
export interface SharedBudget {
  readonly redis: Redis;
  /** Key prefix. Default `forage:budget`. */
  readonly prefix?: string;
  /**
   * How long a request's in-flight slot (and, for the request sent to learn a new primary
   * window, that role) lasts without an answer: the slots of a worker that died come back after
   * this long. Default 120000 ms (well above a request's timeout). It does not change how long
   * an unanswered request counts in the points window ({@link unansweredHoldMs}).
   */
  readonly leaseMs?: number;
  /**
   * Aborted when the worker stops. From then on, a request waiting for the budget gives up once
   * Redis has not answered an ask for {@link stoppingAnswerMs} (it is down or halted): it fails
   * with `ERR_QUEUE_UNAVAILABLE`, which the coordinator queues again, instead of keeping the
   * stopping worker waiting for Redis.
   */
  readonly stopping?: AbortSignal;
}

/** How long a stopping worker waits for Redis to answer an ask for the budget. */
const stoppingAnswerMs = 2000;

/** The start of the message of a request that gave up waiting for the budget. */
export const budgetGaveUp = 'gave up waiting for the shared token budget';

/**
 * How long after its send a request that never got an answer (its worker died) still counts in
 * the token's points window, before the window's own `windowMs`: it may have reached the server
 * and been counted there.
 */
const unansweredHoldMs = 120_000;

/** How soon a waiter asks again when the token is busy (no time known), and at most how late. */
const busyFirstMs = 25;
const busyMaxMs = 250;

// KEYS: window zset, primary hash, in-flight zset, blocked (the token's retry-after, epoch ms).
// ARGV: member, windowMs, points limit, holdMs, concurrency, leaseMs, resetMarginMs, primary (1/0).
// Checks every limit first, then takes a slot in each. Returns 0 (granted), the ms to wait (a
// retry-after ends or a window slot frees then), or 'busy' (the in-flight set is full, or another
// request is out to learn the primary window: a slot frees when some response comes, at no known
// time).
//
// The primary hash holds what the responses said (remaining, reset) and, while nobody knows the
// current window (at first, or once a known window's reset plus the margin has passed), the one
// request allowed out to learn it (probe, probeMember): every other waits for its response.
const takeScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local leaseMs = tonumber(ARGV[6])
local blocked = tonumber(redis.call('GET', KEYS[4]) or '0')
if blocked > now then return blocked - now end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then
  return 'busy'
end
local windowMs = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - windowMs)
local used = redis.call('ZCARD', KEYS[1])
if used >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + windowMs - now
  if wait < 10 then wait = 10 end
  return wait
end
local primary = ARGV[8] == '1'
local probe = false
local remaining = -1
if primary then
  remaining = tonumber(redis.call('HGET', KEYS[2], 'remaining') or '-1')
  local reset = tonumber(redis.call('HGET', KEYS[2], 'reset') or '0')
  local margin = tonumber(ARGV[7])
  if now >= reset + margin then remaining = -1 end
  if remaining == 0 then
    return math.max(10, reset + margin - now)
  end
  if remaining < 0 then
    if tonumber(redis.call('HGET', KEYS[2], 'probe') or '0') > now then return 'busy' end
    probe = true
  end
end
if probe then
  redis.call('HSET', KEYS[2], 'probe', now + leaseMs, 'probeMember', ARGV[1])
  if redis.call('PTTL', KEYS[2]) < leaseMs then redis.call('PEXPIRE', KEYS[2], leaseMs * 2) end
elseif primary and remaining > 0 then
  redis.call('HINCRBY', KEYS[2], 'remaining', -1)
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], windowMs * 3)
redis.call('ZADD', KEYS[3], now + leaseMs, ARGV[1])
redis.call('PEXPIRE', KEYS[3], leaseMs * 2)
return 0
`;

// KEYS: window zset, primary hash, in-flight zset, blocked.
// ARGV: member, remaining (-1 unknown), resetMs, retryAfterMs (0 none).
// The requests still in flight may count against what the response says remains: they are
// taken off it (more careful, never less). A retry-after holds the token for every worker.
const doneScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local retryAfter = tonumber(ARGV[4])
if retryAfter > 0 and now + retryAfter > tonumber(redis.call('GET', KEYS[4]) or '0') then
  redis.call('SET', KEYS[4], now + retryAfter, 'PX', retryAfter)
end
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[2], 'probeMember') == ARGV[1] then
  redis.call('HDEL', KEYS[2], 'probe', 'probeMember')
end
local remaining = tonumber(ARGV[2])
if remaining >= 0 then
  remaining = math.max(0, remaining - redis.call('ZCARD', KEYS[3]))
  local reset = tonumber(ARGV[3])
  local known = tonumber(redis.call('HGET', KEYS[2], 'reset') or '0')
  if reset > known then
    redis.call('HSET', KEYS[2], 'reset', reset, 'remaining', remaining)
  elseif reset == known then
    local current = tonumber(redis.call('HGET', KEYS[2], 'remaining') or remaining)
    if remaining < current then redis.call('HSET', KEYS[2], 'remaining', remaining) end
  end
  redis.call('PEXPIRE', KEYS[2], math.max(1000, reset - now + 60000))
end
return 0
`;

/** A short, stable name for a token in Redis keys (the token itself is never stored). */
export function tokenKey(token: string | undefined): string {
  if (!token) return 'unauthenticated';
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

/**
 * The census's scheduler, plus the shared per-token budget in Redis. A lease is handed out only
 * when both the local scheduler and the shared window allow it.
 */
export class SharedBudgetScheduler extends BudgetScheduler {
  readonly #shared: SharedBudget;
  readonly #tokens: readonly string[];
  readonly #limits: BudgetLimits;
  readonly #apiHost: string;
  /**
   * What each ask in flight does once the worker is stopping. One listener on the stop signal
   * serves them all: a listener per ask put as many on the signal as requests in flight, and
   * past ten Node warned of a leak (MaxListenersExceededWarning) under an ordinary load.
   */
  readonly #onStopping = new Set<() => void>();

  /**
   * @param apiHost the API's host (and port): limits are per server, so the keys name it.
   *   Default `api.github.com`.
   */
  constructor(
    tokenCount: number,
    limits: BudgetLimits,
    shared: SharedBudget,
    tokens: readonly string[],
    apiHost = 'api.github.com',
  ) {
    super(tokenCount, limits);
    this.#shared = shared;
    this.#tokens = tokens;
    this.#limits = limits;
    this.#apiHost = apiHost;
    shared.stopping?.addEventListener(
      'abort',
      () => {
        for (const giveUp of this.#onStopping) giveUp();
      },
      { once: true },
    );
  }

  override async acquire(
    kind: ApiKind,
    signal?: AbortSignal,
    primary = true,
    only?: number,
  ): Promise<Lease> {
    const lease = await super.acquire(kind, signal, primary, only);
    const keys = this.#keys(lease.tokenIndex, kind);
    const member = randomBytes(8).toString('hex');
    const points = kind === 'rest' ? this.#limits.restPoints : this.#limits.graphqlPoints;
    // A window slot of a worker that died mid-request is counted until this long after the
    // send (then windowMs more); its in-flight slot comes back after the lease.
    const holdMs = unansweredHoldMs;
    const leaseMs = this.#shared.leaseMs ?? 120_000;
    let retired = false;
    try {
      for (let busy = 0; ; ) {
        const answer = await this.#answer(
          this.#shared.redis.eval(
            takeScript,
            4,
            keys.window,
            keys.primary,
            keys.inflight,
            keys.blocked,
            member,
            this.#limits.windowMs,
            points,
            holdMs,
            this.#limits.concurrency,
            leaseMs,
            this.#limits.resetMarginMs,
            primary ? 1 : 0,
          ),
        );
        let wait: number;
        if (answer === 'busy') {
          // No time is known: ask again soon, then less often, so that many waiters on a full
          // token do not keep Redis busy (with many waiting, one of them still asks every few ms).
          wait = Math.min(busyFirstMs * 1.5 ** busy, busyMaxMs);
          busy += 1;
        } else {
          wait = Number(answer);
          if (wait <= 0) break;
          busy = 0;
        }
        // Jitter, so that workers waiting for the same slot do not ask in step.
        await sleep(Math.min(wait, 5000) + Math.floor(Math.random() * 20), signal);
        // The API rejected this token while the lease waited (it holds no slot in Redis yet):
        // as the census's own scheduler does with its waiters, the request goes with another
        // token, or fails once none is left, rather than being sent with one known to fail.
        if (this.budgets[lease.tokenIndex]?.retired) {
          retired = true;
          break;
        }
      }
    } catch (error) {
      lease.release({});
      throw error;
    }
    if (retired) {
      lease.release({});
      return this.acquire(kind, signal, primary, only);
    }
    return {
      tokenIndex: lease.tokenIndex,
      release: (outcome) => {
        lease.release(outcome);
        const headers = outcome.headers;
        const observed =
          headers &&
          primary &&
          (headers.resource === undefined || headers.resource === resourceOf(kind));
        void this.#shared.redis
          .eval(
            doneScript,
            4,
            keys.window,
            keys.primary,
            keys.inflight,
            keys.blocked,
            member,
            observed ? headers.remaining : -1,
            observed ? headers.reset * 1000 : 0,
            retryAfterOf(outcome.retryAfterMs),
          )
          .catch(() => {});
      },
    };
  }

  /**
   * Redis's answer to an ask; once the worker is stopping, a rejection if it does not come
   * within {@link stoppingAnswerMs}.
   */
  #answer<T>(asked: Promise<T>): Promise<T> {
    const stopping = this.#shared.stopping;
    if (stopping === undefined) return asked;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const giveUp = () => {
        timer = setTimeout(() => {
          reject(
            new DistributedError(
              `${budgetGaveUp}: Redis did not answer within ${stoppingAnswerMs} ms while this worker was stopping; another worker will do the job`,
              ErrorCode.queueUnavailable,
            ),
          );
        }, stoppingAnswerMs);
      };
      if (stopping.aborted) giveUp();
      else this.#onStopping.add(giveUp);
      asked.then(resolve, reject).finally(() => {
        clearTimeout(timer);
        this.#onStopping.delete(giveUp);
      });
    });
  }

  #keys(
    tokenIndex: number,
    kind: ApiKind,
  ): { window: string; primary: string; inflight: string; blocked: string } {
    const token = `${this.#shared.prefix ?? 'forage:budget'}:${this.#apiHost}:${tokenKey(this.#tokens[tokenIndex])}`;
    const base = `${token}:${resourceOf(kind)}`;
    // GitHub's 100 concurrent requests, and a retry-after, are per token, whatever the resource.
    return {
      window: `${base}:window`,
      primary: `${base}:primary`,
      inflight: `${token}:inflight`,
      blocked: `${token}:blocked`,
    };
  }
}

/**
 * A response's retry-after as whole ms for the done script (0 when there is none), at most an
 * hour (GitHub's longest window; a larger value would only be a server's mistake).
 */
function retryAfterOf(ms: number | undefined): number {
  return ms !== undefined && Number.isFinite(ms) && ms > 0 ? Math.min(3_600_000, Math.ceil(ms)) : 0;
}

function resourceOf(kind: ApiKind): string {
  return kind === 'rest' ? 'core' : 'graphql';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
