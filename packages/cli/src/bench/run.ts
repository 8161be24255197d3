/**
 * `forage bench`: runs each workload in every mode, several times, each run in a fresh process,
 * and gathers the medians that the table, the sentences and the chart are drawn from.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startSlowServer } from './io-server.js';
import { type Measurement, measure } from './measure.js';
import type { RunSpec } from './run-once.js';
import {
  ioDelayMs,
  type Mode,
  nodeModes,
  type PythonMode,
  pythonModes,
  type Size,
  sizes,
  type Workload,
} from './workloads.js';

export interface BenchOptions {
  readonly workloads: readonly Workload[];
  readonly size: Size;
  /** Workers per executor; default: cores for CPU work, min(32, cores + 4) for I/O (Python's default). */
  readonly workers?: number;
  readonly python: boolean;
  /** Runs per mode (default: the size's own). */
  readonly repeats?: number;
  /** Stops the benchmark: the run in progress and its processes are killed, runBench rejects. */
  readonly signal?: AbortSignal;
  /** A run still going after this long is killed and its mode reported as failed (15 min). */
  readonly runTimeoutMs?: number;
  /** Called after each run, for progress output. */
  readonly onRun?: (workload: Workload, mode: Mode, index: number, total: number) => void;
}

export interface ModeResult {
  readonly mode: Mode;
  /** Medians over the runs: the warm pass, the cold pass (with start-up), CPU of a whole run. */
  readonly wallMs: number;
  readonly coldMs: number;
  readonly cpuMs: number;
  /** The largest peak over the runs. */
  readonly peakRssBytes: number;
  /** Sequential wall time (of the same language) divided by this mode's. */
  readonly speedup: number;
  /** Speedup divided by the parallelism available to it (see {@link parallelism}). */
  readonly efficiency: number;
  readonly runs: readonly Measurement[];
}

/** A mode left out of a workload's results, and why. */
export interface ModeFailure {
  readonly mode: Mode;
  readonly error: string;
}

export interface WorkloadResult {
  readonly workload: Workload;
  readonly workers: number;
  readonly tasks: number;
  readonly modes: readonly ModeResult[];
  /** Modes that failed (a run exited badly or computed another checksum), or lost their baseline. */
  readonly failures: readonly ModeFailure[];
}

export interface BenchResult {
  readonly size: Size;
  readonly cores: number;
  readonly node: string;
  /** `python3 --version`, or null when Python was not asked for or is missing. */
  readonly python: string | null;
  readonly workloads: readonly WorkloadResult[];
}

const harness = fileURLToPath(new URL('./harness.js', import.meta.url));
const pythonScript = fileURLToPath(new URL('../../python/concurrency_bench.py', import.meta.url));

/** The version of `python3` on PATH, or null when there is none. */
export function findPython(): string | null {
  const r = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout || r.stderr).trim() : null;
}

export function defaultWorkers(workload: Workload, cores: number): number {
  return workload === 'cpu' ? cores : Math.min(32, cores + 4);
}

/**
 * The most workers per executor `forage bench` accepts on a machine with `cores` cores: 8 per
 * core, and never fewer than 32.
 *
 * Every worker of the thread and process pools is an OS thread or a whole process, each with a
 * V8 heap of its own, and the pools start one per task that finds no idle worker: with no limit,
 * `--workers 1000` could start up to 512 processes (one per request of the large I/O workload)
 * on a 2-core machine, which measures the machine running out of memory, not the modes. CPU work cannot use more workers
 * than cores; 8 per core is enough to show what oversubscribing them costs. I/O work overlaps
 * its waits without cores, so the floor is 32: Python's own cap for its `ThreadPoolExecutor`
 * default, which always admits {@link defaultWorkers}.
 */
export function workersLimit(cores: number): number {
  return Math.max(32, 8 * cores);
}

/**
 * The most runs per mode `forage bench` accepts. The table shows medians, which 100 runs pin
 * down far below the drift between runs; each run is a fresh process (a minute for Python's
 * sequential `large`), so more only make the benchmark last hours or days.
 */
export const repeatsLimit = 100;

/**
 * The parallelism a mode can really use: no more than the tasks (a worker runs one at a time);
 * for CPU work no more than the cores either (and async runs on one thread); waiting for I/O
 * needs no core, so there it is the workers.
 */
export function parallelism(
  workload: Workload,
  mode: Mode,
  workers: number,
  cores: number,
  tasks: number,
): number {
  if (mode === 'sequential' || mode === 'python-sequential') return 1;
  const busy = Math.min(workers, tasks);
  if (workload === 'io') return busy;
  if (mode === 'async') return 1;
  return Math.min(busy, cores);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function isPython(mode: Mode): mode is PythonMode {
  return mode.startsWith('python-');
}

/** The mode whose wall time a mode's speedup is measured against. */
function baselineOf(mode: Mode): Mode {
  return isPython(mode) ? 'python-sequential' : 'sequential';
}

/**
 * How long one run may take: the slowest, Python's sequential CPU run of size large, takes
 * about a minute on a 2-core machine; a run past this is stuck, not slow.
 */
const RUN_TIMEOUT_MS = 15 * 60_000;

function runOnce(spec: RunSpec, mode: Mode, options: BenchOptions): Promise<Measurement> {
  const { signal, runTimeoutMs = RUN_TIMEOUT_MS } = options;
  if (isPython(mode)) {
    const pyMode = mode.slice('python-'.length);
    const args = [pythonScript, JSON.stringify({ ...spec, mode: pyMode })];
    return measure('python3', args, signal, runTimeoutMs);
  }
  const args = [harness, JSON.stringify({ ...spec, mode })];
  return measure(process.execPath, args, signal, runTimeoutMs);
}

function summarise(
  workload: Workload,
  workers: number,
  cores: number,
  tasks: number,
  runs: Map<Mode, Measurement[]>,
): ModeResult[] {
  const results: ModeResult[] = [];
  for (const [mode, measurements] of runs) {
    const baseline = runs.get(baselineOf(mode)) ?? measurements;
    const wallMs = median(measurements.map((m) => m.wallMs));
    const speedup = median(baseline.map((m) => m.wallMs)) / wallMs;
    results.push({
      mode,
      wallMs,
      coldMs: median(measurements.map((m) => m.coldMs)),
      cpuMs: median(measurements.map((m) => m.cpuMs)),
      peakRssBytes: Math.max(...measurements.map((m) => m.peakRssBytes)),
      speedup,
      efficiency: speedup / parallelism(workload, mode, workers, cores, tasks),
      runs: measurements,
    });
  }
  return results;
}

/** Runs the benchmark. Runs are interleaved across modes so that drift hits them alike. */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const cores = availableParallelism();
  const spec = sizes[options.size];
  const repeats = options.repeats ?? spec.repeats;
  const python = options.python ? findPython() : null;
  const modes: Mode[] = [...nodeModes, ...(python ? pythonModes : [])];
  const server = await startSlowServer(ioDelayMs);
  try {
    const results: WorkloadResult[] = [];
    for (const workload of options.workloads) {
      const workers = options.workers ?? defaultWorkers(workload, cores);
      const run: RunSpec = {
        workload,
        mode: 'sequential',
        workers,
        primes: spec.primes,
        url: server.url,
        requests: spec.requests,
      };
      const runs = new Map<Mode, Measurement[]>(modes.map((m) => [m, []]));
      // A mode that fails is left out, and so are the modes measured against it, but the
      // others still run: one broken mode (Python's process pool without /dev/shm) must not
      // cost the whole benchmark. The command reports the failures after the results.
      const failed = new Map<Mode, string>();
      const dropped = (mode: Mode) => failed.has(mode) || failed.has(baselineOf(mode));
      let reference: number | undefined;
      const total = repeats * modes.length;
      let index = 0;
      for (let r = 0; r < repeats; r++) {
        for (const mode of modes) {
          if (dropped(mode)) continue;
          try {
            const m = await runOnce(run, mode, options);
            reference ??= m.checksum;
            if (m.checksum !== reference) {
              throw new Error(`computed ${m.checksum}, expected ${reference}`);
            }
            runs.get(mode)!.push(m);
          } catch (error) {
            if (options.signal?.aborted) throw error;
            failed.set(mode, error instanceof Error ? error.message : String(error));
            continue;
          }
          options.onRun?.(workload, mode, ++index, total);
        }
      }
      const failures: ModeFailure[] = [];
      for (const mode of modes) {
        if (!dropped(mode)) continue;
        runs.delete(mode);
        const error = failed.get(mode) ?? `not measured: ${baselineOf(mode)}, its baseline, failed`;
        failures.push({ mode, error });
      }
      const tasks = workload === 'cpu' ? spec.primes.length : spec.requests;
      results.push({
        workload,
        workers,
        tasks,
        modes: summarise(workload, workers, cores, tasks, runs),
        failures,
      });
    }
    return { size: options.size, cores, node: process.version, python, workloads: results };
  } finally {
    await server.close();
  }
}
