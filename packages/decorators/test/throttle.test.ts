import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { throttle } from '@forage/decorators';
import { flush } from './helpers/fake-clock.ts';

describe('throttle', () => {
  test('lets `limit` calls start per interval; the rest wait their turn in order', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const started: string[] = [];
    const get = throttle({ limit: 2, intervalMs: 1_000, now: Date.now })(async (id: string) => {
      started.push(`${id}@${Date.now()}`);
      return id;
    });
    const t0 = Date.now();
    const results = ['a', 'b', 'c', 'd', 'e'].map((id) => get(id));
    await flush();
    assert.deepEqual(started, [`a@${t0}`, `b@${t0}`]);
    t.mock.timers.tick(499);
    await flush();
    assert.equal(started.length, 2);
    t.mock.timers.tick(1); // one token refilled after 500 ms
    await flush();
    assert.deepEqual(started.slice(2), [`c@${t0 + 500}`]);
    // Step the fake clock: mock timers jump Date to the end of a tick before running callbacks.
    for (let i = 0; i < 2; i++) {
      t.mock.timers.tick(500);
      await flush();
    }
    assert.deepEqual(await Promise.all(results), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(
      started.map((s) => Number(s.split('@')[1]) - t0),
      [0, 0, 500, 1_000, 1_500],
    );
  });

  test('a heavy call is not starved by light calls queued behind it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const order: string[] = [];
    const call = throttle({
      limit: 4,
      intervalMs: 1_000,
      weight: (_id: string, cost: number) => cost,
      now: Date.now,
    })(async (id: string, _cost: number) => void order.push(id));
    const all = [call('first', 3), call('heavy', 4), call('light', 1)];
    await flush();
    assert.deepEqual(order, ['first']);
    // 1 token left; after 700 ms 3.8: not enough for heavy, and light (1) must wait behind it.
    t.mock.timers.tick(700);
    await flush();
    assert.deepEqual(order, ['first']);
    t.mock.timers.tick(50);
    await flush();
    assert.deepEqual(order, ['first', 'heavy']);
    t.mock.timers.tick(250);
    await flush();
    await Promise.all(all);
    assert.deepEqual(order, ['first', 'heavy', 'light']);
  });

  test('an aborted waiting call leaves the line with the signal reason', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const ran: string[] = [];
    const get = throttle({ limit: 1, intervalMs: 1_000, now: Date.now })(
      async (id: string, _signal?: AbortSignal) => void ran.push(id),
    );
    const controller = new AbortController();
    const first = get('a');
    const second = get('b', controller.signal);
    const third = get('c');
    controller.abort(new Error('not needed'));
    await assert.rejects(second, /not needed/);
    t.mock.timers.tick(1_000);
    await Promise.all([first, third]);
    assert.deepEqual(ran, ['a', 'c']);
  });

  test('a wait longer than one timer allows is not polled every millisecond', async () => {
    // A monthly quota: the next token is 30 days away. The drain timer was set to 30 days,
    // which Node fires after 1 ms, so the bucket re-checked the clock about once per ms.
    let reads = 0;
    const now = () => {
      reads++;
      return performance.now();
    };
    const get = throttle({ limit: 1, intervalMs: 30 * 86_400_000, now })(
      async (id: string, _signal?: AbortSignal) => id,
    );
    await get('a');
    const controller = new AbortController();
    const waiting = get('b', controller.signal);
    reads = 0;
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort(new Error('no'));
    await assert.rejects(waiting, /no/);
    assert.ok(reads < 10, `the clock was read ${reads} times while waiting`);
  });

  test('a call whose signal is already aborted rejects without running or spending a token', async (t) => {
    // It used to take a token and run when the bucket had one (only a waiting call was checked),
    // so the next caller had to wait for a call nobody wanted.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const ran: string[] = [];
    const get = throttle({ limit: 1, intervalMs: 1_000, now: Date.now })(
      async (id: string, _signal?: AbortSignal) => void ran.push(id),
    );
    await assert.rejects(get('a', AbortSignal.abort(new Error('too late'))), /too late/);
    await get('b');
    assert.deepEqual(ran, ['b'], 'b started at once: the aborted call took no token');
  });

  test('shared across instances by default, per instance on request; validates options', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const ran: string[] = [];
    class Api {
      constructor(readonly name: string) {}
      @throttle({ limit: 1, intervalMs: 1_000, now: Date.now })
      async shared(): Promise<void> {
        ran.push(`shared ${this.name}`);
      }
      @throttle({ limit: 1, intervalMs: 1_000, now: Date.now, perInstance: true })
      async own(): Promise<void> {
        ran.push(`own ${this.name}`);
      }
    }
    const a = new Api('a');
    const b = new Api('b');
    void a.shared();
    void b.shared();
    void a.own();
    void b.own();
    await flush();
    assert.deepEqual(ran, ['shared a', 'own a', 'own b']);
    t.mock.timers.tick(1_000);
    await flush();
    assert.deepEqual(ran.at(-1), 'shared b');
    assert.throws(() => throttle({ limit: 0, intervalMs: 1 }), {
      code: 'ERR_DECORATOR_OPTION',
      message: /limit must be a number > 0/,
    });
    const tooHeavy = throttle({ limit: 2, intervalMs: 10, weight: () => 3 })(async () => 1);
    await assert.rejects(tooHeavy(), /weight returned 3; it must be between 0 and limit \(2\)/);
  });

  test('a sync function becomes async', async () => {
    const double = throttle({ limit: 10, intervalMs: 1_000 })((n: number) => n * 2);
    const result: Promise<number> = double(21);
    assert.equal(await result, 42);
  });
});
