import { setImmediate as nextTurn } from 'node:timers/promises';
import { ThreadPoolExecutor, taskModule } from '@forage/futures';
import { languageColor } from './colors.js';
import type { InputFormat, PartialAggregate } from './partial.js';
import { type ChunkedTask, chunkBounds, collectChunks } from './range.js';

/** The worker threads import the compiled range module themselves and call its export. */
const rangeModule = taskModule<typeof import('./range.js')>(new URL('./range.js', import.meta.url));

/** Below this a file is read by the calling thread alone: a worker's start-up would not pay. */
export const MIN_PARALLEL_BYTES = 8 << 20;

/**
 * Aggregates a languages file of `size` bytes on up to `parallelism` threads, the calling one
 * included, and returns the aggregate of the whole file.
 *
 * The file is cut into chunks, large first and small last, that the threads take in turn from
 * a shared atomic counter: the pool worker, which starts tens of milliseconds after the calling
 * thread and runs colder code at first, takes fewer chunks, and all threads finish together.
 * The calling thread reads from the start while a `ThreadPoolExecutor` of `parallelism - 1`
 * workers starts up. Each worker sends back its figures as typed arrays (a copy of bytes, not a
 * clone of objects) and the calling thread adds them into its own. The result does not depend
 * on which thread read which chunk (but for byte totals past 2^53, summed in floating point,
 * which reasons are counted by name past the 1,000 kept, and which pairs are counted when
 * pairs are incomplete). Languages are numbered in the order the threads met them; the summary orders them by
 * where they first appear in the file, never by those numbers.
 */
export async function aggregateFile(
  path: string,
  format: InputFormat,
  size: number,
  parallelism: number,
): Promise<PartialAggregate> {
  const threads = Math.max(1, Math.min(parallelism, Math.ceil(size / MIN_PARALLEL_BYTES)));
  const task: ChunkedTask = {
    path,
    format,
    bounds: threads === 1 ? Float64Array.of(0, size) : chunkBounds(size, threads),
    next: new Int32Array(new SharedArrayBuffer(4)),
  };
  if (threads === 1) return (await collectChunks(task)).toPartial();
  const pool = new ThreadPoolExecutor({
    maxWorkers: threads - 1,
    namePrefix: 'forage-analyze',
    // A small young generation: the workers allocate little that lives, and V8's default
    // semi-spaces would add tens of MB of RSS per worker for nothing.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
    // The task module is compiled JavaScript: no loader flags, so workers start sooner.
    execArgv: [],
  });
  let closing: Promise<void> | undefined;
  try {
    const inPool = Promise.all(
      Array.from({ length: threads - 1 }, () => pool.submit(rangeModule.collectChunksState, task)),
    );
    // Observed now, so that a worker failing while this thread reads is not "unhandled";
    // the error still surfaces through the await below.
    inPool.catch(() => {});
    // Let the pool post its work before this thread starts reading.
    await nextTurn();
    // The summary looks up each language's colour (a file read each); done as languages appear,
    // that work is shared out like the reading: the worker takes more chunks meanwhile.
    const here = await collectChunks(task, (name) => void languageColor(name));
    const states = await inPool;
    closing = pool.shutdown({ wait: true }); // the workers exit while this thread merges
    for (const state of states) here.absorb(state);
    return here.toPartial();
  } finally {
    await (closing ?? pool.shutdown({ wait: true }));
  }
}
