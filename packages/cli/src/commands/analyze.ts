import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { InputFormat } from '@forage/census';
import type { Command } from 'commander';
import { jsonFor, UsageError } from '../errors.js';
import type { RegisterCommand } from './index.js';

interface AnalyzeFlags {
  inputFormat?: string;
  top: string;
  compare?: string;
  out?: string;
  open?: boolean;
  json?: boolean;
}

const FORMATS: readonly InputFormat[] = ['census', 'blog'];

/** `forage analyze [INPUT]`: the census summary, report.html and charts for a census or a blog file. */
export const registerAnalyze: RegisterCommand = (program: Command) => {
  program
    .command('analyze')
    .description(
      'summarise a census directory (or a blog-format file) and write report.html, summary.json and charts',
    )
    .argument(
      '[input]',
      'census directory, or a file in the 2016 study format with --input-format blog',
      'census-out',
    )
    .option(
      '--input-format <format>',
      'census (a directory) or blog (one languages object per line); default: by what INPUT is',
    )
    .option('--top <n>', 'rows in the top-N tables and charts', '10')
    .option(
      '--compare <other>',
      'another census directory or blog file to compare with (the baseline)',
    )
    .option(
      '--out <dir>',
      'where to write the report (default: the census directory, or ./NAME-report for a file)',
    )
    .option(
      '--open',
      'open report.html in the default browser (prints its path where there is none)',
    )
    .option('--json', 'print summary.json to stdout instead of the table')
    .action(async (input: string, flags: AnalyzeFlags) => {
      await runAnalyze(input, flags);
    });
};

async function runAnalyze(input: string, flags: AnalyzeFlags): Promise<void> {
  const format = parseFormat(flags.inputFormat);
  const top = Number(flags.top);
  if (!Number.isInteger(top) || top < 1 || top > 1000) {
    throw new UsageError(`--top must be a whole number from 1 to 1000, got "${flags.top}"`);
  }
  const outDir = flags.out ?? (await defaultOut(input));
  // Loaded here, not at the top: other subcommands should not pay for vega and the census.
  const { AnalyzeError, formatSummaryTable, report } = await import('@forage/census');
  let result: Awaited<ReturnType<typeof report>>;
  try {
    result = await report(input, { outDir, top, format, compare: flags.compare });
  } catch (error) {
    // Wrong paths, formats and option values are the user's to fix: bad usage, exit 2.
    if (error instanceof AnalyzeError) throw new UsageError(error.message);
    throw error;
  }
  const { summary, files } = result;
  if (flags.json)
    process.stdout.write(`${jsonFor(process.stdout, JSON.stringify(summary, null, 2))}\n`);
  else process.stdout.write(`${formatSummaryTable(summary, top)}\n\n`);
  const log = flags.json ? process.stderr : process.stdout;
  if (summary.overall.malformed) {
    process.stderr.write(
      `forage: warning: ${summary.overall.malformed} unreadable line(s) in ${summary.input.languagesFile} were left out (first on line ${summary.overall.malformedSamples[0]?.line}: ${summary.overall.malformedSamples[0]?.reason})\n`,
    );
  }
  log.write(
    `report: ${files.html}\nsummary: ${files.summary}\ncharts: ${join(outDir, 'charts')}\n`,
  );
  if (flags.open) openInBrowser(files.html, log);
}

function parseFormat(value: string | undefined): InputFormat | undefined {
  if (value === undefined) return undefined;
  if (!(FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`--input-format must be census or blog, got "${value}"`);
  }
  return value as InputFormat;
}

/** A census directory holds its own report; a file gets ./NAME-report beside the working directory. */
async function defaultOut(input: string): Promise<string> {
  const info = await stat(input).catch(() => null);
  if (info?.isDirectory()) return input;
  return resolve(`${basename(input, extname(input)) || 'census'}-report`);
}

/** Opens a file with the platform's opener; where there is no browser, says where the file is. */
function openInBrowser(file: string, log: NodeJS.WritableStream): void {
  const headless =
    process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
  if (headless) {
    log.write(`no browser on this machine (no display); open ${file} elsewhere\n`);
    return;
  }
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [file]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', file]]
        : ['xdg-open', [file]];
  const child = spawn(cmd, args as string[], { detached: true, stdio: 'ignore' });
  child.on('error', () => log.write(`could not start ${cmd}; open ${file} yourself\n`));
  child.unref();
}
