import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CensusEvent, isCensusError, runCensus } from '@forage/census';
import { censusById, emulator, eventfulRates, quickRetry, sorted, tempDir } from './helpers.ts';

const token = 'ghp_censustesttoken0000000000000000abcd';

test('GraphQL and REST censuses agree record for record, with every status represented', async (t) => {
  // REST needs a request per repository: lift the secondary limit so this takes no minutes.
  const emu = await emulator(t, {
    dataset: 'synthetic:3000',
    repositoryRates: eventfulRates,
    secondaryLimit: false,
  });
  const limits = { restPoints: 1_000_000 };
  const gqlDir = tempDir(t);
  const restDir = tempDir(t);
  const gql = await runCensus({ api: emu.url, tokens: [token], out: gqlDir, shards: 5 });
  // Another token: GitHub's secondary limits cannot be read, so a fresh run cannot know what an
  // earlier run spent in the last minute.
  const rest = await runCensus({
    api: emu.url,
    tokens: [`${token}2`],
    out: restDir,
    via: 'rest',
    shards: 3,
    limits,
  });
  assert.equal(gql.manifest.complete, true);
  assert.equal(rest.manifest.complete, true);
  const a = censusById(gqlDir);
  const b = censusById(restDir);
  assert.equal(a.repos.size, 3000);
  assert.deepEqual(sorted(a.repos), sorted(b.repos), 'the listing does not depend on sharding');
  assert.deepEqual(sorted(a.languages), sorted(b.languages), 'GraphQL gives what REST gives');
  const c = gql.manifest.counts!;
  for (const s of ['ok', 'empty', 'not_found', 'blocked'] as const)
    assert.ok(c[s] > 0, `some ${s}: ${JSON.stringify(c)}`);
  assert.equal(c.error, 0);
  assert.equal(c.ok + c.empty + c.not_found + c.blocked, 3000);
  const reasons = new Set(
    [...a.languages.values()].filter((r) => r.status === 'blocked').map((r) => r.reason),
  );
  assert.deepEqual([...reasons].sort(), ['dmca', 'tos', 'unavailable']);
  for (const r of a.languages.values()) {
    if (r.status === 'empty') assert.deepEqual(r.languages, {});
    else if (r.status !== 'ok') assert.equal(r.languages, null, 'only empty repositories are {}');
  }
  // GraphQL: one point per 100 repositories; blocked ones are asked again over REST.
  assert.equal(gql.manifest.requests.graphql, 30);
  assert.ok(
    gql.manifest.requests['rest:/languages']! <= c.blocked + 5,
    JSON.stringify(gql.manifest.requests),
  );
  assert.equal(emu.stats().overLimit.total, 0);
});

test('--repos N keeps exactly the first N repositories after --since; --until bounds the range', async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:4000' });
  const fullDir = tempDir(t);
  await runCensus({ api: emu.url, tokens: [token], out: fullDir });
  const all = sorted(censusById(fullDir).repos).map(([id]) => id);
  const since = all[500]!;
  const firstDir = tempDir(t);
  const first = await runCensus({
    api: emu.url,
    tokens: [token],
    out: firstDir,
    since,
    repos: 1234,
    shards: 7,
  });
  const got = sorted(censusById(firstDir).repos).map(([id]) => id);
  assert.deepEqual(got, all.slice(501, 501 + 1234));
  assert.equal(first.manifest.counts!.listed, 1234);
  assert.equal(censusById(firstDir).languages.size, 1234);
  const until = all[3000]!;
  const rangeDir = tempDir(t);
  await runCensus({ api: emu.url, tokens: [token], out: rangeDir, since, until, shards: 9 });
  assert.deepEqual(
    sorted(censusById(rangeDir).repos).map(([id]) => id),
    all.slice(501, 3000),
  );
});

test('--forks exclude and only split the listing between them', async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:1500' });
  const ex = tempDir(t);
  const only = tempDir(t);
  await runCensus({ api: emu.url, tokens: [token], out: ex, forks: 'exclude' });
  await runCensus({ api: emu.url, tokens: [token], out: only, forks: 'only' });
  const a = censusById(ex).repos;
  const b = censusById(only).repos;
  assert.ok(a.size > 0 && b.size > 0);
  assert.equal(a.size + b.size, 1500);
  for (const r of a.values()) assert.equal(r.fork, false);
  for (const r of b.values()) assert.equal(r.fork, true);
});

test('small primary and secondary windows: the census waits them out and never crosses them', async (t) => {
  const windowMs = 1500;
  const emu = await emulator(t, {
    dataset: 'synthetic:2500',
    rateLimit: { core: { limit: 25, windowMs }, graphql: { limit: 12, windowMs } },
    secondaryLimit: { restPoints: 20, graphqlPoints: 10, windowMs, maxConcurrent: 100 },
    latency: { meanMs: 5, jitterMs: 3 },
  });
  const dir = tempDir(t);
  const events: CensusEvent[] = [];
  const result = await runCensus(
    {
      api: emu.url,
      tokens: [token],
      out: dir,
      shards: 4,
      limits: { restPoints: 20, graphqlPoints: 10, windowMs },
    },
    { onProgress: (e) => events.push(e), progressIntervalMs: 100 },
  );
  const stats = emu.stats();
  assert.equal(stats.overLimit.total, 0, JSON.stringify(stats.overLimit));
  assert.equal(result.manifest.complete, true);
  assert.equal(result.manifest.counts!.listed, 2500);
  assert.ok(result.manifest.sleptMs > 500, `slept ${result.manifest.sleptMs} ms`);
  const waited = events.some(
    (e) => e.type === 'progress' && e.waits.some((w) => w.reason !== 'concurrency'),
  );
  assert.ok(waited, 'progress showed a wait on a limit');
  const budgets = events.filter((e) => e.type === 'progress').at(-1);
  assert.ok(budgets?.type === 'progress' && budgets.tokens[0]!.token === 'ghp_…abcd');
});

test('several tokens share the work, each within its own limits', async (t) => {
  const tokens = [
    'ghp_first00000000000000000000000000001111',
    'ghp_second0000000000000000000000000002222',
  ];
  const emu = await emulator(t, {
    dataset: 'synthetic:2000',
    tokens: tokens.map((tk, i) => ({ token: tk, login: `user${i}` })),
    rateLimit: { core: { limit: 12, windowMs: 1000 }, graphql: { limit: 6, windowMs: 1000 } },
  });
  const dir = tempDir(t);
  const result = await runCensus({
    api: emu.url,
    tokens,
    out: dir,
    shards: 6,
    limits: { resetMarginMs: 50 },
  });
  const stats = emu.stats();
  assert.equal(stats.overLimit.total, 0);
  assert.equal(result.manifest.counts!.listed, 2000);
  const used = Object.values(stats.clients).filter((c) => c.requests > 5);
  assert.equal(used.length, 2, JSON.stringify(stats.clients));
  assert.deepEqual(result.manifest.tokens, ['ghp_…1111', 'ghp_…2222']);
});

test('5xx, resets, stalls and truncated bodies are retried until the census is exact', async (t) => {
  const dataset = 'synthetic:2000';
  const clean = await emulator(t, { dataset, repositoryRates: eventfulRates });
  const cleanDir = tempDir(t);
  await runCensus({ api: clean.url, tokens: [token], out: cleanDir });
  const flaky = await emulator(t, {
    dataset,
    repositoryRates: eventfulRates,
    faults: {
      http500: 0.04,
      http502: 0.04,
      http503: 0.02,
      reset: 0.03,
      truncated: 0.04,
      stall: 0.01,
      stallMs: 200,
    },
  });
  const dir = tempDir(t);
  const result = await runCensus({
    api: flaky.url,
    tokens: [token],
    out: dir,
    retry: quickRetry,
    timeoutMs: 2000,
  });
  const faults = flaky.stats().faults;
  assert.ok(Object.values(faults).reduce((a, b) => a + b, 0) > 3, JSON.stringify(faults));
  assert.ok(result.manifest.retries > 3);
  assert.equal(result.manifest.counts!.error, 0);
  const a = censusById(cleanDir);
  const b = censusById(dir);
  const noUrl = (m: typeof a.repos) =>
    sorted(m).map(([id, r]) => [id, { ...r, languages_url: '' }]);
  assert.deepEqual(noUrl(b.repos), noUrl(a.repos), 'same listing (on another port)');
  assert.deepEqual(sorted(b.languages), sorted(a.languages));
});

test('a rejected token stops the census with one line and the token redacted', async (t) => {
  const emu = await emulator(t, {
    dataset: 'synthetic:300',
    tokens: ['ghp_thegoodone000000000000000000000000000'],
  });
  const dir = tempDir(t);
  const bad = 'ghp_revoked000000000000000000000000009999';
  const error = await runCensus({ api: emu.url, tokens: [bad], out: dir }).then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(isCensusError(error, 'ERR_CENSUS_TOKEN'), String(error));
  assert.match(error.message, /ghp_…9999 was rejected \(401 Bad credentials\)/);
  assert.ok(!error.message.includes(bad));
  assert.ok(!error.message.includes('\n'));
});

test('an unreachable API stops with ERR_CENSUS_API and leaves no half-written journal', async (t) => {
  const dir = tempDir(t);
  const error = await runCensus({
    api: 'http://127.0.0.1:9',
    tokens: [token],
    out: dir,
    retry: { attempts: 2, baseMs: 5, maxMs: 10 },
  }).then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(isCensusError(error, 'ERR_CENSUS_API'), String(error));
  assert.match(error.message, /ECONNREFUSED|connect/);
  assert.ok(!error.message.includes(token));
});

test('without a token it says so, estimates the time, uses REST and keeps to the address limit', async (t) => {
  const emu = await emulator(t, {
    dataset: 'synthetic:150',
    rateLimit: { unauthenticated: { limit: 40, windowMs: 500 } },
  });
  const dir = tempDir(t);
  const notices: string[] = [];
  const result = await runCensus(
    { api: emu.url, out: dir, repos: 150, limits: { resetMarginMs: 50 } },
    { onProgress: (e) => void (e.type === 'notice' && notices.push(e.message)) },
  );
  assert.equal(result.manifest.via, 'rest');
  assert.deepEqual(result.manifest.tokens, []);
  assert.ok(
    notices.some((n) => /no token: the unauthenticated limit is 40 requests per hour/.test(n)),
    notices.join('\n'),
  );
  assert.ok(
    notices.some((n) => /150 repositories \(152 requests\) take about/.test(n)),
    notices.join('\n'),
  );
  assert.equal(emu.stats().overLimit.total, 0);
  assert.equal(result.manifest.complete, true);
  assert.equal(result.manifest.counts!.listed, 150);
});

test('the token never appears in any file the census writes, nor in its events', async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:800', repositoryRates: eventfulRates });
  const dir = tempDir(t);
  const events: string[] = [];
  await runCensus(
    { api: emu.url, tokens: [token], out: dir, via: 'rest' },
    { onProgress: (e) => events.push(JSON.stringify(e)) },
  );
  for (const name of readdirSync(dir)) {
    assert.ok(!readFileSync(join(dir, name), 'utf8').includes(token), `${name} holds the token`);
  }
  assert.ok(!events.join('\n').includes(token));
  assert.ok(readFileSync(join(dir, 'census.json'), 'utf8').includes('ghp_…abcd'));
});

test('a full disk stops the census with one clear line and a resumable directory', {
  skip: !existsSync('/dev/full'),
}, async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:1500' });
  const dir = tempDir(t);
  // Every write to /dev/full fails with ENOSPC, as on a full disk.
  symlinkSync('/dev/full', join(dir, 'languages.jsonl'));
  const error = await runCensus({ api: emu.url, tokens: [token], out: dir }).then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(isCensusError(error, 'ERR_CENSUS_WRITE'), String(error));
  assert.match(
    error.message,
    /languages\.jsonl .*the disk is full: free some space and run the same command again to resume/,
  );
  const manifest = JSON.parse(readFileSync(join(dir, 'census.json'), 'utf8'));
  assert.equal(manifest.complete, false);
  assert.match(manifest.runs[0].error, /disk is full/);
});
