/**
 * How task arguments, results and errors travel through Redis. Values use V8's structured
 * serialisation (the same as `postMessage`: Map, Set, Date, BigInt, typed arrays and cycles
 * survive), base64 inside BullMQ's JSON job data. Errors travel as records that keep their
 * class (for built-in ones), `name`, `message`, `code` and other own properties, and the
 * remote stack, which comes back as the error's `cause`.
 */
import { deserialize, serialize } from 'node:v8';
import {
  BrokenExecutor,
  CancelledError,
  ExecutorShutdownError,
  InvalidStateError,
  RemoteTraceback,
  TaskSerializationError,
  TimeoutError,
} from '@forage/futures';
import { DistributedError } from './errors.js';

/** A value as it sits in Redis. */
export type EncodedValue = string;

/** An error as it sits in Redis. */
export interface EncodedError {
  /** The constructor to rebuild, for built-in and `@forage/*` error classes. */
  readonly kind?: string;
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** Own properties other than name, message and stack (`code`, `status`, ...), serialised. */
  readonly props?: EncodedValue;
  /** Set when the task threw something that is not an Error: the thrown value itself. */
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

type ErrorClass = new (message: string) => Error;

// Classes rebuilt on the other side: the built-in ones, then this family's own. The futures
// errors take a message first, like the built-ins (their codes are set by their constructors).
const errorClasses: Record<string, ErrorClass> = {
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

/** Turns anything a task threw into a record Redis can hold. Never throws. */
export function encodeError(error: unknown): EncodedError {
  if (!(error instanceof Error)) {
    try {
      return {
        name: 'Error',
        message: String(error),
        thrown: encodeValue(error, 'the thrown value'),
      };
    } catch {
      return {
        name: 'Error',
        message: `a task threw a value that cannot be sent: ${safeString(error)}`,
      };
    }
  }
  const kind = Object.hasOwn(errorClasses, error.constructor?.name)
    ? error.constructor.name
    : undefined;
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === 'name' || key === 'message' || key === 'stack') continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    props[key] = isCloneable(value) ? value : safeString(value);
  }
  if (Object.hasOwn(error, 'cause') && !('cause' in props)) {
    const cause = (error as { cause?: unknown }).cause;
    props.cause = isCloneable(cause) ? cause : safeString(cause);
  }
  return {
    ...(kind ? { kind } : {}),
    name: String(error.name),
    message: String(error.message),
    ...(typeof error.stack === 'string' ? { stack: error.stack } : {}),
    ...(Object.keys(props).length > 0 ? { props: encodeValue(props, 'error properties') } : {}),
  };
}

/**
 * Rebuilds an error from {@link encodeError}: the same class for built-in and `@forage`
 * errors, otherwise an `Error` with the original `name`; own properties restored; the remote
 * stack as `cause` (a {@link RemoteTraceback}) unless the error had its own cause.
 */
export function decodeError(encoded: EncodedError): unknown {
  if (encoded.thrown !== undefined) return decodeValue(encoded.thrown);
  const ErrorClass = (encoded.kind && errorClasses[encoded.kind]) || Error;
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

function isCloneable(value: unknown): boolean {
  try {
    serialize(value);
    return true;
  } catch {
    return false;
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
