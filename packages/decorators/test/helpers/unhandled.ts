/**
 * Catches the unhandled rejections a scenario leaves behind, so tests can check that the
 * decorators report them as the undecorated function would (and invent none).
 */
import { flush } from './fake-clock.ts';

/**
 * Runs `scenario` and returns the reasons of the rejections Node reported as unhandled while
 * it ran and during the event loop turns after it. node:test's own listener (which would fail
 * the test on such a rejection) is set aside meanwhile, and ours keeps the process alive under
 * `--unhandled-rejections=throw`. The scenario is synchronous on purpose: returning the
 * promise under test from it would hand that promise a handler.
 */
export async function unhandledRejections(scenario: () => void, turns = 3): Promise<unknown[]> {
  const others = process.listeners('unhandledRejection');
  const reported: unknown[] = [];
  const listener = (reason: unknown): void => {
    reported.push(reason);
  };
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', listener);
  try {
    scenario();
    await flush(turns);
  } finally {
    process.off('unhandledRejection', listener);
    for (const other of others) process.on('unhandledRejection', other);
  }
  return reported;
}
