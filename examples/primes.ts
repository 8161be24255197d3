// The task module of sum-primes.ts: worker threads and child processes import it themselves.

/** Whether `n` is prime, by naive trial division (the blog's deliberately slow method). */
export function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** The sum of the primes below `n`. */
export function sumPrimes(n: number): number {
  let total = 0;
  for (let i = 2; i < n; i++) if (isPrime(i)) total += i;
  return total;
}
