import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ALL_COMPLETED,
  asCompleted,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  TimeoutError,
  wait,
} from '@forage/futures';

function finished<T>(value: T): Future<T> {
  const f = new Future<T>();
  f.setRunningOrNotifyCancel();
  f.setResult(value);
  return f;
}

function failed(error: unknown): Future<never> {
  const f = new Future<never>();
  f.setRunningOrNotifyCancel();
  f.setException(error);
  return f;
}

function later<T>(ms: number, value: T): Future<T> {
  const f = new Future<T>();
  f.setRunningOrNotifyCancel();
  setTimeout(() => f.setResult(value), ms);
  return f;
}

describe('wait()', () => {
  test('duplicates count once', async () => {
    const f = finished(1);
    const { done, notDone } = await wait([f, f]);
    assert.deepEqual([...done], [f]);
    assert.equal(notDone.size, 0);
  });

  test('FIRST_COMPLETED returns once one finishes; a cancelled-but-unacknowledged future is not done', async () => {
    const cancelledQueued = new Future<number>();
    cancelledQueued.cancel();
    const fast = later(10, 'fast');
    const slow = later(2000, 'slow');
    const { done, notDone } = await wait([cancelledQueued, fast, slow], {
      returnWhen: FIRST_COMPLETED,
    });
    assert.deepEqual([...done], [fast]);
    assert.deepEqual(new Set(notDone), new Set([cancelledQueued, slow]));
  });

  test('FIRST_COMPLETED counts an already finished input immediately', async () => {
    const f = finished(1);
    const pending = new Future<number>();
    const { done, notDone } = await wait([pending, f], { returnWhen: FIRST_COMPLETED });
    assert.deepEqual([...done], [f]);
    assert.deepEqual([...notDone], [pending]);
  });

  test('FIRST_EXCEPTION returns at the first failure, otherwise waits for all', async () => {
    const ok = later(5, 1);
    const bad = new Future<number>();
    bad.setRunningOrNotifyCancel();
    setTimeout(() => bad.setException(new Error('x')), 15);
    const slow = later(3000, 3);
    const r1 = await wait([ok, bad, slow], { returnWhen: FIRST_EXCEPTION });
    assert.deepEqual(new Set(r1.done), new Set([ok, bad]));
    assert.deepEqual([...r1.notDone], [slow]);

    const already = failed(new Error('y'));
    const r2 = await wait([already, new Future()], { returnWhen: FIRST_EXCEPTION });
    assert.deepEqual([...r2.done], [already]);

    const a = later(5, 'a');
    const b = later(10, 'b');
    const r3 = await wait([a, b], { returnWhen: FIRST_EXCEPTION });
    assert.equal(r3.done.size, 2);
  });

  test('ALL_COMPLETED holds successful, failed and cancelled futures', async () => {
    const cancelled = new Future();
    cancelled.cancel();
    cancelled.setRunningOrNotifyCancel();
    const fs = [finished(1), failed(new Error('x')), cancelled, later(10, 2)];
    const { done, notDone } = await wait(fs, { returnWhen: ALL_COMPLETED });
    assert.equal(done.size, 4);
    assert.equal(notDone.size, 0);
  });

  test('a cancel acknowledged by the executor wakes a waiting wait()', async () => {
    const f = new Future();
    setTimeout(() => {
      f.cancel();
      f.setRunningOrNotifyCancel();
    }, 10);
    const { done } = await wait([f], { timeoutMs: 5000 });
    assert.deepEqual([...done], [f]);
  });

  test('waiters and done callbacks on one future: callbacks run once, every waiter wakes', async () => {
    const f = new Future();
    const calls: string[] = [];
    f.addDoneCallback(() => calls.push('first'));
    const both = Promise.all([wait([f], { timeoutMs: 5000 }), wait([f], { timeoutMs: 5000 })]);
    f.addDoneCallback(() => calls.push('second'));
    f.cancel();
    assert.deepEqual(calls, ['first', 'second']);
    // Still waiting: the executor has not acknowledged the cancel.
    f.setRunningOrNotifyCancel();
    for (const { done } of await both) assert.deepEqual([...done], [f]);
    assert.deepEqual(calls, ['first', 'second']);
    // A waiter that timed out is removed and never called later.
    const g = new Future();
    g.setRunningOrNotifyCancel();
    const { notDone } = await wait([g], { timeoutMs: 1 });
    assert.deepEqual([...notDone], [g]);
    g.addDoneCallback(() => calls.push('g'));
    g.setResult(1);
    assert.deepEqual(calls, ['first', 'second', 'g']);
  });

  test('a timeout returns the partition instead of throwing', async () => {
    const fast = finished(1);
    const never = new Future();
    const start = performance.now();
    const { done, notDone } = await wait([fast, never], { timeoutMs: 50 });
    assert.ok(performance.now() - start >= 45);
    assert.deepEqual([...done], [fast]);
    assert.deepEqual([...notDone], [never]);
  });

  test("an option wait() or asCompleted() does not have is refused (Python's timeout would wait forever)", async () => {
    const pending = new Future<number>();
    const refused = (pattern: RegExp) => (e: unknown) =>
      e instanceof TypeError &&
      (e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE' &&
      pattern.test(e.message);
    await assert.rejects(
      wait([pending], { timeout: 10 } as never),
      refused(/wait\(\) has no option "timeout": did you mean timeoutMs\?/),
    );
    await assert.rejects(
      wait([pending], { return_when: FIRST_COMPLETED } as never),
      refused(/no option "return_when": did you mean returnWhen\?/),
    );
    assert.throws(
      () => asCompleted([pending], { timeout: 10 } as never),
      refused(/asCompleted\(\) has no option "timeout": did you mean timeoutMs\?/),
    );
  });

  test('what is not a future is refused naming it (a promise from result() was an internal error)', async () => {
    const f = finished(1);
    const refused = (pattern: RegExp) => (e: unknown) =>
      e instanceof TypeError &&
      (e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE' &&
      pattern.test(e.message);
    await assert.rejects(
      wait([f, f.result()] as never),
      refused(/item 2 is a Promise: pass the future itself, not future\.result\(\)/),
    );
    await assert.rejects(
      wait([f, 5] as never),
      refused(/wait\(\) takes futures.*item 2 is number/),
    );
    await assert.rejects(wait(f as never), refused(/got one future: put it in an array/));
    assert.throws(
      () => asCompleted([f.then()] as never),
      refused(/asCompleted\(\) takes futures.*item 1 is a Promise/),
    );
    assert.throws(() => asCompleted(null as never), refused(/iterable of futures.*got null/));
  });

  test('bad returnWhen is rejected with a clear message', async () => {
    await assert.rejects(
      // @ts-expect-error deliberately wrong
      wait([], { returnWhen: 'SOMETIMES' }),
      /returnWhen must be FIRST_COMPLETED/,
    );
  });
});

describe('asCompleted()', () => {
  test('yields finished futures first, then in completion order, each once', async () => {
    const slow = later(40, 'slow');
    const fast = later(5, 'fast');
    const done = finished('done');
    const cancelled = new Future<string>();
    cancelled.cancel();
    cancelled.setRunningOrNotifyCancel();
    const seen: Future<string>[] = [];
    // TypeScript types a for-await variable as the awaited element (the result), so cast back.
    for await (const f of asCompleted([slow, fast, done, done, cancelled])) {
      seen.push(f as unknown as Future<string>);
    }
    assert.deepEqual(seen.slice(0, 2), [done, cancelled]);
    assert.deepEqual(seen.slice(2), [fast, slow]);
  });

  test('overlapping next() calls take turns: each settles, each future comes once', async () => {
    // Fails the test instead of hanging it if a call never settles.
    const within = <T>(promise: Promise<T>): Promise<T> => {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('next() never settled')), 5000);
      });
      return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
    };
    const a = later(10, 'a');
    const b = later(20, 'b');
    const it = asCompleted([a, b]);
    const results = await within(Promise.all([it.next(), it.next(), it.next()]));
    assert.deepEqual(
      results.map((r) => (r.done ? 'done' : r.value)),
      [a, b, 'done'],
    );

    const never = new Future<number>();
    const waiting = asCompleted([never]);
    const pending = waiting.next();
    await waiting.return?.();
    assert.deepEqual(await within(pending), { done: true, value: undefined }, 'ended by return()');
  });

  test('accepts any iterable', async () => {
    function* gen() {
      yield finished(1);
      yield finished(2);
    }
    const values: number[] = [];
    for await (const f of asCompleted(gen())) values.push(await f);
    assert.deepEqual(values.sort(), [1, 2]);
  });

  test('timeout raises TimeoutError naming how many are unfinished, after the finished ones', async () => {
    for (const timeoutMs of [0, 50]) {
      const fs = [finished(1), finished(2), new Future<number>(), new Future<number>()];
      const seen: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const f of asCompleted(fs, { timeoutMs })) seen.push(await f);
        })(),
        (e: unknown) => {
          assert.ok(e instanceof TimeoutError);
          assert.equal(e.message, '2 (of 4) futures unfinished');
          return true;
        },
      );
      assert.deepEqual(seen, [1, 2]);
    }
  });
});
