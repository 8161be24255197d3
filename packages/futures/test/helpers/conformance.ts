// The behaviour every executor must share (CPython's executor.py, test_shutdown.py and the map
// tests), run against AsyncExecutor, ThreadPoolExecutor and ProcessPoolExecutor. Functions given
// to executors here are self-contained so that they can be shipped to workers by source.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  asCompleted,
  CancelledError,
  type Executor,
  ExecutorShutdownError,
  TimeoutError,
  wait,
} from '@forage/futures';

export type MakeExecutor = (maxWorkers: number) => Executor;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A task that appends `tag` to a log file (visible from any thread or process), after `ms`. */
async function logAfter(file: string, tag: string, ms: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  fs.appendFileSync(file, `${tag}\n`);
  return tag;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

export function describeExecutorConformance(name: string, make: MakeExecutor): void {
  describe(`${name}: executor conformance`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'forage-futures-'));
    let fileCounter = 0;
    const logFile = () => join(dir, `log-${fileCounter++}.txt`);
    const readLog = (file: string) => {
      try {
        return readFileSync(file, 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };
    after(() => rmSync(dir, { recursive: true, force: true }));

    test('submit runs sync and async functions with positional arguments', async () => {
      await using ex = make(2);
      assert.equal(await ex.submit((a: number, b: number) => a ** b, 2, 8), 256);
      assert.equal(await ex.submit(async (s: string) => s.toUpperCase(), 'ok'), 'OK');
      assert.deepEqual(await ex.submit((o: { a: number[] }) => o.a.length, { a: [1, 2, 3] }), 3);
    });

    test('submit without a function is a TypeError with a code', async () => {
      await using ex = make(1);
      assert.throws(
        // @ts-expect-error deliberately wrong
        () => ex.submit(42),
        (e: unknown) => {
          assert.ok(e instanceof TypeError);
          assert.equal((e as { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
          return true;
        },
      );
    });

    test('a task error keeps its class, message and own properties', async () => {
      await using ex = make(1);
      const f = ex.submit(() => {
        throw Object.assign(new RangeError('out of range'), { code: 'E_PROBE', detail: { n: 1 } });
      });
      await assert.rejects(f.result(), (e: unknown) => {
        assert.ok(e instanceof RangeError);
        assert.equal(e.message, 'out of range');
        assert.equal((e as { code?: string }).code, 'E_PROBE');
        assert.deepEqual((e as { detail?: unknown }).detail, { n: 1 });
        return true;
      });
      assert.ok((await f.exception()) instanceof RangeError);
    });

    test('submitWith({ signal }): aborting cancels a queued task; a running one finishes', async () => {
      await using ex = make(1);
      const file = logFile();
      const controller = new AbortController();
      const running = ex.submitWith({ signal: controller.signal }, logAfter, file, 'running', 150);
      const queued = ex.submitWith({ signal: controller.signal }, logAfter, file, 'queued', 1);
      const other = ex.submit(logAfter, file, 'other', 1);
      // Let the first task start, then abort while the second still waits for the worker.
      while (!running.running()) await sleep(5);
      controller.abort();
      assert.ok(queued.cancelled());
      assert.ok(!running.cancelled());
      await assert.rejects(queued.result(), CancelledError);
      assert.equal(await running, 'running');
      assert.equal(await other, 'other');
      const before = ex.submitWith({ signal: AbortSignal.abort() }, logAfter, file, 'never', 1);
      assert.ok(before.cancelled());
      await ex.shutdown({ wait: true });
      assert.deepEqual(readLog(file), ['running', 'other']);
      const { done } = await wait([queued, before], { timeoutMs: 5000 });
      assert.equal(done.size, 2, 'cancelled futures are acknowledged');
      assert.throws(
        () => ex.submitWith(null as never, (x: number) => x, 1),
        /needs an options object first/,
      );
    });

    test('submitWith removes its abort listener once the future is done', async () => {
      await using ex = make(1);
      const controller = new AbortController();
      const futures = Array.from({ length: 5 }, (_, i) =>
        ex.submitWith({ signal: controller.signal }, (n: number) => n * 2, i),
      );
      assert.deepEqual(await Promise.all(futures), [0, 2, 4, 6, 8]);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
      assert.equal(await ex.submitWith({}, (n: number) => n + 1, 1), 2);
    });

    test("a future the caller keeps does not keep its task's arguments alive (test_no_stale_references)", async () => {
      await using ex = make(1);
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      let argument: { big: number[] } | undefined = { big: new Array(1000).fill(1) };
      const ref = new WeakRef(argument);
      const kept = ex.submit((a: { big: number[] }) => a.big.length, argument);
      argument = undefined;
      assert.equal(await kept, 1000);
      for (let i = 0; i < 20 && ref.deref() !== undefined; i++) {
        await sleep(5);
        gc();
      }
      assert.equal(ref.deref(), undefined, 'the argument was collected');
    });

    test('map keeps input order, zips iterables to the shortest, and chunksize changes nothing', async () => {
      await using ex = make(2);
      const xs = Array.from({ length: 50 }, (_, i) => i);
      const expected = xs.map((x) => x * 10);
      assert.deepEqual(
        await collect(
          ex.map(
            (x: number, y: number) => x * y,
            xs,
            xs.map(() => 10),
          ),
        ),
        expected,
      );
      assert.deepEqual(
        await collect(ex.map((x: number) => x * 10, xs, { chunksize: 3 })),
        expected,
      );
      assert.deepEqual(
        await collect(ex.map((x: number, y: string) => `${x}${y}`, [1, 2, 3], ['a', 'b'])),
        ['1a', '2b'],
      );
      assert.deepEqual(await collect(ex.map((x: number) => x, [])), []);
    });

    test('map refuses an option it does not have, and an input that is not iterable in last place', async () => {
      await using ex = make(1);
      const refused = (pattern: RegExp, ...args: unknown[]) =>
        assert.throws(
          () => (ex.map as (...args: unknown[]) => unknown)((x: number) => x, ...args),
          (e: unknown) =>
            e instanceof TypeError &&
            (e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE' &&
            pattern.test(e.message),
        );
      refused(/no option "chunkSize": did you mean chunksize\?/, [1, 2], { chunkSize: 2 });
      refused(/no option "timeout": did you mean timeoutMs\?/, [1, 2], { timeout: 100 });
      refused(/no option "0".*read as options/, [1, 2], { 0: 'a', length: 1 });
    });

    test('map accepts async iterables', async () => {
      await using ex = make(2);
      async function* numbers() {
        for (let i = 0; i < 10; i++) {
          await sleep(1);
          yield i;
        }
      }
      assert.deepEqual(
        await collect(ex.map((x: number) => x + 1, numbers(), { chunksize: 4 })),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
    });

    test('a map error surfaces at its position after the earlier results, then the iteration ends', async () => {
      for (const chunksize of [1, 4]) {
        await using ex = make(2);
        const seen: number[] = [];
        const it = ex.map(
          (x: number) => {
            if (x === 5) throw new TypeError(`bad ${x}`);
            return x;
          },
          [0, 1, 2, 3, 4, 5, 6, 7],
          { chunksize },
        );
        await assert.rejects(
          (async () => {
            for await (const v of it) seen.push(v);
          })(),
          /bad 5/,
        );
        assert.deepEqual(seen, [0, 1, 2, 3, 4], `chunksize ${chunksize}`);
        assert.deepEqual(await it.next(), { done: true, value: undefined });
      }
    });

    test('map timeout counts from the call and cancels what has not started', async () => {
      await using ex = make(1);
      // Start the worker first: a process may take longer than the timeout to start.
      await ex.submit(() => 'warm');
      const file = logFile();
      const it = ex.map(
        logAfter,
        [file, file, file, file],
        ['a', 'b', 'c', 'd'],
        [10, 600, 600, 600],
        {
          timeoutMs: 300,
        },
      );
      assert.equal((await it.next()).value, 'a');
      await assert.rejects(it.next(), TimeoutError);
      await ex.shutdown({ wait: true });
      assert.deepEqual(readLog(file), ['a', 'b']);
    });

    test('map reads a synchronous input eagerly, and abandoning the iterator cancels queued tasks', async () => {
      await using ex = make(1);
      const file = logFile();
      let pulled = 0;
      function* tags() {
        for (const t of ['a', 'b', 'c', 'd', 'e', 'f']) {
          pulled += 1;
          yield t;
        }
      }
      const it = ex.map(logAfter, Array(6).fill(file), tags(), Array(6).fill(30));
      assert.equal(pulled, 6, 'the whole input is submitted at the call');
      for await (const v of it) {
        assert.equal(v, 'a');
        break;
      }
      await ex.shutdown({ wait: true });
      const ran = readLog(file);
      assert.ok(ran.length < 6, `abandoned tasks must not run, ran ${ran.join(',')}`);
      assert.equal(ran[0], 'a');
    });

    test('map reads an array as its iterator would: holes, growth while read lazily, a custom iterator', async () => {
      await using ex = make(2);
      // biome-ignore lint/suspicious/noSparseArray: holes are what this checks.
      const sparse = [1, , 3, , 5, 6, 7];
      for (const chunksize of [1, 3, 256]) {
        assert.deepEqual(
          await collect(ex.map((x: number | undefined) => x ?? 'hole', sparse, { chunksize })),
          [1, 'hole', 3, 'hole', 5, 6, 7],
          `chunksize ${chunksize}`,
        );
      }
      // With buffersize the array is read as the results are consumed, so items added while
      // iterating are seen (an array iterator checks the length at each step).
      const growing = [0, 1, 2];
      const seen: number[] = [];
      for await (const v of ex.map((x: number) => x, growing, { buffersize: 1 })) {
        seen.push(v);
        if (growing.length < 6) growing.push(growing.length);
      }
      assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
      const custom = [1, 2, 3];
      Object.defineProperty(custom, Symbol.iterator, {
        *value() {
          yield 10;
          yield 20;
        },
      });
      assert.deepEqual(
        await collect(ex.map((x: number) => x + 1, custom, { chunksize: 2 })),
        [11, 21],
      );
      // After leaving the loop, the iterator is finished even with results still buffered.
      const it = ex.map((x: number) => x, [1, 2, 3, 4, 5, 6], { chunksize: 6 });
      assert.deepEqual(await it.next(), { done: false, value: 1 });
      await it.return?.();
      assert.deepEqual(await it.next(), { done: true, value: undefined });
    });

    test('map over numbers gives back exactly the same numbers, and mixed results stay as they are', async () => {
      await using ex = make(2);
      const odd = [0, -0, 1.5, -(2 ** 53), 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, 1e-300];
      for (const chunksize of [1, 4, 256]) {
        const same = await collect(ex.map((x: number) => x, odd, { chunksize }));
        assert.equal(same.length, odd.length);
        for (const [i, v] of same.entries()) assert.ok(Object.is(v, odd[i]), `item ${i}: ${v}`);
        assert.deepEqual(
          await collect(ex.map((x: number) => typeof x, odd, { chunksize })),
          odd.map(() => 'number'),
        );
        // Small integers travel packed as 32-bit integers: the edges of that range, and the
        // first numbers past them, must come back unchanged.
        const edges = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 7];
        assert.deepEqual(await collect(ex.map((x: number) => x, edges, { chunksize })), edges);
        assert.deepEqual(
          await collect(ex.map((x: number) => x, edges.slice(0, 5), { chunksize })),
          edges.slice(0, 5),
        );
        const mixed = await collect(
          ex.map((x: number) => (x % 2 === 0 ? x : String(x)), [1, 2, 3, 4], { chunksize }),
        );
        assert.deepEqual(mixed, ['1', 2, '3', 4]);
      }
    });

    test('map(...).batches() gives the same results in order as arrays, errors at their position, and break cancels', async () => {
      await using ex = make(2);
      const xs = Array.from({ length: 3000 }, (_, i) => i);
      for (const chunksize of [1, 7, 256]) {
        const batches = await collect(ex.map((x: number) => x * 3, xs, { chunksize }).batches());
        assert.ok(batches.length > 0 && batches.every((b) => b.length > 0));
        assert.ok(
          batches.every((b) => b.length <= Math.max(chunksize, 1024)),
          `chunksize ${chunksize}: a batch of ${Math.max(...batches.map((b) => b.length))}`,
        );
        assert.deepEqual(
          batches.flat(),
          xs.map((x) => x * 3),
          `chunksize ${chunksize}`,
        );
      }
      // One iterator, read both ways: nothing is skipped or given twice.
      const it = ex.map((x: string) => x.toUpperCase(), ['a', 'b', 'c', 'd', 'e'], {
        chunksize: 2,
      });
      assert.deepEqual(await it.next(), { done: false, value: 'A' });
      assert.deepEqual((await collect(it.batches())).flat(), ['B', 'C', 'D', 'E']);
      assert.deepEqual(await it.next(), { done: true, value: undefined });
      // The results before a failed item come first, then its error; the iteration ends.
      for (const chunksize of [1, 4]) {
        const failing = ex.map(
          (x: number) => {
            if (x === 5) throw new TypeError(`bad ${x}`);
            return x;
          },
          [0, 1, 2, 3, 4, 5, 6, 7],
          { chunksize },
        );
        const seen: number[] = [];
        await assert.rejects(
          (async () => {
            for await (const batch of failing.batches()) seen.push(...batch);
          })(),
          /bad 5/,
        );
        assert.deepEqual(seen, [0, 1, 2, 3, 4], `chunksize ${chunksize}`);
        assert.deepEqual(await failing.next(), { done: true, value: undefined });
      }
    });

    test('leaving a batches() loop early cancels the tasks that have not started', async () => {
      await using ex = make(1);
      const file = logFile();
      const it = ex.map(
        logAfter,
        Array(6).fill(file),
        ['a', 'b', 'c', 'd', 'e', 'f'],
        Array(6).fill(30),
      );
      for await (const batch of it.batches()) {
        assert.deepEqual(batch, ['a']);
        break;
      }
      assert.deepEqual(await it.next(), { done: true, value: undefined });
      await ex.shutdown({ wait: true });
      const ran = readLog(file);
      assert.ok(ran.length < 6, `abandoned tasks must not run, ran ${ran.join(',')}`);
    });

    test("timeouts beyond setTimeout's 24.8 days wait as long as asked, not 1 ms", async () => {
      await using ex = make(1);
      const slow = () =>
        ex.submit(async () => {
          await new Promise((resolve) => setTimeout(resolve, 50));
          return 42;
        });
      assert.equal(await slow().result(3e9), 42);
      const f = slow();
      const { done } = await wait([f], { timeoutMs: 2 ** 31 });
      assert.ok(done.has(f));
      const g = slow();
      assert.ok((await wait([g], { timeoutMs: Number.POSITIVE_INFINITY })).done.has(g));
      const seen: unknown[] = [];
      for await (const h of asCompleted([slow()], { timeoutMs: 2 ** 40 })) seen.push(h);
      assert.equal(seen.length, 1);
      assert.deepEqual(
        await collect(
          ex.map(
            async (x: number) => {
              await new Promise((resolve) => setTimeout(resolve, 20));
              return x;
            },
            [1, 2],
            { timeoutMs: Number.MAX_SAFE_INTEGER },
          ),
        ),
        [1, 2],
      );
    });

    test('map timeout also counts while waiting for an async input that stalls', async () => {
      await using ex = make(1);
      let release!: () => void;
      const stalled = new Promise<void>((resolve) => (release = resolve));
      async function* stalls() {
        yield 1;
        await stalled; // never yields again until the test ends
        yield 2;
      }
      const it = ex.map((x: number) => x, stalls(), { timeoutMs: 200 });
      assert.deepEqual(await it.next(), { done: false, value: 1 });
      const second = it.next().then(
        () => 'returned',
        (error: unknown) => error,
      );
      // Bounded: an iterator that ignores its deadline would wait here forever.
      const outcome = await Promise.race([
        second,
        new Promise((resolve) => setTimeout(resolve, 5000, 'still waiting after 5 s')),
      ]);
      release();
      assert.ok(outcome instanceof TimeoutError, String(outcome));
      assert.deepEqual(await it.next(), { done: true, value: undefined });
    });

    test('leaving map early closes its inputs (return(), so their finally blocks run)', async () => {
      await using ex = make(2);
      const closed: string[] = [];
      function* numbers() {
        try {
          for (let i = 0; i < 1000; i++) yield i;
        } finally {
          closed.push('sync');
        }
      }
      async function* words() {
        try {
          for (let i = 0; i < 1000; i++) yield `w${i}`;
        } finally {
          closed.push('async');
        }
      }
      for await (const v of ex.map((x: number) => x, numbers(), { buffersize: 2 })) {
        if (v === 2) break;
      }
      assert.deepEqual(closed, ['sync']);
      const pairs = ex.map((x: number, w: string) => `${w}${x}`, numbers(), words(), {
        buffersize: 2,
      });
      for await (const batch of pairs.batches()) {
        assert.equal(batch[0], 'w00');
        break;
      }
      // An async input's return() settles later: wait for it, bounded.
      for (let i = 0; i < 100 && closed.length < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(closed.sort(), ['async', 'sync', 'sync']);
      // An input that ended on its own is not closed again; one read to its end, neither.
      closed.length = 0;
      assert.equal((await collect(ex.map((x: number) => x, numbers()))).length, 1000);
      assert.deepEqual(closed, ['sync'], 'the generator ran its finally once, at its end');
    });

    test('an input that throws ends map at its position and closes the other inputs', async () => {
      await using ex = make(1);
      const closed: string[] = [];
      function* endless(tag: string) {
        try {
          for (let i = 0; ; i++) yield i;
        } finally {
          closed.push(tag);
        }
      }
      async function* endlessAsync(tag: string) {
        yield* endless(tag);
      }
      function* failing() {
        yield 10;
        throw new RangeError('input broke');
      }
      const add = (a: number, b: number, c: number) => a + b + c;
      for (const tag of ['sync', 'async']) {
        const first = tag === 'sync' ? endless(tag) : endlessAsync(tag);
        const seen: number[] = [];
        await assert.rejects(async () => {
          for await (const v of ex.map(add, first, failing(), endless('third'))) seen.push(v);
        }, /input broke/);
        assert.deepEqual(seen, [10]);
        // An async input's return() settles later: wait for it, bounded.
        for (let i = 0; i < 100 && closed.length < 2; i++) await sleep(10);
        assert.deepEqual(closed.sort(), [tag, 'third'].sort(), `${tag} first input`);
        closed.length = 0;
      }
    });

    test('map closes its input when the executor refuses a task part-way (shut down meanwhile)', async () => {
      const ex = make(1);
      let closed = false;
      function* endless() {
        try {
          for (let i = 0; ; i++) yield i;
        } finally {
          closed = true;
        }
      }
      const seen: unknown[] = [];
      await assert.rejects(async () => {
        for await (const v of ex.map((x: number) => x, endless(), { buffersize: 1 })) {
          seen.push(v);
          if (v === 1) void ex.shutdown({ wait: false });
        }
      }, ExecutorShutdownError);
      assert.deepEqual(seen, [0, 1, 2], 'the tasks submitted before the shutdown still ran');
      assert.equal(closed, true, "the generator's finally ran");
      await ex.shutdown();
    });

    test('buffersize reads the input lazily and works with infinite inputs', async () => {
      await using ex = make(2);
      let pulled = 0;
      function* naturals() {
        for (let i = 0; ; i++) {
          pulled += 1;
          yield i;
        }
      }
      const it = ex.map((x: number) => x * 2, naturals(), { buffersize: 2 });
      assert.equal(pulled, 2);
      const first: number[] = [];
      for await (const v of it) {
        first.push(v);
        if (first.length === 5) break;
      }
      assert.deepEqual(first, [0, 2, 4, 6, 8]);
      assert.ok(pulled <= 8, `pulled ${pulled}`);
      for (const buffersize of [1, 2, 10, 20]) {
        const xs = Array.from({ length: 10 }, (_, i) => i);
        assert.deepEqual(
          await collect(ex.map((x: number) => -x, xs, { buffersize })),
          xs.map((x) => -x),
        );
      }
      assert.throws(() => ex.map((x: number) => x, [1], { buffersize: 0 }), RangeError);
      assert.throws(() => ex.map((x: number) => x, [1], { buffersize: 1.5 }), TypeError);
      assert.throws(() => ex.map((x: number) => x, [1], { chunksize: 0 }), RangeError);
    });

    test('shutdown({ wait: true }) runs every queued task; later submit throws', async () => {
      const ex = make(2);
      const futures = Array.from({ length: 12 }, (_, i) =>
        ex.submit(async (n: number) => {
          await new Promise((r) => setTimeout(r, 5));
          return n;
        }, i),
      );
      await ex.shutdown({ wait: true });
      assert.ok(futures.every((f) => f.done() && !f.cancelled()));
      assert.deepEqual(
        await Promise.all(futures),
        Array.from({ length: 12 }, (_, i) => i),
      );
      assert.throws(
        () => ex.submit(() => 1),
        (e: unknown) => {
          assert.ok(e instanceof ExecutorShutdownError);
          assert.equal(e.code, 'ERR_EXECUTOR_SHUTDOWN');
          assert.equal(e.message, 'cannot schedule new futures after shutdown');
          return true;
        },
      );
      assert.throws(() => ex.map((x: number) => x, [1]), ExecutorShutdownError);
      await ex.shutdown();
    });

    test('shutdown({ cancelFutures: true }) cancels exactly the tasks that had not started', async () => {
      const ex = make(2);
      const file = logFile();
      const futures = Array.from({ length: 20 }, (_, i) =>
        ex.submit(logAfter, file, String(i), 40),
      );
      await sleep(10);
      await ex.shutdown({ wait: true, cancelFutures: true });
      const cancelled = futures.filter((f) => f.cancelled());
      const completed = futures.filter((f) => !f.cancelled());
      assert.ok(cancelled.length >= 10, `only ${cancelled.length} cancelled`);
      for (const f of completed) await f;
      for (const f of cancelled) await assert.rejects(f.result(), CancelledError);
      assert.equal(readLog(file).length, completed.length);
      const { done } = await wait(futures, { timeoutMs: 1000 });
      assert.equal(done.size, 20, 'cancelled futures are acknowledged, so wait() sees them done');
    });

    test('shutdown({ wait: false }) returns at once and queued work still finishes', async () => {
      const ex = make(1);
      const futures = Array.from({ length: 4 }, (_, i) =>
        ex.submit(async (n: number) => {
          await new Promise((r) => setTimeout(r, 20));
          return n;
        }, i),
      );
      const start = performance.now();
      await ex.shutdown({ wait: false });
      assert.ok(performance.now() - start < 50);
      assert.deepEqual(await Promise.all(futures), [0, 1, 2, 3]);
    });

    test('a cancelled queued task never runs and a later shutdown does not hang', async () => {
      const ex = make(1);
      const file = logFile();
      const first = ex.submit(logAfter, file, 'first', 30);
      const second = ex.submit(logAfter, file, 'second', 0);
      assert.equal(second.cancel(), true);
      await first;
      await ex.shutdown({ wait: true });
      assert.deepEqual(readLog(file), ['first']);
      assert.equal(second.state, 'CANCELLED_AND_NOTIFIED');
    });

    test('shutdown() with only cancelled tasks left in the queue returns', async () => {
      const ex = make(1);
      const running = ex.submit(async () => {
        await new Promise((r) => setTimeout(r, 50));
        return 'ran';
      });
      while (!running.running()) await sleep(1);
      const queued = Array.from({ length: 5 }, (_, i) => ex.submit((n: number) => n, i));
      for (const f of queued) assert.equal(f.cancel(), true);
      await ex.shutdown({ wait: true });
      assert.equal(await running, 'ran');
      assert.ok(queued.every((f) => f.state === 'CANCELLED_AND_NOTIFIED'));
    });

    test('shutdown() and submitWith() refuse an option they do not have', async () => {
      const ex = make(1);
      const refused = (pattern: RegExp) => (e: unknown) =>
        e instanceof TypeError &&
        (e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE' &&
        pattern.test(e.message);
      assert.throws(
        () => ex.submitWith({ signl: AbortSignal.abort() } as never, (n: number) => n, 1),
        refused(/submitWith\(\) has no option "signl"/),
      );
      await assert.rejects(
        ex.shutdown({ cancel_futures: true } as never),
        refused(/shutdown\(\) has no option "cancel_futures": did you mean cancelFutures\?/),
      );
      assert.equal(await ex.submit((n: number) => n + 1, 1), 2, 'still open');
      await ex.shutdown();
    });

    test('a future settled by hand (setResult/setException are public) keeps that outcome; the executor goes on', async () => {
      const ex = make(1);
      assert.equal(await ex.submit((n: number) => n, 0), 0, 'a worker is ready');
      const slow = async (ms: number) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return 'late';
      };
      // Long enough to be still running after the sleeps below, even on a loaded machine.
      const running = ex.submit(slow, 500);
      const queued = ex.submit((s: string) => `ran ${s}`, 'queued');
      const after = ex.submit((s: string) => s, 'after');
      await sleep(20);
      assert.equal(running.state, 'RUNNING');
      assert.equal(queued.state, 'PENDING');
      running.setException(new Error('gave up'));
      queued.setResult('settled by hand');
      // Used to throw in the executor (an uncaught exception for the pools) and stall the queue.
      assert.equal(await after, 'after');
      assert.equal(((await running.exception()) as Error).message, 'gave up');
      assert.equal(await queued, 'settled by hand');

      const blocker = ex.submit(slow, 500);
      const last = ex.submit((s: string) => s, 'last');
      await sleep(20);
      assert.equal(last.state, 'PENDING');
      last.setException(new Error('dropped'));
      await ex.shutdown({ cancelFutures: true });
      assert.equal(await blocker, 'late');
      assert.equal(((await last.exception()) as Error).message, 'dropped');
    });

    test('a queued future the caller marks running (or cancels and acknowledges) by hand is left to the caller; the executor goes on', async () => {
      const ex = make(1);
      assert.equal(await ex.submit((n: number) => n, 0), 0, 'a worker is ready');
      const blocker = ex.submit(async (ms: number) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return 'late';
      }, 300);
      const taken = ex.submit((s: string) => `ran ${s}`, 'taken');
      const dropped = ex.submit((s: string) => `ran ${s}`, 'dropped');
      const after = ex.submit((s: string) => s, 'after');
      await sleep(20);
      assert.equal(taken.setRunningOrNotifyCancel(), true);
      assert.equal(dropped.cancel(), true);
      assert.equal(dropped.setRunningOrNotifyCancel(), false);
      // Used to throw InvalidStateError in the executor, which stalled the queue.
      assert.equal(await after, 'after');
      assert.equal(await blocker, 'late');
      assert.equal(taken.state, 'RUNNING', 'never run by the executor');
      taken.setResult('by the caller');
      assert.equal(await taken, 'by the caller');
      assert.equal(dropped.cancelled(), true);
      await ex.shutdown();
    });

    test('await using shuts the executor down', async () => {
      let kept: Executor | undefined;
      {
        await using ex = make(1);
        kept = ex;
        ex.submit(() => 1);
      }
      assert.throws(() => kept?.submit(() => 2), ExecutorShutdownError);
    });
  });
}
