import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type LanguageRecord, type RepoRecord, runCensus } from '@forage/census';
import { type DistributedCensusEvent, runDistributedCensus } from '@forage/distributed';
import { startEmulator } from '@forage/github-emulator';
import {
  type OwnedRedis,
  redisSkipReason,
  startOwnRedis,
  uniqueQueueName,
} from './helpers/redis.js';
import { until } from './helpers/until.js';
import { type ForageProcess, spawnForage } from './helpers/workers.js';

const tokens = ['ghp_distributedtestaaaa1', 'ghp_distributedtestbbbb2', 'ghp_distributedtestcccc3'];
const range = { since: 0, until: 4000 };
const rates = { missing: 0.02, dmca: 0.01, tos: 0.01, unavailable: 0.01, renamed: 0.02 };

function byId<T extends { id: number }>(file: string): [number, T][] {
  const seen = new Map<number, T>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const record = JSON.parse(line) as T;
    assert.ok(!seen.has(record.id), `duplicate id ${record.id} in ${file}`);
    seen.set(record.id, record);
  }
  return [...seen.entries()].sort((a, b) => a[0] - b[0]);
}

function assertSameCensus(dir: string, reference: string): void {
  const repos = byId<RepoRecord>(join(dir, 'repos.jsonl'));
  const expectedRepos = byId<RepoRecord>(join(reference, 'repos.jsonl'));
  assert.ok(expectedRepos.length > 2000, `the reference census listed ${expectedRepos.length}`);
  assert.deepEqual(repos, expectedRepos);
  assert.deepEqual(
    byId<LanguageRecord>(join(dir, 'languages.jsonl')),
    byId<LanguageRecord>(join(reference, 'languages.jsonl')),
  );
}

async function startCensusWorkers(
  url: string,
  queue: string,
  api: string,
): Promise<ForageProcess[]> {
  const workers = tokens.map((token) =>
    spawnForage([
      'census-worker',
      '--queue',
      url,
      '--queue-name',
      queue,
      '--api',
      api,
      '--token',
      token,
      '--concurrency',
      '4',
      '--lock-duration',
      '3000',
      '--stalled-interval',
      '1000',
    ]),
  );
  await Promise.all(workers.map((w) => w.waitFor('ready on')));
  return workers;
}

test('runDistributedCensus refuses bad options by name before it connects or writes anything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-dcensus-options-'));
  try {
    const out = join(dir, 'out');
    // Nothing listens on port 9: an option checked only after connecting fails as unreachable.
    const base = {
      connection: 'redis://127.0.0.1:9',
      api: 'http://127.0.0.1:1',
      since: 0,
      until: 3000,
      out,
    };
    const cases: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [{ forks: 'exclud' }, {}, /forks must be include, exclude or only, got "exclud"/],
      [{ via: 'GraphQL' }, {}, /via must be graphql or rest, got "GraphQL"/],
      [{ queue: 'my queue' }, {}, /queue must be 1 to 100 letters/],
      [{ shards: 5000 }, {}, /shards must be an integer 1\.\.4096, got 5000/],
      [{ retryErrors: 'yes' }, {}, /retryErrors must be true or false, got yes/],
      [{}, { progressIntervalMs: 0 }, /progressIntervalMs must be a positive integer, got 0/],
      [{}, { progressIntervalMs: 2 ** 31 }, /progressIntervalMs must be at most 2147483647 ms/],
    ];
    for (const [options, hooks, message] of cases) {
      await assert.rejects(
        runDistributedCensus({ ...base, ...options } as never, hooks),
        (error: Error & { code?: string }) => {
          assert.equal(
            error.code,
            'ERR_INVALID_ARG_VALUE',
            `${JSON.stringify(options)}: ${error.message}`,
          );
          assert.match(error.message, message);
          return true;
        },
      );
    }
    assert.equal(existsSync(out), false, 'nothing was written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('distributed census', { skip: redisSkipReason(true) }, () => {
  test('three workers, three tokens, one worker killed with SIGKILL and Redis restarted: the files equal a one-machine census', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'forage-dcensus-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const emu = await startEmulator({
      dataset: 'synthetic:3000',
      tokens,
      repositoryRates: rates,
      latency: { meanMs: 10, jitterMs: 5 },
    });
    t.after(() => emu.close());
    const redis: OwnedRedis = await startOwnRedis();
    const queue = uniqueQueueName('census');

    const reference = join(dir, 'reference');
    await runCensus({
      api: emu.url,
      tokens: [tokens[0] as string],
      ...range,
      out: reference,
      shards: 4,
    });

    const workers = await startCensusWorkers(redis.url, queue, emu.url);
    // Workers first, then Redis (a worker stopping gracefully talks to Redis).
    t.after(async () => {
      await Promise.all(workers.map((w) => w.interrupt()));
      await redis.stop();
    });
    let killed = false;
    let restarted: Promise<void> | undefined;
    const notices: string[] = [];
    const onProgress = (event: DistributedCensusEvent) => {
      if (event.type === 'notice') notices.push(event.message);
      if (event.type !== 'progress') return;
      if (!killed && event.listed >= 700) {
        killed = true;
        void workers[0]?.kill();
      }
      if (killed && restarted === undefined && event.listed >= 1500) restarted = redis.restart();
    };
    const out = join(dir, 'distributed');
    const { manifest } = await runDistributedCensus(
      { connection: redis.url, queue, api: emu.url, ...range, out, shards: 8, pagesPerJob: 2 },
      { onProgress, progressIntervalMs: 50 },
    );
    await restarted;
    assert.ok(killed, 'a worker was killed midway');
    assert.ok(restarted, `Redis was restarted midway (notices: ${notices.join('; ')})`);
    assert.equal(manifest.complete, true);
    assertSameCensus(out, reference);
    assert.equal(emu.stats().overLimit.total, 0, 'no request crossed a limit');
    assert.equal(manifest.counts?.listed, byId(join(reference, 'repos.jsonl')).length);
  });

  test('a coordinator stopped midway resumes; a finished census is not fetched again', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'forage-dcensus-resume-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const emu = await startEmulator({
      dataset: 'synthetic:3000',
      tokens,
      repositoryRates: rates,
      latency: { meanMs: 10 },
    });
    t.after(() => emu.close());
    const redis = await startOwnRedis();
    const queue = uniqueQueueName('resume');
    const reference = join(dir, 'reference');
    await runCensus({
      api: emu.url,
      tokens: [tokens[0] as string],
      ...range,
      out: reference,
      shards: 4,
    });

    const workers = await startCensusWorkers(redis.url, queue, emu.url);
    t.after(async () => {
      await Promise.all(workers.map((w) => w.interrupt()));
      await redis.stop();
    });
    const out = join(dir, 'distributed');
    const options = {
      connection: redis.url,
      queue,
      api: emu.url,
      ...range,
      out,
      shards: 8,
      pagesPerJob: 2,
    };
    const stop = new AbortController();
    await assert.rejects(
      runDistributedCensus(options, {
        signal: stop.signal,
        progressIntervalMs: 50,
        onProgress: (e) => e.type === 'progress' && e.listed >= 1000 && stop.abort(),
      }),
      { code: 'ERR_CENSUS_ABORTED' },
    );
    const partial = byId<RepoRecord>(join(out, 'repos.jsonl')).length;
    assert.ok(partial > 0 && partial < 2800, `stopped midway (${partial} listed)`);
    const notices: string[] = [];
    const { manifest } = await runDistributedCensus(options, {
      onProgress: (e) => e.type === 'notice' && notices.push(e.message),
    });
    assert.ok(
      notices.some((n) => n.startsWith('resuming')),
      notices.join('; '),
    );
    assert.equal(manifest.complete, true);
    assert.equal(manifest.runs.length, 2);
    assertSameCensus(out, reference);

    const before = emu.stats().requests;
    await runDistributedCensus(options);
    assertSameCensus(out, reference);
    assert.equal(emu.stats().requests, before, 'a finished census sends no request');

    // Two records turned into errors (as a failed request leaves them): retryErrors asks again
    // for those two only, and the census is whole again, one record per repository.
    const path = join(out, 'languages.jsonl');
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    for (const i of [5, 500]) {
      const { id, full_name } = JSON.parse(lines[i] as string) as LanguageRecord;
      lines[i] = JSON.stringify({ id, full_name, status: 'error', error: 'HTTP 502' });
    }
    writeFileSync(path, `${lines.join('\n')}\n`);
    const retried: string[] = [];
    const again = await runDistributedCensus(
      { ...options, retryErrors: true },
      { onProgress: (e) => e.type === 'notice' && retried.push(e.message) },
    );
    assert.ok(
      retried.includes(
        '--retry-errors: 2 repositories whose languages failed before will be fetched again',
      ),
      retried.join('; '),
    );
    assert.ok(emu.stats().requests > before, 'the two were asked for again');
    assert.equal(again.manifest.counts?.error, 0);
    assertSameCensus(out, reference);
  });

  test('a worker whose token is rejected stops, and so does one started for another API; the others finish the census', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'forage-dcensus-token-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const good = tokens.slice(0, 2);
    const emu = await startEmulator({
      dataset: 'synthetic:3000',
      tokens: good,
      latency: { meanMs: 10 },
    });
    t.after(() => emu.close());
    const redis = await startOwnRedis();
    const queue = uniqueQueueName('token');
    const reference = join(dir, 'reference');
    await runCensus({
      api: emu.url,
      tokens: [good[0] as string],
      ...range,
      out: reference,
      shards: 4,
    });
    const revoked = 'ghp_revokedrevokedrevoked9';
    // Nothing listens on port 9: a worker that sent its token there would fail its jobs.
    const elsewhere = 'http://127.0.0.1:9';
    const workers = [
      ...[...good, revoked].map((token) => [emu.url, token] as const),
      [elsewhere, good[0] as string] as const,
    ].map(([api, token]) =>
      spawnForage([
        'census-worker',
        '--queue',
        redis.url,
        '--queue-name',
        queue,
        '--api',
        api,
        '--token',
        token,
        '--concurrency',
        '4',
      ]),
    );
    t.after(async () => {
      await Promise.all(workers.map((w) => w.interrupt()));
      await redis.stop();
    });
    await Promise.all(workers.map((w) => w.waitFor('ready on')));
    const out = join(dir, 'distributed');
    const { manifest } = await runDistributedCensus({
      connection: redis.url,
      queue,
      api: emu.url,
      ...range,
      out,
      shards: 8,
      pagesPerJob: 2,
    });
    assert.equal(manifest.complete, true);
    assertSameCensus(out, reference);
    const bad = workers[2] as ForageProcess;
    assert.equal(await bad.exited, 1, bad.stderr());
    assert.match(bad.stderr(), /rejected token 1 of 1 \(ghp_…ked9\) of this worker/);
    assert.ok(!bad.stderr().includes(revoked), 'the token itself is never printed');
    const misdirected = workers[3] as ForageProcess;
    assert.equal(await misdirected.exited, 1, misdirected.stderr());
    const origin = new URL(emu.url).origin;
    assert.ok(
      misdirected.stderr().includes(`start it again with --api ${origin}`),
      misdirected.stderr(),
    );
    assert.ok(!misdirected.stderr().includes(good[0] as string), 'the token is never printed');
  });

  test('the coordinator says when its Redis stops answering, and when it is back', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'forage-dcensus-outage-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const redis = await startOwnRedis();
    t.after(() => redis.stop());
    const notices: string[] = [];
    const stop = new AbortController();
    // No worker: the jobs wait in Redis, and nothing new is queued while it is down.
    const run = runDistributedCensus(
      {
        connection: redis.url,
        queue: uniqueQueueName('outage'),
        api: 'http://127.0.0.1:9/',
        ...range,
        out: join(dir, 'out'),
      },
      {
        signal: stop.signal,
        onProgress: (e) => e.type === 'notice' && notices.push(e.message),
      },
    );
    run.catch(() => {});
    t.after(async () => {
      stop.abort();
      await run.catch(() => {});
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await redis.halt();
    const where = `redis://127.0.0.1:${redis.port}`;
    await until(
      () => notices.some((n) => n.includes(where) && /not answering/.test(n)),
      20_000,
      `a notice that Redis is down (notices: ${notices.join('; ')})`,
    );
    await redis.start();
    await until(
      () => notices.some((n) => /answers again/.test(n)),
      20_000,
      `a notice that Redis is back (notices: ${notices.join('; ')})`,
    );
    stop.abort();
    await assert.rejects(run, { code: 'ERR_CENSUS_ABORTED' });
  });

  test('bad input stops with a clear error', async () => {
    await assert.rejects(
      runDistributedCensus({
        connection: 'redis://127.0.0.1:9',
        api: 'http://127.0.0.1:1',
        since: 10,
        until: 5,
      }),
      (error: Error & { code?: string }) =>
        error.code === 'ERR_INVALID_ARG_VALUE' && /--until/.test(error.message),
    );
    await assert.rejects(
      runDistributedCensus({
        connection: 'redis://127.0.0.1:9',
        api: 'http://example.com',
        since: 0,
        until: 100,
      }),
      /https/,
    );
  });
});
