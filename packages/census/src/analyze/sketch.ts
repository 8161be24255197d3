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
 * The sketch is plain data (arrays and a Map) so that it crosses worker threads by structured
 * clone; the functions below operate on it.
 */
export interface QuantileSketch {
  /** Number of values added. */
  count: number;
  /** Every value (in no particular order), while `count <= EXACT_LIMIT`; `null` once folded. */
  exact: Float64Array | null;
  /** Bucket index -> count, once the sketch is approximate. Zero bytes use index 0x7fffffff. */
  buckets: Map<number, number> | null;
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
  if (index === ZERO_BUCKET) return 0;
  const scale = 2 ** (index >>> SUB_BITS);
  const sub = index & ((1 << SUB_BITS) - 1);
  return scale * (1 + (sub + 0.5) / (1 << SUB_BITS));
}

function fold(sketch: QuantileSketch): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const v of sketch.exact ?? []) {
    const b = bucketOf(v);
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
  }
  sketch.exact = null;
  sketch.buckets = buckets;
  return buckets;
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
  if (from.exact !== null) {
    for (const v of from.exact) {
      const b = bucketOf(v);
      buckets.set(b, (buckets.get(b) ?? 0) + 1);
    }
  } else {
    for (const [b, n] of from.buckets as Map<number, number>)
      buckets.set(b, (buckets.get(b) ?? 0) + n);
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
    const values = sketch.exact.slice();
    return qs.map((q) => {
      const rank = q * (sketch.count - 1);
      const lo = Math.floor(rank);
      const a = select(values, lo);
      const b = Math.ceil(rank) === lo ? a : select(values, lo + 1);
      return a + (b - a) * (rank - lo);
    });
  }
  const buckets = sketch.buckets as Map<number, number>;
  // Zero sorts first; the rest by bucket index.
  const keys = [...buckets.keys()].sort((x, y) =>
    x === ZERO_BUCKET ? -1 : y === ZERO_BUCKET ? 1 : x - y,
  );
  return qs.map((q) => {
    const target = Math.floor(q * (sketch.count - 1));
    let seen = 0;
    for (const k of keys) {
      seen += buckets.get(k) as number;
      // Byte counts are whole numbers, so the estimate is too.
      if (seen > target)
        return Math.round(Math.min(sketch.max, Math.max(sketch.min, bucketValue(k))));
    }
    return sketch.max;
  });
}

/**
 * The k-th smallest value (0-based) of `values`, which it reorders (Hoare's selection with a
 * median-of-three pivot). Reordering keeps the values, so later calls stay correct.
 */
function select(values: Float64Array, k: number): number {
  let lo = 0;
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
