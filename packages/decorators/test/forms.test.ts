/**
 * Every decorator in every method form: the fixture classes are compiled by tsx (esbuild,
 * standard decorators), by tsc (standard decorators) and by tsc with `experimentalDecorators`
 * (legacy), and the same checks run against each. The plain-function form is covered by each
 * decorator's own test file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheInfo, retryStats, waitFixed } from '@forage/decorators';
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
  });
}
