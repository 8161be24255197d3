import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Emulator, startEmulator } from '@forage/github-emulator';
import { as, call } from './helpers.ts';

let emu: Emulator;
before(async () => {
  emu = await startEmulator({
    dataset: 'synthetic:1000',
    tokens: ['t1', 't2'],
    secondaryLimit: false,
    repositoryRates: { missing: 0.05, dmca: 0.05, tos: 0.05, unavailable: 0.02, renamed: 0.05 },
  });
});
after(() => emu.close());

async function listAll() {
  const items: any[] = [];
  let next: string | undefined = `${emu.url}/repositories`;
  let pages = 0;
  while (next && pages < 50) {
    const res = await call(next, { headers: as('t1') });
    assert.equal(res.status, 200);
    const page = res.json();
    items.push(...page);
    pages++;
    const link = String(res.headers.link);
    assert.match(link, new RegExp(`<${emu.url}/repositories\\{\\?since\\}>; rel="first"`));
    const m = /<([^>]+)>; rel="next"/.exec(link);
    if (page.length > 0) {
      assert.ok(m, 'a non-empty page has a next link');
      assert.equal(m![1], `${emu.url}/repositories?since=${page.at(-1).id}`);
    }
    next = m?.[1];
  }
  return { items, pages };
}

test('listing: 100 per page, ascending ids with gaps, Link next carries the last id, [] past the end', async () => {
  const { items, pages } = await listAll();
  assert.equal(items.length, 1000);
  assert.equal(pages, 11, '10 full pages, then [] with only rel="first"');
  for (let i = 1; i < items.length; i++) assert.ok(items[i].id > items[i - 1].id);
  assert.ok(items.at(-1).id > 1000, 'ids have gaps');
  assert.equal(items.at(-1).id, emu.dataset.lastId);
  const end = await call(`${emu.url}/repositories?since=${emu.dataset.lastId}`, {
    headers: as('t1'),
  });
  assert.equal(end.text, '[]');
  assert.equal(end.headers.link, `<${emu.url}/repositories{?since}>; rel="first"`);
});

test('listing: since is exclusive and any id works as a cursor', async () => {
  const first = (await call(`${emu.url}/repositories?since=0`, { headers: as('t1') })).json();
  const mid = first[49].id;
  const page = (await call(`${emu.url}/repositories?since=${mid}`, { headers: as('t1') })).json();
  assert.equal(page[0].id, first[50].id);
  const gap = first[50].id - 1; // may or may not be a repository: either way the next one is first[50]
  const fromGap = (
    await call(`${emu.url}/repositories?since=${gap}`, { headers: as('t1') })
  ).json();
  assert.equal(fromGap[0].id, first[50].id);
});

test('listing: items have the 46 keys of a real item and the languages_url on this host', async () => {
  const [item] = (await call(`${emu.url}/repositories`, { headers: as('t1') })).json();
  assert.equal(Object.keys(item).length, 46);
  assert.deepEqual(Object.keys(item).slice(0, 6), [
    'id',
    'node_id',
    'name',
    'full_name',
    'private',
    'owner',
  ]);
  assert.equal(item.private, false);
  assert.equal(item.full_name, `${item.owner.login}/${item.name}`);
  assert.equal(item.languages_url, `${emu.url}/repos/${item.full_name}/languages`);
  assert.equal(Buffer.from(item.node_id, 'base64').toString(), `010:Repository${item.id}`);
});

test('listing: a non-integer since is 422', async () => {
  const res = await call(`${emu.url}/repositories?since=abc`, { headers: as('t1') });
  assert.equal(res.status, 422);
  assert.match(res.json().message, /since/);
});

test('listing: a repeated since is read as GitHub (Rails) reads it: the last value wins', async () => {
  // The first value used to win, so these two requests got each other's page.
  const first = (await call(`${emu.url}/repositories?since=0`, { headers: as('t1') })).json();
  const cursor = first[49].id;
  const res = await call(`${emu.url}/repositories?since=0&since=${cursor}`, { headers: as('t1') });
  assert.equal(res.status, 200);
  assert.equal(res.json()[0].id, first[50].id);
  const back = (
    await call(`${emu.url}/repositories?since=${cursor}&since=0`, { headers: as('t1') })
  ).json();
  assert.equal(back[0].id, first[0].id);
  // Only the value that is used is validated, as a Rails handler would see it.
  const bad = await call(`${emu.url}/repositories?since=${cursor}&since=abc`, {
    headers: as('t1'),
  });
  assert.equal(bad.status, 422);
  assert.match(bad.json().message, /"abc"/);
  const good = await call(`${emu.url}/repositories?since=abc&since=${cursor}`, {
    headers: as('t1'),
  });
  assert.equal(good.status, 200);
  assert.equal(good.json()[0].id, first[50].id);
});

test('languages: 200 descending, {} for empty, 404 / 451 / 403 block / 301 rename', async () => {
  const { items } = await listAll();
  const seen = new Map<number, number>();
  let empties = 0;
  for (const item of items) {
    const res = await call(item.languages_url, { headers: as('t2') });
    seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
    const body = res.json();
    if (res.status === 200) {
      const sizes = Object.values(body) as number[];
      if (sizes.length === 0) empties++;
      for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i]! <= sizes[i - 1]!);
    } else if (res.status === 404) {
      assert.equal(body.message, 'Not Found');
      assert.equal(body.status, '404');
      assert.match(body.documentation_url, /list-repository-languages/);
    } else if (res.status === 451) {
      assert.equal(body.message, 'Repository access blocked');
      assert.equal(body.block.reason, 'dmca');
    } else if (res.status === 403) {
      assert.equal(body.message, 'Repository access blocked');
      assert.ok(['tos', 'unavailable'].includes(body.block.reason));
    } else if (res.status === 301) {
      assert.equal(res.headers.location, `${emu.url}/repositories/${item.id}/languages`);
      assert.equal(body.url, res.headers.location);
      const moved = await call(String(res.headers.location), { headers: as('t2') });
      assert.equal(moved.status, 200);
    } else {
      assert.fail(`unexpected status ${res.status}`);
    }
  }
  for (const status of [200, 301, 403, 404, 451])
    assert.ok(seen.get(status)! > 5, `${status}: ${seen.get(status)}`);
  assert.ok(empties > 50, `empty repositories answer {}: ${empties}`);
});

test('languages: names are case-insensitive; unknown names are 404', async () => {
  const [item] = (await call(`${emu.url}/repositories`, { headers: as('t1') })).json();
  const upper = await call(`${emu.url}/repos/${item.full_name.toUpperCase()}/languages`, {
    headers: as('t1'),
  });
  const exact = await call(item.languages_url, { headers: as('t1') });
  assert.equal(upper.status, exact.status);
  assert.equal(upper.text, exact.text);
  const none = await call(`${emu.url}/repos/nobody/nothing-here-zz/languages`, {
    headers: as('t1'),
  });
  assert.equal(none.status, 404);
});

test('auth: token and Bearer work, unknown tokens are 401, no User-Agent is 403 HTML', async () => {
  const bearer = await call(`${emu.url}/repositories`, {
    headers: { authorization: 'Bearer t2', 'user-agent': 'x' },
  });
  assert.equal(bearer.status, 200);
  const bad = await call(`${emu.url}/repositories`, { headers: as('nope') });
  assert.equal(bad.status, 401);
  assert.equal(bad.json().message, 'Bad credentials');
  const noUa = await call(`${emu.url}/repositories`, { headers: { authorization: 'token t1' } });
  assert.equal(noUa.status, 403);
  assert.match(String(noUa.headers['content-type']), /text\/html/);
  assert.match(noUa.text, /Request forbidden by administrative rules.*User-Agent/);
});

test('rate-limit headers on every response, per token and resource', async () => {
  const a = await call(`${emu.url}/repositories`, { headers: as('t1') });
  const b = await call(`${emu.url}/repositories`, { headers: as('t1') });
  assert.equal(a.headers['x-ratelimit-resource'], 'core');
  assert.equal(a.headers['x-ratelimit-limit'], '5000');
  assert.equal(Number(b.headers['x-ratelimit-used']), Number(a.headers['x-ratelimit-used']) + 1);
  assert.equal(
    Number(b.headers['x-ratelimit-remaining']),
    5000 - Number(b.headers['x-ratelimit-used']),
  );
  assert.ok(Number(a.headers['x-ratelimit-reset']) > Date.now() / 1000);
  const notFound = await call(`${emu.url}/nothing`, { headers: as('t1') });
  assert.equal(notFound.status, 404);
  assert.ok(notFound.headers['x-ratelimit-remaining']);
  const anon = await call(`${emu.url}/repositories`, { headers: { 'user-agent': 'x' } });
  assert.equal(anon.headers['x-ratelimit-limit'], '60');
});

test('rate_limit: both API versions; 2026-03-10 drops rate; unknown versions are 400', async () => {
  const old = (await call(`${emu.url}/rate_limit`, { headers: as('t1') })).json();
  assert.deepEqual(old.rate, old.resources.core);
  const current = await call(`${emu.url}/rate_limit`, {
    headers: as('t1', { 'x-github-api-version': '2026-03-10' }),
  });
  assert.equal(current.headers['x-github-api-version-selected'], '2026-03-10');
  assert.equal(current.json().rate, undefined);
  assert.ok(current.json().resources.graphql);
  const before = old.resources.core.used;
  const again = (await call(`${emu.url}/rate_limit`, { headers: as('t1') })).json();
  assert.equal(again.resources.core.used, before, '/rate_limit does not spend the limit');
  const bad = await call(`${emu.url}/rate_limit`, {
    headers: as('t1', { 'x-github-api-version': '2020-01-01' }),
  });
  assert.equal(bad.status, 400);
});

test('routing: HEAD has headers only; trailing slashes and other methods are 404, as on GitHub', async () => {
  const head = await call(`${emu.url}/repositories`, { method: 'HEAD', headers: as('t1') });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  assert.match(String(head.headers.link), /rel="next"/);
  for (const [method, path] of [
    ['GET', '/repositories/'],
    ['DELETE', '/repositories'],
    ['POST', '/repositories'],
    ['GET', '/repos/a/languages'],
  ]) {
    const res = await call(`${emu.url}${path}`, { method: method!, headers: as('t1') });
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.equal(res.json().message, 'Not Found');
  }
  const ignored = await call(`${emu.url}/repositories?per_page=5`, { headers: as('t1') });
  assert.equal(ignored.json().length, 100, 'per_page is not a parameter of this endpoint');
  assert.equal(ignored.headers['x-github-api-version-selected'], '2022-11-28');
});
