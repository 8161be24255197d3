/**
 * QueueExecutor (BullMQ on Redis, `forage worker` processes) against ThreadPoolExecutor on one
 * machine: the overhead per tiny task (`add(i, 1)`), as throughput with a bounded number in
 * flight and as the median round trip of one task. Both use 2 workers. The queue's cost is
 * Redis round trips and BullMQ's job bookkeeping (about a dozen Redis commands per job), so
 * expect it to be far above a thread pool's: it is the price of running anywhere.
 *
 * Usage: npm run --workspace bench distributed [-- --tasks 5000 --inflight 512 --rounds 3]
 * Needs redis-server (Debian package) or FORAGE_TEST_REDIS_URL.
 */
import { QueueExecutor } from '@forage/distributed';
import { type Executor, type Future, ThreadPoolExecutor, taskModule } from '@forage/futures';
import {
  getRedis,
  redisSkipReason,
  type TestRedis,
  uniqueQueueName,
} from '../../packages/distributed/test/helpers/redis.ts';
import {
  type ForageProcess,
  spawnForage,
} from '../../packages/distributed/test/helpers/workers.ts';
import { type CensusRun, distributedCensus } from './census.ts';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
  return value;
}

const TASKS = option('tasks', 5000);
const INFLIGHT = option('inflight', 512);
const ROUNDS = option('rounds', 3);
const LATENCY_SAMPLES = option('latency', 200);
const CENSUS_REPOS = option('census-repos', 100_000);
const ONLY = (() => {
  const i = process.argv.indexOf('--only');
  return i === -1 ? 'all' : process.argv[i + 1];
})();

const tasks = taskModule<typeof import('./tasks.mjs')>(new URL('./tasks.mjs', import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] as number;
}

/** Submits TASKS tiny tasks with at most INFLIGHT pending; returns tasks per second. */
async function throughput(executor: Executor): Promise<number> {
  const start = performance.now();
  let inflight = 0;
  let sum = 0;
  let wake: (() => void) | undefined;
  const futures: Future<number>[] = [];
  for (let i = 0; i < TASKS; i++) {
    while (inflight >= INFLIGHT) await new Promise<void>((resolve) => (wake = resolve));
    inflight++;
    const future = executor.submit(tasks.add, i, 1);
    future.addDoneCallback(() => {
      inflight--;
      wake?.();
      wake = undefined;
    });
    futures.push(future);
  }
  for (const f of futures) sum += await f;
  const expected = (TASKS * (TASKS - 1)) / 2 + TASKS;
  if (sum !== expected) throw new Error(`wrong sum ${sum}, expected ${expected}`);
  return TASKS / ((performance.now() - start) / 1000);
}

/** Median round trip of one task at a time, in microseconds. */
async function latency(executor: Executor): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const start = performance.now();
    await executor.submit(tasks.add, i, 1);
    samples.push((performance.now() - start) * 1000);
  }
  return median(samples);
}

async function main(): Promise<void> {
  const skip = redisSkipReason();
  if (skip) {
    console.error(`bench distributed: ${skip}`);
    process.exit(1);
  }
  const redis = await getRedis();
  try {
    if (ONLY !== 'census') await executorOverhead(redis);
    if (ONLY !== 'executor') await censusScaling(redis);
  } finally {
    await redis.stop();
  }
}

async function censusScaling(redis: TestRedis): Promise<void> {
  console.log(
    `\ndistributed census, GitHub's limits per token, 100 ms +/- 30 ms latency; Node ${process.version}`,
  );
  const runs: CensusRun[] = [];
  for (const workers of [1, 3]) {
    const run = await distributedCensus(redis, workers, CENSUS_REPOS * workers);
    runs.push(run);
    console.log(`  ${workers} worker(s): ${run.repos} repositories in ${run.seconds.toFixed(1)} s`);
  }
  console.log(
    '| workers (one token each) | repositories | wall s | repos/s | requests | over limit |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const r of runs) {
    console.log(
      `| ${r.workers} | ${r.repos} | ${r.seconds.toFixed(1)} | ${Math.round(r.repos / r.seconds)} | ${r.requests} | ${r.overLimit} |`,
    );
  }
  const [one, three] = runs as [CensusRun, CensusRun];
  console.log(
    `\nthroughput scales ${(three.repos / three.seconds / (one.repos / one.seconds)).toFixed(2)}x from one token to three (target >= 2.4x)`,
  );
}

async function executorOverhead(redis: TestRedis): Promise<void> {
  const queue = uniqueQueueName('bench');
  const workers: ForageProcess[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const w = spawnForage([
        'worker',
        '--queue',
        redis.url,
        '--queue-name',
        queue,
        '--concurrency',
        '64',
        '--quiet',
      ]);
      workers.push(w);
    }
    await Promise.all(workers.map((w) => w.waitFor('ready on')));
    const queued = new QueueExecutor({ connection: redis.url, queue });
    const threads = new ThreadPoolExecutor({ maxWorkers: 2 });
    const executors: [string, Executor][] = [
      ['ThreadPoolExecutor (2 threads)', threads],
      ['QueueExecutor (2 forage workers, Redis)', queued],
    ];
    await throughput(threads);
    await throughput(queued);
    const rates = new Map<string, number[]>(executors.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, executor] of round % 2 ? [...executors].reverse() : executors) {
        rates.get(name)?.push(await throughput(executor));
      }
    }
    const latencies = new Map<string, number>();
    for (const [name, executor] of executors) latencies.set(name, await latency(executor));
    await Promise.all([threads.shutdown(), queued.shutdown()]);

    console.log(
      `tiny tasks (add), ${TASKS} per round, at most ${INFLIGHT} in flight, ${ROUNDS} rounds; Node ${process.version}`,
    );
    console.log(
      '| executor | tasks/s (median) | µs per task | round trip of one task, median µs |',
    );
    console.log('|---|---|---|---|');
    const rows = executors.map(([name]) => {
      const rate = median(rates.get(name) ?? []);
      return { name, rate, latency: latencies.get(name) ?? Number.NaN };
    });
    for (const row of rows) {
      console.log(
        `| ${row.name} | ${Math.round(row.rate)} | ${(1e6 / row.rate).toFixed(1)} | ${Math.round(row.latency)} |`,
      );
    }
    const [thread, queue_] = rows as [(typeof rows)[0], (typeof rows)[0]];
    console.log(
      `\nQueueExecutor costs ${(thread.rate / queue_.rate).toFixed(1)}x the thread pool's time per tiny task and ${(queue_.latency / thread.latency).toFixed(1)}x its round trip.`,
    );
  } finally {
    await Promise.all(workers.map((w) => w.interrupt()));
  }
}

await main();
