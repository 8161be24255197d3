import { availableParallelism } from 'node:os';
import { compareSummaries } from './compare.js';
import { AnalyzeError } from './errors.js';
import {
  type AnalyzeInput,
  numberLines,
  readListing,
  readManifest,
  resolveInput,
} from './input.js';
import { aggregateFile } from './parallel.js';
import type { InputFormat } from './partial.js';
import type { RangeTask } from './range.js';
import { finalize, type Summary } from './summary.js';

export interface AnalyzeOptions {
  /** Force the input format; by default a directory is a census and a file is blog format. */
  format?: InputFormat;
  /** Rows in the study's top-N tables and in the comparison (default 10). */
  top?: number;
  /** Another input to compare with (the baseline); its format is detected the same way. */
  compare?: AnalyzeInput;
  /** Most frequent language pairs to list (default 30). */
  pairs?: number;
  /** Languages in the co-occurrence heatmap (default 12). */
  heatmap?: number;
  /**
   * Threads for the aggregation, the calling thread included (default: the machine's
   * parallelism, at most 8); the others are pool workers. 1 aggregates on the calling thread
   * alone, and so do files under 8 MiB (one thread per 8 MiB at most).
   */
  parallelism?: number;
}

const MIN_RANGE_BYTES = 4 << 20;

/**
 * Analyses a census directory or a blog-format file and returns the summary that the report,
 * the charts and the terminal table are drawn from. Streams the languages file in byte ranges
 * (in parallel on a thread pool when it is large), so memory does not grow with the number of
 * repositories.
 *
 * @example
 * ```ts
 * import { analyze } from '@forage/census';
 * const summary = await analyze('census-out', { top: 10 });
 * console.log(summary.study.totalSize.map((r) => r.language));
 * ```
 */
export async function analyze(input: AnalyzeInput, options: AnalyzeOptions = {}): Promise<Summary> {
  const top = positiveInt('top', options.top ?? 10);
  const summary = await analyzeOne(input, options, top);
  if (options.compare !== undefined) {
    const base = await analyzeOne(options.compare, { ...options, format: undefined }, top, true);
    summary.compare = compareSummaries(summary, base, top);
  }
  return summary;
}

async function analyzeOne(
  input: AnalyzeInput,
  options: AnalyzeOptions,
  top: number,
  baseline = false,
): Promise<Summary> {
  // --input-format applies to the input only: a baseline's errors say so and name their own fix.
  const resolved = await resolveInput(input, options.format).catch((error: unknown) => {
    if (baseline && error instanceof AnalyzeError) {
      throw new AnalyzeError(error.code, `--compare: ${error.message}`);
    }
    throw error;
  });
  const parallelism = positiveInt(
    'parallelism',
    options.parallelism ?? Math.min(8, availableParallelism()),
  );
  const [agg, listing, manifest] = await Promise.all([
    aggregateFile(resolved.languagesFile, resolved.format, resolved.languagesBytes, parallelism),
    readListing(resolved.reposFile),
    readManifest(resolved.manifestFile),
  ]);
  await numberLines(resolved.languagesFile, agg.malformedSamples);
  if (agg.records === 0 && agg.malformed > 0) {
    const other = resolved.format === 'blog' ? 'census' : 'blog';
    const fix = !baseline
      ? `if it is in the ${other} format, pass --input-format ${other}`
      : other === 'census'
        ? "if it is a census's languages.jsonl, compare with its directory"
        : 'if it is in the blog format, compare with that file itself';
    throw new AnalyzeError(
      'ERR_ANALYZE_FORMAT',
      `${baseline ? '--compare: ' : ''}${resolved.languagesFile}: no line could be read as ${resolved.format} format (first problem on line ${agg.malformedSamples[0]?.line}: ${agg.malformedSamples[0]?.reason}); ${fix}`,
    );
  }
  return finalize(agg, {
    top,
    pairs: positiveInt('pairs', options.pairs ?? 30),
    heatmap: positiveInt('heatmap', options.heatmap ?? 12),
    input: {
      format: resolved.format,
      path: resolved.path,
      languagesFile: resolved.languagesFile,
      reposFile: resolved.reposFile,
      manifest,
    },
    listed: listing?.listed ?? (resolved.format === 'blog' ? agg.records + agg.malformed : null),
    forks: listing?.forks ?? null,
  });
}

/**
 * Cuts a file into at most `parallelism` ranges of at least 4 MiB, for callers that aggregate
 * ranges themselves with `aggregateRange` and `mergePartials` (analyze hands out smaller chunks
 * on demand instead).
 */
export function splitRanges(
  path: string,
  format: InputFormat,
  size: number,
  parallelism: number,
): RangeTask[] {
  const pieces =
    parallelism <= 1 || size < MIN_RANGE_BYTES
      ? 1
      : Math.min(parallelism, Math.ceil(size / MIN_RANGE_BYTES));
  const step = Math.ceil(size / pieces);
  const tasks: RangeTask[] = [];
  for (let start = 0; start < size || tasks.length === 0; start += step) {
    tasks.push({ path, format, start, end: Math.min(size, start + step) });
  }
  return tasks;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new AnalyzeError(
      'ERR_ANALYZE_OPTION',
      `${name} must be a positive integer, got ${value}`,
    );
  }
  return value;
}
