import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Post } from '@forage/scrape';
import { Command } from 'commander';
import { bin, forage, inProcess, tempDir } from './fixtures/cli.js';
import { beautifulhugo, wordpress } from './fixtures/engines/index.js';
import { assertSamePosts, serveSite } from './fixtures/harness.js';

const readJsonl = (file: string): Post[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Post);

test('forage scrape URL --out FILE.jsonl writes every post and a summary', async (t) => {
  const { server, site } = await serveSite(wordpress, { count: 17, rich: true });
  t.after(() => server.close());
  const out = join(tempDir(t), 'posts.jsonl');
  const r = await forage('scrape', `${server.base}/`, '--out', out, '--concurrency', '4');
  assert.equal(r.code, 0, r.stderr);
  assertSamePosts(readJsonl(out), site.truth, 'cli jsonl');
  assert.match(
    r.stderr,
    /^forage scrape: 17 posts from \d+ pages \(4 index\) in [\d.]+ s; 0 errors; 0 retries; skipped none; wrote /,
  );
  assert.equal(r.stdout, '');
});

test('without --out, posts stream to stdout; --format csv writes RFC 4180 CSV', async (t) => {
  const { server, site } = await serveSite(beautifulhugo, { count: 7, rich: true });
  t.after(() => server.close());
  const r = await forage('scrape', `${server.base}/`);
  assert.equal(r.code, 0, r.stderr);
  assertSamePosts(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Post),
    site.truth,
    'stdout',
  );

  const csv = join(tempDir(t), 'posts.csv');
  const c = await forage('scrape', `${server.base}/`, '--out', csv);
  assert.equal(c.code, 0, c.stderr);
  const text = readFileSync(csv, 'utf8');
  assert.ok(text.startsWith('url,title,date,author,tags,summary,text,word_count\r\n'));
  const { existingOutputUrls } = await import('@forage/scrape');
  assert.deepEqual([...existingOutputUrls(csv, 'csv')].sort(), site.truth.map((p) => p.url).sort());
  // A title with quotes and a comma-free text with newlines are quoted, quotes doubled.
  assert.ok(text.includes('"<script> tags & ""quotes"""'));
});

test('an interrupted scrape resumes from its journal: nothing fetched twice, no post written twice', async (t) => {
  const { server, site } = await serveSite(
    beautifulhugo,
    { count: 22 },
    { perPage: 5, feed: false, sitemap: false },
  );
  t.after(() => server.close());
  const out = join(tempDir(t), 'posts.jsonl');
  const first = await forage(
    'scrape',
    `${server.base}/`,
    '--out',
    out,
    '--max-pages',
    '9',
    '--concurrency',
    '2',
  );
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stderr,
    /not finished \(--max-pages\): run the same command again to continue/,
  );
  const partial = readJsonl(out);
  assert.ok(partial.length > 0 && partial.length < 22);

  // Simulate a crash mid-write: the last post lost from the output, half a line left behind.
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  writeFileSync(out, `${lines.slice(0, -1).join('\n')}\n{"url":"http://torn`);

  const before = server.log.length;
  const second = await forage('scrape', `${server.base}/`, '--out', out);
  assert.equal(second.code, 0, second.stderr);
  assert.match(
    second.stderr,
    /resuming from .*posts\.jsonl\.journal \(\d+ posts already scraped\)/,
  );
  assertSamePosts(readJsonl(out), site.truth, 'resumed');
  // robots.txt, the sitemap and the feed are read again by design; pages are not.
  const again = new Set(['/robots.txt', '/sitemap.xml', '/index.xml']);
  const pages = server.log.filter((r) => !again.has(r.path));
  const paths = pages.map((r) => r.path);
  assert.equal(new Set(paths).size, paths.length, 'a page was fetched by both runs');
  assert.ok(server.log.length > before);

  const third = await forage('scrape', `${server.base}/`, '--out', out);
  assert.equal(third.code, 0);
  assert.match(third.stderr, /0 posts \(\+22 from before\)/);
  assert.equal(readJsonl(out).length, 22);
});

test('bad usage exits 2 with one line naming the flag; a site with no posts exits 1', async (t) => {
  const { server } = await serveSite(beautifulhugo, { count: 2 });
  t.after(() => server.close());
  const dir = tempDir(t);
  const cases: [string[], RegExp][] = [
    [['--format', 'xml'], /--format must be jsonl or csv, got "xml"/],
    [['--concurrency', '0'], /--concurrency must be a whole number >= 1, got "0"/],
    [
      ['--delay-ms', 'soon'],
      /--delay-ms must be a whole number >= 0 and <= 2147483647, got "soon"/,
    ],
    [['--max-pages', '-3'], /--max-pages must be a whole number >= 1/],
    [
      ['--selectors', join(dir, 'nope.json')],
      /--selectors: cannot read selectors file .*nope\.json/,
    ],
  ];
  writeFileSync(join(dir, 'bad.json'), '{"index": {"post": "div["}}');
  writeFileSync(join(dir, 'taken.jsonl'), 'precious data\n');
  cases.push(
    [['--selectors', join(dir, 'bad.json')], /"index\.post" is not valid CSS/],
    [['--out', join(dir, 'taken.jsonl')], /already exists and has no journal/],
  );
  // In-process through main(), which maps errors to exit codes, to save a process per case.
  const { main } = await import('forage');
  for (const [flags, message] of cases) {
    const { code, stderr } = await inProcess(() =>
      main(['node', 'forage', 'scrape', `${server.base}/`, ...flags]),
    );
    assert.equal(code, 2, `${flags.join(' ')}: ${stderr}`);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, message);
  }
  assert.equal(readFileSync(join(dir, 'taken.jsonl'), 'utf8'), 'precious data\n');
  const url = await forage('scrape', 'ftp://example.com/');
  assert.equal(url.code, 2);
  assert.match(url.stderr, /only http: and https: are/);

  server.files.set('/empty/', { body: '<html><body><p>No posts here.</p></body></html>' });
  const none = await forage('scrape', `${server.base}/empty/`);
  assert.equal(none.code, 1);
  assert.equal(none.stderr.trim().split('\n').length, 1, none.stderr);
  assert.match(none.stderr, /no posts found .* Tried: /);
});

test('--open writes an escaped HTML index and hands it to the opener (never a real browser)', async (t) => {
  const { server, site } = await serveSite(beautifulhugo, { count: 8 });
  t.after(() => server.close());
  const { scrapeCommand } = await import('../../cli/dist/commands/scrape.js');
  const out = join(tempDir(t), 'posts.jsonl');
  const opened: string[] = [];
  const stderr = new PassThrough();
  let log = '';
  stderr.on('data', (d) => (log += d));
  const program = new Command().exitOverride();
  scrapeCommand({
    opener: async (file: string) => {
      opened.push(file);
      return true;
    },
    stdout: new PassThrough(),
    stderr,
  })(program);
  await program.parseAsync(['node', 'forage', 'scrape', `${server.base}/`, '--out', out, '--open']);
  assert.deepEqual(opened, [`${out}.html`]);
  assert.match(log, /opened .*posts\.jsonl\.html/);
  const html = readFileSync(`${out}.html`, 'utf8');
  assert.match(html, /<h1>8 posts from http:\/\/127\.0\.0\.1:\d+\/<\/h1>/);
  assert.ok(html.includes('&lt;script&gt; tags &amp; &quot;quotes&quot;'));
  assert.ok(!html.includes('<script> tags'));
  for (const p of site.truth) assert.ok(html.includes(`href="${p.url}"`));

  // No browser: the path is printed instead.
  const headless = new Command().exitOverride();
  let said = '';
  const err2 = new PassThrough();
  err2.on('data', (d) => (said += d));
  scrapeCommand({ opener: async () => false, stdout: new PassThrough(), stderr: err2 })(headless);
  await headless.parseAsync(['node', 'forage', 'scrape', `${server.base}/`, '--open']);
  const shown = /no browser available; the index is at (.*forage-scrape-\w+\/index\.html)\n/.exec(
    said,
  );
  assert.ok(shown, said);
  // In a directory of its own that only this user can enter, not straight in the shared /tmp.
  const { dirname } = await import('node:path');
  const { rmSync, statSync } = await import('node:fs');
  assert.equal(statSync(dirname(shown[1]!)).mode & 0o777, 0o700);
  assert.ok(readFileSync(shown[1]!, 'utf8').startsWith('<!DOCTYPE html>'));
  rmSync(dirname(shown[1]!), { recursive: true, force: true });
});

test('Ctrl-C stops the scrape with exit 130 and a resumable journal; a closed pipe ends it quietly', async (t) => {
  const { server, site } = await serveSite(
    beautifulhugo,
    { count: 40 },
    { perPage: 5, feed: false, sitemap: false },
    { latencyMs: 40 },
  );
  t.after(() => server.close());
  const out = join(tempDir(t), 'posts.jsonl');
  const child = spawn(
    process.execPath,
    [bin, 'scrape', `${server.base}/`, '--out', out, '--concurrency', '2'],
    { env: { ...process.env, BROWSER: 'none' } },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // Interrupt once a few posts are in.
  while (server.log.filter((r) => r.path.startsWith('/post/')).length < 6)
    await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGINT');
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /not finished \(interrupted\): run the same command again to continue/);
  const partial = readJsonl(out).length;
  assert.ok(partial < 40);
  const again = await forage('scrape', `${server.base}/`, '--out', out);
  assert.equal(again.code, 0, again.stderr);
  assertSamePosts(readJsonl(out), site.truth, 'after Ctrl-C');

  // `forage scrape URL | head -1`
  const piped = spawn(process.execPath, [bin, 'scrape', `${server.base}/`]);
  let err = '';
  piped.stderr.on('data', (d) => (err += d));
  piped.stdout.once('data', () => piped.stdout.destroy());
  const pipedCode = await new Promise((resolve) => piped.on('close', resolve));
  assert.equal(pipedCode, 0, err);
  assert.doesNotMatch(err, /EPIPE|Error:/);
});

test('a start URL without its scheme is refused with the full URL to give instead', async () => {
  const { main } = await import('forage');
  const cases: [string, string][] = [
    // These used to say "localhost: URLs are not fetched" and "give a full address such as
    // https://example.com/blog/", whatever was typed.
    ['localhost:8080', 'http://localhost:8080/'],
    ['127.0.0.1:8080/blog/', 'http://127.0.0.1:8080/blog/'],
    ['example.com', 'https://example.com/'],
    ['blog.example.com:8443/posts', 'https://blog.example.com:8443/posts'],
  ];
  for (const [typed, meant] of cases) {
    const { code, stderr } = await inProcess(() => main(['node', 'forage', 'scrape', typed]));
    assert.equal(code, 2, stderr);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.ok(
      stderr.includes(`"${typed}" has no http:// or https://; did you mean ${meant}?`),
      stderr,
    );
  }
  // Other schemes and junk keep their messages.
  for (const [typed, message] of [
    ['ftp://example.com/', /ftp: URLs are not fetched .* only http: and https: are/],
    ['mailto:me@example.com', /mailto: URLs are not fetched/],
    ['http//example.com', /"http\/\/example\.com" is not a URL; give a full address such as/],
  ] as const) {
    const { code, stderr } = await inProcess(() => main(['node', 'forage', 'scrape', typed]));
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
  }
});

test('CSV posts shown on a terminal cannot drive it: control characters in titles become ?', async (t) => {
  const esc = '\u001b';
  const title = `Hi ${esc}]8;;http://evil.example/${esc}\\link${esc}]8;;${esc}\\ ${esc}[2J\u009b31m`;
  const run = await scrapeOnePost(t, `<h1>${title}</h1><p>Text ${esc}[2J here.</p>`, [
    '--format',
    'csv',
  ]);
  const terminal = await run(true);
  assert.match(terminal, /^url,title,/);
  assert.ok(terminal.includes('Hi ?]8;;http://evil.example/?\\link'), terminal);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point
  assert.doesNotMatch(terminal, /[\u001b\u009b]/);
  assert.ok(terminal.endsWith('\r\n'), 'line ends are kept');
  // Into a pipe or a file, the data stays as the site wrote it.
  assert.ok((await run(false)).includes(title));
});

test('JSON Lines shown on a terminal cannot drive it either: C1 controls, which JSON leaves as they are, are escaped', async (t) => {
  // U+009B is the one-byte CSI: JSON.stringify escapes ESC (U+001B) but not it.
  const title = 'Hi \u009b2J\u009d0;owned\u009c there';
  const run = await scrapeOnePost(t, `<h1>${title}</h1><p>Text here.</p>`, []);
  const terminal = await run(true);
  assert.doesNotMatch(terminal, /[\u0080-\u009f]/);
  // Still the same JSON: the title reads back as the site wrote it.
  assert.equal((JSON.parse(terminal.trim()) as Post).title, title);
  // Into a pipe or a file, the bytes are JSON.stringify's, as before.
  assert.ok((await run(false)).includes(title));
});

/**
 * Serves a one-post blog on loopback whose post's article holds `article` (HTML as a hostile
 * site would write it), and returns a function that scrapes it with `flags`, stdout a terminal
 * or not, and gives what was written to stdout.
 */
async function scrapeOnePost(
  t: { after: (fn: () => void) => void },
  article: string,
  flags: string[],
): Promise<(isTTY: boolean) => Promise<string>> {
  const { createServer } = await import('node:http');
  const srv = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    if (req.url === '/')
      return res.end('<article class="post"><h2><a href="/p1/">One</a></h2></article>');
    res.end(`<article>${article}</article>`);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => srv.close());
  const base = `http://127.0.0.1:${(srv.address() as { port: number }).port}/`;
  const { scrapeCommand } = await import('../../cli/dist/commands/scrape.js');
  return async (isTTY) => {
    const stdout = Object.assign(new PassThrough(), { isTTY });
    let shown = '';
    stdout.on('data', (d) => (shown += d));
    const program = new Command().exitOverride();
    scrapeCommand({ opener: async () => false, stdout, stderr: new PassThrough() })(program);
    await program.parseAsync(['node', 'forage', 'scrape', base, ...flags, '--no-robots']);
    return shown;
  };
}
