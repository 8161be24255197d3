import type { EmulatorOptions, EmulatorStats } from '@forage/github-emulator';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

// The emulator loads only when `forage emulator` runs, so the other subcommands (and
// `forage --help`) do not pay for its GraphQL engine and datasets.
type EmulatorPackage = typeof import('@forage/github-emulator');
const emulatorPackage = (): Promise<EmulatorPackage> => import('@forage/github-emulator');

/** The flags `forage emulator` accepts, as commander parses them. */
interface EmulatorFlags {
  port: string;
  host: string;
  dataset: string;
  seed?: string;
  startId?: string;
  tokens?: string;
  rateLimit?: string;
  graphqlRateLimit?: string;
  unauthenticatedRateLimit?: string;
  secondaryLimit: boolean;
  rateLimitStatus?: string;
  apiVersion?: string;
  latency?: string;
  faults?: string;
  stall?: string;
}

/** What `forage emulator` writes to and waits on; tests substitute them. */
export interface EmulatorCommandDeps {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Resolves when the emulator should stop; by default on SIGINT or SIGTERM. */
  stopped: () => Promise<void>;
}

function integer(flag: string, value: string | undefined, min: number, max: number) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** Turns a parse error from the emulator into a usage error that names the flag. */
function flag<T>(emulator: EmulatorPackage, name: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof emulator.EmulatorError) throw new UsageError(`${name}: ${error.message}`);
    throw error;
  }
}

/** Maps the command line to {@link EmulatorOptions}. */
function emulatorOptionsFromFlags(
  flags: EmulatorFlags,
  emulator: EmulatorPackage,
): EmulatorOptions {
  const { parseDuration, parseFaults, parseLatency, parseRateWindow } = emulator;
  const rest =
    flags.rateLimit && flag(emulator, '--rate-limit', () => parseRateWindow(flags.rateLimit!));
  const graphql = flags.graphqlRateLimit
    ? flag(emulator, '--graphql-rate-limit', () => parseRateWindow(flags.graphqlRateLimit!))
    : rest;
  const anonymous =
    flags.unauthenticatedRateLimit &&
    flag(emulator, '--unauthenticated-rate-limit', () =>
      parseRateWindow(flags.unauthenticatedRateLimit!),
    );
  if (flags.host.trim() === '') {
    // An empty host would make the server listen on every interface.
    throw new UsageError(
      '--host must be an address such as 127.0.0.1, got ""; use --host 0.0.0.0 to listen on every interface on purpose',
    );
  }
  const options: EmulatorOptions = {
    dataset: flags.dataset,
    port: integer('--port', flags.port, 0, 65535)!,
    host: flags.host,
    rateLimit: {
      ...(rest ? { core: rest } : {}),
      ...(graphql ? { graphql } : {}),
      ...(anonymous ? { unauthenticated: anonymous } : {}),
    },
  };
  const seed = integer('--seed', flags.seed, 0, 0xffffffff);
  if (seed !== undefined) options.seed = seed;
  const startId = integer('--start-id', flags.startId, 0, 2 ** 52);
  if (startId !== undefined) options.startId = startId;
  if (flags.tokens !== undefined) {
    const tokens = flags.tokens.split(',').map((t) => t.trim());
    if (tokens.some((t) => t === '')) {
      throw new UsageError('--tokens must be a comma-separated list of tokens, e.g. --tokens a,b');
    }
    options.tokens = tokens;
  }
  if (!flags.secondaryLimit) options.secondaryLimit = false;
  if (flags.rateLimitStatus !== undefined) {
    if (flags.rateLimitStatus !== '403' && flags.rateLimitStatus !== '429') {
      throw new UsageError(
        `--rate-limit-status must be 403 or 429, got "${flags.rateLimitStatus}"`,
      );
    }
    options.rateLimitStatus = Number(flags.rateLimitStatus) as 403 | 429;
  }
  if (flags.apiVersion !== undefined) options.apiVersion = flags.apiVersion as never;
  if (flags.latency)
    options.latency = flag(emulator, '--latency', () => parseLatency(flags.latency!));
  if (flags.faults) options.faults = flag(emulator, '--faults', () => parseFaults(flags.faults!));
  if (flags.stall) {
    const stallMs = flag(emulator, '--stall', () => parseDuration(flags.stall!, 'stall'));
    options.faults = { ...options.faults, stallMs };
  }
  return options;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function summary(stats: EmulatorStats): string {
  const statuses = Object.entries(stats.statuses)
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  return `${stats.requests} requests (${statuses || 'none'}), peak concurrency ${stats.peakConcurrency}, ${stats.overLimit.total} over a limit`;
}

/** Builds the `forage emulator` registrar with the given dependencies. */
export function emulatorCommand(deps: Partial<EmulatorCommandDeps> = {}) {
  return (program: Command): void => {
    program
      .command('emulator')
      .description(
        'run a loopback GitHub REST + GraphQL emulator in the foreground and print its URL',
      )
      .option('--port <n>', 'port on the host (0: any free port)', '0')
      .option('--host <address>', 'interface to listen on', '127.0.0.1')
      .option(
        '--dataset <spec>',
        'synthetic:N (e.g. synthetic:10M) or blog:PATH (a lang_data.jsonl file)',
        'synthetic:100000',
      )
      .option('--seed <n>', 'seed for the synthetic data, faults and latency (default 1)')
      .option('--start-id <id>', 'repository ids start after this id (default 0; blog: 76761293)')
      .option('--tokens <list>', 'accepted tokens, comma-separated (default: any token)')
      .option(
        '--rate-limit <limit/window>',
        'primary limit per token, REST and GraphQL (default 5000/1h)',
      )
      .option(
        '--graphql-rate-limit <limit/window>',
        'GraphQL points per token (default: as --rate-limit)',
      )
      .option(
        '--unauthenticated-rate-limit <limit/window>',
        'REST without a token, per address (default 60/1h)',
      )
      .option(
        '--no-secondary-limit',
        'turn off the secondary limits (100 concurrent, 900 REST / 2,000 GraphQL points per minute)',
      )
      .option('--rate-limit-status <code>', 'status of a REST limit refusal: 403 (default) or 429')
      .option(
        '--api-version <version>',
        'version used when a request names none: 2022-11-28 (default) or 2026-03-10',
      )
      .option('--latency <mean±jitter>', 'added delay per response, e.g. 100ms±30')
      .option(
        '--faults <rates>',
        'fault rate shared by all kinds (0.01), or KIND=RATE,... with 500, 502, 503, reset, stall, truncated',
      )
      .option(
        '--stall <duration>',
        'how long a stalled response hangs before its connection drops (default 30s)',
      )
      .action(async (flags: EmulatorFlags) => {
        await runEmulator(flags, {
          stdout: deps.stdout ?? process.stdout,
          stderr: deps.stderr ?? process.stderr,
          stopped: deps.stopped ?? waitForSignal,
        });
      });
  };
}

/** `forage emulator`: the registrar used by the `forage` program. */
export const registerEmulator = emulatorCommand();

async function runEmulator(flags: EmulatorFlags, deps: EmulatorCommandDeps): Promise<void> {
  const emulator = await emulatorPackage();
  const options = emulatorOptionsFromFlags(flags, emulator);
  const emu = await emulator.startEmulator(options).catch((error: unknown) => {
    // Bad options or datasets are usage errors (exit 2); a port that cannot be used is a failure.
    if (error instanceof emulator.EmulatorError && error.code !== 'ERR_EMULATOR_LISTEN') {
      throw new UsageError(error.message);
    }
    throw error;
  });
  const { kind, repositories, startId, lastId } = emu.dataset;
  // The URL alone on stdout, so scripts can read it; the rest is for people, on stderr.
  deps.stdout.write(`${emu.url}\n`);
  deps.stderr.write(
    `forage emulator: ${kind} dataset, ${repositories.toLocaleString('en-US')} repositories (ids ${startId + 1}..${lastId}); ` +
      `GraphQL at ${emu.url}/graphql, stats at ${emu.url}/_emulator/stats; Ctrl-C stops\n`,
  );
  await deps.stopped();
  const stats = emu.stats();
  await emu.close();
  deps.stderr.write(`forage emulator: stopped after ${summary(stats)}\n`);
}
