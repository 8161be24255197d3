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
 * A chunk whose results could not all be cloned. value: `[values, index, reason]`: the results
 * before the first that cannot be cloned, its index in the chunk and the clone error's message.
 */
export const RESULT_CHUNK_UNSENDABLE = 4;

/**
 * A chunk's items or results that are all numbers travel as a typed array: cloned as one block
 * of bytes instead of element by element. Small integers (the common case: counts, indexes,
 * ids) go as an `Int32Array`, whose elements read back without allocating; any other numbers as
 * a `Float64Array`, from which every JavaScript number (-0, NaN, infinities) comes out the same.
 * Packs `values[start..end)` into a new array; undefined when some item is not a number (or the
 * range holds fewer than two), for the caller to send as it is.
 */
export function packNumbers(
  values: unknown[],
  start = 0,
  end = values.length,
): Int32Array | Float64Array | undefined {
  const length = end - start;
  if (length < 2) return undefined;
  let int32 = true;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (typeof v !== 'number') return undefined;
    // -0 is not an int32 (it would come back as 0).
    if (int32 && ((v | 0) !== v || (v === 0 && 1 / v < 0))) int32 = false;
  }
  // Copied straight from the range: no intermediate slice, which for a million items would be
  // 8 MB of garbage.
  const packed = int32 ? new Int32Array(length) : new Float64Array(length);
  for (let i = 0; i < length; i++) packed[i] = values[start + i] as number;
  return packed;
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
