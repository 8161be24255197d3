import {
  addLanguage,
  createPartial,
  type InputFormat,
  MAX_PAIRS,
  mergeCounts,
  PAIR_BASE,
  type PartialAggregate,
} from './partial.js';
import { BUCKETS, bucketOf, EXACT_LIMIT, type QuantileSketch } from './sketch.js';

/** Languages whose pairs are counted in the dense matrix; rarer ones (hostile input) use a Map. */
const DENSE_PAIRS = 1024;
/**
 * A repository listing more languages than this (Linguist knows about 830) is not counted in
 * the pairs, which are then flagged as incomplete: its k² / 2 pairs would take minutes (60,000
 * languages on one line: 1.8 billion pairs, 4.5 minutes).
 */
const MAX_PAIR_LANGUAGES = 2048;

/**
 * A collector's figures as plain data, mostly typed arrays: what a worker thread sends back
 * (a structured clone of typed arrays is a copy of their bytes) and {@link Collector.absorb}
 * adds in. Per-language arrays are indexed by the sender's language numbers (`names`).
 */
export interface CollectorState {
  /** Statuses, malformed lines, reasons and ids (its per-language arrays are empty). */
  partial: PartialAggregate;
  names: string[];
  appearances: Float64Array;
  bytes: Float64Array;
  primary: Float64Array;
  firstSeen: Float64Array;
  min: Float64Array;
  max: Float64Array;
  zeros: Float64Array;
  /** Per language: its values while exact (trimmed to its count), else null. */
  exact: (Float64Array | null)[];
  /** Per language: its bucket counts once approximate, else null. */
  buckets: (Int32Array | null)[];
  pairCap: number;
  /** pairs[a * pairCap + b] (either order) counts repositories listing a before b. */
  pairs: Int32Array;
  sparsePairs: Map<number, number>;
  pairsTruncated: boolean;
  perRepo: Float64Array;
}

/**
 * The hot path of the aggregation: per-language counters in typed arrays, a dense pair matrix
 * and per-language value stores, all indexed by language number (no Map lookups or boxed
 * numbers per value). Collectors of different threads combine through {@link state} and
 * {@link absorb}; {@link toPartial} turns the result into a plain, mergeable
 * {@link PartialAggregate}.
 */
export class Collector {
  /** Non-hot fields (statuses, malformed lines, reasons, ids) are kept on this partial. */
  readonly partial: PartialAggregate;
  private names: string[] = [];
  private byName = new Map<string, number>();
  private n = 0;
  private cap = 64;
  private appearances = new Float64Array(this.cap);
  private bytes = new Float64Array(this.cap);
  private primary = new Float64Array(this.cap);
  private firstSeen = new Float64Array(this.cap);
  private min = new Float64Array(this.cap);
  private max = new Float64Array(this.cap);
  private exact: (Float64Array | null)[] = [];
  private buckets: (Int32Array | null)[] = [];
  private zeros = new Float64Array(this.cap);
  private pairCap = 64;
  private pairs = new Int32Array(this.pairCap * this.pairCap);
  private sparsePairs = new Map<number, number>();
  private pairsTruncated = false;
  private perRepo = new Float64Array(64);

  /** `onLanguage` is called with each new language's name (not with absorbed ones). */
  constructor(
    format: InputFormat,
    private readonly onLanguage?: (name: string) => void,
  ) {
    this.partial = createPartial(format);
  }

  /** The number of a language, adding it when new. */
  languageOf(name: string): number {
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    this.onLanguage?.(name);
    return this.addLanguage(name);
  }

  private addLanguage(name: string): number {
    const i = this.n;
    if (i >= this.cap) this.grow();
    this.names.push(name);
    this.byName.set(name, i);
    this.n = i + 1;
    this.firstSeen[i] = -1;
    this.min[i] = Number.POSITIVE_INFINITY;
    this.exact.push(new Float64Array(16));
    this.buckets.push(null);
    if (i >= this.pairCap && this.pairCap < DENSE_PAIRS) this.growPairs();
    return i;
  }

  private grow(): void {
    this.cap *= 2;
    const widen = (a: Float64Array) => {
      const b = new Float64Array(this.cap);
      b.set(a);
      return b;
    };
    this.appearances = widen(this.appearances);
    this.bytes = widen(this.bytes);
    this.primary = widen(this.primary);
    this.firstSeen = widen(this.firstSeen);
    this.min = widen(this.min);
    this.max = widen(this.max);
    this.zeros = widen(this.zeros);
  }

  private growPairs(): void {
    const old = this.pairCap;
    const next = Math.min(DENSE_PAIRS, old * 2);
    const pairs = new Int32Array(next * next);
    for (let a = 0; a < old; a++) pairs.set(this.pairs.subarray(a * old, a * old + old), a * next);
    this.pairs = pairs;
    this.pairCap = next;
  }

  /**
   * Records one repository's languages: `langs[0..k)` are distinct language numbers, `sizes`
   * their byte counts in the order the file gave them. The primary language is the one with
   * the most bytes (GitHub's and GitHut's definition); on a tie the first listed wins, which
   * is the order GitHub's API returns. `offset` is the line's byte offset: a language met for
   * the first time is recorded at `offset + i`, its place in the file (see
   * {@link PartialAggregate.firstSeen}), which orders ties as the study's script did.
   */
  addRepository(langs: Int32Array, sizes: Float64Array, k: number, offset: number): void {
    const p = this.partial;
    p.records++;
    if (k === 0) {
      if (p.format === 'blog') p.status.unknown++;
      else p.status.empty++;
      return;
    }
    p.status.withLanguages++;
    if (k >= this.perRepo.length) this.perRepo = widen(this.perRepo, k * 2);
    this.perRepo[k]!++;
    const appearances = this.appearances;
    const bytes = this.bytes;
    const firstSeen = this.firstSeen;
    let best = 0;
    let bestSize = -1;
    for (let i = 0; i < k; i++) {
      const l = langs[i] as number;
      const v = sizes[i] as number;
      if (v > bestSize) {
        best = l;
        bestSize = v;
      }
      const count = appearances[l] as number;
      appearances[l] = count + 1;
      bytes[l]! += v;
      // Its place on the line too: languages first met on one line otherwise tie, and then
      // came out in the order this thread happened to number them.
      if (count === 0) firstSeen[l] = offset + i;
      this.addValue(l, v, count);
    }
    this.primary[best]!++;
    if (k > MAX_PAIR_LANGUAGES) this.pairsTruncated = true;
    else if (k > 1) this.addPairs(langs, k);
  }

  /** Stores value `v` of language `l`, which holds `count` values before it. */
  private addValue(l: number, v: number, count: number): void {
    const buckets = this.buckets[l];
    if (buckets !== null && buckets !== undefined) {
      // Exact values know their own min and max; only bucketed ones need tracking.
      if (v < (this.min[l] as number)) this.min[l] = v;
      if (v > (this.max[l] as number)) this.max[l] = v;
      if (v <= 0) this.zeros[l]!++;
      else buckets[bucketOf(v)]!++;
      return;
    }
    let store = this.exact[l] as Float64Array;
    if (count === store.length) {
      if (count >= EXACT_LIMIT) {
        this.fold(l, count);
        this.addValue(l, v, count);
        return;
      }
      store = widen(store, count * 2);
      this.exact[l] = store;
    }
    store[count] = v;
  }

  /** Adds values to a language that is already in buckets. */
  private addToBuckets(l: number, values: Float64Array): void {
    const buckets = this.buckets[l] as Int32Array;
    let min = this.min[l] as number;
    let max = this.max[l] as number;
    let zeros = this.zeros[l] as number;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v < min) min = v;
      if (v > max) max = v;
      if (v <= 0) zeros++;
      else buckets[bucketOf(v)]!++;
    }
    this.min[l] = min;
    this.max[l] = max;
    this.zeros[l] = zeros;
  }

  /** Switches a language from its `count` exact values to buckets. */
  private fold(l: number, count: number): void {
    const store = this.exact[l] as Float64Array;
    this.buckets[l] = new Int32Array(BUCKETS);
    this.exact[l] = null;
    // Nothing after the loop: V8 compiles this hot loop on the fly (on-stack replacement), and
    // code after it, never run before, would throw that code away again at every fold.
    for (let i = 0; i < count; i++) this.addValue(l, store[i] as number, i);
  }

  private addPairs(langs: Int32Array, k: number): void {
    // Counted in the order listed, a before b at [a][b]; [a][b] + [b][a] is the pair's count.
    // (Cheaper than sorting each repository's languages.)
    const cap = this.pairCap;
    const pairs = this.pairs;
    for (let i = 0; i < k; i++) {
      const a = langs[i] as number;
      if (a >= cap) {
        for (let j = i + 1; j < k; j++) this.addSparsePair(a, langs[j] as number, 1);
        continue;
      }
      const row = a * cap;
      for (let j = i + 1; j < k; j++) {
        const b = langs[j] as number;
        if (b < cap) pairs[row + b]!++;
        else this.addSparsePair(a, b, 1);
      }
    }
  }

  private addSparsePair(x: number, y: number, n: number): void {
    const a = Math.min(x, y);
    const b = Math.max(x, y);
    const key = a * PAIR_BASE + b;
    const cur = this.sparsePairs.get(key);
    if (cur !== undefined) this.sparsePairs.set(key, cur + n);
    else if (this.sparsePairs.size < MAX_PAIRS && b < PAIR_BASE) this.sparsePairs.set(key, n);
    else this.pairsTruncated = true;
  }

  /** Repositories with both a and b (a !== b), from the dense matrix. */
  private densePair(a: number, b: number): number {
    const cap = this.pairCap;
    return (this.pairs[a * cap + b] as number) + (this.pairs[b * cap + a] as number);
  }

  /** This collector's figures as plain data, to send to another thread. */
  state(): CollectorState {
    const n = this.n;
    return {
      partial: this.partial,
      names: this.names,
      appearances: this.appearances.slice(0, n),
      bytes: this.bytes.slice(0, n),
      primary: this.primary.slice(0, n),
      firstSeen: this.firstSeen.slice(0, n),
      min: this.min.slice(0, n),
      max: this.max.slice(0, n),
      zeros: this.zeros.slice(0, n),
      exact: this.exact.map((store, l) =>
        store === null ? null : store.slice(0, this.appearances[l] as number),
      ),
      buckets: this.buckets,
      pairCap: this.pairCap,
      pairs: this.pairs,
      sparsePairs: this.sparsePairs,
      pairsTruncated: this.pairsTruncated,
      perRepo: this.perRepo,
    };
  }

  /** Adds another collector's figures (from {@link state}) to this one. */
  absorb(s: CollectorState): void {
    mergeCounts(this.partial, s.partial);
    const remap = s.names.map((name) => this.byName.get(name) ?? this.addLanguage(name));
    for (let j = 0; j < s.names.length; j++) {
      const l = remap[j] as number;
      this.bytes[l]! += s.bytes[j] as number;
      this.primary[l]! += s.primary[j] as number;
      const seen = s.firstSeen[j] as number;
      const cur = this.firstSeen[l] as number;
      if (seen !== -1 && (cur === -1 || seen < cur)) this.firstSeen[l] = seen;
      const values = s.exact[j];
      const stored = this.appearances[l] as number;
      const store = this.exact[l];
      if (values && store && stored + values.length <= EXACT_LIMIT) {
        // Still exact: the values are appended at once.
        if (stored + values.length > store.length)
          this.exact[l] = widen(store, Math.max(store.length * 2, stored + values.length));
        (this.exact[l] as Float64Array).set(values, stored);
        this.appearances[l] = stored + values.length;
        continue;
      }
      if (values) {
        // Together past the exact limit: into buckets, which hold the same whatever the order
        // the values come in (counts, zeros, min and max).
        if (store) this.fold(l, stored);
        this.addToBuckets(l, values);
        this.appearances[l] = stored + values.length;
        continue;
      }
      if (this.buckets[l] === null) this.fold(l, this.appearances[l] as number);
      const into = this.buckets[l] as Int32Array;
      const from = s.buckets[j] as Int32Array;
      for (let b = 0; b < BUCKETS; b++) into[b]! += from[b] as number;
      this.appearances[l]! += s.appearances[j] as number;
      this.zeros[l]! += s.zeros[j] as number;
      this.min[l] = Math.min(this.min[l] as number, s.min[j] as number);
      this.max[l] = Math.max(this.max[l] as number, s.max[j] as number);
    }
    const dense = Math.min(s.pairCap, s.names.length);
    for (let a = 0; a < dense; a++) {
      for (let b = a + 1; b < dense; b++) {
        const n = (s.pairs[a * s.pairCap + b] as number) + (s.pairs[b * s.pairCap + a] as number);
        if (n) this.addPairCount(remap[a] as number, remap[b] as number, n);
      }
    }
    for (const [key, n] of s.sparsePairs) {
      this.addPairCount(
        remap[Math.floor(key / PAIR_BASE)] as number,
        remap[key % PAIR_BASE] as number,
        n,
      );
    }
    this.pairsTruncated ||= s.pairsTruncated;
    if (s.perRepo.length > this.perRepo.length)
      this.perRepo = widen(this.perRepo, s.perRepo.length);
    for (let k = 0; k < s.perRepo.length; k++) this.perRepo[k]! += s.perRepo[k] as number;
  }

  private addPairCount(a: number, b: number, n: number): void {
    const cap = this.pairCap;
    if (a < cap && b < cap) this.pairs[a * cap + b]! += n;
    else this.addSparsePair(a, b, n);
  }

  /** The aggregate of everything collected, as plain mergeable data. */
  toPartial(): PartialAggregate {
    const p = this.partial;
    for (let l = 0; l < this.n; l++) {
      addLanguage(p, this.names[l] as string);
      p.appearances[l] = this.appearances[l] as number;
      p.bytes[l] = this.bytes[l] as number;
      p.primary[l] = this.primary[l] as number;
      p.firstSeen[l] = this.firstSeen[l] as number;
      p.sketches[l] = this.sketch(l);
    }
    let last = this.perRepo.length - 1;
    while (last > 0 && this.perRepo[last] === 0) last--;
    p.languagesPerRepo = last > 0 ? Array.from(this.perRepo.subarray(0, last + 1)) : [];
    p.totalBytes = this.bytes.subarray(0, this.n).reduce((a, b) => a + b, 0);
    const dense = Math.min(this.pairCap, this.n);
    for (let a = 0; a < dense; a++) {
      for (let b = a + 1; b < dense; b++) {
        const n = this.densePair(a, b);
        if (n) p.pairs.set(a * PAIR_BASE + b, n);
      }
    }
    for (const [key, n] of this.sparsePairs) p.pairs.set(key, n);
    p.pairsTruncated = this.pairsTruncated;
    return p;
  }

  private sketch(l: number): QuantileSketch {
    const count = this.appearances[l] as number;
    const buckets = this.buckets[l];
    if (!buckets) {
      const exact = (this.exact[l] as Float64Array).slice(0, count);
      let min = Number.POSITIVE_INFINITY;
      let max = 0;
      for (const v of exact) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      return { count, min, max, exact, buckets: null, zeros: 0 };
    }
    return {
      count,
      min: this.min[l] as number,
      max: this.max[l] as number,
      exact: null,
      buckets: buckets.slice(),
      zeros: this.zeros[l] as number,
    };
  }
}

/** A copy of `a` with room for `length` values. */
function widen(a: Float64Array, length: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(length);
  b.set(a);
  return b;
}
