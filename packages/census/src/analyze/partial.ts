import { withoutControls } from './format.js';
import { createSketch, mergeSketch, type QuantileSketch } from './sketch.js';

/** How a languages file is laid out: the census's `languages.jsonl` or the 2016 study's file. */
export type InputFormat = 'census' | 'blog';

/** Counts of records by what the collector could say about them. */
export interface StatusCounts {
  /** Records with at least one language. */
  withLanguages: number;
  /** Known to have no detectable language (census status `empty`, or `ok` with `{}`). */
  empty: number;
  /** `{}` in a blog-format file: empty or failed, the file cannot tell which. */
  unknown: number;
  notFound: number;
  blocked: number;
  failed: number;
}

/** Where a line could not be read, kept for the error report (a few examples only). */
export interface MalformedSample {
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  /** Its line number (from 1), once the whole file has been read (see `numberLines`). */
  line?: number;
  reason: string;
}

/**
 * The aggregate of a contiguous run of lines: everything the summary needs, mergeable in any
 * order with {@link mergePartials}, and plain data so it crosses worker threads. Languages are
 * numbered in the order this partial first met them; `names[i]` is language i.
 */
export interface PartialAggregate {
  format: InputFormat;
  /** Lines read as records (blank and malformed lines are not records). */
  records: number;
  status: StatusCounts;
  malformed: number;
  malformedSamples: MalformedSample[];
  /**
   * Reasons given for `blocked` and `error` records, counted: up to {@link MAX_REASONS}
   * distinct ones, the rest under "other". The summary names the most frequent of them.
   */
  reasons: Map<string, number>;
  names: string[];
  appearances: number[];
  bytes: number[];
  primary: number[];
  /**
   * Where the language first appears in the file (the study's tie order): the byte offset of
   * the first line listing it plus its index among that line's languages, -1 if it never
   * does. A line is longer than the number of languages it lists, so these positions order
   * languages as the file lists them, across lines and within one, and are never equal.
   */
  firstSeen: number[];
  sketches: QuantileSketch[];
  /** languagesPerRepo[k] = repositories with exactly k languages (k >= 1). */
  languagesPerRepo: number[];
  /** Key `a * PAIR_BASE + b` (a < b, language numbers) -> repositories with both. */
  pairs: Map<number, number>;
  /** True when the pair table hit {@link MAX_PAIRS} and stopped adding new pairs. */
  pairsTruncated: boolean;
  totalBytes: number;
  idMin: number | null;
  idMax: number | null;
}

/** Pair keys stay small integers (fast Map keys) for up to 32,768 languages; beyond, pairs are truncated. */
export const PAIR_BASE = 2 ** 15;
/** Pair table bound: far above the ~46,000 pairs 304 languages can form. */
export const MAX_PAIRS = 2_000_000;
const MAX_SAMPLES = 5;
/**
 * Distinct reasons counted by name: far more than the summary names, so that which it names
 * (the most frequent) does not depend on which thread met which reason first; the bound keeps
 * memory small when every error message is different.
 */
const MAX_REASONS = 1000;

export function createPartial(format: InputFormat): PartialAggregate {
  return {
    format,
    records: 0,
    status: { withLanguages: 0, empty: 0, unknown: 0, notFound: 0, blocked: 0, failed: 0 },
    malformed: 0,
    malformedSamples: [],
    reasons: new Map(),
    names: [],
    appearances: [],
    bytes: [],
    primary: [],
    firstSeen: [],
    sketches: [],
    languagesPerRepo: [],
    pairs: new Map(),
    pairsTruncated: false,
    totalBytes: 0,
    idMin: null,
    idMax: null,
  };
}

/** Adds a language to the partial's table and returns its number. */
export function addLanguage(p: PartialAggregate, name: string): number {
  const i = p.names.length;
  p.names.push(name);
  p.appearances.push(0);
  p.bytes.push(0);
  p.primary.push(0);
  p.firstSeen.push(-1);
  p.sketches.push(createSketch());
  return i;
}

export function noteMalformed(p: PartialAggregate, offset: number, reason: string): void {
  p.malformed++;
  // JSON.parse quotes the bad line in its message, escape sequences and all: the reason is
  // printed on the terminal (warnings, errors), so it keeps no control character.
  if (p.malformedSamples.length < MAX_SAMPLES)
    p.malformedSamples.push({ offset, reason: withoutControls(reason) });
}

export function noteReason(p: PartialAggregate, reason: string, n = 1): void {
  const text = reason.length > 120 ? `${reason.slice(0, 117)}...` : reason;
  const key = p.reasons.has(text) || p.reasons.size < MAX_REASONS ? text : 'other';
  p.reasons.set(key, (p.reasons.get(key) ?? 0) + n);
}

export function noteId(p: PartialAggregate, id: unknown): void {
  if (typeof id !== 'number' || !Number.isFinite(id)) return;
  if (p.idMin === null || id < p.idMin) p.idMin = id;
  if (p.idMax === null || id > p.idMax) p.idMax = id;
}

/**
 * Adds the counts that are not per language (records, statuses, malformed lines, reasons, ids)
 * of `part` into `out`. The malformed examples kept are the first in the file, whatever the
 * order of merging.
 */
export function mergeCounts(out: PartialAggregate, part: PartialAggregate): void {
  out.records += part.records;
  for (const key of Object.keys(out.status) as (keyof StatusCounts)[]) {
    out.status[key] += part.status[key];
  }
  out.malformed += part.malformed;
  if (part.malformedSamples.length) {
    out.malformedSamples = [...out.malformedSamples, ...part.malformedSamples]
      .sort((a, b) => a.offset - b.offset)
      .slice(0, MAX_SAMPLES);
  }
  for (const [reason, n] of part.reasons) noteReason(out, reason, n);
  if (part.idMin !== null) noteId(out, part.idMin);
  if (part.idMax !== null) noteId(out, part.idMax);
}

/** Merges partials (any order) into a new one; the inputs are not modified. */
export function mergePartials(
  format: InputFormat,
  parts: readonly PartialAggregate[],
): PartialAggregate {
  const out = createPartial(format);
  const index = new Map<string, number>();
  for (const part of parts) {
    mergeCounts(out, part);
    const remap = part.names.map((name) => {
      let i = index.get(name);
      if (i === undefined) {
        i = addLanguage(out, name);
        index.set(name, i);
      }
      return i;
    });
    for (let j = 0; j < part.names.length; j++) {
      const i = remap[j] as number;
      out.appearances[i]! += part.appearances[j] as number;
      out.bytes[i]! += part.bytes[j] as number;
      out.primary[i]! += part.primary[j] as number;
      const seen = part.firstSeen[j] as number;
      const cur = out.firstSeen[i] as number;
      if (seen !== -1 && (cur === -1 || seen < cur)) out.firstSeen[i] = seen;
      mergeSketch(out.sketches[i] as QuantileSketch, part.sketches[j] as QuantileSketch);
    }
    part.languagesPerRepo.forEach((n, k) => {
      if (n) out.languagesPerRepo[k] = (out.languagesPerRepo[k] ?? 0) + n;
    });
    for (const [key, n] of part.pairs) {
      const a = remap[Math.floor(key / PAIR_BASE)] as number;
      const b = remap[key % PAIR_BASE] as number;
      const k2 = a < b ? a * PAIR_BASE + b : b * PAIR_BASE + a;
      const cur = out.pairs.get(k2);
      if (cur !== undefined) out.pairs.set(k2, cur + n);
      else if (out.pairs.size < MAX_PAIRS && a < PAIR_BASE && b < PAIR_BASE) out.pairs.set(k2, n);
      else out.pairsTruncated = true;
    }
    out.pairsTruncated ||= part.pairsTruncated;
    out.totalBytes += part.totalBytes;
  }
  out.languagesPerRepo = Array.from(out.languagesPerRepo, (n) => n ?? 0);
  return out;
}
