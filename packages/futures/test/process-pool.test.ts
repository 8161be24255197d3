import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BrokenProcessPool, ProcessPoolExecutor } from '@forage/futures';
import { describeExecutorConformance } from './helpers/conformance.ts';
import { describePoolBehaviour } from './helpers/pool-behaviour.ts';

describeExecutorConformance(
  'ProcessPoolExecutor',
  (maxWorkers) => new ProcessPoolExecutor({ maxWorkers }),
);

describePoolBehaviour({
  name: 'ProcessPoolExecutor',
  make: ({ maxTasks, ...options } = {}) =>
    new ProcessPoolExecutor({
      ...options,
      ...(maxTasks === undefined ? {} : { maxTasksPerChild: maxTasks }),
    }),
  Broken: BrokenProcessPool,
  workerId: () => process.pid,
});

describe('ProcessPoolExecutor', () => {
  test('a child killed by a signal breaks the pool, naming the signal', async () => {
    const ex = new ProcessPoolExecutor({ maxWorkers: 1 });
    const f = ex.submit(() => process.kill(process.pid, 'SIGKILL'));
    await assert.rejects(f.result(), (e: unknown) => {
      assert.ok(e instanceof BrokenProcessPool);
      assert.equal(e.code, 'ERR_PROCESS_POOL_BROKEN');
      assert.match(e.message, /signal SIGKILL/);
      return true;
    });
    await ex.shutdown();
  });

  test('children get the env and execArgv given', async () => {
    await using ex = new ProcessPoolExecutor({
      maxWorkers: 1,
      env: { ...process.env, FORAGE_PROBE: 'yes' },
      execArgv: [...process.execArgv, '--max-old-space-size=100'],
    });
    assert.equal(await ex.submit(() => process.env.FORAGE_PROBE), 'yes');
    assert.ok((await ex.submit(() => process.execArgv)).includes('--max-old-space-size=100'));
  });

  test('options are validated', () => {
    assert.throws(
      () => new ProcessPoolExecutor({ maxWorkers: -1 }),
      /maxWorkers must be greater than 0/,
    );
    assert.throws(
      () => new ProcessPoolExecutor({ maxTasksPerChild: 0 }),
      /maxTasksPerChild must be >= 1/,
    );
  });
});
