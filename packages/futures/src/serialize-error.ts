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

const OURS: Record<string, new (message: string) => Error> = {
  CancelledError,
  TimeoutError,
  InvalidStateError,
  BrokenExecutor,
  BrokenThreadPool,
  BrokenProcessPool,
  ExecutorShutdownError,
  TaskSerializationError,
};

const MAX_DEPTH = 5;

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

function builtinName(error: Error): string {
  const ours = error instanceof FuturesError;
  for (
    let proto = Object.getPrototypeOf(error);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    const name = (proto.constructor as { name?: string } | undefined)?.name;
    if (
      name !== undefined &&
      (name in BUILTINS || name === 'AggregateError' || (ours && name in OURS))
    ) {
      return name;
    }
  }
  return 'Error';
}

/** Turns anything a task threw into a cloneable record. */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    return { kind: 'value', value: cloneable(error) ? error : String(error) };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === 'stack' || key === 'message' || key === 'cause') continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    props[key] = cloneable(value) ? value : String(value);
  }
  if ('code' in error && !('code' in props)) props.code = (error as { code: unknown }).code;
  const record: SerializedError = {
    kind: 'error',
    ctor: builtinName(error),
    name: error.name,
    message: error.message,
    stack: error.stack ?? `${error.name}: ${error.message}`,
    props,
  };
  if (depth < MAX_DEPTH && error.cause !== undefined) {
    record.cause = serializeError(error.cause, depth + 1);
  }
  if (depth < MAX_DEPTH && error instanceof AggregateError) {
    record.errors = error.errors.map((e) => serializeError(e, depth + 1));
  }
  return record;
}

/** Rebuilds an error serialised by {@link serializeError}; its `cause` holds the remote stack. */
export function deserializeError(record: SerializedError): unknown {
  if (record.kind === 'value') return record.value;
  let error: Error;
  if (record.ctor === 'AggregateError') {
    error = new AggregateError((record.errors ?? []).map(deserializeError), record.message);
  } else {
    const Ctor = OURS[record.ctor] ?? BUILTINS[record.ctor] ?? Error;
    error = new Ctor(record.message);
  }
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
  const remoteCause = record.cause === undefined ? undefined : deserializeError(record.cause);
  const traceback = new RemoteTraceback(
    record.stack,
    remoteCause === undefined ? undefined : { cause: remoteCause },
  );
  Object.defineProperty(error, 'cause', { value: traceback, writable: true, configurable: true });
  return error;
}
