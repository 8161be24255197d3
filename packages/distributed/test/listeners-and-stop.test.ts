/**
 * A census coordinator's run signal does not collect listeners, a stopping worker returns and
 * its process exits while Redis does not answer, and a census worker drops a rejected token
 * and goes on with the others. Each test fails on the code before its fix.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  QueueExecutor,
  runCensusWorker,
  runDistributedCensus,
  tokenKey,
} from '@forage/distributed';
import { taskModule } from '@forage/futures';
import { startEmulator } from '@forage/github-emulator';
import { Redis } from 'ioredis';
import { getRedis, redisSkipReason, startOwnRedis, uniqueQueueName } from './helpers/redis.js';
import { until } from './helpers/until.js';
import { repoRoot } from './helpers/workers.js';

const censusTasks = taskModule<typeof import('../src/census-tasks.js')>(
  new URL('../dist/census-tasks.js', import.meta.url),
);

describe('census coordinator listeners', { skip: redisSkipReason() }, () => {
  test("a job's wait leaves no listener on the run's signal once it ends", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'forage-dcensus-listeners-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const token = 'ghp_listenerstestaaaa1';
    const emu = await startEmulator({ dataset: 'synthetic:3000', tokens: [token] });
    t.after(() => emu.close());
    const redis = await getRedis();
    t.after(() => redis.stop());
    const queue = uniqueQueueName('listeners');
    // Every AbortSignal that gets an 'abort' listener in this process.
    const signals = new Set<AbortSignal>();
    const add = EventTarget.prototype.addEventListener;
    EventTarget.prototype.addEventListener = function (
      this: EventTarget,
      ...args: Parameters<EventTarget['addEventListener']>
    ) {
      if (this instanceof AbortSignal && args[0] === 'abort') signals.add(this);
      return add.apply(this, args);
    };
    t.after(() => {
      EventTarget.prototype.addEventListener = add;
    });
    const stop = new AbortController();
    const worker = runCensusWorker({
      connection: redis.url,
      queue,
      api: emu.url,
      tokens: [token],
      concurrency: 8,
      signal: stop.signal,
    });
    t.after(async () => {
      stop.abort();
      await worker.catch(() => {});
    });
    const { manifest } = await runDistributedCensus({
      connection: redis.url,
      queue,
      api: emu.url,
      since: 0,
      until: 3000,
      out: join(dir, 'out'),
      shards: 8,
      pagesPerJob: 1,
    });
    assert.equal(manifest.complete, true);
    assert.ok(signals.size > 0, 'the census listened to a signal');
    const most = Math.max(...[...signals].map((s) => getEventListeners(s, 'abort').length));
    // 30 listing jobs (a page each) and 30 languages jobs: before the fix, the run's signal
    // kept a listener for each.
    assert.ok(most <= 4, `a signal still has ${most} abort listeners after the census`);
  });
});

/** Runs `script` (an ES module) in a child node process from the repository's root. */
function spawnScript(script: string): Watched {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watch(child);
}

interface Watched {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | string>;
  waitFor: (text: string) => Promise<void>;
}

/** Collects a child's stderr and its exit. */
function watch(child: ChildProcess): Watched {
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const waitFor = async (text: string) => {
    await until(() => err.includes(text) || child.exitCode !== null, 20_000, `${text} in ${err}`);
    assert.ok(err.includes(text), `the child exited before printing ${text}:\n${err}`);
  };
  return { child, stderr: () => err, exited, waitFor };
}

/** The exit code, or 'alive' if the process has not exited within `ms`. */
async function exitWithin(exited: Promise<number | string>, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    exited,
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('alive'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('a worker stopped while Redis is down', { skip: redisSkipReason(true) }, () => {
  test('runTaskWorker returns after SIGINT and its process exits by itself', async (t) => {
    const redis = await startOwnRedis();
    t.after(() => redis.stop());
    const script = `
      import { runTaskWorker } from '@forage/distributed';
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      const summary = await runTaskWorker({
        connection: ${JSON.stringify(redis.url)},
        queue: 'stopped-while-down',
        concurrency: 2,
        signal: stop.signal,
        onEvent: (event) => process.stderr.write(event.type + '\\n'),
      });
      process.stderr.write('returned ' + JSON.stringify(summary) + '\\n');
    `;
    const worker = spawnScript(script);
    t.after(() => worker.child.kill('SIGKILL'));
    await worker.waitFor('ready');
    await redis.halt();
    // Until its connections wait to reconnect.
    await worker.waitFor('error');
    worker.child.kill('SIGINT');
    // Before the fix it never returned (BullMQ waited for the connections to end) and a lock
    // renewal timer kept the process alive.
    const code = await exitWithin(worker.exited, 30_000);
    assert.match(worker.stderr(), /returned \{"completed":0,"failed":0\}/, worker.stderr());
    assert.equal(code, 0, worker.stderr());
  });

  test('runTaskWorker that never reached Redis returns after SIGINT and its process exits', async (t) => {
    const redis = await startOwnRedis();
    t.after(() => redis.stop());
    // Nothing listens there any more: the worker's connections only ever retry.
    await redis.halt();
    const worker = spawnScript(`
      import { runTaskWorker } from '@forage/distributed';
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      const summary = await runTaskWorker({
        connection: ${JSON.stringify(redis.url)},
        queue: 'never-reached',
        signal: stop.signal,
        onEvent: (event) => process.stderr.write(event.type + '\\n'),
      });
      process.stderr.write('returned ' + JSON.stringify(summary) + '\\n');
    `);
    t.after(() => worker.child.kill('SIGKILL'));
    await worker.waitFor('error');
    worker.child.kill('SIGINT');
    // Before the fix the connections, never ready, were not dropped and went on retrying.
    const code = await exitWithin(worker.exited, 30_000);
    assert.match(worker.stderr(), /returned \{"completed":0,"failed":0\}/, worker.stderr());
    assert.equal(code, 0, worker.stderr());
  });

  for (const outage of ['halted', 'frozen (SIGSTOP)'] as const) {
    test(`a census worker whose job waits for the shared budget returns after SIGINT and exits (Redis ${outage})`, async (t) => {
      const redis = await startOwnRedis();
      t.after(() => redis.stop());
      const token = 'ghp_stoppingbudgettest1';
      const emu = await startEmulator({ dataset: 'synthetic:300', tokens: [token] });
      t.after(() => emu.close());
      const queue = uniqueQueueName('budget-stop');
      // The token is held (as after a retry-after) for ten minutes: the job waits for the budget.
      const admin = new Redis(redis.url);
      const host = new URL(emu.url).host;
      await admin.set(`forage:budget:${host}:${tokenKey(token)}:blocked`, Date.now() + 600_000);
      admin.disconnect();
      const script = `
      import { runCensusWorker } from '@forage/distributed';
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      const summary = await runCensusWorker({
        connection: ${JSON.stringify(redis.url)},
        queue: ${JSON.stringify(queue)},
        api: ${JSON.stringify(emu.url)},
        tokens: [process.env.TEST_TOKEN],
        signal: stop.signal,
        onEvent: (event) => process.stderr.write(event.type + '\\n'),
      });
      process.stderr.write('returned ' + JSON.stringify(summary) + '\\n');
    `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        cwd: repoRoot,
        env: { ...process.env, TEST_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const worker = watch(child);
      t.after(() => child.kill('SIGKILL'));
      await worker.waitFor('ready');
      const executor = new QueueExecutor({ connection: redis.url, queue });
      const job = { api: emu.url, start: 1, end: 300, cursor: 0, maxPages: 1, forks: 'include' };
      const result = executor.submit(censusTasks.listShard, job as never);
      result.then(undefined, () => {});
      await worker.waitFor('started');
      await executor.abort(new Error('the test is done with it'));
      if (outage === 'halted') {
        await redis.halt();
        await worker.waitFor('error');
      } else {
        redis.freeze();
        t.after(() => redis.thaw());
      }
      child.kill('SIGINT');
      // Before the fix the job kept waiting for Redis to answer its ask for the budget, and the
      // worker for the job.
      const code = await exitWithin(worker.exited, 30_000);
      assert.match(worker.stderr(), /returned \{"completed":0,"failed":1\}/, worker.stderr());
      assert.equal(code, 0, worker.stderr());
      assert.ok(!worker.stderr().includes(token), 'the token is never printed');
    });
  }
});

describe('a census worker with several tokens', { skip: redisSkipReason() }, () => {
  /** A languages job for repository `i` (REST: one request per job, each on some token). */
  const job = (api: string, i: number) => ({
    api,
    via: 'rest' as const,
    repos: [{ id: i, node_id: `R_${i}`, full_name: `o/r${i}`, fork: false, languages_url: '' }],
  });

  test('retires the one token the API rejected, says which by position only, and does every job', async (t) => {
    const good = ['ghp_severaltokensgood0001', 'ghp_severaltokensgood0003'];
    const revoked = 'ghp_severaltokensrevoked02';
    const tokens = [good[0], revoked, good[1]] as string[];
    const emu = await startEmulator({ dataset: 'synthetic:300', tokens: good });
    t.after(() => emu.close());
    const redis = await getRedis();
    t.after(() => redis.stop());
    const queue = uniqueQueueName('several-tokens');
    const executor = new QueueExecutor({ connection: redis.url, queue });
    t.after(() => executor.shutdown({ cancelFutures: true }));
    const stop = new AbortController();
    t.after(() => stop.abort());
    const warnings: string[] = [];
    const worker = runCensusWorker({
      connection: redis.url,
      queue,
      api: emu.url,
      tokens,
      concurrency: 2,
      signal: stop.signal,
      onTokenRetired: (message) => warnings.push(message),
    });
    // Enough jobs that every token is sent (each serves some of them); before the fix the job
    // that met the 401 failed and the worker stopped taking jobs.
    const futures = Array.from({ length: 60 }, (_, i) =>
      executor.submit(censusTasks.fetchLanguages, job(emu.url, i + 1)),
    );
    const records = await Promise.all(futures.map((f) => f.result()));
    for (const [i, batch] of records.entries()) {
      assert.equal(batch.length, 1);
      assert.equal(batch[0]!.id, i + 1);
      assert.notEqual(batch[0]!.status, 'error', JSON.stringify(batch[0]));
    }
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /^token 2 of 3 was rejected \(401 Bad credentials\)/);
    for (const token of tokens) {
      assert.ok(!warnings[0]!.includes(token.slice(-4)), `part of a token: ${warnings[0]}`);
    }
    stop.abort();
    const summary = await worker;
    assert.deepEqual(
      { completed: summary.completed, failed: summary.failed },
      { completed: 60, failed: 0 },
    );
  });

  test('stops when every one of its tokens is rejected, naming them, never showing one', async (t) => {
    const tokens = ['ghp_severaltokensunknown01', 'ghp_severaltokensunknown02'];
    const emu = await startEmulator({
      dataset: 'synthetic:300',
      tokens: ['ghp_severaltokensother000'],
    });
    t.after(() => emu.close());
    const redis = await getRedis();
    t.after(() => redis.stop());
    const queue = uniqueQueueName('all-tokens-rejected');
    const executor = new QueueExecutor({ connection: redis.url, queue });
    t.after(() => executor.shutdown({ cancelFutures: true }));
    const worker = runCensusWorker({
      connection: redis.url,
      queue,
      api: emu.url,
      tokens,
      concurrency: 2,
    });
    const stopped = worker.then(
      () => assert.fail('the worker should stop'),
      (error: Error & { code?: string }) => error,
    );
    for (let i = 1; i <= 10; i++) {
      executor
        .submit(censusTasks.fetchLanguages, job(emu.url, i))
        .result()
        .then(undefined, () => {});
    }
    const error = await stopped;
    assert.equal(error.code, 'ERR_CENSUS_TOKEN', error.message);
    assert.match(
      error.message,
      /the API rejected all 2 tokens \(ghp_…wn01, ghp_…wn02\) of this worker/,
    );
    assert.match(error.message, /check the tokens/);
    for (const token of tokens) assert.ok(!error.message.includes(token), 'no token is printed');
  });
});
