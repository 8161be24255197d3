/**
 * `Executor`: the abstract interface of every executor (CPython `Executor`): `submit`, `map`,
 * `shutdown`, and `await using` support.
 */
import { checkOptions, checkPositiveInteger, invalidArgType } from './errors.js';
import type { Future } from './future.js';
import { checkTimeout } from './future.js';
import { type ChunkOutcome, MapIterator, type MapResults } from './map.js';

/** Options of {@link Executor.map}. */
export interface MapOptions {
  /** Deadline for the whole iteration, counted from the `map()` call. */
  timeoutMs?: number;
  /**
   * Items sent to a worker per message (thread and process pools); results still arrive one by
   * one and in order. Default 1. Ignored by `AsyncExecutor`.
   */
  chunksize?: number;
  /**
   * Most tasks (chunks) submitted ahead of the consumer; the input is read lazily. Without it
   * a synchronous input is read completely at the `map()` call, as in CPython.
   */
  buffersize?: number;
}

const MAP_OPTIONS = ['timeoutMs', 'chunksize', 'buffersize'];
/** @internal */
export const SHUTDOWN_OPTIONS = ['wait', 'cancelFutures'];

/** Options of {@link Executor.submitWith}. */
export interface SubmitOptions {
  /**
   * Aborting it cancels the task if it has not started (the future then rejects with
   * `CancelledError`). A task that is already running is not interrupted: its future settles
   * with its result or error, as with `future.cancel()`.
   */
  signal?: AbortSignal;
}

/** Options of {@link Executor.shutdown}. */
export interface ShutdownOptions {
  /** Wait until every queued and running task has finished and workers exited. Default true. */
  wait?: boolean;
  /** Cancel every task that has not started. Default false. */
  cancelFutures?: boolean;
}

/** One iterable (sync or async) per parameter of the mapped function. */
export type IterablesOf<A extends readonly unknown[]> = {
  [K in keyof A]: Iterable<A[K]> | AsyncIterable<A[K]>;
};

/** Any function: the executors accept sync and async functions and task references. */
export type TaskFunction<A extends unknown[] = any[], R = unknown> = (...args: A) => R;

/**
 * The common interface of {@link ThreadPoolExecutor}, {@link ProcessPoolExecutor} and
 * {@link AsyncExecutor}.
 */
export abstract class Executor implements AsyncDisposable {
  /**
   * Schedules `fn(...args)` and returns a {@link Future} for its result.
   * @throws {@link ExecutorShutdownError} after `shutdown()`, {@link BrokenExecutor} if broken.
   */
  abstract submit<A extends unknown[], R>(fn: TaskFunction<A, R>, ...args: A): Future<Awaited<R>>;

  /**
   * Like {@link submit}, with options first (`submit` takes its arguments variadically, so
   * options cannot follow them). With an already aborted `signal`, the task never runs and the
   * future comes back cancelled.
   *
   * @example
   * ```ts
   * const controller = new AbortController();
   * const future = executor.submitWith({ signal: controller.signal }, tasks.sumPrimes, 400_000);
   * controller.abort(); // cancels it if it is still queued
   * ```
   */
  submitWith<A extends unknown[], R>(
    options: SubmitOptions,
    fn: TaskFunction<A, R>,
    ...args: A
  ): Future<Awaited<R>> {
    if (typeof options !== 'object' || options === null) {
      throw invalidArgType(
        `submitWith() needs an options object first, e.g. submitWith({ signal }, fn, ...args); got ${options === null ? 'null' : typeof options}`,
      );
    }
    const { signal } = checkOptions(options, ['signal'], 'submitWith()');
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw invalidArgType('the signal option must be an AbortSignal');
    }
    const future = this.submit(fn, ...args);
    if (signal === undefined) return future;
    if (signal.aborted) {
      future.cancel();
      return future;
    }
    const onAbort = () => future.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    future.addDoneCallback(() => signal.removeEventListener('abort', onAbort));
    return future;
  }

  /**
   * Stops accepting work. Idempotent.
   * @param options.wait wait for queued and running tasks (default `true`).
   * @param options.cancelFutures cancel the tasks that have not started (default `false`).
   */
  abstract shutdown(options?: ShutdownOptions): Promise<void>;

  /**
   * Like `Array.prototype.map` over one or more iterables zipped together (stopping at the
   * shortest), run concurrently. Results come in input order. A task's error is thrown when its
   * position is reached, after the earlier results; the iteration then ends and the tasks that
   * have not started are cancelled (CPython 3.14). Leaving the loop early (`break`) cancels
   * them too.
   *
   * @example
   * ```ts
   * for await (const square of executor.map((x: number) => x * x, [1, 2, 3], { chunksize: 256 })) {
   *   console.log(square);
   * }
   * ```
   */
  map<A extends unknown[], R>(
    fn: TaskFunction<A, R>,
    ...iterables: [...IterablesOf<A>] | [...IterablesOf<A>, MapOptions]
  ): MapResults<Awaited<R>> {
    if (typeof fn !== 'function') {
      throw invalidArgType(`map() needs a function as its first argument, got ${typeof fn}`);
    }
    const { sources, options } = splitMapArguments(iterables as unknown[]);
    // A misspelt option (`chunkSize`) would be ignored without a word; so would an input that is
    // not iterable in last place, which reads as options.
    checkOptions(
      options,
      MAP_OPTIONS,
      'map()',
      {},
      '; its last argument, not being iterable, was read as options',
    );
    const chunksize = checkPositiveInteger(options.chunksize, 'chunksize') ?? 1;
    const buffersize = checkPositiveInteger(options.buffersize, 'buffersize');
    if (options.timeoutMs !== undefined) checkTimeout(options.timeoutMs);
    this._checkOpen();
    this._checkTask(fn as TaskFunction);
    const submitChunk = this._submitChunk;
    return new MapIterator<Awaited<R>>({
      sources,
      chunksize: submitChunk === undefined ? 1 : chunksize,
      buffersize,
      timeoutMs: options.timeoutMs,
      submitOne: (args) => this.submit(fn as TaskFunction, ...args) as Future<unknown>,
      submitChunk:
        submitChunk === undefined
          ? undefined
          : (source, start, end, spread) => submitChunk.call(this, fn, source, start, end, spread),
    });
  }

  /** Shuts down with `wait: true`, for `await using executor = new ThreadPoolExecutor()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }

  /** Throws if the executor no longer accepts work. @internal */
  protected abstract _checkOpen(): void;

  /**
   * Throws if `fn` cannot run on this executor (a pool cannot send a built-in function to its
   * workers), so that `map()` refuses it at the call, as `submit()` does, rather than at the
   * first result. @internal
   */
  protected _checkTask(_fn: TaskFunction): void {}

  /**
   * Runs several calls of `fn` as one task (one message to a worker): `fn(...item)` for each
   * item of `source[start..end)` if `spread`, else `fn(item)`. The range is read now: an
   * array input may change later (a group array that `map()` built for this call alone may be
   * kept as it is). Executors that cannot batch leave it undefined and `map()` ignores
   * `chunksize`. @internal
   */
  protected _submitChunk?(
    fn: TaskFunction,
    source: unknown[],
    start: number,
    end: number,
    spread: boolean,
  ): Future<ChunkOutcome>;
}

function isIterable(value: unknown): boolean {
  return (
    value != null &&
    (typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' ||
      typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function')
  );
}

function splitMapArguments(args: unknown[]): {
  sources: (Iterable<unknown> | AsyncIterable<unknown>)[];
  options: MapOptions;
} {
  const last = args.at(-1);
  const hasOptions =
    args.length > 0 && typeof last === 'object' && last !== null && !isIterable(last);
  const sources = hasOptions ? args.slice(0, -1) : args;
  sources.forEach((source, i) => {
    if (!isIterable(source)) {
      throw invalidArgType(
        `map() argument ${i + 2} must be an iterable or async iterable, got ${source === null ? 'null' : typeof source}`,
      );
    }
  });
  return {
    sources: sources as (Iterable<unknown> | AsyncIterable<unknown>)[],
    options: hasOptions ? (last as MapOptions) : {},
  };
}
