/**
 * The distributed census against GitHub's documented limits (enforced per token by the
 * emulator, 100 ms +/- 30 ms latency per request): one census-worker with one token on
 * REPOS repositories, then three workers with three tokens on three times as many. Prints
 * wall times and the throughput ratio (issue 10: at least 2.4x; 100,000 in at most 90 s and
 * 300,000 in at most 110 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDistributedCensus } from '@forage/distributed';
import { startEmulator } from '@forage/github-emulator';
import { type TestRedis, uniqueQueueName } from '../../packages/distributed/test/helpers/redis.ts';
import {
  type ForageProcess,
  spawnForage,
} from '../../packages/distributed/test/helpers/workers.ts';

/** Ids per repository in the synthetic dataset (measured on its first pages). */
const density = 1.42;

export interface CensusRun {
  readonly workers: number;
  readonly repos: number;
  readonly seconds: number;
  readonly requests: number;
  readonly overLimit: number;
}

/** Runs one distributed census with `workers` workers (one token each) over about `repos` repositories. */
export async function distributedCensus(
  redis: TestRedis,
  workers: number,
  repos: number,
): Promise<CensusRun> {
  const tokens = Array.from(
    { length: workers },
    (_, i) => `ghp_benchdistributed${String(i).padStart(4, '0')}`,
  );
  const emu = await startEmulator({
    dataset: `synthetic:${Math.ceil(repos * 1.1)}`,
    tokens,
    latency: { meanMs: 100, jitterMs: 30 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'forage-bench-dcensus-'));
  const queue = uniqueQueueName('bench-census');
  const procs: ForageProcess[] = tokens.map((token) =>
    spawnForage([
      'census-worker',
      '--queue',
      redis.url,
      '--queue-name',
      queue,
      '--api',
      emu.url,
      '--token',
      token,
      '--concurrency',
      '32',
    ]),
  );
  try {
    await Promise.all(procs.map((p) => p.waitFor('ready on', 30_000)));
    const started = performance.now();
    const { manifest } = await runDistributedCensus({
      connection: redis.url,
      queue,
      api: emu.url,
      since: 0,
      until: Math.round(repos * density),
      out: dir,
      shards: 16 * workers,
      pagesPerJob: 5,
    });
    const seconds = (performance.now() - started) / 1000;
    const stats = emu.stats();
    if (!manifest.complete) throw new Error('the census did not complete');
    return {
      workers,
      repos: manifest.counts?.listed ?? 0,
      seconds,
      requests: stats.requests,
      overLimit: stats.overLimit.total,
    };
  } finally {
    await Promise.all(procs.map((p) => p.interrupt()));
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
