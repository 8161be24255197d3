/**
 * The messages between an executor and its workers (threads or child processes). Messages are
 * arrays, and tasks and results travel in flat batches, so that thousands of tiny tasks cost a
 * handful of structured clones instead of one each.
 */
import type { SerializedError } from './serialize-error.js';

// Parent -> worker.
/** `[MSG_TASKS, defs: FunctionDef[] | null, batch: [taskId, fnId, args, mode, ...]]`; `args` is the
 * argument itself for `TASK_CALL_ONE`. */
export const MSG_TASKS = 0;
/** `[MSG_EXIT]`: finish and exit (recycling or shutdown). */
export const MSG_EXIT = 1;
/** `[MSG_INIT, InitPayload]`: child processes get their setup by message (threads by workerData). */
export const MSG_INIT = 2;

// Worker -> parent.
/** `[MSG_RESULTS, results: [taskId, status, value, ...], durationMs]`: durationMs is the time the
 * reported tasks occupied the worker, from start to settle. */
export const MSG_RESULTS = 0;
/** `[MSG_READY]`: the initializer ran; tasks may be sent. */
export const MSG_READY = 1;
/** `[MSG_INIT_FAILED, SerializedError]` */
export const MSG_INIT_FAILED = 2;
/** `[MSG_HELLO]`: a child process is listening for its `MSG_INIT`. */
export const MSG_HELLO = 3;

/** Task modes in a batch. */
export const TASK_CALL = 0;
/** A chunk of argument lists: `fn(...args)` for each. */
export const TASK_CHUNK = 1;
/** A chunk of single arguments (a map over one iterable): `fn(item)` for each. */
export const TASK_CHUNK_ONE = 2;
/** A call with exactly one argument, sent bare rather than in an array (the common case). */
export const TASK_CALL_ONE = 3;

/** Result statuses. */
export const RESULT_OK = 0;
export const RESULT_ERROR = 1;
/** value: `[values, failed (0 | 1), SerializedError | null]` */
export const RESULT_CHUNK = 2;
/** value: the clone error's message; the parent names the task. */
export const RESULT_UNSENDABLE = 3;

/**
 * A chunk's items or results that are all numbers travel as a `Float64Array`: cloned as one
 * block of bytes instead of element by element, and every JavaScript number (integers, -0,
 * NaN, infinities) comes out the same. Anything else stays an array.
 */
export function packNumbers(values: unknown[]): unknown[] | Float64Array {
  if (values.length < 2) return values;
  for (let i = 0; i < values.length; i++) if (typeof values[i] !== 'number') return values;
  return Float64Array.from(values as number[]);
}

/** How a worker finds a function: by source text (shipped once per worker) or module export. */
export interface FunctionDef {
  id: number;
  name: string;
  source?: string;
  url?: string;
  exportName?: string;
}

/** What a worker needs before its first task. */
export interface InitPayload {
  initializer: FunctionDef | null;
  initArgs: unknown[];
}

export type { SerializedError };
