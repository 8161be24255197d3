/**
 * Redis for the tests. `.ci/run` starts one server and exports FORAGE_TEST_REDIS_URL; without
 * it, a test starts its own `redis-server` on a free loopback port with a temporary data
 * directory (append-only file on). Without the binary, the tests skip and say why.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A Redis server a test can use; `stop()` is a no-op for the shared CI server. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A Redis server owned by one test, which may stop and restart it on the same port and data. */
export interface OwnedRedis extends TestRedis {
  /** Stops the server with SIGTERM (Redis flushes its append-only file) and starts it again. */
  restart(): Promise<void>;
  /** Stops the server and keeps its data directory, until `start()`. */
  halt(): Promise<void>;
  start(): Promise<void>;
  /** Suspends the server (SIGSTOP): connections stay open and nothing answers. */
  freeze(): void;
  /** Resumes a frozen server (SIGCONT). */
  thaw(): void;
}

const redisBinary = findRedisServer();

function findRedisServer(): string | undefined {
  const candidates = [process.env.FORAGE_REDIS_SERVER, '/usr/bin/redis-server', 'redis-server'];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/**
 * Why Redis tests cannot run here, or `undefined` if they can. Pass it as `{ skip }` to `test()`.
 * @param own the test needs its own server (it restarts it), so the shared one does not help.
 */
export function redisSkipReason(own = false): string | undefined {
  if (!own && process.env.FORAGE_TEST_REDIS_URL) return undefined;
  if (redisBinary) return undefined;
  return 'needs Redis: set FORAGE_TEST_REDIS_URL=redis://127.0.0.1:PORT or install redis-server (apt-get install redis-server)';
}

/** The shared Redis of `.ci/run`, or a private one started for this test file. */
export async function getRedis(): Promise<TestRedis> {
  const shared = process.env.FORAGE_TEST_REDIS_URL;
  if (shared) {
    const port = Number(new URL(shared).port || 6379);
    return { url: shared, port, stop: async () => {} };
  }
  return startOwnRedis();
}

/** Starts a private `redis-server` on a free loopback port with its own data directory. */
export async function startOwnRedis(): Promise<OwnedRedis> {
  if (!redisBinary) throw new Error(redisSkipReason(true));
  const dir = mkdtempSync(join(tmpdir(), 'forage-test-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const proc = spawn(
      redisBinary,
      [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--daemonize',
        'no',
        '--logfile',
        join(dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
    child = proc;
    await waitForPort(port, proc);
  };
  const halt = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    // A frozen server would not act on SIGTERM.
    proc.kill('SIGCONT');
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    halt,
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    restart: async () => {
      await halt();
      await start();
    },
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A queue name no other test (or CI run on another Node) uses at the same time. */
export function uniqueQueueName(label: string): string {
  return `test-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with code ${proc.exitCode}`);
    if (await answersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`redis-server did not answer on 127.0.0.1:${port} within 10 s`);
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
