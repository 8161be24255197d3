import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { githubLimits } from '@forage/census';
import { describeRedis, parseRedis, SharedBudgetScheduler, tokenKey } from '@forage/distributed';
import { Redis } from 'ioredis';
import { getRedis, redisSkipReason, type TestRedis, uniqueQueueName } from './helpers/redis.js';

describe('Redis URLs', () => {
  test('parse host, port, database, user and TLS; messages never show the password', () => {
    const endpoint = parseRedis('rediss://ops:s3cret@10.0.0.5:6380/2');
    assert.deepEqual(endpoint, {
      host: '10.0.0.5',
      port: 6380,
      db: 2,
      username: 'ops',
      password: 's3cret',
      tls: true,
    });
    assert.equal(describeRedis(endpoint), 'rediss://ops:***@10.0.0.5:6380/2');
    assert.equal(parseRedis('redis://localhost').port, 6379);
    assert.throws(
      () => parseRedis('redis://:pw@host:6379/x'),
      (e: Error & { code?: string }) => e.code === 'ERR_QUEUE_URL' && !e.message.includes('pw@'),
    );
    assert.throws(() => parseRedis('127.0.0.1:6379'), { code: 'ERR_QUEUE_URL' });
  });

  test('an endpoint object or URL with an unusable host, port or database is refused naming it', () => {
    const bad: [unknown, RegExp][] = [
      [{ host: '127.0.0.1', port: 70000 }, /port 70000/],
      [{ host: '127.0.0.1', port: 0 }, /port 0/],
      [{ host: '', port: 6379 }, /host/],
      [{ host: '127.0.0.1', port: 6379, db: -1 }, /database -1/],
      [{ host: '127.0.0.1', port: 6379, password: 42 }, /password/],
      ['redis://127.0.0.1:0', /port 0/],
    ];
    for (const [connection, message] of bad) {
      assert.throws(
        () => parseRedis(connection as never),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'ERR_QUEUE_URL', `${JSON.stringify(connection)}: ${e.message}`);
          assert.match(e.message, message);
          assert.ok(!e.message.includes('42'), 'no password in the message');
          return true;
        },
      );
    }
    assert.deepEqual(parseRedis({ host: '::1', port: 6380, db: 2, password: 'pw' }), {
      host: '::1',
      port: 6380,
      db: 2,
      password: 'pw',
    });
  });

  test('tokens appear in Redis keys only as a hash prefix', () => {
    const key = tokenKey('ghp_secretsecretsecret1234');
    assert.match(key, /^[0-9a-f]{16}$/);
    assert.ok(!key.includes('1234'));
  });
});

describe('shared token budget, without Redis', () => {
  test("asks in flight share one listener on the worker's stop signal (no leak warning at 16)", async () => {
    // A stand-in for ioredis that answers every ask after 30 ms.
    const redis = {
      eval: () => new Promise((resolve) => setTimeout(() => resolve(0), 30)),
    } as unknown as Redis;
    const stopping = new AbortController();
    const scheduler = new SharedBudgetScheduler(
      1,
      githubLimits,
      { redis, stopping: stopping.signal },
      ['ghp_fakefake0002'],
    );
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const headers = {
      limit: 5000,
      remaining: 4000,
      reset: Math.ceil(Date.now() / 1000) + 3600,
    };
    try {
      // A first request teaches the scheduler the primary window, so the next go at once.
      (await scheduler.acquire('rest')).release({ headers });
      const leases = Array.from({ length: 16 }, () =>
        scheduler.acquire('rest').then((lease) => lease.release({ headers })),
      );
      await new Promise((resolve) => setTimeout(resolve, 10));
      // Sixteen requests at once are an ordinary load: before, each ask added a listener, and
      // past ten Node warned of a leak.
      assert.ok(getEventListeners(stopping.signal, 'abort').length <= 1);
      await Promise.all(leases);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('a waiter on a busy token (in-flight set full) asks Redis less and less often', async () => {
    // A stand-in for ioredis: the take script answers 'busy' for 600 ms, then grants.
    const busyUntil = Date.now() + 600;
    let asked = 0;
    const redis = {
      eval: async (script: string) => {
        if (!script.includes('ZREMRANGEBYSCORE')) return 0; // the done script
        asked += 1;
        return Date.now() < busyUntil ? 'busy' : 0;
      },
    } as unknown as Redis;
    const scheduler = new SharedBudgetScheduler(1, githubLimits, { redis }, ['ghp_fakefake0001']);
    const lease = await scheduler.acquire('rest');
    lease.release({});
    // Asking every 25 ms (plus jitter) would be about 17 times; backing off to 250 ms, about 7.
    assert.ok(asked <= 11, `asked ${asked} times in 600 ms`);
    assert.ok(asked >= 2, `asked ${asked} times`);
  });

  test('a lease waiting on the shared window for a token retired meanwhile goes to another token, or fails once none is left', async () => {
    const tokens = ['ghp_retiredwhilewaiting0001', 'ghp_retiredwhilewaiting0002'];
    const first = tokenKey(tokens[0]);
    for (const retireAll of [false, true]) {
      // A stand-in for ioredis: the first token's window is full for its first three asks (wait
      // 20 ms each), then has room; the second token always has room.
      let asksOnFirst = 0;
      let retire: (() => void) | undefined;
      const redis = {
        eval: async (script: string, _n: number, window: string) => {
          if (!script.includes('ZREMRANGEBYSCORE')) return 0; // the done script
          if (!window.includes(first)) return 0;
          asksOnFirst += 1;
          // The API rejects the token while this lease waits for its window.
          if (asksOnFirst === 1) retire?.();
          return asksOnFirst <= 3 ? 20 : 0;
        },
      } as unknown as Redis;
      const scheduler = new SharedBudgetScheduler(2, githubLimits, { redis }, tokens);
      const noneLeft = new Error('every token was rejected');
      retire = () => {
        scheduler.retire(0, noneLeft);
        if (retireAll) scheduler.retire(1, noneLeft);
      };
      const outcome = await scheduler.acquire('rest').then(
        (lease) => {
          lease.release({});
          return lease.tokenIndex;
        },
        (error: unknown) => error,
      );
      if (retireAll) {
        assert.equal(outcome, noneLeft, 'no token is left: nothing is sent');
      } else {
        assert.equal(outcome, 1, 'sent with the token left, never with the retired one');
      }
    }
  });
});

describe('shared token budget', { skip: redisSkipReason() }, () => {
  let redis: TestRedis;
  let client: Redis;

  before(async () => {
    redis = await getRedis();
    client = new Redis(redis.url);
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  test('two schedulers sharing a token never exceed its window together', async () => {
    const limits = { ...githubLimits, restPoints: 4, windowMs: 600 };
    const shared = { redis: client, prefix: uniqueQueueName('budget') };
    const token = ['ghp_sharedbudgettoken0001'];
    const a = new SharedBudgetScheduler(1, limits, shared, token);
    const b = new SharedBudgetScheduler(1, limits, shared, token);
    const grants: number[] = [];
    const take = async (s: SharedBudgetScheduler) => {
      const lease = await s.acquire('rest');
      grants.push(Date.now());
      lease.release({});
    };
    // Eight requests at once, four through each scheduler: each alone would allow all four now.
    await Promise.all([a, a, a, a, b, b, b, b].map(take));
    grants.sort((x, y) => x - y);
    assert.equal(grants.length, 8);
    // Four grants, then the fifth waits for the first to leave the 600 ms window (timestamps are
    // taken after each grant arrives, so allow for event-loop delay; unshared, all eight are
    // granted at once).
    for (let i = 4; i < grants.length; i++) {
      assert.ok(
        (grants[i] as number) - (grants[i - 4] as number) >= 300,
        `grants ${grants.map((g) => g - (grants[0] as number))}`,
      );
    }
    a.close(new Error('done'));
    b.close(new Error('done'));
  });

  test('a retry-after one worker got holds the token for the others too', async () => {
    const shared = { redis: client, prefix: uniqueQueueName('retry-after') };
    const token = ['ghp_sharedbudgettoken0003'];
    const a = new SharedBudgetScheduler(1, githubLimits, shared, token);
    const b = new SharedBudgetScheduler(1, githubLimits, shared, token);
    const stop = new AbortController();
    const headers = {
      limit: 5000,
      remaining: 4000,
      reset: Math.ceil(Date.now() / 1000) + 3600,
    };
    try {
      // Both know the primary window (no probe in the way).
      (await a.acquire('rest')).release({ headers: { ...headers, resource: 'core' } });
      // a is told to stop sending on this token for 2 s (a secondary rate limit).
      (await a.acquire('graphql')).release({
        headers: { ...headers, resource: 'graphql' },
        retryAfterMs: 2000,
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const asked = Date.now();
      let granted = 0;
      const next = b.acquire('rest', stop.signal).then((lease) => {
        granted = Date.now();
        lease.release({});
      });
      await next;
      assert.ok(
        granted - asked >= 1500,
        `b sent ${granted - asked} ms after a was told to wait 2000 ms`,
      );
    } finally {
      stop.abort();
      a.close(new Error('done'));
      b.close(new Error('done'));
    }
  });

  test('a token spent by one worker (remaining 0 until reset) holds the other', async () => {
    const shared = { redis: client, prefix: uniqueQueueName('primary') };
    const token = ['ghp_sharedbudgettoken0002'];
    const a = new SharedBudgetScheduler(1, githubLimits, shared, token);
    const b = new SharedBudgetScheduler(1, githubLimits, shared, token);
    const resetSeconds = Math.ceil(Date.now() / 1000) + 1;
    const lease = await a.acquire('graphql');
    lease.release({
      headers: { limit: 5000, remaining: 0, reset: resetSeconds, resource: 'graphql' },
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const next = await b.acquire('graphql');
    next.release({});
    assert.ok(Date.now() >= resetSeconds * 1000 - 20, 'b waited for the reset a saw');
    // ...and its margin (resetMarginMs), then goes as the one probe of the new window.
    assert.ok(Date.now() - started < 2500 + githubLimits.resetMarginMs);
    a.close(new Error('done'));
    b.close(new Error('done'));
  });
});
