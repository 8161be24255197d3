/**
 * The errors this package raises. Each has a stable `code`; callers branch on it, never on the
 * message.
 */

/** Base class of every error raised by `@forage/distributed`. */
export class DistributedError extends Error {
  /** A stable, machine-readable identifier such as `ERR_QUEUE_URL`. */
  readonly code: string;

  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

Object.defineProperty(DistributedError.prototype, 'name', {
  value: 'DistributedError',
  writable: true,
  configurable: true,
});

/** Error codes of {@link DistributedError}. */
export const ErrorCode = {
  /** A Redis URL that cannot be used (wrong scheme, no host, bad port or database). */
  queueUrl: 'ERR_QUEUE_URL',
  /** A plain function was submitted: only `taskModule` references can cross machines. */
  taskNotPortable: 'ERR_TASK_NOT_PORTABLE',
  /** Redis refused or dropped a command too many times to keep going. */
  queueUnavailable: 'ERR_QUEUE_UNAVAILABLE',
  /** BullMQ gave up on the job (it stalled more often than allowed: its workers kept dying). */
  jobFailed: 'ERR_JOB_FAILED',
  /** The job disappeared from Redis before it finished (removed or the data was flushed). */
  jobLost: 'ERR_JOB_LOST',
  /** `QueueExecutor.abort()` stopped the executor before the job finished. */
  executorAborted: 'ERR_EXECUTOR_ABORTED',
  /** A worker received a job it cannot read (another program wrote it). */
  jobMalformed: 'ERR_JOB_MALFORMED',
  /** A worker refused to import a task module that is not a `file:` URL. */
  moduleRefused: 'ERR_TASK_MODULE_REFUSED',
  /** A worker could not import the task module or find the export. */
  moduleImport: 'ERR_TASK_MODULE_IMPORT',
  /**
   * A census worker refused a job naming another API than the one it serves (it sends its
   * tokens only to its own `--api`).
   */
  apiRefused: 'ERR_CENSUS_API_REFUSED',
  /** An option has the wrong type or range. */
  invalidOption: 'ERR_INVALID_ARG_VALUE',
} as const;

/** Builds a {@link DistributedError} for a bad option, naming it and the fix. */
export function invalidOption(message: string): DistributedError {
  return new DistributedError(message, ErrorCode.invalidOption);
}

/** Checks an optional positive integer option. */
export function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalidOption(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** The longest delay Node.js timers take (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
export const maxTimerMs = 2 ** 31 - 1;

/** Checks an optional duration in milliseconds that ends up in a timer. */
export function durationMs(value: unknown, name: string, fallback: number): number {
  const ms = positiveInteger(value, name, fallback);
  if (ms > maxTimerMs) {
    throw invalidOption(
      `${name} must be at most ${maxTimerMs} ms (about 24.8 days, the longest timer Node.js can set), got ${ms}`,
    );
  }
  return ms;
}

/** Checks a queue name or key prefix: BullMQ puts it inside Redis keys. */
export function checkName(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(value)) {
    throw invalidOption(
      `${name} must be 1 to 100 letters, digits, '_', '.' or '-', got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
