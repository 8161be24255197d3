/**
 * The errors this package raises. Every one carries a stable `code` so callers can branch on it
 * without parsing messages.
 */

/** Base class of every error raised by `@forage/decorators`. */
export class DecoratorsError extends Error {
  /** A stable, machine-readable identifier such as `ERR_RETRY_EXHAUSTED`. */
  readonly code: string;

  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A decorator was applied to something it cannot wrap (a field, a getter, a non-function). */
export class DecoratorTargetError extends DecoratorsError {
  constructor(message: string) {
    super(message, 'ERR_DECORATOR_TARGET');
  }
}

/** An option passed to a decorator factory is out of range or of the wrong type. */
export class InvalidOptionError extends DecoratorsError {
  constructor(message: string) {
    super(message, 'ERR_DECORATOR_OPTION');
  }
}

/**
 * Refuses an options argument that is not an object, when the decorator is made rather than
 * with a TypeError at its first call. `usage` shows a valid call, e.g. `'timed({})'`.
 */
export function checkOptionsObject(api: string, options: unknown, usage: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`${api}: options must be an object, e.g. ${usage}`);
  }
}

/** Refuses an option that must be a function (when given), naming it. */
export function checkOptionFunction(api: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidOptionError(`${api}: ${name} must be a function, got ${typeof value}`);
  }
}

/** Refuses a combinator's argument list unless every item is a function (a strategy, a predicate). */
export function checkFunctionList(api: string, items: readonly unknown[]): void {
  items.forEach((item, i) => {
    if (typeof item !== 'function') {
      throw new InvalidOptionError(
        `${api}: argument ${i + 1} must be a function, got ${typeof item}`,
      );
    }
  });
}

/** `timeout(ms)` fired before the call settled. */
export class TimeoutError extends DecoratorsError {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  constructor(name: string, timeoutMs: number) {
    super(`${name}() did not settle within ${timeoutMs} ms`, 'ERR_TIMEOUT');
    this.timeoutMs = timeoutMs;
  }
}

/** A pending call was cancelled (`cancel(fn)` on a debounced function). */
export class CancelledError extends DecoratorsError {
  constructor(message: string) {
    super(message, 'ERR_CANCELLED');
  }
}

/** `concurrency(n, { maxQueue })`: the queue was full, so the call was refused at once. */
export class ConcurrencyLimitError extends DecoratorsError {
  constructor(name: string, limit: number, maxQueue: number) {
    super(
      `${name}(): ${limit} calls are running and ${maxQueue} are queued (maxQueue); ` +
        'retry later or raise maxQueue',
      'ERR_CONCURRENCY_QUEUE_FULL',
    );
  }
}
