/**
 * Timers for any timeout a caller may pass: `setTimeout` takes at most 2^31 - 1 ms (about 24.8
 * days) and turns anything longer into 1 ms, with a warning.
 */

/** `setTimeout`'s longest delay. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` once `ms` milliseconds have passed, however long that is (a longer delay is
 * reached by re-arming). Returns a function that cancels it.
 */
export function after(ms: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = (left: number): void => {
    if (left > MAX_TIMER_MS) timer = setTimeout(arm, MAX_TIMER_MS, left - MAX_TIMER_MS);
    else timer = setTimeout(fn, Math.max(0, left));
  };
  arm(ms);
  return () => clearTimeout(timer);
}
