// Behaviour both pool executors share beyond the generic executor conformance: shipping
// functions, task modules, error fidelity, crashes, serialisation failures, initializers,
// recycling and forced termination (CPython's test_process_pool, test_init, test_deadlock).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type BrokenExecutor,
  CancelledError,
  ExecutorShutdownError,
  RemoteTraceback,
  TaskSerializationError,
  type ThreadPoolExecutor,
  taskModule,
} from '@forage/futures';

type Pool = Pick<
  ThreadPoolExecutor,
  | 'submit'
  | 'map'
  | 'shutdown'
  | 'terminateWorkers'
  | 'killWorkers'
  | 'workerCount'
  | typeof Symbol.asyncDispose
>;

export interface PoolFactory {
  name: string;
  make(options?: {
    maxWorkers?: number;
    minWorkers?: number;
    idleTimeoutMs?: number;
    initializer?: (...args: never[]) => unknown;
    initArgs?: unknown[];
    maxTasks?: number;
    /** The tasks come from a .ts module: keep the test runner's tsx loader in the workers. */
    typescript?: boolean;
  }): Pool;
  Broken: new (...args: never[]) => BrokenExecutor;
  /** A self-contained task returning the id of the worker it runs in. */
  workerId: () => number;
}

const primes = taskModule<typeof import('../fixtures/primes.ts')>(
  new URL('../fixtures/primes.ts', import.meta.url),
);
const words = taskModule<typeof import('../fixtures/words.js')>(
  new URL('../fixtures/words.js', import.meta.url),
);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function describePoolBehaviour(pool: PoolFactory): void {
  const { name, make, Broken, workerId } = pool;

  describe(`${name}: shipping functions`, () => {
    test('a self-contained function runs in a worker, and its helpers may be nested inside it', async () => {
      await using ex = make({ maxWorkers: 1 });
      const f = (n: number) => {
        const square = (x: number) => x * x;
        return square(n) + 1;
      };
      assert.equal(await ex.submit(f, 6), 37);
      assert.equal(await ex.submit(async (s: string) => `${s}!`, 'async'), 'async!');
      const obj = {
        triple(x: number) {
          return 3 * x;
        },
      };
      assert.equal(await ex.submit(obj.triple, 5), 15, 'method shorthand');
      assert.notEqual(await ex.submit(workerId), process.pid === workerId() ? -1 : workerId());
    });

    test('a function using a variable from its surroundings fails naming the identifier', async () => {
      await using ex = make({ maxWorkers: 1 });
      const factor = 3;
      const f = ex.submit((x: number) => x * factor, 2);
      await assert.rejects(f.result(), (e: unknown) => {
        assert.ok(e instanceof ReferenceError);
        assert.equal((e as { code?: string }).code, 'ERR_TASK_FREE_VARIABLE');
        assert.equal((e as { identifier?: string }).identifier, 'factor');
        assert.match(e.message, /factor is not defined in the worker/);
        assert.match(e.message, /Pass factor as an argument/);
        assert.match(e.message, /taskModule\(\)/);
        return true;
      });
    });

    test('a shipped function reaches Node modules through import() or getBuiltinModule', async () => {
      await using ex = make({ maxWorkers: 1 });
      const viaImport = ex.submit(
        async (name: string) => (await import('node:path')).basename(name),
        '/a/b.txt',
      );
      assert.equal(await viaImport, 'b.txt');
      const viaBuiltin = ex.submit(
        () => typeof (process.getBuiltinModule('node:os') as typeof import('node:os')).cpus,
      );
      assert.equal(await viaBuiltin, 'function');
    });

    test('built-in and bound functions are refused with advice', async () => {
      await using ex = make({ maxWorkers: 1 });
      assert.throws(() => ex.submit(Math.max, 1, 2), /built-in or bound function.*Wrap it/);
      const bound = ((x: number) => x).bind(null);
      assert.throws(
        () => ex.submit(bound, 1),
        (e: unknown) =>
          e instanceof TypeError &&
          e.message.startsWith('cannot send the bound function (anonymous) to a worker') &&
          e.message.includes('(...args) => fn(...args)'),
      );
      function double(x: number) {
        return 2 * x;
      }
      assert.throws(() => ex.submit(double.bind(null), 1), /bound function double.*=> double\(/);
      // map() refuses them at the call too, as submit() does, not at the first result.
      assert.throws(() => ex.map(Math.max, [1], [2]), /built-in or bound function.*Wrap it/);
      assert.throws(() => ex.map(bound, [1, 2], { chunksize: 2 }), TypeError);
    });

    test('taskModule runs exports of a .ts and a .js module', async () => {
      await using ex = make({ maxWorkers: 2, typescript: true });
      assert.equal(await ex.submit(primes.sumPrimes, 100), 1060);
      assert.equal(await ex.submit(words.shout, 'hey'), 'HEY!');
      assert.equal(await ex.submit(primes.slowDouble, 21, 5), 42);
      const results: number[] = [];
      for await (const n of ex.map(words.countWords, ['a b', 'c d e', ''], { chunksize: 2 }))
        results.push(n);
      assert.deepEqual(results, [2, 3, 0]);
      await assert.rejects(ex.submit(primes.throwsTyped, 'typed').result(), (e: unknown) => {
        assert.ok(e instanceof TypeError);
        assert.equal((e as { code?: string }).code, 'E_FIXTURE');
        return true;
      });
    });

    test('a .ts task module named by its .js URL, as NodeNext imports are written, runs under tsx', async () => {
      // `new URL('./primes.js', import.meta.url)` in a project whose file is primes.ts: tsx
      // maps it, but on Node 20 its hooks do not reach worker threads.
      const viaJs = taskModule<typeof import('../fixtures/primes.ts')>(
        new URL('../fixtures/primes.js', import.meta.url),
      );
      const withAwait = taskModule<typeof import('../fixtures/tla.ts')>(
        new URL('../fixtures/tla.js', import.meta.url),
      );
      await using ex = make({ maxWorkers: 1, typescript: true });
      assert.equal(await ex.submit(viaJs.sumPrimes, 100), 1060);
      assert.equal(await ex.submit(withAwait.lookup, 1), 20, 'with top-level await');
    });

    test('a missing export or module fails the future with a clear error', async () => {
      await using ex = make({ maxWorkers: 1, typescript: true });
      const bad = primes as unknown as Record<string, (...args: unknown[]) => unknown>;
      await assert.rejects(
        ex.submit(bad.noSuchExport as () => unknown).result(),
        /has no exported function named noSuchExport/,
      );
      await assert.rejects(
        ex.submit(bad.notAFunction as () => unknown).result(),
        /no exported function named notAFunction/,
      );
      const missing = taskModule<{ f(): void }>(
        new URL('../fixtures/does-not-exist.js', import.meta.url),
      );
      await assert.rejects(ex.submit(missing.f).result(), /cannot import task module/);
      assert.equal(await ex.submit(primes.sumPrimes, 10), 17, 'the pool still works');
    });
  });

  describe(`${name}: error fidelity`, () => {
    test('custom errors keep name, message, code and own properties; the worker stack is the cause', async () => {
      await using ex = make({ maxWorkers: 1 });
      const f = ex.submit(() => {
        class QuotaError extends Error {
          override name = 'QuotaError';
          retryAfter = 30;
        }
        throw Object.assign(new QuotaError('over quota'), { code: 'E_QUOTA' });
      });
      await assert.rejects(f.result(), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.equal(e.name, 'QuotaError');
        assert.equal(e.message, 'over quota');
        assert.equal((e as { code?: string }).code, 'E_QUOTA');
        assert.equal((e as { retryAfter?: number }).retryAfter, 30);
        assert.ok(e.cause instanceof RemoteTraceback);
        assert.match((e.cause as Error).message, /QuotaError: over quota/);
        return true;
      });
    });

    test('AggregateError keeps its class and its errors', async () => {
      await using ex = make({ maxWorkers: 1 });
      const f = ex.submit(() => {
        throw new AggregateError([new TypeError('first'), new RangeError('second')], 'both failed');
      });
      await assert.rejects(f.result(), (e: unknown) => {
        assert.ok(e instanceof AggregateError);
        assert.equal(e.message, 'both failed');
        assert.ok(e.errors[0] instanceof TypeError);
        assert.ok(e.errors[1] instanceof RangeError);
        return true;
      });
    });

    test('thrown non-errors and error causes survive', async () => {
      await using ex = make({ maxWorkers: 1 });
      await assert.rejects(
        ex
          .submit(() => {
            throw { reason: 'plain object' };
          })
          .result(),
        (e: unknown) => {
          assert.deepEqual(e, { reason: 'plain object' });
          return true;
        },
      );
      await assert.rejects(
        ex
          .submit(() => {
            throw new Error('outer', { cause: new SyntaxError('inner') });
          })
          .result(),
        (e: unknown) => {
          const traceback = (e as Error).cause as Error;
          assert.ok(traceback instanceof RemoteTraceback);
          assert.ok(traceback.cause instanceof SyntaxError);
          return true;
        },
      );
    });
  });

  describe(`${name}: serialisation failures never hang`, () => {
    test('an argument that cannot be cloned fails only its own future, naming the argument', async () => {
      await using ex = make({ maxWorkers: 1 });
      const good = ex.submit((a: number) => a + 1, 1);
      const bad = ex.submit(
        (_a: number, _b: unknown) => 1,
        1,
        () => 'a function',
      );
      const alsoGood = ex.submit((a: number) => a + 2, 1);
      await assert.rejects(bad.result(), (e: unknown) => {
        assert.ok(e instanceof TaskSerializationError);
        assert.equal(e.code, 'ERR_TASK_SERIALIZATION');
        assert.match(e.message, /argument 2 of task/);
        return true;
      });
      assert.equal(await good, 2);
      assert.equal(await alsoGood, 3);
    });

    test('a single argument is passed as it is: arrays are not spread, undefined still counts', async () => {
      await using ex = make({ maxWorkers: 1 });
      const countArgs = (...args: unknown[]) => [args.length, Array.isArray(args[0])];
      assert.deepEqual(await ex.submit(countArgs, [1, 2, 3]), [1, true]);
      assert.deepEqual(await ex.submit(countArgs, undefined), [1, false]);
      assert.deepEqual(await ex.submit(countArgs), [0, false]);
      assert.deepEqual(await ex.submit(countArgs, 1, 2), [2, false]);
      const bad = ex.submit((_f: unknown) => 1, Symbol('not cloneable'));
      await assert.rejects(bad.result(), (e: unknown) => {
        assert.ok(e instanceof TaskSerializationError);
        assert.match(e.message, /argument 1 of task/);
        return true;
      });
    });

    test('a result that cannot be cloned fails its future with TaskSerializationError', async () => {
      await using ex = make({ maxWorkers: 1 });
      const bad = ex.submit(function makeFn() {
        return () => 1;
      });
      const good = ex.submit(() => 'fine');
      await assert.rejects(bad.result(), (e: unknown) => {
        assert.ok(e instanceof TaskSerializationError);
        assert.match(e.message, /the result of task makeFn cannot be sent back/);
        return true;
      });
      assert.equal(await good, 'fine');
    });
  });

  describe(`${name}: a dead worker breaks the pool`, () => {
    test('a worker that exits fails the running and queued futures and later submits', async () => {
      const ex = make({ maxWorkers: 1 });
      const slow = ex.submit(async () => {
        await new Promise((r) => setTimeout(r, 50));
        process.exit(3);
      });
      const queued = [ex.submit((x: number) => x, 1), ex.submit((x: number) => x, 2)];
      for (const f of [slow, ...queued]) {
        await assert.rejects(f.result(), (e: unknown) => {
          assert.ok(e instanceof Broken, String(e));
          assert.match((e as Error).message, /exited unexpectedly with exit code 3/);
          return true;
        });
      }
      const errors = await Promise.all([slow, ...queued].map((f) => f.exception()));
      assert.equal(new Set(errors).size, 3, 'each future gets its own error object');
      assert.throws(() => ex.submit(() => 1), Broken);
      await ex.shutdown();
      await ex.terminateWorkers();
    });

    test('messages a task posts itself are ignored, whatever their shape', async () => {
      await using ex = make({ maxWorkers: 1 });
      // null used to crash the parent (in its message handler); [1] looked like a second
      // MSG_READY and unreferenced the busy worker, so the process could exit with the task
      // running; [0, [1]] and [2, {}] looked like results and an initializer failure.
      const posting = ex.submit(
        async (messages: unknown[]) => {
          const { parentPort } = process.getBuiltinModule(
            'node:worker_threads',
          ) as typeof import('node:worker_threads');
          for (const message of messages) {
            if (process.send !== undefined) process.send(message);
            else parentPort?.postMessage(message);
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
          return 'done';
        },
        [null, 'text', { type: 'progress' }, [1], [0, [1]], [2, {}], [3]],
      );
      assert.equal(await posting, 'done');
      assert.equal(await ex.submit((n: number) => n + 1, 1), 2, 'the pool still works');
    });

    test('an error thrown outside any task breaks the pool', async () => {
      const ex = make({ maxWorkers: 1 });
      await ex.submit(() => {
        setTimeout(() => {
          throw new Error('escaped the task');
        }, 10);
      });
      const later = ex.submit(async () => {
        await new Promise((r) => setTimeout(r, 2000));
        return 'never';
      });
      await assert.rejects(later.result(), (e: unknown) => {
        assert.ok(e instanceof Broken);
        assert.match((e as Error).message, /exited unexpectedly/);
        return true;
      });
      await ex.shutdown();
    });

    test('a crash during shutdown({ wait: true }) fails the task and shutdown still returns', async () => {
      const ex = make({ maxWorkers: 1 });
      const f = ex.submit(async () => {
        await new Promise((r) => setTimeout(r, 100));
        process.exit(7);
      });
      await ex.shutdown({ wait: true });
      await assert.rejects(f.result(), /exit code 7/);
    });

    test('a failing initializer breaks the pool', async () => {
      const ex = make({
        maxWorkers: 2,
        initializer: (flag: string) => {
          throw new Error(`init failed: ${flag}`);
        },
        initArgs: ['x'],
      });
      const f = ex.submit(() => 1);
      await assert.rejects(f.result(), (e: unknown) => {
        assert.ok(e instanceof Broken);
        assert.match((e as Error).message, /initializer failed.*init failed: x/);
        return true;
      });
      assert.throws(() => ex.submit(() => 1), Broken);
      await ex.shutdown();
    });

    test('an initializer using a variable from its surroundings is told how to fix it', async () => {
      const greeting = 'hello';
      const ex = make({
        maxWorkers: 1,
        initializer: () => {
          (globalThis as { greeting?: string }).greeting = greeting;
        },
      });
      await assert.rejects(ex.submit(() => 1).result(), (e: unknown) => {
        assert.ok(e instanceof Broken);
        assert.match((e as Error).message, /initializer failed.*greeting is not defined/);
        assert.match((e as Error).message, /Pass greeting in initArgs/);
        const cause = (e as Error).cause as Error & { code?: string; identifier?: string };
        assert.ok(cause instanceof ReferenceError);
        assert.equal(cause.code, 'ERR_TASK_FREE_VARIABLE');
        assert.equal(cause.identifier, 'greeting');
        return true;
      });
      await ex.shutdown();
    });
  });

  describe(`${name}: the parent's Node flags`, () => {
    // `node --input-type=module --eval=...` (or a script on stdin): workers must not run the
    // parent's code, and `--input-type` must not stop them from loading.
    const program = `
      if (process.send !== undefined || !(await import('node:worker_threads')).isMainThread) {
        console.log('the parent program ran in a worker');
        process.exit(0);
      }
      const { ${name}: Pool } = await import(${JSON.stringify(import.meta.resolve('@forage/futures'))});
      const ex = new Pool({ maxWorkers: 1 });
      console.log(await ex.submit((x) => x * 2, 21));
      await ex.shutdown();`;

    for (const [shown, flags] of [
      ['--input-type=module --eval=<program>', ['--input-type=module', `--eval=${program}`]],
      ['--input-type module -e <program>', ['--input-type', 'module', '-e', program]],
    ] as const) {
      test(`workers start and do not run the program under node ${shown}`, () => {
        const run = spawnSync(process.execPath, flags, { encoding: 'utf8', timeout: 30_000 });
        assert.equal(run.stdout, '42\n', run.stderr);
        assert.equal(run.status, 0, run.stderr);
      });
    }
  });

  describe(`${name}: workers`, () => {
    test('the initializer runs in every worker before its first task', async () => {
      await using ex = make({
        maxWorkers: 2,
        initializer: primes.remember,
        initArgs: ['ready'],
        typescript: true,
      });
      const seen = await Promise.all(Array.from({ length: 6 }, () => ex.submit(primes.recalled)));
      assert.deepEqual(seen, Array(6).fill('ready'));
    });

    test('shutdown while a worker is still starting returns', async () => {
      for (let round = 0; round < 10; round++) {
        const ex = make({ maxWorkers: 4 });
        // Four tasks start up to four workers; the first worker may run them all before the
        // others are ready, and shutdown then stops workers that are still starting.
        const futures = Array.from({ length: 4 }, (_, i) => ex.submit((n: number) => n, i));
        await futures[0];
        await ex.shutdown({ wait: true });
        assert.deepEqual(await Promise.all(futures), [0, 1, 2, 3]);
        assert.equal(ex.workerCount, 0);
      }
    });

    test('minWorkers starts workers before any task, and replaces a recycled one at once', async () => {
      await using ex = make({ maxWorkers: 2, minWorkers: 2 });
      assert.equal(ex.workerCount, 0, 'started after the constructor');
      await Promise.resolve();
      assert.equal(ex.workerCount, 1, 'the first alone');
      const deadline = Date.now() + 10_000;
      while (ex.workerCount < 2 && Date.now() < deadline) await sleep(5);
      assert.equal(ex.workerCount, 2, 'the second once the first is ready');
      assert.deepEqual(await Promise.all([ex.submit((n: number) => n + 1, 1)]), [2]);
      assert.equal(ex.workerCount, 2);

      await using recycled = make({ maxWorkers: 1, minWorkers: 1, maxTasks: 1 });
      const first = await recycled.submit(workerId);
      // The retired worker exits, and a new one starts with no task waiting for it.
      await sleep(500);
      assert.equal(recycled.workerCount, 1);
      assert.notEqual(await recycled.submit(workerId), first);

      assert.throws(() => make({ maxWorkers: 2, minWorkers: 3 }), {
        name: 'RangeError',
        message: /minWorkers must be between 0 and maxWorkers \(2\), got 3/,
      });
      assert.throws(() => make({ maxWorkers: 2, minWorkers: 1.5 }), TypeError);
    });

    test("workers started by minWorkers do not keep an unused pool's process alive", () => {
      const script = `import { ${name} } from '@forage/futures';
        const ex = new ${name}({ maxWorkers: 2, minWorkers: 2, execArgv: [] });
        const poll = setInterval(() => {
          if (ex.workerCount < 2) return;
          console.log(ex.workerCount);
          clearInterval(poll);
        }, 5);`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: fileURLToPath(new URL('../../../..', import.meta.url)),
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(run.error, undefined, 'exited on its own');
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout.trim(), '2');
    });

    test('idleTimeoutMs retires idle workers down to minWorkers; the next tasks start new ones', async () => {
      await using ex = make({ maxWorkers: 3, minWorkers: 1, idleTimeoutMs: 100 });
      // Three tasks that overlap in time, so that each gets its own worker.
      const overlapping = () =>
        Promise.all(
          [1, 2, 3].map((n) =>
            ex.submit(async (x: number) => {
              await new Promise((resolve) => setTimeout(resolve, 150));
              return x * 10;
            }, n),
          ),
        );
      const first = overlapping();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(ex.workerCount, 3, 'one worker per overlapping task');
      assert.deepEqual(await first, [10, 20, 30]);
      const deadline = Date.now() + 10_000;
      while (ex.workerCount > 1 && Date.now() < deadline) await sleep(10);
      assert.equal(ex.workerCount, 1, 'down to minWorkers');
      await sleep(300);
      assert.equal(ex.workerCount, 1, 'never below minWorkers');
      const burst = overlapping();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(ex.workerCount, 3, 'new workers started for the next burst');
      assert.deepEqual(await burst, [10, 20, 30]);
    });

    test('idleTimeoutMs: 0 retires a worker as soon as it is idle, and no task is lost to it', async () => {
      await using ex = make({ maxWorkers: 2, idleTimeoutMs: 0 });
      const ids = new Set<number>();
      for (let i = 0; i < 6; i++) {
        assert.equal(await ex.submit((n: number) => n + 1, i), i + 1);
        ids.add(await ex.submit(workerId));
        // Long enough for the idle worker to be retired before the next task.
        await sleep(50);
      }
      assert.ok(ids.size >= 3, `workers were retired and replaced (${ids.size} distinct)`);
      // Tasks arriving while workers retire: every one completes.
      const many = Array.from({ length: 40 }, (_, i) => ex.submit((n: number) => n * 2, i));
      for (const [i, f] of many.entries()) {
        assert.equal(await f, i * 2);
        if (i % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      // A retiring worker counts until its exit is seen: a child process takes a while.
      const deadline = Date.now() + 10_000;
      while (ex.workerCount > 0 && Date.now() < deadline) await sleep(10);
      assert.equal(ex.workerCount, 0, 'all idle workers retired');
    });

    test('without idleTimeoutMs idle workers stay; bad values are refused with the fix', async () => {
      await using ex = make({ maxWorkers: 2 });
      const slow = async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
      };
      await Promise.all([ex.submit(slow), ex.submit(slow)]);
      assert.equal(ex.workerCount, 2);
      await sleep(300);
      assert.equal(ex.workerCount, 2);
      assert.throws(() => make({ idleTimeoutMs: -1 }), {
        name: 'RangeError',
        message: /idleTimeoutMs must be >= 0, got -1: use 0 to retire idle workers at once/,
      });
      assert.throws(() => make({ idleTimeoutMs: Number.NaN }), {
        name: 'TypeError',
        message: /idleTimeoutMs must be a number of milliseconds, got NaN/,
      });
      const never = make({ idleTimeoutMs: Number.POSITIVE_INFINITY });
      await never.shutdown();
    });

    test('workers start lazily and are reused', async () => {
      await using ex = make({ maxWorkers: 4 });
      for (let i = 0; i < 3; i++) await ex.submit((x: number) => x, i);
      assert.equal(ex.workerCount, 1);
    });

    test('a backlog starts exactly maxWorkers workers', async () => {
      await using ex = make({ maxWorkers: 2 });
      const futures = Array.from({ length: 30 }, () =>
        ex.submit(async () => {
          await new Promise((r) => setTimeout(r, 5));
        }),
      );
      await Promise.all(futures);
      assert.equal(ex.workerCount, 2);
    });

    test('maxTasks recycles a worker after that many tasks, even with a backlog', async () => {
      await using ex = make({ maxWorkers: 1, maxTasks: 3 });
      const ids: number[] = [];
      for (let i = 0; i < 4; i++) ids.push(await ex.submit(workerId));
      assert.equal(new Set(ids.slice(0, 3)).size, 1);
      assert.notEqual(ids[3], ids[0]);
      const many = await Promise.all(Array.from({ length: 20 }, () => ex.submit(workerId)));
      assert.ok(new Set(many).size >= 7, 'no worker ran more than 3 tasks');
    });

    test('back-to-back tasks (a thread worker parks between them) mix with tasks that leave timers or await', async () => {
      await using ex = make({ maxWorkers: 1 });
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 50; i++) assert.equal(await ex.submit((n: number) => n + 1, i), i + 1);
        // Submitted while the worker may be parked after the last quick task.
        const slow = ex.submit(async (ms: number) => {
          await new Promise((resolve) => setTimeout(resolve, ms));
          return 'awaited';
        }, 20);
        const quick = ex.submit(() => 'quick');
        assert.deepEqual(await Promise.all([slow, quick]), ['awaited', 'quick']);
        await ex.submit(() => {
          const g = globalThis as { ticks?: number };
          g.ticks = 0;
          const timer = setInterval(() => {
            g.ticks = (g.ticks ?? 0) + 1;
            if (g.ticks === 3) clearInterval(timer);
          }, 5);
        });
        await sleep(100);
        assert.equal(await ex.submit(() => (globalThis as { ticks?: number }).ticks), 3);
      }
      // A worker stopped right after a quick task (possibly parked) exits at once.
      await ex.submit(() => 1);
      await ex.terminateWorkers();
      assert.equal(ex.workerCount, 0);
    });

    test('what a task sets off without awaiting it runs before the next back-to-back task', async () => {
      await using ex = make({ maxWorkers: 1 });
      for (let i = 0; i < 200; i++) {
        await ex.submit((n: number) => {
          const g = globalThis as { seen?: string[] };
          g.seen = [];
          process.nextTick(() => g.seen?.push(`tick ${n}`));
          void Promise.resolve()
            .then(() => g.seen?.push(`then ${n}`))
            .then(() => process.nextTick(() => g.seen?.push(`tick in then ${n}`)));
        }, i);
        assert.deepEqual(await ex.submit(() => (globalThis as { seen?: string[] }).seen), [
          `tick ${i}`,
          `then ${i}`,
          `tick in then ${i}`,
        ]);
      }
    });

    test('an unreferenced timer a task left behind still fires while tasks keep coming', async () => {
      await using ex = make({ maxWorkers: 1 });
      await ex.submit(() => {
        const g = globalThis as { fired?: number };
        const start = performance.now();
        setTimeout(() => {
          g.fired = performance.now() - start;
        }, 5).unref();
      });
      // Back-to-back tasks for 300 ms: the worker would never need its event loop for them.
      const until = performance.now() + 300;
      let fired: number | undefined;
      while (performance.now() < until && fired === undefined) {
        fired = await ex.submit(() => (globalThis as { fired?: number }).fired);
      }
      assert.ok(fired !== undefined, 'the timer fired');
      assert.ok(fired < 100, `the timer fired after ${fired} ms`);
    });

    test('idle workers keep running timers that a task left behind', async () => {
      await using ex = make({ maxWorkers: 1 });
      await ex.submit(() => {
        const g = globalThis as { later?: string };
        setTimeout(() => {
          g.later = 'timer ran';
        }, 20);
      });
      // Asked until it has run (bounded): on a loaded machine the next task can reach an idle
      // child before its timer's turn, which a single look after a fixed sleep took for a
      // frozen event loop.
      const later = () => (globalThis as { later?: string }).later;
      let seen = await ex.submit(later);
      for (let i = 0; i < 100 && seen === undefined; i++) {
        await sleep(20);
        seen = await ex.submit(later);
      }
      assert.equal(seen, 'timer ran');
    });

    test('terminateWorkers() stops running tasks, cancels queued ones and shuts down', async () => {
      for (const stop of ['terminateWorkers', 'killWorkers'] as const) {
        const ex = make({ maxWorkers: 1 });
        const running = ex.submit(async () => {
          await new Promise((r) => setTimeout(r, 5000));
          return 'finished';
        });
        const queued = ex.submit(() => 'queued');
        // Wait until the task was handed to the worker (workers start slowly on a busy machine).
        while (!running.running()) await sleep(5);
        await sleep(20);
        await ex[stop]();
        await assert.rejects(running.result(), Broken);
        await assert.rejects(queued.result(), CancelledError);
        assert.throws(() => ex.submit(() => 1), ExecutorShutdownError);
      }
      const fresh = make({ maxWorkers: 1 });
      await fresh.terminateWorkers();
      assert.throws(() => fresh.submit(() => 1), ExecutorShutdownError);
    });
  });
}
