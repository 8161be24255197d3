import {
  withoutControls as clean,
  formatBytes,
  formatInt,
  formatInterval,
  formatNumber,
  formatPercent,
} from './format.js';
import type { Summary } from './summary.js';

/** Lays out rows as a plain-text table; numeric columns are right-aligned. */
function layout(head: string[], rows: string[][], numeric: boolean[]): string {
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The terminal view of a summary: what was read, the study's three top-N tables side by side,
 * and the honest figures (share with interval, primary, median) for the same languages.
 */
export function formatSummaryTable(s: Summary, top = 10): string {
  const o = s.overall;
  const counts =
    s.input.format === 'blog'
      ? `${formatInt(o.records)} repositories, ${formatInt(o.withLanguages)} with languages, ${formatInt(o.emptyOrFailed)} {} (empty or failed)`
      : `${formatInt(o.listed ?? o.records)} listed, ${formatInt(o.withLanguages)} with languages, ${formatInt(o.empty)} empty, ${formatInt(o.notFound)} not found, ${formatInt(o.blocked)} blocked, ${formatInt(o.failed)} failed`;
  const out = [
    `${clean(s.input.path)} (${s.input.format} format): ${counts}; ${formatInt(o.distinctLanguages)} languages, ${formatBytes(o.totalBytes)}${o.malformed ? `; ${formatInt(o.malformed)} unreadable line(s) left out` : ''}`,
    '',
  ];
  const st = s.study;
  const rows = Array.from(
    {
      length: Math.max(st.totalSize.length, st.reposAppearedIn.length, st.megabytesPerRepo.length),
    },
    (_, i) => {
      const a = st.totalSize[i];
      const b = st.reposAppearedIn[i];
      const c = st.megabytesPerRepo[i];
      return [
        String(i + 1),
        a ? clean(a.language) : '',
        a ? formatNumber(a.gigabytes) : '',
        b ? clean(b.language) : '',
        b ? formatInt(b.repos) : '',
        c ? clean(c.language) : '',
        c ? formatNumber(c.megabytes) : '',
      ];
    },
  );
  out.push(`The study's figures (top ${top}):`);
  out.push(
    layout(['#', 'by size', 'GB', 'by repos', 'repos', 'by mean size', 'MB/repo'], rows, [
      true,
      false,
      true,
      false,
      true,
      false,
      true,
    ]),
  );
  out.push('', 'Share of repositories with languages, primary language and typical size:');
  out.push(
    layout(
      ['language', 'repos', 'share', '95% interval', 'primary', 'median', 'mean'],
      s.languages
        .slice(0, top)
        .map((l) => [
          clean(l.name),
          formatInt(l.repos),
          formatPercent(l.reposShare),
          formatInterval(l.reposShareInterval),
          formatInt(l.primary),
          `${l.quantilesApproximate ? '~' : ''}${formatBytes(l.medianBytes)}`,
          formatBytes(l.meanBytes),
        ]),
      [false, true, true, true, true, true, true],
    ),
  );
  if (s.compare) {
    out.push('', `Compared with ${clean(s.compare.base.path)}:`);
    out.push(
      layout(
        ['language', 'rank before', 'rank now', 'share before', 'share now', 'beyond noise'],
        s.compare.rows.map((r) => [
          clean(r.name),
          r.baseRank === null ? '-' : String(r.baseRank),
          r.rank === null ? '-' : String(r.rank),
          formatPercent(r.baseReposShare),
          formatPercent(r.reposShare),
          r.distinct ? 'yes' : 'no',
        ]),
        [false, true, true, true, true, false],
      ),
    );
  }
  return out.join('\n');
}
