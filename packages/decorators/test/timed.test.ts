import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { timed, timings } from '@forage/decorators';
import { FakeClock } from './helpers/fake-clock.ts';

describe('timed', () => {
  test('count, errors, mean, p50, p95 and max over sync calls', () => {
    const clock = new FakeClock();
    const work = timed({ now: clock.now })((ms: number) => {
      clock.advance(ms);
      if (ms === 0) throw new Error('empty');
      return ms;
    });
    for (let ms = 1; ms <= 100; ms++) work(ms);
    assert.throws(() => work(0));
    assert.deepEqual(timings(work), {
      count: 101,
      errors: 1,
      mean: 5050 / 101,
      p50: 50,
      p95: 95,
      max: 100,
    });
  });

  test('async calls are timed until they settle; methods share one record', async () => {
    const clock = new FakeClock();
    class Census {
      @timed({ now: clock.now })
      async batch(ms: number): Promise<number> {
        await Promise.resolve();
        clock.advance(ms);
        return ms;
      }
    }
    await new Census().batch(10);
    await new Census().batch(30);
    const t = timings(Census.prototype.batch);
    assert.equal(t.count, 2);
    assert.equal(t.mean, 20);
    assert.equal(t.max, 30);
  });

  test('keeps only the most recent samples for percentiles', () => {
    const clock = new FakeClock();
    const work = timed({ now: clock.now, samples: 10 })((ms: number) => clock.advance(ms));
    for (let i = 0; i < 10; i++) work(1_000);
    for (let i = 0; i < 10; i++) work(1);
    const t = timings(work);
    assert.equal(t.p95, 1);
    assert.equal(t.max, 1_000, 'max and mean cover every call');
    assert.equal(timings(timed()(() => 1)).count, 0);
    assert.throws(() => timings(() => 1), /is not wrapped by timed\(\)/);
  });
});
