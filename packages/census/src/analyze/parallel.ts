import type { PartialAggregate } from './partial.js';
import { aggregateRange, type RangeTask } from './range.js';

/**
 * Aggregates each range and returns the partials in range order. Runs on the calling thread
 * for now: `@forage/futures`' ThreadPoolExecutor takes over here once it lands, with
 * `aggregateRange` as the task (ranges are independent and their partials are plain data).
 */
export async function runRanges(
  tasks: readonly RangeTask[],
  parallelism: number,
): Promise<PartialAggregate[]> {
  void parallelism;
  const out: PartialAggregate[] = [];
  for (const task of tasks) out.push(await aggregateRange(task));
  return out;
}
