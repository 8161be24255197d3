/**
 * `forage census-worker`: a task worker that runs only the census's jobs, with this machine's
 * tokens. The tokens stay in this process; the per-token budgets it shares with other workers
 * live in Redis.
 */
import type { BudgetLimits, RetryPolicy } from '@forage/census';
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
  /** The queue name; the coordinator's. Default `forage-census`. */
  readonly queue?: string;
  /** Jobs run at once by this process. Default 16. */
  readonly concurrency?: number;
  /** Limits to enforce (default: GitHub's documented ones). */
  readonly limits?: Partial<BudgetLimits>;
  readonly retry?: Partial<RetryPolicy>;
}

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
  const endpoint = parseRedis(options.connection);
  const redis = new Redis({ ...ioRedisOptions(endpoint, true), lazyConnect: true });
  redis.on('error', () => {});
  configureCensusWorker({
    tokens: options.tokens,
    shared: { redis },
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  try {
    return await runTaskWorker({
      ...options,
      queue: options.queue ?? censusQueueName,
      concurrency: options.concurrency ?? 16,
      // This process holds tokens: it runs the census's own tasks and nothing else.
      resolveModule: (url) => (url.endsWith('/census-tasks.js') ? ownTasks : undefined),
    });
  } finally {
    await closeCensusWorker();
    redis.disconnect();
  }
}
