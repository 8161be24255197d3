import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cachedProperty, invalidate } from '@forage/decorators';
import { flush } from './helpers/fake-clock.ts';
import { unhandledRejections } from './helpers/unhandled.ts';

describe('cachedProperty', () => {
  class Report {
    computed = 0;
    constructor(readonly rows: number[]) {}
    @cachedProperty()
    get total(): number {
      this.computed++;
      return this.rows.reduce((a, b) => a + b, 0);
    }
    static loads = 0;
    @cachedProperty()
    static get config(): { loaded: number } {
      return { loaded: ++Report.loads };
    }
  }

  test('computes once per instance; invalidate forgets', () => {
    const a = new Report([1, 2, 3]);
    const b = new Report([10]);
    assert.equal(a.total, 6);
    assert.equal(a.total, 6);
    assert.equal(b.total, 10);
    assert.equal(a.computed, 1);
    a.rows.push(4);
    assert.equal(a.total, 6, 'still the stored value');
    assert.equal(invalidate(a, 'total'), true);
    assert.equal(a.total, 10);
    assert.equal(a.computed, 2);
    assert.equal(invalidate(b, 'total'), true);
    assert.equal(invalidate(b, 'total'), false, 'nothing stored any more');
    assert.throws(() => invalidate(a, 'rows'), {
      code: 'ERR_DECORATOR_TARGET',
      message: /'rows' is not a @cachedProperty\(\) getter/,
    });
  });

  test('static getters are cached per class', () => {
    assert.equal(Report.config, Report.config);
    assert.equal(Report.loads, 1);
  });

  test('a rejected promise is forgotten', async () => {
    class Remote {
      attempts = 0;
      @cachedProperty()
      get data(): Promise<string> {
        this.attempts++;
        return this.attempts === 1 ? Promise.reject(new Error('offline')) : Promise.resolve('data');
      }
    }
    const r = new Remote();
    await assert.rejects(r.data, /offline/);
    await flush();
    assert.equal(await r.data, 'data');
    assert.equal(await r.data, 'data');
    assert.equal(r.attempts, 2);
  });

  test('a rejection that no reader handles is still reported as unhandled; a handled one is not', async () => {
    const failure = new Error('offline');
    class Remote {
      @cachedProperty()
      get data(): Promise<string> {
        return Promise.reject(failure);
      }
    }
    const ignored = new Remote();
    assert.deepEqual(
      await unhandledRejections(() => {
        void ignored.data;
      }),
      [failure],
    );
    const handled = new Remote();
    assert.deepEqual(
      await unhandledRejections(() => {
        handled.data.catch(() => {});
      }),
      [],
    );
    assert.equal(invalidate(ignored, 'data'), false, 'both were forgotten');
    assert.equal(invalidate(handled, 'data'), false);
  });

  test('a thenable that rejects at once (calls its handler inside then) is forgotten', () => {
    let reads = 0;
    class Page {
      @cachedProperty()
      get body(): PromiseLike<string> {
        reads++;
        return {
          // biome-ignore lint/suspicious/noThenProperty: a thenable is the point of the test
          then: (_ok, fail) => {
            fail?.(new Error('503'));
            return undefined as never;
          },
        };
      }
    }
    const page = new Page();
    void page.body;
    void page.body;
    assert.equal(reads, 2, 'the next read tries again');
  });

  test('refuses anything but a getter', () => {
    const asMethod = cachedProperty() as unknown as (
      v: unknown,
      c: { kind: string; name: string },
    ) => void;
    assert.throws(() => asMethod(() => 1, { kind: 'method', name: 'm' }), {
      code: 'ERR_DECORATOR_TARGET',
      message: /decorates getters .* not the method 'm'/,
    });
  });
});
