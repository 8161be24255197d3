/**
 * A census coordinator's run signal does not collect listeners, a stopping worker returns and
 * its process exits while Redis does not answer, and a census worker drops a rejected token
 * and goes on with the others. Each test fails on the code before its fix.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCensusWorker, runDistributedCensus } from '@forage/distributed';
import { startEmulator } from '@forage/github-emulator';
import { getRedis, redisSkipReason, startOwnRedis, uniqueQueueName } from './helpers/redis.js';
import { until } from './helpers/until.js';
import { repoRoot } from './helpers/workers.js';

describe('census coordinator listeners', { skip: redisSkipReason() }, () => {
  test("a job's wait leaves no listener on the run's signal once it ends", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'forage-dcensus-listeners-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const token = 'ghp_listenerstestaaaa1';
    const emu = await startEmulator({ dataset: 'synthetic:3000', tokens: [token] });
    t.after(() => emu.close());
    const redis = await getRedis();
    t.after(() => redis.stop());
    const queue = uniqueQueueName('listeners');
    // Every AbortSignal that gets an 'abort' listener in this process.
    const signals = new Set<AbortSignal>();
    const add = EventTarget.prototype.addEventListener;
    EventTarget.prototype.addEventListener = function (
      this: EventTarget,
      ...args: Parameters<EventTarget['addEventListener']>
    ) {
      if (this instanceof AbortSignal && args[0] === 'abort') signals.add(this);
      return add.apply(this, args);
    };
    t.after(() => {
      EventTarget.prototype.addEventListener = add;
    });
    const stop = new AbortController();
    const worker = runCensusWorker({
      connection: redis.url,
      queue,
      api: emu.url,
      tokens: [token],
      concurrency: 8,
      signal: stop.signal,
    });
    t.after(async () => {
      stop.abort();
      await worker.catch(() => {});
    });
    const { manifest } = await runDistributedCensus({
      connection: redis.url,
      queue,
      api: emu.url,
      since: 0,
      until: 3000,
      out: join(dir, 'out'),
      shards: 8,
      pagesPerJob: 1,
    });
    assert.equal(manifest.complete, true);
    assert.ok(signals.size > 0, 'the census listened to a signal');
    const most = Math.max(...[...signals].map((s) => getEventListeners(s, 'abort').length));
    // 30 listing jobs (a page each) and 30 languages jobs: before the fix, the run's signal
    // kept a listener for each.
    assert.ok(most <= 4, `a signal still has ${most} abort listeners after the census`);
  });
});

/** Runs `script` (an ES module) in a child node process from the repository's root. */
function spawnScript(script: string): {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | string>;
  waitFor: (text: string) => Promise<void>;
} {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const waitFor = async (text: string) => {
    await until(() => err.includes(text) || child.exitCode !== null, 20_000, `${text} in ${err}`);
    assert.ok(err.includes(text), `the child exited before printing ${text}:\n${err}`);
  };
  return { child, stderr: () => err, exited, waitFor };
}

/** The exit code, or 'alive' if the process has not exited within `ms`. */
async function exitWithin(exited: Promise<number | string>, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    exited,
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('alive'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('a worker stopped while Redis is down', { skip: redisSkipReason(true) }, () => {
  test('runTaskWorker returns after SIGINT and its process exits by itself', async (t) => {
    const redis = await startOwnRedis();
    t.after(() => redis.stop());
    const script = `
      import { runTaskWorker } from '@forage/distributed';
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      const summary = await runTaskWorker({
        connection: ${JSON.stringify(redis.url)},
        queue: 'stopped-while-down',
        concurrency: 2,
        signal: stop.signal,
        onEvent: (event) => process.stderr.write(event.type + '\\n'),
      });
      process.stderr.write('returned ' + JSON.stringify(summary) + '\\n');
    `;
    const worker = spawnScript(script);
    t.after(() => worker.child.kill('SIGKILL'));
    await worker.waitFor('ready');
    await redis.halt();
    // Until its connections wait to reconnect.
    await worker.waitFor('error');
    worker.child.kill('SIGINT');
    // Before the fix it never returned (BullMQ waited for the connections to end) and a lock
    // renewal timer kept the process alive.
    const code = await exitWithin(worker.exited, 30_000);
    assert.match(worker.stderr(), /returned \{"completed":0,"failed":0\}/, worker.stderr());
    assert.equal(code, 0, worker.stderr());
  });
});
