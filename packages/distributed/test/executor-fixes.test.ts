/**
 * Fixes to the general executor (QueueExecutor, its codec and options), each reproduced first:
 * a test here fails on the code before its fix.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QueueExecutor } from '@forage/distributed';
import { taskModule } from '@forage/futures';
import { Redis } from 'ioredis';
import { getRedis, redisSkipReason, type TestRedis, uniqueQueueName } from './helpers/redis.js';

const tasks = taskModule<typeof import('./fixtures/tasks.js')>(
  new URL('./fixtures/tasks.ts', import.meta.url),
);
const skip = redisSkipReason();

/** Lets `n` rounds of the event loop's check phase pass (the executor adds jobs in one). */
async function immediates(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('QueueExecutor shutdown and cancellation', { skip }, () => {
  let redis: TestRedis;
  let admin: Redis;

  before(async () => {
    redis = await getRedis();
    admin = new Redis(redis.url);
  });

  after(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  test('shutdown({ cancelFutures }) right after submit leaves no job in Redis', async () => {
    // Each round cancels at another point of the add: before it, while addBulk is on its way,
    // after it.
    for (let hops = 0; hops <= 3; hops++) {
      const queue = uniqueQueueName('cancel-add');
      const executor = new QueueExecutor({ connection: redis.url, queue });
      await executor.connected();
      const futures = Array.from({ length: 20 }, (_, i) => executor.submit(tasks.add, i, 1));
      await immediates(hops);
      await executor.shutdown({ cancelFutures: true });
      assert.equal(futures.filter((f) => f.cancelled()).length, 20, `round ${hops}`);
      assert.equal(await admin.llen(`forage:${queue}:wait`), 0, `jobs left queued, round ${hops}`);
    }
  });
});
