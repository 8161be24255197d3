/**
 * The errors this package raises. Every one carries a stable `code` so callers can branch on it
 * without parsing messages; the class hierarchy mirrors CPython's `concurrent.futures`.
 */

/** Base class of every error raised by `@forage/futures`. */
export class FuturesError extends Error {
  /** A stable, machine-readable identifier such as `ERR_FUTURE_CANCELLED`. */
  readonly code: string;

  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** The future was cancelled before it ran (Python: `concurrent.futures.CancelledError`). */
export class CancelledError extends FuturesError {
  constructor(message = 'the future was cancelled', options?: ErrorOptions) {
    super(message, 'ERR_FUTURE_CANCELLED', options);
  }
}

/** A deadline passed before the operation finished (Python: `TimeoutError`). */
export class TimeoutError extends FuturesError {
  constructor(message = 'the operation timed out', options?: ErrorOptions) {
    super(message, 'ERR_FUTURE_TIMEOUT', options);
  }
}

/** An operation is not allowed in the future's current state (Python: `InvalidStateError`). */
export class InvalidStateError extends FuturesError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ERR_FUTURE_INVALID_STATE', options);
  }
}

/**
 * The executor can no longer run tasks: a worker died, was killed or failed its initializer.
 * Every pending future fails with it and every later `submit()` throws it.
 */
export class BrokenExecutor extends FuturesError {
  constructor(message: string, options?: ErrorOptions, code = 'ERR_EXECUTOR_BROKEN') {
    super(message, code, options);
  }
}

/** A {@link BrokenExecutor} raised by `ThreadPoolExecutor`. */
export class BrokenThreadPool extends BrokenExecutor {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options, 'ERR_THREAD_POOL_BROKEN');
  }
}

/** A {@link BrokenExecutor} raised by `ProcessPoolExecutor`. */
export class BrokenProcessPool extends BrokenExecutor {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options, 'ERR_PROCESS_POOL_BROKEN');
  }
}

/**
 * `submit()` or `map()` was called after `shutdown()` (Python raises `RuntimeError` with the
 * same message).
 */
export class ExecutorShutdownError extends FuturesError {
  constructor(message = 'cannot schedule new futures after shutdown') {
    super(message, 'ERR_EXECUTOR_SHUTDOWN');
  }
}

/**
 * A task, one of its arguments or its result could not be sent between threads or processes
 * (Python: `PicklingError`). The message names the task and which value failed.
 */
export class TaskSerializationError extends FuturesError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ERR_TASK_SERIALIZATION', options);
  }
}

/**
 * Holds the stack of an error as it was printed inside a worker; set as the `cause` of errors
 * that crossed a thread or process boundary (Python: `_RemoteTraceback`).
 */
export class RemoteTraceback extends FuturesError {
  constructor(stack: string, options?: ErrorOptions) {
    super(`\n"""\n${stack}\n"""`, 'ERR_REMOTE_TRACEBACK', options);
  }
}

// Names live on the prototypes (as for built-in errors) so they survive minification and stay
// out of each instance's own properties.
for (const ErrorClass of [
  FuturesError,
  CancelledError,
  TimeoutError,
  InvalidStateError,
  BrokenExecutor,
  BrokenThreadPool,
  BrokenProcessPool,
  ExecutorShutdownError,
  TaskSerializationError,
  RemoteTraceback,
]) {
  Object.defineProperty(ErrorClass.prototype, 'name', {
    value: ErrorClass.name,
    writable: true,
    configurable: true,
  });
}

/** Builds a `TypeError` with a stable code, for bad arguments. */
export function invalidArgType(message: string): TypeError & { code: string } {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

/** Builds a `RangeError` with a stable code, for out-of-range arguments (Python: `ValueError`). */
export function invalidArgValue(message: string): RangeError & { code: string } {
  return Object.assign(new RangeError(message), { code: 'ERR_INVALID_ARG_VALUE' });
}

/** Throws a `TypeError` naming the option unless `value` is an integer. */
export function checkInteger(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidArgType(`${name} must be an integer, got ${String(value)}`);
  }
}

/** Validates an optional integer option that must be at least 1. */
export function checkPositiveInteger(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  checkInteger(value, name);
  if (value < 1) throw invalidArgValue(`${name} must be >= 1, got ${value}`);
  return value;
}

/** `Max_Workers` -> `maxworkers`, so that Python's spellings find ours. */
function normaliseName(name: string): string {
  return name.replaceAll('_', '').toLowerCase();
}

/**
 * Throws unless `options` is undefined or an object with only `known` keys: a misspelt option
 * would otherwise be ignored without a word (Python raises `TypeError` for an unknown keyword).
 * `hints` suggest the right option for names that belong elsewhere; `note` ends the message.
 * Returns `options`.
 */
export function checkOptions<T>(
  options: T,
  known: readonly string[],
  what: string,
  hints: Readonly<Record<string, string>> = {},
  note = '',
): T {
  if (options === undefined) return options;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    const got = options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options;
    throw invalidArgType(`${what} takes an options object, got ${got}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const name = normaliseName(key);
    const like =
      known.find((k) => normaliseName(k) === name) ??
      known.find((k) => normaliseName(k).startsWith(name) || name.startsWith(normaliseName(k)));
    const hint = Object.hasOwn(hints, key)
      ? `: ${hints[key]}`
      : like === undefined
        ? ''
        : `: did you mean ${like}?`;
    throw invalidArgType(
      `${what} has no option ${JSON.stringify(key)}${hint} (its options: ${known.join(', ')})${note}`,
    );
  }
  return options;
}
