import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CancelledError,
  Future,
  type FutureState,
  InvalidStateError,
  TimeoutError,
} from '@forage/futures';

function futureIn(state: FutureState, value: unknown = 42): Future<unknown> {
  const f = new Future<unknown>();
  switch (state) {
    case 'PENDING':
      break;
    case 'RUNNING':
      f.setRunningOrNotifyCancel();
      break;
    case 'CANCELLED':
      f.cancel();
      break;
    case 'CANCELLED_AND_NOTIFIED':
      f.cancel();
      f.setRunningOrNotifyCancel();
      break;
    case 'FINISHED':
      f.setRunningOrNotifyCancel();
      if (value instanceof Error) f.setException(value);
      else f.setResult(value);
      break;
  }
  assert.equal(f.state, state);
  return f;
}

describe('Future state machine (CPython test_future)', () => {
  test('cancel() truth table', () => {
    const expected: [FutureState, boolean, FutureState][] = [
      ['PENDING', true, 'CANCELLED'],
      ['RUNNING', false, 'RUNNING'],
      ['CANCELLED', true, 'CANCELLED'],
      ['CANCELLED_AND_NOTIFIED', true, 'CANCELLED_AND_NOTIFIED'],
      ['FINISHED', false, 'FINISHED'],
    ];
    for (const [state, result, after] of expected) {
      const f = futureIn(state);
      assert.equal(f.cancel(), result, state);
      assert.equal(f.state, after, state);
    }
  });

  test('cancelled(), running(), done() truth tables', () => {
    const table: [FutureState, boolean, boolean, boolean][] = [
      ['PENDING', false, false, false],
      ['RUNNING', false, true, false],
      ['CANCELLED', true, false, true],
      ['CANCELLED_AND_NOTIFIED', true, false, true],
      ['FINISHED', false, false, true],
    ];
    for (const [state, cancelled, running, done] of table) {
      const f = futureIn(state);
      assert.deepEqual([f.cancelled(), f.running(), f.done()], [cancelled, running, done], state);
    }
    const failed = futureIn('FINISHED', new Error('x'));
    assert.deepEqual([failed.cancelled(), failed.running(), failed.done()], [false, false, true]);
  });

  test('result(0) per state', async () => {
    await assert.rejects(futureIn('PENDING').result(0), TimeoutError);
    await assert.rejects(futureIn('RUNNING').result(0), TimeoutError);
    await assert.rejects(futureIn('CANCELLED').result(0), CancelledError);
    await assert.rejects(futureIn('CANCELLED_AND_NOTIFIED').result(0), CancelledError);
    const boom = new RangeError('boom');
    await assert.rejects(futureIn('FINISHED', boom).result(0), (e) => e === boom);
    assert.equal(await futureIn('FINISHED', 42).result(0), 42);
  });

  test('exception(0) per state', async () => {
    await assert.rejects(futureIn('PENDING').exception(0), TimeoutError);
    await assert.rejects(futureIn('CANCELLED').exception(0), CancelledError);
    const boom = new Error('boom');
    assert.equal(await futureIn('FINISHED', boom).exception(0), boom);
    assert.equal(await futureIn('FINISHED', 7).exception(0), undefined);
  });

  test('a waiting result() wakes when the result is set or the future is cancelled', async () => {
    const f = new Future<string>();
    const waiting = f.result(5000);
    setTimeout(() => f.setResult('late'), 10);
    assert.equal(await waiting, 'late');

    const g = new Future<string>();
    const waitingG = g.result(5000);
    setTimeout(() => g.cancel(), 10);
    await assert.rejects(waitingG, CancelledError);
  });

  test('result(timeoutMs) times out with a TimeoutError carrying a code', async () => {
    const f = new Future<number>();
    await assert.rejects(f.result(20), (e: unknown) => {
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.code, 'ERR_FUTURE_TIMEOUT');
      assert.match(e.message, /20 ms/);
      return true;
    });
    assert.equal(f.state, 'PENDING');
  });

  test('a future is awaitable', async () => {
    const f = new Future<number>();
    setTimeout(() => f.setResult(5), 1);
    assert.equal(await f, 5);
    const g = new Future<number>();
    g.setException(new TypeError('bad'));
    await assert.rejects(async () => await g, TypeError);
  });

  test('done callbacks fire on result, exception and cancel, in order, and at once when done', () => {
    const calls: string[] = [];
    const a = new Future<number>();
    a.addDoneCallback((f) => calls.push(`a1:${f === a}`));
    a.addDoneCallback(() => calls.push('a2'));
    a.setResult(1);
    const b = new Future<number>();
    b.addDoneCallback(() => calls.push('b'));
    b.setException(new Error('x'));
    const c = new Future<number>();
    c.addDoneCallback(() => calls.push('c'));
    c.cancel();
    a.addDoneCallback(() => calls.push('late'));
    assert.deepEqual(calls, ['a1:true', 'a2', 'b', 'c', 'late']);
  });

  test('a throwing callback is logged and the others still run', () => {
    const f = new Future<number>();
    const seen: string[] = [];
    const original = console.error;
    const logged: unknown[][] = [];
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      f.addDoneCallback(() => {
        throw new Error('callback failed');
      });
      f.addDoneCallback(() => seen.push('second'));
      f.setResult(1);
    } finally {
      console.error = original;
    }
    assert.deepEqual(seen, ['second']);
    assert.equal(logged.length, 1);
    assert.match(
      String(logged[0]?.[0]),
      /exception calling callback for <Future state=finished returned number>/,
    );
  });

  test('addDoneCallback refuses what is not a function; the future still settles and wakes', async () => {
    const f = new Future<number>();
    for (const notAFunction of [null, {}, 'log']) {
      assert.throws(
        () => f.addDoneCallback(notAFunction as never),
        (e: unknown) =>
          e instanceof TypeError &&
          (e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE' &&
          /addDoneCallback\(\) needs a function/.test(e.message),
      );
    }
    const awaited = f.result();
    f.setRunningOrNotifyCancel();
    f.setResult(7); // threw "observers[event] is not a function", and awaited never settled
    assert.equal(await awaited, 7);
  });

  test('setResult/setException on a done future raise InvalidStateError naming the state', () => {
    const f = futureIn('FINISHED', 1);
    assert.throws(
      () => f.setResult(2),
      (e: unknown) => {
        assert.ok(e instanceof InvalidStateError);
        assert.equal(e.code, 'ERR_FUTURE_INVALID_STATE');
        assert.equal(e.message, 'FINISHED: <Future state=finished returned number>');
        return true;
      },
    );
    assert.throws(
      () => futureIn('CANCELLED').setException(new Error('x')),
      /CANCELLED: <Future state=cancelled>/,
    );
  });

  test('setRunningOrNotifyCancel follows CPython', () => {
    assert.equal(new Future().setRunningOrNotifyCancel(), true);
    const cancelled = futureIn('CANCELLED');
    assert.equal(cancelled.setRunningOrNotifyCancel(), false);
    assert.equal(cancelled.state, 'CANCELLED_AND_NOTIFIED');
    assert.throws(() => futureIn('RUNNING').setRunningOrNotifyCancel(), InvalidStateError);
    assert.throws(() => futureIn('FINISHED').setRunningOrNotifyCancel(), /unexpected state/);
  });

  test('toString renders like CPython repr', () => {
    assert.equal(String(futureIn('PENDING')), '<Future state=pending>');
    assert.equal(String(futureIn('RUNNING')), '<Future state=running>');
    assert.equal(String(futureIn('CANCELLED')), '<Future state=cancelled>');
    assert.equal(
      String(futureIn('FINISHED', new RangeError('x'))),
      '<Future state=finished raised RangeError>',
    );
  });

  test('an unobserved failed future does not cause an unhandled rejection', async () => {
    let unhandled = 0;
    const onUnhandled = () => {
      unhandled += 1;
    };
    process.on('unhandledRejection', onUnhandled);
    const f = new Future<number>();
    f.setException(new Error('nobody looks'));
    await new Promise((r) => setTimeout(r, 20));
    process.off('unhandledRejection', onUnhandled);
    assert.equal(unhandled, 0);
  });
});
