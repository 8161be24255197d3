import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, mock, test } from 'node:test';
import {
  RetryError,
  type RetryState,
  retry,
  retryAfterOf,
  retryIfAll,
  retryIfException,
  retryIfResult,
  retryStats,
  sleep,
  stopAfterAttempt,
  stopAfterDelay,
  stopAll,
  stopAny,
  stopBeforeDelay,
  unwrap,
  waitChain,
  waitCombine,
  waitExponential,
  waitFixed,
  waitIncrementing,
  waitRandom,
  waitRandomExponential,
  waitRetryAfter,
} from '@forage/decorators';
import { deferred, FakeClock, flush } from './helpers/fake-clock.ts';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(`HTTP ${status}`);
  }
}

/** A function that throws `failures` times, then returns 'ok'. */
function flaky(failures: number, error: () => unknown = () => new Error('boom')) {
  let calls = 0;
  const fn = async (label = 'ok') => {
    calls++;
    if (calls <= failures) throw error();
    return label;
  };
  return { fn, calls: () => calls };
}

/** A state as the retry loop would pass it, for testing strategies on their own. */
function state(partial: Partial<RetryState>): RetryState {
  return {
    name: 'f',
    args: [],
    attempt: 1,
    startedAt: 0,
    elapsedMs: 0,
    idleMs: 0,
    outcome: undefined,
    nextDelayMs: undefined,
    attempts: [],
    ...partial,
  };
}

describe('retry as a function wrapper', () => {
  test('retries until success and keeps name, length and the original', async () => {
    const clock = new FakeClock();
    const { fn, calls } = flaky(2);
    const get = retry({ wait: waitFixed(100), sleep: clock.sleep, now: clock.now })(fn);
    assert.equal(await get('done'), 'done');
    assert.equal(calls(), 3);
    assert.deepEqual(clock.sleeps, [100, 100]);
    assert.equal(get.name, 'fn');
    assert.equal(get.length, 0);
    assert.equal(unwrap(get), fn);
    assert.deepEqual(retryStats(get), {
      calls: 1,
      attempts: 3,
      retries: 2,
      successes: 1,
      failures: 0,
      idleMs: 200,
    });
  });

  test('defaults: 3 attempts, rethrows the last error as is', async () => {
    const clock = new FakeClock();
    const errors: Error[] = [];
    const { fn, calls } = flaky(10, () => {
      const e = new Error(`boom ${errors.length + 1}`);
      errors.push(e);
      return e;
    });
    const get = retry({ sleep: clock.sleep })(fn);
    await assert.rejects(get(), (e) => e === errors[2]);
    assert.equal(calls(), 3);
    assert.equal(clock.sleeps.length, 2);
    // Default wait: full jitter under 100 ms, then under 200 ms.
    assert.ok((clock.sleeps[0] as number) <= 100 && (clock.sleeps[1] as number) <= 200);
    assert.equal(retryStats(get).failures, 1);
  });

  test('a sync function becomes async and is retried', async () => {
    let calls = 0;
    const parse = retry({ sleep: new FakeClock().sleep })((text: string): number => {
      calls++;
      if (calls < 2) throw new SyntaxError('not yet');
      return Number(text);
    });
    const result: Promise<number> = parse('42');
    assert.equal(await result, 42);
  });

  test('reraise: false throws RetryError with every attempt and the cause', async () => {
    const clock = new FakeClock();
    const { fn } = flaky(5);
    const get = retry({ reraise: false, stop: stopAfterAttempt(2), sleep: clock.sleep })(fn);
    await assert.rejects(get(), (e: unknown) => {
      assert.ok(e instanceof RetryError);
      assert.equal(e.code, 'ERR_RETRY_EXHAUSTED');
      assert.equal(e.attempts.length, 2);
      assert.equal(e.lastAttempt?.number, 2);
      assert.equal((e.cause as Error).message, 'boom');
      assert.match(e.message, /fn\(\) failed after 2 attempt\(s\); last error: Error: boom/);
      return true;
    });
  });

  test('retryIfException limits what is retried; other errors pass through at once', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const get = retry({
      retryIf: retryIfException(HttpError),
      stop: stopAfterAttempt(5),
      sleep: clock.sleep,
    })(async () => {
      calls++;
      if (calls === 1) throw new HttpError(503);
      throw new TypeError('bug');
    });
    await assert.rejects(get(), TypeError);
    assert.equal(calls, 2);
  });

  test('retryIfException accepts predicates, and retryIfAll combines', async () => {
    const is5xx = retryIfException((e) => e instanceof HttpError && e.status >= 500);
    const failed = (error: unknown) => state({ outcome: { ok: false, error } });
    assert.equal(is5xx(failed(new HttpError(503))), true);
    assert.equal(is5xx(failed(new HttpError(404))), false);
    assert.equal(is5xx(state({ outcome: { ok: true, value: 1 } })), false);
    const both = retryIfAll(retryIfException(HttpError), is5xx);
    assert.equal(both(failed(new HttpError(502))), true);
    assert.equal(both(failed(new Error('x'))), false);
    assert.throws(() => retryIfException(42 as never), { code: 'ERR_DECORATOR_OPTION' });
  });

  test('retryIfException matches classes that do not extend Error by instanceof', () => {
    // Such a class was called as a predicate: "Class constructor ApiFailure cannot be invoked
    // without 'new'" replaced the error the attempt threw.
    class ApiFailure {
      constructor(readonly status: number) {}
    }
    const failed = (error: unknown) => state({ outcome: { ok: false, error } });
    const matches = retryIfException(ApiFailure);
    assert.equal(matches(failed(new ApiFailure(503))), true);
    assert.equal(matches(failed(new Error('x'))), false);
  });

  test('retryIfResult retries unwanted values; giving up on a value throws RetryError', async () => {
    const clock = new FakeClock();
    const values = [undefined, undefined, 'page'];
    const next = retry({ retryIf: retryIfResult((v) => v === undefined), sleep: clock.sleep })(
      async () => values.shift(),
    );
    assert.equal(await next(), 'page');
    const never = retry({
      retryIf: [retryIfException(), retryIfResult((v) => v === 0)],
      stop: stopAfterAttempt(2),
      sleep: clock.sleep,
    })(async () => 0);
    await assert.rejects(never(), (e: unknown) => {
      assert.ok(e instanceof RetryError);
      assert.match(e.message, /rejected by retryIf/);
      assert.deepEqual(e.lastAttempt?.outcome, { ok: true, value: 0 });
      return true;
    });
  });

  test('hooks see the state in order; onGiveUp runs once', async () => {
    const clock = new FakeClock();
    const events: string[] = [];
    const { fn } = flaky(5);
    const get = retry({
      stop: stopAfterAttempt(3),
      wait: waitIncrementing({ start: 10, increment: 10 }),
      sleep: clock.sleep,
      now: clock.now,
      before: (s) => void events.push(`before ${s.attempt}`),
      after: (s) => void events.push(`after ${s.attempt} ${s.outcome?.ok ? 'ok' : 'failed'}`),
      beforeSleep: (s) => void events.push(`sleep ${s.nextDelayMs} idle ${s.idleMs}`),
      onGiveUp: async (s) => void events.push(`give up after ${s.attempts.length}`),
    })(fn);
    await assert.rejects(get());
    assert.deepEqual(events, [
      'before 1',
      'after 1 failed',
      'sleep 10 idle 0',
      'before 2',
      'after 2 failed',
      'sleep 20 idle 10',
      'before 3',
      'after 3 failed',
      'give up after 3',
    ]);
  });

  test('stopAfterDelay uses the injected clock', async () => {
    const clock = new FakeClock();
    const { fn, calls } = flaky(100);
    const get = retry({
      stop: stopAfterDelay(1_000),
      wait: waitFixed(300),
      sleep: clock.sleep,
      now: clock.now,
    })(fn);
    await assert.rejects(get());
    // Attempts at 0, 300, 600, 900, 1200 ms: the fifth ends past the budget.
    assert.equal(calls(), 5);
  });

  test('stopBeforeDelay gives up before a sleep would overrun the budget', async () => {
    const clock = new FakeClock();
    const { fn, calls } = flaky(100);
    const get = retry({
      stop: stopBeforeDelay(1_000),
      wait: waitFixed(300),
      sleep: clock.sleep,
      now: clock.now,
    })(fn);
    await assert.rejects(get());
    // Sleeps end at 300, 600, 900; the next would end at 1200 > 1000.
    assert.equal(calls(), 4);
    assert.equal(clock.time, 900);
  });

  test('stopAny and stopAll combine', () => {
    const s = state({ attempt: 3, elapsedMs: 10 });
    assert.equal(stopAny(stopAfterAttempt(5), stopAfterDelay(5))(s), true);
    assert.equal(stopAll(stopAfterAttempt(5), stopAfterDelay(5))(s), false);
    assert.equal(stopAll(stopAfterAttempt(3), stopAfterDelay(5))(s), true);
    assert.equal(stopAll()(s), false, 'stopAll() with nothing never stops');
    assert.throws(() => stopAfterAttempt(0), { code: 'ERR_DECORATOR_OPTION' });
    assert.throws(() => stopAfterDelay(-1), /must be a number >= 0/);
  });

  test('an AbortSignal option cancels the sleep and stops retrying', async () => {
    const controller = new AbortController();
    const { fn, calls } = flaky(100);
    // The real sleep: a long backoff that the abort must cut short.
    const get = retry({ wait: waitFixed(60_000), signal: controller.signal })(fn);
    const pending = get();
    await flush();
    controller.abort(new Error('shutting down'));
    await assert.rejects(pending, /shutting down/);
    assert.equal(calls(), 1);
  });

  test('a sleep longer than one timer allows (24.8 days) does not end after 1 ms', async () => {
    // setTimeout fires a delay over 2^31 - 1 ms after 1 ms; the default sleep passed it as is.
    const controller = new AbortController();
    let settled = 'pending';
    const pending = sleep(2 ** 31 + 1_000, controller.signal).then(
      () => {
        settled = 'resolved';
      },
      (e: Error) => {
        settled = e.message;
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(settled, 'pending');
    controller.abort(new Error('enough'));
    await pending;
    assert.equal(settled, 'enough');
  });

  test("a call's own AbortSignal argument is honoured too", async () => {
    const controller = new AbortController();
    let calls = 0;
    const get = retry({ wait: waitFixed(60_000) })(async (_url: string, signal?: AbortSignal) => {
      calls++;
      signal?.throwIfAborted();
      throw new Error('503');
    });
    const pending = get('u', controller.signal);
    await flush();
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    assert.equal(calls, 1);
    // Already aborted: no attempt at all.
    await assert.rejects(get('u', controller.signal), { name: 'AbortError' });
    assert.equal(calls, 1);
  });

  test('an options signal and a call signal together: either stops it; no listener is left', async () => {
    const shutdown = new AbortController();
    const get = retry({ wait: waitFixed(60_000), signal: shutdown.signal })(
      async (fail: boolean, _signal?: AbortSignal) => {
        if (fail) throw new Error('503');
        return 'ok';
      },
    );
    for (let i = 0; i < 5; i++) assert.equal(await get(false, new AbortController().signal), 'ok');
    assert.equal(getEventListeners(shutdown.signal, 'abort').length, 0);
    const call = new AbortController();
    const pending = get(true, call.signal);
    await flush();
    call.abort(new Error('this call only'));
    await assert.rejects(pending, /this call only/);
    assert.equal(getEventListeners(shutdown.signal, 'abort').length, 0);
    const other = get(true, new AbortController().signal);
    await flush();
    shutdown.abort(new Error('shutting down'));
    await assert.rejects(other, /shutting down/);
  });

  test('an attempt failing because of the abort is not retried', async () => {
    const controller = new AbortController();
    const started = deferred();
    let calls = 0;
    const get = retry({ wait: waitFixed(0), stop: stopAfterAttempt(10) })(
      async ({ signal }: { signal: AbortSignal }) => {
        calls++;
        started.resolve();
        await new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        );
      },
    );
    const pending = get({ signal: controller.signal });
    await started.promise;
    controller.abort(new Error('stop'));
    await assert.rejects(pending, /stop/);
    assert.equal(calls, 1);
  });

  test("an abort while an attempt runs rejects with signal.reason, not the attempt's error", async () => {
    const controller = new AbortController();
    const started = deferred();
    const fail = deferred();
    let calls = 0;
    // The callee does not watch the signal: it fails on its own after the abort.
    const get = retry({
      wait: waitFixed(0),
      stop: stopAfterAttempt(10),
      signal: controller.signal,
    })(async () => {
      calls++;
      started.resolve();
      await fail.promise;
      throw new Error('ECONNRESET');
    });
    const pending = get();
    await started.promise;
    const reason = new Error('shutdown');
    controller.abort(reason);
    fail.resolve();
    await assert.rejects(pending, (error: unknown) => error === reason);
    assert.equal(calls, 1);
    // An attempt that succeeds in spite of the abort still returns its value.
    const late = new AbortController();
    const done = deferred();
    const ok = retry({ signal: late.signal })(async () => {
      await done.promise;
      return 'ok';
    });
    const result = ok();
    late.abort(new Error('too late'));
    done.resolve();
    assert.equal(await result, 'ok');
  });

  test('bad options and bad waits are reported clearly', async () => {
    assert.throws(() => retry({ stop: 3 as never }), {
      code: 'ERR_DECORATOR_OPTION',
      message: /stop must be a function/,
    });
    assert.throws(() => retry({ signal: {} as never }), /signal must be an AbortSignal/);
    assert.throws(() => retry({ retryIf: [retryIfException(), 'x' as never] }), /retryIf must be/);
    const bad = retry({ wait: () => Number.NaN })(async () => {
      throw new Error('x');
    });
    await assert.rejects(bad(), /wait strategy returned NaN/);
  });
});

describe('retry on methods', () => {
  test('works on instance and static async methods, with this', async () => {
    const clock = new FakeClock();
    class Client {
      static failures = 1;
      failures = 2;
      constructor(readonly base: string) {}
      @retry({ sleep: clock.sleep, wait: waitFixed(1) })
      async get(path: string): Promise<string> {
        if (this.failures-- > 0) throw new Error('503');
        return `${this.base}${path}`;
      }
      @retry({ sleep: clock.sleep, wait: waitFixed(1) })
      static async ping(): Promise<string> {
        if (Client.failures-- > 0) throw new Error('503');
        return 'pong';
      }
    }
    const c = new Client('https://x');
    assert.equal(await c.get('/a'), 'https://x/a');
    assert.equal(await Client.ping(), 'pong');
    assert.equal(retryStats(c.get).retries, 2);
    assert.equal(Client.prototype.get.name, 'get');
  });
});

describe('wait strategies', () => {
  const at = (attempt: number, extra: Partial<RetryState> = {}) => state({ attempt, ...extra });

  test('waitExponential doubles from multiplier and clamps', () => {
    const wait = waitExponential({ multiplier: 100, max: 1_000, min: 150 });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 60].map((n) => wait(at(n))),
      [150, 200, 400, 800, 1_000, 1_000],
    );
    assert.equal(waitExponential({ base: 3, multiplier: 1 })(at(3)), 9);
  });

  test('waitRandomExponential draws uniformly below the exponential bound', () => {
    const random = mock.method(Math, 'random', () => 0.5);
    try {
      const wait = waitRandomExponential({ multiplier: 100, max: 1_000 });
      assert.deepEqual(
        [1, 2, 3, 10].map((n) => wait(at(n))),
        [50, 100, 200, 500],
      );
    } finally {
      random.mock.restore();
    }
  });

  test('waitRandom, waitIncrementing, waitChain and waitCombine', () => {
    for (let i = 0; i < 50; i++) {
      const w = waitRandom(10, 20)(at(1));
      assert.ok(w >= 10 && w <= 20);
    }
    const inc = waitIncrementing({ start: 100, increment: 50, max: 180 });
    assert.deepEqual(
      [1, 2, 3].map((n) => inc(at(n))),
      [100, 150, 180],
    );
    const chain = waitChain(waitFixed(1), waitFixed(2), waitFixed(3));
    assert.deepEqual(
      [1, 2, 3, 4, 9].map((n) => chain(at(n))),
      [1, 2, 3, 3, 3],
    );
    assert.equal(waitCombine(waitFixed(100), waitIncrementing({ increment: 10 }))(at(3)), 120);
    assert.throws(() => waitChain(), /at least one/);
    assert.throws(() => waitRandom(5, 1), { code: 'ERR_DECORATOR_OPTION' });
  });

  test('waitRetryAfter honours retryAfterMs, Retry-After headers and falls back', () => {
    const wait = waitRetryAfter(waitFixed(7), { max: 60_000 });
    const failed = (error: unknown) => at(1, { outcome: { ok: false, error } });
    assert.equal(wait(failed(new HttpError(429, 1_500))), 1_500);
    assert.equal(wait(failed({ headers: new Headers({ 'Retry-After': '3' }) })), 3_000);
    assert.equal(wait(failed({ response: { headers: { 'retry-after': '2' } } })), 2_000);
    assert.equal(wait(failed({ retryAfter: 120 })), 60_000, 'capped at max');
    assert.equal(wait(failed(new Error('no hint'))), 7);
    assert.equal(wait(at(1, { outcome: { ok: true, value: 1 } })), 7);
    const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
    const fromDate = retryAfterOf({ headers: { 'Retry-After': inTwoMinutes } }) as number;
    assert.ok(fromDate > 100_000 && fromDate <= 120_000, String(fromDate));
  });

  test('retry sleeps what the server asked for', async () => {
    const clock = new FakeClock();
    const { fn } = flaky(1, () => new HttpError(429, 2_000));
    const get = retry({ wait: waitRetryAfter(waitFixed(1)), sleep: clock.sleep })(fn);
    assert.equal(await get(), 'ok');
    assert.deepEqual(clock.sleeps, [2_000]);
  });
});
