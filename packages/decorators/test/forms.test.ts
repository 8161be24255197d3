/**
 * Every decorator in every method form: the fixture classes are compiled with standard
 * decorators by tsx (esbuild) and by tsc, and with `experimentalDecorators` (legacy) by tsx and
 * by tsc, and the same checks run against each. The plain-function form is covered by each
 * decorator's own test file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheInfo, flush, invalidate, retryStats, timings, waitFixed } from '@forage/decorators';
import { tsImport } from 'tsx/esm/api';
import { FakeClock } from './helpers/fake-clock.ts';

type Fixtures = typeof import('./fixtures/classes.ts');

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Compiles the fixtures with `test/<mode>/tsconfig.json` (type errors fail the test). */
function compile(mode: 'standard' | 'legacy'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', here(`./${mode}/tsconfig.json`)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`tsc -p test/${mode}/tsconfig.json failed (${code}):\n${output}`));
    });
  });
}

const compiled = new Map<string, Promise<void>>();
function compiledOnce(mode: 'standard' | 'legacy'): Promise<void> {
  let done = compiled.get(mode);
  if (!done) {
    done = compile(mode);
    compiled.set(mode, done);
  }
  return done;
}

const variants: Record<string, () => Promise<Fixtures>> = {
  'standard decorators (tsx/esbuild)': () => import('./fixtures/classes.ts'),
  'standard decorators (tsc)': async () => {
    await compiledOnce('standard');
    const file = here('./dist/standard/classes.js');
    assert.match(readFileSync(file, 'utf8'), /__esDecorate\(/, 'tsc emitted standard decorators');
    return import(pathToFileURL(file).href);
  },
  'legacy experimentalDecorators (tsx/esbuild)': async () => {
    // tsx reads experimentalDecorators from this tsconfig and switches esbuild to legacy emit.
    const mod: Fixtures = await tsImport('./fixtures/classes.ts', {
      parentURL: import.meta.url,
      tsconfig: here('./legacy/tsconfig.json'),
    });
    assert.match(String(mod.makeGreeter), /__decorateClass\(/, 'esbuild emitted legacy decorators');
    return mod;
  },
  'legacy experimentalDecorators (tsc)': async () => {
    await compiledOnce('legacy');
    const file = here('./dist/legacy/classes.js');
    const source = readFileSync(file, 'utf8');
    assert.match(source, /__decorate\(/, 'tsc emitted legacy decorators');
    assert.doesNotMatch(source, /__esDecorate/);
    return import(pathToFileURL(file).href);
  },
};

// Start both compilations at once: they are the slow part.
void compiledOnce('standard').catch(() => {});
void compiledOnce('legacy').catch(() => {});

for (const mode of ['standard', 'legacy'] as const) {
  test(`fixtures/types.ts: every compile-time expectation holds with ${mode} decorators`, async () => {
    // tsc fails on an unused @ts-expect-error, so a successful build proves each line errs.
    await compiledOnce(mode);
    assert.ok(existsSync(here(`./dist/${mode}/types.js`)));
  });
}

for (const [variant, load] of Object.entries(variants)) {
  describe(variant, () => {
    let f: Fixtures;
    before(async () => {
      f = await load();
    });

    test('decorator(wrap): instance and static methods, name and this kept', () => {
      const log: string[] = [];
      const Greeter = f.makeGreeter(log);
      assert.equal(new Greeter('Ada').greet('Hello'), 'Hello, Ada');
      assert.equal(Greeter.make('Bob').who, 'Bob');
      assert.deepEqual(log, ['>greet', '<greet', '>make static', '<make']);
      assert.equal(Greeter.prototype.greet.name, 'greet');
      assert.equal(Greeter.prototype.greet.length, 1);
    });

    test('retry: instance and static async methods', async () => {
      const clock = new FakeClock();
      const Flaky = f.makeFlaky({ wait: waitFixed(10), sleep: clock.sleep });
      const flaky = new Flaky(2);
      assert.equal(await flaky.get('/a'), 'got /a');
      assert.equal(flaky.calls, 3);
      await assert.rejects(new Flaky(5).get('/b'), /503 \/b/);
      Flaky.failures = 1;
      assert.equal(await Flaky.ping(), 'pong');
      assert.equal(retryStats(flaky.get).calls, 2);
      assert.deepEqual(clock.sleeps, [10, 10, 10, 10, 10]);
    });

    test('cache: one cache per instance, static per class, async shared in flight', async () => {
      const Calc = f.makeCalc();
      const two = new Calc(2);
      const three = new Calc(3);
      assert.equal(two.times(5), 10);
      assert.equal(three.times(5), 15);
      assert.equal(two.times(5), 10);
      assert.equal(two.calls, 1);
      assert.deepEqual(cacheInfo(two.times, two), {
        hits: 1,
        misses: 1,
        maxSize: 100,
        currSize: 1,
      });
      assert.equal(two.slowTimes(4), two.slowTimes(4));
      assert.equal(await two.slowTimes(4), 8);
      assert.equal(Calc.square(9), 81);
      assert.equal(Calc.square(9), 81);
      assert.equal(Calc.staticCalls, 1);
    });

    test('stacking: outermost first', () => {
      const log: string[] = [];
      const Stacked = f.makeStacked(log);
      assert.equal(new Stacked().run(), 'done');
      assert.deepEqual(log, ['outer>', 'inner>', 'body', '<inner', '<outer']);
    });

    test('once, trace, timed, deprecated and cachedProperty', () => {
      const lines: string[] = [];
      const warnings: string[] = [];
      const Service = f.makeService({
        log: (line) => void lines.push(line),
        warn: (message) => void warnings.push(message),
        now: () => 0,
      });
      const a = new Service([1, 2]);
      const b = new Service([5]);
      assert.equal(a.connect(), 'connection 1');
      assert.equal(a.connect(), 'connection 1');
      assert.equal(b.connect(), 'connection 1');
      Service.setup();
      Service.setup();
      assert.equal(Service.setups, 1);
      assert.equal(a.add(1, 2), 3);
      assert.deepEqual(lines, ['call add(1, 2)', 'done add -> 3 in 0.0 ms']);
      a.work();
      b.work();
      assert.equal(timings(a.work).count, 2);
      for (let i = 0; i < 2; i++) a.plus(1, 1);
      assert.deepEqual(warnings, ['plus() is deprecated: use add() instead']);
      assert.equal(a.total, 3);
      assert.equal(a.total, 3);
      assert.equal(b.total, 5);
      a.rows.push(10);
      invalidate(a, 'total');
      assert.equal(a.total, 13);
      assert.equal(a.computed, 2);
    });

    test('timeout, throttle, debounce and concurrency', async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
      const Service = f.makeService({ log: () => {}, warn: () => {}, now: Date.now });
      const s = new Service([]);
      const waiting = s.wait();
      t.mock.timers.tick(1_000);
      // By code, not class: the tsx legacy variant loads its own copy of the package.
      await assert.rejects(waiting, { name: 'TimeoutError', code: 'ERR_TIMEOUT' });

      const started: string[] = [];
      const first = s.limited('a').then((id) => started.push(id));
      const second = s.limited('b').then((id) => started.push(id));
      await first;
      assert.deepEqual(started, ['a']);
      t.mock.timers.tick(1_000);
      await second;
      assert.deepEqual(started, ['a', 'b']);

      s.save();
      s.save();
      t.mock.timers.tick(100);
      s.save();
      await flush(s.save, s);
      assert.equal(s.saves, 2);

      t.mock.timers.reset();
      const peaks = await Promise.all([s.exclusive(), s.exclusive(), s.exclusive()]);
      assert.deepEqual(peaks, [1, 1, 1]);
    });
  });
}
