/**
 * Stop strategies for `retry`: when to give up. Each is a plain function of the retry state, so
 * they compose with {@link stopAny} and {@link stopAll} (tenacity's `|` and `&`).
 */
import { checkFunctionList, InvalidOptionError } from './errors.js';
import type { StopStrategy } from './retry-state.js';

function checkNonNegative(api: string, name: string, value: number): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidOptionError(`${api}: ${name} must be a number >= 0, got ${String(value)}`);
  }
}

/**
 * Gives up once `attempts` attempts were made (the first call counts).
 *
 * @example retry({ stop: stopAfterAttempt(5) })
 */
export function stopAfterAttempt(attempts: number): StopStrategy {
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new InvalidOptionError(
      `stopAfterAttempt(attempts): attempts must be an integer >= 1, got ${String(attempts)}`,
    );
  }
  return (state) => state.attempt >= attempts;
}

/**
 * Gives up once `ms` milliseconds have passed since the first attempt started.
 *
 * @example retry({ stop: stopAfterDelay(30_000) })
 */
export function stopAfterDelay(ms: number): StopStrategy {
  checkNonNegative('stopAfterDelay(ms)', 'ms', ms);
  return (state) => state.elapsedMs >= ms;
}

/**
 * Gives up when the next sleep would end after `ms` milliseconds since the first attempt, so
 * the whole call stays within the budget (tenacity's `stop_before_delay`).
 *
 * @example retry({ stop: stopBeforeDelay(10_000) })
 */
export function stopBeforeDelay(ms: number): StopStrategy {
  checkNonNegative('stopBeforeDelay(ms)', 'ms', ms);
  return (state) => state.elapsedMs + (state.nextDelayMs ?? 0) >= ms;
}

/**
 * Gives up when any of the strategies says so.
 *
 * @example retry({ stop: stopAny(stopAfterAttempt(5), stopAfterDelay(10_000)) })
 */
export function stopAny(...strategies: StopStrategy[]): StopStrategy {
  checkFunctionList('stopAny(...strategies)', strategies);
  return (state) => strategies.some((stop) => stop(state));
}

/**
 * Gives up only when all of the strategies say so.
 *
 * @example retry({ stop: stopAll(stopAfterAttempt(3), stopAfterDelay(1_000)) })
 */
export function stopAll(...strategies: StopStrategy[]): StopStrategy {
  checkFunctionList('stopAll(...strategies)', strategies);
  return (state) => strategies.length > 0 && strategies.every((stop) => stop(state));
}
