import { createHash } from 'node:crypto';
import { tokenPositions } from '../token.js';
import {
  escapeHtml as esc,
  formatBytes,
  formatInt,
  formatInterval,
  formatNumber,
  formatPercent,
} from './format.js';
import type { ComparisonRow, LanguageSummary, Summary } from './summary.js';

/** A chart drawn for the report. */
export interface RenderedChart {
  name: string;
  title: string;
  description: string;
  svg: string;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#fff;--card:#f6f8fa;--line:#d0d7de;--accent:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--card:#161b22;--line:#30363d;--accent:#58a6ff}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
main,header,footer{max-width:1200px;margin:0 auto;padding:0 16px}
header{padding-top:24px}
h1{font-size:1.7rem;margin:.2em 0}
h2{font-size:1.25rem;margin:1.6em 0 .3em;border-bottom:1px solid var(--line);padding-bottom:.2em}
p,li{max-width:75ch}
.muted{color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin:16px 0;padding:0}
.cards div{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 10px}
.cards dt{font-size:.8rem;color:var(--muted)}
.cards dd{margin:0;font-size:1.2rem;font-weight:600;font-variant-numeric:tabular-nums}
.cannot{background:var(--card);border-left:4px solid #bf8700;padding:8px 16px;border-radius:4px}
.pair{display:grid;grid-template-columns:minmax(0,1.2fr) minmax(0,1fr);gap:16px;align-items:start}
@media (max-width:860px){.pair{grid-template-columns:minmax(0,1fr)}}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px;overflow-x:auto}
figure svg{display:block;max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#57606a;margin-top:4px}
figcaption a{color:#0969da}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem;font-variant-numeric:tabular-nums}
th,td{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;background:var(--card)}
td.n,th.n{text-align:right;white-space:nowrap}
caption{text-align:left;font-weight:600;padding:4px 0}
.sw{display:inline-block;vertical-align:-1px;margin-right:6px}
.lang{white-space:nowrap}
.pair.wide{grid-template-columns:minmax(0,1fr)}
.pair.wide figure{max-width:640px}
details{margin:12px 0}
summary{cursor:pointer;font-weight:600}
a{color:var(--accent)}
footer{margin:32px auto;font-size:.85rem;color:var(--muted)}
`;

/**
 * The report page: one self-contained HTML file. No scripts, no network requests (a
 * Content-Security-Policy forbids both), charts inlined as SVG, every string from the data
 * escaped. It reads the same with or without JavaScript and on a phone.
 */
export function reportHtml(s: Summary, charts: RenderedChart[], top: number): string {
  const styleHash = createHash('sha256').update(STYLE).digest('base64');
  const csp = `default-src 'none'; style-src 'sha256-${styleHash}'; img-src data:; base-uri 'none'; form-action 'none'`;
  const chart = new Map(charts.map((c) => [c.name, c] as const));
  const fig = (name: string) => figure(chart.get(name));
  const o = s.overall;
  const title = `Languages in ${formatInt(o.listed ?? o.records)} GitHub repositories`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
${measured(s)}
${cards(s)}
<div class="cannot"><strong>What these numbers cannot say</strong><ul>${s.caveats.map((c) => `<li>${esc(c)}</li>`).join('')}</ul></div>
</header>
<main>
<section id="study">
<h2>The study's three figures, reproduced</h2>
<p>Computed exactly as the 2016 study's script did: the sum of bytes per language, the number of repositories each language appears in, and their quotient, top ${top} of each. On the study's own file these tables equal its results.</p>
<div class="pair">${fig('study-total-size')}${studyTable(
    'Total size',
    s.study.totalSize.map((r) => [r.language, formatNumber(r.gigabytes), formatInt(r.bytes)]),
    ['GB', 'bytes'],
    s,
  )}</div>
<div class="pair">${fig('study-repos')}${studyTable(
    'Repositories appeared in',
    s.study.reposAppearedIn.map((r) => [
      r.language,
      formatInt(r.repos),
      formatPercent(r.repos / Math.max(1, o.withLanguages)),
    ]),
    ['repos', 'share'],
    s,
  )}</div>
<div class="pair">${fig('study-mb-per-repo')}${studyTable(
    'Megabytes per repository (mean)',
    s.study.megabytesPerRepo.map((r) => [
      r.language,
      formatNumber(r.megabytes),
      formatInt(r.repos),
    ]),
    ['MB / repo', 'repos'],
    s,
  )}</div>
</section>
<section id="primary">
<h2>Primary language</h2>
<p>A repository's primary language is the one with the most bytes, as GitHub, GitHut 2.0 and the Octoverse define it. Each repository counts once, so these shares add up to 100%. The intervals are 95% Wilson intervals for the share.</p>
<div class="pair">${fig('primary-share')}${primaryTable(s, top)}</div>
</section>
<section id="typical">
<h2>The typical repository: median beside mean</h2>
<p>The study's "megabytes per repository" is a mean; a few huge repositories dominate it. The median is the repository in the middle, the 90th percentile the large end of normal.</p>
<div class="pair">${fig('mean-vs-median')}${meanTable(s, top)}</div>
</section>
<section id="per-repo">
<h2>Languages per repository</h2>
<div class="pair">${fig('languages-per-repo')}${perRepoTable(s)}</div>
</section>
<section id="together">
<h2>Languages that appear together</h2>
<p>Lift is how much more often two languages share a repository than they would if they were independent: 1 is chance, 2 is twice as often.</p>
<div class="pair">${fig('cooccurrence')}${pairsTable(s)}</div>
</section>
${s.compare ? compareSection(s, fig('compare')) : ''}
<section id="all">
<h2>Every language</h2>
${allLanguages(s)}
</section>
<section id="data">
<h2>About the data</h2>
${dataNotes(s)}
</section>
</main>
<footer>
<p>Made by <code>forage analyze</code> at ${esc(s.generatedAt)}. The numbers behind this page: <a href="summary.json">summary.json</a>; the charts as files: ${charts.map((c) => `<a href="charts/${esc(c.name)}.svg">${esc(c.name)}</a>`).join(', ')} (SVG, and PNG beside each).</p>
</footer>
</body>
</html>
`;
}

function swatch(color: string): string {
  // Colours come from Linguist or a fixed grey and are checked to be #rrggbb; escape anyway.
  return `<svg class="sw" width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${esc(color)}"/></svg>`;
}

function langCell(name: string, s: Summary): string {
  return `<span class="lang">${swatch(colorsOf(s).get(name) ?? '#9e9e9e')}${esc(name)}</span>`;
}

const colorsBySummary = new WeakMap<Summary, Map<string, string>>();

/**
 * Each language's colour, by name, built once per summary: the report has a cell for every
 * language, and searching the list for each made it quadratic (50,000 languages: minutes).
 */
function colorsOf(s: Summary): Map<string, string> {
  let colors = colorsBySummary.get(s);
  if (!colors) {
    colors = new Map();
    // The first of equal names wins, as the search did.
    for (const l of s.languages) if (!colors.has(l.name)) colors.set(l.name, l.color);
    colorsBySummary.set(s, colors);
  }
  return colors;
}

/** Prefixes ids inside one chart's SVG so that several inline SVGs cannot clash. */
function scopeIds(svg: string, prefix: string): string {
  return svg
    .replace(/ id="([^"]+)"/g, ` id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`);
}

function figure(c: RenderedChart | undefined): string {
  if (!c) return '';
  const svg = scopeIds(c.svg, c.name).replace(
    /^<svg /,
    `<svg role="img" aria-label="${esc(c.title)}" `,
  );
  return `<figure data-chart="${esc(c.name)}">${svg}<figcaption>${esc(c.description)} <a href="charts/${esc(c.name)}.png">PNG</a> · <a href="charts/${esc(c.name)}.svg">SVG</a></figcaption></figure>`;
}

function measured(s: Summary): string {
  const o = s.overall;
  const m = s.input.manifest;
  const parts: string[] = [];
  if (s.input.format === 'blog') {
    parts.push(
      `What was measured: the bytes of each language that GitHub's <code>/languages</code> endpoint reported for ${formatInt(o.records)} repositories, read from a file in the 2016 study's format (<code>${esc(s.input.path)}</code>). That format records neither repository ids nor dates (the study's own file covers the 100,000 repositories listed after id 76,761,293 in December 2016).`,
    );
  } else {
    const api = typeof m?.api === 'string' ? m.api : 'the GitHub API';
    const via = typeof m?.via === 'string' ? ` via ${m.via}` : '';
    const when =
      typeof m?.startedAt === 'string'
        ? `, collected ${esc(m.startedAt)}${typeof m.finishedAt === 'string' ? ` to ${esc(m.finishedAt)}` : ''}`
        : '';
    const range = o.idRange
      ? `, repository ids ${formatInt(o.idRange.first)} to ${formatInt(o.idRange.last)}`
      : '';
    const dataset =
      typeof m?.dataset === 'string' ? ` (emulated dataset <code>${esc(m.dataset)}</code>)` : '';
    const incomplete =
      m?.complete === false ? ' The census was not complete when this was analysed.' : '';
    const retired = retiredText(m?.retiredTokens);
    parts.push(
      `What was measured: the bytes of each language GitHub Linguist reports for ${o.listed === null ? formatInt(o.records) : formatInt(o.listed)} listed repositories, from ${esc(api)}${esc(via)}${dataset}${range}${when}. Forks: ${esc(typeof m?.forks === 'string' ? m.forks : 'as listed')}${o.forks === null ? '' : ` (${formatInt(o.forks)} forks listed)`}.${incomplete}${retired}`,
    );
  }
  return `<p class="muted">${parts.join(' ')}</p>`;
}

/**
 * What the census's last run said of the tokens the API rejected. With tokens left, it went on
 * without them, so nothing is missing, but whoever runs the next census has to replace them.
 * When it was every token, the run stopped there (its `error` says so): nothing went on.
 */
function retiredText(retired: unknown): string {
  const r = retired as { positions?: unknown; of?: unknown } | undefined;
  if (!r || !Array.isArray(r.positions) || r.positions.length === 0) return '';
  const positions = r.positions.map((p) => formatInt(Number(p)));
  const which = tokenPositions(positions, typeof r.of === 'number' ? formatInt(r.of) : undefined);
  const them = positions.length === 1 ? 'it' : 'them';
  if (typeof r.of === 'number' && new Set(r.positions).size >= r.of) {
    return ` The API rejected every token (${esc(which)}) during the census's last run, which stopped there: replace ${them} and run the census again to finish it.`;
  }
  return ` The API rejected ${esc(which)} during the census's last run; the run went on with the other tokens (no repository is missing because of it), but ${them} must be replaced before the next census.`;
}

function cards(s: Summary): string {
  const o = s.overall;
  const items: [string, string][] = [
    ['listed', o.listed === null ? '—' : formatInt(o.listed)],
    ['with languages', formatInt(o.withLanguages)],
  ];
  if (s.input.format === 'blog') items.push(['empty or failed ({})', formatInt(o.emptyOrFailed)]);
  else {
    items.push(
      ['empty', formatInt(o.empty)],
      ['not found', formatInt(o.notFound)],
      ['blocked', formatInt(o.blocked)],
      ['failed', formatInt(o.failed)],
    );
    if (o.pending) items.push(['not yet fetched', formatInt(o.pending)]);
  }
  if (o.malformed) items.push(['unreadable lines', formatInt(o.malformed)]);
  if (o.forks !== null) items.push(['forks', formatInt(o.forks)]);
  items.push(
    ['distinct languages', formatInt(o.distinctLanguages)],
    ['bytes', formatBytes(o.totalBytes)],
    ['languages / repo (median)', formatNumber(o.languagesPerRepo.median, 0)],
  );
  return `<dl class="cards">${items.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>`;
}

function table(head: string[], numeric: boolean[], rows: string[][], caption?: string): string {
  const th = head
    .map((h, i) => `<th${numeric[i] ? ' class="n"' : ''} scope="col">${esc(h)}</th>`)
    .join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((cell, i) => `<td${numeric[i] ? ' class="n"' : ''}>${cell}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<div class="scroll"><table>${caption ? `<caption>${esc(caption)}</caption>` : ''}<thead><tr>${th}</tr></thead><tbody>${body}</tbody></table></div>`;
}

function studyTable(caption: string, rows: string[][], heads: string[], s: Summary): string {
  return table(
    ['#', 'language', ...heads],
    [true, false, ...heads.map(() => true)],
    rows.map((r, i) => [String(i + 1), langCell(r[0] as string, s), ...r.slice(1).map(esc)]),
    caption,
  );
}

function primaryTable(s: Summary, top: number): string {
  const langs = [...s.languages].sort((a, b) => b.primary - a.primary).slice(0, top);
  return table(
    ['#', 'language', 'primary in', 'share', '95% interval', 'appears in'],
    [true, false, true, true, true, true],
    langs.map((l, i) => [
      String(i + 1),
      langCell(l.name, s),
      formatInt(l.primary),
      formatPercent(l.primaryShare),
      formatInterval(l.primaryShareInterval),
      formatInt(l.repos),
    ]),
  );
}

function meanTable(s: Summary, top: number): string {
  const approx = (l: LanguageSummary) => (l.quantilesApproximate ? '≈' : '');
  return table(
    ['language', 'repos', 'median', 'p90', 'mean', 'mean / median'],
    [false, true, true, true, true, true],
    s.languages
      .slice(0, top)
      .map((l) => [
        langCell(l.name, s),
        formatInt(l.repos),
        `${approx(l)}${formatBytes(l.medianBytes)}`,
        `${approx(l)}${formatBytes(l.p90Bytes)}`,
        formatBytes(l.meanBytes),
        l.medianBytes > 0 ? `${formatNumber(l.meanBytes / l.medianBytes, 0)}×` : '—',
      ]),
  );
}

function perRepoTable(s: Summary): string {
  const d = s.overall.languagesPerRepo;
  const n = Math.max(1, s.overall.withLanguages);
  const shown = d.histogram.slice(0, 12);
  const rest = d.histogram.slice(12).reduce((sum, h) => sum + h.repos, 0);
  const rows = shown.map((h) => [
    String(h.languages),
    formatInt(h.repos),
    formatPercent(h.repos / n),
  ]);
  if (rest)
    rows.push([`${d.histogram[12]?.languages ?? 13}+`, formatInt(rest), formatPercent(rest / n)]);
  return `${table(['languages', 'repos', 'share'], [true, true, true], rows)}<p class="muted">Mean ${esc(formatNumber(d.mean))}, median ${esc(formatNumber(d.median, 0))}, 90th percentile ${esc(formatNumber(d.p90, 0))}, most ${esc(formatInt(d.max))}.</p>`;
}

function pairsTable(s: Summary): string {
  return table(
    ['languages', 'repos with both', 'share', 'lift'],
    [false, true, true, true],
    s.pairs
      .slice(0, 15)
      .map((p) => [
        `${langCell(p.languages[0], s)} + ${langCell(p.languages[1], s)}`,
        formatInt(p.repos),
        formatPercent(p.share),
        formatNumber(p.lift),
      ]),
  );
}

function compareSection(s: Summary, fig: string): string {
  const c = s.compare!;
  const rank = (r: number | null) => (r === null ? '—' : String(r));
  // rankChange is null when the language is missing from one side: new, or gone since.
  const change = ({ rank, baseRank, rankChange: r }: ComparisonRow) => {
    if (rank === null) return 'gone';
    if (baseRank === null || r === null) return 'new';
    return r > 0 ? `▲ ${r}` : r < 0 ? `▼ ${-r}` : '=';
  };
  const rows = c.rows.map((r) => [
    `<span class="lang">${swatch(r.color)}${esc(r.name)}</span>`,
    esc(rank(r.baseRank)),
    esc(rank(r.rank)),
    esc(change(r)),
    esc(formatPercent(r.baseReposShare)),
    esc(formatPercent(r.reposShare)),
    esc(`${r.shareChange >= 0 ? '+' : ''}${formatNumber(r.shareChange * 100, 1)} pts`),
    r.distinct ? 'yes' : 'no',
  ]);
  return `<section id="compare">
<h2>Compared with ${esc(c.base.path)}</h2>
<p>Ranks by repositories where the language appears; shares of repositories with languages (${esc(formatInt(s.overall.withLanguages))} here, ${esc(formatInt(c.base.withLanguages))} in the baseline). "Beyond noise" means the two 95% intervals do not overlap.</p>
<div class="pair wide">${fig}${table(['language', 'rank before', 'rank now', 'change', 'share before', 'share now', 'change', 'beyond noise'], [false, true, true, true, true, true, true, false], rows)}</div>
</section>`;
}

function allLanguages(s: Summary): string {
  return `<details><summary>All ${esc(formatInt(s.languages.length))} languages</summary>${table(
    [
      'language',
      'Linguist today',
      'repos',
      'share',
      '95% interval',
      'primary',
      'bytes',
      'of bytes',
      'median',
    ],
    [false, false, true, true, true, true, true, true, true],
    s.languages.map((l) => [
      langCell(l.name, s),
      l.linguist === null ? '<span class="muted">unknown</span>' : esc(l.linguist),
      formatInt(l.repos),
      formatPercent(l.reposShare, 2),
      formatInterval(l.reposShareInterval),
      formatInt(l.primary),
      formatBytes(l.bytes),
      formatPercent(l.bytesShare, 2),
      `${l.quantilesApproximate ? '≈' : ''}${formatBytes(l.medianBytes)}`,
    ]),
  )}</details>`;
}

function dataNotes(s: Summary): string {
  const o = s.overall;
  const out: string[] = [];
  out.push(`<ul>${s.approximations.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>`);
  if (s.renames.length) {
    out.push(
      `<details><summary>${esc(s.renames.length)} name(s) in the data that Linguist now spells differently (used only for colours; the data keeps its names)</summary>${table(
        ['in the data', 'Linguist today'],
        [false, false],
        s.renames.map((r) => [esc(r.from), esc(r.to)]),
      )}</details>`,
    );
  }
  if (o.reasons.length) {
    out.push(
      `<details><summary>Why repositories were blocked or failed</summary>${table(
        ['reason', 'repos'],
        [false, true],
        o.reasons.map((r) => [esc(r.reason), formatInt(r.repos)]),
      )}</details>`,
    );
  }
  if (o.malformed) {
    out.push(
      `<p>${esc(formatInt(o.malformed))} line(s) could not be read and were left out, for example: ${o.malformedSamples.map((m) => `line ${esc(formatInt(m.line ?? 0))} (${esc(m.reason)})`).join('; ')}.</p>`,
    );
  }
  return out.join('\n');
}
