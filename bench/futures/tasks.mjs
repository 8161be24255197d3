// The benchmark's task module: the same functions for every contender (file-based pools load
// this file; @forage/futures reaches it through taskModule()).

/** The tiny task. */
export function inc(x) {
  return x + 1;
}

/** The tiny task over a chunk, for pools without a map/chunksize of their own. */
export function incChunk(items) {
  const out = new Array(items.length);
  for (let i = 0; i < items.length; i++) out[i] = items[i] + 1;
  return out;
}

function isPrime(n) {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** The blog's seed workload: sum of the primes below n by naive trial division. */
export function sumPrimes(n) {
  let total = 0;
  for (let i = 2; i < n; i++) if (isPrime(i)) total += i;
  return total;
}

// piscina and tinypool call a named export; they also want a default.
export default inc;
