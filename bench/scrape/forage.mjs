// Contender: @forage/scrape's scrapeBlog, 16 requests in flight, posts streamed to JSONL.
// Usage: node scrape/forage.mjs URL OUT.jsonl [EXTRACT_THREADS] (default: the library's)
import { createWriteStream } from 'node:fs';
import { scrapeBlog } from '@forage/scrape';

const [url, out, threads] = process.argv.slice(2);
const file = createWriteStream(out);
const run = scrapeBlog(url, {
  concurrency: 16,
  ...(threads === undefined ? {} : { extractThreads: Number(threads) }),
});
for await (const post of run) {
  if (!file.write(`${JSON.stringify(post)}\n`)) await new Promise((r) => file.once('drain', r));
}
await new Promise((r) => file.end(r));
const s = run.stats;
console.error(
  `forage: ${s.posts} posts, ${s.pages} pages, ${s.errors} errors, strategy ${s.strategy}`,
);
