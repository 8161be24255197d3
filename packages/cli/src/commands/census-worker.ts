import { tokensFrom } from '@forage/census';
import { runCensusWorker } from '@forage/distributed';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { RegisterCommand } from './index.js';
import { checkQueueName, gracefulStop, positiveIntegerFlag, queueFlag } from './worker.js';

interface CensusWorkerFlags {
  queue?: string;
  queueName?: string;
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
  program
    .command('census-worker')
    .description(
      "make the requests of a distributed census (started with forage census --queue), with this machine's tokens",
    )
    .option('--queue <url>', 'the Redis the coordinator uses, e.g. redis://10.0.0.5:6379')
    .option('--queue-name <name>', 'the BullMQ queue name', 'forage-census')
    .option(
      '--token <token>',
      'a token (repeat for several; default GITHUB_TOKEN or GH_TOKEN, comma-separated)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--concurrency <n>',
      'jobs run at once (default 16)',
      positiveIntegerFlag('--concurrency'),
    )
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
    )
    .action(async (flags: CensusWorkerFlags) => {
      const queue = queueFlag(flags.queue, 'census-worker');
      checkQueueName(flags.queueName);
      const tokens = tokensFrom(flags.token);
      if (tokens.length === 0) {
        throw new UsageError(
          'forage census-worker needs a token: pass --token T (repeatable) or set GITHUB_TOKEN',
        );
      }
      const stop = gracefulStop('census-worker');
      try {
        const summary = await runCensusWorker({
          connection: queue,
          queue: flags.queueName,
          tokens,
          concurrency: flags.concurrency,
          lockDurationMs: flags.lockDuration,
          stalledIntervalMs: flags.stalledInterval,
          maxStalledCount: flags.maxStalled ?? 5,
          signal: stop.signal,
          onEvent: (event) => {
            if (event.type === 'ready') {
              process.stderr.write(
                `forage census-worker: ready on ${event.where}, queue ${event.queue}, ${tokens.length} token(s), ${event.concurrency} jobs at once (Ctrl-C to stop)\n`,
              );
            } else if (event.type === 'finished' && !event.ok) {
              process.stderr.write(
                `forage census-worker: job ${event.jobId} (${event.task}) failed; the coordinator has the error\n`,
              );
            } else if (event.type === 'error') {
              process.stderr.write(`forage census-worker: Redis: ${event.message} (retrying)\n`);
            }
          },
        });
        process.stderr.write(
          `forage census-worker: stopped after ${summary.completed} jobs done, ${summary.failed} failed\n`,
        );
      } finally {
        stop.dispose();
      }
    });
};
