import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  analyze,
  formatSummaryTable,
  report,
  reportHtml,
  type Summary,
  writeReport,
} from '@forage/census';
// Internal: how analyze cuts a file for its threads, and the size from which it uses them.
import { MIN_PARALLEL_BYTES } from '../dist/analyze/parallel.js';
import { chunkBounds } from '../dist/analyze/range.js';
import { CHART_NAMES, HOSTILE, hostileCensus } from './fixtures/analyze/hostile.ts';
import { STUDY_FILE } from './shared-data.ts';

const SMALL = fileURLToPath(new URL('./fixtures/analyze/census-small', import.meta.url));

const ALLOWED_TAGS = new Set(
  'html head meta title style body header main section footer h1 h2 p ul li dl dt dd div figure figcaption a code strong span details summary table caption thead tbody tr th td svg g path rect text line circle symbol defs lineargradient stop clippath'.split(
    ' ',
  ),
);

/** Every tag in the page is one we write, with no event handler and no external URL. */
function assertInert(html: string): void {
  const tag = /<(\/?)([a-zA-Z][\w:-]*)([^>]*)>/g;
  for (const m of html.matchAll(tag)) {
    const name = m[2]!.toLowerCase();
    assert.ok(ALLOWED_TAGS.has(name), `unexpected <${name}> in the page: ${m[0].slice(0, 80)}`);
    // Attribute values are double-quoted and escaped, so what remains outside quotes is names.
    const names = m[3]!.replace(/"[^"]*"/g, '').match(/[\w:-]+(?==)/g) ?? [];
    for (const attr of names)
      assert.ok(!/^on/i.test(attr), `event handler ${attr} in ${m[0].slice(0, 80)}`);
    for (const url of m[3]!.matchAll(/(?:href|src)="([^"]*)"/g)) {
      assert.match(
        url[1]!,
        /^(charts\/[\w-]+\.(svg|png)|summary\.json|#[\w-]+)$/,
        `link ${url[1]}`,
      );
    }
  }
  assert.doesNotMatch(html, /<script/i);
}

test('report writes summary.json, a self-contained report.html and every chart as SVG and PNG', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'forage-report-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const { summary, files } = await report(SMALL, { outDir: out, compare: STUDY_FILE });
  assert.deepEqual(
    JSON.parse(readFileSync(files.summary, 'utf8')),
    JSON.parse(JSON.stringify(summary)),
  );
  const html = readFileSync(files.html, 'utf8');
  assertInert(html);
  // A restrictive CSP whose style hash matches the one style element.
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/
    .exec(html)?.[1]
    ?.replace(/&#39;/g, "'");
  assert.ok(csp, 'CSP meta');
  assert.match(csp, /default-src 'none'/);
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
  assert.ok(
    csp.includes(`'sha256-${createHash('sha256').update(style).digest('base64')}'`),
    'style hash',
  );
  assert.equal(html.match(/<style>/g)!.length, 1);
  assert.doesNotMatch(html, / style="/);
  // Each chart inline, next to a table, and on disk as SVG and PNG.
  const names = CHART_NAMES;
  for (const name of names) {
    assert.match(
      html,
      new RegExp(
        `<div class="pair[^"]*"><figure data-chart="${name}"><svg [^>]*>[\\s\\S]*?</figure><div class="scroll"><table>`,
      ),
      name,
    );
    assert.match(readFileSync(join(out, 'charts', `${name}.svg`), 'utf8'), /^<svg [\s\S]*<\/svg>$/);
    const png = readFileSync(join(out, 'charts', `${name}.png`));
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], `${name}.png is a PNG`);
    assert.ok(statSync(join(out, 'charts', `${name}.png`)).size > 2000);
  }
  assert.equal(files.charts.length, names.length * 2);
  // The header says what was measured and what cannot be said.
  assert.match(html, /What was measured/);
  assert.match(html, /What these numbers cannot say/);
  assert.match(html, /2026-11-25T18:00:00.000Z/);
  assert.match(html, /Compared with/);
  // The census's tie-broken primary and statuses appear.
  assert.match(html, /<dt>blocked<\/dt><dd>1<\/dd>/);
});

test('hostile names, reasons and manifest fields are escaped everywhere: the page stays inert', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-hostile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  hostileCensus(dir);
  const { summary, files } = await report(dir, { outDir: join(dir, 'out'), top: 20 });
  const html = readFileSync(files.html, 'utf8');
  assertInert(html);
  for (const name of HOSTILE.slice(0, 5)) {
    assert.ok(!html.includes(name), `raw ${name}`);
  }
  // The names are shown, escaped, not dropped.
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;'));
  assert.ok(summary.languages.some((l) => l.name === '__proto__' && l.repos === 1));
  assert.ok(summary.languages.some((l) => l.name === 'constructor' && l.color === '#9e9e9e'));
  // Charts are escaped too (they are inlined into the page).
  for (const file of files.charts.filter((f) => f.endsWith('.svg'))) {
    const svg = readFileSync(file, 'utf8');
    assert.doesNotMatch(svg, /<script|<img|<iframe|<style/i, file);
  }
  // Tokens from the manifest never reach any output.
  for (const file of [
    files.html,
    files.summary,
    ...files.charts.filter((f) => f.endsWith('.svg')),
  ]) {
    assert.ok(!readFileSync(file, 'utf8').includes('ghp_secret'), file);
  }
  // The terminal table cannot be driven by escape sequences in names.
  assert.ok(!formatSummaryTable(summary, 20).includes('\u001b'));
});

test('the HTML report looks each language up once, not by searching the list per cell', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const n = 2000;
  const file = join(dir, 'many.jsonl');
  writeFileSync(
    file,
    Array.from(
      { length: n },
      (_, i) => `${JSON.stringify({ [`L${i}`]: 100 + i, Python: 5 })}\n`,
    ).join(''),
  );
  const summary = await analyze({ path: file, format: 'blog' });
  assert.equal(summary.languages.length, n + 1);
  // Count reads of the language list's elements (a search per cell read n²/2 of them).
  let reads = 0;
  const languages = new Proxy(summary.languages, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  const html = reportHtml({ ...summary, languages }, [], 10);
  assert.ok(reads < 20 * n, `${reads} reads of ${n + 1} languages`);
  const python = summary.languages.find((l) => l.name === 'Python')!;
  assert.ok(
    html.includes(`fill="${python.color}"/></svg>Python</span>`),
    'Python keeps its colour',
  );
});

test('the comparison says which languages are new and which are gone since the baseline', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'now.jsonl'), '{"C":5,"Zig":3}\n{"C":1}\n');
  writeFileSync(join(dir, 'before.jsonl'), '{"C":5,"Rust":3}\n{"Rust":1}\n');
  const summary = await analyze(join(dir, 'now.jsonl'), { compare: join(dir, 'before.jsonl') });
  const html = reportHtml(summary, [], 10).split('<section id="compare">')[1]!;
  const change = (name: string) =>
    new RegExp(
      `<span class="lang">[^]*?${name}</span></td>(?:<td class="n">[^<]*</td>){2}<td class="n">([^<]*)</td>`,
    ).exec(html)?.[1];
  assert.equal(change('C'), '▲ 1');
  assert.equal(change('Zig'), 'new');
  assert.equal(change('Rust'), 'gone');
});

test('a census where every request failed still makes a report with no NaN in it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'languages.jsonl'),
    '{"id":1,"full_name":"a/b","status":"error","languages":null,"error":"HTTP 401"}\n',
  );
  const { summary, files } = await report(dir, { outDir: join(dir, 'out'), png: false });
  assert.equal(summary.overall.withLanguages, 0);
  for (const file of [files.html, files.summary, ...files.charts]) {
    assert.doesNotMatch(readFileSync(file, 'utf8'), /NaN|Infinity/, file);
  }
  assert.doesNotMatch(formatSummaryTable(summary), /NaN|Infinity/);
});

/** Every file under `dir` (relative path -> bytes), in name order. */
function filesUnder(dir: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const path = join(dir, name);
    if (statSync(path).isFile()) found.set(name, readFileSync(path));
  }
  return found;
}

/** Writes a summary's report into a new directory under `root` and returns its files. */
async function reportFiles(summary: Summary, root: string, name: string, top: number) {
  const dir = join(root, name);
  // The time of writing is the one difference between two reports of the same input.
  await writeReport({ ...summary, generatedAt: '2026-11-26T00:00:00.000Z' }, dir, top);
  const files = filesUnder(dir);
  files.set('table.txt', Buffer.from(formatSummaryTable(summary, top)));
  return files;
}

function assertSameFiles(got: Map<string, Buffer>, want: Map<string, Buffer>, why: string) {
  assert.deepEqual([...got.keys()], [...want.keys()], why);
  for (const [name, bytes] of want) {
    const other = got.get(name)!;
    if (other.equals(bytes)) continue;
    let at = 0;
    while (other[at] === bytes[at]) at++;
    assert.fail(
      `${why}: ${name} differs at byte ${at}: ${JSON.stringify(bytes.toString('utf8', Math.max(0, at - 60), at + 60))} became ${JSON.stringify(other.toString('utf8', Math.max(0, at - 60), at + 60))}`,
    );
  }
}

test('a report written twice is the same byte for byte (chart ids restart with each chart)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'forage-report-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const summary = await analyze(SMALL);
  const first = await reportFiles(summary, root, 'first', 10);
  // The heatmap's legend is a gradient, which Vega names with a counter of its own.
  assert.ok(/id="gradient_\d+"/.test(first.get('charts/cooccurrence.svg')!.toString()));
  assertSameFiles(await reportFiles(summary, root, 'again', 10), first, 'the second report');
});

test('every file the analysis writes is the same byte for byte at any parallelism', async (t) => {
  // Languages that tie in every figure and first appear on one line ({"X07":V,"Y07":V}), one
  // such pair at the start of each chunk analyze cuts the file into; every later chunk lists
  // the earlier pairs the other way round ({"Y07":V,"X07":V}). A thread whose first chunk with
  // a pair is a later one meets Y before X, and the calling thread's numbering of the languages
  // is the merged one: the study's tables, the pairs and the pages made from them must follow
  // the file (X first, as the study's Python keeps it), not the numbering. Other lines need
  // JSON.parse (a float), which keeps the calling thread reading long enough for the pool's
  // worker to take chunks, as it does on a real census.
  const root = mkdtempSync(join(tmpdir(), 'forage-parallel-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const file = join(root, 'ties.jsonl');
  const size = MIN_PARALLEL_BYTES + (1 << 20);
  const bounds = chunkBounds(size, 2); // 2 threads: one per 8 MiB at most
  const v = 10 ** 12;
  const id = (j: number) => String(j).padStart(2, '0');
  const lines: string[] = [];
  let at = 0;
  const add = (line: string) => {
    lines.push(line);
    at += line.length + 1;
  };
  for (let chunk = 0, i = 0; ; i++) {
    if (chunk + 1 < bounds.length && at >= (bounds[chunk] as number) + (chunk ? 1024 : 0)) {
      add(`{"X${id(chunk)}":${v},"Y${id(chunk)}":${v}}`);
      for (let j = 0; j < chunk; j++) add(`{"Y${id(j)}":${v},"X${id(j)}":${v}}`);
      chunk++;
    }
    if (at + 200 > size) break;
    add(`{"Filler":${i % 1000}.5,"Other":${(i * 7) % 1000}}`);
  }
  const pairs = bounds.length - 1;
  assert.ok(pairs >= 10, `${pairs} chunks`);
  add(`{"Filler":1}${' '.repeat(size - at - 13)}`); // to the size the bounds were cut for
  writeFileSync(file, `${lines.join('\n')}\n`);
  assert.equal(statSync(file).size, size);
  // Every pair in the study's tables and in the listed pairs.
  const top = 2 * pairs;
  const single = await analyze(file, { parallelism: 1, top, pairs: pairs + 1 });
  assert.deepEqual(
    single.study.megabytesPerRepo.slice(0, 4).map((r) => r.language),
    ['X00', 'Y00', 'X01', 'Y01'],
  );
  assert.deepEqual(
    single.pairs.slice(0, 2).map((p) => p.languages.join('+')),
    ['Filler+Other', 'X00+Y00'],
  );
  const want = await reportFiles(single, root, 'p1', top);
  for (const [run, parallelism] of [2, 3, 4, 2].entries()) {
    const summary = await analyze(file, { parallelism, top, pairs: pairs + 1 });
    const got = await reportFiles(summary, root, `run${run}`, top);
    assertSameFiles(got, want, `parallelism ${parallelism}`);
  }
});

test('the report says which tokens the last run retired (by position), so they get replaced', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-report-retired-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(SMALL, dir, { recursive: true });
  const manifestPath = join(dir, 'census.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  manifest.tokens = ['ghp_…aaa1', 'ghp_…bbb2', 'ghp_…ccc3'];
  manifest.runs = [
    { startedAt: 'a', finishedAt: 'b', wallMs: 1, resumed: false, retiredTokens: [1] },
    { startedAt: 'c', finishedAt: 'd', wallMs: 1, resumed: true, retiredTokens: [2] },
  ];
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const { summary, files } = await report(dir, { outDir: join(dir, 'out'), png: false });
  assert.deepEqual(summary.input.manifest?.retiredTokens, { positions: [2], of: 3 });
  const html = readFileSync(files.html, 'utf8');
  assert.match(html, /The API rejected token 2 of 3 during the census's last run/);
  for (const file of [files.html, files.summary]) {
    const text = readFileSync(file, 'utf8');
    for (const tail of ['aaa1', 'bbb2', 'ccc3'])
      assert.ok(!text.includes(tail), `${tail} in ${file}`);
  }
  // A last run that retired none says nothing (an earlier run's tokens were replaced since).
  manifest.runs = [
    (manifest.runs as unknown[])[0],
    { startedAt: 'e', finishedAt: 'f', wallMs: 1, resumed: true },
  ];
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const again = await report(dir, { outDir: join(dir, 'out2'), png: false });
  assert.equal(again.summary.input.manifest?.retiredTokens, undefined);
  assert.doesNotMatch(readFileSync(again.files.html, 'utf8'), /The API rejected/);
});

test('the report does not say the run went on when the API rejected every token (the run stopped)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-report-retired-all-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(SMALL, dir, { recursive: true });
  const manifestPath = join(dir, 'census.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  // As runCensus writes a run whose tokens were all rejected: every position, and the error.
  manifest.tokens = ['ghp_…aaa1', 'ghp_…bbb2'];
  manifest.complete = false;
  manifest.runs = [
    {
      startedAt: 'a',
      finishedAt: null,
      wallMs: 1,
      resumed: false,
      error: 'every token was rejected (401 Bad credentials): tokens 1 and 2 of 2; check them',
      retiredTokens: [1, 2],
    },
  ];
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const { files } = await report(dir, { outDir: join(dir, 'out'), png: false });
  const html = readFileSync(files.html, 'utf8');
  assert.doesNotMatch(html, /went on with the other tokens/);
  assert.doesNotMatch(html, /no repository is missing/);
  assert.match(
    html,
    /The API rejected every token \(tokens 1 and 2 of 2\) during the census's last run, which stopped there/,
  );
});
