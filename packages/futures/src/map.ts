/**
 * The iterator behind `Executor.map()`: zips the inputs, submits tasks (one call or a chunk of
 * calls each), and yields results in input order with CPython 3.14's rules for timeouts, errors
 * and early exit.
 */
import { Deque } from './deque.js';
import { TimeoutError } from './errors.js';
import type { Future } from './future.js';
import { after } from './timer.js';

/** What a chunk task returns: the results up to the first failure, and that failure. @internal */
export interface ChunkOutcome {
  /** An array, or a typed array when every result is a number (see `packNumbers`). */
  values: ArrayLike<unknown>;
  failed: boolean;
  error: unknown;
}

/** @internal */
export interface MapPlan {
  sources: (Iterable<unknown> | AsyncIterable<unknown>)[];
  chunksize: number;
  buffersize: number | undefined;
  timeoutMs: number | undefined;
  submitOne(args: unknown[]): Future<unknown>;
  /** Submits `source[start..end)`: argument lists if `spread`, else single arguments. */
  submitChunk:
    | ((source: unknown[], start: number, end: number, spread: boolean) => Future<ChunkOutcome>)
    | undefined;
}

/** A position in the output: a submitted task, or an error met while reading the input. */
interface Slot {
  future: Future<unknown> | undefined;
  chunk: boolean;
  error: unknown;
}

// Items are argument lists, or, when mapping over one iterable, the values themselves: a
// million one-element arrays would be the main cost of a chunked map. `close` calls `return()`
// on the inputs' own iterators, as `for...of` does when a loop is left early.
type ArgsIterator = (
  | { sync: true; it: Iterator<unknown> }
  | { sync: false; it: AsyncIterator<unknown> }
  | { sync: true; it: undefined; array: unknown[] }
) & { close(): void };

/** Calls `return()` on each iterator that has one; what it throws or rejects with is dropped. */
function closeAll(its: (Iterator<unknown> | AsyncIterator<unknown>)[]): () => void {
  return () => {
    for (const it of its) {
      try {
        const done = it.return?.();
        if (done instanceof Promise) done.catch(() => {});
      } catch {
        // The map is being abandoned; an input that fails to close has nothing to report to.
      }
    }
  };
}

/**
 * Input `failed` of several zipped ones threw: the map ends there, so the others, which have not
 * ended, are closed as on any other early end (the failed one is done, per the protocol).
 */
function closeOthers(its: (Iterator<unknown> | AsyncIterator<unknown>)[], failed: number): void {
  closeAll(its.filter((_, i) => i !== failed))();
}

const arrayValues = Array.prototype[Symbol.iterator];
const arrayIteratorNext = Object.getPrototypeOf([][Symbol.iterator]()).next;

/**
 * An array read through its own, unpatched iterator: slicing it as the reads happen gives the
 * same items (a later read sees the array as it is then) without an iterator step per item.
 */
function isPlainArray(source: unknown): source is unknown[] {
  return (
    Array.isArray(source) &&
    source[Symbol.iterator] === arrayValues &&
    Object.getPrototypeOf([][Symbol.iterator]()).next === arrayIteratorNext
  );
}

function zip(sources: (Iterable<unknown> | AsyncIterable<unknown>)[]): ArgsIterator {
  const allSync = sources.every(
    (s) => typeof (s as Iterable<unknown>)[Symbol.iterator] === 'function',
  );
  if (allSync && sources.length === 1) {
    const source = sources[0] as Iterable<unknown>;
    if (isPlainArray(source)) return { sync: true, it: undefined, array: source, close() {} };
    const it = source[Symbol.iterator]();
    return { sync: true, it, close: closeAll([it]) };
  }
  if (allSync) {
    const its = sources.map((s) => (s as Iterable<unknown>)[Symbol.iterator]());
    return {
      sync: true,
      close: closeAll(its),
      it: {
        next(): IteratorResult<unknown> {
          if (its.length === 0) return { done: true, value: undefined };
          const args: unknown[] = new Array(its.length);
          for (let i = 0; i < its.length; i++) {
            let r: IteratorResult<unknown>;
            try {
              r = (its[i] as Iterator<unknown>).next();
            } catch (error) {
              closeOthers(its, i);
              throw error;
            }
            if (r.done) return { done: true, value: undefined };
            args[i] = r.value;
          }
          return { done: false, value: args };
        },
      },
    };
  }
  const its = sources.map((s) =>
    typeof (s as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
      ? (s as AsyncIterable<unknown>)[Symbol.asyncIterator]()
      : (s as Iterable<unknown>)[Symbol.iterator](),
  );
  const close = closeAll(its);
  if (its.length === 1) return { sync: false, it: its[0] as AsyncIterator<unknown>, close };
  return {
    sync: false,
    close,
    it: {
      async next(): Promise<IteratorResult<unknown>> {
        const args: unknown[] = new Array(its.length);
        for (let i = 0; i < its.length; i++) {
          let r: IteratorResult<unknown>;
          try {
            r = await (its[i] as AsyncIterator<unknown>).next();
          } catch (error) {
            closeOthers(its, i);
            throw error;
          }
          if (r.done) return { done: true, value: undefined };
          args[i] = r.value;
        }
        return { done: false, value: args };
      },
    },
  };
}

/**
 * What `Executor.map()` returns: an async iterator over the results, one at a time, that
 * can also hand them over in arrays with {@link MapResults.batches}.
 */
export interface MapResults<R> extends AsyncIterableIterator<R> {
  /**
   * The same results, in the same order, as arrays of the ones that are ready: typically a
   * chunk's results at a time (at most `max(chunksize, 1024)` per array, never empty). Each
   * `await` of the per-item iterator costs a promise and a microtask (about 70 ns, plus the
   * garbage it leaves); an array of 256 costs that once. Use it when the mapped function is
   * tiny and the items are many. It reads from the same iterator: results taken one way are
   * not seen the other way. Errors, `timeoutMs` and early exit (`break` cancels the tasks not
   * started) behave as with the per-item iteration; the results before a failed item come in
   * a batch first.
   *
   * @example
   * ```ts
   * for await (const batch of executor.map(inc, items, { chunksize: 256 }).batches()) {
   *   for (const y of batch) total += y;
   * }
   * ```
   */
  batches(): AsyncIterableIterator<R[]>;
}

/** Longest batch from {@link MapResults.batches} when `chunksize` is smaller. */
const MIN_BATCH_LIMIT = 1024;

/** @internal */
export class MapIterator<R> implements MapResults<R> {
  readonly #plan: MapPlan;
  readonly #input: ArgsIterator;
  readonly #deadline: number | undefined;
  readonly #slots = new Deque<Slot>();
  #exhausted = false;
  #closed = false;
  #buffer: unknown[] | undefined = undefined;
  #bufferIndex = 0;
  #clearYielded = false;
  #bufferError: { error: unknown } | undefined = undefined;
  #wakeConsumer: (() => void) | undefined = undefined;
  #wakeFeeder: (() => void) | undefined = undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #pendingNext = 0;
  /** Where the next read of an array input starts (see {@link isPlainArray}). */
  #arrayIndex = 0;
  /** Items are argument lists (several iterables), not single arguments. */
  readonly #spread: boolean;

  constructor(plan: MapPlan) {
    this.#plan = plan;
    this.#spread = plan.sources.length !== 1;
    this.#deadline = plan.timeoutMs === undefined ? undefined : performance.now() + plan.timeoutMs;
    this.#input = zip(plan.sources);
    if (this.#input.sync) this.#fillSync();
    else void this.#feedAsync();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<R>> {
    // Fastest path, taken for all but the last item of a chunk: the next item of the chunk at
    // hand. A million items pass here, so it touches as little as possible.
    const buffer = this.#buffer;
    if (buffer !== undefined && this.#pendingNext === 0 && !this.#closed) {
      const i = this.#bufferIndex;
      if (i < buffer.length - 1) {
        this.#bufferIndex = i + 1;
        const value = buffer[i] as R;
        // Drop the reference: the iterator keeps nothing it already yielded.
        if (this.#clearYielded) buffer[i] = undefined;
        return Promise.resolve({ done: false, value });
      }
    }
    // Fast path: a result that is already here (the last item of a chunk, the first of one that
    // arrived, or a finished task), with no earlier next() still waiting.
    if (this.#pendingNext === 0) {
      const ready = this.#takeReady();
      if (ready !== undefined) return Promise.resolve(ready);
    }
    // Serialise overlapping next() calls so results keep their order.
    this.#pendingNext += 1;
    const result = this.#pendingNext === 1 ? this.#next() : this.#chain.then(() => this.#next());
    this.#chain = result.then(
      () => {
        this.#pendingNext -= 1;
      },
      () => {
        this.#pendingNext -= 1;
      },
    );
    return result;
  }

  batches(): AsyncIterableIterator<R[]> {
    return this.#batches(Math.max(this.#plan.chunksize, MIN_BATCH_LIMIT));
  }

  async *#batches(limit: number): AsyncGenerator<R[], void, undefined> {
    let finished = false;
    try {
      for (;;) {
        // The first result of a batch may have to be waited for; the rest are the ones ready.
        const first = await this.next();
        if (first.done === true) {
          finished = true;
          return;
        }
        const batch = [first.value];
        this.#takeReadyInto(batch, limit);
        yield batch;
      }
    } finally {
      // `break` out of the loop (or an error, which closed already): cancel what has not started.
      if (!finished) this.#close();
    }
  }

  /** Appends to `out` the results that can be given without waiting, up to `limit` in all. */
  #takeReadyInto(out: R[], limit: number): void {
    while (out.length < limit && this.#pendingNext === 0 && !this.#closed) {
      const buffer = this.#buffer;
      if (buffer === undefined) {
        const ready = this.#takeReady();
        if (ready === undefined) return;
        out.push(ready.value as R);
        continue;
      }
      const start = this.#bufferIndex;
      const end = Math.min(buffer.length, start + limit - out.length);
      for (let i = start; i < end; i++) out.push(buffer[i] as R);
      if (this.#clearYielded) buffer.fill(undefined, start, end);
      this.#bufferIndex = end;
      if (end < buffer.length) return;
      // A chunk that failed part-way keeps its error for the next call to throw.
      if (this.#bufferError !== undefined) return;
      this.#buffer = undefined;
    }
  }

  async return(): Promise<IteratorResult<R>> {
    this.#close();
    return { done: true, value: undefined };
  }

  async #next(): Promise<IteratorResult<R>> {
    if (this.#closed) return { done: true, value: undefined };
    if (this.#buffer !== undefined) return this.#fromBuffer();
    let slot = this.#slots.shift();
    while (slot === undefined) {
      if (this.#exhausted) {
        this.#closed = true;
        return { done: true, value: undefined };
      }
      await this.#waitForInput();
      if (this.#closed) return { done: true, value: undefined };
      slot = this.#slots.shift();
    }
    this.#refill();
    try {
      if (slot.future === undefined) throw slot.error;
      const value = await this.#await(slot.future);
      if (!slot.chunk) return { done: false, value: value as R };
      this.#openChunk(value as ChunkOutcome);
      return this.#fromBuffer();
    } catch (error) {
      this.#close();
      throw error;
    }
  }

  /** The next result if it can be given without waiting (a finished, successful task). */
  #takeReady(): IteratorResult<R> | undefined {
    if (this.#closed) return undefined;
    if (this.#buffer === undefined) {
      const slot = this.#slots.peek();
      const future = slot?.future;
      if (future === undefined || future.state !== 'FINISHED' || future._failed()) return undefined;
      this.#slots.shift();
      this.#refill();
      const value = future._value();
      if (!(slot as Slot).chunk) return { done: false, value: value as R };
      this.#openChunk(value as ChunkOutcome);
    }
    // A chunk's error is thrown by the slow path.
    if (this.#bufferIndex >= (this.#buffer as unknown[]).length) return undefined;
    return this.#fromBuffer() as IteratorResult<R>;
  }

  #openChunk(outcome: ChunkOutcome): void {
    this.#buffer = outcome.values as unknown[];
    // Numbers hold nothing alive, and storing into a typed array is a slow, useless step.
    this.#clearYielded = Array.isArray(outcome.values);
    this.#bufferIndex = 0;
    this.#bufferError = outcome.failed ? { error: outcome.error } : undefined;
  }

  #fromBuffer(): Promise<IteratorResult<R>> | IteratorResult<R> {
    const buffer = this.#buffer as unknown[];
    if (this.#bufferIndex < buffer.length) {
      const value = buffer[this.#bufferIndex] as R;
      // Drop the reference: the iterator keeps nothing it already yielded.
      if (this.#clearYielded) buffer[this.#bufferIndex] = undefined;
      this.#bufferIndex += 1;
      if (this.#bufferIndex === buffer.length && this.#bufferError === undefined) {
        this.#buffer = undefined;
      }
      return { done: false, value };
    }
    const failure = this.#bufferError;
    this.#buffer = undefined;
    this.#bufferError = undefined;
    if (failure !== undefined) {
      this.#close();
      throw failure.error;
    }
    return this.#next();
  }

  #await(future: Future<unknown>): Promise<unknown> {
    if (this.#deadline === undefined) return future.result();
    const remaining = this.#deadline - performance.now();
    return future.result(Math.max(0, remaining)).catch((error: unknown) => {
      if (error instanceof TimeoutError) {
        future.cancel();
        throw this.#timeoutError();
      }
      throw error;
    });
  }

  /**
   * Waits until the (async) input gives the next task or ends. The deadline counts here too:
   * an input that is slow, or never yields again, ends the iteration with a `TimeoutError`.
   */
  #waitForInput(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let cancelTimer: (() => void) | undefined;
      this.#wakeConsumer = () => {
        cancelTimer?.();
        resolve();
      };
      if (this.#deadline === undefined) return;
      cancelTimer = after(this.#deadline - performance.now(), () => {
        this.#wakeConsumer = undefined;
        this.#close();
        reject(this.#timeoutError());
      });
    });
  }

  #timeoutError(): TimeoutError {
    return new TimeoutError(`map() did not finish within ${this.#plan.timeoutMs} ms`);
  }

  /**
   * Cancels every task that has not started and stops reading the input, closing it (its
   * `return()`, so a generator's `finally` runs) unless it ended or failed on its own.
   */
  #close(): void {
    if (this.#closed && this.#slots.length === 0) return;
    this.#closed = true;
    for (const slot of this.#slots.drain()) slot.future?.cancel();
    if (!this.#exhausted) {
      this.#exhausted = true;
      this.#input.close();
    }
    this.#wakeFeeder?.();
    this.#wakeConsumer?.();
  }

  #roomForMore(): boolean {
    const { buffersize } = this.#plan;
    return buffersize === undefined || this.#slots.length < buffersize;
  }

  #refill(): void {
    if (this.#input.sync) this.#fillSync();
    else this.#wakeFeeder?.();
  }

  #fillSync(): void {
    const input = this.#input as { it: Iterator<unknown> | undefined; array?: unknown[] };
    const { chunksize } = this.#plan;
    while (!this.#exhausted && !this.#closed && this.#roomForMore()) {
      if (input.array !== undefined) {
        const start = this.#arrayIndex;
        const end = Math.min(start + chunksize, input.array.length);
        this.#arrayIndex = end;
        if (end - start < chunksize) this.#exhausted = true;
        this.#submit(input.array, start, end);
        continue;
      }
      const it = input.it as Iterator<unknown>;
      const group: unknown[] = [];
      try {
        while (group.length < chunksize) {
          const r = it.next();
          if (r.done) {
            this.#exhausted = true;
            break;
          }
          group.push(r.value);
        }
      } catch (error) {
        this.#exhausted = true;
        this.#submit(group, 0, group.length);
        this.#slots.push({ future: undefined, chunk: false, error });
        return;
      }
      this.#submit(group, 0, group.length);
    }
  }

  async #feedAsync(): Promise<void> {
    const it = (this.#input as { it: AsyncIterator<unknown> }).it;
    const { chunksize } = this.#plan;
    while (!this.#exhausted && !this.#closed) {
      if (!this.#roomForMore()) {
        await new Promise<void>((resolve) => {
          this.#wakeFeeder = resolve;
        });
        this.#wakeFeeder = undefined;
        continue;
      }
      const group: unknown[] = [];
      try {
        while (group.length < chunksize) {
          const r = await it.next();
          if (r.done) {
            this.#exhausted = true;
            break;
          }
          group.push(r.value);
        }
      } catch (error) {
        this.#exhausted = true;
        if (this.#closed) break;
        this.#submit(group, 0, group.length);
        this.#slots.push({ future: undefined, chunk: false, error });
        break;
      }
      if (this.#closed) break;
      this.#submit(group, 0, group.length);
      this.#wakeConsumer?.();
    }
    this.#wakeConsumer?.();
  }

  /** Submits `source[start..end)`, as one chunk task if the executor can batch. */
  #submit(source: unknown[], start: number, end: number): void {
    if (end <= start) return;
    const { submitChunk } = this.#plan;
    try {
      if (submitChunk !== undefined && end - start > 1) {
        const future = submitChunk(source, start, end, this.#spread);
        this.#slots.push({ future, chunk: true, error: undefined });
      } else {
        for (let i = start; i < end; i++) {
          const item = source[i];
          const args = this.#spread ? (item as unknown[]) : [item];
          this.#slots.push({ future: this.#plan.submitOne(args), chunk: false, error: undefined });
        }
      }
    } catch (error) {
      // The executor refused (shut down, broken, or a function it cannot send): surface it at
      // this position, and stop reading the input, closing it as an early exit would (a
      // generator's `finally` runs) unless it had ended.
      if (!this.#exhausted) {
        this.#exhausted = true;
        this.#input.close();
      }
      this.#slots.push({ future: undefined, chunk: false, error });
    }
  }
}
