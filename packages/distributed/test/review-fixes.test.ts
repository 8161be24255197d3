/**
 * Fixes from a review of the distributed package, each reproduced first: a test here fails on
 * the code before its fix.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { githubLimits, type Lease, runCensus } from '@forage/census';
import {
  type CensusWorkerOptions,
  censusJobGroup,
  type DistributedCensusEvent,
  QueueExecutor,
  runCensusWorker,
  runDistributedCensus,
  SharedBudgetScheduler,
} from '@forage/distributed';
import { taskModule } from '@forage/futures';
import { startEmulator } from '@forage/github-emulator';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import {
  getRedis,
  redisSkipReason,
  startOwnRedis,
  type TestRedis,
  uniqueQueueName,
} from './helpers/redis.js';
import { until } from './helpers/until.js';
import { spawnForage, startWorker } from './helpers/workers.js';

const tasks = taskModule<typeof import('./fixtures/tasks.js')>(
  new URL('./fixtures/tasks.ts', import.meta.url),
);

/** Resolves with `promise`'s outcome, or 'timeout' after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const censusTasks = taskModule<typeof import('../src/census-tasks.js')>(
  new URL('../dist/census-tasks.js', import.meta.url),
);
const skip = redisSkipReason();

/** A loopback HTTP server that records the requests it gets and answers `{}`. */
async function startCollector(): Promise<{
  readonly url: string;
  readonly seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Settles `run` within `ms`: its error (or 'resolved'); on 'timeout', `stop` is aborted and the
 * run awaited, so that nothing is left running.
 */
async function outcomeWithin(
  run: Promise<unknown>,
  ms: number,
  stop: AbortController,
): Promise<unknown> {
  run.catch(() => {});
  const outcome = await within(
    run.then(
      () => 'resolved',
      (error: unknown) => error,
    ),
    ms,
  );
  if (outcome === 'timeout') {
    stop.abort();
    await run.catch(() => {});
  }
  return outcome;
}

/** Runs an in-process census worker until the returned function is called. */
function censusWorker(options: Omit<CensusWorkerOptions, 'signal'>): () => Promise<void> {
  const stop = new AbortController();
  const running = runCensusWorker({ concurrency: 2, ...options, signal: stop.signal });
  running.catch(() => {});
  return async () => {
    stop.abort();
    await running;
  };
}

describe('review fixes', { skip }, () => {
  let redis: TestRedis;

  before(async () => {
    redis = await getRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  test('a census worker refuses a token with spaces or control characters before it starts, without printing it', async () => {
    for (const token of ['ghp_reviewbad token01', 'ghp_reviewbadtoken\u000102']) {
      const outcome = await within(
        runCensusWorker({
          connection: redis.url,
          queue: uniqueQueueName('bad-token'),
          tokens: [token],
          signal: AbortSignal.timeout(3000),
        }).then(
          () => 'ran',
          (error: unknown) => error,
        ),
        10_000,
      );
      const error = outcome as Error & { code?: string };
      assert.equal(
        error.code,
        'ERR_INVALID_ARG_VALUE',
        `token ${JSON.stringify(token)}: ${String(outcome)}`,
      );
      assert.match(error.message, /spaces or control characters/);
      assert.ok(!error.message.includes('ghp_reviewbad'), error.message);
    }
  });

  test('a census worker sends its token only to its own API: a job naming another origin fails before any request', async (t) => {
    const token = 'ghp_reviewapiorigin00001';
    const collector = await startCollector();
    t.after(() => collector.close());
    const queue = uniqueQueueName('api-origin');
    const executor = new QueueExecutor({ connection: redis.url, queue });
    t.after(() => executor.shutdown({ cancelFutures: true }));
    const job = {
      api: collector.url,
      via: 'rest' as const,
      repos: [{ id: 1, node_id: 'R_1', full_name: 'a/b', fork: false, languages_url: '' }],
    };

    // The default API is GitHub's: a job for the loopback collector is refused.
    let stop = censusWorker({ connection: redis.url, queue, tokens: [token] });
    try {
      await assert.rejects(
        async () => executor.submit(censusTasks.fetchLanguages, job),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'ERR_CENSUS_API_REFUSED');
          assert.ok(error.message.includes(new URL(collector.url).origin), error.message);
          assert.ok(error.message.includes('https://api.github.com'), error.message);
          assert.ok(!error.message.includes(token), 'the token is never in the error');
          return true;
        },
      );
    } finally {
      // The worker stops taking jobs after a refusal (the coordinator queues the job again for
      // another worker), and says why.
      await assert.rejects(stop(), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_CENSUS_API_REFUSED');
        assert.ok(error.message.includes(`--api ${new URL(collector.url).origin}`), error.message);
        assert.ok(!error.message.includes(token), 'the token is never in the error');
        return true;
      });
    }
    assert.equal(collector.seen.length, 0, 'the collector got no request');

    // A worker told to serve that API does the job, with its token.
    stop = censusWorker({ connection: redis.url, queue, tokens: [token], api: collector.url });
    try {
      const records = await executor.submit(censusTasks.fetchLanguages, job);
      assert.equal(records[0]?.status, 'empty');
    } finally {
      await stop();
    }
    assert.equal(collector.seen[0]?.authorization, `Bearer ${token}`);
  });

  test('QueueExecutor.abort() fails the started futures, cancels the waiting ones (their jobs leave Redis) and returns', async (t) => {
    const queue = uniqueQueueName('abort');
    const worker = await startWorker(redis.url, queue, { concurrency: 1 });
    t.after(() => worker.kill());
    const admin = new Queue(queue, { connection: { url: redis.url }, prefix: 'forage' });
    t.after(() => admin.close());
    const executor = new QueueExecutor({ connection: redis.url, queue });
    const started = executor.submit(tasks.sleep, 60_000, 1);
    const waiting = executor.submit(tasks.sleep, 60_000, 2);
    started.then(undefined, () => {});
    waiting.then(undefined, () => {});
    await until(() => started.running(), 15_000, 'the first task to start');
    const reason = new Error('stopped by the test');
    assert.notEqual(await within(executor.abort(reason), 5000), 'timeout', 'abort() returned');
    await assert.rejects(async () => started, {
      code: 'ERR_EXECUTOR_ABORTED',
      cause: reason,
    });
    assert.equal(waiting.cancelled(), true);
    assert.equal(executor.pendingCount, 0);
    assert.equal(await admin.getWaitingCount(), 0, 'the waiting job was removed');
  });

  test('QueueExecutor.abort() leaves no timer behind: the process exits as soon as it returns', async () => {
    const script = `
      const { QueueExecutor } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const executor = new QueueExecutor({ connection: ${JSON.stringify(redis.url)}, queue: ${JSON.stringify(uniqueQueueName('abort-exit'))} });
      await executor.connected();
      // Nothing to remove: the wait for removals is over at once, however long it may last.
      await executor.abort(undefined, 60_000);
      process.stderr.write('aborted\\n');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // 'close': the exit can come before the last of stderr is read.
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const code = await within(exited, 20_000);
      assert.notEqual(code, 'timeout', `the process exited after abort(); stderr:\n${stderr}`);
      assert.equal(code, 0, stderr);
      assert.match(stderr, /aborted/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('finished jobs older than keepJobsSeconds leave Redis when an executor connects, even on a quiet queue', async (t) => {
    const queue = uniqueQueueName('kept');
    const worker = await startWorker(redis.url, queue, { concurrency: 2 });
    t.after(() => worker.kill());
    const admin = new Queue(queue, { connection: { url: redis.url }, prefix: 'forage' });
    t.after(() => admin.close());
    const first = new QueueExecutor({ connection: redis.url, queue, keepJobsSeconds: 1 });
    const sums = await Promise.all([1, 2, 3].map((n) => first.submit(tasks.add, n, 1)));
    assert.deepEqual(sums, [2, 3, 4]);
    await first.shutdown();
    assert.equal(await admin.getCompletedCount(), 3, 'kept for inspection meanwhile');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.equal(await admin.getCompletedCount(), 3, 'BullMQ alone leaves them on a quiet queue');

    const next = new QueueExecutor({ connection: redis.url, queue, keepJobsSeconds: 1 });
    t.after(() => next.shutdown());
    await next.connected();
    await until(async () => (await admin.getCompletedCount()) === 0, 10_000, 'the old jobs gone');
  });

  test('removeQueuedJobs(group) removes the queued jobs of that group only, never its own', async (t) => {
    const queue = uniqueQueueName('group');
    const admin = new Queue(queue, { connection: { url: redis.url }, prefix: 'forage' });
    t.after(() => admin.close());
    const data = { v: 1, url: 'file:///nowhere.js', exportName: 'nothing', args: [] };
    await admin.add('task', data, { jobId: 'nightly.old-1' });
    await admin.add('task', data, { jobId: 'nightly.old-2', priority: 5 });
    await admin.add('task', data, { jobId: 'nightly.old-3', delay: 60_000 });
    await admin.add('task', data, { jobId: 'nightlyx.other-1' });
    await admin.add('task', data, { jobId: 'weekly.other-2' });
    const executor = new QueueExecutor({ connection: redis.url, queue, jobGroup: 'nightly' });
    t.after(() => executor.abort());
    const own = executor.submit(tasks.add, 1, 2);
    own.then(undefined, () => {});
    // wait: old-1, nightlyx, weekly and its own (old-2 is prioritized, old-3 delayed).
    await until(async () => (await admin.getWaitingCount()) === 4, 10_000, 'its own job queued');
    assert.equal(await executor.removeQueuedJobs('nightly'), 3);
    const left = (await admin.getJobs(['wait', 'prioritized', 'delayed'])).map((j) => j.id).sort();
    assert.equal(left.length, 3);
    assert.ok(left.includes('nightlyx.other-1') && left.includes('weekly.other-2'), String(left));
    assert.ok(
      left.some((id) => id?.startsWith('nightly.') && id.endsWith('-1')),
      'its own job stays',
    );
    assert.equal(await executor.removeQueuedJobs('nightly'), 0);
    await assert.rejects(executor.removeQueuedJobs('a.b'), /group must be 1 to 64 letters/);
    assert.throws(
      () => new QueueExecutor({ connection: redis.url, jobGroup: 'x y' }),
      /jobGroup must be/,
    );
  });

  test('a lost job fails with ERR_JOB_LOST while other clients keep the queue busy', async (t) => {
    const queue = uniqueQueueName('starved');
    const admin = new Queue(queue, { connection: { url: redis.url }, prefix: 'forage' });
    t.after(() => admin.close());
    // The other client's worker starts first (that takes a while on a loaded machine, and
    // the lost job's look-ups run from its submission on), with the queue paused so that it
    // cannot take the job that is about to be lost.
    await admin.pause();
    const worker = await startWorker(redis.url, queue, { concurrency: 2 });
    t.after(() => worker.kill());
    const a = new QueueExecutor({ connection: redis.url, queue, reconcileIntervalMs: 1000 });
    t.after(() => a.abort());
    const lost = a.submit(tasks.add, 1, 2);
    lost.then(undefined, () => {});
    await until(async () => (await admin.getWaitingCount()) === 1, 10_000, 'the job in Redis');
    const [job] = await admin.getJobs(['wait']);
    assert.ok(job, 'the job to lose');
    await job.remove();
    await admin.resume();

    // Another executor's jobs on the same queue: a steady stream of events.
    const b = new QueueExecutor({ connection: redis.url, queue });
    t.after(() => b.shutdown());
    let busy = true;
    let sent = 0;
    const traffic = (async () => {
      for (let i = 0; busy && i < 400; i++) {
        await b.submit(tasks.add, i, 1);
        sent++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    try {
      await until(() => lost.done(), 10_000, 'the lost future to settle while the queue is busy');
    } finally {
      busy = false;
      await traffic;
    }
    assert.ok(sent >= 2, `the other executor kept the queue busy (${sent} tasks)`);
    await assert.rejects(async () => lost, { code: 'ERR_JOB_LOST' });
  });

  test('reconciliation asks Redis for the state of a waiting job only, less and less often; the payload only once finished', async (t) => {
    const queue = uniqueQueueName('cheap-reconcile');
    // Count the look-ups this executor makes on its queue.
    const calls = { getJob: 0, getJobState: 0 };
    const proto = Queue.prototype as unknown as Record<
      'getJob' | 'getJobState',
      (this: Queue, id: string) => Promise<unknown>
    >;
    const originals = { getJob: proto.getJob, getJobState: proto.getJobState };
    for (const name of ['getJob', 'getJobState'] as const) {
      const original = originals[name];
      proto[name] = function (this: Queue, id: string) {
        if (this.name === queue) calls[name]++;
        return original.call(this, id);
      };
    }
    // And this executor misses every event of its jobs: only the look-ups settle them.
    const events = QueueEvents.prototype as unknown as {
      emit(this: QueueEvents, event: string, ...args: unknown[]): boolean;
    };
    const emit = events.emit;
    events.emit = function (this: QueueEvents, event: string, ...args: unknown[]) {
      if (this.name === queue && (event === 'active' || event === 'completed')) return false;
      return emit.call(this, event, ...args);
    };
    t.after(() => {
      proto.getJob = originals.getJob;
      proto.getJobState = originals.getJobState;
      events.emit = emit;
    });
    const executor = new QueueExecutor({ connection: redis.url, queue, reconcileIntervalMs: 200 });
    t.after(() => executor.shutdown({ cancelFutures: true }));
    // No worker yet: the jobs wait, and waiting jobs get no events.
    const futures = [1, 2, 3, 4].map((n) => executor.submit(tasks.add, n, 1));
    await executor.connected();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(calls.getJob, 0, 'no waiting job was fetched whole');
    // Every 200 ms for 3 s would be 15 look-ups per job; doubling from 200 ms, about 4.
    assert.ok(calls.getJobState >= 4, `the waiting jobs were looked at (${calls.getJobState})`);
    assert.ok(
      calls.getJobState <= 4 * 7,
      `a job still waiting is looked up less and less often (${calls.getJobState} look-ups)`,
    );
    const worker = await startWorker(redis.url, queue, { concurrency: 2 });
    t.after(() => worker.kill());
    assert.deepEqual(await Promise.all(futures), [2, 3, 4, 5]);
    assert.equal(calls.getJob, 4, 'each job was fetched once, when it had finished');
  });

  test('a census coordinator interrupted once exits even though the jobs it started never finish', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'forage-review-sigint-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const emu = await startEmulator({
      dataset: 'synthetic:20000',
      latency: { meanMs: 3000, jitterMs: 10 },
    });
    t.after(() => emu.close());
    const queue = uniqueQueueName('sigint');
    const worker = spawnForage([
      'census-worker',
      '--queue',
      redis.url,
      '--queue-name',
      queue,
      '--api',
      emu.url,
      '--token',
      'ghp_reviewsigintaaaaaaa1',
      '--concurrency',
      '4',
    ]);
    t.after(() => worker.kill());
    await worker.waitFor('ready on');
    const coordinator = spawnForage([
      'census',
      '--queue',
      redis.url,
      '--queue-name',
      queue,
      '--api',
      emu.url,
      '--since',
      '0',
      '--until',
      '20000',
      '--out',
      join(dir, 'out'),
    ]);
    t.after(() => coordinator.kill());
    await until(() => emu.stats().inFlight > 0, 20_000, 'the worker to send requests');
    coordinator.proc.kill('SIGINT');
    await coordinator.waitFor('SIGINT');
    // The worker holding the coordinator's jobs dies: they will never finish.
    await worker.kill();
    const code = await within(coordinator.exited, 15_000);
    assert.notEqual(code, 'timeout', `the coordinator exited; stderr:\n${coordinator.stderr()}`);
    assert.match(coordinator.stderr(), /aborted/);
  });
});

test('forage census-worker --api takes only https (http on loopback), as forage census does', async () => {
  const proc = spawnForage([
    'census-worker',
    '--queue',
    'redis://127.0.0.1:9',
    '--token',
    'ghp_reviewapiflag0000001',
    '--api',
    'http://example.com',
  ]);
  assert.equal(await proc.exited, 2, proc.stderr());
  assert.match(proc.stderr(), /--api http:\/\/example\.com must use https/);
  assert.ok(!proc.stderr().includes('ghp_reviewapiflag0000001'));
});

describe('a census coordinator whose Redis wants another password', {
  skip: redisSkipReason(true),
}, () => {
  test('says to check the password in the URL, not to start Redis, and never shows it', async (t) => {
    const redis = await startOwnRedis();
    t.after(() => redis.stop());
    const admin = new Redis(redis.url);
    await admin.config('SET', 'requirepass', 'theRightOne');
    admin.disconnect();
    const dir = mkdtempSync(join(tmpdir(), 'forage-review-auth-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const auth of [':wr0ngpw@', '']) {
      const error = (await runDistributedCensus({
        connection: `redis://${auth}127.0.0.1:${redis.port}`,
        api: 'http://127.0.0.1:9/',
        since: 0,
        until: 3000,
        out: join(dir, 'out'),
      }).then(
        () => new Error('resolved'),
        (e: unknown) => e,
      )) as Error & { code?: string };
      assert.equal(error.code, 'ERR_QUEUE_UNAVAILABLE', error.message);
      assert.match(error.message, /password/, error.message);
      assert.doesNotMatch(error.message, /start it there/, error.message);
      assert.ok(!error.message.includes('wr0ngpw'), error.message);
      assert.ok(!error.message.includes('theRightOne'), error.message);
    }
  });
});

describe('a census coordinator whose Redis is not there', () => {
  test('fails at once, before planning, naming the URL without its password and the fix', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'forage-review-unreachable-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const port = await closedPort();
    const notices: string[] = [];
    const out = join(dir, 'out');
    const run = runDistributedCensus(
      {
        connection: `redis://:s3cretpw@127.0.0.1:${port}`,
        api: 'http://127.0.0.1:9/',
        since: 0,
        until: 3000,
        out,
      },
      { onProgress: (e: DistributedCensusEvent) => e.type === 'notice' && notices.push(e.message) },
    );
    run.catch(() => {});
    const outcome = await within(
      run.then(
        () => 'resolved',
        (error: unknown) => error,
      ),
      10_000,
    );
    assert.notEqual(outcome, 'timeout', 'the coordinator gave up within 10 s');
    const error = outcome as Error & { code?: string };
    assert.equal(error.code, 'ERR_QUEUE_UNAVAILABLE');
    assert.ok(error.message.includes(`redis://:***@127.0.0.1:${port}`), error.message);
    // A library caller gave the `connection` option, not the CLI's --queue.
    assert.match(error.message, /give the connection option the URL/);
    assert.doesNotMatch(error.message, /--queue/);
    assert.match(error.message, /redis-server/);
    assert.ok(!error.message.includes('s3cretpw'), 'no password in the message');
    assert.deepEqual(notices, [], 'nothing was queued again');
    assert.equal(existsSync(join(out, 'plan.json')), false, 'nothing was planned');
  });

  test('forage census --queue says so in one line and exits', async () => {
    const port = await closedPort();
    const dir = mkdtempSync(join(tmpdir(), 'forage-review-unreachable-cli-'));
    try {
      const proc = spawnForage([
        'census',
        '--queue',
        `redis://127.0.0.1:${port}`,
        '--api',
        'http://127.0.0.1:9/',
        '--since',
        '0',
        '--until',
        '3000',
        '--out',
        join(dir, 'out'),
      ]);
      const code = await within(proc.exited, 20_000);
      if (code === 'timeout') await proc.kill();
      assert.equal(code, 1, proc.stderr());
      assert.match(proc.stderr(), /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(--queue\)/);
      assert.doesNotMatch(proc.stderr(), /queueing the job again/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a census coordinator writes its --out as runCensus does', { skip }, () => {
  let redis: TestRedis;
  let dir: string;

  before(async () => {
    redis = await getRedis();
    dir = mkdtempSync(join(tmpdir(), 'forage-review-out-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await redis?.stop();
  });

  const options = (out: string) => ({
    connection: redis.url,
    queue: uniqueQueueName('out'),
    api: 'http://127.0.0.1:9/',
    since: 0,
    until: 3000,
    out,
  });

  test('it locks --out: a second coordinator or a runCensus there is refused with ERR_CENSUS_OUTPUT', async (t) => {
    const out = join(dir, 'locked');
    const stop = new AbortController();
    // No worker: the first coordinator waits on its jobs, holding the directory.
    const first = runDistributedCensus(options(out), { signal: stop.signal });
    first.catch(() => {});
    t.after(async () => {
      stop.abort();
      await first.catch(() => {});
    });
    await until(() => existsSync(join(out, 'census.json')), 10_000, 'the first coordinator');

    const second = new AbortController();
    const refused = (await outcomeWithin(
      runDistributedCensus(options(out), { signal: second.signal }),
      10_000,
      second,
    )) as Error & { code?: string };
    assert.equal(refused.code, 'ERR_CENSUS_OUTPUT', String(refused));
    assert.match(refused.message, /in use by another census/);

    const census = new AbortController();
    const alsoRefused = (await outcomeWithin(
      runCensus(
        { api: 'http://127.0.0.1:9/', since: 0, until: 3000, out },
        { signal: census.signal },
      ),
      10_000,
      census,
    )) as Error & { code?: string };
    assert.equal(alsoRefused.code, 'ERR_CENSUS_OUTPUT', String(alsoRefused));

    stop.abort();
    await assert.rejects(first, { code: 'ERR_CENSUS_ABORTED' });
    assert.equal(existsSync(join(out, 'census.lock')), false, 'the lock is released at the end');
  });

  test('a restarted coordinator removes the jobs its killed predecessor left queued, and only those', async (t) => {
    const out = join(dir, 'orphans');
    const opts = options(out);
    const admin = new Queue(opts.queue, { connection: { url: redis.url }, prefix: 'forage' });
    t.after(() => admin.close());
    // What a coordinator killed with SIGKILL leaves: jobs of its group that no worker started.
    const group = censusJobGroup(out);
    const data = { v: 1, url: 'file:///nowhere.js', exportName: 'nothing', args: [] };
    await admin.add('task', data, { jobId: `${group}.dead-1` });
    await admin.add('task', data, { jobId: `${group}.dead-2`, delay: 60_000 });
    await admin.add('task', data, { jobId: `${censusJobGroup(join(dir, 'other'))}.alive-1` });
    const notices: string[] = [];
    const stop = new AbortController();
    const run = runDistributedCensus(opts, {
      signal: stop.signal,
      onProgress: (e: DistributedCensusEvent) => {
        if (e.type === 'notice') notices.push(e.message);
      },
    });
    run.catch(() => {});
    t.after(async () => {
      stop.abort();
      await run.catch(() => {});
    });
    await until(() => notices.some((m) => m.includes('removed')), 10_000, 'the removal notice');
    assert.ok(notices.includes('removed 2 jobs an earlier run left queued'), notices.join('; '));
    assert.equal(await admin.getJob(`${group}.dead-1`), undefined);
    assert.equal(await admin.getJob(`${group}.dead-2`), undefined);
    assert.notEqual(
      await admin.getJob(`${censusJobGroup(join(dir, 'other'))}.alive-1`),
      undefined,
      "another directory's job stays",
    );
    // This run's own jobs are queued (no worker runs them here).
    await until(async () => (await admin.getWaitingCount()) > 1, 10_000, 'its own jobs');
    stop.abort();
    await assert.rejects(run, { code: 'ERR_CENSUS_ABORTED' });
  });

  test('a journal line that is not a record is refused naming the file, the line and the fix', async () => {
    // (A bad last line is taken for one torn by a crash, and cut: the bad lines here are not last.)
    const cases: [string, string, RegExp][] = [
      [
        'repos.jsonl',
        '{"id":5,"name":"a/b","fork":false}\nnot json\n{"id":7,"name":"c/d","fork":false}\n',
        /restore the file/,
      ],
      [
        'languages.jsonl',
        '{"id":5,"status":"ok","languages":{}}\n{"status":"ok"}\n{"id":7,"status":"ok","languages":{}}\n',
        /delete that line/,
      ],
      ['shards.jsonl', '{"k":0,"count":1}\n[]\n{"k":1,"count":1}\n', /delete that line/],
    ];
    for (const [name, text, fix] of cases) {
      const out = join(dir, `bad-${name}`);
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, name), text);
      const stop = new AbortController();
      const error = (await outcomeWithin(
        runDistributedCensus(options(out), { signal: stop.signal }),
        10_000,
        stop,
      )) as Error & { code?: string };
      assert.equal(error.code, 'ERR_CENSUS_OUTPUT', String(error));
      assert.ok(error.message.includes(`${join(out, name)} line 2`), error.message);
      assert.match(error.message, fix);
      assert.equal(readFileSync(join(out, name), 'utf8'), text, `${name} is left as it was`);
      assert.equal(existsSync(join(out, 'census.lock')), false, 'the lock is released');
    }
  });

  test('a census against an emulator resumes with the emulator on another port (same dataset)', async () => {
    const out = join(dir, 'emulated');
    const run = async (api: string, dataset: string) => {
      const stop = new AbortController();
      return outcomeWithin(
        runDistributedCensus({ ...options(out), api, dataset }, { signal: stop.signal }),
        1500,
        stop,
      );
    };
    // No worker: each run queues its jobs and is stopped.
    assert.equal(await run('http://127.0.0.1:1/', 'synthetic:5000'), 'timeout');
    // forage census --queue --emulator again: a new emulator, on a new port.
    assert.equal(await run('http://127.0.0.1:2/', 'synthetic:5000'), 'timeout');
    const other = (await run('http://127.0.0.1:3/', 'synthetic:9000')) as Error & { code?: string };
    assert.equal(other.code, 'ERR_CENSUS_OUTPUT', String(other));
    assert.match(other.message, /dataset synthetic:5000/);
  });

  test('a corrupt plan.json is refused, not replaced', async () => {
    const out = join(dir, 'corrupt');
    mkdirSync(out, { recursive: true });
    const plan = join(out, 'plan.json');
    const torn = '{"api":"http://127.0.0.1:9/","since":0,"until":30';
    writeFileSync(plan, torn);
    const stop = new AbortController();
    const error = (await outcomeWithin(
      runDistributedCensus(options(out), { signal: stop.signal }),
      10_000,
      stop,
    )) as Error & { code?: string };
    assert.equal(error.code, 'ERR_CENSUS_OUTPUT', String(error));
    assert.ok(error.message.includes(plan), error.message);
    assert.match(error.message, /is not a census plan/);
    assert.equal(readFileSync(plan, 'utf8'), torn, 'plan.json is left as it was');
    assert.equal(existsSync(join(out, 'census.json')), false, 'nothing else was written');
    assert.equal(existsSync(join(out, 'census.lock')), false, 'the lock is released');
  });
});

describe('shared token budget (review fixes)', { skip }, () => {
  let redis: TestRedis;
  let client: Redis;

  before(async () => {
    redis = await getRedis();
    client = new Redis(redis.url);
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  test("two workers sharing a token share its in-flight cap; a dead worker's slots come back after the lease", async () => {
    const limits = { ...githubLimits, concurrency: 3 };
    // Long enough that the checks of the first grants below end well before a lease runs out.
    const leaseMs = 3000;
    const shared = { redis: client, prefix: uniqueQueueName('inflight'), leaseMs };
    const token = ['ghp_reviewinflighttoken01'];
    const a = new SharedBudgetScheduler(1, limits, shared, token);
    const b = new SharedBudgetScheduler(1, limits, shared, token);
    const stop = new AbortController();
    /** Each grant with the time it arrived here (a little after Redis granted it). */
    const held: { lease: Lease; at: number }[] = [];
    const take = (s: SharedBudgetScheduler) =>
      s.acquire('rest', stop.signal).then((lease) => {
        held.push({ lease, at: Date.now() });
      });
    const headers = {
      limit: 5000,
      remaining: 4000,
      reset: Math.ceil(Date.now() / 1000) + 3600,
      resource: 'core',
    };
    try {
      // One answered request each, so that both know the primary window (else each sends one
      // probe at a time).
      for (const s of [a, b]) (await s.acquire('rest')).release({ headers });
      // Three at once through each: each alone allows three.
      const waiting = [a, a, a, b, b, b].map((s) => take(s).catch(() => {}));
      await until(() => held.length >= 3, 5000, 'three grants');
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(held.length, 3, 'at most three in flight for the token, across both');
      // One answered: one more goes.
      held[0]?.lease.release({});
      await until(() => held.length >= 4, 5000, 'a fourth grant after a response');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(held.length, 4);
      // The holders of the others "die" (never answer): their slots come back after the lease.
      await until(() => held.length >= 6, 4 * leaseMs, 'the leases to expire');
      // The fifth grant needs one of the three unanswered leases to run out, the sixth two of
      // them. Measured from when the grants arrived here, which is after Redis made them: the
      // epsilon only covers a late arrival of those grants, not an early expiry.
      const epsilon = 250;
      const unanswered = held
        .slice(1, 4)
        .map((h) => h.at)
        .sort((x, y) => x - y);
      for (const [n, grant] of [
        [4, held[4]],
        [5, held[5]],
      ] as const) {
        const from = unanswered[n - 4] as number;
        const after = (grant?.at ?? 0) - from;
        assert.ok(
          after >= leaseMs - epsilon,
          `grant ${n + 1} came ${after} ms after the lease it needed was granted, not before the lease (${leaseMs} ms) ran out`,
        );
      }
      await Promise.all(waiting);
    } finally {
      stop.abort();
      a.close(new Error('done'));
      b.close(new Error('done'));
    }
  });

  test('a short in-flight lease does not shorten how long an unanswered request counts in the points window', async () => {
    // One point per second, ten in flight: only the points window can hold the second request.
    const limits = { ...githubLimits, restPoints: 1, windowMs: 1000, concurrency: 10 };
    const shared = { redis: client, prefix: uniqueQueueName('hold'), leaseMs: 300 };
    const token = ['ghp_reviewholdtoken000001'];
    const a = new SharedBudgetScheduler(1, limits, shared, token);
    const b = new SharedBudgetScheduler(1, limits, shared, token);
    const stop = new AbortController();
    try {
      // a's request never gets an answer (its worker died): its in-flight slot comes back after
      // 300 ms, but it may still have reached the server, so it counts in the window for long.
      await a.acquire('rest', stop.signal, false);
      const next = await within(b.acquire('rest', stop.signal, false), 3000);
      assert.equal(next, 'timeout', 'the unanswered request still fills the window after 3 s');
    } finally {
      stop.abort();
      a.close(new Error('done'));
      b.close(new Error('done'));
    }
  });

  test('after a primary reset one request, from any worker, learns the new window before the others go', async () => {
    const limits = { ...githubLimits, resetMarginMs: 300 };
    const shared = { redis: client, prefix: uniqueQueueName('probe') };
    const token = ['ghp_reviewprobetoken00001'];
    const host = 'api.example.test';
    const a = new SharedBudgetScheduler(1, limits, shared, token, host);
    const b = new SharedBudgetScheduler(1, limits, shared, token, host);
    const stop = new AbortController();
    const reset = Math.ceil(Date.now() / 1000) + 1;
    const old = { limit: 5000, reset, resource: 'core' };
    try {
      // b saw plenty left; a then spent the window: Redis keeps the lowest (0 until the reset).
      (await b.acquire('rest')).release({ headers: { ...old, remaining: 100 } });
      (await a.acquire('rest')).release({ headers: { ...old, remaining: 0 } });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const grants: { at: number; lease: Lease }[] = [];
      const parked = [b, b, b].map((s) =>
        s.acquire('rest', stop.signal).then(
          (lease) => void grants.push({ at: Date.now(), lease }),
          () => {},
        ),
      );
      await until(() => grants.length >= 1, 5000, 'the probe');
      assert.ok(
        (grants[0]?.at ?? 0) >= reset * 1000 + limits.resetMarginMs - 50,
        'the probe waits for the reset plus the margin',
      );
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(grants.length, 1, 'one probe until a response from the new window');
      // The new window allows one more: exactly one of the two parked requests goes.
      grants[0]?.lease.release({
        headers: { limit: 5000, remaining: 1, reset: reset + 60, resource: 'core' },
      });
      await until(() => grants.length >= 2, 5000, 'a request counted in the new window');
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(grants.length, 2, 'the new window is counted down');
      stop.abort();
      await Promise.all(parked);
    } finally {
      stop.abort();
      a.close(new Error('done'));
      b.close(new Error('done'));
    }
  });

  test('budgets are kept per API host: a token spent on one server does not hold another', async () => {
    const shared = { redis: client, prefix: uniqueQueueName('hosts') };
    const token = ['ghp_reviewhosttoken000001'];
    const a = new SharedBudgetScheduler(1, githubLimits, shared, token, 'ghe.example.test');
    const b = new SharedBudgetScheduler(1, githubLimits, shared, token, 'api.github.com');
    const stop = new AbortController();
    try {
      (await a.acquire('rest')).release({
        headers: {
          limit: 5000,
          remaining: 0,
          reset: Math.ceil(Date.now() / 1000) + 30,
          resource: 'core',
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const lease = await within(b.acquire('rest', stop.signal), 2000);
      assert.notEqual(lease, 'timeout', 'the other host is not held by the first host’s limit');
      if (lease !== 'timeout') lease.release({});
    } finally {
      stop.abort();
      a.close(new Error('done'));
      b.close(new Error('done'));
    }
  });
});
