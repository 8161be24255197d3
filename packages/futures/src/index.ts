/**
 * `@forage/futures`: Python's `concurrent.futures` for TypeScript.
 * @packageDocumentation
 */
export { AsyncExecutor, type AsyncExecutorOptions } from './async-executor.js';
export {
  BrokenExecutor,
  BrokenProcessPool,
  BrokenThreadPool,
  CancelledError,
  ExecutorShutdownError,
  FuturesError,
  InvalidStateError,
  RemoteTraceback,
  TaskSerializationError,
  TimeoutError,
} from './errors.js';
export {
  Executor,
  type IterablesOf,
  type MapOptions,
  type ShutdownOptions,
  type SubmitOptions,
  type TaskFunction,
} from './executor.js';
export { type DoneCallback, Future, type FutureState } from './future.js';
export type { MapResults } from './map.js';
export type { PoolOptions } from './pool-executor.js';
export { ProcessPoolExecutor, type ProcessPoolExecutorOptions } from './process-pool.js';
/** How errors cross a thread, process or machine boundary; for executors of other packages. */
export {
  deserializeError,
  type ErrorClasses,
  type SerializedError,
  serializeError,
} from './serialize-error.js';
export { type TaskModule, type TaskRef, taskModule } from './task-module.js';
export { ThreadPoolExecutor, type ThreadPoolExecutorOptions } from './thread-pool.js';
export {
  ALL_COMPLETED,
  type AsCompletedOptions,
  asCompleted,
  type DoneAndNotDone,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type ReturnWhen,
  type WaitOptions,
  wait,
} from './wait.js';
