/**
 * One benchmark run, meant for a fresh process (see `harness.ts`).
 *
 * Each run creates its executor, runs a cold pass, then the measured warm pass, then shuts the
 * executor down, like the blog's `with ThreadPoolExecutor() as executor:` block. The result has
 * both times, the CPU time of the process and its reaped children, and a checksum that proves
 * every mode computed the same thing.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  AsyncExecutor,
  type Executor,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  taskModule,
} from '@forage/futures';
import * as local from './tasks.js';
import type { NodeMode, Workload } from './workloads.js';

export interface RunSpec {
  readonly workload: Workload;
  readonly mode: NodeMode;
  readonly workers: number;
  readonly primes: readonly number[];
  readonly url: string;
  readonly requests: number;
}

export interface RunResult {
  /** The warm pass: the executor's workers are started and the JIT is warm. */
  readonly wallMs: number;
  /** The first pass, including creating the executor (what a one-shot script pays). */
  readonly coldMs: number;
  /** CPU time of the whole run (both passes and shutdown), children included. */
  readonly cpuMs: number;
  readonly checksum: number;
}

const tasks = taskModule<typeof import('./tasks.js')>(new URL('./tasks.js', import.meta.url));

/** CPU time of reaped child processes (Linux `/proc/self/stat` cutime + cstime), in ms. */
function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: field 16 (cutime) and 17 (cstime) are at offsets 13 and 14.
    const ticks = Number(fields[13]) + Number(fields[14]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

function createExecutor(mode: Exclude<NodeMode, 'sequential'>, workers: number): Executor {
  if (mode === 'async') return new AsyncExecutor({ maxWorkers: workers });
  if (mode === 'threads') return new ThreadPoolExecutor({ maxWorkers: workers });
  return new ProcessPoolExecutor({ maxWorkers: workers });
}

/** Runs the whole workload once with `call` (sequentially or through an executor). */
async function pass(
  spec: RunSpec,
  fns: typeof local,
  each: <A, R>(fn: (arg: A) => R | Promise<R>, inputs: readonly A[]) => AsyncIterable<R>,
  requests = spec.requests,
): Promise<number> {
  let checksum = 0;
  if (spec.workload === 'cpu') {
    for await (const sum of each(fns.sumPrimes, spec.primes)) checksum += sum;
  } else {
    const urls = Array.from({ length: requests }, () => spec.url);
    for await (const bytes of each(fns.httpGet, urls)) checksum += bytes;
  }
  return checksum;
}

async function* oneByOne<A, R>(fn: (arg: A) => R | Promise<R>, inputs: readonly A[]) {
  for (const input of inputs) yield await fn(input);
}

/**
 * Times one run: a cold pass (creating the executor, starting its workers, warming the JIT),
 * then the measured warm pass, then shutdown. CPU work repeats the whole list cold; I/O work
 * only sends a couple of requests per worker, enough to start them all.
 */
export async function run(spec: RunSpec): Promise<RunResult> {
  const cpu0 = process.cpuUsage();
  const children0 = childrenCpuMs();
  const warmRequests = Math.min(spec.requests, spec.workers * 2);
  const t0 = performance.now();
  let checksum: number;
  let t1: number;
  let t2: number;
  if (spec.mode === 'sequential') {
    await pass(spec, local, oneByOne, warmRequests);
    t1 = performance.now();
    checksum = await pass(spec, local, oneByOne);
    t2 = performance.now();
  } else {
    const executor = createExecutor(spec.mode, spec.workers);
    // The async executor runs functions on this thread; the pools import them from tasks.js.
    const fns = spec.mode === 'async' ? local : tasks;
    const each = <A, R>(fn: (arg: A) => R | Promise<R>, inputs: readonly A[]) =>
      executor.map(fn, inputs);
    try {
      await pass(spec, fns, each, warmRequests);
      t1 = performance.now();
      checksum = await pass(spec, fns, each);
      t2 = performance.now();
    } finally {
      await executor.shutdown({ wait: true });
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 + (childrenCpuMs() - children0);
  return { wallMs: t2 - t1, coldMs: t1 - t0, cpuMs, checksum };
}
