import { constants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, constants as osConstants } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { memoryNote } from '../bench/measure.js';
import { chartSvg, explain, formatTable } from '../bench/report.js';
import { type BenchResult, repeatsLimit, runBench, workersLimit } from '../bench/run.js';
import { type Size, sizeNames, type Workload, workloads } from '../bench/workloads.js';
import { UsageError } from '../errors.js';

interface BenchFlags {
  workers?: string;
  size: string;
  python?: boolean;
  json?: boolean;
  chart?: string;
  repeats?: string;
}

/**
 * A whole number from 1 to `limit`. Digits only: `Number` alone also took `0x10`, `1e2` and
 * `2.0`. Above the limit the message says why the limit is there and how to stay under it.
 */
function count(
  flag: string,
  value: string | undefined,
  limit: number,
  why: string,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || n < 1) {
    throw new UsageError(`${flag} must be a whole number from 1 to ${limit}, got "${value}"`);
  }
  if (n > limit) {
    throw new UsageError(
      `${flag} ${value.trim()} is above the limit of ${limit} (${why}); pass ${flag} ${limit} or less`,
    );
  }
  return n;
}

/** `forage bench [cpu|io|all]`: threads, processes and the event loop, measured here. */
export function registerBench(program: Command): void {
  const cores = availableParallelism();
  const maxWorkers = workersLimit(cores);
  program
    .command('bench')
    .description('measure threads, processes and the event loop on CPU and I/O work')
    .argument('[workload]', 'cpu, io or all', 'all')
    .option(
      '--workers <n>',
      `workers per executor, 1 to ${maxWorkers} here (8 per core, at least 32; default: cores for cpu, min(32, cores + 4) for io)`,
    )
    .option('--size <size>', "small, medium (the blog's numbers) or large", 'medium')
    .option(
      '--repeats <n>',
      `runs per mode, 1 to ${repeatsLimit}; the table shows medians (default: by size)`,
    )
    .option('--python', "also run Python's concurrent.futures when python3 exists")
    .option('--json', 'print the raw figures as JSON')
    .option('--chart <file.svg>', 'write an SVG bar chart of the speedups')
    .action(async (workload: string, flags: BenchFlags) => {
      if (workload !== 'all' && !workloads.includes(workload as Workload)) {
        throw new UsageError(`workload must be cpu, io or all, got "${workload}"`);
      }
      if (!sizeNames.includes(flags.size as Size)) {
        throw new UsageError(`--size must be small, medium or large, got "${flags.size}"`);
      }
      if (flags.chart !== undefined && !flags.chart.endsWith('.svg')) {
        throw new UsageError(`--chart must name an .svg file, got "${flags.chart}"`);
      }
      const workers = count(
        '--workers',
        flags.workers,
        maxWorkers,
        `8 per core, at least 32, on this ${cores}-core machine: each worker is a thread or a process of its own, and more only share the cores and the memory`,
      );
      const repeats = count(
        '--repeats',
        flags.repeats,
        repeatsLimit,
        `the table shows medians, which ${repeatsLimit} runs already pin down; more only make the benchmark last hours`,
      );
      // After the flags' own checks: those need no file system.
      if (flags.chart !== undefined) await checkChartPath(flags.chart);
      const showProgress = !flags.json && process.stderr.isTTY;
      // Ctrl-C (or a SIGTERM to forage alone) stops the run in progress and the processes it
      // started, rather than leaving them to finish orphaned.
      const controller = new AbortController();
      const stop = (signal: NodeJS.Signals) => controller.abort(signal);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let result: BenchResult;
      try {
        result = await runBench({
          workloads: workload === 'all' ? workloads : [workload as Workload],
          size: flags.size as Size,
          python: flags.python === true,
          ...(workers !== undefined ? { workers } : {}),
          ...(repeats !== undefined ? { repeats } : {}),
          signal: controller.signal,
          onRun: showProgress
            ? (w, mode, i, total) =>
                process.stderr.write(`\r${w}: run ${i}/${total} (${mode})\x1b[K`)
            : undefined,
        });
      } catch (error) {
        if (!controller.signal.aborted) throw error;
        // 128 + the signal's number, as a shell reports a command the signal stopped.
        const signal = controller.signal.reason as NodeJS.Signals;
        process.stderr.write(
          `${showProgress ? '\n' : ''}forage bench: stopped (${signal}) before the results\n`,
        );
        process.exitCode = 128 + osConstants.signals[signal];
        return;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      if (showProgress) process.stderr.write('\r\x1b[K');
      if (flags.python && result.python === null) {
        process.stderr.write('forage: python3 not found; showing Node modes only\n');
      }
      const sentences = explain(result);
      // The results are printed first: a chart that cannot be written after a long run
      // must not take them with it.
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ ...result, peakMemory: memoryNote(), sentences }, null, 2)}\n`,
        );
      } else {
        const header = `Node ${result.node}, ${result.cores} cores${result.python ? `, ${result.python}` : ''}, size ${result.size}`;
        const tables = result.workloads.map((w) => formatTable(w, result.cores));
        process.stdout.write(
          `${[header, ...tables, memoryNote(), sentences.join('\n')].join('\n\n')}\n`,
        );
      }
      if (flags.chart) {
        await writeChart(flags.chart, result);
        if (!flags.json) process.stdout.write(`\nchart: ${flags.chart}\n`);
      }
      const failures = result.workloads.flatMap((w) =>
        w.failures.map((f) => `${f.mode} on ${w.workload} work ${f.error}`),
      );
      if (failures.length > 0) {
        throw new Error(
          `${failures.length} mode(s) left out of the results above: ${failures.join('; ')}`,
        );
      }
    });
}

/** Refuses a --chart path that cannot be written before the benchmark spends minutes. */
async function checkChartPath(chart: string): Promise<void> {
  const dir = dirname(resolve(chart));
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) {
    throw new UsageError(
      `--chart ${chart}: ${dir} ${info ? 'is not a directory' : 'does not exist'}; create the directory or choose another path`,
    );
  }
  if ((await stat(chart).catch(() => null))?.isDirectory()) {
    throw new UsageError(`--chart ${chart} is a directory; name an .svg file`);
  }
  await access(dir, constants.W_OK).catch(() => {
    throw new UsageError(`--chart ${chart}: cannot write in ${dir}; choose another path`);
  });
}

async function writeChart(chart: string, result: BenchResult): Promise<void> {
  try {
    await writeFile(chart, chartSvg(result));
  } catch (error) {
    throw new Error(
      `cannot write --chart ${chart} (${error instanceof Error ? error.message : String(error)}); the results are above`,
    );
  }
}
