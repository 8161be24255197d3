import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractPost, extractPostFromHtml } from '@forage/scrape';
import { load } from 'cheerio/slim';
import { ENGINES } from './fixtures/engines/index.js';
import { buildSite, htmlPages, makePosts, OFFLINE_BASE } from './fixtures/site.js';

// The streaming extractor (no DOM) and the DOM path must give the same post for any page.
// Both run here on every page of every fixture engine, and on hand-written markup that
// exercises each rule the stream has to reproduce without a tree.

function bothWays(html: string, url: string): void {
  const fromDom = extractPost(load(html), url);
  const fromStream = extractPostFromHtml(html, url);
  assert.deepEqual(fromStream, fromDom, `streaming and DOM extraction differ for ${url}`);
}

test('streaming extraction equals the DOM path on every page of every fixture engine', () => {
  let pages = 0;
  let posts = 0;
  for (const engine of ENGINES) {
    for (const readMore of ['alternate', 'none'] as const) {
      const site = buildSite(engine, makePosts({ count: 12, rich: true, readMore, seed: 5 }), {
        base: OFFLINE_BASE,
        siteTitle: 'Fixture Blog',
        perPage: 5,
        feed: true,
        sitemap: true,
      });
      for (const { path, url, html } of htmlPages(site)) {
        bothWays(html, url);
        pages++;
        const truth = site.truth.find((t) => t.url === url);
        if (truth) {
          // And both are right, not merely equal.
          const post = extractPostFromHtml(html, url);
          assert.equal(post?.title, truth.title, `${engine.name} ${path}`);
          assert.equal(post?.text, truth.text, `${engine.name} ${path}`);
          posts++;
        }
      }
    }
  }
  assert.equal(posts, ENGINES.length * 2 * 12);
  assert.ok(pages > posts, 'index pages were compared too');
});

const CASES: Record<string, string> = {
  'pre, br, hidden and furniture': `<!doctype html><html><head><title>Odd page | Blog</title>
    <meta property="og:site_name" content="Blog"></head><body>
    <article><h1>Odd page</h1><p>One<br>two <b>bold</b>
    line</p><pre>  keep
      indent\n</pre><div hidden>secret</div><p aria-hidden="true">no</p>
    <div class="share-bar">share me</div><div class="sharedaddy">x</div>
    <p>After <script>var x = "<p>no</p>";</script><style>p{}</style>text&amp;more&nbsp;here</p>
    <noscript><p>noscript text</p></noscript><template><p>tpl</p></template>
    <svg><title>svg title</title><text>svg text</text></svg></article></body></html>`,
  'h1 after text is content, first h1 is the title': `<html><body><main><p>Intro first.</p>
    <h1>Not a title</h1><p>Body.</p></main></body></html>`,
  'title from <title> when there is no h1, byline and author': `<html><head><title>Only Title</title></head>
    <body><article><header><p>By Jane Doe</p></header><p>Text of the post.</p>
    <p class="byline">By <span class="author">Ann <em>Lee</em></span></p></article></body></html>`,
  'JSON-LD and metas': `<html><head><script type="application/ld+json">{"@context":"https://schema.org",
    "@graph":[{"@type":"BlogPosting","headline":"LD headline","datePublished":"2024-02-03T10:00:00Z",
    "author":[{"@type":"Person","name":"Ld Author"}],"keywords":"a, b, a"}]}</script>
    <script type="application/ld+json">{broken</script>
    <meta name="description" content="Meta description"><link rel="canonical" href="/canon/">
    </head><body><div class="post-content"><h2>Heading</h2><ul><li>one</li><li>two</li></ul>
    <blockquote>quoted</blockquote></div></body></html>`,
  'dates from time elements and visible text; tags in boxes': `<html><body><article>
    <h1 class="entry-title">T</h1><time class="updated" datetime="2020-01-01">Jan 1</time>
    <span class="post-meta">Posted on March 4, 2021</span>
    <div class="tags"><a href="/t/x">#x</a> <a href="/t/y">y</a><a href="/t/x">#x</a></div>
    <div class="entry-content"><p>Body text.</p></div></article></body></html>`,
  'implied and unclosed tags, stray closers, entities': `<html><body><article><h1>Broken &lt;markup&gt;</h1>
    <p>para one<p>para two <b>bold <i>both</b> italic?</i><li>loose item
    </span></div><table><tr><td>cell<td>cell two</table><p>tail &copy; 2024 &unknown; &#x41;`,
  'content candidates: empty first candidate falls through': `<html><body>
    <div class="post-content"><nav>only nav</nav></div><article class="x"><p>Article text.</p>
    <aside><p>aside</p></aside><footer class="site-footer">foot</footer></article></body></html>`,
  'nothing at all': `<html><body><nav>menu</nav></body></html>`,
  'not html': 'just some text, no tags & no posts',
  'chrome: titles in nav and site header are ignored': `<html><body><header class="site-header">
    <h1>Site Name</h1></header><nav><h1 class="post-title">Nav</h1></nav><main><header><h1>Real</h1>
    </header><div itemprop="articleBody"><p>Body <span itemprop="author" itemscope>
    <span itemprop="name">Pat</span></span></p></div></main></body></html>`,
};

for (const [name, html] of Object.entries(CASES)) {
  test(`streaming extraction equals the DOM path: ${name}`, () => {
    bothWays(html, 'https://blog.example/2024/post/');
  });
}

test('with post selectors, extractPostFromHtml reads a DOM (selectors need a tree)', () => {
  const html = `<html><body><div class="story"><span class="head">Custom</span>
    <div class="story-body"><p>Story text.</p></div></div></body></html>`;
  const post = extractPostFromHtml(html, 'https://blog.example/s/', {
    selectors: { title: 'span.head', content: 'div.story-body' },
  });
  assert.equal(post?.title, 'Custom');
  assert.equal(post?.text, 'Story text.');
});
