// Failure paths of the pools that used to take a worker down or lose results: errors that
// cannot be read, chunks with a value that cannot be cloned, orphaned children, task modules
// that cannot load, functions that cannot be rebuilt.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Executor,
  ProcessPoolExecutor,
  TaskSerializationError,
  ThreadPoolExecutor,
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
