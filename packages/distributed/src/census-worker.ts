/**
 * `forage census-worker`: a task worker that runs only the census's jobs, with this machine's
 * tokens. The tokens stay in this process; the per-token budgets it shares with other workers
 * live in Redis.
 */
import {
  type BudgetLimits,
  CensusError,
  parseApiUrl,
  type RetryPolicy,
  redactToken,
} from '@forage/census';
import { Redis } from 'ioredis';
import { censusQueueName } from './census-coordinator.js';
import { closeCensusWorker, configureCensusWorker } from './census-tasks.js';
import { ioRedisOptions, parseRedis } from './connection.js';
import { DistributedError, ErrorCode } from './errors.js';
import { runTaskWorker, type TaskWorkerOptions, type TaskWorkerSummary } from './task-worker.js';

/** Options of {@link runCensusWorker}. */
export interface CensusWorkerOptions
  extends Pick<
    TaskWorkerOptions,
    | 'connection'
    | 'prefix'
    | 'lockDurationMs'
    | 'stalledIntervalMs'
    | 'maxStalledCount'
    | 'signal'
    | 'onEvent'
  > {
  /** GitHub tokens of this worker (at least one). */
  readonly tokens: readonly string[];
  /**
   * The API this worker sends its tokens to. A job naming another origin fails with
   * `ERR_CENSUS_API_REFUSED` before any request (the coordinator queues it again for another
   * worker), and this worker stops taking jobs. Default `https://api.github.com`.
   */
  readonly api?: string | URL;
  /** The queue name; the coordinator's. Default `forage-census`. */
  readonly queue?: string;
  /** Jobs run at once by this process. Default 16. */
  readonly concurrency?: number;
  /** Limits to enforce (default: GitHub's documented ones). */
  readonly limits?: Partial<BudgetLimits>;
  readonly retry?: Partial<RetryPolicy>;
  /**
   * With several tokens, one the API rejects (401) is retired: this worker no longer sends it,
   * sends that token's requests with the others and goes on taking jobs. Called once per
   * retired token, with a one-line warning that names it by position (`token 2 of 3`) only.
   * When every token is rejected, the worker stops taking jobs and fails with
   * `ERR_CENSUS_TOKEN`, as it does for its only token.
   */
  readonly onTokenRetired?: (message: string) => void;
}

/** The API a census worker serves unless told otherwise. */
export const defaultApi = 'https://api.github.com';

const ownTasks = new URL('./census-tasks.js', import.meta.url).href;

/**
 * Runs census jobs until `signal` aborts (running jobs finish first).
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * process.once('SIGINT', () => stop.abort());
 * await runCensusWorker({ connection: 'redis://10.0.0.5:6379', tokens: [process.env.GITHUB_TOKEN!], signal: stop.signal });
 * ```
 */
export async function runCensusWorker(options: CensusWorkerOptions): Promise<TaskWorkerSummary> {
  if (
    !Array.isArray(options.tokens) ||
    options.tokens.length === 0 ||
    options.tokens.some((t) => typeof t !== 'string' || t === '')
  ) {
    throw new DistributedError(
      'a census worker needs at least one token: pass --token T (repeatable) or set GITHUB_TOKEN',
      ErrorCode.invalidOption,
    );
  }
  // As a one-machine census checks them: such a token fails every request (an invalid header),
  // and so every job this worker takes.
  if (options.tokens.some((t) => !/^[\x21-\x7e]+$/.test(t))) {
    throw new DistributedError(
      'a token contains spaces or control characters; check --token / GITHUB_TOKEN',
      ErrorCode.invalidOption,
    );
  }
  const api = parseApiUrl(options.api ?? defaultApi);
  const endpoint = parseRedis(options.connection);
  const redis = new Redis({ ...ioRedisOptions(endpoint, true), lazyConnect: true });
  redis.on('error', () => {});
  // A token the API rejects (401) when it is this worker's only one (or the last of several not
  // rejected yet), or a census for another API than this worker's, would fail every job this
  // worker takes: stop taking them, so that the other workers do the jobs (the coordinator
  // queues failed ones again). One rejected token among several is only retired (the client
  // sends its requests with the others) and the worker goes on.
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let rejected = false;
  // Positions of the tokens the API rejected, as the census's error named them.
  let rejectedIndexes: number[] = [];
  let refusedOrigin: string | undefined;
  configureCensusWorker({
    tokens: options.tokens,
    api,
    // Stopping, a job waiting for the budget gives up if Redis does not answer.
    shared: { redis, stopping: stop.signal },
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    onApiRefused: (origin) => {
      refusedOrigin ??= origin;
      stop.abort();
    },
    onTokenRejected: (indexes) => {
      if (rejectedIndexes.length === 0) rejectedIndexes = indexes;
    },
    ...(options.onTokenRetired
      ? { onTokenRetired: (_index: number, message: string) => options.onTokenRetired?.(message) }
      : {}),
  });
  try {
    const summary = await runTaskWorker({
      ...options,
      signal: stop.signal,
      queue: options.queue ?? censusQueueName,
      concurrency: options.concurrency ?? 16,
      // This process holds tokens: it runs the census's own tasks and nothing else.
      resolveModule: (url) => (url.endsWith('/census-tasks.js') ? ownTasks : undefined),
      onEvent: (event) => {
        if (event.type === 'finished' && event.errorCode === 'ERR_CENSUS_TOKEN' && !rejected) {
          rejected = true;
          stop.abort();
        }
        options.onEvent?.(event);
      },
    });
    if (refusedOrigin !== undefined) {
      throw new DistributedError(
        `the census's jobs are for the API at ${refusedOrigin}, and this worker sends its tokens only to ${api.origin}: it stopped taking jobs, which the other workers will do; if its tokens are meant for ${refusedOrigin}, start it again with --api ${refusedOrigin}`,
        ErrorCode.apiRefused,
      );
    }
    if (rejected) {
      const all = options.tokens.length > 1 && rejectedIndexes.length === options.tokens.length;
      throw new CensusError(
        'ERR_CENSUS_TOKEN',
        `the API rejected ${describeRejected(options.tokens, rejectedIndexes)} of this worker: it stopped taking jobs, which the other workers will do; ${all ? 'check the tokens, or start the worker again with tokens that work' : 'check the token, or start the worker again without it'}`,
      );
    }
    return summary;
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    await closeCensusWorker();
    redis.disconnect();
  }
}

/**
 * The rejected token by its position and redacted form (`token 2 of 3 (ghp_…abcd)`), never its
 * value; every token's, if the error named none of them; `all 3 tokens (...)` when every one of
 * several was rejected.
 */
function describeRejected(tokens: readonly string[], indexes: readonly number[]): string {
  const of = `of ${tokens.length}`;
  if (indexes.length === 0) return `a token (${tokens.map(redactToken).join(', ')})`;
  if (tokens.length > 1 && indexes.length === tokens.length) {
    return `all ${tokens.length} tokens (${tokens.map(redactToken).join(', ')})`;
  }
  const shown = indexes.map((i) => redactToken(tokens[i] as string));
  if (indexes.length === 1) return `token ${(indexes[0] as number) + 1} ${of} (${shown[0]})`;
  return `token ${indexes.map((i) => i + 1).join(' or ')} ${of} (${[...new Set(shown)].join(', ')})`;
}
