/**
 * Worker-side half of a pool, shared by worker threads (`worker.ts`) and child processes
 * (`child.ts`): rebuilds shipped functions, runs batches of tasks and sends results back in
 * batches. It never blocks the event loop between tasks, so timers and sockets that a task
 * leaves behind keep running.
 */
import {
  type FunctionDef,
  type InitPayload,
  MSG_INIT_FAILED,
  MSG_READY,
  MSG_RESULTS,
  packNumbers,
  RESULT_CHUNK,
  RESULT_CHUNK_UNSENDABLE,
  RESULT_ERROR,
  RESULT_OK,
  RESULT_UNSENDABLE,
  TASK_CALL,
  TASK_CALL_ONE,
  TASK_CHUNK,
} from './protocol.js';
import { serializeError } from './serialize-error.js';
import { loadTaskFunction } from './task-module.js';

/** How the runner talks to its parent. `post` throws if a value cannot be cloned. */
export interface Transport {
  post(message: unknown[]): void;
  /** Throws as `post` would if `value` were part of a message (used only after a failure). */
  check(value: unknown): void;
}

interface Entry {
  /** The function, once compiled or imported. */
  fn: Function | undefined;
  /** Why it could not be rebuilt; every task using it fails with this. */
  error: unknown;
  /** Pending import of a module export. */
  loading: Promise<void> | undefined;
  /** Shipped by source: a ReferenceError means it used a variable from its surroundings. */
  bySource: boolean;
  name: string;
}

// A batch that runs longer than this sends the results it has so far, so that a slow task at
// the end of a batch does not hold back the fast ones before it.
const FLUSH_AFTER_MS = 5;

// esbuild (and so tsx) may wrap functions in `__name(fn, "name")` to keep their names; that
// helper exists only in the file the function came from, so provide one here.
const globals = globalThis as { __name?: unknown };
globals.__name ??= (target: Function, value: string) =>
  Object.defineProperty(target, 'name', { value, configurable: true });

function compile(def: FunctionDef): Function {
  const source = def.source as string;
  try {
    return new Function(`"use strict";\nreturn (${source}\n);`)() as Function;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // Method shorthand such as `double(x) { return 2 * x; }` is not an expression on its own.
    const holder = new Function(`"use strict";\nreturn ({${source}\n});`)() as Record<
      string,
      Function
    >;
    const fn = Object.values(holder)[0];
    if (typeof fn !== 'function') throw error;
    return fn;
  }
}

function explainFreeVariable(error: unknown, entry: Entry, initializer = false): unknown {
  if (!entry.bySource) return error;
  try {
    return explain(error, entry, initializer);
  } catch {
    return error; // a proxy or a getter that throws: serializeError copes with it
  }
}

function explain(error: unknown, entry: Entry, initializer: boolean): unknown {
  if (!(error instanceof ReferenceError)) return error;
  const match = /^(\S+) is not defined$/.exec(error.message);
  if (match === null) return error;
  const identifier = match[1] as string;
  const explained = new ReferenceError(
    initializer
      ? `${identifier} is not defined in the worker: the initializer was sent as source text, which cannot see variables or imports from where it was written. Pass ${identifier} in initArgs, or export the initializer from a module and give its taskModule() reference`
      : `${identifier} is not defined in the worker: the task function ${entry.name} was sent as source text, which cannot see variables or imports from where it was written. Pass ${identifier} as an argument, or export the function from a module and submit it through taskModule()`,
  );
  explained.stack = `${explained.name}: ${explained.message}\n${(error.stack ?? '').split('\n').slice(1).join('\n')}`;
  return Object.assign(explained, { code: 'ERR_TASK_FREE_VARIABLE', identifier });
}

/** A clone error's message, for the parent to quote. */
function describe(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'the value could not be cloned';
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    // A `then` getter (or proxy) that throws: sending the value fails too, and the task's
    // future gets a TaskSerializationError instead of the worker dying.
    return false;
  }
}

export class Runner {
  readonly #transport: Transport;
  readonly #entries: Entry[] = [];
  #results: unknown[] = [];
  /** Time the reported tasks occupied this worker (start to settle), for the parent's batching. */
  #durationMs = 0;
  #flushScheduled = false;
  /** Async tasks (or chunks) started and not yet settled. */
  #awaiting = 0;
  // Batches wait here while a task module they need is being imported, to keep their order.
  #blocked: Promise<void> | undefined = undefined;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Runs the initializer, then tells the parent whether tasks may come. */
  async init(payload: InitPayload): Promise<boolean> {
    const entry = payload.initializer === null ? undefined : this.#define(payload.initializer);
    try {
      if (entry !== undefined) {
        if (entry.loading !== undefined) await entry.loading;
        if (entry.fn === undefined) throw entry.error;
        await entry.fn(...payload.initArgs);
      }
    } catch (error) {
      // A shipped initializer using a variable from its surroundings is told so, as a task is.
      const explained = entry === undefined ? error : explainFreeVariable(error, entry, true);
      this.#transport.post([MSG_INIT_FAILED, serializeError(explained)]);
      return false;
    }
    this.#transport.post([MSG_READY]);
    return true;
  }

  /**
   * Nothing in progress: no async task awaiting, no result waiting to be sent, no batch waiting
   * for a module import.
   */
  get idle(): boolean {
    return this.#awaiting === 0 && !this.#flushScheduled && this.#blocked === undefined;
  }

  /**
   * Handles one `MSG_TASKS` message. With `holdResults`, the results of the tasks that finish
   * at once are kept for {@link flush} instead of being sent at the end of the batch.
   */
  runBatch(defs: FunctionDef[] | null, batch: unknown[], holdResults = false): void {
    let loading: Promise<void>[] | undefined;
    if (defs !== null) {
      for (const def of defs) {
        const entry = this.#define(def);
        if (entry.loading === undefined) continue;
        loading ??= [];
        loading.push(entry.loading);
      }
    }
    if (loading === undefined && this.#blocked === undefined) {
      this.#execute(batch, holdResults);
      return;
    }
    const previous = this.#blocked ?? Promise.resolve();
    const blocked = previous
      .then(() => Promise.all(loading ?? []))
      .then(() => {
        if (this.#blocked === blocked) this.#blocked = undefined;
        this.#execute(batch, false);
      });
    this.#blocked = blocked;
  }

  #define(def: FunctionDef): Entry {
    const existing = this.#entries[def.id];
    if (existing !== undefined) return existing;
    const entry: Entry = {
      fn: undefined,
      error: undefined,
      loading: undefined,
      bySource: def.source !== undefined,
      name: def.name,
    };
    this.#entries[def.id] = entry;
    if (def.source !== undefined) {
      try {
        entry.fn = compile(def);
      } catch (error) {
        entry.error = Object.assign(
          new SyntaxError(
            `could not rebuild the task function ${def.name} from its source text in the worker: ${String(error)}`,
            { cause: error },
          ),
          { code: 'ERR_TASK_FUNCTION_SOURCE' },
        );
      }
    } else {
      entry.loading = loadTaskFunction({
        url: def.url as string,
        exportName: def.exportName as string,
      }).then(
        (fn) => {
          entry.fn = fn;
          entry.loading = undefined;
        },
        (error: unknown) => {
          entry.error = error;
          entry.loading = undefined;
        },
      );
    }
    return entry;
  }

  #execute(batch: unknown[], holdResults: boolean): void {
    let flushedAt = performance.now();
    let startedAt = flushedAt;
    for (let i = 0; i < batch.length; i += 4) {
      const taskId = batch[i] as number;
      const entry = this.#entries[batch[i + 1] as number] as Entry;
      const args = batch[i + 2];
      const mode = batch[i + 3];
      if (mode === TASK_CALL_ONE) this.#call(taskId, entry, args, false, startedAt);
      else if (mode === TASK_CALL) this.#call(taskId, entry, args, true, startedAt);
      else this.#chunk(taskId, entry, args as Iterable<unknown>, mode === TASK_CHUNK, startedAt);
      const now = performance.now();
      // Synchronous time of this task (an async one adds its remaining time when it settles).
      this.#durationMs += now - startedAt;
      startedAt = now;
      if (now - flushedAt > FLUSH_AFTER_MS) {
        flushedAt = now;
        this.#flush();
      }
    }
    if (!holdResults) this.#flush();
  }

  /** Runs `fn(...args)` if `spread`, else `fn(args)`. */
  #call(taskId: number, entry: Entry, args: unknown, spread: boolean, startedAt: number): void {
    const fn = entry.fn;
    if (fn === undefined) {
      this.#push(taskId, RESULT_ERROR, serializeError(entry.error));
      return;
    }
    let value: unknown;
    try {
      value = spread ? fn(...(args as unknown[])) : fn(args);
    } catch (error) {
      this.#push(taskId, RESULT_ERROR, serializeError(explainFreeVariable(error, entry)));
      return;
    }
    if (!isThenable(value)) {
      this.#push(taskId, RESULT_OK, value);
      return;
    }
    this.#awaiting += 1;
    value.then(
      (resolved) => this.#pushLater(taskId, RESULT_OK, resolved, startedAt),
      (error: unknown) =>
        this.#pushLater(
          taskId,
          RESULT_ERROR,
          serializeError(explainFreeVariable(error, entry)),
          startedAt,
        ),
    );
  }

  /**
   * Runs `fn` over every item (`fn(...item)` if `spread`, else `fn(item)`); the outcome stops
   * at the first failure.
   */
  #chunk(
    taskId: number,
    entry: Entry,
    items: Iterable<unknown>,
    spread: boolean,
    startedAt: number,
  ): void {
    const fn = entry.fn;
    if (fn === undefined) {
      this.#push(taskId, RESULT_CHUNK, [[], 1, serializeError(entry.error)]);
      return;
    }
    const values: unknown[] = [];
    let pending: Promise<unknown>[] | undefined;
    for (const item of items) {
      let value: unknown;
      try {
        value = spread ? fn(...(item as unknown[])) : fn(item);
      } catch (error) {
        if (pending === undefined) {
          this.#push(taskId, RESULT_CHUNK, [
            values,
            1,
            serializeError(explainFreeVariable(error, entry)),
          ]);
          return;
        }
        pending.push(Promise.reject(error));
        break;
      }
      if (isThenable(value)) pending ??= [];
      if (pending !== undefined) pending.push(Promise.resolve(value));
      else values.push(value);
    }
    if (pending === undefined) {
      this.#push(taskId, RESULT_CHUNK, [packNumbers(values) ?? values, 0, null]);
      return;
    }
    this.#awaiting += 1;
    void Promise.allSettled(pending).then((settled) => {
      for (const outcome of settled) {
        if (outcome.status === 'rejected') {
          const error = serializeError(explainFreeVariable(outcome.reason, entry));
          this.#pushLater(taskId, RESULT_CHUNK, [values, 1, error], startedAt);
          return;
        }
        values.push(outcome.value);
      }
      this.#pushLater(taskId, RESULT_CHUNK, [packNumbers(values) ?? values, 0, null], startedAt);
    });
  }

  #push(taskId: number, status: number, value: unknown): void {
    this.#results.push(taskId, status, value);
  }

  #pushLater(taskId: number, status: number, value: unknown, startedAt: number): void {
    this.#awaiting -= 1;
    this.#results.push(taskId, status, value);
    this.#durationMs += performance.now() - startedAt;
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Sends the results held so far (see `holdResults` of {@link runBatch}). */
  flush(): void {
    this.#flush();
  }

  #flush(): void {
    const results = this.#results;
    if (results.length === 0) return;
    const durationMs = this.#durationMs;
    this.#results = [];
    this.#durationMs = 0;
    try {
      this.#transport.post([MSG_RESULTS, results, durationMs]);
    } catch {
      this.#flushOneByOne(results, durationMs);
    }
  }

  // Some result could not be cloned: send the results one at a time, replacing the ones that
  // fail by a notice that the parent turns into a TaskSerializationError naming the task (and,
  // for a chunk, the item, after the results before it).
  #flushOneByOne(results: unknown[], durationMs: number): void {
    const share = durationMs / (results.length / 3);
    for (let i = 0; i < results.length; i += 3) {
      const taskId = results[i];
      const status = results[i + 1];
      try {
        this.#transport.post([MSG_RESULTS, [taskId, status, results[i + 2]], share]);
      } catch (error) {
        if (status === RESULT_CHUNK && this.#postChunkPrefix(taskId, results[i + 2], share)) {
          continue;
        }
        this.#transport.post([MSG_RESULTS, [taskId, RESULT_UNSENDABLE, describe(error)], share]);
      }
    }
  }

  /** Sends a chunk's results up to the first that cannot be cloned, and where that one is. */
  #postChunkPrefix(taskId: unknown, outcome: unknown, share: number): boolean {
    const values = (outcome as unknown[])[0] as unknown[];
    for (let k = 0; k < values.length; k++) {
      try {
        this.#transport.check(values[k]);
      } catch (error) {
        const value = [values.slice(0, k), k, describe(error)];
        try {
          this.#transport.post([MSG_RESULTS, [taskId, RESULT_CHUNK_UNSENDABLE, value], share]);
          return true;
        } catch {
          return false;
        }
      }
    }
    return false;
  }
}
