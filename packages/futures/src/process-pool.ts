/**
 * `ProcessPoolExecutor`: runs tasks in child processes (`child_process.fork` with structured
 * clone over IPC). Each child has its own heap and can be killed without taking the parent down;
 * a child exits on its own when its parent goes away.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { serialize } from 'node:v8';
import { processCpuCount } from './async-executor.js';
import { BrokenProcessPool, checkOptions, invalidArgType } from './errors.js';
import {
  checkExecArgv,
  inheritedEnv,
  inheritedExecArgv,
  PoolExecutor,
  type PoolOptions,
  type WorkerEvents,
  type WorkerHandle,
} from './pool-executor.js';
import { type InitPayload, MSG_HELLO, MSG_INIT } from './protocol.js';

/** Options of {@link ProcessPoolExecutor}. */
export interface ProcessPoolExecutorOptions extends PoolOptions {
  /** Replace a child after it ran this many tasks (Python: `max_tasks_per_child`). */
  maxTasksPerChild?: number;
  /**
   * Node flags of the children; default the parent's (so `--import tsx` carries over), without
   * `-e`/`--eval`/`-p`/`--print` and `--input-type`, which are about the parent's entry point,
   * and without the debugger's `--inspect*` flags (pass `['--inspect=0']` to debug the children,
   * each on a port of its own).
   */
  execArgv?: string[];
  /** Environment of the children; default the parent's, less `--inspect*` in `NODE_OPTIONS`. */
  env?: NodeJS.ProcessEnv;
}

const PROCESS_POOL_OPTIONS = [
  'maxWorkers',
  'minWorkers',
  'idleTimeoutMs',
  'initializer',
  'initArgs',
  'maxTasksPerChild',
  'execArgv',
  'env',
];

const childPath = new URL('./child.js', import.meta.url);

/**
 * An executor that runs tasks in up to `maxWorkers` child processes (default: the number of
 * CPUs this process may use, as in Python; they start lazily). Same API and behaviour as
 * {@link ThreadPoolExecutor}; only the class differs.
 *
 * @example
 * ```ts
 * await using pool = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const tasks = taskModule<typeof import('./primes.js')>(new URL('./primes.js', import.meta.url));
 * console.log(await pool.submit(tasks.sumPrimes, 100_000));
 * ```
 */
export class ProcessPoolExecutor extends PoolExecutor {
  protected readonly _workerKind = 'process';
  readonly #execArgv: string[];
  /** The `env` option; without it, the parent's as it is when each child starts. */
  readonly #env: NodeJS.ProcessEnv | undefined;

  constructor(options: ProcessPoolExecutorOptions = {}) {
    super(
      checkOptions(options, PROCESS_POOL_OPTIONS, 'new ProcessPoolExecutor()', {
        maxTasksPerWorker: 'processes use maxTasksPerChild',
        resourceLimits: "limit a child's heap with execArgv: ['--max-old-space-size=256']",
        namePrefix: 'child processes have no names',
      }),
      processCpuCount(),
      options.maxTasksPerChild,
      'maxTasksPerChild',
    );
    checkExecArgv(options.execArgv);
    if (options.env !== undefined && (typeof options.env !== 'object' || options.env === null)) {
      throw invalidArgType('env must be an object of environment variables, such as process.env');
    }
    this.#execArgv = options.execArgv ?? inheritedExecArgv() ?? process.execArgv;
    this.#env = options.env;
  }

  protected _spawn(_index: number, init: InitPayload, events: WorkerEvents): WorkerHandle {
    // The child learns our pid from its argv, to notice if we died before it started.
    const child: ChildProcess = fork(childPath, [String(process.pid)], {
      serialization: 'advanced',
      execArgv: this.#execArgv,
      // Read at each start, not once: `process.env` itself was, so a variable set after the
      // pool was made reaches the children (inheritedEnv copies it when it edits NODE_OPTIONS).
      env: this.#env ?? inheritedEnv(),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let greeted = false;
    child.on('message', (message: unknown[]) => {
      // The child is listening: send its setup (threads get it as workerData instead). Once: a
      // task may send messages of its own.
      if (!greeted && Array.isArray(message) && message[0] === MSG_HELLO) {
        greeted = true;
        child.send([MSG_INIT, init]);
      } else events.message(message);
    });
    child.on('error', (error) => {
      events.error(error);
      // A child that could not be spawned may never emit 'exit': report it here.
      if (child.pid === undefined) events.exit(null, null);
    });
    child.on('exit', (code, signal) => events.exit(code, signal));
    return {
      label: `pid ${child.pid}`,
      post: (message) => {
        child.send(message);
      },
      terminate: (signal) => {
        child.kill(signal);
      },
      ref: () => {
        child.ref();
        child.channel?.ref();
      },
      unref: () => {
        child.unref();
        child.channel?.unref();
      },
    };
  }

  protected _brokenError(message: string, cause: unknown): BrokenProcessPool {
    return new BrokenProcessPool(message, cause === undefined ? undefined : { cause });
  }

  protected _checkCloneable(value: unknown): void {
    serialize(value);
  }
}
