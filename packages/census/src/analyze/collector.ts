import {
  addLanguage,
  createPartial,
  type InputFormat,
  MAX_PAIRS,
  PAIR_BASE,
  type PartialAggregate,
} from './partial.js';
import { BUCKETS, bucketOf, EXACT_LIMIT, type QuantileSketch, ZERO_BUCKET } from './sketch.js';

/** Languages whose pairs are counted in the dense matrix; rarer ones (hostile input) use a Map. */
const DENSE_PAIRS = 1024;

/**
 * The hot path of the aggregation: per-language counters in typed arrays, a dense pair matrix
 * and per-language value stores, all indexed by language number (no Map lookups or boxed
 * numbers per value). It turns into a plain, mergeable {@link PartialAggregate} with
 * {@link toPartial} when its range is done.
 */
export class Collector {
  /** Non-hot fields (statuses, malformed lines, reasons, ids) are kept on this partial. */
  readonly partial: PartialAggregate;
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
  private order = new Int32Array(64);
  private pairsTruncated = false;
  private perRepo: number[] = [];

  constructor(format: InputFormat) {
    this.partial = createPartial(format);
  }

  /** Adds a language and returns its number. */
  addLanguage(name: string): number {
    const i = addLanguage(this.partial, name);
    if (i >= this.cap) this.grow();
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
   * is the order GitHub's API returns. `offset` is the line's byte offset (for the study's
   * tie order).
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
    this.perRepo[k] = (this.perRepo[k] ?? 0) + 1;
    let best = 0;
    let bestSize = -1;
    for (let i = 0; i < k; i++) {
      const l = langs[i] as number;
      const v = sizes[i] as number;
      if (v > bestSize) {
        best = l;
        bestSize = v;
      }
      this.appearances[l]!++;
      this.bytes[l]! += v;
      if (this.firstSeen[l] === -1) this.firstSeen[l] = offset;
      this.addValue(l, v);
    }
    this.primary[best]!++;
    if (k > 1) this.addPairs(langs, k);
  }

  private addValue(l: number, v: number): void {
    const buckets = this.buckets[l];
    if (buckets) {
      // Exact values know their own min and max; only bucketed ones need tracking.
      if (v < (this.min[l] as number)) this.min[l] = v;
      if (v > (this.max[l] as number)) this.max[l] = v;
      if (v <= 0) this.zeros[l]!++;
      else buckets[bucketOf(v)]!++;
      return;
    }
    let store = this.exact[l] as Float64Array;
    const count = this.appearances[l]! - 1; // values stored before this one
    if (count === store.length) {
      if (count >= EXACT_LIMIT) {
        this.fold(l, store);
        this.addValue(l, v);
        return;
      }
      const bigger = new Float64Array(count * 2);
      bigger.set(store);
      store = bigger;
      this.exact[l] = store;
    }
    store[count] = v;
  }

  /** Switches a language from exact values to buckets. */
  private fold(l: number, store: Float64Array): void {
    const buckets = new Int32Array(BUCKETS);
    for (const v of store) {
      if (v < (this.min[l] as number)) this.min[l] = v;
      if (v > (this.max[l] as number)) this.max[l] = v;
      if (v <= 0) this.zeros[l]!++;
      else buckets[bucketOf(v)]!++;
    }
    this.buckets[l] = buckets;
    this.exact[l] = null;
  }

  private addPairs(langs: Int32Array, k: number): void {
    // Sorted ascending (insertion sort: k is small), every pair (i < j) is (a < b), so each
    // row of the triangular matrix is walked in order.
    if (this.order.length < k) this.order = new Int32Array(k * 2);
    const order = this.order;
    for (let i = 0; i < k; i++) {
      const x = langs[i] as number;
      let j = i;
      while (j > 0 && (order[j - 1] as number) > x) {
        order[j] = order[j - 1] as number;
        j--;
      }
      order[j] = x;
    }
    const cap = this.pairCap;
    const pairs = this.pairs;
    for (let i = 0; i < k; i++) {
      const a = order[i] as number;
      const row = a * cap;
      for (let j = i + 1; j < k; j++) {
        const b = order[j] as number;
        if (b < cap) pairs[row + b]!++;
        else this.addSparsePair(a, b);
      }
    }
  }

  private addSparsePair(a: number, b: number): void {
    const key = a * PAIR_BASE + b;
    const n = this.sparsePairs.get(key);
    if (n !== undefined) this.sparsePairs.set(key, n + 1);
    else if (this.sparsePairs.size < MAX_PAIRS && b < PAIR_BASE) this.sparsePairs.set(key, 1);
    else this.pairsTruncated = true;
  }

  /** The aggregate of everything collected, as plain mergeable data. */
  toPartial(): PartialAggregate {
    const p = this.partial;
    for (let l = 0; l < this.n; l++) {
      p.appearances[l] = this.appearances[l] as number;
      p.bytes[l] = this.bytes[l] as number;
      p.primary[l] = this.primary[l] as number;
      p.firstSeen[l] = this.firstSeen[l] as number;
      p.sketches[l] = this.sketch(l);
    }
    p.languagesPerRepo = Array.from(this.perRepo, (x) => x ?? 0);
    p.totalBytes = this.bytes.subarray(0, this.n).reduce((a, b) => a + b, 0);
    const cap = this.pairCap;
    for (let a = 0; a < Math.min(cap, this.n); a++) {
      for (let b = a + 1; b < Math.min(cap, this.n); b++) {
        const n = this.pairs[a * cap + b] as number;
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
      return { count, min, max, exact, buckets: null };
    }
    const map = new Map<number, number>();
    if (this.zeros[l]) map.set(ZERO_BUCKET, this.zeros[l] as number);
    buckets.forEach((n, b) => {
      if (n) map.set(b, n);
    });
    return {
      count,
      min: this.min[l] as number,
      max: this.max[l] as number,
      exact: null,
      buckets: map,
    };
  }
}
