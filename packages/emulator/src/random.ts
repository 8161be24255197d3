/**
 * Deterministic randomness. Every synthetic fact about a repository is a pure function of
 * (seed, repository id, purpose), so any repository can be regenerated on demand without
 * storing anything: that is what keeps memory flat for ten million repositories.
 */

/** Mixes a 32-bit integer thoroughly (the finaliser of MurmurHash3). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a seed, an id (up to 2^53) and a purpose tag to 32 bits. */
export function hash32(seed: number, id: number, purpose: number): number {
  const lo = id >>> 0;
  const hi = Math.floor(id / 0x100000000) >>> 0;
  let h = fmix32(seed ^ 0x9e3779b9);
  h = fmix32(h ^ lo);
  h = fmix32(h ^ Math.imul(hi + 0x7f4a7c15, 0x27d4eb2f));
  return fmix32(h ^ Math.imul(purpose + 1, 0x165667b1));
}

/** A uniform number in [0, 1) for (seed, id, purpose). */
export function unit(seed: number, id: number, purpose: number): number {
  return hash32(seed, id, purpose) / 0x100000000;
}

/** A small, fast seeded generator (mulberry32) for drawing many values about one repository. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A uniform number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  }
  /** A standard normal draw (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** Index into cumulative weights (ascending, last = total) for a draw in [0, total). */
export function pickCumulative(cumulative: ArrayLike<number>, draw: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (draw < cumulative[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Cumulative sums of weights. */
export function cumulate(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i]!;
    out[i] = sum;
  }
  return out;
}
