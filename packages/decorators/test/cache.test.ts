import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { cache, cacheClear, cacheInfo, unwrap } from '@forage/decorators';
import { deferred, FakeClock, flush } from './helpers/fake-clock.ts';
import { unhandledRejections } from './helpers/unhandled.ts';

describe('cache on functions', () => {
  test('fib(30) makes 31 misses, like functools.cache', () => {
    const fib: (n: number) => number = cache()((n: number): number =>
      n < 2 ? n : fib(n - 1) + fib(n - 2),
    );
    assert.equal(fib(30), 832_040);
    assert.deepEqual(cacheInfo(fib), { hits: 28, misses: 31, maxSize: undefined, currSize: 31 });
    cacheClear(fib);
    assert.deepEqual(cacheInfo(fib), { hits: 0, misses: 0, maxSize: undefined, currSize: 0 });
  });

  test('keys on every argument: primitives by value, objects by identity', () => {
    let calls = 0;
    const f = cache()((...args: unknown[]) => {
      calls++;
      return args.length;
    });
    const obj = { a: 1 };
    const calls1 = [
      [1, 'a'],
      [1, 'a'],
      ['1', 'a'],
      [1, 'b'],
      [obj],
      [obj],
      [{ a: 1 }],
      [],
      [],
      ['\u0000x'],
      ['\u0000x'],
      [undefined],
      [null],
      [1n],
      [1],
    ];
    for (const args of calls1) f(...args);
    // Distinct: [1,'a'], ['1','a'], [1,'b'], [obj], [{a:1}], [], ['\0x'], [undefined], [null], [1n]=[1]
    assert.equal(calls, 10);
    assert.equal(cacheInfo(f).hits, 5);
  });

  test('symbols in keys: by identity, registered ones by name', () => {
    let calls = 0;
    const f = cache()((..._args: unknown[]) => ++calls);
    const tag = Symbol('req');
    f(tag, 1);
    f(tag, 1);
    assert.equal(calls, 1, 'the same symbol is the same key');
    f(Symbol('req'), 1);
    f(Symbol('req'), 1);
    assert.equal(calls, 3, 'symbols with the same description are different keys');
    f(Symbol.for('req'), 1);
    f(Symbol.for('req'), 1);
    assert.equal(calls, 4, 'a registered symbol is found again by its name');
    f(Symbol.for('req|1'), 1);
    f(Symbol.for(''), 1);
    f(Symbol.iterator, 1);
    f(Symbol.iterator, 1);
    assert.equal(calls, 7, 'registered names cannot collide with one another or with ids');
  });

  test('a symbol passed once is not kept alive by the cache after its entry is evicted', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const f = cache({ maxSize: 1 })((_tag: symbol, n: number) => n);
    let ref: WeakRef<symbol>;
    (() => {
      const tag = Symbol('req');
      f(tag, 1);
      ref = new WeakRef(tag);
    })();
    f(Symbol('other'), 2); // evicts the entry that named `tag`
    for (let i = 0; i < 10 && ref!.deref(); i++) {
      await flush(2);
      gc();
    }
    assert.equal(ref!.deref(), undefined);
  });

  test('typed keeps 3 and 3n apart', () => {
    let calls = 0;
    const untyped = cache()((x: unknown) => ++calls && x);
    untyped(3);
    untyped(3n);
    assert.equal(calls, 1);
    const typed = cache({ typed: true })((x: unknown) => ++calls && x);
    typed(3);
    typed(3n);
    typed('3');
    assert.equal(calls, 4);
  });

  test('maxSize evicts the least recently used entry', () => {
    const seen: number[] = [];
    const square = cache({ maxSize: 2 })((n: number) => {
      seen.push(n);
      return n * n;
    });
    square(1);
    square(2);
    square(1); // 1 is now the most recent
    square(3); // evicts 2
    square(1);
    square(2);
    assert.deepEqual(seen, [1, 2, 3, 2]);
    assert.deepEqual(cacheInfo(square), { hits: 2, misses: 4, maxSize: 2, currSize: 2 });
  });

  test('ttlMs expires entries on the injected clock', () => {
    const clock = new FakeClock();
    let calls = 0;
    const get = cache({ ttlMs: 1_000, now: clock.now })((k: string) => `${k}${++calls}`);
    assert.equal(get('a'), 'a1');
    clock.advance(999);
    assert.equal(get('a'), 'a1');
    clock.advance(1);
    assert.equal(get('a'), 'a2');
    assert.equal(cacheInfo(get).currSize, 1);
  });

  test('LRU and TTL together: an expired entry is a miss and frees its slot', () => {
    const clock = new FakeClock();
    let calls = 0;
    const get = cache({ maxSize: 2, ttlMs: 100, now: clock.now })((k: string) => `${k}${++calls}`);
    get('a');
    clock.advance(50);
    get('b');
    clock.advance(60); // a expired, b still fresh
    assert.equal(get('b'), 'b2');
    assert.equal(get('a'), 'a3');
    assert.deepEqual(cacheInfo(get), { hits: 1, misses: 3, maxSize: 2, currSize: 2 });
  });

  test('an evicted or cleared in-flight promise that rejects never removes a newer entry', async () => {
    const gates: ReturnType<typeof deferred<string>>[] = [];
    const load = cache({ maxSize: 1 })((key: string) => {
      const gate = deferred<string>();
      gates.push(gate);
      return gate.promise.then((v) => `${key}:${v}`);
    });
    const first = load('a');
    cacheClear(load);
    const second = load('a'); // a new in-flight call for the same key
    assert.notEqual(first, second);
    gates[0]?.reject(new Error('old failure'));
    await assert.rejects(first, /old failure/);
    await flush();
    assert.equal(load('a'), second, 'the newer entry survived the old rejection');
    gates[1]?.resolve('ok');
    assert.equal(await second, 'a:ok');
  });

  test('a custom key function', () => {
    let calls = 0;
    const byId = cache({ key: (user: { id: number }) => user.id })(
      (user: { id: number; name: string }) => `${user.name}#${++calls}`,
    );
    assert.equal(byId({ id: 1, name: 'a' }), 'a#1');
    assert.equal(byId({ id: 1, name: 'changed' }), 'a#1');
  });

  test('a wrapped function called with a receiver caches per receiver, as functools.cache keys on self', () => {
    // cache()(fn) assigned as a method (the way to do it without decorator syntax): the result
    // depends on `this`, so one instance must never be served another's.
    class Repo {
      constructor(readonly base: number) {}
      declare get: (n: number) => number;
    }
    let calls = 0;
    Repo.prototype.get = cache()(function (this: Repo, n: number) {
      calls++;
      return this.base + n;
    });
    const a = new Repo(100);
    const b = new Repo(200);
    assert.equal(a.get(1), 101);
    assert.equal(b.get(1), 201);
    assert.equal(a.get(1), 101);
    assert.equal(calls, 2);
    assert.deepEqual(cacheInfo(Repo.prototype.get, b), {
      hits: 0,
      misses: 1,
      maxSize: undefined,
      currSize: 1,
    });
    // Without a receiver: the totals, as for a method.
    assert.deepEqual(cacheInfo(Repo.prototype.get), {
      hits: 1,
      misses: 2,
      maxSize: undefined,
      currSize: 2,
    });
    cacheClear(Repo.prototype.get, a);
    assert.equal(a.get(1), 101);
    assert.equal(calls, 3);
    cacheClear(Repo.prototype.get);
    assert.equal(b.get(1), 201);
    assert.equal(calls, 4);
  });

  test('thrown errors are not cached', () => {
    let calls = 0;
    const f = cache()((n: number) => {
      calls++;
      if (calls === 1) throw new Error('first');
      return n;
    });
    assert.throws(() => f(1), /first/);
    assert.equal(f(1), 1);
    assert.equal(f(1), 1);
    assert.equal(calls, 2);
  });

  test('concurrent async calls share one in-flight promise', async () => {
    let calls = 0;
    const gate = deferred<string>();
    const load = cache()(async (url: string) => {
      calls++;
      return `${url}:${await gate.promise}`;
    });
    const a = load('u');
    const b = load('u');
    assert.equal(a, b, 'the same promise');
    gate.resolve('body');
    assert.deepEqual(await Promise.all([a, b]), ['u:body', 'u:body']);
    assert.equal(await load('u'), 'u:body');
    assert.equal(calls, 1);
  });

  test('rejected promises are dropped, so the next call tries again', async () => {
    let calls = 0;
    const load = cache()(async (url: string) => {
      calls++;
      if (calls === 1) throw new Error('503');
      return url;
    });
    const first = load('u');
    const second = load('u'); // shares the failing in-flight call
    await assert.rejects(first, /503/);
    await assert.rejects(second, /503/);
    await flush();
    assert.equal(await load('u'), 'u');
    assert.equal(calls, 2);
    assert.equal(cacheInfo(load).currSize, 1);
  });

  test('a rejection that no caller handles is still reported as unhandled', async () => {
    const failure = new Error('nobody awaits this');
    const load = cache()(async (_url: string) => {
      throw failure;
    });
    const reported = await unhandledRejections(() => {
      load('u');
    });
    assert.deepEqual(reported, [failure], 'as the undecorated function would be');
    assert.equal(cacheInfo(load).currSize, 0, 'and it was dropped all the same');
  });

  test('a rejection that the callers handle is not reported, and is dropped', async () => {
    let calls = 0;
    const load = cache()(async (url: string) => {
      calls++;
      if (calls === 1) throw new Error('503');
      return url;
    });
    let caught: unknown;
    const reported = await unhandledRejections(() => {
      load('u').catch((error: unknown) => {
        caught = error;
      });
      void load('u').then(undefined, () => {}); // a hit: the same in-flight promise
    });
    assert.deepEqual(reported, []);
    assert.match(String(caught), /503/);
    assert.equal(cacheInfo(load).currSize, 0);
    assert.equal(await load('u'), 'u', 'the next call tries again');
  });

  test('a thenable that is not a native promise is stored and returned as it is', async () => {
    class Tagged<T> extends Promise<T> {
      readonly tag = 'mine';
    }
    let calls = 0;
    const load = cache()((_url: string) => {
      calls++;
      return calls === 1 ? Tagged.reject(new Error('503')) : Tagged.resolve('body');
    });
    const first = load('u');
    assert.ok(first instanceof Tagged, 'its type is kept');
    assert.equal(load('u'), first);
    await assert.rejects(first, /503/);
    await flush();
    assert.equal(cacheInfo(load).currSize, 0, 'a rejected one is still dropped');
    assert.equal(await load('u'), 'body');
  });

  test('a thenable that rejects at once (calls its handler inside then) is not cached', () => {
    // Such thenables exist (settled jQuery Deferreds, test doubles): the rejection is known
    // while the cache watches for it, before the call returns.
    let calls = 0;
    const load = cache()((_url: string): PromiseLike<string> => {
      calls++;
      return {
        // biome-ignore lint/suspicious/noThenProperty: a thenable is the point of the test
        then: (_ok, fail) => {
          fail?.(new Error('503'));
          return undefined as never;
        },
      };
    });
    load('u');
    assert.equal(cacheInfo(load).currSize, 0, 'a rejected one is dropped');
    load('u');
    assert.equal(calls, 2, 'the next call tries again');
  });

  test('keeps name, length and the original; bad options are refused', () => {
    function area(w: number, h: number) {
      return w * h;
    }
    const cached = cache()(area);
    assert.equal(cached.name, 'area');
    assert.equal(cached.length, 2);
    assert.equal(unwrap(cached), area);
    assert.throws(() => cache({ maxSize: 0 }), {
      code: 'ERR_DECORATOR_OPTION',
      message: /maxSize must be an integer >= 1/,
    });
    assert.throws(() => cache({ ttlMs: -5 }), /ttlMs must be a number > 0/);
    assert.throws(() => cacheInfo(area), {
      code: 'ERR_DECORATOR_TARGET',
      message: /is not wrapped by cache\(\)/,
    });
  });
});

describe('cache on methods', () => {
  class Repo {
    calls = 0;
    constructor(readonly name: string) {}
    @cache()
    describe(suffix: string) {
      this.calls++;
      return `${this.name}${suffix}`;
    }
    static staticCalls = 0;
    @cache({ maxSize: 10 })
    static kind(n: number) {
      Repo.staticCalls++;
      return `kind${n}`;
    }
  }

  test('each instance has its own cache; statics have one per class', () => {
    const ann = new Repo('ann');
    const bob = new Repo('bob');
    assert.equal(ann.describe('!'), 'ann!');
    assert.equal(bob.describe('!'), 'bob!', 'never served from another instance');
    assert.equal(ann.describe('!'), 'ann!');
    assert.equal(ann.calls, 1);
    assert.equal(bob.calls, 1);
    assert.deepEqual(cacheInfo(ann.describe, ann), {
      hits: 1,
      misses: 1,
      maxSize: undefined,
      currSize: 1,
    });
    assert.deepEqual(cacheInfo(Repo.prototype.describe), {
      hits: 1,
      misses: 2,
      maxSize: undefined,
      currSize: 2,
    });
    Repo.kind(1);
    Repo.kind(1);
    assert.equal(Repo.staticCalls, 1);
    assert.equal(cacheInfo(Repo.kind, Repo).hits, 1);
  });

  test('#private methods get a cache per instance too', () => {
    class Secret {
      calls = 0;
      @cache()
      #derive(n: number): number {
        this.calls++;
        return n + 1;
      }
      derive(n: number) {
        return this.#derive(n);
      }
      info() {
        return cacheInfo(this.#derive, this);
      }
    }
    const a = new Secret();
    const b = new Secret();
    a.derive(1);
    a.derive(1);
    b.derive(1);
    assert.equal(a.calls, 1);
    assert.equal(b.calls, 1);
    assert.deepEqual(a.info(), { hits: 1, misses: 1, maxSize: undefined, currSize: 1 });
  });

  test('cacheClear for one instance or for all of them', () => {
    const ann = new Repo('ann');
    const bob = new Repo('bob');
    cacheClear(Repo.prototype.describe);
    ann.describe('?');
    bob.describe('?');
    cacheClear(ann.describe, ann);
    assert.equal(cacheInfo(ann.describe, ann).currSize, 0);
    assert.equal(cacheInfo(bob.describe, bob).currSize, 1);
    assert.equal(cacheInfo(Repo.prototype.describe).currSize, 1);
    ann.describe('?');
    assert.equal(ann.calls, 2);
    cacheClear(Repo.prototype.describe);
    assert.deepEqual(cacheInfo(Repo.prototype.describe), {
      hits: 0,
      misses: 0,
      maxSize: undefined,
      currSize: 0,
    });
    bob.describe('?');
    assert.equal(bob.calls, 2, 'bob was cleared too');
    assert.equal(cacheInfo(bob.describe, bob).currSize, 1);
    assert.equal(cacheInfo(Repo.prototype.describe).currSize, 1);
  });

  test('clearing every instance while a call is in flight: its rejection leaves sizes at 0', async () => {
    class Loader {
      readonly gates: ReturnType<typeof deferred<number>>[] = [];
      @cache()
      load(_id: number) {
        const gate = deferred<number>();
        this.gates.push(gate);
        return gate.promise;
      }
    }
    const loader = new Loader();
    const pending = loader.load(1);
    cacheClear(Loader.prototype.load);
    loader.gates[0]?.reject(new Error('boom'));
    await assert.rejects(pending, /boom/);
    await flush();
    const empty = { hits: 0, misses: 0, maxSize: undefined, currSize: 0 };
    assert.deepEqual(cacheInfo(Loader.prototype.load), empty);
    assert.deepEqual(cacheInfo(loader.load, loader), empty);
    const next = loader.load(2);
    assert.equal(cacheInfo(Loader.prototype.load).currSize, 1);
    assert.equal(cacheInfo(loader.load, loader).currSize, 1);
    loader.gates[1]?.resolve(2);
    assert.equal(await next, 2);
  });

  test('an instance that is no longer referenced is collected with its cache', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let ref: WeakRef<Repo>;
    (() => {
      const tmp = new Repo('tmp');
      tmp.describe('x');
      ref = new WeakRef(tmp);
    })();
    for (let i = 0; i < 10 && ref!.deref(); i++) {
      await flush(2);
      gc();
    }
    assert.equal(ref!.deref(), undefined);
  });
});
