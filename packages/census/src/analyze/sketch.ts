/**
 * A mergeable quantile sketch for "bytes per repository" with bounded memory.
 *
 * It keeps every value exactly until it holds {@link EXACT_LIMIT} of them, then folds them into
 * log-linear buckets (the idea of DDSketch and HdrHistogram): each power of two is cut into
 * 128 equal buckets, read straight from the bits of the double (no logarithm), so a bucket's
 * midpoint is within 1/256 (0.4%) of every value in it and any quantile it reports is within
 * {@link RELATIVE_ACCURACY} of a value of the right rank. Memory is then bounded by the number
 * of buckets (6,912 for 1 byte .. 2^54), whatever the number of repositories.
 *
 * The sketch is plain data (typed arrays and numbers) so that it crosses worker threads by
 * structured clone; the functions below operate on it.
 */
export interface QuantileSketch {
  /** Number of values added. */
  count: number;
  /** Every value (in no particular order), while `count <= EXACT_LIMIT`; `null` once folded. */
  exact: Float64Array | null;
  /** Once the sketch is approximate: the count in each of the {@link BUCKETS} buckets. */
  buckets: Int32Array | null;
  /** Values of zero bytes, once approximate (they have no bucket). */
  zeros: number;
  /** Smallest and largest value seen (always exact). */
  min: number;
  max: number;
}

/** Values kept exactly per sketch before switching to buckets. */
export const EXACT_LIMIT = 8192;
/** Sub-buckets per power of two, as bits. */
const SUB_BITS = 7;
/** Relative error bound of a quantile once a sketch is approximate: half a bucket's width. */
export const RELATIVE_ACCURACY = 1 / 2 ** (SUB_BITS + 1);
/** Bucket indexes run from 0 (values below 2) to BUCKETS - 1 (2^54 and above). */
export const BUCKETS = 54 << SUB_BITS;
export const ZERO_BUCKET = 0x7fffffff;

// The high 32 bits of a double: sign, 11 exponent bits, the top 20 mantissa bits.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

export function createSketch(): QuantileSketch {
  return {
    count: 0,
    exact: new Float64Array(0),
    buckets: null,
    zeros: 0,
    min: Number.POSITIVE_INFINITY,
    max: 0,
  };
}

/** The bucket of a value: (exponent << SUB_BITS) | top mantissa bits; 0 has its own. */
export function bucketOf(value: number): number {
  if (value <= 0) return ZERO_BUCKET;
  if (value < 1) return 0;
  f64[0] = value;
  const high = u32[HIGH] as number;
  const index =
    ((((high >>> 20) & 0x7ff) - 1023) << SUB_BITS) |
    ((high >>> (20 - SUB_BITS)) & ((1 << SUB_BITS) - 1));
  return Math.min(index, BUCKETS - 1);
}

/** The midpoint of a bucket: within RELATIVE_ACCURACY of every value in it. */
function bucketValue(index: number): number {
  const scale = 2 ** (index >>> SUB_BITS);
  const sub = index & ((1 << SUB_BITS) - 1);
  return scale * (1 + (sub + 0.5) / (1 << SUB_BITS));
}

/** Adds the values to an approximate sketch's buckets (count, min and max are the caller's). */
function addValues(sketch: QuantileSketch, values: Float64Array): void {
  const buckets = sketch.buckets as Int32Array;
  for (const v of values) {
    if (v <= 0) sketch.zeros++;
    else buckets[bucketOf(v)]!++;
  }
}

function fold(sketch: QuantileSketch): Int32Array {
  const values = sketch.exact ?? new Float64Array(0);
  sketch.exact = null;
  sketch.buckets = new Int32Array(BUCKETS);
  addValues(sketch, values);
  return sketch.buckets;
}

/** Adds everything in `from` to `into` (from is left unchanged). */
export function mergeSketch(into: QuantileSketch, from: QuantileSketch): void {
  if (from.count === 0) return;
  into.count += from.count;
  into.min = Math.min(into.min, from.min);
  into.max = Math.max(into.max, from.max);
  if (
    into.exact !== null &&
    from.exact !== null &&
    into.exact.length + from.exact.length <= EXACT_LIMIT
  ) {
    const both = new Float64Array(into.exact.length + from.exact.length);
    both.set(into.exact);
    both.set(from.exact, into.exact.length);
    into.exact = both;
    return;
  }
  const buckets = into.buckets ?? fold(into);
  if (from.exact !== null) addValues(into, from.exact);
  else {
    const more = from.buckets as Int32Array;
    for (let b = 0; b < BUCKETS; b++) buckets[b]! += more[b] as number;
    into.zeros += from.zeros;
  }
}

/** True when quantiles from this sketch are estimates rather than exact. */
export function isApproximate(sketch: QuantileSketch): boolean {
  return sketch.exact === null;
}

/**
 * The q-quantile (0 <= q <= 1). Exact sketches interpolate linearly between the two nearest
 * ranks (numpy's default, so a median of an even count is the mean of the middle two).
 * Approximate sketches return the representative value of the bucket holding rank q*(n-1),
 * clamped to the exact min and max. Returns null for an empty sketch.
 */
export function quantile(sketch: QuantileSketch, q: number): number | null {
  return quantiles(sketch, [q])[0] as number | null;
}

/** Several quantiles of one sketch (see {@link quantile}), for the cost of one. */
export function quantiles(sketch: QuantileSketch, qs: readonly number[]): (number | null)[] {
  if (sketch.count === 0) return qs.map(() => null);
  if (sketch.exact !== null) {
    // Selecting the ranks needed is linear; sorting every value was most of the summary's time.
    // Ranks in increasing order: each selection leaves the larger values to the right of its
    // rank, so the next one only searches there.
    const values = sketch.exact.slice();
    const out: (number | null)[] = new Array(qs.length);
    let from = 0;
    for (const i of qs.map((_, i) => i).sort((x, y) => (qs[x] as number) - (qs[y] as number))) {
      const rank = (qs[i] as number) * (sketch.count - 1);
      const lo = Math.floor(rank);
      const a = select(values, lo, from);
      from = lo;
      let b = a;
      if (lo + 1 < values.length && rank > lo) {
        b = values[lo + 1] as number;
        for (let j = lo + 2; j < values.length; j++)
          if ((values[j] as number) < b) b = values[j] as number;
      }
      out[i] = a + (b - a) * (rank - lo);
    }
    return out;
  }
  const buckets = sketch.buckets as Int32Array;
  // Zero first, then the buckets in order.
  const clamp = (v: number) => Math.round(Math.min(sketch.max, Math.max(sketch.min, v)));
  return qs.map((q) => {
    const target = Math.floor(q * (sketch.count - 1));
    let seen = sketch.zeros;
    if (seen > target) return clamp(0);
    for (let b = 0; b < BUCKETS; b++) {
      seen += buckets[b] as number;
      // Byte counts are whole numbers, so the estimate is too.
      if (seen > target) return clamp(bucketValue(b));
    }
    return sketch.max;
  });
}

/**
 * The k-th smallest value (0-based) of `values`, which it reorders (Hoare's selection with a
 * median-of-three pivot), searching `values[from..]` only: everything before `from` must be
 * no larger than what follows. Reordering keeps the values, so later calls stay correct.
 */
function select(values: Float64Array, k: number, from = 0): number {
  let lo = from;
  let hi = values.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const x = values[lo] as number;
    const y = values[mid] as number;
    const z = values[hi] as number;
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z)); // median of three
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((values[i] as number) < pivot) i++;
      while ((values[j] as number) > pivot) j--;
      if (i <= j) {
        const t = values[i] as number;
        values[i] = values[j] as number;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k] as number;
  }
  return values[k] as number;
}
