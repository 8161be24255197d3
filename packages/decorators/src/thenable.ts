/** True for promises and promise-like values, which the wrappers treat as async results. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * What a cache stores and hands out for an async result, calling `forget` if it rejects (a
 * rejected promise must not be served again).
 *
 * Watching for the rejection means attaching a handler, and a handler on the promise callers
 * receive marks it as handled: Node would then never report a rejection that no caller
 * handles. So for a native promise the handler goes on the function's own promise, and
 * callers get a promise derived from it that settles the same way (one tick later) and carries
 * no handler of ours. Other thenables (promise subclasses, promises from another realm,
 * library promises) are returned as they are, since a derived promise would change their
 * type; the handler then sits on them, and a rejection nobody handles goes unreported.
 */
export function forgetOnRejection(value: PromiseLike<unknown>, forget: () => void): unknown {
  if (Object.getPrototypeOf(value) === Promise.prototype) {
    return (value as Promise<unknown>).then(undefined, (error: unknown) => {
      forget();
      throw error;
    });
  }
  value.then(undefined, forget);
  return value;
}
