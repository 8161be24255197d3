/**
 * `timeout(ms)`: reject with a `TimeoutError` when a call takes too long, and tell the callee to
 * stop through its AbortSignal so the abandoned work does not run on in the background.
 */
import { checkOptionsObject, InvalidOptionError, TimeoutError } from './errors.js';
import { deliverSignal, linkSignals, MAX_TIMER_MS } from './signal.js';
import { type AsyncDecorator, makeDecorator } from './wrap.js';

/** Options of {@link timeout}. */
export interface TimeoutOptions {
  /**
   * The position of the callee's `AbortSignal` parameter, filled in when the caller left it
   * out. Without it, the signal still reaches the callee when the caller passes an AbortSignal
   * (or an options object with `signal`): it is replaced by one that also aborts on timeout.
   */
  signalArg?: number;
}

/**
 * Rejects with {@link TimeoutError} (code `ERR_TIMEOUT`) if the call has not settled within `ms`,
 * and aborts the call's AbortSignal with that error. The result is always a promise, so on
 * methods only async methods are accepted.
 *
 * @example
 * class Api {
 *   @timeout(5_000, { signalArg: 1 })
 *   async get(url: string, signal?: AbortSignal) { return fetch(url, { signal }); }
 * }
 */
export function timeout(ms: number, options: TimeoutOptions = {}): AsyncDecorator {
  if (typeof ms !== 'number' || !(ms > 0) || ms === Number.POSITIVE_INFINITY) {
    throw new InvalidOptionError(`timeout(ms): ms must be a finite number > 0, got ${String(ms)}`);
  }
  if (ms > MAX_TIMER_MS) {
    // Node would fire such a timer after 1 ms: every call would time out at once.
    throw new InvalidOptionError(
      `timeout(ms): ms must be at most ${MAX_TIMER_MS} (about 24.8 days, the longest timer Node supports), got ${ms}`,
    );
  }
  checkOptionsObject('timeout(ms, options)', options, 'timeout(5000, { signalArg: 1 })');
  const { signalArg } = options;
  if (signalArg !== undefined && (!Number.isInteger(signalArg) || signalArg < 0)) {
    throw new InvalidOptionError(
      `timeout(ms, { signalArg }): signalArg must be a parameter index >= 0, got ${String(signalArg)}`,
    );
  }
  return makeDecorator('@timeout()', (fn, info) => {
    return async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const controller = new AbortController();
      const delivered = deliverSignal(args, controller.signal, signalArg);
      const callArgs = delivered.args;
      // The callee's signal also follows the caller's own one, if the caller passed one.
      const link = delivered.callerSignal
        ? linkSignals(controller, [delivered.callerSignal])
        : undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new TimeoutError(info.name || 'function', ms);
          controller.abort(error);
          reject(error);
        }, ms);
      });
      try {
        const call = new Promise((resolve) => resolve(fn.apply(this, callArgs)));
        return await Promise.race([call, expired]);
      } finally {
        clearTimeout(timer);
        link?.dispose();
      }
    };
  }) as AsyncDecorator;
}
