/**
 * `ThreadPoolExecutor`: runs tasks on `worker_threads`. Use it for CPU-bound JavaScript; for
 * I/O, `AsyncExecutor` is cheaper.
 */
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { defaultMaxWorkers } from './async-executor.js';
import { BrokenThreadPool, checkOptions, invalidArgType } from './errors.js';
import {
  checkExecArgv,
  inheritedExecArgv,
  PoolExecutor,
  type PoolOptions,
  type WorkerEvents,
  type WorkerHandle,
} from './pool-executor.js';
import type { InitPayload } from './protocol.js';
import type { ThreadWorkerData } from './worker.js';

/** Options of {@link ThreadPoolExecutor}. */
export interface ThreadPoolExecutorOptions extends PoolOptions {
  /** Worker names are `${namePrefix}_${i}`; default `ThreadPoolExecutor-${n}`. */
  namePrefix?: string;
  /** Replace a worker after it ran this many tasks (tasks leaking memory or state). */
  maxTasksPerWorker?: number;
  /** Heap limits of each worker; a worker that exceeds them breaks the pool. */
  resourceLimits?: ResourceLimits;
  /**
   * Node flags of the workers; default the parent's, so a loader such as `--import tsx` carries
   * over (less `--input-type`, which is about the parent's entry point). `[]` starts workers
   * faster when no task module needs the loader.
   */
  execArgv?: string[];
}

const THREAD_POOL_OPTIONS = [
  'maxWorkers',
  'minWorkers',
  'idleTimeoutMs',
  'initializer',
  'initArgs',
  'namePrefix',
  'maxTasksPerWorker',
  'resourceLimits',
  'execArgv',
];

const workerUrl = new URL('./worker.js', import.meta.url);
let poolCounter = 0;

/**
 * An executor that runs tasks on up to `maxWorkers` worker threads (default
 * `min(32, cpus + 4)`, as in Python; they start lazily). Functions are shipped by source once
 * per worker, or imported from a module with {@link taskModule}.
 *
 * @example
 * ```ts
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * console.log(await pool.submit((n: number) => n * 2, 21)); // 42
 * for await (const y of pool.map((x: number) => x * x, [1, 2, 3], { chunksize: 256 })) console.log(y);
 * ```
 */
export class ThreadPoolExecutor extends PoolExecutor {
  protected readonly _workerKind = 'thread';
  readonly #namePrefix: string;
  readonly #resourceLimits: ResourceLimits | undefined;
  readonly #execArgv: string[] | undefined;

  constructor(options: ThreadPoolExecutorOptions = {}) {
    super(
      checkOptions(options, THREAD_POOL_OPTIONS, 'new ThreadPoolExecutor()', {
        maxTasksPerChild: 'threads use maxTasksPerWorker',
        env: 'worker threads see a copy of process.env; ProcessPoolExecutor takes env',
      }),
      defaultMaxWorkers(4),
      options.maxTasksPerWorker,
      'maxTasksPerWorker',
    );
    if (options.namePrefix !== undefined && typeof options.namePrefix !== 'string') {
      throw invalidArgType(`namePrefix must be a string, got ${typeof options.namePrefix}`);
    }
    poolCounter += 1;
    this.#namePrefix = options.namePrefix || `ThreadPoolExecutor-${poolCounter}`;
    if (
      options.resourceLimits !== undefined &&
      (typeof options.resourceLimits !== 'object' || options.resourceLimits === null)
    ) {
      throw invalidArgType(
        'resourceLimits must be an object such as { maxOldGenerationSizeMb: 256 }, as for new Worker()',
      );
    }
    this.#resourceLimits = options.resourceLimits;
    checkExecArgv(options.execArgv);
    this.#execArgv = options.execArgv ?? inheritedExecArgv(['--input-type']);
  }

  protected _spawn(index: number, init: InitPayload, events: WorkerEvents): WorkerHandle {
    // Bumped after each message, to wake a worker parked in Atomics.wait (see worker.ts).
    const wake = new Int32Array(new SharedArrayBuffer(4));
    const workerData: ThreadWorkerData = { init, wake };
    const worker = new Worker(workerUrl, {
      workerData,
      name: `${this.#namePrefix}_${index}`,
      ...(this.#resourceLimits === undefined ? {} : { resourceLimits: this.#resourceLimits }),
      ...(this.#execArgv === undefined ? {} : { execArgv: this.#execArgv }),
    });
    worker.on('message', events.message);
    worker.on('error', events.error);
    worker.on('exit', (code) => events.exit(code, null));
    return {
      label: `thread ${worker.threadId}`,
      post: (message) => {
        worker.postMessage(message);
        Atomics.add(wake, 0, 1);
        Atomics.notify(wake, 0);
      },
      terminate: () => void worker.terminate(),
      ref: () => worker.ref(),
      unref: () => worker.unref(),
    };
  }

  protected _brokenError(message: string, cause: unknown): BrokenThreadPool {
    return new BrokenThreadPool(message, cause === undefined ? undefined : { cause });
  }

  protected _checkCloneable(value: unknown): void {
    structuredClone(value);
  }
}
