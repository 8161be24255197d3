// Failure paths of the pools that used to take a worker down or lose results: errors that
// cannot be read, chunks with a value that cannot be cloned, orphaned children, task modules
// that cannot load, functions that cannot be rebuilt.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type Executor,
  ProcessPoolExecutor,
  TaskSerializationError,
  ThreadPoolExecutor,
  taskModule,
} from '@forage/futures';

const pools: [string, () => Executor][] = [
  ['ThreadPoolExecutor', () => new ThreadPoolExecutor({ maxWorkers: 1, execArgv: [] })],
  ['ProcessPoolExecutor', () => new ProcessPoolExecutor({ maxWorkers: 1, execArgv: [] })],
];

for (const [name, make] of pools) {
  describe(`${name}: errors that cannot be read`, () => {
    test('an enumerable getter that throws fails only its own task', async () => {
      await using ex = make();
      const failing = ex.submit(() => {
        const error = Object.assign(new RangeError('task failed'), { code: 'E_TASK' });
        Object.defineProperty(error, 'detail', {
          enumerable: true,
          get() {
            throw new Error('detail unavailable');
          },
        });
        throw error;
      });
      const neighbour = ex.submit(() => 'neighbour ok');
      const error = (await failing.exception()) as RangeError & { code: string; detail: string };
      assert.ok(error instanceof RangeError);
      assert.equal(error.message, 'task failed');
      assert.equal(error.code, 'E_TASK');
      assert.match(error.detail, /unreadable: Error: detail unavailable/);
      assert.equal(await neighbour, 'neighbour ok');
    });

    test('values whose String() throws, and hostile proxies, fail only their task', async () => {
      await using ex = make();
      const thrownValue = ex.submit(() => {
        // Not cloneable (a function inside) and String() throws.
        throw {
          toString() {
            throw new Error('no string');
          },
          fn() {},
        };
      });
      const badProperty = ex.submit(() => {
        throw Object.assign(new Error('with a bad property'), {
          info: Object.assign(Object.create(null), { f() {} }),
        });
      });
      const badMessage = ex.submit(() => {
        class Odd extends Error {
          override get message(): string {
            throw new Error('no message');
          }
        }
        throw new Odd();
      });
      const proxy = ex.submit(() => {
        throw new Proxy(new TypeError('behind a proxy'), {
          ownKeys() {
            throw new Error('no keys');
          },
        });
      });
      const neighbour = ex.submit(() => 'still alive');
      assert.match(String(await thrownValue.exception()), /\[object Object\]/);
      const withProperty = (await badProperty.exception()) as Error & { info: unknown };
      assert.equal(withProperty.message, 'with a bad property');
      assert.equal(withProperty.info, '[object Object]');
      const withMessage = (await badMessage.exception()) as Error;
      assert.match(withMessage.message, /unreadable: Error: no message/);
      const behindProxy = (await proxy.exception()) as Error;
      assert.ok(behindProxy instanceof TypeError);
      assert.equal(behindProxy.message, 'behind a proxy');
      assert.equal(await neighbour, 'still alive');
    });

    test('a result with a then getter that throws fails only its task', async () => {
      await using ex = make();
      const failing = ex.submit(() => ({
        // biome-ignore lint/suspicious/noThenProperty: the point of the test
        get then() {
          throw new Error('then getter');
        },
      }));
      const neighbour = ex.submit(() => 'fine');
      const error = await failing.exception();
      assert.ok(error instanceof TaskSerializationError);
      assert.match(error.message, /then getter/);
      assert.equal(await neighbour, 'fine');
    });
  });
}

/** Runs a map to its end, collecting the results and then the error, if any. */
async function drain(results: AsyncIterable<unknown>): Promise<unknown[]> {
  const got: unknown[] = [];
  try {
    for await (const value of results) got.push(value);
  } catch (error) {
    got.push(error);
  }
  return got;
}

for (const [name, make] of pools) {
  describe(`${name}: a chunk with a value that cannot be cloned`, () => {
    test('an unsendable result fails at its item, after the results before it', async () => {
      await using ex = make();
      const returnsFunction = function returnsFunction(x: number) {
        return x === 3 ? () => x : x;
      };
      for (const chunksize of [1, 4]) {
        const got = await drain(ex.map(returnsFunction, [1, 2, 3, 4, 5, 6, 7, 8], { chunksize }));
        assert.deepEqual(got.slice(0, 2), [1, 2], `chunksize ${chunksize}`);
        assert.equal(got.length, 3);
        const error = got[2];
        assert.ok(error instanceof TaskSerializationError, `chunksize ${chunksize}`);
        assert.match(error.message, /task returnsFunction/);
        if (chunksize > 1) assert.match(error.message, /result of item 3 of the chunk/);
      }
      // Async results too, and the worker is still fine.
      const later = async function later(x: number) {
        return x === 2 ? Symbol('no') : x;
      };
      const got = await drain(ex.map(later, [1, 2, 3], { chunksize: 3 }));
      assert.equal(got[0], 1);
      assert.ok(got[1] instanceof TaskSerializationError);
      assert.match(got[1].message, /result of item 2 of the chunk of task later/);
      assert.equal(await ex.submit((x: number) => x + 1, 1), 2);
    });

    test('an unsendable argument fails at its item, after the results before it', async () => {
      await using ex = make();
      const kind = (x: unknown) => typeof x;
      for (const chunksize of [1, 4]) {
        const got = await drain(ex.map(kind, [1, 2, Symbol('s'), 4, 5, 6], { chunksize }));
        assert.deepEqual(got.slice(0, 2), ['number', 'number'], `chunksize ${chunksize}`);
        assert.equal(got.length, 3);
        const error = got[2];
        assert.ok(error instanceof TaskSerializationError, `chunksize ${chunksize}`);
        assert.match(error.message, /argument 1 .*of task kind/);
        if (chunksize > 1) assert.match(error.message, /argument 1 of item 3 of the chunk/);
      }
      // Several iterables (argument lists), the bad one second in its list.
      const pair = (a: number, b: unknown) => `${a}:${typeof b}`;
      const got = await drain(ex.map(pair, [1, 2, 3], ['x', 'y', () => 0], { chunksize: 3 }));
      assert.deepEqual(got.slice(0, 2), ['1:string', '2:string']);
      assert.ok(got[2] instanceof TaskSerializationError);
      assert.match(got[2].message, /argument 2 of item 3 of the chunk of task pair/);
      // An earlier failure in the chunk comes first.
      const throwsAt2 = (x: unknown) => {
        if (x === 2) throw new RangeError('two');
        return x;
      };
      const first = await drain(ex.map(throwsAt2, [1, 2, Symbol('s')], { chunksize: 3 }));
      assert.equal(first[0], 1);
      assert.ok(first[1] instanceof RangeError);
      assert.equal(first.length, 2);
    });
  });
}

describe('ProcessPoolExecutor: orphaned children', () => {
  test('a child exits when the parent is killed with SIGKILL while its initializer runs', {
    skip: process.platform !== 'linux' && 'reads /proc',
  }, async () => {
    const fixture = fileURLToPath(new URL('./fixtures/orphan-init-parent.mjs', import.meta.url));
    const parent = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: parent.stdout as NodeJS.ReadableStream });
    const [line] = (await once(lines, 'line', { signal: AbortSignal.timeout(30_000) })) as [string];
    const child = (JSON.parse(line) as { initializing: number }).initializing;
    const alive = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${child}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    assert.ok(alive(), 'the child is in its initializer');
    parent.kill('SIGKILL');
    try {
      const deadline = Date.now() + 15_000;
      while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(alive(), false, 'the orphaned child must exit during its initializer');
    } finally {
      // Our own grandchild, if it outlived the test.
      if (alive()) process.kill(child, 'SIGKILL');
    }
  });
});

for (const [name, make] of pools) {
  describe(`${name}: error codes and wording`, () => {
    test('a function that cannot be rebuilt fails with ERR_TASK_FUNCTION_SOURCE', async () => {
      await using ex = make();
      class Counter {
        #n = 1;
        bump(x: number): number {
          return this.#n + x;
        }
      }
      const error = (await ex.submit(Counter.prototype.bump, 1).exception()) as SyntaxError & {
        code: string;
      };
      assert.ok(error instanceof SyntaxError);
      assert.equal(error.code, 'ERR_TASK_FUNCTION_SOURCE');
      assert.match(error.message, /could not rebuild the task function bump/);
    });

    test('an unsendable result is reported in one sentence, without a double period', async () => {
      await using ex = make();
      const error = (await ex.submit(() => () => 1).exception()) as Error;
      assert.ok(error instanceof TaskSerializationError);
      assert.doesNotMatch(error.message, /\.\./);
      assert.match(error.message, /cannot be sent back .*\. Return plain data instead$/);
    });
  });
}

// Workers inherit the test runner's tsx loader here.
const withTsx: [string, () => Executor][] = [
  ['ThreadPoolExecutor', () => new ThreadPoolExecutor({ maxWorkers: 1 })],
  ['ProcessPoolExecutor', () => new ProcessPoolExecutor({ maxWorkers: 1 })],
];
const tla = taskModule<typeof import('./fixtures/tla.ts')>(
  new URL('./fixtures/tla.ts', import.meta.url),
);
const tlaThrows = taskModule<typeof import('./fixtures/tla-throws.ts')>(
  new URL('./fixtures/tla-throws.ts', import.meta.url),
);

for (const [name, make] of withTsx) {
  describe(`${name}: TypeScript task modules with top-level await`, () => {
    test('load and run', async () => {
      await using ex = make();
      assert.deepEqual(
        await Promise.all([0, 1, 5].map((i) => ex.submit(tla.lookup, i))),
        [10, 20, -1],
      );
    });

    test('one that fails to load reports the real reason', async () => {
      await using ex = make();
      const error = (await ex.submit(tlaThrows.lookup, 1).exception()) as Error & {
        code: string;
      };
      assert.equal(error.code, 'ERR_TASK_MODULE_IMPORT');
      assert.match(error.message, /the table could not be loaded/);
      assert.doesNotMatch(error.message, /run the application under tsx/);
      // Below the worker's stack (RemoteTraceback) hangs the module's own error.
      const original = (error.cause as Error | undefined)?.cause;
      assert.ok(original instanceof RangeError);
      assert.equal(original.message, 'the table could not be loaded');
    });
  });
}
