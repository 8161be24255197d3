// Proof that the emulator is faithful: REST bodies validated against GitHub's OpenAPI subset,
// our GraphQL schema compared with GitHub's, and real, unmodified octokit clients run against it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emulatorSchemaSdl, startEmulator } from '@forage/github-emulator';
import { graphql as octokitGraphql } from '@octokit/graphql';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { buildSchema, isInputObjectType, isInterfaceType, isObjectType } from 'graphql';
import { openapi, validateRestResponse } from './github-schemas.ts';
import { as, batchQuery, call, githubSubsetSchema } from './helpers.ts';

test("REST bodies validate against GitHub's OpenAPI subset, statuses and headers included", async (t) => {
  const v = openapi();
  const emu = await startEmulator({
    dataset: 'synthetic:3000',
    tokens: [{ token: 'a', rateLimit: { core: { limit: 400, windowMs: 60_000 } } }],
    secondaryLimit: false,
    repositoryRates: { missing: 0.03, dmca: 0.03, tos: 0.03, unavailable: 0.03, renamed: 0.03 },
  });
  t.after(() => emu.close());
  const seen = new Set<number>();
  const items: any[] = [];
  for (let since = 0, pages = 0; pages < 3; pages++) {
    const res = await call(`${emu.url}/repositories?since=${since}`, { headers: as('a') });
    const page = res.json();
    v.listing(page, `listing since=${since}`);
    const declared = new Set(
      Object.keys(v.doc.components.schemas['minimal-repository'].properties),
    );
    const ownerDeclared = new Set(Object.keys(v.doc.components.schemas['simple-user'].properties));
    for (const item of page) {
      for (const key of Object.keys(item)) assert.ok(declared.has(key), `undeclared key ${key}`);
      for (const key of Object.keys(item.owner))
        assert.ok(ownerDeclared.has(key), `undeclared owner key ${key}`);
    }
    for (const name of [
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
      'x-ratelimit-used',
    ]) {
      assert.match(String(res.headers[name]), /^\d+$/, name);
    }
    items.push(...page);
    since = page.at(-1).id;
  }
  for (const item of items) {
    const res = await call(item.languages_url, { headers: as('a') });
    seen.add(res.status);
    if (res.status === 200) v.languages(res.json(), item.languages_url);
    else v.basicError(res.json(), `${res.status} ${item.languages_url}`);
  }
  assert.deepEqual([...seen].sort(), [200, 301, 403, 404, 451]);
  for (const version of ['2022-11-28', '2026-03-10']) {
    const res = await call(`${emu.url}/rate_limit`, {
      headers: as('a', { 'x-github-api-version': version }),
    });
    if (version === '2022-11-28') v.rateLimit(res.json(), 'rate_limit 2022-11-28');
    else {
      // Apply the schema's own breaking-change patch for 2026-03-10: `rate` removed.
      const change = v.rateLimitSchema['x-github-breaking-changes'][0];
      assert.equal(change.version, '2026-03-10');
      assert.deepEqual(change.patch.required, ['resources']);
      assert.equal(res.json().rate, undefined);
      assert.ok(res.json().resources.core && res.json().resources.search);
    }
  }
  // Error bodies: 401, 404, 422 and the primary limit all use basic-error.
  v.basicError((await call(`${emu.url}/repositories`, { headers: as('wrong') })).json(), '401');
  v.basicError((await call(`${emu.url}/nope`, { headers: as('a') })).json(), '404');
  v.basicError((await call(`${emu.url}/repositories?since=x`, { headers: as('a') })).json(), '422');
  let limited: any;
  for (let i = 0; i < 400 && !limited; i++) {
    const r = await call(`${emu.url}/repositories?since=${i}`, { headers: as('a') });
    if (r.status === 403) limited = r.json();
  }
  assert.ok(limited);
  v.basicError(limited, 'primary limit');
});

test('503 fault bodies match the service_unavailable response', async (t) => {
  const v = openapi();
  const emu = await startEmulator({
    dataset: 'synthetic:10',
    tokens: ['a'],
    faults: { http503: 1 },
  });
  t.after(() => emu.close());
  v.serviceUnavailable((await call(`${emu.url}/repositories`, { headers: as('a') })).json(), '503');
});

test("our GraphQL schema agrees with GitHub's on every type and field they share", () => {
  const ours = buildSchema(emulatorSchemaSdl);
  const theirs = githubSubsetSchema();
  let compared = 0;
  for (const type of Object.values(ours.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    const other = theirs.getType(type.name);
    if (!other) continue;
    if (
      (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) &&
      'getFields' in other
    ) {
      const otherFields = (other as typeof type).getFields() as Record<string, any>;
      for (const [name, field] of Object.entries(type.getFields()) as [string, any][]) {
        const theirField = otherFields[name];
        if (!theirField) continue;
        assert.equal(String(field.type), String(theirField.type), `${type.name}.${name}`);
        const args = (f: any) =>
          (f.args ?? []).map((a: any) => `${a.name}: ${a.type} = ${a.defaultValue}`).sort();
        assert.deepEqual(args(field), args(theirField), `${type.name}.${name} arguments`);
        compared++;
      }
    }
  }
  assert.ok(compared >= 40, `${compared} fields compared`);
  // Everything in GitHub's subset that the census asks for is served.
  for (const [type, fields] of Object.entries({
    Query: ['node', 'nodes', 'rateLimit', 'repository'],
    Repository: [
      'id',
      'databaseId',
      'name',
      'nameWithOwner',
      'isFork',
      'primaryLanguage',
      'languages',
    ],
    LanguageConnection: ['edges', 'totalCount', 'totalSize', 'pageInfo'],
    RateLimit: ['cost', 'limit', 'nodeCount', 'remaining', 'resetAt', 'used'],
  })) {
    const served = (ours.getType(type) as any).getFields();
    for (const f of fields) assert.ok(served[f], `${type}.${f}`);
  }
});

test('@octokit/rest paginate walks /repositories to the end through the Link header', async (t) => {
  const emu = await startEmulator({ dataset: 'synthetic:1234', tokens: ['o'] });
  t.after(() => emu.close());
  const octokit = new Octokit({ auth: 'o', baseUrl: emu.url });
  const all = await octokit.paginate('GET /repositories');
  assert.equal(all.length, 1234);
  assert.equal(new Set(all.map((r) => r.id)).size, 1234);
  assert.equal(all.at(-1)!.id, emu.dataset.lastId);
  // 13 pages with data, then [] with no next link.
  assert.equal(emu.stats().routes['GET /repositories'], 14);
  const { data } = await octokit.rest.repos.listLanguages({
    owner: all[0]!.owner.login,
    repo: all[0]!.name,
  });
  assert.equal(typeof data, 'object');
});

test('@octokit/plugin-throttling waits out an exhausted limit and succeeds', async (t) => {
  const emu = await startEmulator({
    dataset: 'synthetic:2000',
    tokens: [{ token: 'th', rateLimit: { core: { limit: 3, windowMs: 3000 } } }],
  });
  t.after(() => emu.close());
  const Throttled = Octokit.plugin(throttling);
  const waits: number[] = [];
  const octokit = new Throttled({
    auth: 'th',
    baseUrl: emu.url,
    throttle: {
      onRateLimit: (retryAfter: number, _options: unknown, _o: unknown, retryCount: number) => {
        waits.push(retryAfter);
        return retryCount < 2;
      },
      onSecondaryRateLimit: () => false,
    },
  });
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { data } = await octokit.request('GET /repositories', { since: i * 100 });
    ids.push(Number(data[0]!.id));
  }
  assert.equal(ids.length, 5);
  t.diagnostic(JSON.stringify({ waits, stats: emu.stats().statuses }));
  assert.equal(waits.length, 1, 'the limit was hit once, then respected');
  // plugin-throttling waits ceil(reset - now) + 1 s; the window is 3 s and reset is in whole seconds.
  assert.ok(waits[0]! >= 1 && waits[0]! <= 5, String(waits[0]));
  const stats = emu.stats();
  assert.equal(stats.overLimit.primary, 1);
  assert.equal(stats.statuses['403'], 1);
  assert.equal(stats.statuses['200'], 5);
});

test('@octokit/graphql runs the census nodes batch', async (t) => {
  const emu = await startEmulator({
    dataset: 'synthetic:500',
    tokens: ['q'],
    repositoryRates: { missing: 0, dmca: 0, tos: 0, unavailable: 0, renamed: 0 },
  });
  t.after(() => emu.close());
  const page = (await call(`${emu.url}/repositories`, { headers: as('q') })).json();
  const gql = octokitGraphql.defaults({ baseUrl: emu.url, headers: { authorization: 'token q' } });
  const result: any = await gql(batchQuery, { ids: page.map((r: any) => r.node_id) });
  assert.equal(result.nodes.length, 100);
  assert.equal(result.rateLimit.cost, 1);
  assert.deepEqual(
    result.nodes.map((n: any) => n.databaseId),
    page.map((r: any) => r.id),
  );
  await assert.rejects(
    gql('{ rateLimit { cost } }', { headers: { authorization: 'token wrong' } }),
    /Bad credentials/,
  );
});

test('the response validator is not vacuous: it rejects bodies GitHub would not send', () => {
  const url = 'http://127.0.0.1:1/repositories';
  const type = 'application/json; charset=utf-8';
  assert.throws(
    () => validateRestResponse(url, 200, type, '[{"id":1}]'),
    /must have required property/,
  );
  assert.throws(
    () => validateRestResponse('http://127.0.0.1:1/repos/a/b/languages', 200, type, '{"C":"lots"}'),
    /must be integer/,
  );
  assert.throws(
    () => validateRestResponse('http://127.0.0.1:1/rate_limit', 200, type, '{"resources":{}}'),
    /required property/,
  );
  assert.throws(() => validateRestResponse(url, 404, type, '{"message":404}'), /must be string/);
});
