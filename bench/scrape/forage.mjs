// Contender: @forage/scrape's scrapeBlog, 16 requests in flight, posts streamed to JSONL.
// Usage: node scrape/forage.mjs URL OUT.jsonl [EXTRACT_THREADS]
import { createWriteStream } from 'node:fs';
import { scrapeBlog } from '@forage/scrape';

const [url, out, threads = '0'] = process.argv.slice(2);
const file = createWriteStream(out);
const run = scrapeBlog(url, { concurrency: 16, extractThreads: Number(threads) });
for await (const post of run) {
  if (!file.write(`${JSON.stringify(post)}\n`)) await new Promise((r) => file.once('drain', r));
}
await new Promise((r) => file.end(r));
const s = run.stats;
console.error(
  `forage: ${s.posts} posts, ${s.pages} pages, ${s.errors} errors, strategy ${s.strategy}`,
);
