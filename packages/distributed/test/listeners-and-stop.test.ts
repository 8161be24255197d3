/**
 * A census coordinator's run signal does not collect listeners, a stopping worker returns and
 * its process exits while Redis does not answer, and a census worker drops a rejected token
 * and goes on with the others. Each test fails on the code before its fix.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCensusWorker, runDistributedCensus } from '@forage/distributed';
import { startEmulator } from '@forage/github-emulator';
import { getRedis, redisSkipReason, uniqueQueueName } from './helpers/redis.js';

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
