import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cache,
  concurrency,
  debounce,
  once,
  retry,
  stopAfterAttempt,
  throttle,
  timed,
  timeout,
  trace,
} from '@forage/decorators';
import { unhandledRejections } from './helpers/unhandled.ts';

type Wrap = (fn: () => Promise<never>) => () => PromiseLike<unknown>;

// Each decorator around an async function that rejects. A decorator must be transparent: an
// ignored rejection is reported as the undecorated function's would be, and a handled one is not.
const decorators: [string, Wrap][] = [
  ['none', (fn) => fn],
  ['cache', (fn) => cache()(fn)],
  ['cache with maxSize and ttlMs', (fn) => cache({ maxSize: 1, ttlMs: 60_000 })(fn)],
  ['once', (fn) => once()(fn)],
  ['retry', (fn) => retry({ stop: stopAfterAttempt(2), sleep: async () => {} })(fn)],
  ['timeout', (fn) => timeout(60_000)(fn)],
  ['throttle', (fn) => throttle({ limit: 1, intervalMs: 60_000 })(fn)],
  ['concurrency', (fn) => concurrency(1)(fn)],
  ['timed', (fn) => timed()(fn)],
  ['trace', (fn) => trace({ log: () => {} })(fn)],
  ['debounce', (fn) => debounce({ waitMs: 10 })(fn)],
  ['cache over retry', (fn) => cache()(retry({ stop: stopAfterAttempt(1) })(fn))],
  ['timed over cache', (fn) => timed()(cache()(fn))],
];

function failing(failure: Error): () => Promise<never> {
  return async () => {
    throw failure;
  };
}

describe('unhandled rejections pass through every decorator', () => {
  for (const [name, wrap] of decorators) {
    test(`${name}: an ignored rejection is reported once, a handled one not at all`, async (t) => {
      // debounce runs on a timer: each scenario moves the clock past its wait.
      t.mock.timers.enable({ apis: ['setTimeout'] });
      const failure = new Error(`${name} failed`);
      const ignored = wrap(failing(failure));
      const reported = await unhandledRejections(() => {
        void ignored();
        t.mock.timers.tick(10);
      });
      assert.deepEqual(reported, [failure]);
      const handled = wrap(failing(failure));
      let caught: unknown;
      const none = await unhandledRejections(() => {
        handled().then(undefined, (error: unknown) => {
          caught = error;
        });
        t.mock.timers.tick(10);
      });
      assert.deepEqual(none, []);
      assert.equal(caught, failure);
    });
  }
});
