import { resolve } from 'node:path';
import type { DistributedCensusEvent } from '@forage/distributed';
import type { Command } from 'commander';
import { forTerminal, jsonFor, UsageError } from '../errors.js';
import { printSummary } from './census-summary.js';
import type { RegisterCommand } from './index.js';
import {
  checkQueueName,
  gracefulStop,
  positiveIntegerFlag,
  queueFlag,
  stalledJobOptions,
} from './worker.js';

interface CensusWorkerFlags {
  queue?: string;
  queueName?: string;
  api?: string;
  token?: string[];
  concurrency?: number;
  lockDuration?: number;
  stalledInterval?: number;
  maxStalled?: number;
}

/**
 * `forage census-worker --queue redis://HOST:PORT --token T...`: takes the census's shard and
 * languages jobs from a coordinator (`forage census --queue ...`) and makes the requests with
 * this machine's tokens.
 */
export const registerCensusWorker: RegisterCommand = (program: Command) => {
  const command = program
    .command('census-worker')
    .description(
      "make the requests of a distributed census (started with forage census --queue), with this machine's tokens",
    )
    .option('--queue <url>', 'the Redis the coordinator uses, e.g. redis://10.0.0.5:6379')
    .option('--queue-name <name>', 'the BullMQ queue name', 'forage-census')
    .option(
      '--api <url>',
      'the only API this worker sends its tokens to; jobs for any other are refused (default https://api.github.com)',
    )
    .option(
      '--token <token>',
      'a token (repeat for several; default GITHUB_TOKEN or GH_TOKEN, comma-separated)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--concurrency <n>',
      'jobs run at once (default 16)',
      positiveIntegerFlag('--concurrency'),
    );
  stalledJobOptions(command).action(async (flags: CensusWorkerFlags, self: Command) => {
    warnTokenOnCommandLine('census-worker', self);
    const queue = await queueFlag(flags.queue, 'census-worker');
    checkQueueName(flags.queueName);
    const { parseApiUrl, tokensFrom } = await import('@forage/census');
    let api: URL;
    try {
      api = parseApiUrl(flags.api ?? 'https://api.github.com');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const tokens = tokensFrom(flags.token);
    if (tokens.length === 0) {
      throw new UsageError(
        'forage census-worker needs a token: pass --token T (repeatable) or set GITHUB_TOKEN',
      );
    }
    const stop = gracefulStop('census-worker');
    // Tokens the API rejected among several: the worker went on without them; said again at
    // the end, so that whoever restarts it replaces them.
    const retired: string[] = [];
    try {
      // Loaded only when it runs (see queueFlag).
      const { runCensusWorker } = await import('@forage/distributed');
      const summary = await runCensusWorker({
        connection: queue,
        queue: flags.queueName,
        api,
        tokens,
        concurrency: flags.concurrency,
        lockDurationMs: flags.lockDuration,
        stalledIntervalMs: flags.stalledInterval,
        maxStalledCount: flags.maxStalled ?? 5,
        signal: stop.signal,
        onTokenRetired: (message) => {
          retired.push(message);
          process.stderr.write(`forage census-worker: ${forTerminal(message)}\n`);
        },
        onEvent: (event) => {
          if (event.type === 'ready') {
            process.stderr.write(
              `forage census-worker: ready on ${event.where}, queue ${event.queue}, API ${api.origin}, ${tokens.length} token(s), ${event.concurrency} jobs at once (Ctrl-C to stop)\n`,
            );
          } else if (event.type === 'finished' && !event.ok) {
            process.stderr.write(
              `forage census-worker: ${forTerminal(`job ${event.jobId} (${event.task})`)} failed; the coordinator has the error\n`,
            );
          } else if (event.type === 'error') {
            process.stderr.write(
              `forage census-worker: Redis: ${forTerminal(event.message)} (retrying)\n`,
            );
          }
        },
      });
      process.stderr.write(
        `forage census-worker: stopped after ${summary.completed} jobs done, ${summary.failed} failed\n`,
      );
      for (const message of retired) {
        process.stderr.write(`forage census-worker: retired: ${forTerminal(message)}\n`);
      }
    } finally {
      stop.dispose();
    }
  });
};

/** The `forage census` flags the coordinator reads (a subset of census.ts's). */
export interface CensusQueueFlags {
  queue?: string;
  queueName?: string;
  emulator?: string | true;
  api?: string;
  token?: string[];
  concurrency?: string;
  since?: string;
  until?: string;
  repos?: string;
  via: string;
  out: string;
  shards?: string;
  forks: string;
  retryErrors?: boolean;
  quiet?: boolean;
  json?: boolean;
  report: boolean;
}

function wholeNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()))
    throw new UsageError(`${flag} must be a whole number, got "${value}"`);
  return Number(value);
}

/**
 * Warns (one line, without the token) when `--token` was given on the command line: another
 * user sees the command line (ps, /proc/PID/cmdline), the environment is private.
 */
export function warnTokenOnCommandLine(what: string, command: Command): void {
  if (command.getOptionValueSource('token') !== 'cli') return;
  process.stderr.write(
    `forage ${what}: warning: --token on the command line can be read by other users of this machine (ps); set GITHUB_TOKEN or GH_TOKEN instead\n`,
  );
}

/**
 * `forage census --queue redis://HOST:PORT ...`: this process becomes the coordinator of a
 * distributed census; `forage census-worker` processes make the requests.
 */
export async function censusCoordinatorAction(flags: CensusQueueFlags): Promise<void> {
  const queue = await queueFlag(flags.queue, 'census');
  checkQueueName(flags.queueName);
  if (flags.token?.length) {
    throw new UsageError(
      'with --queue the tokens belong to the workers: start forage census-worker --queue ... --token T on each machine, and drop --token here',
    );
  }
  if (flags.concurrency !== undefined) {
    throw new UsageError(
      'with --queue the workers make the requests: drop --concurrency here (forage census-worker keeps each token within its limits; its --concurrency is jobs at once)',
    );
  }
  if (flags.repos !== undefined) {
    throw new UsageError(
      'with --queue give the id range with --since and --until (--repos N is for one machine)',
    );
  }
  const since = wholeNumber('--since', flags.since) ?? 0;
  const until = wholeNumber('--until', flags.until);
  if (until === undefined)
    throw new UsageError(
      'with --queue, --until ID is required: the coordinator splits [--since, --until) among the workers',
    );
  const shards = wholeNumber('--shards', flags.shards);
  let emulator: { url: string; close(): Promise<void> } | undefined;
  let dataset: string | null = null;
  if (flags.emulator) {
    dataset = flags.emulator === true ? 'synthetic:100000' : flags.emulator;
    const { startEmulator } = await import('@forage/github-emulator');
    emulator = await startEmulator({ dataset }).catch((error: unknown) => {
      throw new UsageError(`--emulator ${dataset}: ${(error as Error).message}`);
    });
    process.stderr.write(
      `forage census: emulator at ${emulator.url} (workers on this machine can reach it: start them with --api ${emulator.url})\n`,
    );
  }
  // The coordinator does not wait for started jobs: it saves its journals and exits.
  const stop = gracefulStop(
    'census',
    'stopping: the journals are kept; run the same command again to resume',
  );
  let last = 0;
  const onProgress = (event: DistributedCensusEvent) => {
    if (flags.json) process.stdout.write(`${jsonFor(process.stdout, JSON.stringify(event))}\n`);
    else if (event.type === 'notice' && !flags.quiet)
      process.stderr.write(`forage census: ${forTerminal(event.message)}\n`);
    else if (event.type === 'progress' && !flags.quiet && event.elapsedMs - last >= 5000) {
      last = event.elapsedMs;
      process.stderr.write(
        `census: ${(event.elapsedMs / 1000).toFixed(0)} s, listed ${event.listed}, languages ${event.languages}, shards ${event.shardsDone}/${event.shards}, ${event.jobsPending} jobs queued or running\n`,
      );
    }
  };
  try {
    const { runDistributedCensus } = await import('@forage/distributed');
    const { manifest, dir } = await runDistributedCensus(
      {
        connection: queue,
        connectionLabel: '--queue',
        ...(flags.queueName ? { queue: flags.queueName } : {}),
        api: emulator?.url ?? flags.api ?? 'https://api.github.com',
        since,
        until,
        out: flags.out,
        via: flags.via as 'graphql' | 'rest',
        forks: flags.forks as 'include' | 'exclude' | 'only',
        dataset,
        retryErrors: flags.retryErrors === true,
        ...(shards !== undefined ? { shards } : {}),
      },
      { signal: stop.signal, onProgress },
    );
    const c = manifest.counts;
    const lines = [
      `census ${manifest.complete ? 'complete' : 'incomplete'}: ${c?.listed ?? 0} repositories listed; ok ${c?.ok ?? 0}, empty ${c?.empty ?? 0}, not_found ${c?.not_found ?? 0}, blocked ${c?.blocked ?? 0}, error ${c?.error ?? 0}`,
      `${((manifest.runs.at(-1)?.wallMs ?? 0) / 1000).toFixed(1)} s; files in ${resolve(dir)}`,
    ];
    await printSummary(lines, dir, flags, manifest.complete && (c?.listed ?? 0) > 0);
  } catch (error) {
    // Interrupted (Ctrl-C): 128 + SIGINT, as a one-machine census, so scripts can tell an
    // interruption (run it again) from a failure.
    if (stop.signal.aborted && (error as { code?: unknown }).code === 'ERR_CENSUS_ABORTED') {
      process.stderr.write(`forage census: ${forTerminal((error as Error).message)}\n`);
      process.exitCode = 130;
      return;
    }
    throw error;
  } finally {
    stop.dispose();
    await emulator?.close();
  }
}
