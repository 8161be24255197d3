/**
 * What a task job looks like in Redis: the shared contract between {@link QueueExecutor} and
 * the `forage worker` processes. Versioned so that a worker can refuse a job it does not
 * understand instead of misreading it.
 */
import type { EncodedError, EncodedValue } from './codec.js';

/** The BullMQ queue name used when none is given. */
export const defaultQueueName = 'forage-tasks';

/** The Redis key prefix of every forage queue (BullMQ's default is `bull`). */
export const defaultPrefix = 'forage';

/** The BullMQ job name of a task. */
export const taskJobName = 'task';

/** The data of a task job. */
export interface TaskJobData {
  /** Protocol version. */
  readonly v: 1;
  /** The task module, a `file:` URL that must exist at the same path on the worker's machine. */
  readonly url: string;
  readonly exportName: string;
  /** The arguments array, serialised. */
  readonly args: EncodedValue;
}

/** What a worker returns for a task job: the task's result or its error. */
export type TaskJobResult =
  | { readonly ok: true; readonly value: EncodedValue }
  | { readonly ok: false; readonly error: EncodedError };

/** Reads job data that came over the network; `undefined` if it is not a task of this version. */
export function readTaskJobData(data: unknown): TaskJobData | undefined {
  const record = data as Partial<TaskJobData> | null;
  if (typeof record !== 'object' || record === null || record.v !== 1) return undefined;
  if (
    typeof record.url !== 'string' ||
    typeof record.exportName !== 'string' ||
    typeof record.args !== 'string'
  ) {
    return undefined;
  }
  return record as TaskJobData;
}
