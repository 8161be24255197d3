/**
 * The benchmark's task module: the functions that run inside worker threads and child
 * processes. Workers import the compiled `tasks.js` through `taskModule`, so this file must
 * stay self-contained (no imports of the CLI).
 */
import { get } from 'node:http';

/** Naive odd-divisor trial division, exactly as in the blog's Python program. */
export function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) {
    if (n % d === 0) return false;
  }
  return true;
}

/** The sum of the primes below `n`: the blog's CPU-bound workload. */
export function sumPrimes(n: number): number {
  let sum = 0;
  for (let p = 2; p < n; p++) if (isPrime(p)) sum += p;
  return sum;
}

/** One HTTP GET: resolves with the response body's length once it has been read. */
export function httpGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => {
        if (res.statusCode === 200) resolve(bytes);
        else reject(new Error(`GET ${url} answered ${res.statusCode}`));
      });
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${url} timed out after 30 s`)));
    req.on('error', reject);
  });
}
