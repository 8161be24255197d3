import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  BrokenProcessPool,
  ProcessPoolExecutor,
  type ProcessPoolExecutorOptions,
} from '@forage/futures';
import { describeExecutorConformance } from './helpers/conformance.ts';
import { describePoolBehaviour } from './helpers/pool-behaviour.ts';

describeExecutorConformance(
  'ProcessPoolExecutor',
  (maxWorkers) => new ProcessPoolExecutor({ maxWorkers, execArgv: [] }),
);

describePoolBehaviour({
  name: 'ProcessPoolExecutor',
  // Workers start without the test runner's tsx loader unless a test needs a .ts module.
  make: ({ maxTasks, typescript, ...options } = {}) =>
    new ProcessPoolExecutor({
      ...options,
      ...(typescript ? {} : { execArgv: [] }),
      ...(maxTasks === undefined ? {} : { maxTasksPerChild: maxTasks }),
    }),
  Broken: BrokenProcessPool,
  workerId: () => process.pid,
});

describe('ProcessPoolExecutor', () => {
  test('a child killed by a signal breaks the pool, naming the signal', async () => {
    const ex = new ProcessPoolExecutor({ maxWorkers: 1, execArgv: [] });
    const f = ex.submit(() => process.kill(process.pid, 'SIGKILL'));
    await assert.rejects(f.result(), (e: unknown) => {
      assert.ok(e instanceof BrokenProcessPool);
      assert.equal(e.code, 'ERR_PROCESS_POOL_BROKEN');
      assert.match(e.message, /signal SIGKILL/);
      return true;
    });
    await ex.shutdown();
  });

  test('children get the env and execArgv given', async () => {
    await using ex = new ProcessPoolExecutor({
      maxWorkers: 1,
      env: { ...process.env, FORAGE_PROBE: 'yes' },
      execArgv: [...process.execArgv, '--max-old-space-size=100'],
    });
    assert.equal(await ex.submit(() => process.env.FORAGE_PROBE), 'yes');
    assert.ok((await ex.submit(() => process.execArgv)).includes('--max-old-space-size=100'));
  });

  test("children do not inherit the parent's debugger flags, from argv or NODE_OPTIONS", async () => {
    // A parent under a debugger: children given the same flags would fight over its port, or
    // (with --inspect-brk) wait for a debugger of their own before their first task.
    const program = `
      const { ProcessPoolExecutor } = await import(${JSON.stringify(import.meta.resolve('@forage/futures'))});
      const ex = new ProcessPoolExecutor({ maxWorkers: 1 });
      const seen = await ex.submit(() => [process.execArgv, process.env.NODE_OPTIONS ?? '']);
      await ex.shutdown();
      console.log(JSON.stringify(seen));`;
    const { code, out, err } = await runNode(
      [
        '--inspect=127.0.0.1:0',
        '--inspect-port',
        '0',
        '--max-old-space-size=200',
        '--input-type=module',
        '-e',
        program,
      ],
      // The rest is kept as written: a quoted value may hold a run of spaces.
      '--inspect-publish-uid=http --inspect=127.0.0.1:0 --title="forage  test"',
    );
    assert.equal(code, 0, err);
    const [execArgv, nodeOptions] = JSON.parse(out.trim()) as [string[], string];
    assert.deepEqual(execArgv, ['--max-old-space-size=200']);
    assert.equal(nodeOptions, '--inspect-publish-uid=http --title="forage  test"');
    assert.doesNotMatch(err, /address already in use|failed/i);
  });

  test('under a debugger too, children get the environment as it is when they start, not as it was when the pool was made', async () => {
    // NODE_OPTIONS names an inspector flag, so the pool takes the debugger's flags out of it;
    // a variable set after the pool was made still reaches the children, as without one.
    const program = `
      const { ProcessPoolExecutor } = await import(${JSON.stringify(import.meta.resolve('@forage/futures'))});
      const ex = new ProcessPoolExecutor({ maxWorkers: 1 });
      process.env.FORAGE_SET_LATER = 'later';
      const seen = await ex.submit(() => [process.env.FORAGE_SET_LATER ?? null, process.env.NODE_OPTIONS ?? '']);
      await ex.shutdown();
      console.log(JSON.stringify(seen));`;
    const { code, out, err } = await runNode(
      ['--input-type=module', '-e', program],
      '--inspect-publish-uid=http',
    );
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(out.trim()), ['later', '--inspect-publish-uid=http']);
  });

  test('children exit on their own when the parent is killed with SIGKILL', {
    skip: process.platform !== 'linux' && 'reads /proc',
  }, async () => {
    const fixture = fileURLToPath(new URL('./fixtures/orphan-parent.mjs', import.meta.url));
    const parent = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = parent.pid as number;
    const lines = createInterface({ input: parent.stdout as NodeJS.ReadableStream });
    const [line] = (await once(lines, 'line', { signal: AbortSignal.timeout(30_000) })) as [string];
    assert.ok(JSON.parse(line as string).length === 2);
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    assert.equal(children.length, 2, 'one busy awaiting child and one child in a CPU loop');
    parent.kill('SIGKILL');
    const alive = (child: number) => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${child}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 15_000;
    while (children.some(alive) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(children.filter(alive), [], 'orphaned children must exit');
  });

  test('a child that cannot start breaks the pool instead of hanging', async () => {
    const ex = new ProcessPoolExecutor({ maxWorkers: 1, execArgv: ['--no-such-node-flag'] });
    await assert.rejects(ex.submit(() => 1).result(), BrokenProcessPool);
    await ex.shutdown();
  });

  test('options are validated', () => {
    assert.throws(
      () => new ProcessPoolExecutor({ maxWorkers: -1 }),
      /maxWorkers must be greater than 0/,
    );
    assert.throws(
      () => new ProcessPoolExecutor({ maxTasksPerChild: 0 }),
      /maxTasksPerChild must be >= 1/,
    );
  });

  test("the default maxWorkers counts the CPUs this process may use (Python's process_cpu_count)", {
    skip:
      (process.platform !== 'linux' || spawnSync('taskset', ['-V']).status !== 0) &&
      'needs taskset',
  }, () => {
    const program = `
      const { AsyncExecutor, ProcessPoolExecutor, ThreadPoolExecutor } = await import(${JSON.stringify(import.meta.resolve('@forage/futures'))});
      console.log([ProcessPoolExecutor, ThreadPoolExecutor, AsyncExecutor].map((E) => new E().maxWorkers).join());`;
    const run = spawnSync(
      'taskset',
      ['-c', '0', process.execPath, '--input-type=module', '-e', program],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.equal(
      run.stdout.trim(),
      '1,5,5',
      'pinned to one CPU: 1 process, min(32, 1 + 4) threads',
    );
  });

  test('a misspelt or misplaced option, or one of the wrong type, is refused naming it', () => {
    const refused = (options: unknown, pattern: RegExp) =>
      assert.throws(
        () => new ProcessPoolExecutor(options as ProcessPoolExecutorOptions),
        (e: unknown) =>
          e instanceof TypeError &&
          (e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE' &&
          pattern.test(e.message),
      );
    refused({ initargs: [] }, /no option "initargs": did you mean initArgs\?/);
    refused({ maxTasksPerWorker: 2 }, /"maxTasksPerWorker": processes use maxTasksPerChild/);
    refused({ resourceLimits: {} }, /"resourceLimits": .*--max-old-space-size/);
    refused(5, /takes an options object, got number/);
    refused({ env: 'PATH=/bin' }, /env must be an object/);
    refused({ execArgv: [1] }, /execArgv must be an array of strings/);
  });
});

/** Runs node with `args` and `NODE_OPTIONS`; its exit code and output. */
async function runNode(
  args: string[],
  nodeOptions: string,
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const [code] = await once(child, 'close', { signal: AbortSignal.timeout(30_000) });
  return { code, out, err };
}
