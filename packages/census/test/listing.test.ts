import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  ApiClient,
  BudgetScheduler,
  githubLimits,
  isCensusError,
  type RepoRecord,
  repoFromListing,
  runCensus,
  scanListing,
} from '@forage/census';
import { request } from 'undici';
import { readRepoLine } from '../dist/listing.js';
import { censusById, emulator, quickRetry, sorted, tempDir } from './helpers.ts';

const token = 'ghp_listingtesttoken00000000000000000abcd';

/** What the census made of a page before the scanner: JSON.parse, then the five fields. */
function viaParse(text: string): RepoRecord[] {
  return (JSON.parse(text) as unknown[]).map((item) => {
    const repo = repoFromListing(item);
    if (typeof repo === 'string') throw new Error(repo);
    return repo;
  });
}

function scan(text: string): RepoRecord[] | undefined {
  return scanListing(Buffer.from(text));
}

/** Asserts the scanner reads `text` exactly as JSON.parse does (byte for byte once written). */
function agrees(text: string, message?: string): void {
  const scanned = scan(text);
  assert.ok(scanned, `scanned: ${message ?? text.slice(0, 200)}`);
  assert.deepEqual(scanned, viaParse(text), message);
  assert.equal(JSON.stringify(scanned), JSON.stringify(viaParse(text)), 'same key order');
}

/** A listing item shaped like GitHub's: the owner object, with its own id and node_id, first. */
function item(id: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    node_id: `MDEwOlJlcG9zaXRvcnk${id}`,
    name: `repo-${id}`,
    full_name: `owner${id}/repo-${id}`,
    private: false,
    owner: {
      login: `owner${id}`,
      id: id * 7,
      node_id: `MDQ6VXNlcj${id}`,
      full_name: 'not this one',
      fork: true,
      languages_url: 'nor this',
      site_admin: false,
    },
    html_url: `https://github.com/owner${id}/repo-${id}`,
    description: null,
    fork: id % 3 === 0,
    topics: [],
    license: { key: 'mit', spdx_id: 'MIT', nested: [[{ id: 1 }], { node_id: 'x' }] },
    score: -1.5e-3,
    languages_url: `https://api.github.com/repos/owner${id}/repo-${id}/languages`,
    ...extra,
  };
}

const page = [item(1), item(2), item(3), item(1000)];

test('the scanner reads GitHub-shaped pages as JSON.parse does, compact or pretty-printed', () => {
  agrees(JSON.stringify(page));
  agrees(JSON.stringify(page, null, 2));
  agrees(JSON.stringify(page, null, '\t').replaceAll('\n', '\r\n'));
  agrees(` \n\t[ ${JSON.stringify(page).slice(1, -1)} ] \r\n`);
  agrees('[]');
  agrees(' [ ] ');
  // Nested objects with the same key names (owner.id, owner.node_id...) never leak out.
  const [first] = scan(JSON.stringify(page))!;
  assert.deepEqual(first, {
    id: 1,
    node_id: 'MDEwOlJlcG9zaXRvcnk1',
    full_name: 'owner1/repo-1',
    fork: false,
    languages_url: 'https://api.github.com/repos/owner1/repo-1/languages',
  });
});

test('the scanner decodes escapes and unicode in the fields it keeps', () => {
  const names = [
    'a/"quoted"',
    'back\\slash/x\\',
    'caf\u00e9/\u{1F600}',
    'tab\there/new\nline',
    'slash\\/x',
    '\u2028\u2029/\u0000',
    'ends-with-backslash\\',
  ];
  for (const full_name of names) {
    agrees(JSON.stringify([item(5, { full_name })]), full_name);
  }
  // Escapes JSON.stringify would not write: \u for plain letters, \/ for a slash.
  agrees('[{"id":7,"node_id":"N\\u0041\\u00e9","full_name":"a\\/b","languages_url":"u\\"v"}]');
  // Raw UTF-8 in kept and skipped strings.
  agrees(JSON.stringify([item(8, { full_name: 'ünï/cødé', description: '日本語 \\" "' })]));
  // A skipped string ending in escaped backslashes, then a quote that ends it.
  agrees('[{"x":"\\\\\\\\","id":9,"y":"\\\\\\"","node_id":"n","full_name":"f"}]');
});

test('the scanner takes fields in any order, duplicates as JSON.parse does, and odd types', () => {
  agrees(
    '[{"languages_url":"l","fork":true,"full_name":"f","node_id":"n","id":3},{"full_name":"g","id":4,"node_id":"m"}]',
  );
  // Duplicate keys: the last one wins.
  agrees('[{"id":1,"id":2,"node_id":"a","node_id":"b","full_name":"c","fork":true,"fork":false}]');
  agrees('[{"id":1,"node_id":"a","full_name":"c","languages_url":"x","languages_url":null}]');
  // fork that is not true is false; languages_url that is not a string is empty.
  agrees('[{"id":1,"node_id":"a","full_name":"c","fork":"yes","languages_url":5}]');
  agrees('[{"id":1,"node_id":"a","full_name":"c","fork":null,"languages_url":{"id":9}}]');
  // Integers written unusually are still integers.
  agrees('[{"id":1e3,"node_id":"a","full_name":"c"},{"id":2000.0,"node_id":"b","full_name":"d"}]');
  agrees('[{"id":9007199254740991,"node_id":"a","full_name":"c"}]');
  assert.equal(scan('[{"id":-0,"node_id":"a","full_name":"c"}]')?.[0]?.id, -0);
});

test('the scanner leaves anything unusual to JSON.parse', () => {
  const fallBack = [
    '{"id":1}', // not an array
    '[null]',
    '[1,2]',
    '[[{"id":1,"node_id":"a","full_name":"c"}]]',
    '[{}]',
    '[{"node_id":"a","full_name":"c"}]', // no id
    '[{"id":1.5,"node_id":"a","full_name":"c"}]',
    '[{"id":1e300,"node_id":"a","full_name":"c"}]',
    '[{"id":9007199254740993,"node_id":"a","full_name":"c"}]',
    '[{"id":"1","node_id":"a","full_name":"c"}]',
    '[{"id":1,"node_id":null,"full_name":"c"}]',
    '[{"id":1,"node_id":"a"}]', // no full_name
    '[{"\\u0069d":1,"node_id":"a","full_name":"c"}]', // an escaped key
    '\ufeff[]', // a byte order mark
  ];
  for (const text of fallBack) assert.equal(scan(text), undefined, text);
});

test('the scanner refuses truncated bodies at every cut, and garbled structure', () => {
  const full = JSON.stringify([item(1), item(2)], null, 1);
  assert.ok(scan(full));
  for (let cut = 0; cut < full.trimEnd().length; cut++) {
    const prefix = full.slice(0, cut);
    assert.equal(scan(prefix), undefined, `accepted a body cut at ${cut}: …${prefix.slice(-30)}`);
  }
  const good = '{"id":1,"node_id":"a","full_name":"c"}';
  const garbled = [
    `[${good},]`,
    `[${good} ${good}]`,
    `[${good}`,
    `[${good}]]`,
    `[${good}] x`,
    `[${good}][]`,
    '[{"id":1,"node_id":"a","full_name":"c",}]',
    '[{"id":1 "node_id":"a","full_name":"c"}]',
    '[{"id" 1,"node_id":"a","full_name":"c"}]',
    '[{id:1,"node_id":"a","full_name":"c"}]',
    "[{'id':1,'node_id':'a','full_name':'c'}]",
    '[{"id":01,"node_id":"a","full_name":"c"}]',
    '[{"id":1.,"node_id":"a","full_name":"c"}]',
    '[{"id":+1,"node_id":"a","full_name":"c"}]',
    '[{"id":-,"node_id":"a","full_name":"c"}]',
    '[{"id":1,"x":.5,"node_id":"a","full_name":"c"}]',
    '[{"id":1,"x":tru,"node_id":"a","full_name":"c"}]',
    '[{"id":1,"x":nul,"node_id":"a","full_name":"c"}]',
    '[{"id":1,"x":{"a":1],"node_id":"a","full_name":"c"}]',
    '[{"id":1,"x":[1,2},"node_id":"a","full_name":"c"}]',
    '[{"id":1,"x":[1,,2],"node_id":"a","full_name":"c"}]',
    '[{"id":1,"x":{"a" 1},"node_id":"a","full_name":"c"}]',
    '[{"id":1,"x":{"a":1,},"node_id":"a","full_name":"c"}]',
    '[{"id":1,"x":"unterminated,"node_id":"a","full_name":"c"}]',
    // Kept strings are checked in full: raw control characters, bad escapes.
    '[{"id":1,"node_id":"a","full_name":"c\nd"}]',
    '[{"id":1,"node_id":"a\\x","full_name":"c"}]',
    '[{"id":1,"node_id":"a","full_name":"c\\u12G4"}]',
    '[{"id":1,"node_id":"a","full_name":"c","languages_url":"\\"}]',
  ];
  for (const text of garbled) {
    assert.throws(() => JSON.parse(text), SyntaxError, `JSON.parse accepts ${text}`);
    assert.equal(scan(text), undefined, text);
  }
  // Nesting deeper than any listing has is left to JSON.parse.
  const deep = `[{"id":1,"node_id":"a","full_name":"c","x":${'['.repeat(100)}${']'.repeat(100)}}]`;
  assert.equal(scan(deep), undefined);
});

test('repos.jsonl lines read back as written, one line at a time, odd ones through JSON.parse', () => {
  const repos = viaParse(
    JSON.stringify([
      item(1),
      item(2, { full_name: 'a/"b"\\c', node_id: 'é😀' }),
      item(3, { languages_url: 5, fork: true }),
    ]),
  );
  const text = repos.map((r) => `${JSON.stringify(r)}\n`).join('');
  const bytes = Buffer.from(text);
  let start = 0;
  for (const repo of repos) {
    const end = bytes.indexOf(10, start);
    assert.deepEqual(readRepoLine(bytes, start, end), repo);
    start = end + 1;
  }
  const at = (line: string) => readRepoLine(Buffer.from(line), 0, Buffer.byteLength(line));
  // Not the census's layout: JSON.parse gives it as it is.
  assert.deepEqual(at(' {"id":1} '), { id: 1 });
  assert.throws(() => at('{"id":1,"node_id":"a"'), SyntaxError);
  // An unfinished line must not run on into the next one.
  const two = Buffer.from('{"id":1,"node_id":"a",\n"full_name":"b"}\n');
  assert.throws(() => readRepoLine(two, 0, two.indexOf(10)), SyntaxError);
});

/**
 * A proxy in front of the emulator that cuts `cuts` listing pages (each once) cleanly: a chunked
 * 200 that ends properly as HTTP goes, with JSON that ends right after an item (or, gzip'd, half
 * the compressed bytes), which only a reader that checks the body notices.
 */
async function cuttingProxy(target: string, cuts: number) {
  let cut = 0;
  let gzipped = 0;
  const seen = new Set<string>();
  const hopByHop = new Set(['host', 'connection', 'keep-alive', 'content-length']);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const forward: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (!hopByHop.has(k) && v !== undefined) forward[k] = Array.isArray(v) ? v.join(', ') : v;
      }
      const upstream = await request(`${target}${req.url}`, {
        method: req.method as 'GET' | 'POST',
        headers: forward,
        body: chunks.length ? Buffer.concat(chunks) : null,
      });
      const body = Buffer.from(await upstream.body.arrayBuffer());
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(upstream.headers)) {
        if (hopByHop.has(k) || v === undefined) continue;
        const value = Array.isArray(v) ? v.join(', ') : v;
        headers[k] = value.replaceAll(target, `http://127.0.0.1:${port}`);
      }
      const gzip = headers['content-encoding'] === 'gzip';
      if (gzip) gzipped++;
      const listing = req.url?.startsWith('/repositories?') && upstream.statusCode === 200;
      // Each page once (a retry gets it whole), so the cuts reach the walkers, not only the first page.
      if (listing && cut < cuts && body.length > 1000 && !seen.has(req.url!)) {
        seen.add(req.url!);
        cut++;
        // Right after a whole item: `[{...},{...}` is what a short page would look like, unclosed.
        const end = gzip ? body.length >> 1 : body.lastIndexOf('},{"id":', body.length >> 1) + 1;
        res.writeHead(200, headers);
        res.end(body.subarray(0, end));
        return;
      }
      res.writeHead(upstream.statusCode, headers);
      res.end(body);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cutCount: () => cut,
    gzipped: () => gzipped,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Runs a census through a proxy that cuts listing pages; it must equal a clean run. */
async function censusThroughCuts(
  t: Parameters<typeof tempDir>[0],
  compress: boolean,
  cuts: number,
) {
  const dataset = 'synthetic:1500';
  const emu = await emulator(t, { dataset });
  const cleanDir = tempDir(t);
  await runCensus({ api: emu.url, tokens: [token], out: cleanDir });
  const proxy = await cuttingProxy(emu.url.replace(/\/$/, ''), cuts);
  t.after(() => proxy.close());
  const dir = tempDir(t);
  const result = await runCensus({
    api: proxy.url,
    tokens: [token],
    out: dir,
    retry: quickRetry,
    shards: 2,
    compress,
  });
  assert.equal(proxy.cutCount(), cuts);
  assert.ok(result.manifest.retries >= cuts, `retries: ${result.manifest.retries}`);
  assert.equal(result.manifest.counts!.error, 0);
  const a = censusById(cleanDir);
  const b = censusById(dir);
  const noUrl = (m: typeof a.repos) =>
    sorted(m).map(([id, r]) => [id, { ...r, languages_url: '' }]);
  assert.equal(b.repos.size, 1500);
  assert.deepEqual(noUrl(b.repos), noUrl(a.repos));
  assert.deepEqual(sorted(b.languages), sorted(a.languages));
  return proxy;
}

test('a listing page cut off cleanly (a finished HTTP body, unfinished JSON) is retried', async (t) => {
  const proxy = await censusThroughCuts(t, false, 6);
  assert.equal(proxy.gzipped(), 0, 'no gzip on loopback unless asked');
});

test('compress: gzip bodies give the same census, and cut gzip bodies are retried', async (t) => {
  const proxy = await censusThroughCuts(t, true, 6);
  assert.ok(proxy.gzipped() > 15, `gzip'd responses: ${proxy.gzipped()}`);
});

test('the client reads gzip bodies it did not ask for, and stops on an encoding it cannot read', async (t) => {
  const page = Buffer.from(JSON.stringify([item(1)]));
  const server = createServer((req, res) => {
    const headers = { 'content-type': 'application/json; charset=utf-8' };
    if (req.url === '/gzip') res.writeHead(200, { ...headers, 'content-encoding': 'gzip' });
    else res.writeHead(200, { ...headers, 'content-encoding': 'br' });
    res.end(req.url === '/gzip' ? gzipSync(page) : page);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const api = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  const scheduler = new BudgetScheduler(1, githubLimits);
  const client = new ApiClient({ api, tokens: [token], scheduler, compress: false });
  t.after(async () => {
    scheduler.close(new Error('test over'));
    await client.close();
  });
  const res = await client.send({ kind: 'rest', endpoint: 'gzip', url: client.url('gzip') });
  assert.deepEqual(res.body, JSON.parse(page.toString()));
  const error = await client.send({ kind: 'rest', endpoint: 'br', url: client.url('br') }).then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(isCensusError(error, 'ERR_CENSUS_PROTOCOL'), String(error));
  assert.match(error.message, /content-encoding "br"/);
});
