// `forage emulator`: runs in the foreground, prints its URL, obeys its flags, stops on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseFaults, parseLatency, parseRateWindow } from '@forage/github-emulator';
import { as, call } from './helpers.ts';

const bin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const skip = existsSync(bin) ? false : `build the CLI first (${bin} is missing)`;

test('text specs: rate windows, latency and faults', () => {
  assert.deepEqual(parseRateWindow('5000/1h'), { limit: 5000, windowMs: 3_600_000 });
  assert.deepEqual(parseRateWindow('100/2s'), { limit: 100, windowMs: 2000 });
  assert.deepEqual(parseLatency('100ms±30'), { meanMs: 100, jitterMs: 30 });
  assert.deepEqual(parseLatency('1s+-200ms'), { meanMs: 1000, jitterMs: 200 });
  assert.deepEqual(parseLatency('50'), { meanMs: 50, jitterMs: 0 });
  const even = parseFaults('0.06');
  assert.equal(Object.values(even).length, 6);
  for (const v of Object.values(even)) assert.ok(Math.abs((v as number) - 0.01) < 1e-12);
  assert.deepEqual(parseFaults('500=0.01,reset=0.002'), { http500: 0.01, reset: 0.002 });
  for (const [parse, bad] of [
    [parseRateWindow, '5000'],
    [parseRateWindow, '5000/1y'],
    [parseLatency, 'soon'],
    [parseFaults, '404=0.1'],
    [parseFaults, '1.5'],
  ] as const) {
    assert.throws(
      () => (parse as (s: string) => unknown)(bad),
      { code: 'ERR_EMULATOR_OPTIONS' },
      bad,
    );
  }
});

test('forage emulator prints its URL, serves with the flags given, and stops on SIGTERM', {
  skip,
}, async () => {
  const child = spawn(
    process.execPath,
    [
      bin,
      'emulator',
      '--dataset',
      'synthetic:2000',
      '--tokens',
      'a,b',
      '--rate-limit',
      '3/1m',
      '--no-secondary-limit',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (c) => {
    stderr += c;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
    const url = String(first.value);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const ok = await call(`${url}/repositories`, { headers: as('a') });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-ratelimit-limit'], '3');
    assert.equal(ok.json().length, 100);
    assert.equal((await call(`${url}/repositories`, { headers: as('zzz') })).status, 401);
    for (let i = 0; i < 2; i++) await call(`${url}/repositories`, { headers: as('a') });
    assert.equal((await call(`${url}/repositories`, { headers: as('a') })).status, 403);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
  assert.match(stderr, /2,000 repositories/);
  assert.match(stderr, /stopped after 5 requests \(200: 3, 401: 1, 403: 1\).*1 over a limit/);
  assert.ok(!stderr.includes('token a') && !/\ba,b\b/.test(stderr), 'tokens are not printed');
});

test('forage emulator: bad flags exit 2 with one line naming the flag', {
  skip,
  timeout: 30_000,
}, async () => {
  // In-process through the CLI's own main(), capturing stderr (a process per case is slow).
  const { main } = await import('forage');
  for (const [args, message] of [
    [['--rate-limit', 'lots'], /--rate-limit: .*LIMIT\/WINDOW/],
    [['--latency', 'x'], /--latency/],
    [['--faults', '2'], /--faults/],
    [['--port', '99999'], /--port must be a whole number from 0 to 65535/],
    [['--dataset', 'csv:x'], /synthetic:N/],
    [['--api-version', '2020-01-01'], /apiVersion must be one of/],
    [['--rate-limit-status', '500'], /--rate-limit-status must be 403 or 429/],
    [['--tokens', 'a,,b'], /--tokens must be a comma-separated list/],
    // An empty host would listen on every interface (bounded: without the check it serves).
    [['--host', ''], /--host must be an address such as 127\.0\.0\.1, got ""/],
  ] as const) {
    const writes: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(['node', 'forage', 'emulator', ...args]);
    } finally {
      process.stderr.write = original;
    }
    assert.equal(code, 2, `${args.join(' ')}: ${writes.join('')}`);
    assert.equal(writes.length, 1, writes.join(''));
    assert.match(writes[0]!, message);
  }
});
