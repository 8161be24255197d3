import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { QueueExecutor } from '@forage/distributed';
import {
  ALL_COMPLETED,
  asCompleted,
  CancelledError,
  ExecutorShutdownError,
  RemoteTraceback,
  TaskSerializationError,
  taskModule,
  wait,
} from '@forage/futures';
import { getRedis, redisSkipReason, type TestRedis, uniqueQueueName } from './helpers/redis.js';
import { until } from './helpers/until.js';
import { type ForageProcess, startWorker } from './helpers/workers.js';

const tasks = taskModule<typeof import('./fixtures/tasks.js')>(
  new URL('./fixtures/tasks.ts', import.meta.url),
);
const skip = redisSkipReason();

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('QueueExecutor with two forage workers', { skip }, () => {
  let redis: TestRedis;
  let queue: string;
  let workers: ForageProcess[] = [];
  let executor: QueueExecutor;
  let dir: string;

  before(async () => {
    redis = await getRedis();
    queue = uniqueQueueName('exec');
    dir = mkdtempSync(join(tmpdir(), 'forage-qe-'));
    workers = await Promise.all([startWorker(redis.url, queue), startWorker(redis.url, queue)]);
    executor = new QueueExecutor({ connection: redis.url, queue });
  });

  after(async () => {
    await executor?.shutdown({ cancelFutures: true });
    await Promise.all(workers.map((w) => w.interrupt()));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('submit runs a task module export in a worker process and awaits its result', async () => {
    assert.equal(await executor.submit(tasks.add, 2, 40), 42);
    const pid = await executor.submit(tasks.pid);
    assert.ok(
      workers.some((w) => w.pid === pid),
      `task ran in pid ${pid}, not in a worker`,
    );
    assert.notEqual(pid, process.pid);
  });

  test('arguments and results keep structured-clone types', async () => {
    const value = {
      when: new Date(0),
      big: 2n ** 70n,
      ids: new Set([1, 2]),
      map: new Map([['a', [1]]]),
      bytes: new Uint8Array([1, 2]),
    };
    assert.deepEqual(await executor.submit(tasks.echo, value), value);
  });

  test('map returns results in input order although tasks finish out of order', async () => {
    const delays = [120, 10, 80, 0, 60, 30, 5, 100, 20, 40];
    const results: number[] = [];
    for await (const value of executor.map(
      tasks.sleep,
      delays,
      delays.map((_, i) => i),
    ))
      results.push(value);
    assert.deepEqual(
      results,
      delays.map((_, i) => i),
    );
  });

  test('map over several iterables zips them and stops at the shortest', async () => {
    const results: number[] = [];
    for await (const sum of executor.map(tasks.add, [1, 2, 3], [10, 20])) results.push(sum);
    assert.deepEqual(results, [11, 22]);
  });

  test('a built-in error keeps its class, and the worker stack comes back as cause', async () => {
    const error = await executor.submit(tasks.failType, 'bad input').exception();
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, 'bad input');
    assert.ok(error.cause instanceof RemoteTraceback);
    assert.match(error.cause.message, /failType/);
  });

  test('a custom error keeps name, message, code and its own properties', async () => {
    const error = (await executor.submit(tasks.failQuota, 5).exception()) as Error & {
      code?: string;
      limit?: number;
    };
    assert.equal(error.name, 'QuotaError');
    assert.equal(error.message, 'quota of 5 exceeded');
    assert.equal(error.code, 'E_QUOTA');
    assert.equal(error.limit, 5);
    const coded = (await executor.submit(tasks.failWithCode, 'E_X').exception()) as Error & {
      code?: string;
    };
    assert.equal(coded.code, 'E_X');
  });

  test('a thrown non-error value comes back as that value', async () => {
    await assert.rejects(
      executor.submit(tasks.throwString, 'plain').result(),
      (thrown) => thrown === 'plain',
    );
  });

  test('a value that cannot be sent fails the future and names what', async () => {
    const bad = executor.submit(tasks.echo, () => 1);
    const error = await bad.exception();
    assert.ok(error instanceof TaskSerializationError);
    assert.match((error as Error).message, /arguments of echo/);
    const badResult = await executor.submit(tasks.returnsFunction).exception();
    assert.equal((badResult as { code?: string }).code, 'ERR_TASK_SERIALIZATION');
    assert.match((badResult as Error).message, /result of returnsFunction/);
  });

  test('a plain function is refused at submit with the way to fix it', () => {
    assert.throws(
      () => executor.submit((n: number) => n + 1, 1),
      (error: Error & { code?: string }) =>
        error instanceof TypeError &&
        error.code === 'ERR_TASK_NOT_PORTABLE' &&
        /taskModule/.test(error.message),
    );
  });

  test('a missing export fails the future with the module error code', async () => {
    const missing = taskModule<{ nope(): void }>(new URL('./fixtures/tasks.ts', import.meta.url));
    const error = (await executor.submit(missing.nope).exception()) as Error & { code?: string };
    assert.equal(error.code, 'ERR_TASK_EXPORT_MISSING');
  });

  test('wait and asCompleted work on its futures', async () => {
    const futures = [30, 10, 20].map((ms) => executor.submit(tasks.sleep, ms, ms));
    const seen: number[] = [];
    for await (const future of asCompleted(futures, { timeoutMs: 20_000 })) seen.push(await future);
    assert.deepEqual([...seen].sort(), [10, 20, 30]);
    const { done, notDone } = await wait(futures, { returnWhen: ALL_COMPLETED });
    assert.equal(done.size, 3);
    assert.equal(notDone.size, 0);
  });

  test('many small tasks all settle exactly once', async () => {
    const futures = Array.from({ length: 300 }, (_, i) => executor.submit(tasks.add, i, 1));
    let settled = 0;
    for (const future of futures) future.addDoneCallback(() => settled++);
    const values = await Promise.all(futures);
    assert.deepEqual(
      values,
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(settled, 300);
    assert.equal(executor.pendingCount, 0);
  });

  test('a worker killed mid-task has its job retried by another worker; the future settles once', async () => {
    const file = join(dir, 'killed.txt');
    const future = executor.submit(tasks.markThenSleep, file, 2000);
    let settledTimes = 0;
    future.addDoneCallback(() => settledTimes++);
    await until(() => lines(file).length === 1, 15_000, 'the task to start');
    const firstPid = Number(lines(file)[0]);
    const victim = workers.find((w) => w.pid === firstPid);
    assert.ok(victim, 'the task started in one of the workers');
    await victim.kill();
    workers = workers.filter((w) => w !== victim);
    const survivorPid = await future.result(30_000);
    assert.equal(survivorPid, workers[0]?.pid);
    assert.deepEqual(lines(file).map(Number), [firstPid, survivorPid]);
    assert.equal(settledTimes, 1);
    // Keep two workers for the tests that follow.
    workers.push(await startWorker(redis.url, queue));
  });
});

describe('QueueExecutor cancellation and shutdown (one worker, one task at a time)', {
  skip,
}, () => {
  let redis: TestRedis;
  let dir: string;
  let worker: ForageProcess;
  let queue: string;

  before(async () => {
    redis = await getRedis();
    dir = mkdtempSync(join(tmpdir(), 'forage-qe-cancel-'));
    queue = uniqueQueueName('cancel');
    worker = await startWorker(redis.url, queue, { concurrency: 1 });
  });

  after(async () => {
    await worker?.interrupt();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('queued jobs can be cancelled and never run; a running one cannot', async () => {
    const file = join(dir, 'cancel.txt');
    const executor = new QueueExecutor({ connection: redis.url, queue });
    try {
      const running = executor.submit(tasks.mark, file, 'first', 600);
      const queued = [
        executor.submit(tasks.mark, file, 'second'),
        executor.submit(tasks.mark, file, 'third'),
      ];
      await until(() => running.running(), 15_000, 'the first task to start');
      assert.equal(running.cancel(), false);
      for (const future of queued) assert.equal(future.cancel(), true);
      assert.equal(await running, 'first');
      const { done } = await wait(queued, { timeoutMs: 5000 });
      assert.equal(done.size, 2, 'cancelled futures count as done in wait()');
      await assert.rejects((queued[0] as (typeof queued)[0]).result(), CancelledError);
      // A later task runs after them: had they stayed queued, they would have run first.
      assert.equal(await executor.submit(tasks.mark, file, 'fourth'), 'fourth');
      assert.deepEqual(lines(file), ['first', 'fourth']);
    } finally {
      await executor.shutdown();
    }
  });

  test('shutdown({ cancelFutures }) cancels exactly the tasks not started', async () => {
    const file = join(dir, 'shutdown-cancel.txt');
    const executor = new QueueExecutor({ connection: redis.url, queue });
    const running = executor.submit(tasks.mark, file, 'running', 500);
    const queued = [1, 2, 3].map((i) => executor.submit(tasks.mark, file, `queued-${i}`));
    await until(() => running.running(), 15_000, 'the first task to start');
    await executor.shutdown({ cancelFutures: true });
    assert.equal(await running, 'running');
    assert.ok(queued.every((f) => f.cancelled()));
    assert.throws(() => executor.submit(tasks.add, 1, 2), ExecutorShutdownError);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(lines(file), ['running']);
  });

  test('shutdown() waits for every queued task', async () => {
    const file = join(dir, 'shutdown-wait.txt');
    const executor = new QueueExecutor({ connection: redis.url, queue });
    const futures = [1, 2, 3].map((i) => executor.submit(tasks.mark, file, `t${i}`, 50));
    await executor.shutdown({ wait: true });
    assert.ok(futures.every((f) => f.done() && !f.cancelled()));
    assert.deepEqual(lines(file).sort(), ['t1', 't2', 't3']);
  });

  test('a map error surfaces at its position after the earlier results, then the iteration ends', async () => {
    await using executor = new QueueExecutor({ connection: redis.url, queue });
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const value of executor.map(tasks.failAt, [0, 1, 2, 3, 4], [2, 2, 2, 2, 2]))
          seen.push(value);
      })(),
      (error: Error & { code?: string }) =>
        error instanceof RangeError && error.code === 'E_BAD_ITEM',
    );
    assert.deepEqual(seen, [0, 1]);
  });

  test('map timeout counts from the call and cancels what has not started', async () => {
    const file = join(dir, 'map-timeout.txt');
    const executor = new QueueExecutor({ connection: redis.url, queue });
    try {
      const labels = ['a', 'b', 'c', 'd'];
      const it = executor.map(
        tasks.mark,
        labels.map(() => file),
        labels,
        labels.map(() => 400),
        { timeoutMs: 600 },
      );
      await assert.rejects(
        (async () => {
          for await (const _ of it) {
            // drain
          }
        })(),
        { code: 'ERR_FUTURE_TIMEOUT' },
      );
    } finally {
      await executor.shutdown({ wait: true });
    }
    // One worker, one task at a time, 400 ms each: by the 600 ms deadline at most 'a' and 'b'
    // had started (how many depends on the machine's load); the rest were cancelled and never ran.
    const ran = lines(file);
    assert.ok(ran.length <= 2, `ran ${ran.join(', ')}`);
    assert.deepEqual(ran, ['a', 'b'].slice(0, ran.length));
  });

  test('shutdown({ wait: false }) returns at once and the queued work still finishes', async () => {
    const file = join(dir, 'no-wait.txt');
    const executor = new QueueExecutor({ connection: redis.url, queue });
    const futures = [1, 2].map((i) => executor.submit(tasks.mark, file, `w${i}`, 100));
    const started = Date.now();
    await executor.shutdown({ wait: false });
    assert.ok(Date.now() - started < 100, 'shutdown without wait returns at once');
    assert.deepEqual(await Promise.all(futures.map((f) => f.result(10_000))), ['w1', 'w2']);
  });

  test('Ctrl-C on a worker finishes its running task before it exits', async () => {
    const own = uniqueQueueName('sigint');
    const w = await startWorker(redis.url, own, { concurrency: 1 });
    const executor = new QueueExecutor({ connection: redis.url, queue: own });
    try {
      const file = join(dir, 'sigint.txt');
      const future = executor.submit(tasks.mark, file, 'finished', 700);
      await until(() => future.running(), 15_000, 'the task to start');
      const code = await w.interrupt();
      assert.equal(code, 0, w.stderr());
      assert.equal(await future.result(5000), 'finished');
      assert.match(w.stderr(), /finishing the running jobs/);
    } finally {
      await executor.shutdown({ cancelFutures: true });
      await w.kill();
    }
  });
});

describe('QueueExecutor input checks', () => {
  test('a URL that is not redis:// is refused with the expected form', () => {
    assert.throws(
      () => new QueueExecutor({ connection: 'http://127.0.0.1:6379' }),
      (error: Error & { code?: string }) =>
        error.code === 'ERR_QUEUE_URL' && /redis:\/\/127\.0\.0\.1:6379/.test(error.message),
    );
    assert.throws(() => new QueueExecutor({ connection: 'redis://h:1', queue: 'a b' }), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  });

  test('an unreachable Redis fails the future after connectTimeoutMs, and shutdown returns', async () => {
    const executor = new QueueExecutor({
      connection: 'redis://127.0.0.1:9',
      connectTimeoutMs: 300,
    });
    const error = (await executor.submit(tasks.add, 1, 2).exception()) as Error & { code?: string };
    assert.equal(error.code, 'ERR_QUEUE_UNAVAILABLE');
    assert.match(error.message, /redis:\/\/127\.0\.0\.1:9/);
    await executor.shutdown();
  });
});
