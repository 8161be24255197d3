// Several tokens, one of them rejected (401): it is retired and the census goes on without it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  BudgetScheduler,
  type CensusEvent,
  githubLimits,
  isCensusError,
  runCensus,
} from '@forage/census';
import { type Cleanup, censusById, emulator, quickRetry, tempDir } from './helpers.ts';

const good = [
  'ghp_retiretestgood0000000000000000000001',
  'ghp_retiretestgood0000000000000000000003',
];
const bad = 'ghp_retiretestrevoked00000000000000000bad2';

/** Every way a message could show a token: whole, or its redacted tail. */
function assertNoToken(text: string, tokens: readonly string[]): void {
  for (const token of tokens) {
    assert.ok(!text.includes(token), `a token in: ${text}`);
    assert.ok(!text.includes(token.slice(-4)), `part of a token (${token.slice(-4)}) in: ${text}`);
  }
}

/** Runs a census, keeping its notices and its last progress event. */
async function census(options: Parameters<typeof runCensus>[0]) {
  const notices: string[] = [];
  let last: Extract<CensusEvent, { type: 'progress' }> | undefined;
  const result = await runCensus(options, {
    progressIntervalMs: 20,
    onProgress: (e) => {
      if (e.type === 'notice') notices.push(e.message);
      if (e.type === 'progress') last = e;
    },
  });
  return { result, notices, last };
}

/**
 * A loopback proxy in front of `target` that answers 401 "Bad credentials" for a request whose
 * token `revoked(token)` says is revoked (asked once per request, as it arrives), and passes
 * every other request through. Counts the 401s it sent.
 */
async function revokingProxy(
  t: Cleanup,
  target: string,
  revoked: (token: string, path: string) => boolean,
) {
  const stats = { rejected: 0, forwarded: 0 };
  const to = new URL(target);
  let self = '';
  const srv = createServer((req, res) => {
    const token = /^bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (token && revoked(token, req.url ?? '')) {
      stats.rejected++;
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Bad credentials', status: '401' }));
      return;
    }
    stats.forwarded++;
    const upstream = request(
      {
        host: to.hostname,
        port: to.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: to.host },
      },
      (answer) => {
        // Links and redirects name the proxy, as they would the API behind it.
        const headers = { ...answer.headers };
        for (const name of ['link', 'location'] as const) {
          const value = headers[name];
          if (typeof value === 'string') headers[name] = value.split(to.origin).join(self);
        }
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    srv.closeAllConnections();
    return new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  self = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return { url: self, stats };
}

test('a token the API does not know is retired: the census completes with the others, and says which by position', async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:600', tokens: good, secondaryLimit: false });
  const dir = tempDir(t);
  const tokens = [good[0]!, bad, good[1]!];
  const { result, notices, last } = await census({
    api: emu.url,
    tokens,
    out: dir,
    shards: 4,
    retry: quickRetry,
  });
  assert.equal(result.manifest.complete, true);
  const { repos, languages } = censusById(dir);
  assert.equal(repos.size, 600);
  assert.equal(languages.size, 600, 'every listed repository has its record');
  assert.equal(result.manifest.counts!.error, 0, 'none recorded as failed');
  const warnings = notices.filter((n) => /token 2 of 3 was rejected/.test(n));
  assert.equal(warnings.length, 1, notices.join('\n'));
  assert.match(warnings[0]!, /401 Bad credentials/);
  assert.match(warnings[0]!, /replace it in --token/);
  for (const n of notices) assertNoToken(n, tokens);
  assert.deepEqual(result.manifest.runs.at(-1)!.retiredTokens, [2]);
  assert.deepEqual(
    last!.tokens.map((v) => v.retired),
    [false, true, false],
  );
});

test('a token revoked mid-run is retired: its requests go again on the others, no repository is lost or failed', async (t) => {
  for (const via of ['graphql', 'rest'] as const) {
    const emu = await emulator(t, {
      dataset: 'synthetic:800',
      tokens: [...good, bad],
      secondaryLimit: false,
    });
    // The revoked token works for /rate_limit and its first 5 requests, then gets 401s.
    let sent = 0;
    const proxy = await revokingProxy(
      t,
      emu.url,
      (token, path) => token === bad && !path.startsWith('/rate_limit') && ++sent > 5,
    );
    const dir = tempDir(t);
    // First: the scheduler prefers it while the tokens are equally busy.
    const tokens = [bad, good[0]!, good[1]!];
    const concurrency = 4;
    const { result, notices } = await census({
      api: proxy.url,
      tokens,
      out: dir,
      via,
      shards: 4,
      concurrency,
      retry: quickRetry,
      limits: { restPoints: 1_000_000 },
    });
    assert.ok(proxy.stats.rejected > 0, `${via}: the revoked token was used after its revocation`);
    // Once a 401 came back the token was no longer handed out: only requests already given it
    // (at most `concurrency` in flight) can have gone with it.
    assert.ok(proxy.stats.rejected <= concurrency, `${via}: ${proxy.stats.rejected} 401s`);
    assert.equal(result.manifest.complete, true, via);
    const { repos, languages } = censusById(dir);
    assert.equal(repos.size, 800, via);
    assert.equal(languages.size, 800, via);
    assert.equal(result.manifest.counts!.error, 0, `${via}: none recorded as failed`);
    assert.equal(notices.filter((n) => /token 1 of 3 was rejected/.test(n)).length, 1, via);
    for (const n of notices) assertNoToken(n, tokens);
    assert.deepEqual(result.manifest.runs.at(-1)!.retiredTokens, [1], via);
  }
});

test('under tight primary limits, the tokens left after a retirement stay within theirs', async (t) => {
  const emu = await emulator(t, {
    dataset: 'synthetic:2000',
    tokens: [bad, ...good],
    rateLimit: { core: { limit: 12, windowMs: 1000 }, graphql: { limit: 6, windowMs: 1000 } },
  });
  let sent = 0;
  const proxy = await revokingProxy(
    t,
    emu.url,
    (token, path) => token === bad && !path.startsWith('/rate_limit') && ++sent > 3,
  );
  const dir = tempDir(t);
  const { result, last } = await census({
    api: proxy.url,
    tokens: [bad, ...good],
    out: dir,
    shards: 6,
    retry: quickRetry,
    limits: { resetMarginMs: 50 },
  });
  assert.ok(proxy.stats.rejected > 0, 'the token was revoked while in use');
  const stats = emu.stats();
  assert.equal(stats.overLimit.total, 0, JSON.stringify(stats.overLimit));
  assert.equal(result.manifest.complete, true);
  assert.equal(result.manifest.counts!.listed, 2000);
  assert.equal(result.manifest.counts!.error, 0);
  assert.deepEqual(result.manifest.runs.at(-1)!.retiredTokens, [1]);
  assert.deepEqual(
    last!.tokens.map((v) => v.retired),
    [true, false, false],
  );
  for (const view of last!.tokens.slice(1)) {
    assert.ok(view.core.limit === 12 && view.graphql.limit === 6, JSON.stringify(view));
  }
});

test('every token rejected still stops the census with ERR_CENSUS_TOKEN, naming them by position', async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:300', tokens: [good[0]!] });
  const dir = tempDir(t);
  const tokens = [bad, 'ghp_retiretestunknown0000000000000000000x7'];
  const error = await runCensus({ api: emu.url, tokens, out: dir, retry: quickRetry }).then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(isCensusError(error, 'ERR_CENSUS_TOKEN'), String(error));
  assert.match(error.message, /tokens 1 and 2 of 2/);
  assert.match(error.message, /401 Bad credentials/);
  assert.match(error.message, /replace them in --token/);
  assert.ok(!error.message.includes('\n'));
  assertNoToken(error.message, tokens);
});

test('every token revoked mid-run stops the census; the journals resume with a good token to the same census', async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:800', tokens: [...good, bad] });
  const revokedOnes = [bad, good[1]!];
  let sent = 0;
  // Both tokens of the first run work for their first 8 requests in all, then are revoked.
  const proxy = await revokingProxy(
    t,
    emu.url,
    (token, path) => revokedOnes.includes(token) && !path.startsWith('/rate_limit') && ++sent > 8,
  );
  const dir = tempDir(t);
  const error = await runCensus({
    api: proxy.url,
    tokens: revokedOnes,
    out: dir,
    shards: 4,
    concurrency: 2,
    retry: quickRetry,
  }).then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(isCensusError(error, 'ERR_CENSUS_TOKEN'), String(error));
  assert.match(error.message, /tokens 1 and 2 of 2/);
  assertNoToken(error.message, revokedOnes);
  // census.json names them all, beside the error (the report says the run stopped there).
  const stopped = JSON.parse(readFileSync(join(dir, 'census.json'), 'utf8')) as {
    runs: { error?: string; retiredTokens?: number[] }[];
  };
  assert.deepEqual(stopped.runs[0]!.retiredTokens, [1, 2]);
  assert.match(stopped.runs[0]!.error ?? '', /every token was rejected/);
  const before = censusById(dir);
  assert.ok(before.repos.size < 800, 'stopped before the end');
  for (const r of before.languages.values()) assert.notEqual(r.status, 'error');
  // Rerun with a token that works: the census is finished, each repository recorded once.
  const { result } = await census({
    api: proxy.url,
    tokens: [good[0]!],
    out: dir,
    shards: 4,
    retry: quickRetry,
  });
  assert.equal(result.manifest.complete, true);
  const after = censusById(dir);
  assert.equal(after.repos.size, 800);
  assert.equal(after.languages.size, 800);
  assert.equal(result.manifest.counts!.error, 0);
  assert.equal(result.manifest.runs.length, 2);
  assert.equal(result.manifest.runs[1]!.retiredTokens, undefined);
});

test('the scheduler never hands out a retired token and rejects what only it could serve', async () => {
  const scheduler = new BudgetScheduler(2, githubLimits);
  const first = await scheduler.acquire('rest');
  // Waits for the answer to `first`, the token's probe of its REST limit.
  const pinned = scheduler.acquire('rest', undefined, true, first.tokenIndex);
  const none = new Error('none left');
  assert.deepEqual(scheduler.retire(first.tokenIndex, none), { retired: true, left: 1 });
  const error = await pinned.then(
    () => assert.fail('the retired token was handed out'),
    (e: unknown) => e,
  );
  assert.ok(isCensusError(error, 'ERR_CENSUS_TOKEN'), String(error));
  assert.equal(
    error.message,
    `token ${first.tokenIndex + 1} of 2 was rejected earlier in this run and is no longer used`,
  );
  first.release({});
  for (let i = 0; i < 10; i++) {
    const lease = await scheduler.acquire('graphql');
    assert.notEqual(lease.tokenIndex, first.tokenIndex);
    lease.release({});
  }
  const other = 1 - first.tokenIndex;
  // The other token's REST probe is out: the next REST request waits for its answer.
  const blocked = await scheduler.acquire('rest');
  assert.equal(blocked.tokenIndex, other);
  const waiting = scheduler.acquire('rest');
  assert.deepEqual(scheduler.retire(other, none), { retired: true, left: 0, error: none });
  await assert.rejects(waiting, (e) => e === none);
  await assert.rejects(scheduler.acquire('graphql'), (e) => e === none);
  assert.deepEqual(scheduler.retired(), [0, 1]);
  blocked.release({});
  scheduler.close(new Error('end'));
});
