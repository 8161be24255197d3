import { ThreadPoolExecutor, taskModule } from '@forage/futures';
import type { PartialAggregate } from './partial.js';
import { aggregateRange, type RangeTask } from './range.js';

/** The worker threads import the compiled range module themselves and call its export. */
const rangeModule = taskModule<typeof import('./range.js')>(new URL('./range.js', import.meta.url));

/**
 * Aggregates each range and returns the partials in range order. One range, or a parallelism
 * of 1, runs on the calling thread; otherwise a `ThreadPoolExecutor` of up to `parallelism`
 * workers takes the ranges (they are independent and their partials are plain data, merged
 * by the caller).
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
  const pool = new ThreadPoolExecutor({
    maxWorkers: Math.min(parallelism, tasks.length),
    namePrefix: 'forage-analyze',
    // A small young generation: the workers allocate little that lives, and V8's default
    // semi-spaces would add tens of MB of RSS per worker for nothing.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  try {
    return await Promise.all(tasks.map((task) => pool.submit(rangeModule.aggregateRange, task)));
  } finally {
    await pool.shutdown({ wait: true });
  }
}
