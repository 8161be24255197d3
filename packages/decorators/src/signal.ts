/**
 * AbortSignal plumbing shared by retry, timeout, throttle and concurrency: finding the signal a
 * caller passed, handing a combined one to the callee, and sleeping in a way an abort cancels.
 */

/** Sleeps `ms` milliseconds; rejects with `signal.reason` as soon as `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The default {@link Sleep}: a timer that an abort clears. */
export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function isSignal(value: unknown): value is AbortSignal {
  return value instanceof AbortSignal;
}

function isOptionsWithSignal(value: unknown): value is { signal: AbortSignal } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    isSignal((value as { signal?: unknown }).signal)
  );
}

/**
 * The abort signal among a call's arguments: an `AbortSignal` argument, or the `signal` of a
 * plain options object (`{ signal }`), the last one found wins.
 */
export function findSignal(args: readonly unknown[]): AbortSignal | undefined {
  for (let i = args.length - 1; i >= 0; i--) {
    const arg = args[i];
    if (isSignal(arg)) return arg;
    if (isOptionsWithSignal(arg)) return arg.signal;
  }
  return undefined;
}

/**
 * Returns `args` with `signal` delivered to the callee: it replaces (combined with the caller's)
 * the AbortSignal argument or the `signal` of an options argument, or fills position `index`
 * when the caller left it empty. Without any of these the arguments are returned unchanged.
 */
export function deliverSignal(
  args: readonly unknown[],
  signal: AbortSignal,
  index: number | undefined,
): unknown[] {
  const out = [...args];
  for (let i = out.length - 1; i >= 0; i--) {
    const arg = out[i];
    if (isSignal(arg)) {
      out[i] = AbortSignal.any([arg, signal]);
      return out;
    }
    if (isOptionsWithSignal(arg)) {
      out[i] = { ...arg, signal: AbortSignal.any([arg.signal, signal]) };
      return out;
    }
  }
  if (index !== undefined) {
    while (out.length <= index) out.push(undefined);
    out[index] = signal;
  }
  return out;
}
