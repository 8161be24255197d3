/**
 * One benchmark run, meant for a fresh process (see `harness.ts`).
 *
 * Each run creates its executor, runs the whole workload and shuts the executor down, like the
 * blog's `with ThreadPoolExecutor() as executor:` block, so start-up cost is part of the time.
 * It prints one JSON line: wall time, CPU time of the process and its reaped children, and a
 * checksum that proves every mode computed the same thing.
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
  readonly wallMs: number;
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

async function sequential(spec: RunSpec): Promise<number> {
  let checksum = 0;
  if (spec.workload === 'cpu') for (const n of spec.primes) checksum += local.sumPrimes(n);
  else for (let i = 0; i < spec.requests; i++) checksum += await local.httpGet(spec.url);
  return checksum;
}

async function pooled(spec: RunSpec, mode: Exclude<NodeMode, 'sequential'>): Promise<number> {
  const executor = createExecutor(mode, spec.workers);
  // The async executor runs functions on this thread; the pools import them from tasks.js.
  const fns = mode === 'async' ? local : tasks;
  let checksum = 0;
  try {
    if (spec.workload === 'cpu') {
      for await (const sum of executor.map(fns.sumPrimes, spec.primes)) checksum += sum;
    } else {
      const urls = Array.from({ length: spec.requests }, () => spec.url);
      for await (const bytes of executor.map(fns.httpGet, urls)) checksum += bytes;
    }
  } finally {
    await executor.shutdown({ wait: true });
  }
  return checksum;
}

export async function run(spec: RunSpec): Promise<RunResult> {
  const cpu0 = process.cpuUsage();
  const children0 = childrenCpuMs();
  const t0 = performance.now();
  const checksum =
    spec.mode === 'sequential' ? await sequential(spec) : await pooled(spec, spec.mode);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 + (childrenCpuMs() - children0);
  return { wallMs, cpuMs, checksum };
}
