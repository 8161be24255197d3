import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Post, ScrapeError } from '@forage/scrape';
import { beautifulhugo } from './fixtures/engines/index.js';
import { assertSamePosts, scrapeAll, serveSite } from './fixtures/harness.js';
import { serve } from './fixtures/server.js';
import { buildSite, makePosts } from './fixtures/site.js';

/** Encodes text as windows-1252 (which WHATWG also uses for the ISO-8859-1 label). */
function win1252(text: string): Buffer {
  const special: Record<string, number> = {
    '–': 0x96,
    '—': 0x97,
    '’': 0x92,
    '“': 0x93,
    '”': 0x94,
    '€': 0x80,
  };
  return Buffer.from(
    [...text].map((c) => special[c] ?? (c.charCodeAt(0) <= 0xff ? c.charCodeAt(0) : 0x3f)),
  );
}

/**
 * A beautifulhugo blog with everything that goes wrong on real sites: flaky and rate-limited
 * posts, three kinds of wrong encoding, broken HTML, a moved post, a post only the sitemap
 * lists, and index entries that are 404s, redirect loops, PDFs, robots-disallowed, off-site,
 * empty or duplicated.
 */
async function brokenBlog() {
  const server = await serve();
  const posts = makePosts({ count: 14, rich: true });
  const latin = { html: 'Café crème &amp; naïve – déjà vu', text: 'Café crème & naïve – déjà vu' };
  for (const i of [5, 6, 7]) posts[i]!.title = latin;
  const site = buildSite(beautifulhugo, posts, {
    base: server.base,
    siteTitle: 'Broken Blog',
    perPage: 5,
    feed: true,
    sitemap: true,
  });
  for (const [path, res] of site.files) server.files.set(path, res);
  const path = (i: number) => beautifulhugo.postPath(posts[i]!);
  const html = (i: number) => String(server.files.get(path(i))!.body);

  // Flaky: 500 once, then fine. Busy: 429 with Retry-After: 1, then fine.
  server.hooks.set(path(2), (_req, res, hit) => hit === 1 && !!res.writeHead(500).end('oops'));
  server.hooks.set(
    path(3),
    (_req, res, hit) => hit === 1 && !!res.writeHead(429, { 'retry-after': '1' }).end('slow down'),
  );
  // windows-1252 declared in a meta tag only; ISO-8859-1 in the header (the meta lies); nothing declared.
  server.files.set(path(5), {
    type: 'text/html',
    body: win1252(html(5).replace('<meta charset="utf-8">', '<meta charset="windows-1252">')),
  });
  server.files.set(path(6), { type: 'text/html; charset=ISO-8859-1', body: win1252(html(6)) });
  server.files.set(path(7), {
    type: 'text/html',
    body: win1252(html(7).replace('<meta charset="utf-8">', '')),
  });
  // Broken HTML: no closing </p> or </article>.
  server.files.set(path(8), { body: html(8).replace(/<\/p>|<\/article>/g, '') });
  // Moved: the index links to an old address that redirects.
  const moved = path(9).replace('/post/', '/old/');
  server.hooks.set(moved, (_req, res) => !!res.writeHead(301, { location: path(9) }).end());
  let page1 = String(server.files.get('/')!.body).replace(
    new RegExp(`${server.base}${path(9)}`, 'g'),
    server.base + moved,
  );
  // Hidden: only the sitemap and the feed list post 12 (index page 3 lost its entry).
  const page3 = String(server.files.get('/page/3/')!.body);
  const hiddenEntry = new RegExp(
    `<article class="post-preview">\\s*<a href="${server.base}${path(12)}">[\\s\\S]*?</article>`,
  );
  assert.match(page3, hiddenEntry);
  server.files.set('/page/3/', { body: page3.replace(hiddenEntry, '') });

  const junk = (href: string, title: string) =>
    `<article class="post-preview"><a href="${href}"><h2 class="post-title">${title}</h2></a><div class="post-entry"><p>Junk entry.</p></div></article>`;
  page1 = page1.replace(
    '<div class="posts-list">',
    `<div class="posts-list">${[
      junk('/post/missing/', 'Missing'),
      junk('/post/loop/', 'Loop'),
      junk('/files/paper.pdf', 'A PDF'),
      junk('/private/secret/', 'Secret'),
      junk('http://example.invalid/post/x/', 'Elsewhere'),
      junk('/post/away/', 'Redirects away'),
      junk('/post/empty/', 'Empty'),
    ].join('\n')}`,
  );
  // A featured post shown twice on the front page.
  const first = new RegExp(
    `<article class="post-preview">\\s*<a href="${server.base}${path(0)}">[\\s\\S]*?</article>`,
  ).exec(page1)![0];
  page1 = page1.replace('<div class="posts-list">', `<div class="posts-list">${first}`);
  server.files.set('/', { body: page1 });
  server.hooks.set(
    '/post/loop/',
    (_req, res) => !!res.writeHead(302, { location: '/post/loop/' }).end(),
  );
  server.hooks.set(
    '/post/away/',
    (_req, res) => !!res.writeHead(302, { location: 'http://example.invalid/' }).end(),
  );
  server.files.set('/files/paper.pdf', {
    type: 'application/pdf',
    body: Buffer.from('%PDF-1.4 not a page'),
  });
  server.files.set('/private/secret/', { body: html(1) });
  server.files.set('/post/empty/', { body: '' });
  server.files.set('/robots.txt', {
    type: 'text/plain',
    body: 'User-agent: *\nDisallow: /private/\n',
  });
  return { server, site };
}

test('a blog full of broken pages: every real post, every field; every failure counted, none fatal', async (t) => {
  const { server, site } = await brokenBlog();
  t.after(() => server.close());
  const { posts, run } = await scrapeAll(`${server.base}/`);
  assertSamePosts(posts, site.truth, 'broken blog');
  const s = run.stats;
  // 404, redirect loop: errors. PDF, robots, off-site (link and redirect), empty: skips.
  assert.equal(s.errors, 2, JSON.stringify(s.errorSamples));
  assert.ok(
    s.errorSamples.some((e) => /HTTP 404/.test(e.reason) && e.url.endsWith('/post/missing/')),
  );
  assert.ok(s.errorSamples.some((e) => /more than 10 redirects/.test(e.reason)));
  assert.deepEqual(
    {
      notHtml: s.skipped['not-html'],
      robots: s.skipped.robots,
      offSite: s.skipped['off-site'],
      empty: s.skipped.empty,
    },
    { notHtml: 1, robots: 1, offSite: 2, empty: 1 },
  );
  assert.ok(s.retries >= 2, 'the 500 and the 429 were retried');
  assert.equal(server.hits('/private/secret/'), 0, 'robots.txt disallowed it');
  assert.equal(server.hits('/post/loop/'), 11, 'one request plus at most 10 redirects');
  // Retry-After: 1 was honoured.
  const busy = server.log.filter((r) => r.path === beautifulhugo.postPath(site.posts[3]!));
  assert.equal(busy.length, 2);
  assert.ok(busy[1]!.at - busy[0]!.at >= 900, `retried after ${busy[1]!.at - busy[0]!.at} ms`);
  assert.equal(s.complete, true);
});

test('timeouts and the size limit fail those pages only', async (t) => {
  const { server, site } = await serveSite(
    beautifulhugo,
    { count: 6 },
    { perPage: 6, feed: false, sitemap: false },
  );
  t.after(() => server.close());
  const slow = beautifulhugo.postPath(site.posts[1]!);
  server.hooks.set(slow, () => true); // never answers
  const big = beautifulhugo.postPath(site.posts[2]!);
  server.files.set(big, { body: `${server.files.get(big)!.body}<!-- ${'x'.repeat(60_000)} -->` });
  const { posts, run } = await scrapeAll(`${server.base}/`, {
    timeoutMs: 1000,
    retry: { retries: 1, baseDelayMs: 10 },
  });
  assert.equal(posts.length, 5);
  assert.equal(run.stats.errors, 1);
  assert.match(run.stats.errorSamples[0]!.reason, /did not answer within 1000 ms/);

  const small = await scrapeAll(`${server.base}/`, {
    maxBytes: 40_000,
    timeoutMs: 1000,
    retry: { retries: 0 },
  });
  assert.equal(small.posts.length, 4);
  assert.ok(!small.posts.some((p) => p.url.endsWith(big)));
  assert.ok(small.run.stats.errorSamples.some((e) => /over the 40000-byte limit/.test(e.reason)));
});

test('per-host concurrency is never exceeded, and --delay-ms spaces requests', async (t) => {
  const { server, site } = await serveSite(
    beautifulhugo,
    { count: 24 },
    { perPage: 12 },
    { latencyMs: 30 },
  );
  t.after(() => server.close());
  const { posts } = await scrapeAll(`${server.base}/`, { concurrency: 3 });
  assert.equal(posts.length, site.truth.length);
  assert.equal(server.maxInFlight, 3);

  server.log.length = 0;
  const delayed = await scrapeAll(`${server.base}/`, { concurrency: 4, delayMs: 80, maxPages: 6 });
  assert.ok(delayed.posts.length >= 4);
  const starts = server.log.map((r) => r.at).sort((a, b) => a - b);
  // Arrival times jitter (connection set-up, a loaded machine), so check the average spacing.
  const span = starts.at(-1)! - starts[0]!;
  assert.ok(
    span >= (starts.length - 1) * 80 - 40,
    `${starts.length} requests in ${span} ms with delayMs 80`,
  );
});

test('a 429/503 without Retry-After backs off, and a Retry-After beyond the cap fails the page', async (t) => {
  const { server, site } = await serveSite(
    beautifulhugo,
    { count: 4 },
    { perPage: 4, feed: false, sitemap: false },
  );
  t.after(() => server.close());
  const [a, b] = [site.posts[0]!, site.posts[1]!].map((p) => beautifulhugo.postPath(p));
  server.hooks.set(a!, (_req, res, hit) => hit <= 2 && !!res.writeHead(503).end());
  server.hooks.set(b!, (_req, res) => !!res.writeHead(429, { 'retry-after': '3600' }).end());
  const { posts, run } = await scrapeAll(`${server.base}/`, { retry: { baseDelayMs: 20 } });
  assert.equal(posts.length, 3);
  assert.equal(server.hits(a!), 3);
  assert.equal(server.hits(b!), 1, 'an hour-long Retry-After is not waited for');
  assert.ok(run.stats.errorSamples.some((e) => /HTTP 429/.test(e.reason)));
});

test('maxPages bounds the requests; the run says it is incomplete', async (t) => {
  const { server } = await serveSite(
    beautifulhugo,
    { count: 20 },
    { perPage: 5, feed: false, sitemap: false },
  );
  t.after(() => server.close());
  const { posts, run } = await scrapeAll(`${server.base}/`, { maxPages: 4 });
  const pages = server.log.filter(
    (r) => !['/robots.txt', '/sitemap.xml', '/index.xml'].includes(r.path),
  );
  assert.equal(pages.length, 4);
  assert.equal(posts.length, 3);
  assert.equal(run.stats.complete, false);
  assert.ok((run.stats.skipped['max-pages'] ?? 0) > 0);
});

test('a site with no posts gets a clear error naming what was tried', async (t) => {
  const server = await serve(
    new Map([['/', { body: '<html><body><h1>Hello</h1><p>Nothing to see.</p></body></html>' }]]),
  );
  t.after(() => server.close());
  await assert.rejects(scrapeAll(`${server.base}/`), (error: unknown) => {
    assert.ok(error instanceof ScrapeError);
    assert.equal(error.code, 'ERR_SCRAPE_NOTHING_FOUND');
    assert.match(
      error.message,
      /Tried: Hugo beautifulhugo \(article\.post-preview\).*Ghost Casper.*WordPress/,
    );
    assert.match(error.message, /--selectors FILE/);
    return true;
  });
});

test('a robots.txt that answers 503 means the whole site is off limits (RFC 9309)', async (t) => {
  const { server } = await serveSite(beautifulhugo, { count: 3 });
  t.after(() => server.close());
  server.hooks.set('/robots.txt', (_req, res) => !!res.writeHead(503).end());
  await assert.rejects(
    scrapeAll(`${server.base}/`, { retry: { retries: 1, baseDelayMs: 5 } }),
    /start page .* could not be read \(robots\.txt answered 503; RFC 9309 says to treat the whole site as disallowed \(pass --no-robots/,
  );
  assert.equal(server.hits('/'), 0);
  const ok = await scrapeAll(`${server.base}/`, { robots: false });
  assert.equal(ok.posts.length, 3);
});

test('a robots.txt that cannot be fetched (timeout, connection reset) also means disallow all', async (t) => {
  const { server } = await serveSite(beautifulhugo, { count: 3 });
  t.after(() => server.close());
  const fast = { retry: { retries: 0 }, timeoutMs: 300 };
  // RFC 9309 2.3.1.4: unreachable "due to server or network errors" is complete disallow.
  // Both used to count as "no robots.txt" and scrape everything.
  server.hooks.set('/robots.txt', () => true); // never answers
  await assert.rejects(
    scrapeAll(`${server.base}/`, fast),
    /could not be read \(robots\.txt could not be fetched \(.*did not answer within 300 ms\); RFC 9309 says to treat the whole site as disallowed \(pass --no-robots/,
  );
  server.hooks.set('/robots.txt', (req) => !!req.socket.destroy());
  await assert.rejects(scrapeAll(`${server.base}/`, fast), /robots\.txt could not be fetched/);
  assert.equal(server.hits('/'), 0);
  // A missing robots.txt (404) still allows everything.
  server.hooks.set('/robots.txt', (_req, res) => !!res.writeHead(404).end());
  assert.equal((await scrapeAll(`${server.base}/`, fast)).posts.length, 3);
});

test('selectors make an unknown layout work; bad selectors and options are refused with their name', async (t) => {
  const story = (n: number) =>
    `<div class="story"><span class="when">2021-0${n}-0${n}</span><a class="headline" href="/s/${n}">Story ${n}</a><p class="teaser">Teaser ${n}.</p></div>`;
  const files = new Map([
    [
      '/',
      {
        body: `<html><body><div id="wall">${[1, 2, 3].map(story).join('')}</div><a class="more" href="/p2">more stories</a></body></html>`,
      },
    ],
    [
      '/p2',
      { body: `<html><body><div id="wall">${[4, 5].map(story).join('')}</div></body></html>` },
    ],
  ]);
  for (const n of [1, 2, 3, 4, 5]) {
    files.set(`/s/${n}`, {
      body: `<html><body><div class="top"><b class="hl">Story ${n}</b> by <i class="who">Reporter ${n}</i></div><div class="story-body"><p>Body of story ${n}.</p></div><div class="foot">Copyright</div></body></html>`,
    });
  }
  const server = await serve(files);
  t.after(() => server.close());
  const selectors = {
    index: {
      post: 'div.story',
      link: 'a.headline',
      summary: 'p.teaser',
      date: 'span.when',
      next: 'a.more',
    },
    post: { title: 'b.hl', author: 'i.who', content: 'div.story-body' },
  };
  const { posts } = await scrapeAll(`${server.base}/`, { selectors });
  const sorted = [...posts].sort((a, b) => a.url.localeCompare(b.url));
  assert.equal(sorted.length, 5);
  assert.deepEqual(sorted[3], {
    url: `${server.base}/s/4`,
    title: 'Story 4',
    date: '2021-04-04',
    author: 'Reporter 4',
    tags: [],
    summary: 'Teaser 4.',
    text: 'Body of story 4.',
    wordCount: 4,
  } satisfies Post);

  const { scrapeBlog } = await import('@forage/scrape');
  assert.throws(
    () => scrapeBlog(`${server.base}/`, { selectors: { index: { post: 'div[' } } }),
    /index\.post" is not valid CSS/,
  );
  assert.throws(
    () => scrapeBlog(`${server.base}/`, { selectors: { page: {} } as never }),
    /unknown group "page"/,
  );
  assert.throws(() => scrapeBlog(`${server.base}/`, { concurrency: 0 }), {
    code: 'ERR_SCRAPE_BAD_OPTION',
  });
  assert.throws(() => scrapeBlog('ftp://example.com/'), { code: 'ERR_SCRAPE_BAD_URL' });
  assert.throws(() => scrapeBlog('not a url'), /not a URL; give a full address/);
});

test('leaving the loop early stops the crawl; an abort signal ends it after the posts in hand', async (t) => {
  const { server, site } = await serveSite(
    beautifulhugo,
    { count: 30 },
    { perPage: 10 },
    { latencyMs: 5 },
  );
  t.after(() => server.close());
  const { scrapeBlog } = await import('@forage/scrape');
  const run = scrapeBlog(`${server.base}/`, { concurrency: 2 });
  let n = 0;
  for await (const _ of run) if (++n === 2) break;
  const after = server.log.length;
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(server.log.length <= after + 2, 'no new requests after the loop was left');
  assert.ok(after < site.posts.length);

  const controller = new AbortController();
  const aborted = scrapeBlog(`${server.base}/`, { concurrency: 2, signal: controller.signal });
  const got: Post[] = [];
  for await (const p of aborted) {
    got.push(p);
    if (got.length === 3) controller.abort();
  }
  assert.ok(got.length >= 3 && got.length < site.posts.length);
  assert.equal(aborted.stats.complete, false);
});

test('a slow consumer slows the crawl down and still gets every post (bounded hand-off)', async (t) => {
  const { server, site } = await serveSite(
    beautifulhugo,
    { count: 150 },
    { perPage: 50, feed: false, sitemap: false },
  );
  t.after(() => server.close());
  const { scrapeBlog } = await import('@forage/scrape');
  const run = scrapeBlog(`${server.base}/`, { concurrency: 16 });
  const got: Post[] = [];
  for await (const post of run) {
    got.push(post);
    if (got.length % 10 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(got.length, site.truth.length);
  assert.equal(run.stats.complete, true);
});

test('a timeout or delay longer than a Node.js timer can wait is refused, not turned into 1 ms', async (t) => {
  const { scrapeBlog, get } = await import('@forage/scrape');
  const { main } = await import('forage');
  const { inProcess } = await import('./fixtures/cli.js');
  // Node.js runs a timer of more than 2^31-1 ms after 1 ms: this timeout used to fail every page
  // at once ("did not answer within 9007199254740991 ms"), and this delay to spin a 1 ms timer.
  for (const option of ['timeoutMs', 'delayMs'] as const) {
    assert.throws(() => scrapeBlog('http://127.0.0.1:9/', { [option]: Number.MAX_SAFE_INTEGER }), {
      code: 'ERR_SCRAPE_BAD_OPTION',
      message: new RegExp(`^${option} must be a whole number >= \\d and <= 2147483647`),
    });
  }
  await assert.rejects(get('http://127.0.0.1:9/', { timeoutMs: 2 ** 31 }), {
    code: 'ERR_SCRAPE_BAD_OPTION',
  });
  const { server } = await serveSite(beautifulhugo, { count: 1 });
  t.after(() => server.close());
  const { code, stderr } = await inProcess(() =>
    main(['node', 'forage', 'scrape', `${server.base}/`, '--delay-ms', '3000000000']),
  );
  assert.equal(code, 2, stderr);
  assert.match(
    stderr,
    /--delay-ms must be a whole number >= 0 and <= 2147483647, got "3000000000"/,
  );
  assert.equal(server.log.length, 0);
});
