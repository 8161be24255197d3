// Regressions found reviewing the census core (listing, languages, client): one block per fix.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCensus } from '@forage/census';
import { censusById, mock, quickRetry, tempDir } from './helpers.ts';

const token = 'ghp_corereviewtoken0000000000000000000beef';

const rate = {
  'x-ratelimit-limit': '5000',
  'x-ratelimit-remaining': '4000',
  'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
  'x-ratelimit-resource': 'core',
};

/** A listing item with the five fields the census keeps. */
function repo(base: string, id: number) {
  return {
    id,
    node_id: `N${id}`,
    full_name: `o/r${id}`,
    fork: false,
    languages_url: `${base}/repos/o/r${id}/languages`,
  };
}

/**
 * A GitHub-like API over repositories 1..`top`, `size` per listing page. `link(since)` gives a
 * page's Link header (default: GitHub's, next = the last id on the page); `languages` answers
 * `/repos/o/rN/languages`.
 */
function api(
  top: number,
  size: number,
  options: {
    link?: (since: number, last: number | undefined, base: string) => string | undefined;
    languages?: (id: number, res: ServerResponse) => void;
    /** Sends no x-ratelimit-* headers (a proxy that drops them). */
    noRateHeaders?: boolean;
  } = {},
) {
  return (req: IncomingMessage, res: ServerResponse, base: string) => {
    const url = new URL(req.url ?? '/', base);
    const json = {
      'content-type': 'application/json; charset=utf-8',
      ...(options.noRateHeaders ? {} : rate),
    };
    if (url.pathname === '/rate_limit') {
      res.writeHead(200, json);
      res.end(JSON.stringify({ resources: {} }));
      return;
    }
    if (url.pathname === '/repositories') {
      const since = Number(url.searchParams.get('since') ?? 0);
      const ids: number[] = [];
      for (let id = since + 1; id <= top && ids.length < size; id++) ids.push(id);
      const first = `<${base}/repositories{?since}>; rel="first"`;
      const link = options.link
        ? options.link(since, ids.at(-1), base)
        : ids.length > 0
          ? `<${base}/repositories?since=${ids.at(-1)}>; rel="next", ${first}`
          : first;
      res.writeHead(200, link === undefined ? json : { ...json, link });
      res.end(JSON.stringify(ids.map((id) => repo(base, id))));
      return;
    }
    const m = /^\/repos\/o\/r(\d+)\/languages$/.exec(url.pathname);
    if (m) {
      if (options.languages) return options.languages(Number(m[1]), res);
      res.writeHead(200, json);
      res.end(JSON.stringify({ C: Number(m[1]) }));
      return;
    }
    res.writeHead(404, json);
    res.end(JSON.stringify({ message: 'Not Found' }));
  };
}

// 1. A page without rel="next" is not the end of the id space unless it is empty.

test('a listing page that comes without a Link header is not taken for the end of the id space', async (t) => {
  // Repositories 1..9, three a page; the page after since=3 lost its Link header on the way.
  const base = await mock(
    t,
    api(9, 3, {
      link: (since, last, b) =>
        since === 3 || last === undefined
          ? undefined
          : `<${b}/repositories?since=${last}>; rel="next"`,
    }),
  );
  const dir = tempDir(t);
  const { manifest } = await runCensus({
    api: base,
    tokens: [token],
    out: dir,
    via: 'rest',
    shards: 1,
    retry: quickRetry,
  });
  assert.equal(manifest.complete, true);
  assert.deepEqual(
    [...censusById(dir).repos.keys()].sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.equal(manifest.counts!.listed, 9);
});

// 2. Link parameters without a value (RFC 8288 allows them) and escaped quotes.

test('parseLinkHeader reads rel after a parameter without a value, and quoted strings with escapes', async () => {
  const { parseLinkHeader } = await import('@forage/census');
  assert.deepEqual(
    parseLinkHeader(
      '<https://a/repositories?since=5>; crossorigin; rel="next", <https://a/repositories{?since}>; rel="first"',
    ),
    [
      { href: 'https://a/repositories?since=5', rels: ['next'] },
      { href: 'https://a/repositories{?since}', rels: ['first'] },
    ],
  );
  assert.deepEqual(
    parseLinkHeader('<https://a/x?since=7>; title="say \\"hi\\"; rel=last"; rel=next'),
    [{ href: 'https://a/x?since=7', rels: ['next'] }],
  );
});

// 3. A server that echoes the request's Authorization into its error messages: the token must
//    not reach languages.jsonl (nor any other file).

test('a token echoed back in error bodies is written redacted, never as it is', async (t) => {
  const echoing = (req: IncomingMessage, res: ServerResponse, base: string) => {
    const auth = String(req.headers.authorization);
    const url = new URL(req.url ?? '/', base);
    const json = { 'content-type': 'application/json; charset=utf-8', ...rate };
    if (url.pathname === '/graphql') {
      res.writeHead(200, json);
      res.end(JSON.stringify({ errors: [{ type: 'FORBIDDEN', message: `denied for ${auth}` }] }));
      return;
    }
    const m = /^\/repos\/o\/r(\d+)\/languages$/.exec(url.pathname);
    if (m) {
      const id = Number(m[1]);
      res.writeHead(id % 2 ? 400 : 403, json);
      res.end(
        JSON.stringify(
          id % 2
            ? { message: `bad request with ${auth}` }
            : { message: `blocked for ${auth}`, block: { html_url: 'x' } },
        ),
      );
      return;
    }
    api(4, 2)(req, res, base);
  };
  for (const via of ['rest', 'graphql'] as const) {
    const base = await mock(t, echoing);
    const dir = tempDir(t);
    const { manifest } = await runCensus({
      api: base,
      tokens: [token],
      out: dir,
      via,
      shards: 1,
      retry: quickRetry,
    });
    assert.equal(manifest.complete, true);
    const languages = readFileSync(join(dir, 'languages.jsonl'), 'utf8');
    assert.ok(!languages.includes(token), `${via}: ${languages}`);
    assert.ok(
      languages.includes('ghp_…beef'),
      `${via}: the message is kept, redacted: ${languages}`,
    );
    assert.equal(manifest.counts!.error + manifest.counts!.blocked, 4);
  }
});

// 4. limits and retry are checked like the other options: a zero secondary limit made every
//    request wait for ever.

test('resolveOptions refuses limits and retry values the census cannot run with, naming them', async () => {
  const { resolveOptions } = await import('@forage/census');
  const api = 'http://127.0.0.1:1';
  for (const [limits, name] of [
    [{ restPoints: 0 }, 'limits.restPoints'],
    [{ graphqlPoints: -1 }, 'limits.graphqlPoints'],
    [{ windowMs: Number.NaN }, 'limits.windowMs'],
    [{ resetMarginMs: -5 }, 'limits.resetMarginMs'],
    [{ unknownResetWaitMs: Number.POSITIVE_INFINITY }, 'limits.unknownResetWaitMs'],
  ] as const) {
    assert.throws(
      () => resolveOptions({ api, limits }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_CENSUS_OPTION');
        assert.ok(error.message.startsWith(`${name} must be`), error.message);
        return true;
      },
    );
  }
  for (const [retry, name] of [
    [{ attempts: 2.5 }, 'retry.attempts'],
    [{ baseMs: -1 }, 'retry.baseMs'],
    [{ maxMs: Number.NaN }, 'retry.maxMs'],
  ] as const) {
    assert.throws(() => resolveOptions({ api, retry }), {
      code: 'ERR_CENSUS_OPTION',
      message: new RegExp(`^${name.replace('.', '\\.')} must be`),
    });
  }
  const ok = resolveOptions({
    api,
    limits: { restPoints: 5, windowMs: 1000 },
    retry: { attempts: 2 },
  });
  assert.equal(ok.limits.restPoints, 5);
  assert.equal(ok.retry.attempts, 2);
});

// 5. An empty GITHUB_TOKEN (a CI secret that is not set) falls through to GH_TOKEN.

test('tokensFrom: an empty or blank GITHUB_TOKEN falls through to GH_TOKEN', async () => {
  const { tokensFrom } = await import('@forage/census');
  assert.deepEqual(tokensFrom(undefined, { GITHUB_TOKEN: '', GH_TOKEN: 'z' }), ['z']);
  assert.deepEqual(tokensFrom([], { GITHUB_TOKEN: ' , ', GH_TOKEN: 'y,z' }), ['y', 'z']);
  assert.deepEqual(tokensFrom(undefined, { GITHUB_TOKEN: 'x', GH_TOKEN: 'z' }), ['x']);
});

// 6. Rate-limit answers that lack the headers (a proxy dropped them), a bare 429, and a
//    retry-after given as an HTTP date are waited out, not written as repository errors.
//    (The census below meets the first; rateLimitOf is checked for the others.)

test('a rate-limit answer without x-ratelimit headers is waited out, not recorded as an error', async (t) => {
  let refused = 0;
  const base = await mock(
    t,
    api(6, 3, {
      languages: (id, res) => {
        if (refused < 3) {
          refused++;
          res.writeHead(403, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: 'API rate limit exceeded for user ID 1.' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ C: id }));
      },
      noRateHeaders: true,
    }),
  );
  const dir = tempDir(t);
  const { manifest } = await runCensus({
    api: base,
    tokens: [token],
    out: dir,
    via: 'rest',
    shards: 1,
    concurrency: 1,
    retry: quickRetry,
    limits: { unknownResetWaitMs: 100 },
  });
  assert.equal(refused, 3);
  assert.deepEqual(manifest.counts, {
    listed: 6,
    ok: 6,
    empty: 0,
    not_found: 0,
    blocked: 0,
    error: 0,
  });
});

test('rateLimitOf: a bare 429 waits a minute, retry-after may be an HTTP date', async () => {
  const { rateLimitOf } = await import('../dist/client.js');
  const response = (status: number, headers: Record<string, string>, body: unknown = null) => ({
    status,
    url: new URL('http://127.0.0.1/x'),
    body,
    header: (name: string) => headers[name],
    rate: undefined,
  });
  assert.deepEqual(rateLimitOf(response(429, {}), 'rest'), { retryAfterMs: 60_000 });
  const date = 'Thu, 26 Nov 2026 07:00:00 GMT';
  assert.deepEqual(
    rateLimitOf(response(403, { date, 'retry-after': 'Thu, 26 Nov 2026 07:00:30 GMT' }), 'rest'),
    { retryAfterMs: 30_000 },
  );
  assert.deepEqual(
    rateLimitOf(
      response(403, {}, { message: 'You have triggered an abuse detection mechanism.' }),
      'rest',
    ),
    { retryAfterMs: 60_000 },
  );
  // Not rate limits: a blocked repository, a plain 403, a 404.
  const blocked = { message: 'Repository access blocked', block: { reason: 'tos' } };
  assert.equal(rateLimitOf(response(403, {}, blocked), 'rest'), undefined);
  assert.equal(rateLimitOf(response(403, {}, { message: 'Forbidden' }), 'rest'), undefined);
  assert.equal(rateLimitOf(response(404, {}, { message: 'Not Found' }), 'rest'), undefined);
});

// 7. A GraphQL batch that fails as a whole (no GraphQL at that path, a batch that keeps timing
//    out) asks REST, as a node GraphQL cannot answer does, instead of writing 100 errors.

test('a GraphQL batch that fails as a whole is answered by REST, not written as errors', async (t) => {
  let graphql = 0;
  const handler = api(5, 5);
  const base = await mock(t, (req, res, b) => {
    if (req.url === '/graphql') {
      graphql++;
      // As GitHub Enterprise answers /api/v3/graphql (its GraphQL is at /api/graphql).
      res.writeHead(404, { 'content-type': 'application/json', ...rate });
      res.end(JSON.stringify({ message: 'Not Found' }));
      return;
    }
    handler(req, res, b);
  });
  const dir = tempDir(t);
  const { manifest } = await runCensus({
    api: base,
    tokens: [token],
    out: dir,
    shards: 1,
    retry: quickRetry,
  });
  assert.ok(graphql > 0);
  assert.deepEqual(manifest.counts, {
    listed: 5,
    ok: 5,
    empty: 0,
    not_found: 0,
    blocked: 0,
    error: 0,
  });
  assert.deepEqual(
    [...censusById(dir).languages.values()].map((r) => r.languages),
    [1, 2, 3, 4, 5].map((id) => ({ C: id })),
  );
});

// 8. A listing page refused for a reason other than a limit says what the API said.

test('a listing refused by the API stops with its status and message, the token redacted', async (t) => {
  const base = await mock(t, (req, res, b) => {
    if (req.url?.startsWith('/repositories')) {
      res.writeHead(403, { 'content-type': 'application/json', ...rate });
      res.end(
        JSON.stringify({
          message: `Resource protected by organization SAML enforcement (${req.headers.authorization})`,
        }),
      );
      return;
    }
    api(1, 1)(req, res, b);
  });
  await assert.rejects(
    runCensus({ api: base, tokens: [token], out: tempDir(t), shards: 1, retry: quickRetry }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_CENSUS_API');
      assert.match(error.message, /HTTP 403/);
      assert.match(error.message, /SAML enforcement/);
      assert.ok(!error.message.includes(token), error.message);
      return true;
    },
  );
});
