import type { TaskWorkerEvent } from '@forage/distributed';
import { type Command, InvalidArgumentError } from 'commander';
import { forTerminal, UsageError } from '../errors.js';
import type { RegisterCommand } from './index.js';

interface WorkerFlags {
  queue?: string;
  queueName?: string;
  concurrency?: number;
  lockDuration?: number;
  stalledInterval?: number;
  maxStalled?: number;
  quiet?: boolean;
}

/** Parses a positive integer flag, naming the flag in the error. */
export function positiveIntegerFlag(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new InvalidArgumentError(
        `${flag} must be a positive integer, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

/**
 * Checks `--queue`: required, a redis:// URL. Throws a {@link UsageError} (exit 2) naming the flag.
 */
export async function queueFlag(value: string | undefined, command: string): Promise<string> {
  if (value === undefined) {
    throw new UsageError(
      `forage ${command} needs --queue redis://HOST:PORT (where Redis runs; see the README's "More than one machine")`,
    );
  }
  // Loaded here, not at the top: BullMQ costs about 0.4 s to load, which every other
  // subcommand (and --help) would pay.
  const { parseRedis } = await import('@forage/distributed');
  try {
    parseRedis(value);
  } catch (error) {
    throw new UsageError(`--queue: ${(error as Error).message}`);
  }
  return value;
}

/** Checks `--queue-name` the way the library does, as a usage error. */
export function checkQueueName(name: string | undefined): void {
  if (name !== undefined && !/^[A-Za-z0-9_.-]{1,100}$/.test(name)) {
    throw new UsageError(
      `--queue-name must be 1 to 100 letters, digits, '_', '.' or '-', got ${JSON.stringify(name)}`,
    );
  }
}

/**
 * Stops gracefully on the first SIGINT/SIGTERM (the running jobs finish, or what `firstStop`
 * says happens), at once on the second. Returns the signal to pass to the worker and a function
 * that removes the handlers.
 */
export function gracefulStop(
  what: string,
  firstStop = 'finishing the running jobs (again to stop at once)',
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(
        `forage ${what}: ${name} again, stopping now; the running jobs will be retried by other workers\n`,
      );
      process.exit(130);
    }
    process.stderr.write(`forage ${what}: ${name}, ${firstStop}\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function logEvent(event: TaskWorkerEvent, quiet: boolean): void {
  switch (event.type) {
    case 'ready':
      process.stderr.write(
        `forage worker: ready on ${event.where}, queue ${event.queue}, ${event.concurrency} at once (Ctrl-C to stop)\n`,
      );
      break;
    case 'finished':
      if (!quiet && !event.ok)
        process.stderr.write(
          `forage worker: ${forTerminal(`${event.task} (job ${event.jobId})`)} raised; the error went back to its caller\n`,
        );
      break;
    case 'error':
      process.stderr.write(`forage worker: Redis: ${forTerminal(event.message)} (retrying)\n`);
      break;
    default:
      break;
  }
}

/**
 * The BullMQ stalled-job options that `forage worker` and `forage census-worker` share: how a
 * job held by a dead worker is found and given to another.
 */
export function stalledJobOptions(command: Command): Command {
  return command
    .option(
      '--lock-duration <ms>',
      'how long a dead worker holds its jobs before they are retried',
      positiveIntegerFlag('--lock-duration'),
    )
    .option(
      '--stalled-interval <ms>',
      'how often to look for jobs of dead workers',
      positiveIntegerFlag('--stalled-interval'),
    )
    .option(
      '--max-stalled <n>',
      'times a job may be recovered from dead workers before it fails',
      positiveIntegerFlag('--max-stalled'),
    );
}

/** `forage worker --queue redis://HOST:PORT [--concurrency N]`: runs QueueExecutor tasks. */
export const registerWorker: RegisterCommand = (program: Command) => {
  const command = program
    .command('worker')
    .description(
      'run tasks submitted to a QueueExecutor, from a Redis queue, until stopped (Ctrl-C finishes the running jobs first)',
    )
    .option('--queue <url>', 'the Redis to take tasks from, e.g. redis://127.0.0.1:6379')
    .option(
      '--queue-name <name>',
      'the BullMQ queue name (the executor\'s "queue" option)',
      'forage-tasks',
    )
    .option(
      '--concurrency <n>',
      'tasks run at once (default: number of CPUs)',
      positiveIntegerFlag('--concurrency'),
    );
  stalledJobOptions(command)
    .option('--quiet', 'print only errors')
    .action(async (flags: WorkerFlags) => {
      const queue = await queueFlag(flags.queue, 'worker');
      checkQueueName(flags.queueName);
      const stop = gracefulStop('worker');
      try {
        const { runTaskWorker } = await import('@forage/distributed');
        const summary = await runTaskWorker({
          connection: queue,
          queue: flags.queueName,
          concurrency: flags.concurrency,
          lockDurationMs: flags.lockDuration,
          stalledIntervalMs: flags.stalledInterval,
          maxStalledCount: flags.maxStalled,
          signal: stop.signal,
          onEvent: (event) => logEvent(event, flags.quiet === true),
        });
        process.stderr.write(
          `forage worker: stopped after ${summary.completed} tasks done, ${summary.failed} raised\n`,
        );
      } finally {
        stop.dispose();
      }
    });
};
