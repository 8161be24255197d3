import { languageColor } from './colors.js';
import { formatInt } from './format.js';
import {
  type InputFormat,
  type MalformedSample,
  PAIR_BASE,
  type PartialAggregate,
} from './partial.js';
import { EXACT_LIMIT, isApproximate, quantiles, RELATIVE_ACCURACY } from './sketch.js';
import { wilsonInterval } from './stats.js';

/** Version tag of the summary.json layout. */
export const SUMMARY_SCHEMA = 'forage-census-summary/1';

/** One language's figures. Shares are of repositories with at least one language. */
export interface LanguageSummary {
  name: string;
  /** GitHub Linguist's current name for it (null when unknown), and the colour drawn. */
  linguist: string | null;
  color: string;
  /** Repositories where the language appears at all. */
  repos: number;
  reposShare: number;
  /** 95% Wilson interval of `reposShare`. */
  reposShareInterval: [number, number];
  /** Repositories where it is the primary language (most bytes). */
  primary: number;
  primaryShare: number;
  primaryShareInterval: [number, number];
  bytes: number;
  /** Share of all bytes of all languages. */
  bytesShare: number;
  /** Bytes per repository where present: mean (the study's figure), median and 90th percentile. */
  meanBytes: number;
  medianBytes: number;
  p90Bytes: number;
  /** True when median and p90 are estimates (see `approximations`). */
  quantilesApproximate: boolean;
}

/** One row of one of the study's three top-N figures, computed as its script did. */
export interface StudyRow {
  language: string;
  /** Sum of bytes (figure 1: total size in GB = bytes / 1024^3). */
  bytes: number;
  gigabytes: number;
  /** Count of appearances (figure 2: repos appeared in). */
  repos: number;
  /** Sum / count, in bytes and in MB = / 1024^2 (figure 3: megabytes/repo). */
  meanBytes: number;
  megabytes: number;
}

export interface StudyFigures {
  /** Top N by total bytes, by repositories appeared in, and by mean bytes per repository. */
  totalSize: StudyRow[];
  reposAppearedIn: StudyRow[];
  megabytesPerRepo: StudyRow[];
}

/** Two languages that appear in the same repositories. */
export interface PairSummary {
  languages: [string, string];
  /** Repositories with both. */
  repos: number;
  /** Share of repositories with languages that have both. */
  share: number;
  /** Observed / expected if independent: repos * N / (reposA * reposB). Above 1: together more than chance. */
  lift: number;
}

/** Counts among the top languages, for the co-occurrence heatmap. */
export interface CooccurrenceMatrix {
  languages: string[];
  /** repos[i][j]: repositories with both i and j (the diagonal: with i). */
  repos: number[][];
  lift: number[][];
}

export interface OverallSummary {
  /** Repositories listed (repos.jsonl), or lines for a blog file; null when unknown. */
  listed: number | null;
  /** Records read from the languages file. */
  records: number;
  withLanguages: number;
  empty: number;
  /** Blog format only: `{}` lines, which mean empty OR failed. */
  emptyOrFailed: number;
  notFound: number;
  blocked: number;
  failed: number;
  /** Listed but not (yet) in the languages file. */
  pending: number | null;
  /** Lines that could not be read, with up to five examples (offset and line number). */
  malformed: number;
  malformedSamples: MalformedSample[];
  /**
   * Reasons given for blocked and failed repositories: the {@link NAMED_REASONS} most frequent
   * (equal counts by name), then the others together as "other".
   */
  reasons: { reason: string; repos: number }[];
  /** Forks among the listed repositories (null when the listing is not available). */
  forks: number | null;
  distinctLanguages: number;
  totalBytes: number;
  languagesPerRepo: {
    histogram: { languages: number; repos: number }[];
    mean: number;
    median: number;
    p90: number;
    max: number;
  };
  idRange: { first: number; last: number } | null;
}

/** The input that was analysed and what its manifest says. */
export interface InputSummary {
  format: InputFormat;
  path: string;
  languagesFile: string;
  reposFile: string | null;
  /** census.json as written by the census (null when absent or for blog files). */
  manifest: Record<string, unknown> | null;
}

export interface ComparisonRow {
  name: string;
  color: string;
  rank: number | null;
  baseRank: number | null;
  /** Positive: moved up. null when absent from one side. */
  rankChange: number | null;
  reposShare: number;
  baseReposShare: number;
  shareChange: number;
  /** True when the two 95% intervals do not overlap (a conservative test of a real change). */
  distinct: boolean;
  primaryShare: number;
  basePrimaryShare: number;
}

export interface Comparison {
  base: { path: string; format: InputFormat; withLanguages: number };
  rows: ComparisonRow[];
}

/** Everything `forage analyze` computes; report.html, charts and tables are drawn from it. */
export interface Summary {
  schema: typeof SUMMARY_SCHEMA;
  generatedAt: string;
  input: InputSummary;
  overall: OverallSummary;
  /** Every language, most repositories first. */
  languages: LanguageSummary[];
  study: StudyFigures;
  pairs: PairSummary[];
  cooccurrence: CooccurrenceMatrix;
  /** Names in the data that Linguist now calls something else. */
  renames: { from: string; to: string }[];
  /** What is estimated rather than exact. */
  approximations: string[];
  /** What the numbers cannot say. */
  caveats: string[];
  compare?: Comparison;
}

export interface FinalizeOptions {
  top: number;
  pairs: number;
  heatmap: number;
  input: InputSummary;
  listed: number | null;
  forks: number | null;
}

/** Turns the merged aggregate of a whole file into the summary. */
export function finalize(agg: PartialAggregate, opts: FinalizeOptions): Summary {
  const n = agg.status.withLanguages;
  // A name read from a line that then proved unreadable (`{"Go":1,"C":null}`) is in the table
  // with no repository: it is not a language of this input.
  const kept = agg.names.flatMap((_, i) => ((agg.appearances[i] as number) > 0 ? [i] : []));
  const languages = kept.map((i): LanguageSummary => {
    const name = agg.names[i] as string;
    const repos = agg.appearances[i] as number;
    const primary = agg.primary[i] as number;
    const bytes = agg.bytes[i] as number;
    const sketch = agg.sketches[i]!;
    const [median, p90] = quantiles(sketch, [0.5, 0.9]);
    const { linguist, color } = languageColor(name);
    return {
      name,
      linguist,
      color,
      repos,
      reposShare: n ? repos / n : 0,
      reposShareInterval: wilsonInterval(repos, n),
      primary,
      primaryShare: n ? primary / n : 0,
      primaryShareInterval: wilsonInterval(primary, n),
      bytes,
      bytesShare: agg.totalBytes ? bytes / agg.totalBytes : 0,
      meanBytes: bytes / repos,
      medianBytes: median ?? 0,
      p90Bytes: p90 ?? 0,
      quantilesApproximate: isApproximate(sketch),
    };
  });
  // Languages are numbered in the order the threads met them, which varies with the threads
  // and from run to run: every order shown breaks its ties by the file instead, where each
  // language first appears, and a line's own languages in the order the line lists them (as
  // the study's script met them). Positions are never equal; the name only orders aggregates
  // put together by hand without them.
  const order = (a: number, b: number) =>
    (agg.firstSeen[kept[a] as number] as number) - (agg.firstSeen[kept[b] as number] as number) ||
    byName(languages[a]!.name, languages[b]!.name);
  const byRepos = languages
    .map((_, i) => i)
    .sort(
      (a, b) =>
        languages[b]!.repos - languages[a]!.repos ||
        languages[b]!.bytes - languages[a]!.bytes ||
        order(a, b),
    );
  const ranked = byRepos.map((i) => languages[i]!);
  const study = studyFigures(languages, opts.top, order);
  const approximate = ranked.filter((l) => l.quantilesApproximate).map((l) => l.name);
  const overall = overallSummary(agg, opts, languages.length);
  return {
    schema: SUMMARY_SCHEMA,
    generatedAt: new Date().toISOString(),
    input: opts.input,
    overall,
    languages: ranked,
    study,
    pairs: topPairs(agg, opts.pairs),
    cooccurrence: cooccurrence(
      agg,
      byRepos.slice(0, opts.heatmap).map((i) => kept[i] as number),
    ),
    renames: ranked
      .filter((l) => l.linguist !== null && l.linguist !== l.name)
      .map((l) => ({ from: l.name, to: l.linguist as string })),
    approximations: approximations(approximate, agg),
    caveats: caveats(opts.input.format, overall),
  };
}

/**
 * The study's three figures exactly as its script computed them: sum of `int(bytes)`, count of
 * appearances, and sum / count, each sorted descending with ties in order of first appearance
 * (Python's sort is stable and dicts keep insertion order: by line, then by place on the line),
 * cut to the top N. `order` compares two languages' first appearances.
 */
function studyFigures(
  languages: LanguageSummary[],
  top: number,
  order: (a: number, b: number) => number,
): StudyFigures {
  const rows = languages.map(
    (l): StudyRow => ({
      language: l.name,
      bytes: l.bytes,
      gigabytes: l.bytes / (1024 * 1024 * 1024),
      repos: l.repos,
      meanBytes: l.bytes / l.repos,
      megabytes: l.bytes / l.repos / (1024 * 1024),
    }),
  );
  const topBy = (key: (r: StudyRow) => number) =>
    rows
      .map((_, i) => i)
      .sort((a, b) => key(rows[b]!) - key(rows[a]!) || order(a, b))
      .slice(0, top)
      .map((i) => rows[i]!);
  return {
    totalSize: topBy((r) => r.bytes),
    reposAppearedIn: topBy((r) => r.repos),
    megabytesPerRepo: topBy((r) => r.meanBytes),
  };
}

function overallSummary(
  agg: PartialAggregate,
  opts: FinalizeOptions,
  distinctLanguages: number,
): OverallSummary {
  const histogram = agg.languagesPerRepo
    .map((repos, languages) => ({ languages, repos }))
    .filter((h) => h.repos > 0);
  const n = agg.status.withLanguages;
  const sum = histogram.reduce((s, h) => s + h.languages * h.repos, 0);
  return {
    listed: opts.listed,
    records: agg.records,
    withLanguages: n,
    empty: agg.status.empty,
    emptyOrFailed: agg.status.unknown,
    notFound: agg.status.notFound,
    blocked: agg.status.blocked,
    failed: agg.status.failed,
    pending: opts.listed === null ? null : Math.max(0, opts.listed - agg.records),
    malformed: agg.malformed,
    malformedSamples: agg.malformedSamples,
    reasons: namedReasons(agg.reasons),
    forks: opts.forks,
    distinctLanguages,
    totalBytes: agg.totalBytes,
    languagesPerRepo: {
      histogram,
      mean: n ? sum / n : 0,
      median: histogramQuantile(histogram, n, 0.5),
      p90: histogramQuantile(histogram, n, 0.9),
      max: histogram.at(-1)?.languages ?? 0,
    },
    idRange:
      agg.idMin === null || agg.idMax === null ? null : { first: agg.idMin, last: agg.idMax },
  };
}

/** Reasons named in the summary; the rest are counted as "other". */
const NAMED_REASONS = 20;

/**
 * The most frequent reasons, equal counts by name, and "other" last. Chosen by count among
 * all the reasons kept rather than as the first met, which depends on the threads.
 */
function namedReasons(reasons: Map<string, number>): { reason: string; repos: number }[] {
  const sorted = [...reasons]
    .filter(([reason]) => reason !== 'other')
    .map(([reason, repos]) => ({ reason, repos }))
    .sort((a, b) => b.repos - a.repos || byName(a.reason, b.reason));
  const others = sorted
    .slice(NAMED_REASONS)
    .reduce((n, r) => n + r.repos, reasons.get('other') ?? 0);
  const named = sorted.slice(0, NAMED_REASONS);
  return others ? [...named, { reason: 'other', repos: others }] : named;
}

/** Exact quantile of a histogram, interpolated between ranks like the sketch's exact mode. */
function histogramQuantile(
  histogram: { languages: number; repos: number }[],
  n: number,
  q: number,
): number {
  if (n === 0) return 0;
  const at = (rank: number) => {
    let seen = 0;
    for (const h of histogram) {
      seen += h.repos;
      if (seen > rank) return h.languages;
    }
    return histogram.at(-1)?.languages ?? 0;
  };
  const rank = q * (n - 1);
  const lo = at(Math.floor(rank));
  return lo + (at(Math.ceil(rank)) - lo) * (rank - Math.floor(rank));
}

function topPairs(agg: PartialAggregate, limit: number): PairSummary[] {
  const n = agg.status.withLanguages;
  // Equal counts go in file order of the languages, not by their numbers (see finalize), and
  // so does a pair's own order when its two languages are in as many repositories.
  const rank = new Float64Array(agg.names.length);
  agg.names
    .map((_, i) => i)
    .sort(
      (a, b) =>
        (agg.firstSeen[a] as number) - (agg.firstSeen[b] as number) ||
        byName(agg.names[a] as string, agg.names[b] as string),
    )
    .forEach((l, r) => {
      rank[l] = r;
    });
  const span = agg.names.length;
  const best = topEntries(agg.pairs, limit, (key) => {
    const a = rank[Math.floor(key / PAIR_BASE)] as number;
    const b = rank[key % PAIR_BASE] as number;
    return a < b ? a * span + b : b * span + a;
  });
  return best.map(([key, repos]) => {
    const a = Math.floor(key / PAIR_BASE);
    const b = key % PAIR_BASE;
    const ra = agg.appearances[a] as number;
    const rb = agg.appearances[b] as number;
    const [first, second] =
      ra > rb || (ra === rb && (rank[a] as number) < (rank[b] as number)) ? [a, b] : [b, a];
    return {
      languages: [agg.names[first] as string, agg.names[second] as string],
      repos,
      share: n ? repos / n : 0,
      lift: (repos * n) / (ra * rb),
    };
  });
}

/**
 * The `limit` entries with the highest counts (ties: lower `tie(key)` first), in that order:
 * one pass that keeps a short sorted list, rather than sorting tens of thousands of pairs.
 */
function topEntries(
  counts: Map<number, number>,
  limit: number,
  tie: (key: number) => number,
): [number, number][] {
  const best: [number, number][] = [];
  const before = (a: [number, number], key: number, n: number) =>
    n > a[1] || (n === a[1] && tie(key) < tie(a[0]));
  for (const [key, n] of counts) {
    if (best.length === limit && !before(best[limit - 1] as [number, number], key, n)) continue;
    let i = best.length === limit ? limit - 1 : best.length;
    while (i > 0 && before(best[i - 1] as [number, number], key, n)) {
      best[i] = best[i - 1] as [number, number];
      i--;
    }
    best[i] = [key, n];
  }
  return best;
}

/** Code-point order: the same everywhere, unlike localeCompare. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cooccurrence(agg: PartialAggregate, langs: number[]): CooccurrenceMatrix {
  const n = agg.status.withLanguages;
  const count = (a: number, b: number) =>
    a === b
      ? (agg.appearances[a] as number)
      : (agg.pairs.get(a < b ? a * PAIR_BASE + b : b * PAIR_BASE + a) ?? 0);
  const repos = langs.map((a) => langs.map((b) => count(a, b)));
  const lift = langs.map((a, i) =>
    langs.map((b, j) => {
      const ra = agg.appearances[a] as number;
      const rb = agg.appearances[b] as number;
      return ra && rb ? (repos[i]![j]! * n) / (ra * rb) : 0;
    }),
  );
  return { languages: langs.map((i) => agg.names[i] as string), repos, lift };
}

function approximations(approximate: string[], agg: PartialAggregate): string[] {
  const notes: string[] = [];
  if (approximate.length) {
    notes.push(
      `Median and 90th percentile bytes per repository are estimates, within ${(RELATIVE_ACCURACY * 100).toFixed(1)}% of a value of the right rank, for the ${approximate.length} language(s) present in more than ${formatInt(EXACT_LIMIT)} repositories (${approximate.slice(0, 12).join(', ')}${approximate.length > 12 ? ', ...' : ''}); every other figure is exact.`,
    );
  } else notes.push('Every figure is exact.');
  if (agg.pairsTruncated)
    notes.push(
      'Pairs are incomplete: the pair table reached its bound (rarer pairs were not counted), or a repository listed more languages than Linguist knows (its pairs were not counted).',
    );
  if (agg.totalBytes > Number.MAX_SAFE_INTEGER)
    notes.push('Total bytes exceed 2^53 and were summed in floating point.');
  return notes;
}

function caveats(format: InputFormat, overall: OverallSummary): string[] {
  const list = [
    "Bytes are what GitHub Linguist attributes to each language in a repository's default branch; vendored, generated and documentation files are excluded by Linguist, and a large file can dominate.",
    'Shares are of repositories with at least one detected language. Appearing in a repository is not use: a single HTML file counts the same as a whole project.',
    'The sample is a contiguous range of repository ids (repositories created in a short period), not a random sample of GitHub; intervals describe sampling noise only, not this bias.',
    'The study\'s "megabytes per repository" is a mean, which a few very large repositories dominate; the median beside it is the typical repository.',
  ];
  if (format === 'blog') {
    list.push(
      `This file wrote {} for empty repositories and for failed requests alike, so the ${formatInt(overall.emptyOrFailed)} such lines cannot be told apart; a census run by forage records them separately.`,
    );
  }
  if (overall.forks === null)
    list.push('The listing is not available, so forks cannot be counted or excluded.');
  return list;
}
