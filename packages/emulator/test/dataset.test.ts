import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EmulatorError, parseDatasetSpec, startEmulator } from '@forage/github-emulator';
import { as, call, pipelinedGet, requireSharedData } from './helpers.ts';

test('dataset specs: synthetic:N with separators and k/M suffixes, blog:PATH, clear errors', () => {
  assert.deepEqual(parseDatasetSpec('synthetic'), { kind: 'synthetic', repositories: 100_000 });
  assert.deepEqual(parseDatasetSpec('synthetic:10M'), {
    kind: 'synthetic',
    repositories: 10_000_000,
  });
  assert.deepEqual(parseDatasetSpec('synthetic:250k'), {
    kind: 'synthetic',
    repositories: 250_000,
  });
  assert.deepEqual(parseDatasetSpec('synthetic:1_000'), { kind: 'synthetic', repositories: 1000 });
  assert.deepEqual(parseDatasetSpec('blog:/x/y.jsonl'), { kind: 'blog', path: '/x/y.jsonl' });
  for (const bad of ['synthetic:lots', 'synthetic:-5', 'csv:/x', 'blog:']) {
    assert.throws(
      () => parseDatasetSpec(bad),
      (e: unknown) =>
        e instanceof EmulatorError &&
        e.code === 'ERR_EMULATOR_DATASET' &&
        /synthetic:N|such as synthetic:100000/.test(e.message),
      bad,
    );
  }
});

test('options are checked and errors name the option', async () => {
  const cases: [object, RegExp][] = [
    [{ faults: { http500: 0.7, reset: 0.5 } }, /fault rates add up to 1\.2/],
    [{ faults: { stall: 2 } }, /faults\.stall must be a number from 0 to 1/],
    [{ rateLimit: { core: { limit: -1, windowMs: 1000 } } }, /rateLimit\.core\.limit/],
    [{ tokens: ['has space'] }, /tokens\[0\]/],
    // A token's own limits and user id are checked at start, not at its first request (which
    // used to answer 500 Server Error to every request with that token).
    [
      { tokens: ['a', { token: 'b', rateLimit: { core: { limit: -1, windowMs: 1000 } } }] },
      /tokens\[1\]\.rateLimit\.core\.limit must be a number/,
    ],
    [{ tokens: [{ token: 'b', userId: 'x' }] }, /tokens\[0\]\.userId must be a whole number/],
    [{ tokens: [{ token: 'b', login: '' }] }, /tokens\[0\]\.login must be a non-empty string/],
    // These were taken silently (a default instead, or fractional ids such as 2.5), or failed
    // inside the server (a RangeError for the port; 2.5 repositories left a server listening).
    [{ rateLimitStatus: 500 }, /rateLimitStatus must be one of 403, 429, got 500/],
    [{ rateLimitStatus: '429' }, /rateLimitStatus must be one of 403, 429, got "429"/],
    [{ graphqlRateLimitType: 'rate_limited' }, /graphqlRateLimitType must be one of RATE_LIMITED/],
    [{ port: 1.5 }, /port must be a whole number, got 1\.5/],
    [{ startId: 1.5 }, /startId must be a whole number/],
    [{ dataset: { kind: 'synthetic', repositories: 2.5 } }, /dataset repositories must be a whole/],
    [{ dataset: { kind: 'blob', path: 'x' } }, /dataset\.kind must be one of synthetic, blog/],
    [{ dataset: { kind: 'blog' } }, /dataset\.path must be the path of a lang_data\.jsonl file/],
    [{ dataset: null }, /dataset must be a spec such as 'synthetic:1000'/],
    // Longer than Node's longest timer: a stall became an immediate reset, a delay none at all.
    [{ faults: { stallMs: 2 ** 32 } }, /faults\.stallMs must be a number from 0 to 2147483647/],
    [{ latency: { meanMs: 2 ** 32 } }, /latency\.meanMs must be a number from 0 to 1073741823,/],
    [{ latency: { meanMs: Number.NaN } }, /latency\.meanMs/],
    [{ apiVersion: '2021-01-01' }, /apiVersion must be one of 2022-11-28, 2026-03-10/],
    [{ repositoryRates: { missing: 3 } }, /repositoryRates\.missing/],
    // An empty host would listen on every interface.
    [{ host: '' }, /host must be an address such as '127\.0\.0\.1', got ""; .*'0\.0\.0\.0'/],
    [{ host: ' ' }, /host must be an address/],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(
      startEmulator(options as never),
      (e: unknown) =>
        e instanceof EmulatorError && e.code === 'ERR_EMULATOR_OPTIONS' && message.test(e.message),
      JSON.stringify(options),
    );
  }
});

test('synthetic data is a pure function of the seed', async (t) => {
  const [a, b, c] = await Promise.all([
    startEmulator({ dataset: 'synthetic:5000', seed: 3, tokens: ['x'] }),
    startEmulator({ dataset: 'synthetic:5000', seed: 3, tokens: ['x'] }),
    startEmulator({ dataset: 'synthetic:5000', seed: 4, tokens: ['x'] }),
  ]);
  t.after(() => Promise.all([a.close(), b.close(), c.close()]));
  const strip = (s: string, url: string) => s.replaceAll(url, 'URL');
  const page = async (emu: typeof a) =>
    strip((await call(`${emu.url}/repositories?since=2000`, { headers: as('x') })).text, emu.url);
  assert.equal(await page(a), await page(b));
  assert.notEqual(await page(a), await page(c));
  const ids = JSON.parse(await page(a)).map((r: any) => `/repositories/${r.id}/languages`);
  const [la, lb] = await Promise.all([a, b].map((e) => pipelinedGet(e.url, ids, as('x'))));
  assert.deepEqual(la, lb);
});

test('ten million repositories: constant memory, the far end reachable in one request', async (t) => {
  const heapBefore = process.memoryUsage().heapUsed;
  const emu = await startEmulator({ dataset: 'synthetic:10M', tokens: ['m'] });
  t.after(() => emu.close());
  assert.equal(emu.dataset.repositories, 10_000_000);
  assert.ok(emu.dataset.lastId > 10_000_000, 'ids have gaps');
  const tail = (
    await call(`${emu.url}/repositories?since=${emu.dataset.lastId - 60}`, { headers: as('m') })
  ).json();
  assert.ok(tail.length > 10 && tail.length < 60);
  assert.equal(tail.at(-1).id, emu.dataset.lastId);
  const end = await call(`${emu.url}/repositories?since=${emu.dataset.lastId}`, {
    headers: as('m'),
  });
  assert.equal(end.text, '[]');
  // A spread of pages across the id space: strictly ascending, never past the end.
  for (let since = 0; since < emu.dataset.lastId; since += 1_234_567) {
    const page = (
      await call(`${emu.url}/repositories?since=${since}`, { headers: as('m') })
    ).json();
    assert.equal(page.length, 100);
    assert.ok(page[0].id > since);
    for (let i = 1; i < page.length; i++) assert.ok(page[i].id > page[i - 1].id);
  }
  const grown = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(grown < 64 * 1024 * 1024, `heap grew by ${grown} bytes`);
});

test('the synthetic model resembles the 2016 census it was fitted to', async (t) => {
  const emu = await startEmulator({
    dataset: 'synthetic:30000',
    tokens: ['s'],
    secondaryLimit: false,
    rateLimit: { core: { limit: 100_000, windowMs: 3_600_000 } },
    repositoryRates: { missing: 0, dmca: 0, tos: 0, unavailable: 0, renamed: 0 },
  });
  t.after(() => emu.close());
  // Ids come from the listing layout; ask for the first 20,000 repositories' languages.
  const ids: number[] = [];
  let since = 0;
  while (ids.length < 20_000) {
    const page = (
      await call(`${emu.url}/repositories?since=${since}`, { headers: as('s') })
    ).json();
    ids.push(...page.map((r: any) => r.id));
    since = page.at(-1).id;
  }
  const synthetic = (
    await pipelinedGet(
      emu.url,
      ids.map((id) => `/repositories/${id}/languages`),
      as('s'),
    )
  ).map((r) => JSON.parse(r.body) as Record<string, number>);
  const real = readFileSync(`${requireSharedData()}/github-2016/lang_data.jsonl`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, number>);
  const profile = (repos: Record<string, number>[]) => {
    const presence = new Map<string, number>();
    let empty = 0;
    let languages = 0;
    for (const r of repos) {
      const names = Object.keys(r);
      if (names.length === 0) empty++;
      languages += names.length;
      for (const n of names) presence.set(n, (presence.get(n) ?? 0) + 1);
    }
    const nonEmpty = repos.length - empty;
    const top = [...presence].sort((x, y) => y[1] - x[1]).slice(0, 8);
    return {
      emptyShare: empty / repos.length,
      meanLanguages: languages / nonEmpty,
      top: top.map(([n]) => n),
      share: new Map([...presence].map(([n, c]) => [n, c / nonEmpty])),
    };
  };
  const s = profile(synthetic);
  const r = profile(real);
  assert.ok(
    Math.abs(s.emptyShare - r.emptyShare) < 0.02,
    `empty ${s.emptyShare} vs ${r.emptyShare}`,
  );
  assert.ok(
    Math.abs(s.meanLanguages - r.meanLanguages) / r.meanLanguages < 0.25,
    `${s.meanLanguages} vs ${r.meanLanguages}`,
  );
  const common = r.top.slice(0, 5).filter((n) => s.top.includes(n));
  assert.ok(common.length >= 4, `top languages ${s.top} vs ${r.top}`);
  for (const name of r.top.slice(0, 5)) {
    const ratio = (s.share.get(name) ?? 0) / r.share.get(name)!;
    assert.ok(ratio > 0.6 && ratio < 1.6, `${name}: ${ratio}`);
  }
  // Every object is in GitHub's order (bytes non-increasing) and fits GraphQL's 32-bit Int.
  for (const repo of synthetic) {
    const sizes = Object.values(repo);
    assert.ok(sizes.reduce((a, b) => a + b, 0) < 2 ** 31);
    for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i]! <= sizes[i - 1]!);
  }
});

test('a port in use is ERR_EMULATOR_LISTEN; close() is idempotent; await using closes', async () => {
  const first = await startEmulator({ dataset: 'synthetic:10' });
  const port = Number(new URL(first.url).port);
  await assert.rejects(
    startEmulator({ dataset: 'synthetic:10', port }),
    (e: unknown) =>
      e instanceof EmulatorError &&
      e.code === 'ERR_EMULATOR_LISTEN' &&
      /in use; choose another port/.test(e.message),
  );
  await first.close();
  await first.close();
  let url: string;
  {
    await using emu = await startEmulator({ dataset: 'synthetic:10' });
    url = emu.url;
    assert.equal((await call(`${url}/rate_limit`, { headers: as('x') })).status, 200);
  }
  // Refused, or a kept-alive socket that the closed server hung up.
  await assert.rejects(
    call(`${url}/rate_limit`, { headers: as('x') }),
    /ECONNREFUSED|socket hang up/,
  );
});
