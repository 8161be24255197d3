import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import type { Post } from '@forage/scrape';
import { assertSamePosts, scrapeAll } from './fixtures/harness.js';
import { HUGO_THEME } from './fixtures/hugo-theme.js';
import { serve } from './fixtures/server.js';
import {
  blocksHtml,
  blocksText,
  isoTime,
  makePosts,
  type PostSpec,
  pad,
  summaryText,
  words,
} from './fixtures/site.js';

/**
 * A Hugo content file: front matter, the summary, `<!--more-->`, the rest. Markdown with raw
 * HTML blocks (Hugo 0.111 drops the summary from `.Content` of `.html` content files).
 */
function contentFile(p: PostSpec): string {
  const date = `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:00${p.tz}`;
  const front = [
    `title: ${JSON.stringify(p.title.text)}`,
    `date: ${date}`,
    `author: ${JSON.stringify(p.author)}`,
    `tags: ${JSON.stringify(p.tags)}`,
  ];
  const html = (blocks: PostSpec['blocks']) => blocks.map((b) => blocksHtml([b])).join('\n\n');
  return `---\n${front.join('\n')}\n---\n\n${html(p.blocks.slice(0, p.more))}\n\n<!--more-->\n\n${html(p.blocks.slice(p.more))}\n`;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else out.push(path);
  }
  return out;
}

test("a site built by Debian's hugo from a test theme: every post, every field", async (t) => {
  const hugo = spawnSync('hugo', ['version'], { encoding: 'utf8' });
  assert.equal(
    hugo.status,
    0,
    "Debian's hugo is needed (apt-get install hugo; .ci/run installs it)",
  );
  const server = await serve();
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'forage-hugo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const posts = makePosts({ count: 27, rich: true, readMore: 'all', seed: 11 });
  mkdirSync(join(dir, 'content', 'post'), { recursive: true });
  for (const [path, text] of Object.entries(HUGO_THEME)) {
    const file = join(dir, 'themes', 'forage-test', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  writeFileSync(
    join(dir, 'hugo.toml'),
    'title = "Hugo Test Blog"\ntheme = "forage-test"\npaginate = 5\nlanguageCode = "en"\n[taxonomies]\ntag = "tags"\n[markup.goldmark.renderer]\nunsafe = true\n',
  );
  for (const p of posts)
    writeFileSync(join(dir, 'content', 'post', `${p.slug}.md`), contentFile(p));
  const build = spawnSync(
    'hugo',
    [
      '--source',
      dir,
      '--destination',
      join(dir, 'public'),
      '--baseURL',
      `${server.base}/`,
      '--quiet',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(build.status, 0, build.stderr);

  const publicDir = join(dir, 'public');
  for (const file of walk(publicDir)) {
    const path = `/${relative(publicDir, file).split('\\').join('/')}`;
    const body = readFileSync(file);
    const type = path.endsWith('.xml')
      ? 'application/xml'
      : path.endsWith('.html')
        ? 'text/html; charset=utf-8'
        : 'application/octet-stream';
    server.files.set(path, { body, type });
    if (path.endsWith('/index.html'))
      server.files.set(path.slice(0, -'index.html'.length), { body, type });
  }

  const truth: Post[] = posts.map((p) => {
    const text = blocksText(p.blocks);
    return {
      url: `${server.base}/post/${p.slug}/`,
      title: p.title.text,
      date: isoTime(p),
      author: p.author,
      tags: p.tags,
      summary: summaryText(p),
      text,
      wordCount: words(text),
    };
  });
  const { posts: got, run } = await scrapeAll(`${server.base}/`);
  assertSamePosts(got, truth, 'hugo build');
  assert.equal(run.stats.errors, 0, JSON.stringify(run.stats.errorSamples));
  assert.equal(run.stats.indexPages, 6);
  // Hugo's pagination has aria-label="Last": pages 2..6 were requested before page 2 answered.
  const indexStarts = server.log.filter((r) => /^\/page\/\d+\/$/.test(r.path));
  assert.equal(indexStarts.length, 5);
  assert.ok(
    indexStarts.some((r) => r.at < indexStarts[0]!.end),
    'index pages fetched in parallel',
  );
});
