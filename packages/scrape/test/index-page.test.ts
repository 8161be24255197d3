import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  extractPost,
  extractPostFromHtml,
  parseDom,
  readIndexEntries,
  readPagination,
  soup,
} from '@forage/scrape';
import { load } from 'cheerio/slim';
import { ENGINES } from './fixtures/engines/index.js';
import { buildSite, htmlPages, makePosts, OFFLINE_BASE } from './fixtures/site.js';

// The crawl reads index pages from htmlparser2's bare tree (parseDom) rather than a cheerio
// document, to keep them out of V8's old space. Both must read the same entries and pagination.

test('index pages read the same from a bare tree as from cheerio, on every fixture engine', () => {
  let indexPages = 0;
  for (const engine of ENGINES) {
    const posts = makePosts({ count: 12, rich: true, readMore: 'alternate', seed: 9 });
    const site = buildSite(engine, posts, {
      base: OFFLINE_BASE,
      siteTitle: 'Fixture Blog',
      perPage: 5,
      feed: false,
      sitemap: false,
    });
    for (const { path, url, html } of htmlPages(site)) {
      const fromTree = readIndexEntries(parseDom(html), url);
      const fromCheerio = readIndexEntries(load(html), url);
      assert.deepEqual(fromTree, fromCheerio, `${engine.name} ${path}`);
      assert.deepEqual(
        comparable(readPagination(parseDom(html), url, url)),
        comparable(readPagination(load(html), url, url)),
        `${engine.name} ${path}`,
      );
      if (site.truth.some((t) => t.url === url) || fromTree.entries.length === 0) continue;
      // An index page: every entry links to a real post, with its title.
      for (const e of fromTree.entries) {
        const truth = site.truth.find((t) => t.url === e.url);
        assert.ok(truth, `${engine.name} ${path}: ${e.url} is a post`);
        assert.equal(e.preview.title, truth.title, `${engine.name} ${e.url}`);
      }
      indexPages++;
    }
  }
  // 12 posts at 5 a page: three index pages per engine.
  assert.ok(indexPages >= ENGINES.length * 3, `${indexPages} index pages compared`);
});

/** pageUrl is a closure: compare what it builds, not the function. */
function comparable(p: ReturnType<typeof readPagination>) {
  return { ...p, pageUrl: p.pageUrl?.(7) ?? null };
}

test('user selectors work on a bare tree (cheerio wraps it only for them)', () => {
  const html = `<html><body><div class="feed">
    <section class="item"><span class="head"><a href="/a/">First</a></span>
      <em class="when" data-x="1">March 3, 2024</em><div class="blurb"><p>One.</p></div></section>
    <section class="item"><span class="head"><a href="/b/">Second</a></span>
      <em class="when">2024-03-02</em><div class="blurb"><p>Two.</p></div></section>
    </div><div class="nav"><a class="onward" href="/p/2/">more</a></div></body></html>`;
  const selectors = {
    post: 'section.item',
    link: '.head a',
    title: '.head',
    summary: '.blurb',
    date: 'em.when',
  };
  const base = 'http://127.0.0.1:9/';
  const tree = readIndexEntries(parseDom(html), base, selectors);
  assert.deepEqual(tree, readIndexEntries(load(html), base, selectors));
  assert.equal(tree.strategy, 'selectors');
  assert.deepEqual(
    tree.entries.map((e) => [e.url, e.preview.title, e.preview.summary, e.preview.date]),
    [
      ['http://127.0.0.1:9/a/', 'First', 'One.', '2024-03-03'],
      ['http://127.0.0.1:9/b/', 'Second', 'Two.', '2024-03-02'],
    ],
  );
  assert.equal(
    readPagination(parseDom(html), base, base, 'a.onward').next,
    'http://127.0.0.1:9/p/2/',
  );
});

test('an index page nested tens of thousands of elements deep is read, not a stack overflow', () => {
  // Unclosed tags pile up (a template that opens a <div> per comment and never closes it):
  // reading the pagination used to throw "Maximum call stack size exceeded", so the front page
  // of such a blog failed and the scrape said "no posts found".
  const depth = 50_000;
  const html = `<html><body>${'<div>'.repeat(depth)}<article class="post-preview"><a href="/p/1/"><h2 class="post-title">One</h2></a></article><ul class="pager"><li class="next"><a href="/page/2/">Older Posts</a></li></ul></body></html>`;
  const doc = parseDom(html);
  assert.deepEqual(
    readIndexEntries(doc, 'http://blog.test/').entries.map((e) => e.url),
    ['http://blog.test/p/1/'],
  );
  assert.equal(
    readPagination(doc, 'http://blog.test/', 'http://blog.test/').next,
    'http://blog.test/page/2/',
  );
});

test('an entry, a post page or a soup nested tens of thousands deep reads as a shallow one does', () => {
  // One entry whose summary (or title, or whole box) nests 50,000 elements deep used to throw
  // "Maximum call stack size exceeded" in the walks that read it: the index page failed, and with
  // it the next link that leads to the rest of the blog.
  const nest = (depth: number, inner: string) =>
    `${'<span>'.repeat(depth)}${inner}${'</span>'.repeat(depth)}`;
  const index = (depth: number) =>
    `<html><body><article class="post-preview">${'<div>'.repeat(depth)}<a href="/p/1/"><h2 class="post-title">${nest(depth, 'One <br>title')}</h2></a>
    <div class="post-entry"><p>${nest(depth, 'The summary<br>of one.')}</p><a class="more" href="/p/1/">Read More</a></div>
    <span class="post-meta">${nest(depth, 'Posted on March 3, 2024')}</span></article>
    <ul class="pager"><li class="next"><a href="/page/2/">Older Posts</a></li></ul></body></html>`;
  const base = 'http://blog.test/';
  const shallow = readIndexEntries(parseDom(index(1)), base);
  assert.deepEqual(shallow.entries, [
    {
      url: 'http://blog.test/p/1/',
      preview: { title: 'One title', summary: 'The summary\nof one.', date: '2024-03-03' },
    },
  ]);
  const deep = parseDom(index(50_000));
  assert.deepEqual(readIndexEntries(deep, base), shallow);
  assert.equal(readPagination(deep, base, base).next, 'http://blog.test/page/2/');

  // Post pages: the DOM path (cheerio, or post selectors) and the title rule that looks for
  // text before the <h1> inside the <article>.
  const post = (depth: number) =>
    `<html><head><title>T</title></head><body><article>${'<div>'.repeat(depth)}<h1>The title</h1>
    <p>${nest(depth, 'First <b>para</b>graph.')}</p><pre>${nest(depth, 'code\n  kept')}</pre><p>Last one.</p></article></body></html>`;
  const url = 'http://blog.test/p/1/';
  const want = extractPost(load(post(1)), url, {});
  assert.equal(want?.text, 'First paragraph.\n\ncode\n  kept\n\nLast one.');
  assert.deepEqual(extractPost(load(post(50_000)), url, {}), want);
  const selectors = { title: 'h1', content: 'article' };
  assert.deepEqual(
    extractPostFromHtml(post(50_000), url, { selectors }),
    extractPostFromHtml(post(1), url, { selectors }),
  );

  // The soup layer: getText and a string= filter.
  const page = soup(`<div id="d">${nest(50_000, 'x <script>no</script>y')}</div>`);
  assert.equal(page.find('div')?.getText(), 'x y');
  assert.equal(page.find('div', {}, { string: 'x noy' })?.get('id'), 'd');
});
