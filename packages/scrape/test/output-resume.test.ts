// Resuming `forage scrape --out`: what an earlier run left in the output file is read back, never
// lost. A file in the other format or with a record that does not read is refused and left as it
// is; only a torn last record (a crash mid-write) is cut.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import {
  csvHeader,
  csvLine,
  existingOutputUrls,
  jsonlLine,
  OutputWriter,
  type Post,
} from '@forage/scrape';
import { Command } from 'commander';
import { forage, inProcess, tempDir } from './fixtures/cli.js';
import { beautifulhugo } from './fixtures/engines/index.js';
import { serveSite } from './fixtures/harness.js';

function post(n: number, extra: Partial<Post> = {}): Post {
  return {
    url: `http://127.0.0.1/post/${n}/`,
    title: `Post ${n}`,
    date: '2023-09-01',
    author: null,
    tags: ['a', 'b'],
    summary: `Summary of post ${n}`,
    text: `A 12" pizza, sliced.\n\nSecond paragraph of post ${n}.`,
    wordCount: 9,
    ...extra,
  };
}

/**
 * `forage scrape URL --out OUT --open` in process, with an opener that records the file instead
 * of launching a browser. Returns the HTML index it wrote.
 */
async function scrapeAndOpen(base: string, out: string, ...flags: string[]): Promise<string> {
  const { scrapeCommand } = await import('../../cli/dist/commands/scrape.js');
  const opened: string[] = [];
  const program = new Command().exitOverride();
  scrapeCommand({
    opener: async (file: string) => {
      opened.push(file);
      return true;
    },
    stdout: new PassThrough(),
    stderr: new PassThrough(),
  })(program);
  await program.parseAsync([
    'node',
    'forage',
    'scrape',
    `${base}/`,
    '--out',
    out,
    '--open',
    ...flags,
  ]);
  assert.deepEqual(opened, [`${out}.html`]);
  return readFileSync(`${out}.html`, 'utf8');
}

/** The post URLs an HTML index links to. */
const listedUrls = (html: string): string[] =>
  [...html.matchAll(/<li><a href="([^"]+)"/g)].map((m) => m[1]!).sort();

/** The URLs in a JSON Lines output. */
const jsonlUrls = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as Post).url)
    .sort();

/** Calls `fn`, which must throw; returns the error. */
function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  assert.fail('expected an error');
}

test('resuming with the other --format is refused with exit 2, the output and journal untouched', async (t) => {
  const { server } = await serveSite(
    beautifulhugo,
    { count: 12, rich: true },
    { perPage: 5, feed: false, sitemap: false },
  );
  t.after(() => server.close());
  const dir = tempDir(t);
  // A name without .csv or .jsonl, so --format alone picks the format.
  const out = join(dir, 'posts.out');
  const first = await forage('scrape', `${server.base}/`, '--out', out, '--max-pages', '8');
  assert.equal(first.code, 0, first.stderr);
  const jsonl = readFileSync(out, 'utf8');
  const journal = readFileSync(`${out}.journal`, 'utf8');
  // Posts have quotes (titles, code): read as CSV one opened a field that never closed, and every
  // line after it was cut from disk as a "torn record" before CSV was appended to the JSONL.
  assert.ok(jsonl.includes('\\"'), 'the fixture should put a quote in the JSONL');

  const csv = await forage('scrape', `${server.base}/`, '--out', out, '--format', 'csv');
  assert.equal(csv.code, 2, csv.stderr);
  assert.equal(csv.stderr.trim().split('\n').length, 1, csv.stderr);
  assert.match(csv.stderr, /--format csv does not match .*posts\.out, which holds jsonl/);
  assert.match(csv.stderr, /run again with --format jsonl/);
  assert.equal(readFileSync(out, 'utf8'), jsonl);
  assert.equal(readFileSync(`${out}.journal`, 'utf8'), journal);

  // The same the other way: a CSV output resumed as JSON Lines (the default) is refused too.
  const csvOut = join(dir, 'csv.out');
  const csvFirst = await forage(
    'scrape',
    `${server.base}/`,
    '--out',
    csvOut,
    '--format',
    'csv',
    '--max-pages',
    '8',
  );
  assert.equal(csvFirst.code, 0, csvFirst.stderr);
  const csvText = readFileSync(csvOut, 'utf8');
  const back = await forage('scrape', `${server.base}/`, '--out', csvOut);
  assert.equal(back.code, 2, back.stderr);
  assert.match(back.stderr, /--format jsonl does not match .*csv\.out, which holds csv/);
  assert.equal(readFileSync(csvOut, 'utf8'), csvText);

  // With the right format it resumes, and the file stays one format.
  const resumed = await forage('scrape', `${server.base}/`, '--out', out);
  assert.equal(resumed.code, 0, resumed.stderr);
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 12);
  for (const line of lines) assert.equal(typeof (JSON.parse(line) as Post).url, 'string');
});

test('OutputWriter looks at the size of the file, not its contents: the CSV header goes only into an empty one', (t) => {
  const dir = tempDir(t);
  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, '');
  const fresh = new OutputWriter(empty, 'csv');
  fresh.write(post(1));
  fresh.close();
  assert.equal(readFileSync(empty, 'utf8'), csvHeader() + csvLine(post(1)));
  // A file past 2 GiB (sparse here, so it costs no disk) cannot be read into one buffer at all:
  // opening it used to throw ERR_FS_FILE_TOO_LARGE before anything was appended.
  const big = join(dir, 'big.csv');
  writeFileSync(big, '');
  truncateSync(big, 3 * 2 ** 30);
  const writer = new OutputWriter(big, 'csv');
  writer.write(post(2));
  writer.close();
  assert.equal(statSync(big).size, 3 * 2 ** 30 + csvLine(post(2)).length);
});

test('existingOutputUrls refuses a file in the other format and leaves it as it is', (t) => {
  const dir = tempDir(t);
  const jsonl = join(dir, 'posts.jsonl');
  const text = [1, 2, 3].map((n) => jsonlLine(post(n))).join('');
  writeFileSync(jsonl, text);
  const error = thrown(() => existingOutputUrls(jsonl, 'csv'));
  assert.equal(error.code, 'ERR_SCRAPE_BAD_OPTION');
  assert.match(error.message, /posts\.jsonl holds jsonl records, not csv/);
  assert.equal(readFileSync(jsonl, 'utf8'), text);

  const csv = join(dir, 'posts.csv');
  const table = csvHeader() + [1, 2].map((n) => csvLine(post(n))).join('');
  writeFileSync(csv, table);
  assert.equal(thrown(() => existingOutputUrls(csv, 'jsonl')).code, 'ERR_SCRAPE_BAD_OPTION');
  assert.equal(readFileSync(csv, 'utf8'), table);
});

test('only a torn last JSON line is cut; a bad line before it is refused by line number', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'posts.jsonl');
  const good = [1, 2, 3].map((n) => jsonlLine(post(n)));

  writeFileSync(file, `${good.join('')}{"url":"http://127.0.0.1/po`);
  assert.equal(existingOutputUrls(file, 'jsonl').size, 3);
  assert.equal(readFileSync(file, 'utf8'), good.join(''), 'the torn line is cut');

  // Not JSON, and JSON that is not a post, in the middle: nothing is cut.
  for (const bad of ['not json at all\n', '[1, 2]\n']) {
    const text = good[0]! + bad + good[1]! + good[2]!;
    writeFileSync(file, text);
    const error = thrown(() => existingOutputUrls(file, 'jsonl'));
    assert.match(error.message, /posts\.jsonl line 2 is not a jsonl record/, bad);
    assert.equal(readFileSync(file, 'utf8'), text);
  }
  // A bad last line that ends in a line break was written whole: refused, not cut.
  const text = `${good.join('')}{"oops"\n`;
  writeFileSync(file, text);
  assert.match(thrown(() => existingOutputUrls(file, 'jsonl')).message, /line 4 /);
  assert.equal(readFileSync(file, 'utf8'), text);
});

test('only a torn last CSV record is cut; a record that does not read is refused by line number', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'posts.csv');
  // Each record spans three lines: the text has a blank line in it.
  const good = csvHeader() + [1, 2, 3].map((n) => csvLine(post(n))).join('');
  const torn = csvLine(post(4));

  // A crash in the middle of the last record, inside its quoted multi-line text.
  const cut = torn.indexOf('Second');
  writeFileSync(file, good + torn.slice(0, cut));
  assert.equal(existingOutputUrls(file, 'csv').size, 3);
  assert.equal(readFileSync(file, 'utf8'), good, 'the torn record is cut');
  // ... and one that lost only its line break.
  writeFileSync(file, good + torn.slice(0, -2));
  assert.equal(existingOutputUrls(file, 'csv').size, 3);
  assert.equal(readFileSync(file, 'utf8'), good);

  const second = csvLine(post(2));
  const cases: [string, string, RegExp][] = [
    // A quote inside an unquoted cell: read leniently it opened a field that swallowed the rest.
    ['stray quote', second.replace('Post 2', 'Post "2'), /line 5 /],
    ['text after a closing quote', second.replace('"A 12', '"A" 12'), /line 5 /],
    ['too few cells', 'http://127.0.0.1/x,title\r\n', /line 5 /],
    ['too many cells', second.replace('Post 2', 'Post,2'), /line 5 /],
    ['JSON Lines', jsonlLine(post(2)), /line 5 /],
  ];
  const first = csvHeader() + csvLine(post(1));
  for (const [what, bad, line] of cases) {
    const text = first + bad + csvLine(post(3));
    writeFileSync(file, text);
    const error = thrown(() => existingOutputUrls(file, 'csv'));
    assert.match(error.message, /posts\.csv line \d+ is not a csv record/, what);
    assert.match(error.message, line, what);
    assert.equal(readFileSync(file, 'utf8'), text, `${what}: the file was changed`);
  }
  // A file that does not start with the header is not forage's CSV.
  writeFileSync(file, csvLine(post(1)));
  assert.match(thrown(() => existingOutputUrls(file, 'csv')).message, /line 1 /);
  assert.ok(existsSync(file));
});

test("--open on a resumed or finished scrape lists every post in --out, not only this run's", async (t) => {
  const { server, site } = await serveSite(
    beautifulhugo,
    { count: 12 },
    { perPage: 5, feed: false, sitemap: false },
  );
  t.after(() => server.close());
  const out = join(tempDir(t), 'posts.jsonl');
  const first = await forage('scrape', `${server.base}/`, '--out', out, '--max-pages', '8');
  assert.equal(first.code, 0, first.stderr);
  const before = jsonlUrls(out).length;
  assert.ok(before > 0 && before < 12);

  // Resumed: the posts of the first run were skipped by the "already in --out" check before
  // they reached the index, so it listed only this run's.
  const resumed = await scrapeAndOpen(server.base, out);
  const all = site.truth.map((p) => p.url).sort();
  assert.deepEqual(jsonlUrls(out), all);
  assert.deepEqual(listedUrls(resumed), all);
  assert.match(resumed, /<h1>12 posts from /);

  // Finished: this run emits nothing new, and the index used to say "0 posts".
  const again = await scrapeAndOpen(server.base, out);
  assert.deepEqual(listedUrls(again), all);
  assert.match(again, /<h1>12 posts from /);
});

test('--open lists posts only the output has (the journal lost them), read back from CSV', async (t) => {
  const { server, site } = await serveSite(
    beautifulhugo,
    { count: 12, rich: true },
    { perPage: 5, feed: false, sitemap: false },
  );
  t.after(() => server.close());
  const out = join(tempDir(t), 'posts.csv');
  const first = await forage('scrape', `${server.base}/`, '--out', out);
  assert.equal(first.code, 0, first.stderr);

  // A crash can lose the journal's last batch after the output got the post (the output is
  // written at once, the journal once per tick). Drop the post records of two posts, one of
  // them the title with quotes and markup, so those exist only in posts.csv.
  const special = site.truth.find((p) => p.title.includes('"quotes"'))!;
  const lost = new Set([special.url, site.truth[0]!.url]);
  const lines = readFileSync(`${out}.journal`, 'utf8').split('\n');
  const kept = lines.filter(
    (line) => !(line.startsWith('{"k":"post"') && lost.has(JSON.parse(line).post.url)),
  );
  assert.equal(kept.length, lines.length - 2);
  writeFileSync(`${out}.journal`, kept.join('\n'));

  const html = await scrapeAndOpen(server.base, out);
  assert.deepEqual(listedUrls(html), site.truth.map((p) => p.url).sort());
  assert.ok(
    html.includes('&lt;script&gt; tags &amp; &quot;quotes&quot;</a>'),
    'title read from CSV',
  );
  assert.ok(!html.includes('<script>'));
  assert.equal(existingOutputUrls(out, 'csv').size, 12, 'no post written twice');
});

test('an --out that cannot be written is a usage error (exit 2) naming --out and the fix', async (t) => {
  const { server } = await serveSite(beautifulhugo, { count: 2 });
  t.after(() => server.close());
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a-file'), 'not a directory\n');
  const cases: [string, RegExp][] = [
    // This used to fail with exit 1 and a bare "ENOENT: no such file or directory, open '...'".
    [join(dir, 'missing', 'posts.jsonl'), /\(its directory does not exist\)/],
    [join(dir, 'a-file', 'posts.jsonl'), /\(a part of its path is not a directory\)/],
  ];
  const { main } = await import('forage');
  for (const [out, why] of cases) {
    const { code, stderr } = await inProcess(() =>
      main(['node', 'forage', 'scrape', `${server.base}/`, '--out', out]),
    );
    assert.equal(code, 2, stderr);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.ok(stderr.includes(`--out ${out} cannot be written`), stderr);
    assert.match(stderr, why);
    assert.match(stderr, /create its directory or choose a writable path/);
    assert.ok(!existsSync(`${out}.journal`));
  }
  assert.ok(!existsSync(join(dir, 'missing')));
  // Nothing was fetched: the output is opened before the scrape starts.
  assert.equal(server.log.length, 0);
});

test('a bad URL with --out leaves no file behind, so the corrected command is not refused', async (t) => {
  const { server } = await serveSite(beautifulhugo, { count: 3 });
  t.after(() => server.close());
  const out = join(tempDir(t), 'posts.jsonl');
  const { main } = await import('forage');
  for (const url of ['notaurl', 'ftp://example.com/']) {
    const bad = await inProcess(() => main(['node', 'forage', 'scrape', url, '--out', out]));
    assert.equal(bad.code, 2, bad.stderr);
    // This used to create an empty posts.jsonl (no journal), which the next run then refused
    // as "already exists and has no journal".
    assert.ok(!existsSync(out), `${url}: --out was created`);
    assert.ok(!existsSync(`${out}.journal`), `${url}: the journal was created`);
  }
  const good = await forage('scrape', `${server.base}/`, '--out', out);
  assert.equal(good.code, 0, good.stderr);
  assert.equal(jsonlUrls(out).length, 3);
});

test('an --out that is a directory, empty, or whose journal is a directory is refused by name', async (t) => {
  const { server } = await serveSite(beautifulhugo, { count: 2 });
  t.after(() => server.close());
  const dir = tempDir(t);
  mkdirSync(join(dir, 'posts'));
  mkdirSync(join(dir, 'odd.jsonl.journal'));
  const cases: [string, RegExp][] = [
    // This used to say "already exists and has no journal ... delete it" about a directory.
    [join(dir, 'posts'), /^forage: error: --out .*posts is a directory: give a file path/],
    // This used to write the posts to stdout, as if --out had not been given.
    ['', /^forage: error: --out is empty: give a file path/],
    // This used to fail with a bare "EISDIR: illegal operation on a directory, read".
    [join(dir, 'odd.jsonl'), /journal .*odd\.jsonl\.journal is a directory/],
  ];
  const { main } = await import('forage');
  for (const [out, message] of cases) {
    const { code, stderr } = await inProcess(() =>
      main(['node', 'forage', 'scrape', `${server.base}/`, '--out', out]),
    );
    assert.equal(code, 2, `${out}: ${stderr}`);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, message);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['odd.jsonl.journal', 'posts']);
  assert.equal(server.log.length, 0);
});

test('resuming an --out that another URL wrote is a usage error, before anything is written', async (t) => {
  const { server } = await serveSite(beautifulhugo, { count: 3 });
  t.after(() => server.close());
  const out = join(tempDir(t), 'posts.jsonl');
  const first = await forage('scrape', `${server.base}/`, '--out', out);
  assert.equal(first.code, 0, first.stderr);
  const before = readFileSync(out, 'utf8');
  const journal = readFileSync(`${out}.journal`, 'utf8');
  const other = server.base.replace('127.0.0.1', 'localhost');
  // This used to print "resuming from ..." and then fail with exit 1.
  const { main } = await import('forage');
  const { code, stderr } = await inProcess(() =>
    main(['node', 'forage', 'scrape', `${other}/`, '--out', out]),
  );
  assert.equal(code, 2, stderr);
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
  assert.ok(stderr.includes(`belongs to a scrape of ${server.base}/, not ${other}/`), stderr);
  assert.match(stderr, /use another output file or delete the journal/);
  assert.equal(readFileSync(out, 'utf8'), before);
  assert.equal(readFileSync(`${out}.journal`, 'utf8'), journal);
});

test("a second scrape into the same --out while the first runs is refused; a dead one's lock is taken over", async (t) => {
  const { spawn } = await import('node:child_process');
  const { bin } = await import('./fixtures/cli.js');
  const { server, site } = await serveSite(beautifulhugo, { count: 12 }, {}, { latencyMs: 40 });
  t.after(() => server.close());
  const out = join(tempDir(t), 'posts.jsonl');
  // The first scrape, slowed by the server's latency, holds --out while it runs.
  const first = spawn(process.execPath, [
    bin,
    'scrape',
    `${server.base}/`,
    '--out',
    out,
    '--concurrency',
    '1',
  ]);
  t.after(() => first.kill());
  const firstDone = new Promise<number | null>((resolve) => first.on('close', resolve));
  for (let i = 0; i < 200 && !existsSync(`${out}.lock`); i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.ok(existsSync(`${out}.lock`), 'the first scrape took the lock');
  // This used to run alongside, and both wrote every post: 24 lines for 12 posts.
  const second = await forage('scrape', `${server.base}/`, '--out', out);
  assert.equal(second.code, 2, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(
      `being written by another forage scrape \\(process ${first.pid}\\): wait for it to end, or choose another --out`,
    ),
  );
  assert.equal(await firstDone, 0);
  assert.ok(!existsSync(`${out}.lock`), 'released at the end');
  assert.deepEqual(jsonlUrls(out), site.truth.map((p) => p.url).sort());

  // A lock left by a scrape that was killed (its process is gone) does not block the next one.
  const gone = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => gone.on('close', resolve));
  writeFileSync(`${out}.lock`, `${JSON.stringify({ pid: gone.pid, hostname: hostname() })}\n`);
  const third = await forage('scrape', `${server.base}/`, '--out', out);
  assert.equal(third.code, 0, third.stderr);
  assert.ok(!existsSync(`${out}.lock`));
  assert.equal(jsonlUrls(out).length, 12);
});
