// The blog's first program: sum the primes below each n, with a thread pool and then with a
// process pool. The two functions differ only in the executor class.
//
// Run: npx tsx examples/sum-primes.ts [n ...]
import {
  type Executor,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  taskModule,
} from '@forage/futures';

const tasks = taskModule<typeof import('./primes.ts')>(new URL('./primes.ts', import.meta.url));

async function sumPrimesWith(executor: Executor, nums: number[]): Promise<void> {
  const started = performance.now();
  let i = 0;
  for await (const total of executor.map(tasks.sumPrimes, nums)) {
    console.log(`sum of the primes below ${nums[i++]}: ${total}`);
  }
  console.log(`took ${(performance.now() - started).toFixed(0)} ms`);
}

export async function sumPrimesThread(nums: number[]): Promise<void> {
  await using executor = new ThreadPoolExecutor({ maxWorkers: 2 });
  await sumPrimesWith(executor, nums);
}

export async function sumPrimesProcess(nums: number[]): Promise<void> {
  await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
  await sumPrimesWith(executor, nums);
}

const fromArgs = process.argv.slice(2).map(Number);
const nums =
  fromArgs.length > 0 ? fromArgs : Array.from({ length: 16 }, (_, i) => 100_000 + i * 20_000);
if (fromArgs.some((n) => !Number.isSafeInteger(n) || n < 0)) {
  console.error('usage: npx tsx examples/sum-primes.ts [n ...]  (each n a non-negative integer)');
  process.exit(2);
}

console.log('threads:');
await sumPrimesThread(nums);
console.log('\nprocesses:');
await sumPrimesProcess(nums);
