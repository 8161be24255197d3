/**
 * Errors crossing a thread or process boundary. Structured clone keeps the class of built-in
 * errors but drops `code` and other own properties, and a child process's IPC keeps even less;
 * so errors travel as plain records and are rebuilt here: built-in classes and this package's
 * classes come back as themselves, custom classes as an `Error` with the same `name`, and every
 * own property that can be cloned is kept. The worker's stack becomes the `cause`.
 */
import {
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

/** An error (or any thrown value) in a form that survives structured clone and IPC. */
export type SerializedError =
  | {
      kind: 'error';
      ctor: string;
      name: string;
      message: string;
      stack: string;
      props: Record<string, unknown>;
      cause?: SerializedError;
      errors?: SerializedError[];
    }
  | { kind: 'value'; value: unknown };

const BUILTINS: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

// Rebuilt without running their constructors (see `rebuild`), which take other arguments than a
// message: a code, or a stack to wrap.
const OURS: Record<string, new (...args: never[]) => Error> = {
  FuturesError,
  RemoteTraceback,
  CancelledError,
  TimeoutError,
  InvalidStateError,
  BrokenExecutor,
  BrokenThreadPool,
  BrokenProcessPool,
  ExecutorShutdownError,
  TaskSerializationError,
};

/**
 * Error classes of another package to keep across the boundary (`@forage/distributed` passes its
 * `DistributedError`), by the name their constructor has. Like this package's own classes, an
 * error comes back as one of these only if it was an instance of that very class, and is rebuilt
 * without running the constructor: its own properties (`code`, ...) are restored instead.
 */
export type ErrorClasses = Readonly<Record<string, new (...args: never[]) => Error>>;

const MAX_DEPTH = 5;

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** `String(value)`, or a description when that throws (a `toString` that throws, no prototype). */
function describe(value: unknown): string {
  try {
    return String(value);
  } catch {}
  try {
    return Object.prototype.toString.call(value);
  } catch {}
  return `[${typeof value}]`;
}

/** What stands in for a property whose getter threw. */
function unreadable(error: unknown): string {
  return `[unreadable: ${describe(error)}]`;
}

/** `value instanceof Error`, false if a proxy's `getPrototypeOf` throws. */
function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/** A property read that cannot throw: a getter that throws gives `fallback(error)`. */
function read(target: object, key: PropertyKey, fallback: (error: unknown) => unknown): unknown {
  try {
    return (target as Record<PropertyKey, unknown>)[key];
  } catch (error) {
    return fallback(error);
  }
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : describe(value);
}

function builtinName(error: Error, classes: ErrorClasses): string {
  const ours = error instanceof FuturesError;
  for (
    let proto = Object.getPrototypeOf(error);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    const ctor = proto.constructor as (abstract new () => unknown) | undefined;
    const name = (ctor as { name?: string } | undefined)?.name;
    if (name === undefined) continue;
    if (
      name in BUILTINS ||
      name === 'AggregateError' ||
      name === 'DOMException' ||
      (ours && name in OURS) ||
      (Object.hasOwn(classes, name) && classes[name] === ctor)
    ) {
      return name;
    }
  }
  return 'Error';
}

/**
 * Turns anything a task threw into a cloneable record. Never throws: a getter or `toString`
 * that throws, or a hostile proxy, leaves a description in place of what could not be read.
 */
export function serializeError(
  error: unknown,
  classes: ErrorClasses = {},
  depth = 0,
): SerializedError {
  try {
    return serialize(error, classes, depth);
  } catch (failure) {
    // Something not foreseen below threw: keep what can be described.
    const message = `${describe(error)} (could not be serialised: ${describe(failure)})`;
    return { kind: 'error', ctor: 'Error', name: 'Error', message, stack: message, props: {} };
  }
}

function serialize(error: unknown, classes: ErrorClasses, depth: number): SerializedError {
  if (!isError(error)) {
    return { kind: 'value', value: cloneable(error) ? error : describe(error) };
  }
  const props: Record<string, unknown> = {};
  let keys: string[] = [];
  try {
    keys = Object.keys(error);
  } catch {}
  for (const key of keys) {
    if (key === 'stack' || key === 'message' || key === 'cause') continue;
    const value = read(error, key, unreadable);
    props[key] = cloneable(value) ? value : describe(value);
  }
  if (!('code' in props)) {
    let hasCode = false;
    try {
      hasCode = 'code' in error;
    } catch {}
    if (hasCode) {
      const code = read(error, 'code', unreadable);
      props.code = cloneable(code) ? code : describe(code);
    }
  }
  let ctor = 'Error';
  try {
    ctor = builtinName(error, classes);
  } catch {}
  const name = asString(read(error, 'name', () => 'Error'));
  const message = asString(read(error, 'message', unreadable));
  const stack = read(error, 'stack', () => undefined);
  const record: SerializedError = {
    kind: 'error',
    ctor,
    name,
    message,
    stack: stack === undefined || stack === null ? `${name}: ${message}` : asString(stack),
    props,
  };
  if (depth < MAX_DEPTH) {
    const cause = read(error, 'cause', (e) => unreadable(e));
    if (cause !== undefined) record.cause = serializeError(cause, classes, depth + 1);
    if (ctor === 'AggregateError') {
      const errors = read(error, 'errors', () => undefined);
      if (Array.isArray(errors)) {
        record.errors = errors.map((e) => serializeError(e, classes, depth + 1));
      }
    }
  }
  return record;
}

/**
 * Rebuilds an error serialised by {@link serializeError}; its `cause` holds the remote stack.
 * `classes` are those given to {@link serializeError}.
 */
export function deserializeError(record: SerializedError, classes: ErrorClasses = {}): unknown {
  if (record.kind === 'value') return record.value;
  const error = rebuild(record, classes);
  if (error.name !== record.name) {
    Object.defineProperty(error, 'name', {
      value: record.name,
      writable: true,
      configurable: true,
    });
  }
  for (const [key, value] of Object.entries(record.props)) {
    Object.defineProperty(error, key, {
      value,
      writable: true,
      configurable: true,
      enumerable: true,
    });
  }
  const remoteCause =
    record.cause === undefined ? undefined : deserializeError(record.cause, classes);
  const traceback = new RemoteTraceback(
    record.stack,
    remoteCause === undefined ? undefined : { cause: remoteCause },
  );
  Object.defineProperty(error, 'cause', { value: traceback, writable: true, configurable: true });
  return error;
}

/** A new error of the record's class, with its message. */
function rebuild(
  record: Extract<SerializedError, { kind: 'error' }>,
  classes: ErrorClasses,
): Error {
  const { ctor, message } = record;
  if (ctor === 'AggregateError') {
    const errors = (record.errors ?? []).map((e) => deserializeError(e, classes));
    return new AggregateError(errors, message);
  }
  // Its `name` gives its legacy `code` (20 for AbortError).
  if (ctor === 'DOMException') return new DOMException(message, record.name);
  // Own keys only: the record may come from the network (`constructor` must not match).
  const own = (table: ErrorClasses) => (Object.hasOwn(table, ctor) ? table[ctor] : undefined);
  const Builtin = own(BUILTINS);
  if (Builtin !== undefined) return new (Builtin as ErrorConstructor)(message);
  const Ctor = own(OURS) ?? own(classes);
  // An Error whose prototype is Ctor's, made without Ctor's own constructor.
  if (Ctor !== undefined) return Reflect.construct(Error, [message], Ctor) as Error;
  return new Error(message);
}
