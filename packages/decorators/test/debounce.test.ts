import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, cancel, debounce, flush as flushNow } from '@forage/decorators';
import { flush } from './helpers/fake-clock.ts';
import { unhandledRejections } from './helpers/unhandled.ts';

describe('debounce', () => {
  test('a burst runs once, after the pause, with the last arguments; all calls get the result', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const runs: string[] = [];
    const search = debounce({ waitMs: 200 })((query: string) => {
      runs.push(query);
      return `results for ${query}`;
    });
    const a = search('c');
    t.mock.timers.tick(150);
    const b = search('ca');
    t.mock.timers.tick(150);
    const c = search('cat');
    t.mock.timers.tick(199);
    assert.deepEqual(runs, []);
    t.mock.timers.tick(1);
    assert.deepEqual(runs, ['cat']);
    assert.deepEqual(await Promise.all([a, b, c]), Array(3).fill('results for cat'));
  });

  test('maxWaitMs bounds how long a steady stream of calls can postpone the run', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const runs: number[] = [];
    const save = debounce({ waitMs: 100, maxWaitMs: 250 })((n: number) => void runs.push(n));
    for (let i = 0; i < 6; i++) {
      void save(i);
      t.mock.timers.tick(60);
    }
    assert.deepEqual(runs, [4], 'forced at 250 ms with the latest arguments');
  });

  test('errors reach every caller of the burst', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const fail = debounce({ waitMs: 10 })(async () => {
      throw new Error('disk full');
    });
    const a = fail();
    const b = fail();
    t.mock.timers.tick(10);
    await assert.rejects(a, /disk full/);
    await assert.rejects(b, /disk full/);
  });

  test('flush runs the pending burst now; cancel drops it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const runs: string[] = [];
    const log = debounce({ waitMs: 1_000 })(async (line: string) => {
      runs.push(line);
      return line.length;
    });
    const pending = log('hello');
    assert.equal(await flushNow(log), 5);
    assert.equal(await pending, 5);
    assert.equal(await flushNow(log), undefined, 'nothing pending');
    const dropped = log('bye');
    void log('bye!'); // an ignored promise must not become an unhandled rejection
    assert.equal(cancel(log), 2);
    await assert.rejects(
      dropped,
      (e: unknown) => e instanceof CancelledError && e.code === 'ERR_CANCELLED',
    );
    t.mock.timers.tick(2_000);
    await flush();
    assert.deepEqual(runs, ['hello']);
  });

  test('a failed run is reported as unhandled for each promise nobody handles, flush included', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const failure = new Error('disk full');
    const save = debounce({ waitMs: 10 })(async () => {
      throw failure;
    });
    const ignore = () => {};
    // The callers handle it, the caller of flush does not: that one promise is reported.
    const byFlush = await unhandledRejections(() => {
      save().catch(ignore);
      flushNow(save);
    });
    assert.deepEqual(byFlush, [failure]);
    // A caller that ignores its promise gets it reported, whoever ran the burst.
    const byTimer = await unhandledRejections(() => {
      save();
      save().catch(ignore);
      t.mock.timers.tick(10);
    });
    assert.deepEqual(byTimer, [failure]);
    // Everyone handles it: nothing is reported.
    const handled = await unhandledRejections(() => {
      save().catch(ignore);
      flushNow(save).catch(ignore);
      save().catch(ignore);
      t.mock.timers.tick(10);
    });
    assert.deepEqual(handled, []);
  });

  test('methods: one burst per instance; flush and cancel take the instance', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const saved: string[] = [];
    class Editor {
      constructor(
        readonly name: string,
        public text = '',
      ) {}
      @debounce({ waitMs: 500 })
      save(): void {
        saved.push(`${this.name}:${this.text}`);
      }
    }
    const a = new Editor('a');
    const b = new Editor('b');
    a.text = 'x';
    a.save();
    b.text = 'y';
    b.save();
    a.text = 'xx';
    a.save();
    t.mock.timers.tick(500);
    await flush();
    assert.deepEqual(saved.sort(), ['a:xx', 'b:y']);
    a.save();
    await flushNow(a.save, a);
    assert.equal(saved.length, 3);
    assert.throws(() => cancel(a.save), {
      code: 'ERR_DECORATOR_OPTION',
      message: /pass the instance, e\.g\. cancel\(obj\.save, obj\)/,
    });
    assert.throws(
      () => debounce({ waitMs: 10, maxWaitMs: 5 }),
      /maxWaitMs must be a number >= waitMs/,
    );
  });

  test('a wrapped function assigned as a method keeps one burst per instance', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    class Box {
      saved: string[] = [];
      declare save: (v: string) => Promise<string>;
    }
    Box.prototype.save = debounce({ waitMs: 100 })(function (this: Box, v: string) {
      this.saved.push(v);
      return v;
    });
    const a = new Box();
    const b = new Box();
    const pa = a.save('a1');
    const pb = b.save('b1');
    t.mock.timers.tick(100);
    await flush();
    assert.deepEqual([await pa, await pb], ['a1', 'b1']);
    assert.deepEqual([a.saved, b.saved], [['a1'], ['b1']]);
  });
});
