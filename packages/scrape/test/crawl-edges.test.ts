/**
 * What real blogs do that a crawl must not be fooled by: a post that only the feed lists when a
 * scrape resumes, deleted posts that redirect home, pagination that never ends, a canonical
 * link shared by every post; and a stop that must not wait out the politeness delays.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HostPool, type Post, scrapeBlog } from '@forage/scrape';
import { Agent } from 'undici';
import { scrapeAll } from './fixtures/harness.js';
import { type FixtureServer, serve } from './fixtures/server.js';

const html = (head: string, body: string) =>
  `<!DOCTYPE html><html><head><meta charset="utf-8">${head}</head><body>${body}</body></html>`;

function postPage(n: number, head = ''): string {
  return html(
    `<title>Post ${n}</title>${head}`,
    `<article><h1>Post number ${n}</h1><p class="post-meta">Posted on September ${n}, 2023</p>
<div class="post-content"><p>The body of post ${n}, with enough words to count as text.</p></div></article>`,
  );
}

function indexPage(posts: number[], next: string | null, head = ''): string {
  const items = posts
    .map(
      (
        n,
      ) => `<article class="post-preview"><a href="/post/${n}/"><h2 class="post-title">Post number ${n}</h2></a>
<div class="post-entry"><p>Summary of post ${n}</p></div></article>`,
    )
    .join('\n');
  const pager = next
    ? `<ul class="pager"><li class="next"><a href="${next}">Older Posts</a></li></ul>`
    : '';
  return html(`<title>Blog</title>${head}`, `${items}${pager}`);
}

/** A blog of posts 1..count, `perPage` to an index page, served from memory. */
/**
 * An undici dispatcher that resolves every host name to 127.0.0.1 (closed after the test): one
 * loopback server can then play several names (blog.test, www.blog.test), told apart by Host.
 */
function loopbackNames(t: { after(fn: () => unknown): void }): Agent {
  const lookup: LookupFunction = (_host, options, callback) => {
    if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
  };
  const dispatcher = new Agent({ connect: { lookup } });
  t.after(() => dispatcher.close());
  return dispatcher;
}

async function blog(count: number, perPage: number, head = ''): Promise<FixtureServer> {
  const server = await serve();
  const pages = Math.ceil(count / perPage);
  for (let p = 1; p <= pages; p++) {
    const ids = Array.from(
      { length: Math.min(perPage, count - (p - 1) * perPage) },
      (_, i) => (p - 1) * perPage + i + 1,
    );
    const path = p === 1 ? '/' : `/page/${p}/`;
    server.files.set(path, { body: indexPage(ids, p < pages ? `/page/${p + 1}/` : null, head) });
  }
  for (let n = 1; n <= count; n++) server.files.set(`/post/${n}/`, { body: postPage(n) });
  return server;
}

const urls = (posts: Post[]) => posts.map((p) => new URL(p.url).pathname).sort();

for (const journalOf of ['this version', 'a version that did not record the feed']) {
  test(`a resumed scrape reads the feed again: a post only the feed lists is not lost (journal of ${journalOf})`, async (t) => {
    const server = await blog(
      6,
      6,
      '<link rel="alternate" type="application/rss+xml" href="/index.xml">',
    );
    t.after(() => server.close());
    server.files.set('/post/99/', { body: postPage(99) });
    server.files.set('/index.xml', {
      type: 'application/rss+xml',
      body: `<?xml version="1.0"?><rss version="2.0"><channel><title>b</title>
<item><title>Post number 99</title><link>${server.base}/post/99/</link><pubDate>Mon, 04 Sep 2023 10:00:00 GMT</pubDate></item>
</channel></rss>`,
    });
    const dir = mkdtempSync(join(tmpdir(), 'forage-crawl-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const journal = join(dir, 'posts.journal');

    // The first run is stopped after the first post, and then cut as a crash would cut it:
    // before the late phase that queues the posts only the feed lists.
    const controller = new AbortController();
    const first = scrapeBlog(`${server.base}/`, {
      journal,
      signal: controller.signal,
      extractThreads: 0,
    });
    const firstPosts: Post[] = [];
    for await (const post of first) {
      firstPosts.push(post);
      controller.abort();
    }
    assert.equal(first.stats.complete, false);
    const lines = readFileSync(journal, 'utf8').split('\n');
    const cut = (line: string) =>
      line.includes('/post/99/') || (journalOf !== 'this version' && line.includes('"k":"feed"'));
    writeFileSync(journal, lines.filter((line) => !cut(line)).join('\n'));

    const second = await scrapeAll(`${server.base}/`, { journal, extractThreads: 0 });
    assert.equal(second.run.stats.complete, true);
    const all = [...urls(firstPosts), ...urls(second.posts)].sort();
    assert.deepEqual(all, [
      '/post/1/',
      '/post/2/',
      '/post/3/',
      '/post/4/',
      '/post/5/',
      '/post/6/',
      '/post/99/',
    ]);
  });
}

test('a post that redirects to the front page is skipped, not written as a post', async (t) => {
  const server = await blog(4, 4);
  t.after(() => server.close());
  server.hooks.set('/post/3/', (_req, res) => !!res.writeHead(301, { location: '/' }).end());
  const { posts, run } = await scrapeAll(`${server.base}/`, { extractThreads: 0 });
  assert.deepEqual(urls(posts), ['/post/1/', '/post/2/', '/post/4/']);
  assert.equal(run.stats.skipped['redirected-to-index'], 1);
});

test('pagination that goes on past the last post stops at the first page without new posts', async (t) => {
  const server = await blog(6, 3);
  t.after(() => server.close());
  // Past the last page, every page renders empty with another "Older Posts" link.
  for (let p = 3; p <= 400; p++)
    server.files.set(`/page/${p}/`, { body: indexPage([], `/page/${p + 1}/`) });
  server.files.set('/page/2/', { body: indexPage([4, 5, 6], '/page/3/') });
  const { posts, run } = await scrapeAll(`${server.base}/`, { extractThreads: 0, maxPages: 300 });
  assert.equal(posts.length, 6);
  assert.equal(run.stats.complete, true, 'ended on its own, not cut by maxPages');
  assert.equal(server.hits('/page/4/'), 0, 'the empty page 3 led nowhere');
  assert.equal(run.stats.skipped['index-without-new-posts'], 1);
});

test('a canonical link that points every post at the front page does not merge them', async (t) => {
  const server = await blog(5, 5);
  t.after(() => server.close());
  for (let n = 1; n <= 5; n++) {
    server.files.set(`/post/${n}/`, {
      body: postPage(n, `<link rel="canonical" href="${server.base}/">`),
    });
  }
  const { posts, run } = await scrapeAll(`${server.base}/`, { extractThreads: 0 });
  assert.deepEqual(urls(posts), ['/post/1/', '/post/2/', '/post/3/', '/post/4/', '/post/5/']);
  assert.equal(run.stats.skipped.duplicate, undefined);
});

test('stopping a scrape does not wait out the politeness delay of every queued request', async (t) => {
  const server = await blog(12, 12);
  t.after(() => server.close());
  const controller = new AbortController();
  const run = scrapeBlog(`${server.base}/`, {
    delayMs: 1_000,
    signal: controller.signal,
    extractThreads: 0,
    timeoutMs: 10_000,
  });
  let stoppedAt = 0;
  for await (const _ of run) {
    if (stoppedAt === 0) {
      stoppedAt = performance.now();
      controller.abort();
    }
  }
  // Eleven posts were waiting 1 s apart: waiting them out would take about ten seconds.
  const lingered = performance.now() - stoppedAt;
  assert.ok(lingered < 2_000, `the iteration ended ${Math.round(lingered)} ms after the stop`);
  const fetched = server.log.filter((r) => r.path.startsWith('/post/')).length;
  assert.ok(fetched <= 3, `${fetched} posts fetched`);
});

test('HostPool: a task whose signal aborts while it waits never runs', async () => {
  const pool = new HostPool({ concurrency: 1, delayMs: 60_000 });
  const controller = new AbortController();
  const ran: string[] = [];
  const first = pool.run('h', async () => ran.push('first'), 0, controller.signal);
  const second = pool.run('h', async () => ran.push('second'), 0, controller.signal);
  await first;
  controller.abort(new Error('stopped'));
  await assert.rejects(second, /stopped/);
  assert.deepEqual(ran, ['first']);
  assert.equal(pool.pending('h'), 0);
  await assert.rejects(
    pool.run('h', async () => ran.push('late'), 0, controller.signal),
    /stopped/,
  );
  assert.deepEqual(ran, ['first']);
});

test('a blog linking to both its apex and www names gets one concurrency, not one per name', async (t) => {
  const server = await blog(8, 8);
  t.after(() => server.close());
  const port = new URL(server.base).port;
  // The index links to half the posts by the www name, half by the apex (where the scrape
  // starts); both names resolve to the one server.
  const links = indexPage([1, 2, 3, 4, 5, 6, 7, 8], null).replace(
    /href="\/post\/(\d+)\/"/g,
    (_, n: string) => `href="http://${Number(n) % 2 ? 'www.' : ''}blog.test:${port}/post/${n}/"`,
  );
  server.files.set('/', { body: links });
  server.hooks.set('/robots.txt', (_req, res) => !!res.writeHead(404).end());
  // Every name resolves to the server on 127.0.0.1.
  const dispatcher = loopbackNames(t);
  // A little latency per answer, so that two requests would overlap if they could.
  for (let n = 1; n <= 8; n++) {
    server.hooks.set(`/post/${n}/`, (_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/html' }).end(postPage(n)), 20);
      return true;
    });
  }
  const { posts } = await scrapeAll(`http://blog.test:${port}/`, {
    concurrency: 1,
    dispatcher,
    extractThreads: 0,
    useFeeds: false,
  });
  assert.equal(posts.length, 8);
  assert.equal(server.maxInFlight, 1, 'never two requests at once to the one server');
});

test('a redirect to a same-site origin whose robots.txt is not read yet is checked against it', {
  timeout: 30_000,
}, async (t) => {
  // One server under two names: blog.test, where the scrape starts, and www.blog.test, whose
  // robots.txt (told apart by the Host header) disallows post 3. The index links post 3 by the
  // apex name, which redirects to www.; nothing else leads to www., so its robots.txt was never
  // read and the redirect was followed.
  const server = await blog(4, 4);
  t.after(() => server.close());
  const port = new URL(server.base).port;
  server.hooks.set('/robots.txt', (req, res) => {
    const www = String(req.headers.host).startsWith('www.');
    return !!res
      .writeHead(200, { 'content-type': 'text/plain' })
      .end(www ? 'User-agent: *\nDisallow: /post/3/\n' : 'User-agent: *\nAllow: /\n');
  });
  server.hooks.set('/post/3/', (req, res) => {
    if (String(req.headers.host).startsWith('www.')) return false; // the page itself
    return !!res.writeHead(301, { location: `http://www.blog.test:${port}/post/3/` }).end();
  });
  const dispatcher = loopbackNames(t);
  // One connection: the robots.txt of www. must not wait for the slot the redirect holds.
  const { posts, run } = await scrapeAll(`http://blog.test:${port}/`, {
    concurrency: 1,
    dispatcher,
    extractThreads: 0,
    useFeeds: false,
  });
  assert.deepEqual(urls(posts), ['/post/1/', '/post/2/', '/post/4/']);
  assert.equal(server.hits('/post/3/'), 1, 'the redirect only, not the disallowed page');
  assert.equal(server.hits('/robots.txt'), 2, "each origin's robots.txt once");
  assert.equal(run.stats.skipped.robots, 1);
});

test('a redirect to an origin whose robots.txt is down for now leaves that page to the next run', {
  timeout: 30_000,
}, async (t) => {
  // As above, but www.'s robots.txt answers 500 in the first run: RFC 9309 says disallow for
  // now, which must not journal post 3 as done for good.
  const server = await blog(4, 4);
  t.after(() => server.close());
  const port = new URL(server.base).port;
  let wwwDown = true;
  server.hooks.set('/robots.txt', (req, res) => {
    const www = String(req.headers.host).startsWith('www.');
    if (www && wwwDown) return !!res.writeHead(500).end('down');
    return !!res.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nAllow: /\n');
  });
  server.hooks.set('/post/3/', (req, res) => {
    if (String(req.headers.host).startsWith('www.')) return false;
    return !!res.writeHead(301, { location: `http://www.blog.test:${port}/post/3/` }).end();
  });
  const dispatcher = loopbackNames(t);
  const dir = mkdtempSync(join(tmpdir(), 'forage-robots-redirect-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const options = {
    journal: join(dir, 'posts.journal'),
    dispatcher,
    extractThreads: 0,
    useFeeds: false,
    retry: { retries: 0 },
  };
  const first = await scrapeAll(`http://blog.test:${port}/`, options);
  assert.deepEqual(urls(first.posts), ['/post/1/', '/post/2/', '/post/4/']);
  assert.equal(first.run.stats.failed, 1, 'post 3 is failed for now, not done');
  assert.equal(first.run.stats.complete, false);
  wwwDown = false;
  const second = await scrapeAll(`http://blog.test:${port}/`, options);
  assert.deepEqual(urls(second.posts), ['/post/3/']);
  assert.equal(second.run.stats.complete, true);
});

test('a feed that tags its links (utm_source=feedburner) names the same posts as the index', async (t) => {
  const server = await blog(
    4,
    4,
    '<link rel="alternate" type="application/rss+xml" href="/index.xml">',
  );
  t.after(() => server.close());
  const tagged = (path: string) =>
    `${server.base}${path}${path.includes('?') ? '&amp;' : '?'}utm_source=feedburner&amp;utm_medium=feed`;
  // Posts 1-4 as the index links them, plus post 5, which only the feed lists, with a real
  // parameter of its own.
  const paths = ['/post/1/', '/post/2/', '/post/3/', '/post/4/', '/post/5/?lang=en'];
  const items = paths
    .map(
      (path, i) => `<item><title>Post number ${i + 1}</title><link>${tagged(path)}</link></item>`,
    )
    .join('');
  server.files.set('/index.xml', {
    type: 'application/rss+xml',
    body: `<?xml version="1.0"?><rss version="2.0"><channel><title>b</title>${items}</channel></rss>`,
  });
  server.files.set('/post/5/?lang=en', { body: postPage(5) });
  const { posts } = await scrapeAll(`${server.base}/`, { extractThreads: 0 });
  const fetched = server.log.filter((r) => r.path.startsWith('/post/')).map((r) => r.path);
  assert.deepEqual(posts.map((p) => p.url.slice(server.base.length)).sort(), paths);
  assert.deepEqual(fetched.sort(), paths, 'each post fetched once, without the tracking tags');
});

test('a feed whose links carry a #fragment names the same posts as the index', async (t) => {
  const server = await blog(
    3,
    3,
    '<link rel="alternate" type="application/rss+xml" href="/index.xml">',
  );
  t.after(() => server.close());
  // Posts without a canonical link: the URL fetched names them. Post 4 only the feed lists.
  server.files.set('/post/4/', { body: postPage(4) });
  const items = [1, 2, 3, 4]
    .map(
      (n) =>
        `<item><title>Post number ${n}</title><link>${server.base}/post/${n}/#${n === 4 ? 'comments' : 'more'}</link></item>`,
    )
    .join('');
  server.files.set('/index.xml', {
    type: 'application/rss+xml',
    body: `<?xml version="1.0"?><rss version="2.0"><channel><title>b</title>${items}</channel></rss>`,
  });
  const { posts } = await scrapeAll(`${server.base}/`, { extractThreads: 0 });
  const paths = ['/post/1/', '/post/2/', '/post/3/', '/post/4/'];
  // This gave 7 posts: 1-3 twice (once as /post/N/#more), and 4 as /post/4/#comments.
  assert.deepEqual(posts.map((p) => p.url.slice(server.base.length)).sort(), paths);
  const fetched = server.log.filter((r) => r.path.startsWith('/post/')).map((r) => r.path);
  assert.deepEqual(fetched.sort(), paths, 'each post fetched once');
});

test('a journaled scrape that could not read its start page is retried in full by the next run', async (t) => {
  const server = await blog(4, 2);
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'forage-start-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const base = `${server.base}/`;
  const noRetry = { retry: { retries: 0 }, useFeeds: false };

  // The server is down (500) on the first run, then robots.txt forbids the start page.
  let down = true;
  server.hooks.set('/', (_req, res) => down && !!res.writeHead(500).end('down'));
  const journal = join(dir, 'a.journal');
  await assert.rejects(scrapeAll(base, { ...noRetry, journal }), /start page .* could not be read/);
  down = false;
  // This used to resume a journal marked complete: 0 posts, no error, the blog never read.
  const again = await scrapeAll(base, { ...noRetry, journal });
  assert.deepEqual(urls(again.posts), ['/post/1/', '/post/2/', '/post/3/', '/post/4/']);
  assert.equal(again.run.stats.complete, true);

  server.files.set('/robots.txt', { type: 'text/plain', body: 'User-agent: *\nDisallow: /\n' });
  const robotsJournal = join(dir, 'b.journal');
  await assert.rejects(scrapeAll(base, { ...noRetry, journal: robotsJournal }), /robots\.txt/);
  // The message says to pass robots: false; doing so on the same journal reads the blog.
  const ignored = await scrapeAll(base, { ...noRetry, journal: robotsJournal, robots: false });
  assert.equal(ignored.posts.length, 4);

  // A blog where nothing is found is not recorded as finished either.
  server.files.set('/robots.txt', { type: 'text/plain', body: '' });
  server.files.set('/empty/', { body: html('<title>Empty</title>', '<p>Nothing yet.</p>') });
  const emptyJournal = join(dir, 'c.journal');
  for (let run = 0; run < 2; run++)
    await assert.rejects(
      scrapeAll(`${server.base}/empty/`, { ...noRetry, journal: emptyJournal }),
      /no posts found/,
    );
  assert.ok(!readFileSync(emptyJournal, 'utf8').includes('"k":"end"'));
});

test('pages that fail for now (5xx, timeouts) are journaled as failed and retried by the next run; 404s are not', async (t) => {
  const { forage, tempDir } = await import('./fixtures/cli.js');
  const server = await blog(4, 4);
  t.after(() => server.close());
  const dir = tempDir(t);
  const journal = join(dir, 'posts.journal');
  const options = {
    journal,
    useFeeds: false,
    extractThreads: 0,
    retry: { retries: 1, baseDelayMs: 1 },
  };
  // Post 2 is down for the first run (503 after its retry too); post 5, linked, is gone for good.
  let down = true;
  server.hooks.set('/post/2/', (_req, res) => down && !!res.writeHead(503).end('down'));
  server.files.set('/', { body: indexPage([1, 2, 3, 4, 5], null) });
  const first = await scrapeAll(`${server.base}/`, options);
  assert.deepEqual(urls(first.posts), ['/post/1/', '/post/3/', '/post/4/']);
  assert.equal(first.run.stats.errors, 2, 'the 503 and the 404');
  assert.equal(first.run.stats.failed, 1, 'only the 503 may pass');
  assert.equal(first.run.stats.complete, false, 'a page is left to do');
  assert.equal(server.hits('/post/2/'), 2, 'one request and one retry in a run');
  assert.match(readFileSync(journal, 'utf8'), /"k":"failed","url":"[^"]*\/post\/2\/"/);

  // The rerun fetches post 2 only: not post 5 (404 is final), nor the posts already read.
  down = false;
  const before = server.log.length;
  const second = await scrapeAll(`${server.base}/`, options);
  assert.deepEqual(urls(second.posts), ['/post/2/']);
  assert.deepEqual(
    server.log
      .slice(before)
      .map((r) => r.path)
      .filter((p) => p !== '/robots.txt'),
    ['/post/2/'],
  );
  assert.equal(second.run.stats.failed, 0);
  assert.equal(second.run.stats.complete, true);
  assert.ok(readFileSync(journal, 'utf8').endsWith('{"k":"end"}\n'));

  // forage scrape says how many pages failed and that running it again retries them.
  down = true;
  const out = join(dir, 'posts.jsonl');
  const r = await forage('scrape', `${server.base}/`, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /1 page failed for now .*: run the same command again to retry it/);
  assert.doesNotMatch(r.stderr, /not finished/);
  down = false;
  const again = await forage('scrape', `${server.base}/`, '--out', out);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 4);
  assert.doesNotMatch(again.stderr, /failed for now/);
});

test('a resumed scrape whose robots.txt is down for now leaves its pages to the next run', async (t) => {
  const server = await blog(4, 4);
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'forage-robots-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const journal = join(dir, 'posts.journal');
  const options = { journal, useFeeds: false, extractThreads: 0, retry: { retries: 0 } };
  const controller = new AbortController();
  const first = scrapeBlog(`${server.base}/`, {
    ...options,
    concurrency: 1,
    signal: controller.signal,
  });
  const seen: Post[] = [];
  for await (const post of first) {
    seen.push(post);
    controller.abort();
  }
  // robots.txt answers 500 (RFC 9309: disallow all) while the run resumes.
  server.hooks.set('/robots.txt', (_req, res) => !!res.writeHead(500).end('down'));
  const second = await scrapeAll(`${server.base}/`, options);
  assert.equal(second.posts.length, 0);
  assert.equal(second.run.stats.complete, false);
  // (The post the first run yielded may be among them: it was stopped before marking it done.)
  assert.ok(second.run.stats.failed >= 4 - seen.length, String(second.run.stats.failed));
  server.hooks.delete('/robots.txt');
  // This got nothing: the second run had marked every page done, and the journal finished.
  const third = await scrapeAll(`${server.base}/`, options);
  assert.deepEqual([...urls(seen), ...urls(third.posts)].sort(), [
    '/post/1/',
    '/post/2/',
    '/post/3/',
    '/post/4/',
  ]);
});

test('a bogus "Last" page number does not fan out into that many requests', async (t) => {
  // Three real index pages; every pager's "Last" link says page 2000 (a broken theme, a
  // template bug). The fan-out used to queue pages 2..2000 at once: 1,997 requests for 404s.
  const server = await blog(12, 4);
  t.after(() => server.close());
  for (const [path, file] of server.files)
    if (path === '/' || path.startsWith('/page/'))
      server.files.set(path, {
        body: String(file.body).replace(
          '</body>',
          '<nav class="pagination"><a aria-label="Last" href="/page/2000/">Last</a></nav></body>',
        ),
      });
  const { posts, run } = await scrapeAll(`${server.base}/`, {
    useFeeds: false,
    extractThreads: 0,
    concurrency: 4,
  });
  assert.deepEqual(urls(posts), Array.from({ length: 12 }, (_, i) => `/post/${i + 1}/`).sort());
  const indexRequests = server.log.filter((r) => r.path.startsWith('/page/')).length;
  // Two rounds of the concurrency at first, then two more pages for each page that listed new
  // posts: a few 404s past the real last page, not 1,997.
  assert.ok(indexRequests <= 2 * 4 + 2 * 3, `${indexRequests} index pages requested`);
  assert.equal(run.stats.errors, indexRequests - 2, 'every page past the third is a 404');
});

test('a start URL with tracking tags (?utm_source=...) is read as the front page it names', async (t) => {
  const server = await blog(
    4,
    4,
    '<link rel="alternate" type="application/rss+xml" href="/index.xml">',
  );
  t.after(() => server.close());
  // Post 5 only the feed lists: it is found only when the front page is read as the start page.
  server.files.set('/post/5/', { body: postPage(5) });
  server.files.set('/index.xml', {
    type: 'application/rss+xml',
    body: `<?xml version="1.0"?><rss version="2.0"><channel><title>b</title>
<item><title>Post number 5</title><link>${server.base}/post/5/</link></item></channel></rss>`,
  });
  const dir = mkdtempSync(join(tmpdir(), 'forage-utm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const journal = join(dir, 'posts.journal');
  const start = `${server.base}/?utm_source=newsletter&utm_medium=email`;
  // This used to queue the front page without its tags but compare it with the tagged URL:
  // the start page was never known as such (no strategy, no feed, no fan-out), and post 5 was lost.
  const { posts, run } = await scrapeAll(start, { journal, extractThreads: 0 });
  assert.deepEqual(urls(posts), ['/post/1/', '/post/2/', '/post/3/', '/post/4/', '/post/5/']);
  assert.equal(run.stats.strategy, 'Hugo beautifulhugo');
  assert.equal(server.hits('/'), 1);
  // The same command again resumes the finished journal.
  const again = await scrapeAll(start, { journal, extractThreads: 0 });
  assert.equal(again.run.stats.complete, true);
  assert.equal(again.run.stats.resumed, 5);
  assert.equal(server.hits('/'), 1);
});

test('a blog whose posts or front page are on another host says so, not "no posts found"', async (t) => {
  const server = await serve();
  t.after(() => server.close());
  // Hugo's quickstart baseURL left in place: every link names http://example.org/.
  const links = indexPage([1, 2, 3], '/page/2/').replace(/href="\//g, 'href="http://example.org/');
  server.files.set('/', { body: links });
  // This used to list every layout tried and ask for --selectors, though the layout was found.
  await assert.rejects(scrapeAll(`${server.base}/`, { useFeeds: false }), (e: Error) =>
    /^found 3 post links on http:\/\/127\.0\.0\.1:\d+\/ but all lead to another site \(http:\/\/example\.org\/post\/1\/\): scrape that site instead, or allow its host with allowHosts$/.test(
      e.message,
    ),
  );
  // A front page that moved to another host: the message names where to start instead.
  const moved = `${server.base.replace('127.0.0.1', 'localhost')}/blog/`;
  server.hooks.set('/', (_req, res) => !!res.writeHead(301, { location: moved }).end());
  await assert.rejects(scrapeAll(`${server.base}/`, { useFeeds: false }), (e: Error) =>
    e.message.includes(`redirects to ${moved}: another site; scrape that URL instead`),
  );
});

test('the front page under its final name (a redirect to www.) is still the front page for posts', async (t) => {
  const server = await blog(4, 4);
  t.after(() => server.close());
  const port = new URL(server.base).port;
  const www = `http://www.blog.test:${port}/`;
  // The apex redirects to www., as many blogs do; the scrape starts from the apex name.
  server.hooks.set(
    '/',
    (req, res) =>
      !String(req.headers.host).startsWith('www.') && !!res.writeHead(301, { location: www }).end(),
  );
  server.hooks.set('/robots.txt', (_req, res) => !!res.writeHead(404).end());
  // Every post names the front page (by its www name) as canonical; post 3 was deleted and
  // redirects there.
  for (let n = 1; n <= 4; n++)
    server.files.set(`/post/${n}/`, { body: postPage(n, `<link rel="canonical" href="${www}">`) });
  server.hooks.set('/post/3/', (_req, res) => !!res.writeHead(301, { location: www }).end());
  const dispatcher = loopbackNames(t);
  const { posts, run } = await scrapeAll(`http://blog.test:${port}/`, {
    dispatcher,
    extractThreads: 0,
    useFeeds: false,
  });
  // This used to give one post: every other one a "duplicate" of the front page's URL, and
  // the deleted post 3 extracted from the front page it redirected to.
  assert.deepEqual(urls(posts), ['/post/1/', '/post/2/', '/post/4/']);
  assert.equal(run.stats.skipped['redirected-to-index'], 1);
  assert.equal(run.stats.skipped.duplicate, undefined);
});

test('credentials in the start URL go only to its host, and into no output, journal or message', async (t) => {
  const { readdirSync } = await import('node:fs');
  const { forage, tempDir } = await import('./fixtures/cli.js');
  const server = await blog(3, 3);
  t.after(() => server.close());
  // A staging blog behind basic auth; its links are relative, so they resolve against the
  // start URL (and used to carry its user name and password into every post URL).
  const expected = `Basic ${Buffer.from('me:s3cr:et').toString('base64')}`;
  const seen: (string | undefined)[] = [];
  for (const path of ['/', '/robots.txt', '/sitemap.xml', '/post/1/', '/post/2/', '/post/3/']) {
    const previous = server.hooks.get(path);
    server.hooks.set(path, (req, res, hit) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== expected)
        return !!res.writeHead(401, { 'www-authenticate': 'Basic' }).end('who are you?');
      return previous?.(req, res, hit) ?? false;
    });
  }
  const dir = tempDir(t);
  const out = join(dir, 'posts.jsonl');
  const start = server.base.replace('http://', 'http://me:s3cr%3Aet@');
  const r = await forage('scrape', `${start}/`, '--out', out, '--open');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 3);
  assert.ok(seen.length >= 4 && seen.every((h) => h === expected), 'every request authenticated');
  for (const file of readdirSync(dir))
    assert.ok(!readFileSync(join(dir, file), 'utf8').includes('s3cr'), `${file} has the password`);
  assert.ok(!`${r.stdout}${r.stderr}`.includes('s3cr'), r.stderr);

  // A redirect to another host (allowed, so followed) does not take the password with it.
  const other = await serve();
  t.after(() => other.close());
  const elsewhere: (string | undefined)[] = [];
  other.hooks.set('/post/9/', (req, res) => {
    elsewhere.push(req.headers.authorization);
    return !!res.writeHead(200, { 'content-type': 'text/html' }).end(postPage(9));
  });
  const otherBase = other.base.replace('127.0.0.1', 'localhost');
  server.files.set('/', { body: indexPage([1, 9], null) });
  const prev1 = server.hooks.get('/');
  server.hooks.set('/', (req, res, hit) =>
    req.headers.authorization === expected
      ? !!res.writeHead(200, { 'content-type': 'text/html' }).end(indexPage([1, 9], null))
      : (prev1?.(req, res, hit) ?? false),
  );
  server.hooks.set(
    '/post/9/',
    (_req, res) => !!res.writeHead(302, { location: `${otherBase}/post/9/` }).end(),
  );
  const { posts } = await scrapeAll(`${start}/`, {
    allowHosts: [new URL(otherBase).host],
    extractThreads: 0,
    useFeeds: false,
  });
  assert.equal(posts.length, 2);
  assert.deepEqual(elsewhere, [undefined]);
  assert.ok(posts.every((p) => !p.url.includes('s3cr')));
  // A stray % in them is taken as it is, not a "URIError: URI malformed".
  assert.doesNotThrow(() => scrapeBlog(`${server.base.replace('http://', 'http://me%zz:100%@')}/`));
});

test('a front page that is a meta-refresh alias (Hugo multilingual root) is followed as the front page', async (t) => {
  const server = await blog(
    4,
    2,
    '<link rel="alternate" type="application/rss+xml" href="/en/index.xml">',
  );
  t.after(() => server.close());
  // The blog lives under /en/; the root is the alias page Hugo writes for it.
  for (const [path, file] of [...server.files]) {
    if (path !== '/' && !path.startsWith('/page/')) continue;
    server.files.delete(path);
    server.files.set(`/en${path}`, {
      body: String(file.body).replace(/href="\/page\//g, 'href="/en/page/'),
    });
  }
  server.files.set('/', {
    body: `<!DOCTYPE html><html lang="en-us"><head><title>${server.base}/en/</title><link rel="canonical" href="${server.base}/en/"><meta name="robots" content="noindex"><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${server.base}/en/"></head></html>`,
  });
  // Post 5 only the feed lists: found only if /en/ is read as the front page.
  server.files.set('/post/5/', { body: postPage(5) });
  server.files.set('/en/index.xml', {
    type: 'application/rss+xml',
    body: `<?xml version="1.0"?><rss version="2.0"><channel><title>b</title>
<item><title>Post number 5</title><link>${server.base}/post/5/</link></item></channel></rss>`,
  });
  // This used to end with "no posts found ... Tried: ...".
  const { posts, run } = await scrapeAll(`${server.base}/`, { extractThreads: 0 });
  assert.deepEqual(urls(posts), ['/post/1/', '/post/2/', '/post/3/', '/post/4/', '/post/5/']);
  assert.equal(run.stats.strategy, 'Hugo beautifulhugo');
  // A refresh to another site is not followed.
  server.files.set('/', {
    body: '<html><head><meta http-equiv="refresh" content="0;URL=\'http://example.invalid/\'"></head></html>',
  });
  await assert.rejects(scrapeAll(`${server.base}/`, { extractThreads: 0 }), /no posts found/);
});
