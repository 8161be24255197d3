/**
 * The blog's "Scraping my website using requests and BeautifulSoup", ported line by line with
 * @forage/scrape's requests + BeautifulSoup layer: read each index page, print every post's
 * title, date, summary and "Read More" link, follow "Older Posts", then open the last post in
 * the browser (`webbrowser.open`). At the end, the same job done by `scrapeBlog` in one call.
 *
 * Usage: npx tsx examples/scrape-my-site.ts https://your.blog/ [--open]
 */
import { get, openInBrowser, scrapeBlog, soup } from '@forage/scrape';

const start = process.argv[2];
if (!start) {
  console.error('usage: npx tsx examples/scrape-my-site.ts https://your.blog/ [--open]');
  process.exit(2);
}

// url = "https://your.blog/"
let url: string | null = start;
let lastLink: string | null = null;
let pages = 0;
while (url && pages < 50) {
  // r = requests.get(url, timeout=10)   (requests has no default timeout; here it is required)
  const r = await get(url, { timeoutMs: 10_000 });
  r.raiseForStatus();
  // s = BeautifulSoup(r.text, "html.parser")
  const s = soup(r.text);
  pages++;
  // for post in s.find_all("article", class_="post-preview"):
  for (const post of s.findAll('article', { class_: 'post-preview' })) {
    // get_text(" ", strip=True): without the separator, "Tom & Jerry's <em>Big</em> Day" would
    // come out as "Tom & Jerry'sBigDay", in BeautifulSoup and here alike.
    const title = post.find('h2')?.getText({ separator: ' ', strip: true }) ?? '(no title)';
    const date = post.find('span', { class_: 'post-meta' })?.getText({ strip: true }) ?? '';
    const summary =
      post
        .find('div', { class_: 'post-entry' })
        ?.find('p')
        ?.getText({ separator: ' ', strip: true }) ?? '';
    // read_more = post.find("a", string="[Read More]")  -> None when the post has no link
    const readMore = post.find('a', {}, { string: /Read More/ });
    const href = readMore?.get('href') ?? post.find('a')?.get('href') ?? null;
    const link = typeof href === 'string' ? new URL(href, r.url).href : null;
    console.log(
      `${title}\n  ${date}\n  ${summary.slice(0, 100)}${summary.length > 100 ? '…' : ''}\n  ${link ?? ''}`,
    );
    lastLink = link ?? lastLink;
  }
  // older = s.find("li", class_="next")  ->  its link, if any
  const older = s.find('li', { class_: 'next' })?.find('a')?.get('href');
  url = typeof older === 'string' ? new URL(older, r.url).href : null;
}

// webbrowser.open(last_link)
if (process.argv.includes('--open') && lastLink && !(await openInBrowser(lastLink))) {
  console.log(`no browser here; open ${lastLink} yourself`);
}

// The same job, for any theme, in parallel, politely, with every field:
let posts = 0;
const run = scrapeBlog(start, { maxPages: 20 });
for await (const post of run)
  if (++posts <= 3) console.log(post.date, post.title, `${post.wordCount} words`);
console.log(
  `scrapeBlog: ${run.stats.posts} posts from ${run.stats.pages} pages, ${run.stats.errors} errors`,
);
