import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { TimeoutError, timeout } from '@forage/decorators';
import { deferred, flush } from './helpers/fake-clock.ts';

describe('timeout', () => {
  test('rejects with TimeoutError and aborts the signal it handed to the callee', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let seen: AbortSignal | undefined;
    const get = timeout(1_000, { signalArg: 1 })(
      (url: string, signal?: AbortSignal) =>
        new Promise<string>((resolve, reject) => {
          seen = signal;
          signal?.addEventListener('abort', () => reject(signal.reason));
          setTimeout(() => resolve(url), 5_000);
        }),
    );
    const pending = get('u');
    await flush();
    assert.ok(seen instanceof AbortSignal, 'the callee received a signal');
    t.mock.timers.tick(1_000);
    await assert.rejects(pending, (e: unknown) => {
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.code, 'ERR_TIMEOUT');
      assert.equal(e.timeoutMs, 1_000);
      assert.match(e.message, /did not settle within 1000 ms/);
      return true;
    });
    assert.equal(seen?.aborted, true);
    assert.ok(seen?.reason instanceof TimeoutError);
  });

  test("follows the caller's own signal, in an options object too, and unlinks afterwards", async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let inner: AbortSignal | undefined;
    const started = deferred();
    const get = timeout(1_000)(async (opts: { signal: AbortSignal; id: number }) => {
      inner = opts.signal;
      started.resolve();
      await new Promise((_, reject) =>
        opts.signal.addEventListener('abort', () => reject(opts.signal.reason)),
      );
    });
    const caller = new AbortController();
    const pending = get({ signal: caller.signal, id: 7 });
    await started.promise;
    assert.notEqual(inner, caller.signal);
    caller.abort(new Error('user cancelled'));
    await assert.rejects(pending, /user cancelled/);
    assert.equal(inner?.aborted, true);

    // A long-lived caller signal keeps no listener once each call has settled.
    const shutdown = new AbortController();
    const quick = timeout(1_000)(async (_signal: AbortSignal) => 'ok');
    for (let i = 0; i < 5; i++) assert.equal(await quick(shutdown.signal), 'ok');
    assert.equal(getEventListeners(shutdown.signal, 'abort').length, 0);
  });

  test('a fast call resolves and leaves no timer behind; errors pass through', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const fast = timeout(50)(async (n: number) => n + 1);
    assert.equal(await fast(1), 2);
    const sync = timeout(50)((): number => {
      throw new RangeError('bad');
    });
    await assert.rejects(sync(), RangeError);
    t.mock.timers.tick(100); // no stray TimeoutError surfaces
  });

  test('objects that merely have a signal (a Request, an AbortController) reach the callee untouched', async () => {
    // Only plain `{ signal }` options are copied with the timeout's signal: a copy of a Request
    // loses its URL and methods (it was turned into `{ signal }`), breaking `timeout()(fetch)`.
    const seen: unknown[] = [];
    const call = timeout(1_000)(async (arg: unknown) => {
      seen.push(arg);
      return arg;
    });
    const request = new Request('http://127.0.0.1:9/x');
    const controller = new AbortController();
    assert.equal(await call(request), request);
    assert.equal(await call(controller), controller);
    assert.deepEqual(seen, [request, controller]);
    assert.equal(typeof (seen[1] as AbortController).abort, 'function');
  });

  test('on async methods; bad ms is refused', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    class Slow {
      @timeout(10)
      async never(): Promise<void> {
        await new Promise(() => {});
      }
    }
    const pending = new Slow().never();
    t.mock.timers.tick(10);
    await assert.rejects(pending, TimeoutError);
    assert.throws(() => timeout(0), { code: 'ERR_DECORATOR_OPTION' });
  });
});
