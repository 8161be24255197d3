// Contender: Crawlee 3.18 CheerioCrawler, storage in memory, 16 in flight (min = max), index
// pages at the queue front, items written to JSONL as they come (lighter than pushData).
// Usage: node scrape/crawlee.mjs URL OUT.jsonl
import { createWriteStream } from 'node:fs';
import { CheerioCrawler, Configuration, createCheerioRouter, log } from 'crawlee';

const [url, out] = process.argv.slice(2);
const file = createWriteStream(out);
const squash = (s) => s.replace(/\s+/g, ' ').trim();
log.setLevel(log.LEVELS.WARNING);

const router = createCheerioRouter();
router.addDefaultHandler(async ({ $, request, crawler }) => {
  const posts = [];
  $('article.post-preview').each((_, el) => {
    const a = $(el);
    const entry = a.find('.post-entry').clone();
    entry.find('a.post-read-more').remove();
    posts.push({
      url: new URL(a.find('a[href]').first().attr('href'), request.loadedUrl).href,
      label: 'POST',
      userData: {
        title: squash(a.find('h2.post-title').text()),
        date_text: squash(a.find('span.post-meta').text()),
        summary: entry
          .find('p')
          .map((_, p) => squash($(p).text()))
          .get()
          .join('\n\n'),
      },
    });
  });
  const next = $('li.next a').attr('href');
  if (next)
    await crawler.addRequests([{ url: new URL(next, request.loadedUrl).href }], {
      forefront: true,
    });
  await crawler.addRequests(
    posts.map((p) => ({ url: p.url, label: 'POST', userData: { ...p.userData, label: 'POST' } })),
  );
});
router.addHandler('POST', async ({ $, request }) => {
  const { label, ...data } = request.userData;
  const text = $('article.blog-post p')
    .map((_, p) => squash($(p).text()))
    .get()
    .join('\n\n');
  file.write(`${JSON.stringify({ url: request.loadedUrl, ...data, text })}\n`);
});

const crawler = new CheerioCrawler(
  { requestHandler: router, maxConcurrency: 16, minConcurrency: 16, maxRequestRetries: 1 },
  new Configuration({ persistStorage: false, purgeOnStart: true }),
);
await crawler.run([url]);
await new Promise((r) => file.end(r));
