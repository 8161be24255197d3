import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { CensusEvent, CensusOptions, CensusProgress, CensusResult } from '@forage/census';
import { type Command, Option } from 'commander';
import { forTerminal, jsonFor, UsageError } from '../errors.js';
import { printSummary } from './census-summary.js';
// Distributed census (issue 10): --queue makes this process the coordinator.
import { censusCoordinatorAction, warnTokenOnCommandLine } from './census-worker.js';

// The census (and its analysis) loads only when a census command runs, so that
// `forage --help` and the other subcommands start quickly.
type CensusPackage = typeof import('@forage/census');
const censusPackage = (): Promise<CensusPackage> => import('@forage/census');

/** The options `forage census` accepts, as commander parses them. */
interface CensusFlags {
  queue?: string;
  queueName?: string;
  emulator?: string | true;
  api?: string;
  token?: string[];
  since?: string;
  until?: string;
  repos?: string;
  via: string;
  out: string;
  shards?: string;
  concurrency?: string;
  forks: string;
  retryErrors?: boolean;
  quiet?: boolean;
  json?: boolean;
  report: boolean;
}

const defaultDataset = 'synthetic:100000';

/** Registers `forage census` and `forage census export`. */
export function registerCensus(program: Command): void {
  const census = program
    .command('census')
    .description(
      'collect a language census of GitHub repositories (resumable; run the same command again to continue)',
    )
    .addOption(
      new Option(
        '--emulator [dataset]',
        `run against an in-process GitHub emulator (default dataset ${defaultDataset}, or blog:PATH)`,
      ).conflicts('api'),
    )
    .option('--api <url>', 'the API to census (default https://api.github.com)')
    .option(
      '--token <token>',
      'a token (repeat for several; default GITHUB_TOKEN or GH_TOKEN, comma-separated)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--since <id>', 'list repositories with ids greater than this (default 0)')
    .option('--until <id>', 'and less than this (default: to the end)')
    .option('--repos <n>', 'at most this many repositories (the first N after --since)')
    .addOption(
      new Option('--via <api>', 'how to fetch languages')
        .choices(['graphql', 'rest'])
        .default('graphql'),
    )
    .option('--out <dir>', 'the census directory', 'census-out')
    .option('--shards <n>', 'listing shards walked at once (default 16)')
    .option('--concurrency <n>', 'requests in flight per token, 1..100 (default 64)')
    .addOption(
      new Option('--forks <mode>', 'which repositories to keep')
        .choices(['include', 'exclude', 'only'])
        .default('include'),
    )
    .option(
      '--retry-errors',
      'fetch again the repositories whose languages failed (status error) in an earlier run',
    )
    .option('--no-report', 'do not write the analysis report at the end')
    .option('--quiet', 'print only the final summary')
    .option('--json', 'print progress events as JSON lines on stdout')
    .option(
      '--queue <url>',
      'coordinate a census over many machines through this Redis (workers: forage census-worker)',
    )
    .option('--queue-name <name>', 'with --queue: the BullMQ queue name (default forage-census)')
    .action(async (flags: CensusFlags, command: Command) => {
      // With --queue, --token is refused (the tokens belong to the workers).
      if (flags.queue !== undefined) return censusCoordinatorAction(flags);
      warnTokenOnCommandLine('census', command);
      await censusAction(flags);
    });
  // Options after `export` belong to export alone. Without this commander hands a flag both
  // commands declare (--out) to `census`, so `census export DIR --out X` wrote into DIR, and
  // flags only `census` knows (--json, --emulator) were silently accepted on export.
  census.enablePositionalOptions();
  census
    .command('export <dir>')
    .description(
      "write a census in another format ('blog': the 2016 study's all_repos.jsonl and lang_data.jsonl)",
    )
    .addOption(
      new Option('--format <format>', 'output format').choices(['blog']).makeOptionMandatory(),
    )
    .option('--out <dir>', 'where to write the files (default: the census directory)')
    .action(async (dir: string, flags: { format: 'blog'; out?: string }) => {
      refuseCensusFlags(census);
      const pkg = await censusPackage();
      const result = await pkg
        .exportCensus(dir, {
          format: flags.format,
          ...(flags.out ? { outDir: flags.out } : {}),
        })
        .catch((error: unknown) => rethrowUsage(pkg, error));
      process.stdout.write(
        `wrote ${result.files.join(' and ')}: ${result.repos} repositories` +
          (result.inexpressible > 0
            ? ` (${result.inexpressible} not_found/blocked/error written as {} as the study did)\n`
            : '\n'),
      );
    });
}

/**
 * `forage census --json export DIR` parses --json as an option of `census`, which export would
 * silently ignore (and `census --out X export DIR` would write into DIR): bad usage instead.
 */
function refuseCensusFlags(census: Command): void {
  const given = census.options.find(
    (o) => census.getOptionValueSource(o.attributeName()) === 'cli',
  );
  if (given) {
    throw new UsageError(
      `${given.long ?? given.flags} is an option of forage census, not census export: export takes only --format and --out, after DIR`,
    );
  }
}

/** Bad options and an unusable --out directory are bad usage (exit 2); the rest is failure. */
function rethrowUsage({ isCensusError }: CensusPackage, error: unknown): never {
  if (isCensusError(error, 'ERR_CENSUS_OPTION') || isCensusError(error, 'ERR_CENSUS_OUTPUT')) {
    throw new UsageError(error.message);
  }
  throw error;
}

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) {
    throw new UsageError(`${flag} must be a whole number, got "${value}"`);
  }
  return Number(value);
}

async function censusAction(flags: CensusFlags): Promise<void> {
  const census = await censusPackage();
  // The built-in emulator is another host than the one GITHUB_TOKEN / GH_TOKEN are for: it gets
  // only the tokens given with --token (to try several), else one it makes up.
  const tokens = census.tokensFrom(flags.token, flags.emulator ? {} : process.env);
  const options: CensusOptions = {
    api: flags.api ?? 'https://api.github.com',
    tokens,
    out: flags.out,
    since: integer('--since', flags.since) ?? 0,
    until: integer('--until', flags.until) ?? null,
    repos: integer('--repos', flags.repos) ?? null,
    via: flags.via as 'graphql' | 'rest',
    forks: flags.forks as 'include' | 'exclude' | 'only',
    retryErrors: flags.retryErrors === true,
    ...(flags.shards !== undefined ? { shards: integer('--shards', flags.shards)! } : {}),
    ...(flags.concurrency !== undefined
      ? { concurrency: integer('--concurrency', flags.concurrency)! }
      : {}),
  };
  const emulator = flags.emulator ? await startEmbedded(flags.emulator, tokens) : undefined;
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(
      '\nforage census: stopping; the journals are kept, run the same command to resume\n',
    );
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const view = await progressView(flags);
  let result: CensusResult;
  try {
    result = await census
      .runCensus(
        emulator
          ? { ...options, api: emulator.url, tokens: emulator.tokens, dataset: emulator.dataset }
          : options,
        { signal: controller.signal, onProgress: view.event },
      )
      .catch((error: unknown) => rethrowUsage(census, error));
  } catch (error) {
    // Interrupted (Ctrl-C): the conventional 128 + SIGINT, as forage scrape, so scripts can
    // tell an interruption (run it again) from a failure.
    if (controller.signal.aborted && census.isCensusError(error, 'ERR_CENSUS_ABORTED')) {
      process.stderr.write(`forage census: ${forTerminal(error.message)}\n`);
      process.exitCode = 130;
      return;
    }
    throw error;
  } finally {
    view.stop();
    process.off('SIGINT', onSigint);
    await emulator?.close();
  }
  const m = result.manifest;
  const c = m.counts;
  const out = resolve(result.dir);
  const lines = [
    `census ${m.complete ? 'complete' : 'incomplete'}: ${c?.listed ?? 0} repositories listed; ok ${c?.ok ?? 0}, empty ${c?.empty ?? 0}, not_found ${c?.not_found ?? 0}, blocked ${c?.blocked ?? 0}, error ${c?.error ?? 0}`,
    `${costLine(m)}; files in ${out}`,
  ];
  const retired = retiredLine(m, census.tokenPositions);
  if (retired) lines.push(retired);
  await printSummary(lines, result.dir, flags, m.complete && (c?.listed ?? 0) > 0);
}

/**
 * What the census cost. The manifest counts requests and sleep over all runs, so the time is
 * over all runs too (it was this run's, beside every run's requests); a resumed census says so.
 */
function costLine(m: CensusResult['manifest']): string {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const requests = Object.values(m.requests).reduce((a, b) => a + b, 0);
  const cost = `${requests} requests in ${seconds(m.wallMs)} (slept ${seconds(m.sleptMs)} on limits)`;
  if (m.runs.length <= 1) return cost;
  return `all ${m.runs.length} runs: ${cost}; this run ${seconds(m.runs.at(-1)!.wallMs)}`;
}

/**
 * The tokens the API rejected during this run (the census went on without them), by position:
 * whoever runs the census next needs to replace them.
 */
function retiredLine(
  m: CensusResult['manifest'],
  tokenPositions: CensusPackage['tokenPositions'],
): string | undefined {
  const retired = m.runs.at(-1)?.retiredTokens ?? [];
  if (retired.length === 0) return undefined;
  const which = `${tokenPositions(retired, m.tokens.length)} ${retired.length === 1 ? 'was' : 'were'}`;
  return `tokens retired: ${which} rejected (401) during this run and not used after that; replace ${retired.length === 1 ? 'it' : 'them'} in --token / GITHUB_TOKEN`;
}

/** Starts `@forage/github-emulator` in this process, with a throwaway token when none is given. */
async function startEmbedded(
  spec: string | true,
  tokens: string[],
): Promise<{ url: string; tokens: string[]; dataset: string; close(): Promise<void> }> {
  const dataset = spec === true ? defaultDataset : spec;
  const { startEmulator } = await import('@forage/github-emulator');
  const emu = await startEmulator({ dataset }).catch((error: unknown) => {
    throw new UsageError(
      `--emulator ${dataset}: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  const use = tokens.length > 0 ? tokens : [`forage_emulator_${randomBytes(12).toString('hex')}`];
  return { url: emu.url, tokens: use, dataset, close: () => emu.close() };
}

/** Progress: bars on a terminal, a line every few seconds elsewhere, JSON lines with --json. */
async function progressView(
  flags: CensusFlags,
): Promise<{ event: (e: CensusEvent) => void; stop: () => void }> {
  if (flags.json) {
    return {
      event: (e) => {
        if (e.type !== 'done')
          process.stdout.write(`${jsonFor(process.stdout, JSON.stringify(e))}\n`);
      },
      stop: () => {},
    };
  }
  const notice = (e: CensusEvent) => {
    if (e.type === 'notice' && !flags.quiet)
      process.stderr.write(`forage census: ${forTerminal(e.message)}\n`);
  };
  if (flags.quiet) return { event: notice, stop: () => {} };
  if (!process.stderr.isTTY) {
    let last = 0;
    return {
      event: (e) => {
        notice(e);
        if (e.type === 'progress' && e.elapsedMs - last >= 5000) {
          last = e.elapsedMs;
          process.stderr.write(`${plainLine(e)}\n`);
        }
      },
      stop: () => {},
    };
  }
  // Progress bars are only drawn on a terminal, so their package loads only there.
  const { default: cliProgress } = await import('cli-progress');
  const bars = new cliProgress.MultiBar(
    {
      format: '{stage} |{bar}| {value}/{total} {rate}/s ETA {eta_formatted} {info}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const listing = bars.create(1, 0, { stage: 'listing  ', rate: 0, info: '' });
  const languages = bars.create(1, 0, { stage: 'languages', rate: 0, info: '' });
  let previous: CensusProgress | undefined;
  return {
    event: (e) => {
      if (e.type === 'notice') {
        bars.log(`forage census: ${forTerminal(e.message)}\n`);
        return;
      }
      if (e.type !== 'progress') return;
      const dt = previous ? (e.elapsedMs - previous.elapsedMs) / 1000 : 0;
      const listRate = previous && dt > 0 ? Math.round((e.listed - previous.listed) / dt) : 0;
      const langRate = previous && dt > 0 ? Math.round((e.languages - previous.languages) / dt) : 0;
      previous = e;
      const total = Math.max(e.target ?? e.listed, e.listed, 1);
      listing.setTotal(e.stage === 'listing' ? total : Math.max(e.listed, 1));
      listing.update(e.listed, { rate: listRate, info: waitText(e) });
      languages.setTotal(Math.max(e.listed, 1));
      languages.update(e.languages, { rate: langRate, info: budgetText(e) });
    },
    stop: () => bars.stop(),
  };
}

function budgetText(e: CensusProgress): string {
  return e.tokens
    .map((t, i) => {
      // Only its position: a rejected token's name is of no use on screen.
      if (t.retired) return `token ${i + 1} retired (401)`;
      const part = (
        name: string,
        b: { remaining: number | undefined; limit: number | undefined },
      ) => (b.limit === undefined ? '' : ` ${name} ${b.remaining ?? '?'}/${b.limit}`);
      return `${t.token}${part('core', t.core)}${part('graphql', t.graphql)}`;
    })
    .join('; ');
}

function waitText(e: CensusProgress): string {
  const now = Date.now();
  return e.waits
    .filter((w) => w.reason !== 'concurrency' && w.until !== undefined)
    .map((w) => `${w.kind} waits ${Math.ceil((w.until! - now) / 1000)} s (${w.reason})`)
    .join(', ');
}

function plainLine(e: CensusProgress): string {
  const waits = waitText(e);
  return (
    `census: ${(e.elapsedMs / 1000).toFixed(0)} s, ${e.stage}: listed ${e.listed}${e.target ? `/${e.target}` : ''}, ` +
    `languages ${e.languages}, ${e.requests} requests; ${budgetText(e)}${waits ? `; ${waits}` : ''}`
  );
}
