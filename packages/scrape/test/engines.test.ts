import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_USER_AGENT, scrapeBlog } from '@forage/scrape';
import { ENGINES } from './fixtures/engines/index.js';
import { assertSamePosts, overlapped, scrapeAll, serveSite } from './fixtures/harness.js';

// Every engine's markup, in three shapes: Read More links on some posts with a feed and a
// sitemap; no Read More at all (whole posts on the index) with neither; Read More on every
// post but the theme's link turned off. Every field of every post must match the truth.
const VARIANTS = [
  {
    name: 'mixed Read More, feed + sitemap',
    posts: { count: 23, rich: true, readMore: 'alternate' as const },
    ctx: { perPage: 5 },
  },
  {
    name: 'no Read More, no feed, no sitemap',
    posts: { count: 9, seed: 7, readMore: 'none' as const },
    ctx: { perPage: 4, feed: false, sitemap: false },
  },
  {
    name: 'truncated posts without Read More links',
    posts: { count: 12, seed: 3, readMore: 'all' as const, rich: true },
    ctx: { perPage: 6, readMore: false, sitemap: false },
  },
];

for (const engine of ENGINES) {
  for (const variant of VARIANTS) {
    test(`${engine.name}: ${variant.name}: every post, every field`, async (t) => {
      const { server, site } = await serveSite(engine, variant.posts, variant.ctx);
      t.after(() => server.close());
      const { posts, run } = await scrapeAll(`${server.base}/`);
      assertSamePosts(posts, site.truth, `${engine.name} / ${variant.name}`);
      assert.equal(run.stats.errors, 0, JSON.stringify(run.stats.errorSamples));
      assert.equal(run.stats.posts, site.truth.length);
      assert.equal(run.stats.complete, true);
      assert.ok(run.stats.indexPages >= Math.ceil(site.truth.length / site.ctx.perPage));
      // Polite: our User-Agent on every request, each page fetched once.
      assert.ok(server.log.every((r) => r.ua === DEFAULT_USER_AGENT));
      const paths = server.log.map((r) => r.path);
      assert.equal(
        new Set(paths).size,
        paths.length,
        `some page was fetched twice: ${paths.join(' ')}`,
      );
    });
  }
}

// Post pages are read on an extraction thread by default where there are two cores (the
// tests above); the same posts, every field, when they are read on the calling thread or on
// a thread asked for explicitly.
test('extractThreads: 0 and 1 give every post, every field, on every engine', async (t) => {
  const variant = VARIANTS[0]!;
  for (const engine of ENGINES) {
    for (const extractThreads of [0, 1]) {
      const { server, site } = await serveSite(engine, variant.posts, variant.ctx);
      t.after(() => server.close());
      const { posts, run } = await scrapeAll(`${server.base}/`, { extractThreads });
      assertSamePosts(posts, site.truth, `${engine.name}, extractThreads ${extractThreads}`);
      assert.equal(run.stats.errors, 0, JSON.stringify(run.stats.errorSamples));
      assert.equal(run.stats.complete, true);
    }
  }
});

test('extractThreads must be a whole number >= 0', () => {
  assert.throws(() => scrapeBlog('http://127.0.0.1:1/', { extractThreads: -1 }), /extractThreads/);
  assert.throws(() => scrapeBlog('http://127.0.0.1:1/', { extractThreads: 1.5 }), /extractThreads/);
});

test('index pages are fetched in parallel when a "Last" link gives the page count (Hugo pagination)', async (t) => {
  const ananke = ENGINES.find((e) => e.name === 'Hugo Ananke')!;
  const { server, site } = await serveSite(
    ananke,
    { count: 40 },
    { perPage: 4, feed: false, sitemap: false },
    { latencyMs: 25 },
  );
  t.after(() => server.close());
  const { posts } = await scrapeAll(`${server.base}/`);
  assert.equal(posts.length, site.truth.length);
  assert.ok(overlapped(server, /^\/page\/\d+\/$/), 'index pages 2..10 should overlap');
});

test('index pages are fetched in parallel when the sitemap says how many posts there are', async (t) => {
  const bh = ENGINES.find((e) => e.name === 'Hugo beautifulhugo')!;
  const { server, site } = await serveSite(
    bh,
    { count: 40 },
    { perPage: 4, feed: false },
    { latencyMs: 25 },
  );
  t.after(() => server.close());
  const { posts, run } = await scrapeAll(`${server.base}/`);
  assertSamePosts(posts, site.truth, 'beautifulhugo + sitemap');
  assert.ok(overlapped(server, /^\/page\/\d+\/$/), 'index pages should overlap');
  assert.equal(run.stats.skipped['past-last-page'] ?? 0, 0, 'the estimate was exact');
});

test('with only "Older Posts" links, index pages are walked one after another', async (t) => {
  const bh = ENGINES.find((e) => e.name === 'Hugo beautifulhugo')!;
  const { server, site } = await serveSite(
    bh,
    { count: 20 },
    { perPage: 4, feed: false, sitemap: false },
    { latencyMs: 10 },
  );
  t.after(() => server.close());
  const { posts } = await scrapeAll(`${server.base}/`);
  assert.equal(posts.length, site.truth.length);
  assert.equal(overlapped(server, /^\/page\/\d+\/$/), false);
});

test('on fan-out, index pages are read only a few hundred posts ahead of the posts (bounded memory)', async (t) => {
  const bh = ENGINES.find((e) => e.name === 'Hugo beautifulhugo')!;
  const { server, site } = await serveSite(bh, { count: 700, paragraphs: 1 }, { perPage: 10 });
  t.after(() => server.close());
  const { posts } = await scrapeAll(`${server.base}/`, { concurrency: 4 });
  assertSamePosts(posts, site.truth, 'beautifulhugo, 70 index pages');
  const paths = server.log.map((r) => r.path);
  const lastIndex = paths.findLastIndex((p) => /^\/page\/\d+\/$/.test(p));
  const postsBefore = paths.slice(0, lastIndex).filter((p) => p.startsWith('/post/')).length;
  // 690 posts are listed before the last index page; at most 256 may wait plus 48 in progress.
  // Reading every index page first (the pool's priority alone) would fetch almost no post before it.
  assert.ok(postsBefore >= 690 - 256 - 48, `only ${postsBefore} posts before the last index page`);
});
