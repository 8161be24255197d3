/**
 * What `ThreadPoolExecutor` and `ProcessPoolExecutor` share: the task queue, dispatch in
 * batches, adaptive in-flight limits, recycling, the broken-pool rules and shutdown. The two
 * subclasses only say how to start a worker and how to word their errors.
 *
 * Dispatch: tasks wait in a ring-buffer queue until a worker has room. Each worker holds
 * about 2 ms of estimated work, from a running average of how long each function takes; so
 * tiny tasks go in batches of hundreds (one message each way), while a task that takes longer,
 * or whose function was never timed, goes alone: one running task per worker, as in CPython,
 * with the rest queued here where `cancel()` still works. A task is marked RUNNING when sent.
 */
import { checkMaxWorkers, checkTaskFunction } from './async-executor.js';
import { Deque } from './deque.js';
import {
  type BrokenExecutor,
  checkInteger,
  checkOptions,
  checkPositiveInteger,
  ExecutorShutdownError,
  invalidArgType,
  invalidArgValue,
  TaskSerializationError,
} from './errors.js';
import { Executor, SHUTDOWN_OPTIONS, type ShutdownOptions, type TaskFunction } from './executor.js';
import { functionDef } from './function-registry.js';
import { Future } from './future.js';
import type { ChunkOutcome } from './map.js';
import {
  type FunctionDef,
  type InitPayload,
  MSG_EXIT,
  MSG_INIT_FAILED,
  MSG_READY,
  MSG_RESULTS,
  MSG_TASKS,
  packNumbers,
  RESULT_CHUNK,
  RESULT_CHUNK_UNSENDABLE,
  RESULT_ERROR,
  RESULT_OK,
  TASK_CALL,
  TASK_CALL_ONE,
  TASK_CHUNK,
  TASK_CHUNK_ONE,
} from './protocol.js';
import { deserializeError, type SerializedError } from './serialize-error.js';
import { MAX_TIMER_MS } from './timer.js';

/** Options shared by both pool executors. */
export interface PoolOptions {
  /** Most workers; they start lazily, one per task that finds no idle worker. */
  maxWorkers?: number;
  /**
   * Workers to start as soon as the executor is created rather than when tasks come (the first
   * at once, the others when it is ready), and to keep (one retired after `maxTasksPerWorker`
   * tasks is replaced at once). Default 0. Starting early takes each worker's start-up (tens of
   * milliseconds) out of the first tasks.
   */
  minWorkers?: number;
  /**
   * A worker that has had no task for this many milliseconds exits, as long as more than
   * `minWorkers` are alive; the next task that finds no idle worker starts a new one. Default:
   * workers live until shutdown (as in CPython). `0` retires a worker as soon as it is idle.
   * Idle workers never keep the process alive either way; this gives their memory back.
   */
  idleTimeoutMs?: number;
  /**
   * Called in every worker, before its first task, with `initArgs`: a self-contained function
   * or a `taskModule()` reference. If it throws, the pool is broken.
   */
  initializer?: TaskFunction;
  /** Arguments of `initializer`; they must be cloneable. */
  initArgs?: unknown[];
}

/** A started worker, as the pool sees it. @internal */
export interface WorkerHandle {
  /** `thread 3` or `process 1234`, for messages. */
  readonly label: string;
  /** Sends a message; throws if part of it cannot be cloned. */
  post(message: unknown[]): void;
  /** Stops the worker now (SIGTERM / SIGKILL for processes). */
  terminate(signal: 'SIGTERM' | 'SIGKILL'): void;
  /** Whether the worker keeps the parent's event loop alive. */
  ref(): void;
  unref(): void;
}

/** What a worker reports to the pool. @internal */
export interface WorkerEvents {
  message(message: unknown[]): void;
  error(error: unknown): void;
  exit(code: number | null, signal: string | null): void;
}

/**
 * A queued or running task. It is the future handed to the caller as well, which saves an
 * object per task (200,000 queued tasks should fit in a small heap).
 */
class WorkItem extends Future<unknown> {
  /** Estimated duration when it was sent, in ms. */
  cost = 0;

  constructor(
    readonly def: FunctionDef,
    /**
     * The argument list, the single argument (`TASK_CALL_ONE`), or a chunk's items; dropped once
     * sent, so that a future the caller keeps does not keep them alive (CPython's
     * test_no_stale_references).
     */
    public args: unknown,
    readonly mode:
      | typeof TASK_CALL
      | typeof TASK_CALL_ONE
      | typeof TASK_CHUNK
      | typeof TASK_CHUNK_ONE,
  ) {
    super();
  }
}

class WorkerSlot {
  handle!: WorkerHandle;
  ready = false;
  inFlight = 0;
  /** Estimated work in flight, in ms. */
  pendingMs = 0;
  sent = 0;
  /** We asked it to exit (recycling, idleness, shutdown, terminate): its exit is not a crash. */
  exiting = false;
  /** When it last ran out of work (performance.now()), for `idleTimeoutMs`. */
  idleSince = 0;
  lastError: unknown = undefined;
  readonly known = new Set<number>();
}

// Estimated work each worker holds; sent in two batches so that the worker starts on the
// second while the first one's results travel back.
const TARGET_MS = 2;
const BATCH_MS = TARGET_MS / 2;
const MAX_IN_FLIGHT = 1024;
// Even a no-op task costs a little in messaging: never treat a task as free.
const MIN_COST_MS = 0.001;

/** Timings are kept per function and per mode (a chunk costs more than a call). */
function costKey(item: WorkItem): number {
  return item.def.id * 4 + (item.mode === TASK_CALL_ONE ? TASK_CALL : item.mode);
}

function checkMinWorkers(value: unknown, maxWorkers: number): number {
  if (value === undefined) return 0;
  checkInteger(value, 'minWorkers');
  if (value < 0 || value > maxWorkers) {
    throw invalidArgValue(
      `minWorkers must be between 0 and maxWorkers (${maxWorkers}), got ${value}: raise maxWorkers or lower minWorkers`,
    );
  }
  return value;
}

function checkIdleTimeout(value: unknown): number | undefined {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw invalidArgType(`idleTimeoutMs must be a number of milliseconds, got ${String(value)}`);
  }
  if (value < 0) {
    throw invalidArgValue(
      `idleTimeoutMs must be >= 0, got ${value}: use 0 to retire idle workers at once, or leave it out to keep them`,
    );
  }
  return value;
}

// Node flags that are the parent's own, not to pass on to a child process (see
// inheritedExecArgv), and whether a value follows (unless written `--flag=value`).
const ENTRY_FLAGS = new Map([
  ['-e', true],
  ['--eval', true],
  ['-p', true],
  ['--print', true],
  ['-pe', true],
  ['-i', false],
  ['--interactive', false],
  ['--input-type', true],
  // The parent's debugger: a child given the same port fails to listen, and with
  // `--inspect-brk` or `--inspect-wait` it waits for a debugger that never comes, so its tasks
  // never start (and, paused before its first line, it cannot notice that its parent died).
  ['--inspect', false],
  ['--inspect-brk', false],
  ['--inspect-wait', false],
  ['--inspect-port', true],
  ['--debug-port', true],
]);

// The debugger's flags as words of NODE_OPTIONS, each with the blank before it; a port flag's
// value may be the next word.
const INSPECTOR_WORDS =
  /(^|\s+)--(?:inspect(?:-brk|-wait)?(?:=\S*)?|(?:inspect|debug)-port(?:=\S*|\s+[^-\s]\S*)?)(?=\s|$)/g;

/**
 * The parent's Node flags for workers started without an `execArgv` option, less those about
 * the parent's own entry point and debugger (`names`, all by default): with `node --eval=code
 * app.js` every child process would run `code` instead of the worker, and start a pool of its
 * own (Node's `fork()` drops only `-e code`); `--input-type` (`node --input-type=module -e ...`,
 * or a script on stdin) makes Node refuse the worker's file, in threads too; `--inspect-brk`
 * leaves every child waiting for a debugger. `undefined` when there is
 * nothing to drop: threads then inherit the flags as they are (an explicit list may not hold V8
 * flags such as `--max-old-space-size`). @internal
 */
export function inheritedExecArgv(names?: readonly string[]): string[] | undefined {
  const argv = process.execArgv;
  let kept: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const name = flag.startsWith('--') ? (flag.split('=', 1)[0] as string) : flag;
    const withValue = ENTRY_FLAGS.get(name);
    if (withValue === undefined || (names !== undefined && !names.includes(name))) {
      kept?.push(flag);
      continue;
    }
    kept ??= argv.slice(0, i);
    if (withValue && name === flag) i += 1; // its value is the next argument
  }
  return kept;
}

/**
 * The parent's environment for child processes, with the debugger flags (see ENTRY_FLAGS) taken
 * out of `NODE_OPTIONS`, which every Node process reads: `NODE_OPTIONS=--inspect-brk node app.js`
 * would otherwise leave each child waiting for a debugger. The parent's own object when there
 * is nothing to take out. @internal
 */
export function inheritedEnv(): NodeJS.ProcessEnv {
  const options = process.env.NODE_OPTIONS;
  if (options === undefined || !/--(?:inspect|debug-port)/.test(options)) return process.env;
  // Only the debugger's words go; the rest is kept as written (a quoted path may hold spaces).
  const kept = options.replace(INSPECTOR_WORDS, '').trim();
  return { ...process.env, NODE_OPTIONS: kept };
}

/** Throws unless `execArgv` is undefined or an array of strings. @internal */
export function checkExecArgv(execArgv: unknown): void {
  if (execArgv === undefined) return;
  if (!Array.isArray(execArgv) || execArgv.some((flag) => typeof flag !== 'string')) {
    throw invalidArgType(
      `execArgv must be an array of strings such as ['--import', 'tsx'], got ${Array.isArray(execArgv) ? `[${execArgv.map(String).join(', ')}]` : String(execArgv)}`,
    );
  }
}

function describeExit(code: number | null, signal: string | null): string {
  return signal !== null ? `signal ${signal}` : `exit code ${code}`;
}

/** @internal */
export abstract class PoolExecutor extends Executor {
  readonly #maxWorkers: number;
  readonly #minWorkers: number;
  readonly #maxTasksPerWorker: number | undefined;
  readonly #idleTimeoutMs: number | undefined;
  readonly #init: InitPayload;
  readonly #queue = new Deque<WorkItem>();
  readonly #tasks = new Map<number, WorkItem>();
  readonly #workers = new Set<WorkerSlot>();
  /** Average duration per task, by {@link costKey}; unknown functions count as slow. */
  readonly #costMs: number[] = [];
  #nextTaskId = 1;
  #spawned = 0;
  #microtaskPump = false;
  #immediatePump = false;
  #shutdown = false;
  #broken: BrokenExecutor | undefined = undefined;
  #brokenReason: { message: string; cause: unknown } | undefined = undefined;
  #closedWaiters: (() => void)[] = [];
  /**
   * Chunks sent without their items from the first one that could not be cloned: the error
   * that follows their results.
   */
  readonly #chunkTails = new Map<WorkItem, TaskSerializationError>();
  /** One timer for all idle workers, due when the first of them has been idle long enough. */
  #idleTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  protected constructor(
    options: PoolOptions,
    defaultWorkers: number,
    maxTasksPerWorker: unknown,
    maxTasksName: string,
  ) {
    super();
    this.#maxWorkers = checkMaxWorkers(options.maxWorkers, defaultWorkers);
    this.#minWorkers = checkMinWorkers(options.minWorkers, this.#maxWorkers);
    this.#maxTasksPerWorker = checkPositiveInteger(maxTasksPerWorker, maxTasksName);
    this.#idleTimeoutMs = checkIdleTimeout(options.idleTimeoutMs);
    const { initializer, initArgs = [] } = options;
    if (initializer !== undefined) checkTaskFunction(initializer, 'the initializer option');
    if (!Array.isArray(initArgs)) throw invalidArgType('initArgs must be an array of arguments');
    try {
      this._checkCloneable(initArgs);
    } catch (error) {
      throw new TaskSerializationError(`initArgs cannot be sent to a worker: ${String(error)}`, {
        cause: error,
      });
    }
    this.#init = {
      initializer: initializer === undefined ? null : functionDef(initializer),
      initArgs,
    };
    // After the subclass's constructor, which `_spawn` depends on.
    if (this.#minWorkers > 0) queueMicrotask(() => this.#startMinimum());
  }

  /** The most workers this pool starts. */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  /** How many workers are alive right now (they start lazily). */
  get workerCount(): number {
    return this.#workers.size;
  }

  /** Tasks waiting for a worker. */
  get queueSize(): number {
    return this.#queue.length;
  }

  /** `thread` or `process`, for messages. */
  protected abstract readonly _workerKind: string;

  /** Starts worker number `index` and wires its events. */
  protected abstract _spawn(index: number, init: InitPayload, events: WorkerEvents): WorkerHandle;

  /** A fresh broken-pool error of the right class. */
  protected abstract _brokenError(message: string, cause: unknown): BrokenExecutor;

  /** Throws if `value` cannot cross to a worker. */
  protected abstract _checkCloneable(value: unknown): void;

  submit<A extends unknown[], R>(fn: TaskFunction<A, R>, ...args: A): Future<Awaited<R>> {
    checkTaskFunction(fn);
    this._checkOpen();
    // One argument (the usual case) is kept bare: no array per queued task.
    const future =
      args.length === 1
        ? this.#enqueue(functionDef(fn), args[0], TASK_CALL_ONE)
        : this.#enqueue(functionDef(fn), args, TASK_CALL);
    return future as Future<Awaited<R>>;
  }

  protected override _submitChunk(
    fn: TaskFunction,
    source: unknown[],
    start: number,
    end: number,
    spread: boolean,
  ): Future<ChunkOutcome> {
    this._checkOpen();
    if (spread) {
      const items = start === 0 && end === source.length ? source : source.slice(start, end);
      return this.#enqueue(functionDef(fn), items, TASK_CHUNK) as Future<ChunkOutcome>;
    }
    // A copy of the range either way: the input array may change once map() returns.
    const items = packNumbers(source, start, end) ?? source.slice(start, end);
    return this.#enqueue(functionDef(fn), items, TASK_CHUNK_ONE) as Future<ChunkOutcome>;
  }

  protected override _checkTask(fn: TaskFunction): void {
    functionDef(fn);
  }

  protected _checkOpen(): void {
    if (this.#broken !== undefined) throw this.#newBrokenError();
    if (this.#shutdown) throw new ExecutorShutdownError();
  }

  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = checkOptions(
      options,
      SHUTDOWN_OPTIONS,
      'shutdown()',
    );
    this.#shutdown = true;
    if (cancelFutures) this.#cancelQueued();
    else this.#dropCancelled();
    this.#closeIfDone();
    if (wait) await this.#allExited();
  }

  /**
   * Stops every worker at once (SIGTERM for processes) and shuts the executor down: tasks not
   * started are cancelled, running ones fail with a broken-pool error. A no-op before any
   * worker started; harmless on a broken pool.
   */
  terminateWorkers(): Promise<void> {
    return this.#forceStop('SIGTERM');
  }

  /** Like {@link terminateWorkers}, with SIGKILL for processes. */
  killWorkers(): Promise<void> {
    return this.#forceStop('SIGKILL');
  }

  #enqueue(def: FunctionDef, args: unknown, mode: WorkItem['mode']): Future<unknown> {
    const item = new WorkItem(def, args, mode);
    this.#queue.push(item);
    this.#schedulePump();
    return item;
  }

  /**
   * Dispatch soon. With every worker idle, at the end of this microtask checkpoint: the lowest
   * latency. With work in flight, after the event loop's other callbacks (setImmediate): a
   * caller that submits a new task as each result arrives then fills one batch, not one
   * message per task.
   */
  #schedulePump(): void {
    if (this.#microtaskPump) return;
    let busy = false;
    for (const slot of this.#workers) {
      if (slot.inFlight > 0) {
        busy = true;
        break;
      }
    }
    if (!busy) {
      this.#microtaskPump = true;
      queueMicrotask(this.#pump);
    } else if (!this.#immediatePump) {
      this.#immediatePump = true;
      setImmediate(this.#pump);
    }
  }

  readonly #pump = (): void => {
    this.#microtaskPump = false;
    this.#immediatePump = false;
    if (this.#broken !== undefined) return;
    for (const slot of this.#workers) {
      if (this.#queue.length === 0) break;
      if (!slot.ready || slot.exiting) continue;
      // Every call takes at least one task off the queue (sent, cancelled or failed to clone).
      while (this.#queue.length > 0 && slot.pendingMs < TARGET_MS && this.#room(slot) > 0) {
        this.#sendBatch(slot, this.#room(slot));
      }
    }
    this.#spawnIfNeeded();
    this.#closeIfDone();
  };

  #room(slot: WorkerSlot): number {
    let room = MAX_IN_FLIGHT - slot.inFlight;
    if (this.#maxTasksPerWorker !== undefined)
      room = Math.min(room, this.#maxTasksPerWorker - slot.sent);
    return room;
  }

  #sendBatch(slot: WorkerSlot, max: number): number {
    const batch: unknown[] = [];
    const items: WorkItem[] = [];
    let defs: FunctionDef[] | null = null;
    let batchMs = 0;
    while (items.length < max && batchMs < BATCH_MS) {
      const item = this.#queue.shift();
      if (item === undefined) break;
      // A cancelled task is acknowledged here and never sent (CPython does the same when a
      // worker takes it from the queue). One the caller took over by hand (marked running or
      // settled: those methods are public) is left to the caller (see Future._start).
      if (!item._start()) continue;
      item.cost = this.#costMs[costKey(item)] ?? TARGET_MS;
      batchMs += item.cost;
      if (!slot.known.has(item.def.id)) {
        defs ??= [];
        defs.push(item.def);
        slot.known.add(item.def.id);
      }
      const taskId = this.#nextTaskId++;
      batch.push(taskId, item.def.id, item.args, item.mode);
      items.push(item);
    }
    if (items.length === 0) return 0;
    try {
      slot.handle.post([MSG_TASKS, defs, batch]);
    } catch (error) {
      if (defs !== null) for (const def of defs) slot.known.delete(def.id);
      return this.#sendOneByOne(slot, batch, items, error);
    }
    this.#track(slot, batch, items);
    return items.length;
  }

  #track(slot: WorkerSlot, batch: unknown[], items: WorkItem[]): void {
    if (slot.inFlight === 0) slot.handle.ref();
    for (let i = 0; i < items.length; i++) {
      const taskId = batch[i * 4] as number;
      const item = items[i] as WorkItem;
      item.args = undefined;
      slot.pendingMs += item.cost;
      this.#tasks.set(taskId, item);
    }
    slot.inFlight += items.length;
    slot.sent += items.length;
  }

  // Part of a batch could not be cloned: send each task alone, and fail the ones that cannot
  // go with an error naming the argument. A chunk goes without the items from the first one that
  // cannot be cloned; that error follows the results of the items before it.
  #sendOneByOne(
    slot: WorkerSlot,
    batch: unknown[],
    items: WorkItem[],
    batchError: unknown,
  ): number {
    let sent = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as WorkItem;
      const one = batch.slice(i * 4, i * 4 + 4);
      const defs = slot.known.has(item.def.id) ? null : [item.def];
      try {
        slot.handle.post([MSG_TASKS, defs, one]);
      } catch (error) {
        const bad = this.#badArgument(item);
        const argError = this.#argumentError(item, bad, error ?? batchError);
        const chunk = item.mode === TASK_CHUNK || item.mode === TASK_CHUNK_ONE;
        if (!chunk || bad === undefined || bad.item === 0) {
          item.setException(argError);
          continue;
        }
        one[2] = (item.args as unknown[]).slice(0, bad.item);
        try {
          slot.handle.post([MSG_TASKS, defs, one]);
        } catch {
          item.setException(argError);
          continue;
        }
        this.#chunkTails.set(item, argError);
      }
      if (defs !== null) slot.known.add(item.def.id);
      this.#track(slot, one, [item]);
      sent += 1;
    }
    return sent;
  }

  /** The first argument of `item` that cannot be cloned: item (of a chunk) and position. */
  #badArgument(item: WorkItem): { item: number; arg: number; error: unknown } | undefined {
    const argsLists =
      item.mode === TASK_CHUNK
        ? (item.args as unknown[][])
        : item.mode === TASK_CHUNK_ONE
          ? Array.from(item.args as ArrayLike<unknown>, (arg) => [arg])
          : item.mode === TASK_CALL_ONE
            ? [[item.args]]
            : [item.args as unknown[]];
    for (const [n, args] of argsLists.entries()) {
      for (const [i, arg] of args.entries()) {
        try {
          this._checkCloneable(arg);
        } catch (cloneError) {
          return { item: n, arg: i, error: cloneError };
        }
      }
    }
    return undefined;
  }

  #argumentError(
    item: WorkItem,
    bad: { item: number; arg: number; error: unknown } | undefined,
    error: unknown,
  ): TaskSerializationError {
    const where = `a worker ${this._workerKind}`;
    if (bad !== undefined) {
      const inChunk = item.mode === TASK_CHUNK || item.mode === TASK_CHUNK_ONE;
      const position = inChunk ? ` of item ${bad.item + 1} of the chunk` : '';
      const cloneError = bad.error;
      return new TaskSerializationError(
        `argument ${bad.arg + 1}${position} of task ${item.def.name} cannot be sent to ${where} (${cloneError instanceof Error ? cloneError.message.replace(/\.$/, '') : String(cloneError)}). Pass plain data (numbers, strings, arrays, objects, typed arrays, Map, Set) instead`,
        { cause: cloneError },
      );
    }
    return new TaskSerializationError(
      `task ${item.def.name} cannot be sent to ${where}: ${String(error)}`,
      {
        cause: error,
      },
    );
  }

  #spawnIfNeeded(): void {
    if (this.#broken !== undefined || this.#queue.length === 0) return;
    let starting = 0;
    for (const slot of this.#workers) if (!slot.ready && !slot.exiting) starting += 1;
    // Each starting worker will take at least one queued task: start more only for the rest.
    let needed = this.#queue.length - starting;
    while (needed > 0 && this.#liveWorkers() < this.#maxWorkers) {
      this.#startWorker();
      needed -= 1;
    }
  }

  /**
   * Starts workers until `minWorkers` are alive (not after shutdown or breakage). The first
   * starts alone and the others once it is ready: starting them all at once would delay the
   * first one, and so the first result, where cores are few.
   */
  #startMinimum(): void {
    if (this.#shutdown || this.#broken !== undefined) return;
    if (this.#liveWorkers() >= this.#minWorkers) return;
    let ready = false;
    for (const slot of this.#workers) if (slot.ready && !slot.exiting) ready = true;
    if (!ready) {
      if (this.#liveWorkers() === 0) this.#startWorker();
      return; // the rest when a worker reports ready
    }
    while (this.#liveWorkers() < this.#minWorkers) this.#startWorker();
  }

  #liveWorkers(): number {
    let live = 0;
    for (const slot of this.#workers) if (!slot.exiting) live += 1;
    return live;
  }

  #startWorker(): void {
    const slot = new WorkerSlot();
    const index = this.#spawned++;
    this.#workers.add(slot);
    try {
      slot.handle = this._spawn(index, this.#init, {
        message: (message) => this.#onMessage(slot, message),
        error: (error) => {
          slot.lastError = error;
        },
        exit: (code, signal) => this.#onExit(slot, code, signal),
      });
    } catch (error) {
      this.#workers.delete(slot);
      this.#break(`could not start a worker ${this._workerKind}: ${String(error)}`, error);
    }
  }

  #onMessage(slot: WorkerSlot, message: unknown[]): void {
    // A task may post messages of its own (process.send in a child, parentPort.postMessage in a
    // thread). Read only the runner's: anything that throws here would crash the parent (this
    // runs in an event handler), and a second MSG_READY would unref a busy worker.
    if (!Array.isArray(message)) return;
    switch (message[0]) {
      case MSG_RESULTS: {
        const results = message[1];
        if (Array.isArray(results) && results.length % 3 === 0) {
          this.#onResults(slot, results, message[2] as number);
        }
        break;
      }
      case MSG_READY:
        // A worker stopped while starting stays referenced until its exit is seen.
        if (slot.exiting || slot.ready) break;
        slot.ready = true;
        slot.handle.unref();
        this.#startMinimum();
        this.#pump();
        if (slot.inFlight === 0) this.#markIdle(slot);
        break;
      case MSG_INIT_FAILED: {
        if (slot.ready) break;
        const cause = deserializeError(message[1] as SerializedError);
        const reason = cause instanceof Error ? cause.message : String(cause);
        this.#break(`the initializer failed in worker ${slot.handle.label}: ${reason}`, cause);
        break;
      }
    }
  }

  #onResults(slot: WorkerSlot, results: unknown[], durationMs: number): void {
    // The worker reports how long the tasks occupied it, start to settle (so time spent
    // awaiting counts and slow async tasks are not over-fetched either).
    const perTaskMs = Math.max(MIN_COST_MS, durationMs / Math.max(1, results.length / 3));
    let lastKey = -1;
    const items = new Array<WorkItem | undefined>(results.length / 3);
    for (let i = 0; i < results.length; i += 3) {
      const taskId = results[i] as number;
      const item = this.#tasks.get(taskId);
      if (item === undefined) continue;
      this.#tasks.delete(taskId);
      slot.inFlight -= 1;
      slot.pendingMs -= item.cost;
      const key = costKey(item);
      if (key !== lastKey) {
        const old = this.#costMs[key];
        this.#costMs[key] = old === undefined ? perTaskMs : 0.7 * old + 0.3 * perTaskMs;
        lastKey = key;
      }
      items[i / 3] = item;
    }
    if (slot.inFlight === 0) {
      slot.pendingMs = 0;
      if (this.#maxTasksPerWorker !== undefined && slot.sent >= this.#maxTasksPerWorker) {
        this.#retire(slot);
      }
    }
    // Refill the workers before settling, so they work while the results are delivered.
    this.#pump();
    if (slot.inFlight === 0 && !slot.exiting) {
      slot.handle.unref();
      this.#markIdle(slot);
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item !== undefined) this.#settle(item, results[i * 3 + 1] as number, results[i * 3 + 2]);
    }
  }

  #settle(item: WorkItem, status: number, value: unknown): void {
    // Settled by hand while it ran: the result is dropped (setting it would throw here, in an
    // event handler, and leave the batch's other futures unsettled).
    if (item.state === 'FINISHED') return;
    if (status === RESULT_OK) {
      item.setResult(value);
    } else if (status === RESULT_ERROR) {
      item.setException(deserializeError(value as SerializedError));
    } else if (status === RESULT_CHUNK) {
      const [values, failed, error] = value as [ArrayLike<unknown>, number, SerializedError | null];
      const outcome: ChunkOutcome = {
        values,
        failed: failed === 1,
        error: error === null ? undefined : deserializeError(error),
      };
      if (this.#chunkTails.size > 0) this.#addTail(item, outcome);
      item.setResult(outcome);
    } else if (status === RESULT_CHUNK_UNSENDABLE) {
      const [values, index, reason] = value as [unknown[], number, string];
      const error = this.#resultError(item, reason, ` of item ${index + 1} of the chunk`);
      const outcome: ChunkOutcome = { values, failed: true, error };
      if (this.#chunkTails.size > 0) this.#addTail(item, outcome);
      item.setResult(outcome);
    } else {
      item.setException(this.#resultError(item, value, ''));
    }
  }

  #resultError(item: WorkItem, reason: unknown, position: string): TaskSerializationError {
    return new TaskSerializationError(
      `the result${position} of task ${item.def.name} cannot be sent back from the worker ${this._workerKind}: ${String(reason).replace(/\.$/, '')}. Return plain data instead`,
    );
  }

  /** A chunk sent without its last items fails after its results, at the first item left out. */
  #addTail(item: WorkItem, outcome: ChunkOutcome): void {
    const tail = this.#chunkTails.get(item);
    if (tail === undefined) return;
    this.#chunkTails.delete(item);
    if (outcome.failed) return; // an earlier item failed
    outcome.failed = true;
    outcome.error = tail;
  }

  #retire(slot: WorkerSlot): void {
    slot.exiting = true;
    // Keep the event loop alive until the exit is seen, so shutdown() can resolve.
    slot.handle.ref();
    try {
      slot.handle.post([MSG_EXIT]);
    } catch {
      this.#stop(slot, 'SIGTERM');
    }
  }

  /** `slot` just ran out of work: with `idleTimeoutMs`, it may retire when that has passed. */
  #markIdle(slot: WorkerSlot): void {
    if (this.#idleTimeoutMs === undefined) return;
    slot.idleSince = performance.now();
    this.#armIdleTimer(this.#idleTimeoutMs);
  }

  #armIdleTimer(delayMs: number): void {
    if (this.#idleTimer !== undefined) return;
    this.#idleTimer = setTimeout(this.#retireIdle, Math.min(delayMs, MAX_TIMER_MS));
    this.#idleTimer.unref();
  }

  /**
   * Retires the workers idle for `idleTimeoutMs`, keeping `minWorkers` alive, and re-arms the
   * timer for the next one due. A worker that got work since is skipped; one that went idle
   * again since counts from then.
   */
  readonly #retireIdle = (): void => {
    this.#idleTimer = undefined;
    if (this.#shutdown || this.#broken !== undefined) return;
    const timeoutMs = this.#idleTimeoutMs as number;
    const now = performance.now();
    let spare = this.#liveWorkers() - this.#minWorkers;
    let nextDue = Number.POSITIVE_INFINITY;
    for (const slot of this.#workers) {
      if (spare <= 0) return;
      if (!slot.ready || slot.exiting || slot.inFlight > 0) continue;
      const due = slot.idleSince + timeoutMs;
      if (due <= now) {
        this.#retire(slot);
        spare -= 1;
      } else nextDue = Math.min(nextDue, due);
    }
    if (spare > 0 && nextDue !== Number.POSITIVE_INFINITY) this.#armIdleTimer(nextDue - now);
  };

  #stop(slot: WorkerSlot, signal: 'SIGTERM' | 'SIGKILL'): void {
    slot.exiting = true;
    slot.handle.ref();
    slot.handle.terminate(signal);
  }

  #onExit(slot: WorkerSlot, code: number | null, signal: string | null): void {
    if (!this.#workers.delete(slot)) return; // already reported
    if (slot.exiting || this.#broken !== undefined) {
      this.#startMinimum();
      if (this.#queue.length > 0) this.#pump();
      this.#notifyClosed();
      return;
    }
    const cause = slot.lastError;
    const detail =
      cause === undefined ? '' : ` (${cause instanceof Error ? cause.message : String(cause)})`;
    this.#break(
      `a worker ${this._workerKind} (${slot.handle.label}) exited unexpectedly with ${describeExit(code, signal)}${detail}`,
      cause,
    );
  }

  /** Marks the pool broken: every pending future fails, every worker is stopped. */
  #break(reason: string, cause: unknown): void {
    if (this.#broken !== undefined) return;
    const pending = this.#tasks.size + this.#queue.length;
    this.#brokenReason = {
      message: `the pool is broken: ${reason}; ${pending} pending task(s) failed. Create a new executor`,
      cause,
    };
    this.#broken = this.#newBrokenError();
    this.#chunkTails.clear();
    const items = [...this.#tasks.values(), ...this.#queue.drain()];
    this.#tasks.clear();
    for (const item of items) {
      if (item.cancelled()) item._start();
      else if (!item.done()) {
        if (item.state === 'PENDING') item.setRunningOrNotifyCancel();
        item.setException(this.#newBrokenError());
      }
    }
    for (const slot of this.#workers) this.#stop(slot, 'SIGKILL');
    this.#notifyClosed();
  }

  #newBrokenError(): BrokenExecutor {
    const reason = this.#brokenReason as { message: string; cause: unknown };
    return this._brokenError(reason.message, reason.cause);
  }

  // Acknowledges queued tasks that were cancelled; no worker may come to take them now, and
  // shutdown must not wait for them.
  #dropCancelled(): void {
    for (const item of this.#queue.drain()) {
      if (item.cancelled()) item._start();
      else this.#queue.push(item);
    }
  }

  #cancelQueued(): void {
    for (const item of this.#queue.drain()) {
      if (item.cancel()) item._start(); // false: settled by hand
    }
  }

  #closeIfDone(): void {
    if (!this.#shutdown || this.#queue.length > 0 || this.#tasks.size > 0) return;
    for (const slot of this.#workers) {
      if (slot.exiting) continue;
      if (slot.ready) this.#retire(slot);
      else this.#stop(slot, 'SIGTERM');
    }
    this.#notifyClosed();
  }

  #allExited(): Promise<void> {
    if (this.#isClosed()) return Promise.resolve();
    return new Promise((resolve) => this.#closedWaiters.push(resolve));
  }

  #isClosed(): boolean {
    return this.#workers.size === 0 && this.#queue.length === 0 && this.#tasks.size === 0;
  }

  #notifyClosed(): void {
    if (!this.#isClosed()) return;
    const waiters = this.#closedWaiters;
    this.#closedWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async #forceStop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    this.#shutdown = true;
    this.#cancelQueued();
    this.#chunkTails.clear();
    if (this.#broken === undefined) {
      const running = [...this.#tasks.values()];
      this.#tasks.clear();
      const how = signal === 'SIGKILL' ? 'killWorkers()' : 'terminateWorkers()';
      for (const item of running) {
        if (item.done()) continue; // settled by hand
        item.setException(
          this._brokenError(
            `the worker ${this._workerKind} running this task was stopped by ${how}`,
            undefined,
          ),
        );
      }
      for (const slot of this.#workers) {
        slot.inFlight = 0;
        slot.pendingMs = 0;
        this.#stop(slot, signal);
      }
    }
    await this.#allExited();
  }
}
