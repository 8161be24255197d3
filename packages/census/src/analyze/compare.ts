import { wilsonInterval } from './stats.js';
import type { Comparison, ComparisonRow, Summary } from './summary.js';

/**
 * Rank and share changes per language between `current` and `base` (the input given with
 * `--compare`). Ranks are by repositories where the language appears; rows cover every
 * language in either side's top `top`, ordered by the current rank.
 */
export function compareSummaries(current: Summary, base: Summary, top: number): Comparison {
  const rank = (s: Summary) => new Map(s.languages.map((l, i) => [l.name, i + 1] as const));
  const byName = (s: Summary) => new Map(s.languages.map((l) => [l.name, l] as const));
  const nowRank = rank(current);
  const baseRank = rank(base);
  const now = byName(current);
  const before = byName(base);
  const names = new Set([
    ...current.languages.slice(0, top).map((l) => l.name),
    ...base.languages.slice(0, top).map((l) => l.name),
  ]);
  const rows = [...names].map((name): ComparisonRow => {
    const a = now.get(name);
    const b = before.get(name);
    const r = nowRank.get(name) ?? null;
    const br = baseRank.get(name) ?? null;
    const share = a?.reposShare ?? 0;
    const baseShare = b?.reposShare ?? 0;
    // A language absent from one side was seen in 0 of that side's repositories.
    const [lo, hi] = a?.reposShareInterval ?? wilsonInterval(0, current.overall.withLanguages);
    const [blo, bhi] = b?.reposShareInterval ?? wilsonInterval(0, base.overall.withLanguages);
    return {
      name,
      color: a?.color ?? b?.color ?? '#9e9e9e',
      rank: r,
      baseRank: br,
      rankChange: r !== null && br !== null ? br - r : null,
      reposShare: share,
      baseReposShare: baseShare,
      shareChange: share - baseShare,
      distinct: lo > bhi || blo > hi,
      primaryShare: a?.primaryShare ?? 0,
      basePrimaryShare: b?.primaryShare ?? 0,
    };
  });
  rows.sort(
    (x, y) =>
      (x.rank ?? Number.MAX_SAFE_INTEGER) - (y.rank ?? Number.MAX_SAFE_INTEGER) ||
      (x.baseRank ?? 0) - (y.baseRank ?? 0),
  );
  return {
    base: {
      path: base.input.path,
      format: base.input.format,
      withLanguages: base.overall.withLanguages,
    },
    rows,
  };
}
