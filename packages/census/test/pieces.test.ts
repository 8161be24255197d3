import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  batchBody,
  makePlan,
  nextLink,
  parseApiUrl,
  parseBatch,
  parseLinkHeader,
  parsePage,
  redactToken,
  resolveOptions,
  scrubTokens,
  shardOf,
  shardRange,
  tokensFrom,
} from '@forage/census';

test('redactToken shows the prefix and the last four characters only', () => {
  assert.equal(redactToken('ghp_abcdefghijklmnopqrstuvwxyz0123456789'), 'ghp_…6789');
  assert.equal(redactToken('github_pat_11AAAAAAA0abcdefghijkl'), 'github_pat_…ijkl');
  assert.equal(redactToken('0123456789abcdef0123'), '…0123');
  assert.equal(redactToken('short'), '…');
  const t = 'ghp_secretsecretsecret1234';
  assert.equal(
    scrubTokens(`failed with ${t} and again ${t}`, [t]),
    'failed with ghp_…1234 and again ghp_…1234',
  );
});

test('tokensFrom prefers --token, then GITHUB_TOKEN, then GH_TOKEN, splitting commas', () => {
  assert.deepEqual(tokensFrom(['a', 'b,c', 'a'], { GITHUB_TOKEN: 'x' }), ['a', 'b', 'c']);
  assert.deepEqual(tokensFrom([], { GITHUB_TOKEN: 'x, y', GH_TOKEN: 'z' }), ['x', 'y']);
  assert.deepEqual(tokensFrom(undefined, { GH_TOKEN: 'z' }), ['z']);
  assert.deepEqual(tokensFrom(undefined, {}), []);
});

test('the API URL must be https unless it is a loopback address', () => {
  assert.equal(parseApiUrl('https://api.github.com').href, 'https://api.github.com/');
  assert.equal(parseApiUrl('http://127.0.0.1:8080').href, 'http://127.0.0.1:8080/');
  assert.equal(parseApiUrl('http://localhost:1/api/v3').href, 'http://localhost:1/api/v3/');
  assert.throws(() => parseApiUrl('http://example.com'), {
    code: 'ERR_CENSUS_OPTION',
    message: /must use https/,
  });
  assert.throws(() => parseApiUrl('https://u:p@example.com'), {
    code: 'ERR_CENSUS_OPTION',
    message: /credentials/,
  });
  assert.throws(() => parseApiUrl('not a url'), { code: 'ERR_CENSUS_OPTION' });
});

test('resolveOptions names the bad option and the fix', () => {
  const api = 'http://127.0.0.1:1';
  assert.throws(() => resolveOptions({ api, concurrency: 101 }), {
    message: /--concurrency must be an integer 1\.\.100/,
  });
  assert.throws(() => resolveOptions({ api, since: 10, until: 11 }), { message: /--until/ });
  assert.throws(() => resolveOptions({ api, repos: 0 }), { message: /--repos/ });
  assert.throws(() => resolveOptions({ api, via: 'soap' as 'rest' }), {
    message: /--via must be graphql or rest/,
  });
  assert.throws(() => resolveOptions({ api, forks: 'some' as 'only' }), { message: /--forks/ });
  assert.throws(() => resolveOptions({ api, tokens: ['a b'] }), {
    message: /token contains spaces/,
  });
  const o = resolveOptions({ api });
  assert.equal(o.concurrency, 64);
  assert.equal(o.limits.restPoints, 900);
  assert.equal(o.limits.graphqlPoints, 2000);
});

test("parseLinkHeader reads GitHub's listing links, templates included", () => {
  const header =
    '<https://api.github.com/repositories?since=369>; rel="next", <https://api.github.com/repositories{?since}>; rel="first"';
  assert.deepEqual(parseLinkHeader(header), [
    { href: 'https://api.github.com/repositories?since=369', rels: ['next'] },
    { href: 'https://api.github.com/repositories{?since}', rels: ['first'] },
  ]);
  assert.deepEqual(parseLinkHeader(''), []);
  assert.deepEqual(parseLinkHeader('<a>; rel="next prev"')[0]!.rels, ['next', 'prev']);
});

test('nextLink refuses a link to another origin', () => {
  const base = new URL('https://api.github.com/repositories?since=1');
  const origin = base.origin;
  const ok = nextLink('<https://api.github.com/repositories?since=9>; rel="next"', base, origin);
  assert.equal(ok.kind, 'next');
  assert.equal(ok.kind === 'next' && ok.url.searchParams.get('since'), '9');
  assert.equal(
    nextLink('<https://evil.example/repositories?since=9>; rel="next"', base, origin).kind,
    'foreign',
  );
  assert.equal(
    nextLink('<http://api.github.com/repositories?since=9>; rel="next"', base, origin).kind,
    'foreign',
  );
  assert.equal(nextLink('<https://api.github.com/x>; rel="first"', base, origin).kind, 'none');
  assert.equal(
    nextLink('</repositories?since=5>; rel="next"', base, origin).kind,
    'next',
    'relative links resolve',
  );
});

test('shards tile the range exactly: every id in exactly one shard', () => {
  const plan = makePlan({ since: 1000, until: 2001, repos: null, shards: 7, density: 1 });
  const seen = new Map<number, number>();
  for (let k = 0; ; k++) {
    const r = shardRange(plan, k);
    if (!r) break;
    for (let id = r.start; id < r.end; id++) {
      assert.equal(seen.has(id), false);
      seen.set(id, k);
      assert.equal(shardOf(plan, id), k);
    }
  }
  assert.equal(seen.size, 1000, 'ids 1001..2000');
  assert.ok(seen.has(1001) && seen.has(2000) && !seen.has(2001));
  const open = makePlan({ since: 0, until: null, repos: 100_000, shards: 16, density: 1.43 });
  assert.equal(open.until, null);
  assert.ok(
    open.width * (open.expected ?? 0) >= 100_000 * 1.43,
    'expected shards cover the estimate',
  );
});

test('parseBatch maps nodes to languages, NOT_FOUND and REST fallbacks, in order', () => {
  const lang = (pairs: Array<[string, number]>, next?: string) => ({
    edges: pairs.map(([name, size]) => ({ size, node: { name } })),
    pageInfo: { hasNextPage: next !== undefined, endCursor: next ?? null },
  });
  const body = {
    data: {
      nodes: [
        {
          databaseId: 1,
          languages: lang([
            ['C', 10],
            ['Go', 5],
          ]),
        },
        null,
        { databaseId: 3, languages: lang([]) },
        null,
        { databaseId: 5, languages: lang([['A', 3]], 'cur') },
      ],
    },
    errors: [
      { type: 'NOT_FOUND', path: ['nodes', 1], message: 'Could not resolve' },
      { type: 'FORBIDDEN', path: ['nodes', 3], message: 'Repository access blocked' },
    ],
  };
  const out = parseBatch(body, [1, 2, 3, 4, 5]);
  assert.equal(out.kind, 'nodes');
  assert.deepEqual(out.kind === 'nodes' && out.nodes, [
    { kind: 'languages', languages: { C: 10, Go: 5 } },
    { kind: 'not_found' },
    { kind: 'languages', languages: {} },
    { kind: 'ask_rest', why: 'FORBIDDEN' },
    { kind: 'languages', languages: { A: 3 }, after: 'cur' },
  ]);
  assert.equal(
    Object.keys((out as { nodes: Array<{ languages?: object }> }).nodes[0]!.languages!).join(),
    'C,Go',
    'order kept',
  );
  assert.equal(
    parseBatch({ errors: [{ type: 'ARGUMENT_LIMIT', message: 'too many' }] }, [1, 2]).kind,
    'failed',
  );
  assert.equal(parseBatch({ data: { nodes: [null] } }, [1, 2]).kind, 'failed', 'count mismatch');
  // An answer for another repository than the one asked for at that place is never credited.
  assert.deepEqual(parseBatch(body, [1, 2, 4, 4, 5]), {
    kind: 'failed',
    why: 'node 2 is repository 3, asked for 4',
  });
  const into = { A: 3 };
  assert.deepEqual(parsePage({ data: { node: { languages: lang([['B', 2]]) } } }, into), {
    languages: { A: 3, B: 2 },
  });
  assert.throws(() => batchBody([]), RangeError);
  assert.throws(() => batchBody(Array.from({ length: 101 }, () => ({ node_id: 'x' }))), RangeError);
  assert.match(batchBody([{ node_id: 'MDEw' }]), /nodes\(ids: \$ids\)/);
});
