/**
 * AbortSignal plumbing shared by retry, timeout, throttle and concurrency: finding the signal a
 * caller passed, handing a combined one to the callee, and sleeping in a way an abort cancels.
 */

/** Sleeps `ms` milliseconds; rejects with `signal.reason` as soon as `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The longest delay one `setTimeout` takes (about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The default {@link Sleep}: a timer that an abort clears. */
export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let timer: ReturnType<typeof setTimeout>;
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    // A sleep longer than one timer allows is taken in steps.
    const wait = (left: number) => {
      timer = setTimeout(
        () => {
          if (left > MAX_TIMER_MS) return wait(left - MAX_TIMER_MS);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.min(left, MAX_TIMER_MS),
      );
    };
    wait(ms);
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
 * A plain options object (`{ signal, ... }`), the only kind whose `signal` may be swapped by
 * copying: copying anything else (a `Request`, an `AbortController`) would hand the callee a
 * plain object without its prototype, getters or methods.
 */
function isPlainOptionsWithSignal(value: unknown): value is { signal: AbortSignal } {
  if (!isOptionsWithSignal(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
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

/** A signal that follows several others, and a way to stop following them. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Removes the listeners from the source signals; call it when the operation ends. */
  dispose(): void;
}

/**
 * Links `sources` into one signal that aborts (with the same reason) as soon as any of them
 * does. Unlike `AbortSignal.any`, the link is removed deterministically by `dispose()`, so a
 * long-lived source (a process-wide shutdown signal) does not accumulate one dependent signal
 * per call, a leak Node has had (nodejs/node#55351).
 */
export function linkSignals(controller: AbortController, sources: AbortSignal[]): LinkedSignal {
  const signal = controller.signal;
  const listeners: [AbortSignal, () => void][] = [];
  const dispose = () => {
    for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
    listeners.length = 0;
  };
  for (const source of sources) {
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const listener = () => {
      controller.abort(source.reason);
      dispose();
    };
    source.addEventListener('abort', listener, { once: true });
    listeners.push([source, listener]);
  }
  if (signal.aborted) dispose();
  return { signal, dispose };
}

/**
 * Returns `args` with `signal` delivered to the callee, plus the caller's own signal if it had
 * one (the owner links the two): `signal` replaces the AbortSignal argument or the `signal` of
 * a plain options argument, or fills position `index` when the caller left it empty. Without
 * any of these the arguments are returned unchanged (other objects are passed as they are).
 */
export function deliverSignal(
  args: readonly unknown[],
  signal: AbortSignal,
  index: number | undefined,
): { args: unknown[]; callerSignal: AbortSignal | undefined } {
  const out = [...args];
  for (let i = out.length - 1; i >= 0; i--) {
    const arg = out[i];
    if (isSignal(arg)) {
      out[i] = signal;
      return { args: out, callerSignal: arg };
    }
    if (isPlainOptionsWithSignal(arg)) {
      out[i] = { ...arg, signal };
      return { args: out, callerSignal: arg.signal };
    }
  }
  if (index !== undefined) {
    while (out.length <= index) out.push(undefined);
    out[index] = signal;
  }
  return { args: out, callerSignal: undefined };
}
