import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Emulator, startEmulator } from '@forage/github-emulator';
import { as, batchQuery, call, graphql } from './helpers.ts';

let emu: Emulator;
let items: any[];
before(async () => {
  emu = await startEmulator({
    dataset: 'synthetic:2000',
    tokens: ['g'],
    secondaryLimit: false,
    repositoryRates: { missing: 0.05, dmca: 0.03, renamed: 0.05 },
  });
  items = [];
  for (const since of [0]) {
    items.push(
      ...(await call(`${emu.url}/repositories?since=${since}`, { headers: as('g') })).json(),
    );
  }
});
after(() => emu.close());

test('nodes batch of 100: cost 1, nodeCount 10,100, same languages as REST, in order', async () => {
  const ids = items.map((i) => i.node_id);
  assert.equal(ids.length, 100);
  const res = await graphql(emu.url, 'g', batchQuery, { ids });
  assert.equal(res.status, 200);
  const body = res.json();
  const rl = body.data.rateLimit;
  assert.equal(rl.cost, 1);
  assert.equal(rl.nodeCount, 10_100);
  assert.equal(rl.limit, 5000);
  assert.equal(rl.remaining, 5000 - rl.used);
  assert.match(rl.resetAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(res.headers['x-ratelimit-used'], String(rl.used));
  assert.equal(body.data.nodes.length, 100);
  let compared = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const node = body.data.nodes[i];
    const rest = await call(`${emu.url}/repositories/${item.id}/languages`, { headers: as('g') });
    if (rest.status === 404 || rest.status === 451 || rest.status === 403) {
      assert.equal(node, null);
      const error = body.errors.find((e: any) => e.path[1] === i);
      assert.ok(error, `an error at nodes.${i}`);
      assert.ok(['NOT_FOUND', 'FORBIDDEN'].includes(error.type));
      continue;
    }
    assert.equal(node.databaseId, item.id);
    assert.equal(node.id, item.node_id);
    assert.equal(node.isFork, item.fork);
    assert.equal(node.owner.login, item.owner.login);
    const fromGraphql = Object.fromEntries(
      node.languages.edges.map((e: any) => [e.node.name, e.size]),
    );
    assert.deepEqual(Object.entries(fromGraphql), Object.entries(rest.json()));
    assert.equal(node.languages.totalCount, node.languages.edges.length);
    assert.equal(
      node.languages.totalSize,
      node.languages.edges.reduce((s: number, e: any) => s + e.size, 0),
    );
    assert.equal(node.primaryLanguage?.name ?? null, node.languages.edges[0]?.node.name ?? null);
    compared++;
  }
  assert.ok(compared > 80);
});

test('nodes: unknown ids are null with NOT_FOUND at their path; data kept for the others', async () => {
  const ids = [items[0].node_id, 'not-an-id', items[1].node_id, 'MDEwOlJlcG9zaXRvcnk5OTk5OTk5OTk='];
  const body = (
    await graphql(emu.url, 'g', 'query($ids:[ID!]!){ nodes(ids:$ids){ id } }', { ids })
  ).json();
  assert.equal(body.data.nodes[1], null);
  assert.equal(body.data.nodes[3], null);
  const paths = body.errors.map((e: any) => [e.type, ...e.path]);
  assert.deepEqual(paths, [
    ['NOT_FOUND', 'nodes', 1],
    ['NOT_FOUND', 'nodes', 3],
  ]);
  assert.equal(
    body.errors[0].message,
    "Could not resolve to a node with the global id of 'not-an-id'",
  );
});

test('nodes: more than 100 ids is ARGUMENT_LIMIT with no data and no charge', async () => {
  const before = (await graphql(emu.url, 'g', '{ rateLimit { used } }')).json().data.rateLimit.used;
  const ids = Array.from({ length: 101 }, (_, i) => `id${i}`);
  const body = (
    await graphql(emu.url, 'g', 'query($ids:[ID!]!){ nodes(ids:$ids){ id } }', { ids })
  ).json();
  assert.equal(body.data, undefined);
  assert.deepEqual(
    body.errors.map((e: any) => e.type),
    ['ARGUMENT_LIMIT'],
  );
  assert.equal(
    body.errors[0].message,
    'You may not provide more than 100 node ids; you provided 101.',
  );
  const after = (await graphql(emu.url, 'g', '{ rateLimit { used } }')).json().data.rateLimit.used;
  assert.equal(after, before + 1, 'only the rateLimit query itself was charged');
});

test('cost: connections need first/last ≤ 100; formula rounds requests/100', async () => {
  const missing = (
    await graphql(
      emu.url,
      'g',
      `{ node(id: "${items[0].node_id}") { ... on Repository { languages { totalCount } } } }`,
    )
  ).json();
  assert.equal(missing.errors[0].type, 'MISSING_PAGINATION_BOUNDARIES');
  const excessive = (
    await graphql(
      emu.url,
      'g',
      `{ node(id: "${items[0].node_id}") { ... on Repository { languages(first: 101) { totalCount } } } }`,
    )
  ).json();
  assert.equal(excessive.errors[0].type, 'EXCESSIVE_PAGINATION');
  const ids = items.slice(0, 40).map((i) => i.node_id);
  const q =
    'query($ids:[ID!]!){ rateLimit { cost nodeCount } nodes(ids:$ids){ ... on Repository { languages(first: 10) { totalCount } } } }';
  const small = (await graphql(emu.url, 'g', q, { ids })).json();
  assert.deepEqual(small.data.rateLimit, { cost: 1, nodeCount: 40 + 400 });
});

test('pagination: first and last are each 1..100; both together take first, then last', async () => {
  const node = items[0].node_id;
  const languages = async (args: string) =>
    (
      await graphql(
        emu.url,
        'g',
        `{ rateLimit { nodeCount } node(id: "${node}") { ... on Repository { languages(${args}) { edges { size node { name } } } } } }`,
      )
    ).json();
  for (const [args, message] of [
    ['first: 0', /`first` must be between 1 and 100/],
    ['last: 0', /`last` must be between 1 and 100/],
    ['first: -1', /`first` must be between 1 and 100/],
    ['first: 2, last: 1000', /exceeds the `last` limit of 100 records/],
    ['first: 101, last: 2', /exceeds the `first` limit of 100 records/],
  ] as const) {
    const body = await languages(args);
    assert.equal(body.data, undefined, args);
    assert.deepEqual(
      body.errors.map((e: any) => e.type),
      ['EXCESSIVE_PAGINATION'],
      args,
    );
    assert.match(body.errors[0].message, message, args);
    assert.deepEqual(body.errors[0].path, ['node', 'languages'], args);
  }
  // Both given: the Relay algorithm's last 2 of the first 5, and a node count for 2.
  const firstFive = await languages('first: 5');
  const both = await languages('first: 5, last: 2');
  assert.deepEqual(both.data.node.languages.edges, firstFive.data.node.languages.edges.slice(-2));
  assert.equal(firstFive.data.rateLimit.nodeCount, 5);
  assert.equal(both.data.rateLimit.nodeCount, 2);
});

test('node, repository(owner, name), followRenames, and language paging with cursors', async () => {
  const item = items[0];
  const byNode = (
    await graphql(
      emu.url,
      'g',
      `{ node(id: "${item.node_id}") { ... on Repository { databaseId } } }`,
    )
  ).json();
  assert.equal(byNode.data.node.databaseId, item.id);
  // Find a renamed repository: the listing shows its old name, REST answers 301 there.
  let renamed: any;
  for (const i of items) {
    const r = await call(i.languages_url, { headers: as('g') });
    if (r.status === 301) {
      renamed = i;
      break;
    }
  }
  assert.ok(renamed, 'a renamed repository in the first page');
  const q = (follow: boolean) =>
    `{ repository(owner: "${renamed.owner.login}", name: "${renamed.name}", followRenames: ${follow}) { databaseId name } }`;
  const followed = (await graphql(emu.url, 'g', q(true))).json();
  assert.equal(followed.data.repository.databaseId, renamed.id);
  assert.notEqual(followed.data.repository.name, renamed.name);
  const strict = (await graphql(emu.url, 'g', q(false))).json();
  assert.equal(strict.data.repository, null);
  assert.equal(strict.errors[0].type, 'NOT_FOUND');
  assert.deepEqual(strict.errors[0].path, ['repository']);
  // Page through a repository's languages two at a time.
  let wide: any;
  for (const i of items) {
    const r = await call(`${emu.url}/repositories/${i.id}/languages`, { headers: as('g') });
    if (r.status === 200 && Object.keys(r.json()).length >= 5) {
      wide = { item: i, languages: Object.keys(r.json()) };
      break;
    }
  }
  assert.ok(wide);
  const names: string[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 100; guard++) {
    const page: any = (
      await graphql(
        emu.url,
        'g',
        'query($id: ID!, $after: String) { node(id: $id) { ... on Repository { languages(first: 2, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } } } }',
        { id: wide.item.node_id, after },
      )
    ).json();
    const conn = page.data.node.languages;
    names.push(...conn.edges.map((e: any) => e.node.name));
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  assert.deepEqual(names, wide.languages);
  const asc = (
    await graphql(
      emu.url,
      'g',
      `{ node(id: "${wide.item.node_id}") { ... on Repository { languages(first: 100, orderBy: {field: SIZE, direction: ASC}) { edges { node { name } } } } } }`,
    )
  ).json();
  assert.deepEqual(
    asc.data.node.languages.edges.map((e: any) => e.node.name),
    [...wide.languages].reverse(),
  );
});

test('authentication: no token is 401, an unknown token is 401 Bad credentials', async () => {
  const anon = await call(`${emu.url}/graphql`, {
    method: 'POST',
    headers: { 'user-agent': 'x' },
    body: JSON.stringify({ query: '{ rateLimit { cost } }' }),
  });
  assert.equal(anon.status, 401);
  assert.equal(anon.json().message, 'This endpoint requires you to be authenticated.');
  const bad = await graphql(emu.url, 'nope', '{ rateLimit { cost } }');
  assert.equal(bad.status, 401);
  assert.equal(bad.json().message, 'Bad credentials');
});

test('bad requests: unreadable JSON is 400, invalid queries are 200 with errors and no data', async () => {
  const broken = await call(`${emu.url}/graphql`, { method: 'POST', headers: as('g'), body: '{' });
  assert.equal(broken.status, 400);
  assert.equal(broken.json().message, 'Problems parsing JSON');
  const unknownField = (
    await graphql(emu.url, 'g', '{ rateLimit { nope } }', undefined, false)
  ).json();
  assert.equal(unknownField.data, undefined);
  assert.match(unknownField.errors[0].message, /nope/);
  const syntax = (await graphql(emu.url, 'g', '{ rateLimit { ', undefined, false)).json();
  assert.match(syntax.errors[0].message, /Syntax Error/);
});

test('bad requests: variables must be an object or null; the request is refused, not run without them', async () => {
  const post = (body: unknown) =>
    call(`${emu.url}/graphql`, {
      method: 'POST',
      headers: { ...as('g'), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  // These used to run as if no variables had been sent: the query answered with data.
  const query = 'query($dry: Boolean) { rateLimit(dryRun: $dry) { cost } }';
  for (const [variables, kind] of [
    [[true], 'an array'],
    ['{"dry":true}', 'a string'],
    [1, 'a number'],
    [true, 'a boolean'],
  ] as const) {
    const res = await post({ query, variables });
    assert.equal(res.status, 200, JSON.stringify(variables));
    const body = res.json();
    assert.equal(body.data, undefined, JSON.stringify(variables));
    assert.deepEqual(body.errors, [
      { message: `The variables attribute must be a JSON object (or null), not ${kind}.` },
    ]);
  }
  for (const variables of [null, undefined, {}, { dry: true }]) {
    const res = await post({ query, variables });
    assert.deepEqual(res.json(), { data: { rateLimit: { cost: 1 } } }, JSON.stringify(variables));
  }
});

test('bad requests: query missing, empty or not a string, operationName not a string', async () => {
  const post = (body: unknown) =>
    call(`${emu.url}/graphql`, {
      method: 'POST',
      headers: { ...as('g'), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const noQuery = { message: 'A query attribute must be specified and must be a string.' };
  // GitHub's answer to {} and to an empty query (observed); "" used to be a syntax error.
  for (const body of [{}, { query: '' }, { query: 42 }, { query: ['{ rateLimit { cost } }'] }]) {
    const res = await post(body);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(res.json(), { errors: [noQuery] }, JSON.stringify(body));
  }
  for (const body of [[{ query: '{ rateLimit { cost } }' }], 'x', null]) {
    assert.deepEqual((await post(body)).json(), { errors: [noQuery] }, JSON.stringify(body));
  }
  // A number used to be dropped, so the one operation ran as if it had been named.
  const twoOps = 'query A { rateLimit { cost } } query B { rateLimit { limit } }';
  for (const [operationName, kind] of [
    [1, 'a number'],
    [['A'], 'an array'],
    [{ name: 'A' }, 'an object'],
  ] as const) {
    const res = await post({ query: 'query A { rateLimit { cost } }', operationName });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), {
      errors: [{ message: `The operationName attribute must be a string (or null), not ${kind}.` }],
    });
  }
  const named = await post({ query: twoOps, operationName: 'B' });
  assert.deepEqual(named.json(), { data: { rateLimit: { limit: 5000 } } });
  const unnamed = await post({ query: 'query A { rateLimit { cost } }', operationName: null });
  assert.deepEqual(unnamed.json(), { data: { rateLimit: { cost: 1 } } });
  // Every problem of the request is reported at once.
  const all = await post({ variables: [], operationName: 2 });
  assert.deepEqual(
    all.json().errors.map((e: { message: string }) => e.message.split(' ')[1]),
    ['query', 'variables', 'operationName'],
  );
});

test('a body over 1 MiB is 413 and closes its connection, so the next request on a pool works', async () => {
  // fetch keeps connections alive and reuses them. The 413 used to say keep-alive while the
  // server dropped the half-read connection, so the client's next request failed with ECONNRESET.
  const headers = { ...as('g'), 'content-type': 'application/json' };
  const big = await fetch(`${emu.url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: 'x'.repeat(2 << 20) }),
  });
  assert.equal(big.status, 413);
  assert.equal(big.headers.get('connection'), 'close');
  await big.text();
  const next = await fetch(`${emu.url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: '{ rateLimit { cost } }' }),
  });
  assert.equal(next.status, 200);
  assert.deepEqual(await next.json(), { data: { rateLimit: { cost: 1 } } });
});

test('distinct large queries are not kept: memory stays flat', async () => {
  // Parsed documents are cached by query text; every distinct text up to the 1 MiB body limit
  // used to be kept (500 of them), so 60 queries of 900 KB held about 60 MB.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const send = async (i: number) => {
    const query = `{ rateLimit { cost } } # ${i} ${'y'.repeat(900_000)}`;
    const got = await call(`${emu.url}/graphql`, {
      method: 'POST',
      headers: as('g'),
      body: JSON.stringify({ query }),
    });
    assert.equal(got.status, 200);
  };
  await send(-1);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 60; i++) await send(i);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.ok(grown < 20 * 1024 * 1024, `heap grew by ${grown} bytes`);
});
