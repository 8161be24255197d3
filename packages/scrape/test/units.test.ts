import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  countWords,
  csvLine,
  get,
  htmlIndex,
  isoFromMachine,
  isoFromText,
  type Post,
  parseFeed,
  parseSitemap,
  productToken,
  Robots,
  ScrapeError,
  scrapeBlog,
  soup,
} from '@forage/scrape';
import { serve } from './fixtures/server.js';

test('machine dates keep their precision and zone; RFC 822 feed dates too', () => {
  const cases: [string, string | null][] = [
    ['2023-09-01', '2023-09-01'],
    ['2023-09-01T10:05:00+02:00', '2023-09-01T10:05:00+02:00'],
    ['2023-09-01T10:05:00+00:00', '2023-09-01T10:05:00Z'],
    ['2023-09-01T10:05:00.000Z', '2023-09-01T10:05:00Z'],
    ['2023-09-01 10:05', '2023-09-01T10:05:00'],
    ['2023-09-01T10:05:00+0530', '2023-09-01T10:05:00+05:30'],
    ['Fri, 01 Sep 2023 10:05:00 +0200', '2023-09-01T10:05:00+02:00'],
    ['Fri, 01 Sep 2023 10:05:00 GMT', '2023-09-01T10:05:00Z'],
    ['2023-02-30', null],
    ['2023-09-01T25:00:00Z', null],
    ['yesterday', null],
  ];
  for (const [input, want] of cases) assert.equal(isoFromMachine(input), want, input);
});

test('human dates in running text become YYYY-MM-DD; ambiguous ones do not', () => {
  const cases: [string, string | null][] = [
    ['Posted on September 1, 2023', '2023-09-01'],
    ['Posted on Sep 1st, 2023 | 3 minutes', '2023-09-01'],
    ['Sept. 21, 2023', '2023-09-21'],
    ['1 September 2023', '2023-09-01'],
    ['the 22nd of March, 2021 by Ada', '2021-03-22'],
    ['2023/09/01', '2023-09-01'],
    ['2023.9.1', '2023-09-01'],
    ['25/12/2023', '2023-12-25'],
    ['12/25/2023', '2023-12-25'],
    ['03/04/2023', null],
    ['February 30, 2023', null],
    ['no date here', null],
  ];
  for (const [input, want] of cases) assert.equal(isoFromText(input), want, input);
});

test('robots.txt: our group over *, longest match, Allow wins ties, wildcards and $', () => {
  const robots = Robots.parse(
    [
      'User-agent: *',
      'Disallow: /',
      '',
      'User-agent: Googlebot',
      'User-agent: Forage',
      'Disallow: /private/',
      'Allow: /private/open/',
      'Disallow: /*.pdf$',
      'Disallow: /tmp',
      'Allow: /tmp',
      'Crawl-delay: 2',
      'Sitemap: https://example.com/sitemap.xml',
    ].join('\n'),
    'forage',
  );
  const allows = (path: string) => robots.allows(`https://example.com${path}`);
  assert.equal(allows('/post/a/'), true);
  assert.equal(allows('/private/x'), false);
  assert.equal(allows('/private/open/x'), true);
  assert.equal(allows('/files/a.pdf'), false);
  assert.equal(allows('/files/a.pdf?x=1'), true);
  assert.equal(allows('/tmp/x'), true, 'Allow wins a tie');
  assert.equal(allows('/robots.txt'), true);
  assert.equal(robots.crawlDelayMs, 2000);
  assert.deepEqual(robots.sitemaps, ['https://example.com/sitemap.xml']);
  const other = Robots.parse('User-agent: *\nDisallow: /\n', 'forage');
  assert.equal(other.allows('https://example.com/a'), false);
  assert.equal(
    Robots.parse('User-agent: *\nDisallow:\n', 'forage').allows('https://example.com/a'),
    true,
  );
});

test('robots.txt: the group is chosen by the exact product token of our User-Agent', () => {
  const text = [
    'User-agent: age',
    'Disallow: /age-only/',
    '',
    'User-agent: MyBot/1.0',
    'Disallow: /mybot-only/',
    '',
    'User-agent: *',
    'Disallow: /everyone/',
  ].join('\n');
  const forage = Robots.parse(text, 'Forage/0.1 (+https://example.com)');
  assert.equal(forage.allows('https://example.com/age-only/'), true, 'age is not forage');
  assert.equal(forage.allows('https://example.com/everyone/'), false);
  const mine = Robots.parse(text, 'mybot/2.3 (+https://example.com/bot)');
  assert.equal(mine.allows('https://example.com/mybot-only/'), false);
  assert.equal(mine.allows('https://example.com/everyone/'), true, 'its own group only');
  assert.equal(productToken('  MyBot/2.1 (+x)'), 'mybot');
  assert.equal(productToken('Mozilla/5.0'), 'mozilla');
});

test('feeds (RSS, Atom) and sitemaps (urlset, index) are read', () => {
  const rss = `<?xml version="1.0"?><rss version="2.0"><channel><item><title>Tom &amp; Jerry</title><link>/post/a/</link><pubDate>Fri, 01 Sep 2023 10:05:00 +0000</pubDate><description>&lt;p&gt;Hello &lt;em&gt;there&lt;/em&gt;&lt;/p&gt;</description></item></channel></rss>`;
  assert.deepEqual(parseFeed(rss, 'https://example.com/'), [
    {
      url: 'https://example.com/post/a/',
      title: 'Tom & Jerry',
      summary: 'Hello there',
      date: '2023-09-01T10:05:00Z',
    },
  ]);
  const atom = `<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>A</title><link rel="alternate" href="https://example.com/a.html"/><published>2023-09-01T10:05:00+02:00</published><summary type="html">&lt;p&gt;S&lt;/p&gt;</summary></entry></feed>`;
  assert.deepEqual(parseFeed(atom, 'https://example.com/'), [
    {
      url: 'https://example.com/a.html',
      title: 'A',
      summary: 'S',
      date: '2023-09-01T10:05:00+02:00',
    },
  ]);
  const index = parseSitemap(
    '<sitemapindex><sitemap><loc>https://example.com/sitemap-posts.xml</loc></sitemap></sitemapindex>',
    'https://example.com/',
  );
  assert.deepEqual(index, { urls: [], sitemaps: ['https://example.com/sitemap-posts.xml'] });
  assert.deepEqual(
    parseSitemap(
      '<urlset><url><loc> https://example.com/a/ </loc></url></urlset>',
      'https://example.com/',
    ).urls,
    ['https://example.com/a/'],
  );
  // Only urlset > url > loc counts: not image:loc, not a loc elsewhere; CDATA and entities are text.
  const tricky = parseSitemap(
    `<?xml version="1.0"?><urlset xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
      <url><loc><![CDATA[/b/?x=1&y=2]]></loc><image:image><image:loc>/i.png</image:loc></image:image></url>
      <url><loc>/c/?q=1&amp;r=2</loc><lastmod>2024-01-01</lastmod></url>
      <url><loc>   </loc></url><loc>/stray/</loc><url><wrap><loc>/deep/</loc></wrap></url></urlset>`,
    'https://example.com/',
  );
  assert.deepEqual(tricky, {
    urls: ['https://example.com/b/?x=1&y=2', 'https://example.com/c/?q=1&r=2'],
    sitemaps: [],
  });
});

test('soup(): BeautifulSoup names, null where bs4 gives None', () => {
  const page = soup(`<html><head><title> My blog </title></head><body>
    <article class="post-preview featured" id="p1"><h2 class="post-title">First <em>post</em></h2><a href="/a">[Read More]</a></article>
    <article class="post-preview"><h2>Second</h2><p>Only <b>text</b></p></article>
    <script>var x = "<p>not text</p>";</script></body></html>`);
  assert.equal(page.title?.getText({ strip: true }), 'My blog');
  const posts = page.findAll('article', { class_: 'post-preview' });
  assert.equal(posts.length, 2);
  assert.equal(posts[0]!.find('h2')!.getText(), 'First post');
  assert.equal(posts[0]!.find('h2')!.getText({ separator: '|', strip: true }), 'First|post');
  assert.deepEqual(posts[0]!.attrs, { class: ['post-preview', 'featured'], id: 'p1' });
  assert.equal(posts[0]!.get('href'), null);
  assert.equal(posts[0]!.find('a', {}, { string: '[Read More]' })!.get('href'), '/a');
  assert.equal(posts[1]!.find('a', {}, { string: /Read More/ }), null);
  assert.equal(posts[1]!.find('a'), null);
  assert.equal(posts[1]!.find('h2')!.string, 'Second');
  assert.equal(posts[1]!.find('p')!.string, null);
  assert.equal(page.selectOne('article#p1 h2.post-title')?.text, 'First post');
  assert.equal(page.selectOne('section'), null);
  assert.equal(page.select('h2').length, 2);
  assert.equal(posts[0]!.find('em')!.findParent('article')?.get('id'), 'p1');
  assert.equal(posts[0]!.find('h2')!.findNextSibling('a')?.get('href'), '/a');
  assert.equal(posts[0]!.findNextSibling()?.name, 'article');
  assert.equal(page.find('body')!.getText().includes('not text'), false, 'scripts are not text');
  assert.equal(page.findAll(null, { id: true }).length, 1);
});

test('get(): a timeout is required; 4xx/5xx are returned, raiseForStatus throws; charset decoded', async (t) => {
  const server = await serve(
    new Map([
      [
        '/ok',
        {
          type: 'text/html; charset=windows-1252',
          body: Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x96, 0x20, 0x78]),
        },
      ],
      ['/json', { type: 'application/json', body: '{"a":1}' }],
    ]),
  );
  t.after(() => server.close());
  await assert.rejects(
    get(`${server.base}/ok`, {} as never),
    (e: unknown) =>
      e instanceof ScrapeError &&
      e.code === 'ERR_SCRAPE_BAD_OPTION' &&
      /needs \{ timeoutMs \}/.test(e.message),
  );
  const ok = await get(`${server.base}/ok`, { timeoutMs: 5_000 });
  assert.equal(ok.status, 200);
  assert.equal(ok.text, 'Café – x');
  assert.deepEqual((await get(`${server.base}/json`, { timeoutMs: 5_000 })).json(), { a: 1 });
  const missing = await get(`${server.base}/missing`, { timeoutMs: 5_000 });
  assert.equal(missing.status, 404);
  assert.equal(missing.ok, false);
  assert.throws(() => missing.raiseForStatus(), { code: 'ERR_SCRAPE_HTTP' });
  server.hooks.set('/slow', () => true);
  await assert.rejects(get(`${server.base}/slow`, { timeoutMs: 200 }), {
    code: 'ERR_SCRAPE_TIMEOUT',
  });
});

test('words, CSV cells and the HTML index escape what came from the network', () => {
  assert.equal(countWords(''), 0);
  assert.equal(countWords('  one\u00a0two\n\nthree & four  '), 5);
  const post: Post = {
    url: 'https://e.com/a',
    title: '=HYPERLINK("x") "quoted", here',
    date: null,
    author: null,
    tags: ['a', 'b'],
    summary: 'line1\nline2',
    text: 't',
    wordCount: 1,
  };
  assert.equal(
    csvLine(post),
    `https://e.com/a,"'=HYPERLINK(""x"") ""quoted"", here",,,a; b,"line1\nline2",t,1\r\n`,
  );
  const html = htmlIndex(
    [
      {
        url: 'javascript:alert(1)',
        title: '<img src=x onerror=alert(1)>',
        date: '2023-09-01',
        author: '"A"',
        summary: null,
      },
    ],
    { source: 'https://e.com/<x>', generated: new Date(0) },
  );
  assert.ok(!html.includes('<img'));
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(html.includes('href="#"'), 'non-http links are not made clickable');
  assert.ok(html.includes('https://e.com/&lt;x&gt;'));
  assert.ok(html.includes('&quot;A&quot;'));
});

test('a refused URL is named in the error without the user name and password in it', async () => {
  for (const input of [
    'ftp://me:s3cret@host.test/',
    'me:s3cret@host.test/',
    'http://me:s3cret@ho st/',
  ]) {
    assert.throws(
      () => scrapeBlog(input),
      (e: unknown) =>
        e instanceof ScrapeError &&
        e.code === 'ERR_SCRAPE_BAD_URL' &&
        e.message.includes('@ho') &&
        !`${e.message} ${e.url}`.includes('s3cret'),
      input,
    );
    await assert.rejects(
      get(input, { timeoutMs: 1_000 }),
      (e: unknown) => e instanceof ScrapeError && !`${e.message} ${e.url}`.includes('s3cret'),
      input,
    );
  }
  assert.throws(
    () => scrapeBlog('ftp://me:s3cret@host.test/'),
    /ftp: URLs are not fetched \(ftp:\/\/\*\*\*@host\.test\/\)/,
  );
});

test('soup(): a RegExp filter with the g flag matches every time, as without it', () => {
  const page = soup('<p id="a1">one</p><p id="a2">two</p><p id="a3">six</p>');
  const id = /a/g;
  const text = /[a-z]/g;
  for (let round = 0; round < 3; round++) {
    assert.equal(page.findAll('p', { id }).length, 3, `attribute filter, round ${round}`);
    assert.equal(
      page.findAll('p', {}, { string: text }).length,
      3,
      `string filter, round ${round}`,
    );
    assert.equal(page.find('p', { id }, { string: text })?.get('id'), 'a1', `find, round ${round}`);
  }
});
