import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BrokenThreadPool,
  ThreadPoolExecutor,
  type ThreadPoolExecutorOptions,
} from '@forage/futures';
import { describeExecutorConformance } from './helpers/conformance.ts';
import { describePoolBehaviour } from './helpers/pool-behaviour.ts';

describeExecutorConformance(
  'ThreadPoolExecutor',
  (maxWorkers) => new ThreadPoolExecutor({ maxWorkers, execArgv: [] }),
);

describePoolBehaviour({
  name: 'ThreadPoolExecutor',
  // Workers start without the test runner's tsx loader unless a test needs a .ts module.
  make: ({ maxTasks, typescript, ...options } = {}) =>
    new ThreadPoolExecutor({
      ...options,
      ...(typescript ? {} : { execArgv: [] }),
      ...(maxTasks === undefined ? {} : { maxTasksPerWorker: maxTasks }),
    }),
  Broken: BrokenThreadPool,
  workerId: () =>
    (process.getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads'))
      .threadId,
});

describe('ThreadPoolExecutor', () => {
  test('a worker that runs out of memory breaks the pool, naming the cause', async () => {
    const ex = new ThreadPoolExecutor({
      maxWorkers: 1,
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    const f = ex.submit(() => {
      const hog: number[][] = [];
      for (;;) hog.push(new Array(100_000).fill(1));
    });
    await assert.rejects(f.result(), (e: unknown) => {
      assert.ok(e instanceof BrokenThreadPool);
      assert.equal(e.code, 'ERR_THREAD_POOL_BROKEN');
      assert.match(e.message, /memory/i);
      return true;
    });
    await ex.shutdown();
  });

  test('a nextTick callback that throws ends the worker, after the result of its task went out', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1, execArgv: [] });
    // Back-to-back tasks first, so the worker is in its parking loop.
    for (let i = 0; i < 50; i++) assert.equal(await ex.submit((n: number) => n, i), i);
    const sent = ex.submit(() => {
      process.nextTick(() => {
        throw new Error('tick boom');
      });
      return 'sent';
    });
    assert.equal(await sent, 'sent');
    await assert.rejects(
      (async () => {
        for (let i = 0; i < 100; i++) {
          await ex.submit(() => 1);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })(),
      (e: unknown) => e instanceof BrokenThreadPool && /tick boom/.test(e.message),
    );
    await ex.shutdown();
  });

  test('a worker that cannot start breaks the pool instead of hanging', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1, execArgv: ['--no-such-node-flag'] });
    await assert.rejects(ex.submit(() => 1).result(), (e: unknown) => {
      assert.ok(e instanceof BrokenThreadPool);
      assert.match(e.message, /could not start a worker thread/);
      return true;
    });
    await ex.shutdown();
  });

  test('options are validated', () => {
    assert.throws(
      () => new ThreadPoolExecutor({ maxWorkers: 0 }),
      /maxWorkers must be greater than 0/,
    );
    assert.throws(
      () => new ThreadPoolExecutor({ maxTasksPerWorker: 0 }),
      /maxTasksPerWorker must be >= 1/,
    );
    assert.throws(
      () => new ThreadPoolExecutor({ initArgs: [() => 1] }),
      /initArgs cannot be sent to a worker/,
    );
    assert.equal(new ThreadPoolExecutor().maxWorkers >= 5, true);
  });

  test('a misspelt or misplaced option, or one of the wrong type, is refused naming it', () => {
    const refused = (options: unknown, pattern: RegExp) =>
      assert.throws(
        () => new ThreadPoolExecutor(options as ThreadPoolExecutorOptions),
        (e: unknown) =>
          e instanceof TypeError &&
          (e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE' &&
          pattern.test(e.message),
      );
    refused({ maxWorker: 2 }, /no option "maxWorker": did you mean maxWorkers\?/);
    refused({ max_workers: 2 }, /no option "max_workers": did you mean maxWorkers\?/);
    refused({ maxTasksPerChild: 2 }, /"maxTasksPerChild": threads use maxTasksPerWorker/);
    refused(null, /takes an options object, got null/);
    refused({ execArgv: '--import tsx' }, /execArgv must be an array of strings/);
    refused({ execArgv: [1] }, /execArgv must be an array of strings/);
    refused({ resourceLimits: 64 }, /resourceLimits must be an object/);
  });
});
