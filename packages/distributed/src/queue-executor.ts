/**
 * `QueueExecutor`: an {@link Executor} whose tasks run in `forage worker` processes on any
 * machine, through a BullMQ queue on Redis. Tasks are `taskModule` references (a module URL and
 * an export name), because a closure cannot travel between machines.
 *
 * How a future settles: the job goes into the queue with an id of the form
 * `<executor id>-<n>`; BullMQ's queue events tell this executor when a worker starts it
 * (the future becomes RUNNING) and when it finishes (the worker's return value carries the
 * task's result or error). Events are a capped Redis stream, so an executor that falls far
 * behind, or one that lost its connection while Redis restarted, could miss some: a job not
 * heard of for a while (whatever other jobs' events arrive) has its state looked up in Redis
 * (not its payload), less and less often while it waits or runs. Either path can win; a future
 * settles once.
 */
import { randomBytes } from 'node:crypto';
import {
  Executor,
  ExecutorShutdownError,
  Future,
  type ShutdownOptions,
  type TaskFunction,
} from '@forage/futures';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { decodeError, decodeValue, encodeValue, isEncodedError } from './codec.js';
import {
  describeRedis,
  ioRedisOptions,
  parseRedis,
  type RedisConnection,
  type RedisEndpoint,
} from './connection.js';
import {
  checkName,
  DistributedError,
  durationMs,
  ErrorCode,
  invalidOption,
  maxTimerMs,
  positiveInteger,
} from './errors.js';
import {
  defaultPrefix,
  defaultQueueName,
  type TaskJobData,
  type TaskJobResult,
  taskJobName,
} from './protocol.js';
import { settlesWithin } from './settles-within.js';
import { taskRefOf } from './task-ref.js';

/** Options of {@link QueueExecutor}. */
export interface QueueExecutorOptions {
  /** Where Redis is: `redis://127.0.0.1:6379`, or its parts. */
  connection: RedisConnection;
  /** The BullMQ queue name; workers must use the same. Default `forage-tasks`. */
  queue?: string;
  /** The Redis key prefix. Default `forage`. */
  prefix?: string;
  /**
   * How long a finished job stays in Redis (seconds), for inspection. Default 3600. Older ones
   * are removed when a later job finishes (BullMQ's rule) and when an executor connects (for a
   * queue that went quiet).
   */
  keepJobsSeconds?: number;
  /**
   * A pending job not heard of (no event for it, no look-up) for this long has its state looked
   * up in Redis directly. A job still queued or running is looked up again after twice as long
   * each time (up to 60 s); an event for it starts over. Default 2000 ms.
   */
  reconcileIntervalMs?: number;
  /**
   * How long the first connection to Redis may take before the waiting futures fail with
   * `ERR_QUEUE_UNAVAILABLE`. Once connected, a Redis restart is waited out. Default 10000 ms.
   */
  connectTimeoutMs?: number;
  /**
   * A name for the program's jobs (letters, digits, `_`, `-`): their ids start with it, so that
   * a later run of the same program can find the jobs an earlier one left queued with
   * {@link QueueExecutor.removeQueuedJobs}. Default: none.
   */
  jobGroup?: string;
}

function checkJobGroup(value: unknown, name = 'jobGroup'): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    throw invalidOption(
      `${name} must be 1 to 64 letters, digits, '_' or '-', got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

interface Pending {
  readonly future: Future<unknown>;
  /** Resolves once the job is in Redis (or was never added). */
  added: Promise<void>;
  /**
   * When the job was handed to Redis, or last heard of (an event, a look-up): its state is
   * looked up in Redis once this is `checkAfterMs` old.
   */
  since: number;
  /**
   * `reconcileIntervalMs`, doubled (up to {@link maxCheckAfterMs}) each time a look-up finds the
   * job still queued or running; back to `reconcileIntervalMs` on an event for it.
   */
  checkAfterMs: number;
}

/** Jobs submitted in one tick, waiting to go to Redis together. */
interface AddBatch {
  readonly items: { jobId: string; data: TaskJobData; pending: Pending }[];
  done: Promise<void>;
}

/** Most jobs per `addBulk` call. */
const addBatchSize = 500;

/** Most jobs looked up in Redis per reconciliation round. */
const reconcileBatch = 200;

/** The longest a job still queued or running goes without a look-up (unless less is asked). */
const maxCheckAfterMs = 60_000;

/** How long closing may wait for Redis before the connections are dropped. */
const closeGraceMs = 2000;

/** States of a job that is still on its way: heard of, nothing to settle. */
const unfinishedStates = new Set([
  'waiting',
  'delayed',
  'prioritized',
  'active',
  'waiting-children',
]);

/**
 * An executor whose tasks run in `forage worker` processes on any machine.
 *
 * @example
 * ```ts
 * import { taskModule } from '@forage/futures';
 * import { QueueExecutor } from '@forage/distributed';
 *
 * const tasks = taskModule<typeof import('./primes.js')>(new URL('./primes.js', import.meta.url));
 * await using executor = new QueueExecutor({ connection: 'redis://127.0.0.1:6379' });
 * for await (const total of executor.map(tasks.sumPrimes, [100_000, 200_000])) console.log(total);
 * ```
 * Start workers anywhere that has the same code at the same path:
 * `forage worker --queue redis://127.0.0.1:6379 --concurrency 4`.
 */
export class QueueExecutor extends Executor {
  /** The queue name workers must use. */
  readonly queueName: string;
  /** Starts every job id: `[group.]random`, then `-N`. */
  readonly #id: string;
  readonly #queue: Queue;
  #events: QueueEvents | undefined;
  readonly #redis: Redis;
  readonly #ready: Promise<void>;
  readonly #pending = new Map<string, Pending>();
  readonly #keepSeconds: number;
  readonly #reconcileMs: number;
  readonly #connectTimeoutMs: number;
  #connected = false;
  readonly #where: string;
  #seq = 0;
  #batch: AddBatch | undefined;
  #shutdown = false;
  /** Set at the start of closing, before any connection is closed. */
  #closing = false;
  #closed: Promise<void> | undefined;
  #idle: (() => void)[] = [];
  #reconcileTimer: NodeJS.Timeout | undefined;
  #reconciling = false;
  /** Removals of cancelled jobs from Redis, still under way. */
  readonly #removals = new Set<Promise<void>>();

  constructor(options: QueueExecutorOptions) {
    super();
    if (typeof options !== 'object' || options === null || options.connection === undefined) {
      throw invalidOption("QueueExecutor needs { connection: 'redis://HOST:PORT' }");
    }
    const endpoint = parseRedis(options.connection);
    this.#where = describeRedis(endpoint);
    this.queueName = checkName(options.queue, 'queue', defaultQueueName);
    const random = randomBytes(6).toString('hex');
    this.#id =
      options.jobGroup === undefined ? random : `${checkJobGroup(options.jobGroup)}.${random}`;
    const prefix = checkName(options.prefix, 'prefix', defaultPrefix);
    this.#keepSeconds = positiveInteger(options.keepJobsSeconds, 'keepJobsSeconds', 3600);
    this.#reconcileMs = durationMs(options.reconcileIntervalMs, 'reconcileIntervalMs', 2000);
    this.#connectTimeoutMs = durationMs(options.connectTimeoutMs, 'connectTimeoutMs', 10_000);
    // The producer fails a command after a bounded number of reconnection attempts (the future
    // then fails) instead of hanging forever; the event reader waits through restarts.
    this.#queue = new Queue(this.queueName, {
      connection: ioRedisOptions(endpoint, false),
      prefix,
    });
    this.#queue.on('error', () => {});
    this.#redis = new Redis({ ...ioRedisOptions(endpoint, false), lazyConnect: true });
    this.#redis.on('error', () => {});
    this.#ready = this.#listen(endpoint, prefix).then(() => {
      this.#connected = true;
      void this.#cleanFinished();
    });
    this.#ready.catch(() => {});
  }

  /**
   * Removes the jobs of `group` (see {@link QueueExecutorOptions.jobGroup}) that no worker has
   * started, other than this executor's own, and resolves how many went. For a program
   * restarted after a crash: the jobs its earlier run left queued would otherwise still be run,
   * by workers whose results nobody reads, while the new run queues the same work again. Jobs a
   * worker holds finish as usual.
   *
   * @example
   * ```ts
   * const executor = new QueueExecutor({ connection, jobGroup: 'nightly-report' });
   * await executor.removeQueuedJobs('nightly-report');
   * ```
   */
  async removeQueuedJobs(group: string): Promise<number> {
    const mark = `${checkJobGroup(group, 'group')}.`;
    await this.#whenConnected();
    const keys = this.#queue.keys;
    const ids: string[] = [];
    for (const key of [keys.wait, keys.paused] as string[]) {
      ids.push(...(await this.#redis.lrange(key, 0, -1)));
    }
    for (const key of [keys.prioritized, keys.delayed] as string[]) {
      ids.push(...(await this.#redis.zrange(key, '0', '-1')));
    }
    const stale = ids.filter((id) => id.startsWith(mark) && !id.startsWith(`${this.#id}-`));
    let removed = 0;
    // A hundred at a time: one round trip each, without a burst of thousands.
    for (let i = 0; i < stale.length; i += 100) {
      const counts = await Promise.all(
        stale.slice(i, i + 100).map((id) => this.#queue.remove(id).catch(() => 0)),
      );
      for (const n of counts) removed += n;
    }
    return removed;
  }

  /**
   * Removes the finished jobs older than `keepJobsSeconds`. BullMQ removes them by age only when
   * a later job finishes, so after the last job of a census they would stay in Redis for good.
   * Best effort and bounded: a closed executor or a Redis error just stops it.
   */
  async #cleanFinished(): Promise<void> {
    const graceMs = this.#keepSeconds * 1000;
    const batch = 1000;
    try {
      for (const type of ['completed', 'failed'] as const) {
        for (let round = 0; round < 100 && !this.#closing; round++) {
          const removed = await this.#queue.clean(graceMs, batch, type);
          if (removed.length < batch) break;
        }
      }
    } catch {
      // The next executor tries again.
    }
  }

  /**
   * Starts reading queue events from the stream's current end, as a fixed id: the reader's
   * first XREAD may come after our first job started, and `$` would then skip its events.
   * Jobs are added only after this resolves.
   */
  async #listen(endpoint: RedisEndpoint, prefix: string): Promise<void> {
    await this.#queue.waitUntilReady();
    // shutdown() may come at any await here: no connection may be opened after it, or its
    // socket would keep the process alive.
    this.#throwIfClosing();
    await this.#redis.connect();
    const last = await this.#redis.xrevrange(
      this.#queue.keys.events as string,
      '+',
      '-',
      'COUNT',
      1,
    );
    this.#throwIfClosing();
    const events = new QueueEvents(this.queueName, {
      connection: ioRedisOptions(endpoint, true),
      prefix,
      lastEventId: last[0]?.[0] ?? '0-0',
    });
    this.#events = events;
    events.on('error', () => {});
    events.on('active', ({ jobId }) => this.#onActive(jobId));
    events.on('completed', ({ jobId, returnvalue }) => this.#onCompleted(jobId, returnvalue));
    events.on('failed', ({ jobId, failedReason }) => this.#onFailed(jobId, failedReason));
    await events.waitUntilReady();
    if (this.#closing) {
      await events.close();
      this.#throwIfClosing();
    }
  }

  #throwIfClosing(): void {
    if (this.#closing) {
      throw new DistributedError(
        `the executor was shut down before it connected to ${this.#where}`,
        ErrorCode.queueUnavailable,
      );
    }
  }

  /**
   * Resolves once this executor is connected to Redis and reads its events.
   * @throws {@link DistributedError} `ERR_QUEUE_UNAVAILABLE` if the first connection takes
   *   longer than `connectTimeoutMs`.
   */
  async connected(): Promise<void> {
    try {
      await this.#whenConnected();
    } catch (error) {
      throw new DistributedError(
        `could not connect to ${this.#where}: ${(error as Error).message}`,
        ErrorCode.queueUnavailable,
        { cause: error },
      );
    }
  }

  /** Jobs submitted by this executor that have not settled. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Queues `fn(...args)` for a worker. `fn` must be a `taskModule` reference; arguments and
   * the result must be structured-cloneable.
   * @throws `TypeError` (`ERR_TASK_NOT_PORTABLE`) for a plain function,
   *   {@link ExecutorShutdownError} after `shutdown()`.
   */
  submit<A extends unknown[], R>(fn: TaskFunction<A, R>, ...args: A): Future<Awaited<R>> {
    if (typeof fn !== 'function') {
      throw Object.assign(
        new TypeError(
          `submit() needs a task reference as its first argument, got ${fn === null ? 'null' : typeof fn}`,
        ),
        {
          code: 'ERR_INVALID_ARG_TYPE',
        },
      );
    }
    const ref = taskRefOf(fn);
    if (ref === undefined) {
      throw Object.assign(
        new TypeError(
          `QueueExecutor runs tasks on other machines, which cannot receive a function (${fn.name || 'anonymous'}); export it from a module and submit a reference: const tasks = taskModule<typeof import('./tasks.js')>(new URL('./tasks.js', import.meta.url)); executor.submit(tasks.${fn.name || 'myTask'}, ...args)`,
        ),
        { code: ErrorCode.taskNotPortable },
      );
    }
    this._checkOpen();
    const future = new Future<Awaited<R>>();
    const jobId = `${this.#id}-${++this.#seq}`;
    let data: TaskJobData;
    try {
      data = {
        v: 1,
        url: ref.url,
        exportName: ref.exportName,
        args: encodeValue(args, `the arguments of ${ref.exportName}`),
      };
    } catch (error) {
      future.setRunningOrNotifyCancel();
      future.setException(error);
      return future;
    }
    const pending: Pending = {
      future: future as Future<unknown>,
      added: Promise.resolve(),
      since: Date.now(),
      checkAfterMs: this.#reconcileMs,
    };
    this.#pending.set(jobId, pending);
    pending.added = this.#add(jobId, data, pending);
    future.addDoneCallback((f) => {
      if (f.cancelled()) this.#onCancel(jobId, pending);
    });
    this.#startReconciling();
    return future;
  }

  /**
   * Stops accepting tasks. With `cancelFutures`, removes every job no worker has started;
   * with `wait` (default), resolves once every other future has settled. The Redis
   * connections close when nothing is pending.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = options;
    this.#shutdown = true;
    if (cancelFutures) {
      for (const { future } of [...this.#pending.values()]) {
        if (future.state === 'PENDING') future.cancel();
      }
    }
    // The removals of cancelled jobs must reach Redis before the connections close, or the
    // jobs stay queued and a later worker runs them although their futures say cancelled.
    const idle = this.#whenIdle()
      .then(() => this.#whenRemoved())
      .then(() => this.#close());
    if (wait) await idle;
    else idle.catch(() => {});
  }

  /**
   * Stops at once, for an error or abort path: no new tasks; the futures no worker has started
   * are cancelled (their jobs removed from Redis, for up to `removeWaitMs`); the others fail
   * with `ERR_EXECUTOR_ABORTED` (their jobs may still run; the results are ignored); the Redis
   * connections close. Unlike `shutdown({ wait: false })`, nothing is left holding the process
   * open while started jobs have not finished (or never will, their worker gone).
   */
  async abort(reason?: unknown, removeWaitMs = 2000): Promise<void> {
    // Checked before anything stops: a refused call leaves the executor as it was.
    if (typeof removeWaitMs !== 'number' || !Number.isInteger(removeWaitMs) || removeWaitMs < 0) {
      throw invalidOption(
        `removeWaitMs must be an integer number of ms >= 0, got ${String(removeWaitMs)}`,
      );
    }
    if (removeWaitMs > maxTimerMs) {
      throw invalidOption(
        `removeWaitMs must be at most ${maxTimerMs} ms (about 24.8 days, the longest timer Node.js can set), got ${removeWaitMs}`,
      );
    }
    this.#shutdown = true;
    for (const [jobId, { future }] of [...this.#pending.entries()]) {
      if (future.state === 'PENDING') future.cancel();
      if (future.done()) continue;
      this.#settle(
        jobId,
        () =>
          new DistributedError(
            `the executor was stopped before job ${jobId} finished${reason instanceof Error ? ` (${reason.message})` : ''}`,
            ErrorCode.executorAborted,
            reason === undefined ? undefined : { cause: reason },
          ),
        true,
      );
    }
    await settlesWithin(Promise.allSettled([...this.#removals]), removeWaitMs);
    await this.#close();
  }

  protected _checkOpen(): void {
    if (this.#shutdown) throw new ExecutorShutdownError();
  }

  /**
   * Queues a job. Jobs submitted in the same tick go to Redis together (one `addBulk`, one
   * round trip), which is most of the cost of a small task.
   */
  #add(jobId: string, data: TaskJobData, pending: Pending): Promise<void> {
    let batch = this.#batch;
    if (batch === undefined) {
      const fresh: AddBatch = { items: [], done: undefined as unknown as Promise<void> };
      fresh.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
        this.#flush(fresh),
      );
      this.#batch = fresh;
      batch = fresh;
    }
    batch.items.push({ jobId, data, pending });
    return batch.done;
  }

  async #flush(batch: AddBatch): Promise<void> {
    if (this.#batch === batch) this.#batch = undefined;
    let items = batch.items;
    /** How many of `items` Redis took for certain. */
    let added = 0;
    let tried = false;
    try {
      await this.#whenConnected();
      items = batch.items.filter((item) => !item.pending.future.cancelled());
      for (let i = 0; i < items.length; i += addBatchSize) {
        const slice = items.slice(i, i + addBatchSize);
        tried = true;
        await this.#queue.addBulk(
          slice.map(({ jobId, data }) => ({
            name: taskJobName,
            data,
            opts: {
              jobId,
              attempts: 1,
              removeOnComplete: { age: this.#keepSeconds },
              removeOnFail: { age: this.#keepSeconds },
            },
          })),
        );
        const now = Date.now();
        for (const item of slice) item.pending.since = now;
        added = i + slice.length;
      }
    } catch (error) {
      const unsure = items.slice(added);
      // A bulk add is one transaction of one script per job, and Redis may refuse some and run
      // the others (out of memory part-way): those queued stay pending and run; only the
      // others fail, so that a future failed as not queued has no job behind it.
      const inRedis = tried ? await this.#jobsInRedis(unsure.map((item) => item.jobId)) : new Set();
      const now = Date.now();
      for (const { jobId, pending } of unsure) {
        if (inRedis?.has(jobId)) {
          pending.since = now;
          continue;
        }
        // Not known to be in Redis: if the look-up failed, it may be there after all.
        if (inRedis === undefined) this.#removeJob(jobId, Promise.resolve());
        this.#settle(
          jobId,
          () =>
            new DistributedError(
              `could not queue the task on ${this.#where}: ${(error as Error).message}`,
              ErrorCode.queueUnavailable,
              {
                cause: error,
              },
            ),
          true,
        );
      }
    }
  }

  /** Which of `jobIds` have a job in Redis; `undefined` if Redis cannot say. */
  async #jobsInRedis(jobIds: string[]): Promise<Set<string> | undefined> {
    try {
      const pipeline = this.#redis.pipeline();
      for (const jobId of jobIds) pipeline.exists(this.#queue.toKey(jobId));
      const replies = (await pipeline.exec()) ?? [];
      const found = new Set<string>();
      for (const [i, [error, count]] of replies.entries()) {
        if (error) return undefined;
        if (count === 1) found.add(jobIds[i] as string);
      }
      return found;
    } catch {
      return undefined;
    }
  }

  /** Resolves once connected; rejects if the first connection takes too long. */
  #whenConnected(): Promise<void> {
    if (this.#connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no answer within ${this.#connectTimeoutMs} ms; is redis-server running there? (start it with: redis-server --port PORT --appendonly yes)`,
            ),
          ),
        this.#connectTimeoutMs,
      );
      this.#ready.then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  #onCancel(jobId: string, pending: Pending): void {
    // Acknowledge the cancel so wait() and asCompleted() count the future as done.
    if (pending.future.state === 'CANCELLED') pending.future.setRunningOrNotifyCancel();
    this.#pending.delete(jobId);
    // The job may already be in Redis: take it out unless a worker holds it (then its result
    // is ignored: the future is cancelled).
    this.#removeJob(jobId, pending.added);
  }

  /** Removes a job from Redis once `after` settles; shutdown() and abort() wait for it. */
  #removeJob(jobId: string, after: Promise<void>): void {
    const removal: Promise<void> = after
      .then(() => this.#queue.remove(jobId))
      .then(
        () => {},
        () => {},
      )
      .finally(() => {
        this.#removals.delete(removal);
        this.#notifyIdle();
      });
    this.#removals.add(removal);
  }

  #onActive(jobId: string): void {
    const pending = this.#pending.get(jobId);
    if (pending === undefined) return;
    pending.since = Date.now();
    pending.checkAfterMs = this.#reconcileMs;
    if (pending.future.state === 'PENDING') pending.future.setRunningOrNotifyCancel();
  }

  #onCompleted(jobId: string, returnvalue: unknown): void {
    if (!this.#pending.has(jobId)) return;
    const result = returnvalue as TaskJobResult | null;
    if (result && result.ok === true && typeof result.value === 'string') {
      this.#settle(jobId, () => decodeValue(result.value), false);
    } else if (result && result.ok === false && isEncodedError(result.error)) {
      const encoded = result.error;
      this.#settle(jobId, () => decodeError(encoded), true);
    } else {
      this.#settle(
        jobId,
        () =>
          new DistributedError(
            `job ${jobId} completed with a value that is not a forage task result`,
            ErrorCode.jobMalformed,
          ),
        true,
      );
    }
  }

  #onFailed(jobId: string, failedReason: string): void {
    if (!this.#pending.has(jobId)) return;
    this.#settle(
      jobId,
      () =>
        new DistributedError(
          `the task's job ${jobId} failed in the queue: ${failedReason} (its workers died or lost their lock too often; see forage worker --max-stalled)`,
          ErrorCode.jobFailed,
        ),
      true,
    );
  }

  /** Settles a pending future once; `make` builds the value or error lazily. */
  #settle(jobId: string, make: () => unknown, failed: boolean): void {
    const pending = this.#pending.get(jobId);
    if (pending === undefined) return;
    this.#pending.delete(jobId);
    const { future } = pending;
    if (!future.done()) {
      if (future.state === 'PENDING') future.setRunningOrNotifyCancel();
      let value: unknown;
      let isError = failed;
      try {
        value = make();
      } catch (error) {
        value = error;
        isError = true;
      }
      if (isError) future.setException(value);
      else future.setResult(value);
    }
    this.#notifyIdle();
  }

  #startReconciling(): void {
    if (this.#reconcileTimer !== undefined) return;
    this.#reconcileTimer = setInterval(
      () => void this.#reconcile(),
      Math.max(100, this.#reconcileMs / 2),
    );
    this.#reconcileTimer.unref();
  }

  /**
   * Looks up, in Redis, the state of the jobs not heard of for their `checkAfterMs` (the most
   * overdue first, at most {@link reconcileBatch}), whose events may have been missed. Per job:
   * the events of other jobs (this executor's or another client's on the same queue) say
   * nothing about this one. Only the state is read (no payload: a languages job carries 100
   * repositories); a job still queued or running is heard of, and looked up again after twice
   * as long. A finished job is fetched, to settle its future; a job that is gone is lost.
   */
  async #reconcile(): Promise<void> {
    if (this.#pending.size === 0) {
      clearInterval(this.#reconcileTimer);
      this.#reconcileTimer = undefined;
      return;
    }
    const now = Date.now();
    if (this.#reconciling) return;
    this.#reconciling = true;
    try {
      const due = (p: Pending) => p.since + p.checkAfterMs;
      const stale = [...this.#pending.entries()]
        .filter(([, p]) => now >= due(p) && !p.future.done())
        .sort((a, b) => due(a[1]) - due(b[1]))
        .slice(0, reconcileBatch);
      for (const [jobId, pending] of stale) {
        await pending.added;
        if (!this.#pending.has(jobId)) continue;
        const state = await this.#queue.getJobState(jobId);
        if (state === 'completed' || state === 'failed') {
          const job = (await this.#queue.getJob(jobId)) as Job | undefined;
          pending.since = Date.now();
          this.#reconcileJob(jobId, job);
        } else if (unfinishedStates.has(state)) {
          pending.since = Date.now();
          pending.checkAfterMs = Math.min(
            Math.max(maxCheckAfterMs, this.#reconcileMs),
            pending.checkAfterMs * 2,
          );
          if (state === 'active' && pending.future.state === 'PENDING') {
            pending.future.setRunningOrNotifyCancel();
          }
        } else {
          // 'unknown': in no list of the queue, so removed, or Redis lost its data.
          this.#reconcileJob(jobId, undefined);
        }
      }
    } catch {
      // Redis is unreachable: try again next round.
    } finally {
      this.#reconciling = false;
    }
  }

  #reconcileJob(jobId: string, job: Job | undefined): void {
    if (!this.#pending.has(jobId)) return;
    if (job === undefined) {
      this.#settle(
        jobId,
        () =>
          new DistributedError(
            `the task's job ${jobId} is no longer in ${this.#where} (removed, or Redis lost its data)`,
            ErrorCode.jobLost,
          ),
        true,
      );
      return;
    }
    if (job.finishedOn === undefined) {
      if (job.processedOn !== undefined) this.#onActive(jobId);
      return;
    }
    if (job.failedReason && job.returnvalue == null) this.#onFailed(jobId, job.failedReason);
    else this.#onCompleted(jobId, job.returnvalue);
  }

  #whenIdle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Resolves once every removal of a cancelled job has finished (or failed). */
  async #whenRemoved(): Promise<void> {
    // Once nothing is pending no future can be cancelled any more, so no removal starts and
    // the loop ends.
    while (this.#removals.size > 0) await Promise.allSettled([...this.#removals]);
  }

  #notifyIdle(): void {
    if (this.#pending.size > 0 || this.#idle.length === 0) return;
    const waiters = this.#idle;
    this.#idle = [];
    for (const resolve of waiters) resolve();
  }

  /** Closes the connections, once; later calls get the same promise. */
  #close(): Promise<void> {
    if (this.#closed === undefined) {
      // Before anything else: #listen checks it after each of its awaits.
      this.#closing = true;
      this.#closed = this.#closeConnections();
    }
    return this.#closed;
  }

  async #closeConnections(): Promise<void> {
    clearInterval(this.#reconcileTimer);
    this.#reconcileTimer = undefined;
    // Not awaiting #ready: with Redis unreachable it never resolves, and shutdown must return.
    this.#redis.disconnect();
    // BullMQ's close() waits for Redis (a QUIT, the socket's end), so with Redis unreachable it
    // never returns: give it a moment, then drop the connections (their reconnection timers
    // would otherwise keep the process alive).
    const closing = Promise.allSettled([this.#events?.close(), this.#queue.close()]);
    if (!(await settlesWithin(closing, closeGraceMs))) {
      this.#events?.disconnect().catch(() => {});
      this.#queue.disconnect().catch(() => {});
    }
  }
}
