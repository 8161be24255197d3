import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AsyncExecutor } from '@forage/futures';
import { describeExecutorConformance } from './helpers/conformance.ts';

describeExecutorConformance('AsyncExecutor', (maxWorkers) => new AsyncExecutor({ maxWorkers }));

describe('AsyncExecutor', () => {
  test('never runs more than maxWorkers tasks at once', async () => {
    await using ex = new AsyncExecutor({ maxWorkers: 3 });
    let running = 0;
    let peak = 0;
    const task = async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 2));
      running -= 1;
    };
    await Promise.all(Array.from({ length: 30 }, () => ex.submit(task)));
    assert.equal(peak, 3);
  });

  test('submit() never runs the task synchronously, so it can still be cancelled', async () => {
    await using ex = new AsyncExecutor({ maxWorkers: 1 });
    let ran = false;
    const f = ex.submit(() => {
      ran = true;
    });
    assert.equal(ran, false);
    assert.equal(f.cancel(), true);
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(ran, false);
  });

  test('maxWorkers must be a positive integer', () => {
    assert.throws(() => new AsyncExecutor({ maxWorkers: 0 }), /maxWorkers must be greater than 0/);
    assert.throws(() => new AsyncExecutor({ maxWorkers: 1.5 }), TypeError);
    assert.ok(new AsyncExecutor().maxWorkers >= 1);
    assert.throws(
      () => new AsyncExecutor({ maxworkers: 4 } as never),
      /no option "maxworkers": did you mean maxWorkers\?/,
    );
    assert.throws(() => new AsyncExecutor(null as never), /takes an options object, got null/);
  });

  test('map runs calls concurrently and yields in order', async () => {
    await using ex = new AsyncExecutor({ maxWorkers: 10 });
    const start = performance.now();
    const out: number[] = [];
    for await (const v of ex.map(
      async (ms: number) => {
        await new Promise((r) => setTimeout(r, ms));
        return ms;
      },
      [50, 10, 30, 20, 40],
    )) {
      out.push(v);
    }
    assert.deepEqual(out, [50, 10, 30, 20, 40]);
    assert.ok(performance.now() - start < 150);
  });
});
