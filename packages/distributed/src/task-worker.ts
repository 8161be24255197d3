/**
 * The worker side of {@link QueueExecutor}: takes task jobs from the queue, imports the task
 * module (once per module), runs the export and returns its result or error. This is what
 * `forage worker` runs.
 *
 * Jobs are held with a BullMQ lock that the worker renews while the task runs. If the process
 * dies, the lock expires and another worker's stalled-job check puts the job back in the
 * queue, up to `maxStalledCount` times; the executor's future settles once, with whichever
 * attempt finished.
 */
import { availableParallelism } from 'node:os';
import { AsyncExecutor, type Executor, type TaskFunction, taskModule } from '@forage/futures';
import { type Job, Worker } from 'bullmq';
import {
  decodeError,
  decodeValue,
  type EncodedError,
  encodeDistributedError,
  encodeError,
  encodeValue,
} from './codec.js';
import { describeRedis, ioRedisOptions, parseRedis, type RedisConnection } from './connection.js';
import { checkName, durationMs, ErrorCode, positiveInteger } from './errors.js';
import {
  defaultPrefix,
  defaultQueueName,
  readTaskJobData,
  type TaskJobResult,
  taskJobName,
} from './protocol.js';
import { settlesWithin } from './settles-within.js';

/** Options of {@link runTaskWorker}. */
export interface TaskWorkerOptions {
  /** Where Redis is: `redis://127.0.0.1:6379`, or its parts. */
  connection: RedisConnection;
  /** The queue name; the same as the executor's. Default `forage-tasks`. */
  queue?: string;
  /** The Redis key prefix. Default `forage`. */
  prefix?: string;
  /** Tasks run at once by this process. Default: the number of CPUs. */
  concurrency?: number;
  /**
   * Runs the tasks. Default: an `AsyncExecutor` on this process's event loop (right for I/O).
   * Pass a `ThreadPoolExecutor` or `ProcessPoolExecutor` for CPU-bound tasks, so that the
   * event loop stays free to renew the job locks.
   */
  executor?: Executor;
  /**
   * How long a job's lock lasts without renewal (ms). A worker that dies releases its jobs
   * after this long. Default 30000 (BullMQ's).
   */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died (ms). Default 30000 (BullMQ's). */
  stalledIntervalMs?: number;
  /** How many times a job may be recovered from a dead worker before it fails. Default 2. */
  maxStalledCount?: number;
  /**
   * Maps a job's module URL to the module this process imports, or `undefined` to refuse the
   * job. Default: any `file:` URL as is. A worker that holds secrets (the census worker's tokens)
   * uses it to run only its own tasks.
   */
  resolveModule?: (url: string) => string | undefined;
  /** Stops the worker: running tasks finish first, then the promise resolves. */
  signal?: AbortSignal;
  /** Receives progress events (for logs). */
  onEvent?: (event: TaskWorkerEvent) => void;
}

/** What a task worker reports while it runs. */
export type TaskWorkerEvent =
  | {
      readonly type: 'ready';
      readonly where: string;
      readonly queue: string;
      readonly concurrency: number;
    }
  | { readonly type: 'started'; readonly jobId: string; readonly task: string }
  | {
      readonly type: 'finished';
      readonly jobId: string;
      readonly task: string;
      readonly ok: boolean;
      readonly ms: number;
      /** The `code` of the task's error, when it failed with one. */
      readonly errorCode?: string;
    }
  | { readonly type: 'stopping'; readonly running: number }
  | { readonly type: 'error'; readonly message: string };

/** Counts of what a worker did, returned when it stops. */
export interface TaskWorkerSummary {
  /** Tasks that returned a value. */
  completed: number;
  /** Tasks that threw (the error went back to the executor). */
  failed: number;
}

/**
 * Runs tasks from the queue until `signal` aborts, then lets the running ones finish.
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * process.once('SIGINT', () => stop.abort());
 * await runTaskWorker({ connection: 'redis://127.0.0.1:6379', concurrency: 4, signal: stop.signal });
 * ```
 */
export async function runTaskWorker(options: TaskWorkerOptions): Promise<TaskWorkerSummary> {
  const endpoint = parseRedis(options.connection);
  const concurrency = positiveInteger(options.concurrency, 'concurrency', availableParallelism());
  const queue = checkName(options.queue, 'queue', defaultQueueName);
  const prefix = checkName(options.prefix, 'prefix', defaultPrefix);
  // BullMQ sets timers with these: checked before anything starts.
  const lockDuration = durationMs(options.lockDurationMs, 'lockDurationMs', 30_000);
  const stalledInterval = durationMs(options.stalledIntervalMs, 'stalledIntervalMs', 30_000);
  const maxStalledCount = positiveInteger(options.maxStalledCount, 'maxStalledCount', 2);
  const emit = options.onEvent ?? (() => {});
  const ownExecutor = options.executor === undefined;
  const executor = options.executor ?? new AsyncExecutor({ maxWorkers: concurrency });
  const summary: TaskWorkerSummary = { completed: 0, failed: 0 };

  let active = 0;
  const idle: (() => void)[] = [];
  const runOne = async (job: Job): Promise<TaskJobResult> => {
    const started = Date.now();
    const task = describeTask(job.data);
    emit({ type: 'started', jobId: String(job.id), task });
    const result = await runTaskJob(job, executor, options.resolveModule);
    if (result.ok) summary.completed += 1;
    else summary.failed += 1;
    emit({
      type: 'finished',
      jobId: String(job.id),
      task,
      ok: result.ok,
      ms: Date.now() - started,
      ...(result.ok ? {} : errorCodeOf(result.error)),
    });
    return result;
  };
  const worker = new TaskQueueWorker(
    queue,
    async (job: Job) => {
      active += 1;
      try {
        return await runOne(job);
      } finally {
        active -= 1;
        if (active === 0) for (const resolve of idle.splice(0)) resolve();
      }
    },
    {
      connection: ioRedisOptions(endpoint, true),
      prefix,
      concurrency,
      autorun: false,
      lockDuration,
      stalledInterval,
      maxStalledCount,
    },
  );
  let lastError = '';
  worker.on('error', (error) => {
    // ioredis repeats the same connection error on every retry: report each kind once.
    if (error.message === lastError) return;
    lastError = error.message;
    emit({ type: 'error', message: error.message });
  });

  const stopped = new Promise<void>((resolve) => {
    if (options.signal?.aborted) resolve();
    options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  const running = worker.run();
  running.catch(() => {});
  void worker.waitUntilReady().then(
    () => emit({ type: 'ready', where: describeRedis(endpoint), queue, concurrency }),
    () => {},
  );
  await stopped;
  emit({ type: 'stopping', running: summary.completed + summary.failed });
  // close() stops fetching and waits for the jobs in hand. If Redis is gone it would wait for
  // Redis forever: once our jobs are done, give it a few seconds, then drop the connections
  // (a result that could not be saved is retried elsewhere, as for a dead worker).
  const closing = worker.close();
  closing.catch(() => {});
  if (active > 0) await new Promise<void>((resolve) => idle.push(resolve));
  if (!(await settlesWithin(closing, closeGraceMs))) {
    // close() is still waiting for Redis (for the blocking connection to end, which a
    // connection waiting to reconnect never does), so it has not stopped the timers that keep
    // the process alive: stop them here (the stalled-job check's, by pausing; the lock
    // renewal's), and drop the connections without waiting for Redis to see them go.
    void worker.pause(true).catch(() => {});
    await worker.stopRenewingLocks();
    // disconnect() first waits for a connection to be ready: one that never reached Redis
    // would go on reconnecting. A forced close drops it (or a ready one) without asking Redis.
    const backend = worker.getBackend();
    void backend.connection.close(true).catch(() => {});
    void backend.blockingConnection?.close(true).catch(() => {});
    void worker.disconnect().catch(() => {});
  } else await running.catch(() => {});
  if (ownExecutor) await executor.shutdown({ wait: true });
  return summary;
}

/** BullMQ's worker, which can also stop renewing its job locks without Redis. */
class TaskQueueWorker extends Worker {
  /** What close() does only once Redis answered: the renewal timer stops. */
  stopRenewingLocks(): Promise<void> {
    return this.lockManager.close();
  }
}

/** How long a stopping worker waits for Redis after its jobs are done. */
const closeGraceMs = 5000;

/** Runs one task job and returns the result record; never throws. */
export async function runTaskJob(
  job: Job,
  executor: Executor,
  resolveModule: (url: string) => string | undefined = fileUrlsOnly,
): Promise<TaskJobResult> {
  const data = job.name === taskJobName ? readTaskJobData(job.data) : undefined;
  if (data === undefined) {
    return {
      ok: false,
      error: encodeDistributedError(
        `job ${job.id} (${job.name}) is not a forage task of this version; is another program using the same queue?`,
        ErrorCode.jobMalformed,
      ),
    };
  }
  const moduleUrl = resolveModule(data.url);
  if (moduleUrl === undefined) {
    return {
      ok: false,
      error: encodeDistributedError(
        `refusing to import ${data.url.slice(0, 120)}: this worker does not run that module`,
        ErrorCode.moduleRefused,
      ),
    };
  }
  let args: unknown;
  try {
    args = decodeValue(data.args);
  } catch (error) {
    return {
      ok: false,
      error: encodeDistributedError(
        `cannot read the arguments of job ${job.id}: ${(error as Error).message}`,
        ErrorCode.jobMalformed,
      ),
    };
  }
  if (!Array.isArray(args)) {
    return {
      ok: false,
      error: encodeDistributedError(
        `the arguments of job ${job.id} are not an array`,
        ErrorCode.jobMalformed,
      ),
    };
  }
  const fn = (taskModule<Record<string, TaskFunction>>(moduleUrl) as Record<string, TaskFunction>)[
    data.exportName
  ] as TaskFunction;
  try {
    const value: unknown = await executor.submit(fn, ...args);
    return { ok: true, value: encodeValue(value, `the result of ${data.exportName}`) };
  } catch (error) {
    return { ok: false, error: encodeError(error) };
  }
}

function describeTask(data: unknown): string {
  const parsed = readTaskJobData(data);
  if (parsed === undefined) return '(not a task)';
  const file = parsed.url.slice(parsed.url.lastIndexOf('/') + 1);
  return `${file}#${parsed.exportName}`;
}

/**
 * The default module policy. Anyone who can write to the queue chooses what runs: only modules
 * already on this machine's disk may be imported, never code shipped inside a job (`data:` or
 * `http:` URLs).
 */
function fileUrlsOnly(url: string): string | undefined {
  return url.startsWith('file:') ? url : undefined;
}

/** `{ errorCode }` of an encoded error that has a string `code`, else `{}`. */
function errorCodeOf(error: EncodedError): { errorCode?: string } {
  try {
    const code = (decodeError(error) as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? { errorCode: code } : {};
  } catch {
    return {};
  }
}
