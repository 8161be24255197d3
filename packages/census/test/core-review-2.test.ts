// Regressions found in a second review of the census core (client, languages, budget): one
// block per fix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ApiClient,
  BudgetScheduler,
  githubLimits,
  restLanguages,
  runCensus,
  TokenBudget,
} from '@forage/census';
import { mock, tempDir } from './helpers.ts';

const token = 'ghp_corereview2token000000000000000000cafe';

const rate = () => ({
  'x-ratelimit-limit': '5000',
  'x-ratelimit-remaining': '4000',
  'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
  'x-ratelimit-resource': 'core',
});

function client(t: { after(fn: () => unknown): void }, base: string, attempts = 4) {
  const scheduler = new BudgetScheduler(1, githubLimits);
  const c = new ApiClient({
    api: new URL(base),
    tokens: [token],
    scheduler,
    retry: { attempts, baseMs: 1, maxMs: 2 },
  });
  t.after(() => {
    scheduler.close(new Error('test over'));
    return c.close();
  });
  return { client: c, scheduler };
}

// 1. A retried status (5xx) with a retry-after waits as the server asked, not the backoff.

test('a 503 with retry-after is retried only once the retry-after has passed', async (t) => {
  const arrivals: number[] = [];
  const base = await mock(t, (_req, res) => {
    arrivals.push(Date.now());
    if (arrivals.length === 1) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', ...rate() });
      res.end(JSON.stringify({ message: 'Service Unavailable' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', ...rate() });
    res.end(JSON.stringify({ C: 1 }));
  });
  const { client: c, scheduler } = client(t, base);
  const res = await c.send({ kind: 'rest', endpoint: 'rest:/x', url: c.url('x') });
  assert.equal(res.status, 200);
  assert.equal(arrivals.length, 2);
  // The backoff alone is at most 2 ms; the server asked for a second.
  assert.ok(arrivals[1]! - arrivals[0]! >= 950, `retried after ${arrivals[1]! - arrivals[0]!} ms`);
  // It is still a failed attempt (a server that keeps answering 503 runs out of attempts).
  assert.equal(c.stats.retries, 1);
  assert.equal(c.stats.rateLimited, 0);
  assert.ok(scheduler.budgets[0]!.blockedUntil > 0);
});

test('a retry-after on a 5xx is bounded to an hour, and a 5xx without one keeps the backoff', async (t) => {
  let calls = 0;
  const base = await mock(t, (req, res) => {
    calls++;
    const huge = req.url === '/huge';
    res.writeHead(huge ? 502 : 500, {
      'content-type': 'application/json',
      ...(huge ? { 'retry-after': '999999999' } : {}),
      ...rate(),
    });
    res.end(JSON.stringify({ message: 'Server Error' }));
  });
  const { client: c, scheduler } = client(t, base, 1);
  await assert.rejects(c.send({ kind: 'rest', endpoint: 'rest:/plain', url: c.url('plain') }), {
    code: 'ERR_CENSUS_API',
  });
  assert.equal(scheduler.budgets[0]!.blockedUntil, 0, 'no retry-after, no block');
  const before = Date.now();
  await assert.rejects(c.send({ kind: 'rest', endpoint: 'rest:/huge', url: c.url('huge') }), {
    code: 'ERR_CENSUS_API',
  });
  const blocked = scheduler.budgets[0]!.blockedUntil;
  assert.ok(blocked >= before + 3_600_000 - 1000, `blocked until ${blocked - before} ms`);
  assert.ok(blocked <= Date.now() + 3_600_000, `blocked until ${blocked - before} ms`);
  assert.equal(calls, 2);
});

// 2. The REST URL built from full_name (when languages_url is not on the API's origin) encodes
//    owner and name, and a name that cannot be a repository's is an error record, not a request.

test('the languages URL built from full_name encodes each segment and refuses dot segments', async (t) => {
  const paths: string[] = [];
  const base = await mock(t, (req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json', ...rate() });
    // Any path answers with languages: a request to the wrong one would be written as the
    // repository's languages.
    res.end(JSON.stringify({ Path: paths.length }));
  });
  const { client: c } = client(t, base);
  const elsewhere = 'https://elsewhere.invalid/repos/x/y/languages';
  const repo = (id: number, full_name: string) => ({
    id,
    node_id: `N${id}`,
    full_name,
    fork: false,
    languages_url: elsewhere,
  });
  const encoded: Array<[string, string]> = [
    ['o/r?x=1', '/repos/o/r%3Fx%3D1/languages'],
    ['o/r#frag', '/repos/o/r%23frag/languages'],
    ['o/r%2e%2e', '/repos/o/r%252e%252e/languages'],
    ['o w/r.js', '/repos/o%20w/r.js/languages'],
    ['octo-org/my_repo.v2', '/repos/octo-org/my_repo.v2/languages'],
  ];
  for (const [i, [name, path]] of encoded.entries()) {
    const before = paths.length;
    const record = await restLanguages(c, repo(i + 1, name));
    assert.equal(record.status, 'ok', name);
    assert.deepEqual(paths.slice(before), [path], name);
  }
  const refused = ['o/..', '../rate_limit', 'o/.', 'a/b/c', 'noslash', '/r', 'o/', 'o/r\ud800'];
  for (const [i, name] of refused.entries()) {
    const before = paths.length;
    const record = await restLanguages(c, repo(100 + i, name));
    assert.equal(record.status, 'error', name);
    assert.equal(record.languages, null, name);
    assert.match(record.error ?? '', /full_name/, name);
    assert.match(record.error ?? '', /owner\/name/, name);
    assert.deepEqual(paths.slice(before), [], `${name}: no request`);
  }
});

// 3. A server without a primary limit (GitHub Enterprise Server with rate limiting off, its
//    default) sends no x-ratelimit-* headers: the census still sends requests concurrently.

test('a server that never sends x-ratelimit headers gets requests concurrently', async (t) => {
  const top = 12;
  let inflight = 0;
  let maxInflight = 0;
  const held: Array<() => void> = [];
  const releaseAll = () => {
    for (const done of held.splice(0)) done();
  };
  const json = { 'content-type': 'application/json; charset=utf-8' };
  const base = await mock(t, (req, res, b) => {
    const url = new URL(req.url ?? '/', b);
    if (url.pathname === '/rate_limit') {
      res.writeHead(404, json);
      res.end(JSON.stringify({ message: 'Rate limiting is not enabled.' }));
      return;
    }
    if (url.pathname === '/repositories') {
      const since = Number(url.searchParams.get('since') ?? 0);
      const ids: number[] = [];
      for (let id = since + 1; id <= top; id++) ids.push(id);
      const link = ids.length ? { link: `<${b}/repositories?since=${top}>; rel="next"` } : {};
      res.writeHead(200, { ...json, ...link });
      res.end(
        JSON.stringify(
          ids.map((id) => ({
            id,
            node_id: `N${id}`,
            full_name: `o/r${id}`,
            fork: false,
            languages_url: `${b}/repos/o/r${id}/languages`,
          })),
        ),
      );
      return;
    }
    const m = /^\/repos\/o\/r(\d+)\/languages$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404, json);
      res.end(JSON.stringify({ message: 'Not Found' }));
      return;
    }
    // Each answer is held until four are in flight, or at most 200 ms.
    inflight++;
    maxInflight = Math.max(maxInflight, inflight);
    const timer = setTimeout(releaseAll, 200);
    held.push(() => {
      clearTimeout(timer);
      inflight--;
      res.writeHead(200, json);
      res.end(JSON.stringify({ C: Number(m[1]) }));
    });
    if (held.length >= 4) releaseAll();
  });
  const dir = tempDir(t);
  const { manifest } = await runCensus({
    api: base,
    tokens: [token],
    out: dir,
    via: 'rest',
    shards: 1,
    concurrency: 8,
    retry: { attempts: 3, baseMs: 5, maxMs: 50 },
  });
  assert.equal(manifest.counts?.ok, top);
  assert.ok(maxInflight >= 4, `at most ${maxInflight} request(s) in flight`);
});

test('a budget that saw a success without rate headers stops probing one at a time', () => {
  const b = new TokenBudget(0, { ...githubLimits, concurrency: 3 });
  b.start('rest');
  assert.equal(b.wait('rest', 0).reason, 'primary', 'one probe at a time at first');
  b.finish('rest', 0, { noPrimaryLimit: true });
  b.start('rest');
  b.start('rest');
  assert.deepEqual(b.wait('rest', 0), { ms: 0, reason: 'none' }, 'no primary limit to learn');
  b.start('rest');
  assert.equal(b.wait('rest', 0).reason, 'concurrency', 'the concurrency cap still holds');
  assert.equal(b.wait('graphql', 0).reason, 'concurrency');
  b.finish('rest', 1, {});
  b.finish('rest', 1, {});
  b.finish('rest', 1, {});
  b.start('graphql');
  assert.equal(b.wait('graphql', 1).reason, 'primary', 'GraphQL is learnt on its own');
  b.finish('graphql', 1, {});
  // A retry-after still holds the token.
  b.start('rest');
  b.finish('rest', 2, { noPrimaryLimit: true, retryAfterMs: 1000 });
  assert.deepEqual(b.wait('rest', 2), { ms: 1000, reason: 'retry-after' });
  // Headers that appear later take over again.
  b.start('rest');
  b.finish('rest', 1002, { headers: { limit: 10, remaining: 1, reset: 100 } });
  b.start('rest');
  assert.equal(b.wait('rest', 1003).reason, 'primary', 'the one request left is in flight');
  b.finish('rest', 1004, {});
  // Once counting down, an answer without headers does not stop the count.
  b.start('rest');
  b.finish('rest', 1005, { noPrimaryLimit: true });
  assert.equal(b.wait('rest', 1005).reason, 'primary');
  // After the window, a probe without headers again means no primary limit...
  b.start('rest');
  b.finish('rest', 101_200, { noPrimaryLimit: true });
  b.start('rest');
  b.start('rest');
  assert.equal(b.wait('rest', 101_200).ms, 0);
  // ...until a spent primary limit says otherwise.
  b.finish('rest', 101_201, { exhaustedUntilMs: 160_000 });
  b.finish('rest', 101_201, {});
  assert.equal(b.wait('rest', 101_201).reason, 'primary');
});
