import { ThreadPoolExecutor, taskModule } from '@forage/futures';
import type { PartialAggregate } from './partial.js';
import { aggregateRange, type RangeTask } from './range.js';

/** The worker threads import the compiled range module themselves and call its export. */
const rangeModule = taskModule<typeof import('./range.js')>(new URL('./range.js', import.meta.url));

/**
 * Aggregates each range and returns the partials in range order. One range, or a parallelism
 * of 1, runs on the calling thread. Otherwise the calling thread takes the first range itself
 * while a `ThreadPoolExecutor` of `parallelism - 1` workers takes the rest: the ranges are
 * independent and their partials are plain data, merged by the caller. (The calling thread
 * would only wait otherwise, and each worker costs an isolate's start-up and JIT warm-up.)
 */
export async function runRanges(
  tasks: readonly RangeTask[],
  parallelism: number,
): Promise<PartialAggregate[]> {
  if (tasks.length <= 1 || parallelism <= 1) {
    const out: PartialAggregate[] = [];
    for (const task of tasks) out.push(await aggregateRange(task));
    return out;
  }
  const [first, ...rest] = tasks as [RangeTask, ...RangeTask[]];
  const pool = new ThreadPoolExecutor({
    maxWorkers: Math.min(parallelism - 1, rest.length),
    namePrefix: 'forage-analyze',
    // A small young generation: the workers allocate little that lives, and V8's default
    // semi-spaces would add tens of MB of RSS per worker for nothing.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  try {
    const inPool = Promise.all(rest.map((task) => pool.submit(rangeModule.aggregateRange, task)));
    // Observed now, so that a worker failing while this thread reads is not "unhandled";
    // the error still surfaces through the await below.
    inPool.catch(() => {});
    // Let the pool start its work before this thread starts its own range.
    await new Promise((resolve) => setImmediate(resolve));
    const here = await aggregateRange(first);
    return [here, ...(await inPool)];
  } finally {
    await pool.shutdown({ wait: true });
  }
}
