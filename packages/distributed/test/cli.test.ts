import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { QueueExecutor } from '@forage/distributed';
import { taskModule } from '@forage/futures';
import { startEmulator } from '@forage/github-emulator';
import { getRedis, redisSkipReason, uniqueQueueName } from './helpers/redis.js';
import { spawnForage } from './helpers/workers.js';

const censusTasks = taskModule<typeof import('../src/census-tasks.js')>(
  new URL('../dist/census-tasks.js', import.meta.url),
);

async function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | string; stderr: string }> {
  const proc = spawnForage(args, env);
  const code = await proc.exited;
  return { code, stderr: proc.stderr() };
}

test('forage worker without --queue, or with a bad one, is a usage error (exit 2) naming the flag', async () => {
  const missing = await run(['worker']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /needs --queue redis:\/\/HOST:PORT/);
  const bad = await run(['worker', '--queue', 'http://127.0.0.1:6379']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--queue: the queue must be a Redis URL/);
  const concurrency = await run([
    'worker',
    '--queue',
    'redis://127.0.0.1:6379',
    '--concurrency',
    '0',
  ]);
  assert.equal(concurrency.code, 2);
  assert.match(concurrency.stderr, /--concurrency must be a positive integer/);
});

test('forage census-worker needs a token, and never prints it', async () => {
  const none = await run(['census-worker', '--queue', 'redis://127.0.0.1:6379'], {
    GITHUB_TOKEN: '',
    GH_TOKEN: '',
  });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /needs a token/);
});

test('forage census-worker warns that a --token on the command line is visible in ps, without printing it', async () => {
  const token = 'ghp_visibleinps0000000000000000000000feed';
  // A bad --api stops it right after the warning: no Redis needed.
  const cli = await run(
    ['census-worker', '--queue', 'redis://127.0.0.1:6379', '--token', token, '--api', 'notaurl'],
    { GITHUB_TOKEN: '', GH_TOKEN: '' },
  );
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /--token on the command line can be read by other users .*GITHUB_TOKEN/);
  assert.ok(!cli.stderr.includes(token));
  const env = await run(
    ['census-worker', '--queue', 'redis://127.0.0.1:6379', '--api', 'notaurl'],
    {
      GITHUB_TOKEN: token,
    },
  );
  assert.equal(env.code, 2);
  assert.doesNotMatch(env.stderr, /warning/);
  assert.ok(!env.stderr.includes(token));
});

test('forage census --queue needs --until, and refuses tokens (they belong to the workers)', async () => {
  const noUntil = await run(['census', '--queue', 'redis://127.0.0.1:6379', '--since', '5']);
  assert.equal(noUntil.code, 2);
  assert.match(noUntil.stderr, /--until ID is required/);
  const withToken = await run([
    'census',
    '--queue',
    'redis://127.0.0.1:6379',
    '--until',
    '100',
    '--token',
    'ghp_shouldnotbeprinted1234',
  ]);
  assert.equal(withToken.code, 2);
  assert.match(withToken.stderr, /tokens belong to the workers/);
  assert.ok(!withToken.stderr.includes('ghp_shouldnotbeprinted1234'));
});

test('forage census --queue refuses --concurrency (the workers make the requests) instead of ignoring it', async () => {
  const result = await run([
    'census',
    '--queue',
    'redis://127.0.0.1:9',
    '--until',
    '100',
    '--concurrency',
    '8',
  ]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--concurrency/);
  assert.match(result.stderr, /forage census-worker/);
});

test('forage census --queue interrupted with Ctrl-C exits 130 and says how to resume, as a one-machine census', {
  skip: redisSkipReason(),
}, async (t) => {
  const redis = await getRedis();
  t.after(() => redis.stop());
  const out = mkdtempSync(join(tmpdir(), 'forage-coordinator-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  // No worker: the coordinator queues the census and waits, until it is interrupted.
  const coordinator = spawnForage([
    'census',
    '--queue',
    redis.url,
    '--queue-name',
    uniqueQueueName('interrupted'),
    '--emulator',
    'synthetic:2000',
    '--until',
    '2000',
    '--out',
    out,
  ]);
  t.after(() => coordinator.kill());
  await coordinator.waitFor('emulator at', 20_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(await coordinator.interrupt(), 130, coordinator.stderr());
  assert.match(coordinator.stderr(), /run the same command again to resume/);
  assert.doesNotMatch(coordinator.stderr(), /forage: error/);
});

test('forage census-worker with a rejected token among several goes on, says which by position, and says it again when it stops', {
  skip: redisSkipReason(),
  timeout: 60_000,
}, async (t) => {
  const good = 'ghp_cliworkertokengood001';
  const revoked = 'ghp_cliworkertokenbad0002';
  const emu = await startEmulator({ dataset: 'synthetic:300', tokens: [good] });
  const redis = await getRedis();
  const queue = uniqueQueueName('cli-retired');
  const worker = spawnForage(
    ['census-worker', '--queue', redis.url, '--queue-name', queue, '--api', emu.url],
    { GITHUB_TOKEN: `${revoked},${good}`, GH_TOKEN: '' },
  );
  let executor: QueueExecutor | undefined;
  // In this order: the executor needs Redis to shut down, and the worker the emulator.
  t.after(async () => {
    await executor?.shutdown({ cancelFutures: true });
    await worker.kill();
    await redis.stop();
    await emu.close();
  });
  await worker.waitFor('ready on');
  executor = new QueueExecutor({ connection: redis.url, queue });
  // The first token is tried first: the first job meets the 401 and goes on with the other.
  // Bounded: before the fix the worker stopped at the 401 and the other jobs waited for ever.
  const jobs = executor;
  const records = await Promise.all(
    Array.from({ length: 4 }, (_, i) =>
      jobs
        .submit(censusTasks.fetchLanguages, {
          api: emu.url,
          via: 'rest' as const,
          repos: [
            {
              id: i + 1,
              node_id: `R_${i + 1}`,
              full_name: `o/r${i + 1}`,
              fork: false,
              languages_url: '',
            },
          ],
        })
        .result(20_000),
    ),
  );
  for (const batch of records) assert.notEqual(batch[0]!.status, 'error', JSON.stringify(batch));
  await worker.waitFor(/token 1 of 2 was rejected/);
  assert.equal(await worker.interrupt(), 0, worker.stderr());
  const stderr = worker.stderr();
  assert.match(stderr, /^forage census-worker: token 1 of 2 was rejected \(401 Bad credentials\)/m);
  assert.match(
    stderr,
    /stopped after 4 jobs done, 0 failed\nforage census-worker: retired: token 1 of 2/,
  );
  for (const token of [good, revoked]) assert.ok(!stderr.includes(token.slice(-4)), stderr);
});
