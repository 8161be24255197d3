// Regressions found in a second review of the census core (client, languages, budget): one
// block per fix.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ApiClient, BudgetScheduler, githubLimits, restLanguages } from '@forage/census';

const token = 'ghp_corereview2token000000000000000000cafe';

/** A loopback server for one test; its base URL. */
async function mock(
  t: { after(fn: () => unknown): void },
  handler: (req: IncomingMessage, res: ServerResponse, base: string) => void,
): Promise<string> {
  let base = '';
  const srv = createServer((req, res) => handler(req, res, base));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    srv.closeAllConnections();
    return new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return base;
}

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
