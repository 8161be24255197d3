import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { chartSvg, explain, formatTable } from '../bench/report.js';
import { runBench } from '../bench/run.js';
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

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new UsageError(`${flag} must be a whole number from 1 to 1024, got "${value}"`);
  }
  return n;
}

/** `forage bench [cpu|io|all]`: threads, processes and the event loop, measured here. */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure threads, processes and the event loop on CPU and I/O work')
    .argument('[workload]', 'cpu, io or all', 'all')
    .option('--workers <n>', 'workers per executor (default: cores for cpu, cores + 4 for io)')
    .option('--size <size>', "small, medium (the blog's numbers) or large", 'medium')
    .option('--repeats <n>', 'runs per mode; the table shows medians (default: by size)')
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
      const workers = positiveInt('--workers', flags.workers);
      const repeats = positiveInt('--repeats', flags.repeats);
      const showProgress = !flags.json && process.stderr.isTTY;
      const result = await runBench({
        workloads: workload === 'all' ? workloads : [workload as Workload],
        size: flags.size as Size,
        python: flags.python === true,
        ...(workers !== undefined ? { workers } : {}),
        ...(repeats !== undefined ? { repeats } : {}),
        onRun: showProgress
          ? (w, mode, i, total) => process.stderr.write(`\r${w}: run ${i}/${total} (${mode})\x1b[K`)
          : undefined,
      });
      if (showProgress) process.stderr.write('\r\x1b[K');
      if (flags.python && result.python === null) {
        process.stderr.write('forage: python3 not found; showing Node modes only\n');
      }
      const sentences = explain(result);
      if (flags.chart) await writeFile(flags.chart, chartSvg(result));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...result, sentences }, null, 2)}\n`);
        return;
      }
      const header = `Node ${result.node}, ${result.cores} cores${result.python ? `, ${result.python}` : ''}, size ${result.size}`;
      const tables = result.workloads.map((w) => formatTable(w, result.cores));
      process.stdout.write(`${[header, ...tables, sentences.join('\n')].join('\n\n')}\n`);
      if (flags.chart) process.stdout.write(`\nchart: ${flags.chart}\n`);
    });
}
