/**
 * `AsyncExecutor`: runs async functions on the calling thread, at most `maxWorkers` at once.
 * In Node, I/O-bound work belongs here, where Python would use a thread pool.
 */
import { availableParallelism } from 'node:os';
import { Deque } from './deque.js';
import {
  checkInteger,
  checkOptions,
  ExecutorShutdownError,
  invalidArgType,
  invalidArgValue,
} from './errors.js';
import { Executor, SHUTDOWN_OPTIONS, type ShutdownOptions, type TaskFunction } from './executor.js';
import { Future } from './future.js';
import { loadTaskFunction, taskRefOf } from './task-module.js';

/** Options of {@link AsyncExecutor}. */
export interface AsyncExecutorOptions {
  /** Most tasks running at once. Default `min(32, cpus + 4)`, like Python's thread pool. */
  maxWorkers?: number;
}

interface WorkItem {
  future: Future<unknown>;
  fn: TaskFunction;
  args: unknown[];
}

/**
 * The CPUs this process may run on (Python's `os.process_cpu_count()`): fewer than the machine
 * has when it is pinned to some (`taskset`, a container's cpuset), which `os.cpus()` ignores.
 */
export function processCpuCount(): number {
  return Math.max(1, availableParallelism());
}

/** Python's default worker count for a thread pool: `min(32, process_cpu_count() + 4)`. */
export function defaultMaxWorkers(extra: number): number {
  return Math.min(32, processCpuCount() + extra);
}

/** Validates `maxWorkers` (Python: `ValueError("max_workers must be greater than 0")`). */
export function checkMaxWorkers(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  checkInteger(value, 'maxWorkers');
  if (value <= 0) throw invalidArgValue(`maxWorkers must be greater than 0, got ${value}`);
  return value;
}

/** Throws a clear `TypeError` unless `fn` is callable. */
export function checkTaskFunction(fn: unknown, what = 'submit()'): asserts fn is TaskFunction {
  if (typeof fn !== 'function') {
    throw invalidArgType(
      `${what} needs a function as its first argument, got ${fn === null ? 'null' : typeof fn}`,
    );
  }
}

/**
 * Runs sync or async functions on the calling thread's event loop with bounded concurrency.
 * Tasks start in submission order on a later microtask, never inside `submit()`.
 *
 * @example
 * ```ts
 * await using fetcher = new AsyncExecutor({ maxWorkers: 8 });
 * const pages = urls.map((url) => fetcher.submit(async (u: string) => (await fetch(u)).text(), url));
 * for await (const page of asCompleted(pages)) console.log((await page).length);
 * ```
 */
export class AsyncExecutor extends Executor {
  readonly #maxWorkers: number;
  readonly #queue = new Deque<WorkItem>();
  #running = 0;
  #scheduled = false;
  #shutdown = false;
  #idle: (() => void)[] = [];

  constructor(options: AsyncExecutorOptions = {}) {
    super();
    checkOptions(options, ['maxWorkers'], 'new AsyncExecutor()');
    this.#maxWorkers = checkMaxWorkers(options.maxWorkers, defaultMaxWorkers(4));
  }

  /** The concurrency limit. */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  submit<A extends unknown[], R>(fn: TaskFunction<A, R>, ...args: A): Future<Awaited<R>> {
    checkTaskFunction(fn);
    this._checkOpen();
    const future = new Future<Awaited<R>>();
    this.#queue.push({ future: future as Future<unknown>, fn: fn as TaskFunction, args });
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#drain());
    }
    return future;
  }

  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = checkOptions(
      options,
      SHUTDOWN_OPTIONS,
      'shutdown()',
    );
    this.#shutdown = true;
    if (cancelFutures) {
      for (const item of this.#queue.drain()) {
        if (item.future.cancel()) item.future._start(); // false: settled by hand
      }
    }
    if (wait && (this.#running > 0 || this.#queue.length > 0)) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
  }

  protected _checkOpen(): void {
    if (this.#shutdown) throw new ExecutorShutdownError();
  }

  #drain(): void {
    this.#scheduled = false;
    while (this.#running < this.#maxWorkers && this.#queue.length > 0) {
      const item = this.#queue.shift() as WorkItem;
      // Cancelled, or taken over by the caller (see Future._start): not run.
      if (!item.future._start()) continue;
      this.#running += 1;
      void this.#run(item);
    }
    this.#notifyIdle();
  }

  async #run({ future, fn, args }: WorkItem): Promise<void> {
    // A future settled by hand while its task ran keeps that outcome.
    try {
      const ref = taskRefOf(fn);
      const callable = ref === undefined ? fn : await loadTaskFunction(ref);
      const value = await callable(...args);
      if (!future.done()) future.setResult(value);
    } catch (error) {
      if (!future.done()) future.setException(error);
    } finally {
      this.#running -= 1;
      this.#drain();
    }
  }

  #notifyIdle(): void {
    if (this.#running > 0 || this.#queue.length > 0 || this.#idle.length === 0) return;
    const waiters = this.#idle;
    this.#idle = [];
    for (const resolve of waiters) resolve();
  }
}
