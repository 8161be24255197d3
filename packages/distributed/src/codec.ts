/**
 * How task arguments, results and errors travel through Redis. Values use V8's structured
 * serialisation (the same as `postMessage`: Map, Set, Date, BigInt, typed arrays and cycles
 * survive), base64 inside BullMQ's JSON job data. Errors travel as `@forage/futures` serialises
 * them between threads (so they come back as from a `ThreadPoolExecutor`: built-in and `@forage`
 * classes, `AggregateError` with its errors, own properties, the remote stack as `cause` with the
 * error's own cause behind it), plus this package's `DistributedError`.
 */
import { deserialize, serialize } from 'node:v8';
import {
  BrokenExecutor,
  CancelledError,
  deserializeError,
  type ErrorClasses,
  ExecutorShutdownError,
  InvalidStateError,
  RemoteTraceback,
  type SerializedError,
  serializeError,
  TaskSerializationError,
  TimeoutError,
} from '@forage/futures';
import { DistributedError } from './errors.js';

/** A value as it sits in Redis. */
export type EncodedValue = string;

/** An error as it sits in Redis. */
export interface EncodedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /**
   * The error as `@forage/futures` serialises it (`serializeError`), through
   * {@link encodeValue}. Written by current workers; without it, the fields below (from older
   * workers) are read.
   */
  readonly record?: EncodedValue;
  /** Older workers: the constructor to rebuild, for built-in and `@forage/*` error classes. */
  readonly kind?: string;
  /** Older workers: own properties other than name, message and stack, serialised. */
  readonly props?: EncodedValue;
  /** Older workers: set when the task threw something that is not an Error. */
  readonly thrown?: EncodedValue;
}

/**
 * Serialises one value. `what` names it in the error ("argument 2 of sumPrimes").
 * @throws {@link TaskSerializationError} if the value cannot be cloned (a function, a socket).
 */
export function encodeValue(value: unknown, what: string): EncodedValue {
  try {
    return serialize(value).toString('base64');
  } catch (error) {
    throw new TaskSerializationError(
      `cannot send ${what} through the queue: ${(error as Error).message} (values must be structured-cloneable: no functions, class instances lose their prototype)`,
      { cause: error },
    );
  }
}

/** Reverses {@link encodeValue}. */
export function decodeValue(data: EncodedValue): unknown {
  return deserialize(Buffer.from(data, 'base64'));
}

/** This package's classes, kept across the queue besides the built-in and `@forage/futures` ones. */
const ownClasses: ErrorClasses = { DistributedError };

/**
 * Turns anything a task threw into a record Redis can hold. Never throws: what cannot be read
 * or sent is described instead.
 */
export function encodeError(error: unknown): EncodedError {
  const record = serializeError(error, ownClasses);
  const summary =
    record.kind === 'error'
      ? { name: record.name, message: record.message, stack: record.stack }
      : { name: 'Error', message: safeString(record.value) };
  try {
    return { ...summary, record: encodeValue(record, 'the error') };
  } catch {
    // serializeError kept only cloneable values; should V8 still refuse one, keep the text.
    return summary;
  }
}

/**
 * Rebuilds an error from {@link encodeError}, as `ThreadPoolExecutor` does: the same class for
 * built-in, `@forage` and `DistributedError` errors, otherwise an `Error` with the original
 * `name`; own properties restored; the remote stack as `cause` (a {@link RemoteTraceback}),
 * whose own `cause` is the error's cause, rebuilt the same way.
 */
export function decodeError(encoded: EncodedError): unknown {
  if (encoded.record === undefined) return decodeOlderError(encoded);
  const error = deserializeError(decodeValue(encoded.record) as SerializedError, ownClasses);
  if (error instanceof Error) {
    error.stack = `${error.name}: ${error.message}\n    (raised in a forage worker; its stack is in error.cause)`;
  }
  return error;
}

type ErrorClass = new (message: string) => Error;

// The classes older workers named in `kind`.
const olderClasses: Record<string, ErrorClass> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  CancelledError,
  TimeoutError,
  InvalidStateError,
  ExecutorShutdownError,
  TaskSerializationError,
  BrokenExecutor: BrokenExecutor as unknown as ErrorClass,
  DistributedError: DistributedError as unknown as ErrorClass,
};

/** Decodes an error written by a worker of an earlier version (its job may still be in Redis). */
function decodeOlderError(encoded: EncodedError): unknown {
  if (encoded.thrown !== undefined) return decodeValue(encoded.thrown);
  const ErrorClass =
    (encoded.kind && Object.hasOwn(olderClasses, encoded.kind) && olderClasses[encoded.kind]) ||
    Error;
  const error = new ErrorClass(encoded.message);
  if (error.name !== encoded.name) {
    Object.defineProperty(error, 'name', {
      value: encoded.name,
      writable: true,
      configurable: true,
    });
  }
  const props = encoded.props ? (decodeValue(encoded.props) as Record<string, unknown>) : {};
  for (const [key, value] of Object.entries(props)) {
    Object.defineProperty(error, key, {
      value,
      writable: true,
      configurable: true,
      enumerable: key !== 'cause',
    });
  }
  if (encoded.stack !== undefined) {
    if (!Object.hasOwn(props, 'cause')) {
      Object.defineProperty(error, 'cause', {
        value: new RemoteTraceback(encoded.stack),
        writable: true,
        configurable: true,
      });
    }
    error.stack = `${error.name}: ${error.message}\n    (raised in a forage worker; its stack is in error.cause)`;
  }
  return error;
}

/** Whether a value is a well-formed {@link EncodedError} (jobs come from the network). */
export function isEncodedError(value: unknown): value is EncodedError {
  const record = value as EncodedError | null;
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record.name === 'string' &&
    typeof record.message === 'string'
  );
}

/** An error of this package, encoded (used by workers for failures outside the task). */
export function encodeDistributedError(message: string, code: string): EncodedError {
  return encodeError(new DistributedError(message, code));
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
