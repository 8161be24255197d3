import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type BudgetLimits,
  BudgetScheduler,
  githubLimits,
  PrimaryBucket,
  parseRateHeaders,
  SlidingWindow,
  TokenBudget,
} from '@forage/census';

const limits: BudgetLimits = {
  ...githubLimits,
  concurrency: 4,
  restPoints: 5,
  graphqlPoints: 7,
  windowMs: 1000,
  resetMarginMs: 100,
};

test('parseRateHeaders reads x-ratelimit-* and refuses partial sets', () => {
  const h: Record<string, string> = {
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    'x-ratelimit-reset': '1700000000',
    'x-ratelimit-resource': 'core',
  };
  assert.deepEqual(
    parseRateHeaders((n) => h[n]),
    { limit: 5000, remaining: 4999, reset: 1700000000, resource: 'core' },
  );
  delete h['x-ratelimit-reset'];
  assert.equal(
    parseRateHeaders((n) => h[n]),
    undefined,
  );
  assert.equal(
    parseRateHeaders(() => 'abc'),
    undefined,
  );
});

test('an unknown primary bucket lets exactly one probe go, then counts down from the headers', () => {
  const b = new PrimaryBucket(100);
  assert.equal(b.waitMs(0), 0);
  b.start();
  assert.equal(b.waitMs(0), Number.POSITIVE_INFINITY, 'a second request waits for the probe');
  b.finish();
  b.observe({ limit: 3, remaining: 2, reset: 10 });
  assert.equal(b.remaining, 2);
  b.start();
  b.start();
  assert.equal(b.remaining, 0);
  assert.equal(b.waitMs(5000), 10_000 + 100 - 5000, 'spent: wait for reset plus the margin');
  b.finish();
  // A response for the same window that says more remains than we know cannot raise the count.
  b.observe({ limit: 3, remaining: 1, reset: 10 });
  assert.equal(b.remaining, 0, 'the in-flight request is assumed to count too');
  b.finish();
  assert.ok(b.waitMs(10_099) > 0);
  assert.equal(b.waitMs(10_100), 0, 'after reset + margin one probe may go');
  b.start();
  assert.equal(b.waitMs(10_100), Number.POSITIVE_INFINITY);
  b.finish();
  b.observe({ limit: 3, remaining: 2, reset: 20 });
  assert.equal(b.remaining, 2, 'a new window replaces the count');
  b.observe({ limit: 3, remaining: 3, reset: 10 });
  assert.equal(b.remaining, 2, 'a stale window is ignored');
});

test('the secondary window holds a point from send until windowMs after the response', () => {
  const w = new SlidingWindow(2, 1000);
  w.start();
  w.start();
  assert.equal(w.waitMs(0), Number.POSITIVE_INFINITY, 'full with two in flight');
  w.finish(300);
  assert.equal(w.waitMs(300), 1000, 'the first point leaves 1000 ms after its response');
  w.finish(500);
  assert.equal(w.used(1299), 2);
  assert.equal(w.used(1300), 1);
  assert.equal(w.waitMs(1300), 0);
  assert.equal(w.used(1500), 0);
});

test('a token budget combines concurrency, primary, secondary and retry-after', () => {
  const t = new TokenBudget(0, limits);
  t.core.observe({ limit: 100, remaining: 100, reset: 100 });
  for (let i = 0; i < 4; i++) {
    assert.equal(t.wait('rest', 0).ms, 0);
    t.start('rest');
  }
  assert.deepEqual(t.wait('rest', 0), { ms: Number.POSITIVE_INFINITY, reason: 'concurrency' });
  for (let i = 0; i < 4; i++) t.finish('rest', 10, {});
  t.start('rest');
  t.finish('rest', 20, {});
  assert.equal(t.wait('rest', 20).reason, 'secondary', '5 REST points in the window');
  assert.equal(t.wait('rest', 20).ms, 990);
  assert.equal(t.wait('graphql', 20).ms, 0, 'GraphQL has its own window and bucket');
  t.start('rest', false);
  t.finish('rest', 1100, { retryAfterMs: 2000 });
  assert.deepEqual(t.wait('graphql', 1100), { ms: 2000, reason: 'retry-after' });
  t.finish('rest', 1100, { exhaustedUntilMs: 50_000 });
  assert.equal(t.wait('rest', 4000).reason, 'primary');
});

test('the scheduler never leases more than the budget allows and resumes after the window', async () => {
  const s = new BudgetScheduler(1, { ...limits, concurrency: 10, restPoints: 3, windowMs: 150 });
  s.budgets[0]!.core.observe({ limit: 1000, remaining: 1000, reset: Date.now() / 1000 + 3600 });
  const sent: number[] = [];
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: 7 }, async () => {
      const lease = await s.acquire('rest');
      sent.push(Date.now() - t0);
      lease.release({});
    }),
  );
  sent.sort((a, b) => a - b);
  // 3 at once, then 3 once those leave the window, then 1 more.
  assert.ok(sent[2]! < 100, String(sent));
  assert.ok(sent[3]! >= 140, String(sent));
  assert.ok(sent[6]! >= 290, String(sent));
  assert.ok(s.sleptMs > 200, `slept ${s.sleptMs}`);
  s.close(new Error('done'));
});

test('the scheduler spreads work over tokens and honours a per-token request', async () => {
  const s = new BudgetScheduler(2, { ...limits, concurrency: 2 });
  for (const b of s.budgets)
    b.core.observe({ limit: 1000, remaining: 1000, reset: Date.now() / 1000 + 3600 });
  const leases = await Promise.all([
    s.acquire('rest'),
    s.acquire('rest'),
    s.acquire('rest'),
    s.acquire('rest'),
  ]);
  assert.deepEqual(leases.map((l) => l.tokenIndex).sort(), [0, 0, 1, 1]);
  const pending = s.acquire('rest', undefined, true, 1);
  leases[0]!.release({});
  const idx0 = leases[0]!.tokenIndex;
  if (idx0 === 1) assert.equal((await pending).tokenIndex, 1);
  else {
    const freed = leases.find((l) => l.tokenIndex === 1)!;
    freed.release({});
    assert.equal((await pending).tokenIndex, 1);
  }
  s.close(new Error('done'));
});

test('aborting a waiter rejects it with ERR_CENSUS_ABORTED and frees its place', async () => {
  const s = new BudgetScheduler(1, { ...limits, concurrency: 1 });
  s.budgets[0]!.core.observe({ limit: 10, remaining: 10, reset: Date.now() / 1000 + 3600 });
  const first = await s.acquire('rest');
  const controller = new AbortController();
  const waiting = s.acquire('rest', controller.signal);
  controller.abort();
  await assert.rejects(waiting, { code: 'ERR_CENSUS_ABORTED' });
  const next = s.acquire('rest');
  first.release({});
  (await next).release({});
  s.close(new Error('done'));
});

test('a primary reset further away than any window (a bogus header, or this clock behind) waits at most an hour', () => {
  const now = Date.UTC(2026, 10, 26);
  const hour = 3_600_000;
  // x-ratelimit-reset sent in milliseconds, read as seconds: some 50,000 years away.
  const far = { limit: 5000, remaining: 0, reset: now, resource: 'core' };
  const a = new TokenBudget(0, limits);
  a.start('rest');
  a.finish('rest', now, { headers: far, exhaustedUntilMs: far.reset * 1000 });
  const waited = a.wait('rest', now);
  assert.equal(waited.reason, 'primary');
  assert.ok(waited.ms <= hour + limits.resetMarginMs, `waits ${waited.ms} ms`);
  // A window counted down to 0 from such headers (no refusal yet) is not waited longer either.
  const b = new TokenBudget(0, limits);
  b.start('rest');
  b.finish('rest', now, { headers: { ...far, remaining: 1 } });
  b.start('rest');
  assert.ok(b.wait('rest', now).ms <= hour + limits.resetMarginMs, `${b.wait('rest', now).ms}`);
  // This clock 2 hours behind the server's: its Date places the reset 10 minutes away.
  const c = new TokenBudget(0, limits);
  const server = now + 2 * hour;
  c.start('rest');
  c.finish('rest', now, {
    headers: { ...far, reset: (server + 600_000) / 1000 },
    exhaustedUntilMs: server + 600_000,
    serverDateMs: server,
  });
  assert.deepEqual(c.wait('rest', now), { ms: 600_000 + limits.resetMarginMs, reason: 'primary' });
});

test('a wait longer than a timer can hold (24.8 days) does not spin the scheduler', async (t) => {
  let reads = 0;
  const clock = {
    now: () => {
      reads++;
      return Date.now();
    },
  };
  const s = new BudgetScheduler(1, limits, clock);
  t.after(() => s.close(new Error('done')));
  s.budgets[0]!.blockedUntil = Date.now() + 30 * 24 * 3_600_000; // a retry-after of 30 days
  const waiting = s.acquire('rest');
  waiting.catch(() => {});
  const before = reads;
  await new Promise((resolve) => setTimeout(resolve, 200));
  // Each wake-up reads the clock; a timeout past 2^31 - 1 ms fires after 1 ms, over and over.
  assert.ok(reads - before < 5, `the scheduler woke up ${reads - before} times in 200 ms`);
  assert.equal(s.currentWaits()[0]?.reason, 'retry-after');
  s.close(new Error('done'));
  await assert.rejects(waiting);
});
