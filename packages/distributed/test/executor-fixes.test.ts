/**
 * Fixes to the general executor (QueueExecutor, its codec and options), each reproduced first:
 * a test here fails on the code before its fix.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serialize } from 'node:v8';
import {
  DistributedError,
  decodeError,
  encodeError,
  QueueExecutor,
  runTaskWorker,
} from '@forage/distributed';
import {
  BrokenExecutor,
  BrokenThreadPool,
  FuturesError,
  RemoteTraceback,
  TaskSerializationError,
  taskModule,
} from '@forage/futures';
import { Redis } from 'ioredis';
import {
  getRedis,
  type OwnedRedis,
  redisSkipReason,
  startOwnRedis,
  type TestRedis,
  uniqueQueueName,
} from './helpers/redis.js';
import { until } from './helpers/until.js';
import { type ForageProcess, repoRoot, startWorker } from './helpers/workers.js';

const tasksUrl = new URL('./fixtures/tasks.ts', import.meta.url);
const tasks = taskModule<typeof import('./fixtures/tasks.js')>(tasksUrl);
const skip = redisSkipReason();

/**
 * Runs an ES module script in a child node (from the repository, so that packages resolve) and
 * resolves with its exit code, or 'alive' if it has not exited after `limitMs` (then kills it).
 */
function runScript(source: string, limitMs = 30_000): Promise<number | string> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: repoRoot,
    stdio: 'ignore',
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('alive');
    }, limitMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal ?? 'unknown');
    });
  });
}

/** Lets `n` rounds of the event loop's check phase pass (the executor adds jobs in one). */
async function immediates(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('QueueExecutor shutdown and cancellation', { skip }, () => {
  let redis: TestRedis;
  let admin: Redis;

  before(async () => {
    redis = await getRedis();
    admin = new Redis(redis.url);
  });

  after(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  test('shutdown({ cancelFutures }) right after submit leaves no job in Redis', async () => {
    // Each round cancels at another point of the add: before it, while addBulk is on its way,
    // after it.
    for (let hops = 0; hops <= 3; hops++) {
      const queue = uniqueQueueName('cancel-add');
      const executor = new QueueExecutor({ connection: redis.url, queue });
      await executor.connected();
      const futures = Array.from({ length: 20 }, (_, i) => executor.submit(tasks.add, i, 1));
      await immediates(hops);
      await executor.shutdown({ cancelFutures: true });
      assert.equal(futures.filter((f) => f.cancelled()).length, 20, `round ${hops}`);
      assert.equal(await admin.llen(`forage:${queue}:wait`), 0, `jobs left queued, round ${hops}`);
    }
  });

  test('a process that shuts an executor down before it has connected exits', async () => {
    // Each executor is shut down at another point of its first connection; one has a task
    // submitted and cancelled at once. A socket opened after shutdown keeps the child alive.
    const script = `
      import { QueueExecutor } from '@forage/distributed';
      import { taskModule } from '@forage/futures';
      const tasks = taskModule(${JSON.stringify(tasksUrl.href)});
      const url = ${JSON.stringify(redis.url)};
      for (let hops = 0; hops <= 6; hops++) {
        const executor = new QueueExecutor({ connection: url, queue: 'early-shutdown' });
        for (let i = 0; i < hops; i++) await new Promise((resolve) => setImmediate(resolve));
        await executor.shutdown();
      }
      const executor = new QueueExecutor({ connection: url, queue: 'early-shutdown' });
      executor.submit(tasks.add, 1, 2).cancel();
      await executor.shutdown();
    `;
    assert.equal(await runScript(script), 0);
  });
});

describe('QueueExecutor when Redis goes away', { skip: redisSkipReason(true) }, () => {
  test('abort() and shutdown() return, and the process exits, while Redis is down', async (t) => {
    const redis = await startOwnRedis();
    t.after(() => redis.stop());
    // The child connects, queues a task no worker takes, says so, and stops the executor once
    // Redis is gone.
    const script = `
      import { once } from 'node:events';
      import { QueueExecutor } from '@forage/distributed';
      import { taskModule } from '@forage/futures';
      const tasks = taskModule(${JSON.stringify(tasksUrl.href)});
      const url = ${JSON.stringify(redis.url)};
      const a = new QueueExecutor({ connection: url, queue: 'gone-a' });
      const b = new QueueExecutor({ connection: url, queue: 'gone-b' });
      a.submit(tasks.add, 1, 2).then(undefined, () => {});
      await Promise.all([a.connected(), b.connected()]);
      process.stdout.write('connected\\n');
      await once(process.stdin, 'data');
      process.stdin.destroy();
      await a.abort(new Error('stopped'));
      process.stderr.write('aborted\\n');
      await b.shutdown();
      process.stderr.write('shut down\\n');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | string>((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        if (chunk.includes('connected')) resolve();
      });
      exited.then(() => reject(new Error(`the child exited early: ${stderr}`)));
    });
    await redis.halt();
    // Long enough for the connections to be waiting to reconnect.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.stdin.write('go\n');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('alive'), 30_000);
      }),
    ]).finally(() => clearTimeout(timer));
    assert.match(stderr, /aborted/, `abort() returned; stderr:\n${stderr}`);
    assert.match(stderr, /shut down/, `shutdown() returned; stderr:\n${stderr}`);
    assert.equal(code, 0, stderr);
  });
});

describe('QueueExecutor when Redis takes only part of a batch', {
  skip: redisSkipReason(true),
}, () => {
  let redis: OwnedRedis;
  let admin: Redis;
  let worker: ForageProcess | undefined;
  let dir: string;

  before(async () => {
    redis = await startOwnRedis();
    admin = new Redis(redis.url);
    dir = mkdtempSync(join(tmpdir(), 'forage-partial-'));
  });

  after(async () => {
    await worker?.interrupt();
    admin?.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a future failed as not queued has no job behind it; the queued ones run', async () => {
    const queue = uniqueQueueName('partial');
    const file = join(dir, 'marks');
    const executor = new QueueExecutor({ connection: redis.url, queue });
    await executor.connected();
    // Room for some of the jobs only: Redis refuses the rest of the batch (out of memory).
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', String(used + 300_000));
    const pad = 'x'.repeat(1000);
    const labels = Array.from({ length: 1200 }, (_, i) => `j${i}-${pad}`);
    const futures = labels.map((label) => executor.submit(tasks.mark, file, label));
    // The refused ones fail together, when the add is over.
    await until(() => futures.some((f) => f.done()), 30_000, 'the add to fail');
    await admin.config('SET', 'maxmemory', '0');
    worker = await startWorker(redis.url, queue, { concurrency: 50 });
    const results = await Promise.allSettled(futures);
    await executor.shutdown();

    const ran = new Set(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
    const codes = results.flatMap((r) => (r.status === 'rejected' ? [r.reason.code] : []));
    assert.ok(ran.size > 0 && codes.length > 0, `not a partial add: ${ran.size} ran`);
    assert.deepEqual(new Set(codes), new Set(['ERR_QUEUE_UNAVAILABLE']));
    const marks = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    assert.equal(marks.length, ran.size, 'tasks that ran = futures that succeeded');
    assert.deepEqual(new Set(marks), ran);
  });
});

describe('QueueExecutor connection URLs', () => {
  test('a URL that is refused names the fix and never shows its password', () => {
    for (const url of [
      'redis://:SECRET/x@127.0.0.1:6379',
      'redis://user:SECRET?x@127.0.0.1:6379',
      'redis://:SECRET#x@127.0.0.1:6379',
      'redis://:SECRET100%@127.0.0.1:6379',
      'http://:SECRET@x@127.0.0.1:6379',
      'redis:SECRET@127.0.0.1',
      'redis://:SECRET@127.0.0.1:6379/not-a-db',
    ]) {
      assert.throws(
        () => new QueueExecutor({ connection: url }),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'ERR_QUEUE_URL', url);
          assert.ok(!error.message.includes('SECRET'), error.message);
          assert.match(error.message, /%40/, 'says how to write a password with @');
          return true;
        },
      );
    }
  });
});

describe('timer options', () => {
  const tooLong = 2 ** 31;
  const names = (error: Error & { code?: string }, name: string) => {
    assert.equal(error.code, 'ERR_INVALID_ARG_VALUE');
    assert.ok(error.message.includes(name), error.message);
    assert.ok(error.message.includes('2147483647'), error.message);
    return true;
  };

  test('a QueueExecutor duration longer than a Node.js timer takes is refused, naming it', async () => {
    for (const name of ['connectTimeoutMs', 'reconcileIntervalMs']) {
      let accepted: QueueExecutor | undefined;
      try {
        accepted = new QueueExecutor({ connection: 'redis://127.0.0.1:1', [name]: tooLong });
      } catch (error) {
        names(error as Error, name);
      }
      await accepted?.abort();
      assert.equal(accepted, undefined, `${name} ${tooLong} was accepted`);
    }
  });

  test('abort() refuses a removeWaitMs that is not a duration, naming it, before it stops anything', async () => {
    const executor = new QueueExecutor({
      connection: 'redis://127.0.0.1:1',
      connectTimeoutMs: 200,
    });
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, 1.5, '100', tooLong]) {
      await assert.rejects(
        executor.abort(undefined, bad as number),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'ERR_INVALID_ARG_VALUE', String(bad));
          assert.ok(error.message.includes('removeWaitMs'), error.message);
          assert.ok(error.message.includes(String(bad)), error.message);
          return true;
        },
        `removeWaitMs ${String(bad)} was accepted`,
      );
    }
    // Nothing was stopped by the refused calls: the executor still takes tasks.
    const future = executor.submit(tasks.add, 1, 2);
    future.then(undefined, () => {});
    // 0: do not wait for the removals at all.
    await executor.abort(undefined, 0);
    assert.equal(future.done(), true);
  });

  test('a worker duration longer than a Node.js timer takes is refused, naming it', async () => {
    for (const name of ['lockDurationMs', 'stalledIntervalMs']) {
      await assert.rejects(
        // Aborted from the start: a worker that accepted the option stops at once.
        runTaskWorker({
          connection: 'redis://127.0.0.1:1',
          [name]: tooLong,
          signal: AbortSignal.abort(),
        }),
        (error: Error) => names(error, name),
      );
    }
  });
});

/** `error` after a trip through Redis's encoding. */
function roundTrip(error: unknown): unknown {
  return decodeError(JSON.parse(JSON.stringify(encodeError(error))));
}

type Coded = Error & { code?: unknown; cause?: unknown };

describe('errors across the queue keep what ThreadPoolExecutor keeps', () => {
  test('an AggregateError keeps its class and its errors', () => {
    const error = roundTrip(new AggregateError([new TypeError('a'), new RangeError('b')], 'many'));
    assert.ok(error instanceof AggregateError);
    assert.equal(error.message, 'many');
    assert.deepEqual(
      error.errors.map((e: Error) => [e.constructor, e.message]),
      [
        [TypeError, 'a'],
        [RangeError, 'b'],
      ],
    );
    assert.ok(error.cause instanceof RemoteTraceback);
  });

  test("@forage/futures' and this package's error classes come back as themselves", () => {
    const cases: [Error, new (...args: never[]) => Error, string][] = [
      [new BrokenThreadPool('pool broke'), BrokenThreadPool, 'ERR_THREAD_POOL_BROKEN'],
      [new FuturesError('base', 'E_BASE'), FuturesError, 'E_BASE'],
      [new TaskSerializationError('cannot send'), TaskSerializationError, 'ERR_TASK_SERIALIZATION'],
      [new DistributedError('gone', 'ERR_JOB_LOST'), DistributedError, 'ERR_JOB_LOST'],
    ];
    for (const [original, Class, code] of cases) {
      const error = roundTrip(original) as Coded;
      assert.ok(error instanceof Class, `${original.name} came back as ${error.constructor.name}`);
      assert.equal(error.name, original.name);
      assert.equal(error.message, original.message);
      assert.equal(error.code, code);
    }
    assert.ok(roundTrip(new BrokenThreadPool('x')) instanceof BrokenExecutor);
    const traceback = roundTrip(new RemoteTraceback('at somewhere')) as Error;
    assert.ok(traceback instanceof RemoteTraceback);
    assert.equal(traceback.message, new RemoteTraceback('at somewhere').message);
  });

  test("the worker stack is the cause, and the error's own cause keeps its properties", () => {
    const inner = Object.assign(new Error('inner'), { code: 'E_INNER' });
    const outer = Object.assign(new Error('outer', { cause: inner }), { code: 'E_OUTER' });
    const error = roundTrip(outer) as Coded;
    assert.equal(error.code, 'E_OUTER');
    assert.ok(error.cause instanceof RemoteTraceback);
    assert.match(error.cause.message, /outer/);
    const cause = error.cause.cause as Coded;
    assert.equal(cause.message, 'inner');
    assert.equal(cause.code, 'E_INNER');
  });

  test('a DOMException keeps its class, name and code', () => {
    const error = roundTrip(new DOMException('stopped', 'AbortError')) as Coded;
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, 'AbortError');
    assert.equal(error.code, 20);
  });

  test("thrown values come back as themselves, and older workers' records still decode", () => {
    assert.equal(roundTrip('plain'), 'plain');
    assert.deepEqual(roundTrip(new Map([[1, 2]])), new Map([[1, 2]]));
    const older = decodeError({
      kind: 'TypeError',
      name: 'TypeError',
      message: 'old',
      stack: 'TypeError: old\n    at task',
      props: Buffer.from(serialize({ code: 'E_OLD' })).toString('base64'),
    }) as Coded;
    assert.ok(older instanceof TypeError);
    assert.equal(older.code, 'E_OLD');
    assert.ok(older.cause instanceof RemoteTraceback);
  });
});

describe('errors from a forage worker', { skip }, () => {
  let redis: TestRedis;
  let worker: ForageProcess | undefined;
  let executor: QueueExecutor;

  before(async () => {
    redis = await getRedis();
    const queue = uniqueQueueName('errors');
    worker = await startWorker(redis.url, queue);
    executor = new QueueExecutor({ connection: redis.url, queue });
  });

  after(async () => {
    await executor?.shutdown();
    await worker?.interrupt();
    await redis?.stop();
  });

  test('an AggregateError and a cause with a code arrive as they were thrown', async () => {
    const aggregate = await executor.submit(tasks.failAggregate).exception();
    assert.ok(aggregate instanceof AggregateError);
    assert.deepEqual(
      aggregate.errors.map((e: Error) => e.constructor),
      [TypeError, RangeError],
    );
    const error = (await executor.submit(tasks.failWithCause).exception()) as Coded;
    assert.equal(error.code, 'E_OUTER');
    assert.ok(error.cause instanceof RemoteTraceback);
    assert.equal((error.cause.cause as Coded).code, 'E_INNER');
  });
});
