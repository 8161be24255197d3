/**
 * Writes the benchmark blog: 5,000 posts (about 5 KB of text each) in beautifulhugo markup,
 * 10 per index page ("Older Posts" pagination), plus Hugo's index.xml and sitemap.xml, and
 * `reference.jsonl`, the ground truth of every post. Usage: tsx scrape/gen-site.ts OUT BASE [POSTS]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beautifulhugo } from '../../packages/scrape/test/fixtures/engines/index.js';
import { buildSite, makePosts } from '../../packages/scrape/test/fixtures/site.js';

/** Generates the site into `out/site` and the truth into `out/reference.jsonl`; returns the file count. */
export function generate(
  out: string,
  base: string,
  count = 5000,
): { files: number; bytes: number } {
  const posts = makePosts({
    count,
    seed: 2026,
    readMore: 'all',
    paragraphs: 5,
    paragraphWords: 150,
  });
  const site = buildSite(beautifulhugo, posts, {
    base,
    siteTitle: 'Bench Blog',
    perPage: 10,
    feed: true,
    sitemap: true,
  });
  const root = join(out, 'site');
  rmSync(root, { recursive: true, force: true });
  let bytes = 0;
  for (const [path, res] of site.files) {
    const file = path.endsWith('/') ? join(root, path, 'index.html') : join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, res.body);
    bytes += Buffer.byteLength(res.body);
  }
  writeFileSync(
    join(out, 'reference.jsonl'),
    site.truth.map((p) => JSON.stringify(p)).join('\n') + '\n',
  );
  return { files: site.files.size, bytes };
}

if (process.argv[1]?.endsWith('gen-site.ts')) {
  const [out = 'scrape/out', base = 'http://127.0.0.1:8088', count = '5000'] =
    process.argv.slice(2);
  const r = generate(out, base, Number(count));
  console.log(`wrote ${r.files} files, ${(r.bytes / 1e6).toFixed(1)} MB, to ${out}/site`);
}
