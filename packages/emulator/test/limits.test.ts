import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmulator } from '@forage/github-emulator';
import { as, call, graphql } from './helpers.ts';

test('primary REST limit: 403 with GitHub body at exhaustion, counted, and reset after the window', async (t) => {
  const emu = await startEmulator({
    dataset: 'synthetic:500',
    tokens: [
      {
        token: 'small',
        login: 'small',
        userId: 4242,
        rateLimit: { core: { limit: 5, windowMs: 3000 } },
      },
      'big',
    ],
  });
  t.after(() => emu.close());
  for (let i = 0; i < 5; i++) {
    const ok = await call(`${emu.url}/repositories`, { headers: as('small') });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-ratelimit-remaining'], String(4 - i));
  }
  const refused = await call(`${emu.url}/repositories`, { headers: as('small') });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers['x-ratelimit-remaining'], '0');
  assert.equal(refused.headers['x-ratelimit-used'], '5');
  assert.equal(refused.json().message, 'API rate limit exceeded for user ID 4242.');
  assert.match(refused.json().documentation_url, /rate-limits/);
  // Another token is unaffected.
  assert.equal((await call(`${emu.url}/repositories`, { headers: as('big') })).status, 200);
  assert.deepEqual(emu.stats().overLimit, { primary: 1, secondary: 0, total: 1 });
  assert.equal(emu.stats().clients.small!.overPrimary, 1);
  const reset = Number(refused.headers['x-ratelimit-reset']) * 1000;
  await sleep(Math.max(0, reset - Date.now()) + 50);
  const again = await call(`${emu.url}/repositories`, { headers: as('small') });
  assert.equal(again.status, 200);
  assert.equal(again.headers['x-ratelimit-used'], '1');
});

test('primary limit status 429 on request; unauthenticated limit is per address with the good-news body', async (t) => {
  const emu = await startEmulator({
    dataset: 'synthetic:100',
    rateLimitStatus: 429,
    rateLimit: { unauthenticated: { limit: 2, windowMs: 60_000 } },
  });
  t.after(() => emu.close());
  const anon = { 'user-agent': 'x' };
  assert.equal((await call(`${emu.url}/repositories`, { headers: anon })).status, 200);
  assert.equal((await call(`${emu.url}/repositories`, { headers: anon })).status, 200);
  const refused = await call(`${emu.url}/repositories`, { headers: anon });
  assert.equal(refused.status, 429);
  assert.match(
    refused.json().message,
    /^API rate limit exceeded for 127\.0\.0\.1\. \(But here's the good news/,
  );
  // Any token is accepted when no token list is given, and has its own bucket.
  const authed = await call(`${emu.url}/repositories`, { headers: as('whatever') });
  assert.equal(authed.status, 200);
  assert.equal(authed.headers['x-ratelimit-limit'], '5000');
});

test('GraphQL primary limit: 200 with RATE_LIMITED, remaining 0; RATE_LIMIT variant selectable', async (t) => {
  for (const type of ['RATE_LIMITED', 'RATE_LIMIT'] as const) {
    const emu = await startEmulator({
      dataset: 'synthetic:100',
      tokens: [{ token: 'g', userId: 7, rateLimit: { graphql: { limit: 2, windowMs: 60_000 } } }],
      graphqlRateLimitType: type,
    });
    t.after(() => emu.close());
    const q = '{ rateLimit { cost remaining used limit } }';
    const first = await graphql(emu.url, 'g', q);
    assert.deepEqual(first.json().data.rateLimit, { cost: 1, remaining: 1, used: 1, limit: 2 });
    assert.equal(first.headers['x-ratelimit-resource'], 'graphql');
    assert.equal((await graphql(emu.url, 'g', q)).status, 200);
    const refused = await graphql(emu.url, 'g', q);
    assert.equal(refused.status, 200);
    assert.equal(refused.headers['x-ratelimit-remaining'], '0');
    const body = refused.json();
    assert.equal(body.data, undefined);
    assert.equal(body.errors[0].type, type);
    assert.match(body.errors[0].message, /API rate limit (already )?exceeded for user ID 7\./);
    assert.equal(emu.stats().overLimit.primary, 1);
    // REST has its own bucket.
    const rest = await call(`${emu.url}/repositories`, { headers: as('g') });
    assert.equal(rest.status, 200);
  }
});

test('secondary limit: more concurrent requests than allowed get 403 with retry-after', async (t) => {
  const emu = await startEmulator({
    dataset: 'synthetic:100',
    tokens: ['c'],
    latency: { meanMs: 400 },
    secondaryLimit: { maxConcurrent: 4, retryAfterSeconds: 1 },
  });
  t.after(() => emu.close());
  const results = await Promise.all(
    Array.from({ length: 8 }, () => call(`${emu.url}/rate_limit`, { headers: as('c') })),
  );
  const refused = results.filter((r) => r.status === 403);
  assert.ok(refused.length >= 1, `some were refused: ${results.map((r) => r.status)}`);
  for (const r of refused) {
    assert.match(r.json().message, /secondary rate limit/);
    assert.ok(Number(r.headers['retry-after']) >= 1);
  }
  const stats = emu.stats();
  assert.equal(stats.overLimit.secondary, refused.length);
  assert.ok(stats.peakConcurrency >= 5);
  await sleep(1100);
  assert.equal((await call(`${emu.url}/rate_limit`, { headers: as('c') })).status, 200);
});

test('secondary limit: one request over the concurrency limit is refused, not those in flight', async (t) => {
  // GitHub refuses the request that goes over 100 concurrent; the ones it has accepted are served.
  const emu = await startEmulator({
    dataset: 'synthetic:100',
    tokens: ['c'],
    latency: { meanMs: 1000 },
    secondaryLimit: { maxConcurrent: 5, retryAfterSeconds: 1 },
  });
  t.after(() => emu.close());
  const results = await Promise.all(
    Array.from({ length: 6 }, () => call(`${emu.url}/rate_limit`, { headers: as('c') })),
  );
  const statuses = results.map((r) => r.status);
  // However the six arrive, at most one of them was over the limit when it arrived.
  const refused = statuses.filter((s) => s === 403).length;
  assert.ok(refused <= 1, `statuses: ${statuses}`);
  assert.equal(statuses.filter((s) => s === 200).length, 6 - refused, `statuses: ${statuses}`);
  assert.equal(emu.stats().overLimit.secondary, refused);
});

test('secondary limit: REST and GraphQL points per window, then a block for retry-after seconds', async (t) => {
  const emu = await startEmulator({
    dataset: 'synthetic:100',
    tokens: ['p'],
    secondaryLimit: { restPoints: 10, graphqlPoints: 3, windowMs: 3000, retryAfterSeconds: 1 },
  });
  t.after(() => emu.close());
  for (let i = 0; i < 10; i++) {
    assert.equal((await call(`${emu.url}/repositories`, { headers: as('p') })).status, 200);
  }
  const over = await call(`${emu.url}/repositories`, { headers: as('p') });
  assert.equal(over.status, 403);
  assert.equal(over.headers['retry-after'], '1');
  assert.match(over.json().message, /exceeded a secondary rate limit/);
  // While blocked, everything from this token is refused and counted.
  const blocked = await graphql(emu.url, 'p', '{ rateLimit { cost } }');
  assert.equal(blocked.status, 403);
  assert.equal(emu.stats().overLimit.secondary, 2);
  await sleep(1100);
  for (let i = 0; i < 3; i++) {
    assert.equal((await graphql(emu.url, 'p', '{ rateLimit { cost } }')).status, 200);
  }
  assert.equal((await graphql(emu.url, 'p', '{ rateLimit { cost } }')).status, 403);
  // The primary limit did not move for refused requests.
  assert.equal(emu.stats().clients['token#1']!.overPrimary, 0);
});

test('stats: routes, statuses, clients by label (never the token), also at /_emulator/stats', async (t) => {
  const emu = await startEmulator({
    dataset: 'synthetic:100',
    tokens: [{ token: 'secret-token-value', login: 'octo' }],
  });
  t.after(() => emu.close());
  await call(`${emu.url}/repositories`, { headers: as('secret-token-value') });
  await call(`${emu.url}/repos/a/b/languages`, { headers: as('secret-token-value') });
  await call(`${emu.url}/repositories`, { headers: as('wrong') });
  const local = emu.stats();
  assert.equal(local.routes['GET /repositories'], 2);
  assert.equal(local.routes['GET /repos/{owner}/{repo}/languages'], 1);
  assert.deepEqual(local.statuses, { '200': 1, '401': 1, '404': 1 });
  assert.deepEqual(local.clients.octo, { requests: 2, overPrimary: 0, overSecondary: 0 });
  assert.equal(local.served.repositories, 100);
  const remote = await call(`${emu.url}/_emulator/stats`);
  assert.equal(remote.status, 200);
  assert.ok(!remote.text.includes('secret-token-value'));
  assert.equal(remote.json().routes['GET /repositories'], 2);
  assert.equal(remote.json().overLimit.total, 0);
});
