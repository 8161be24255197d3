// Regression tests for the bugs a review reproduced (one block per fix).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ApiClient,
  BudgetScheduler,
  type CensusOptions,
  exportCensus,
  githubLimits,
  runCensus,
  TokenBudget,
} from '@forage/census';
import { atomicWriter, writeAtomic } from '../dist/files.js';
import { badRedirectApi, censusById, emulator, mock, tempDir } from './helpers.ts';

const token = 'ghp_reviewfixestoken000000000000000000cafe';
const bin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));

function forage(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, GITHUB_TOKEN: '', GH_TOKEN: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close', not 'exit': the exit can come before the last of the output is read.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The pid of a process that has exited (a stale lock's holder). */
function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('exit', () => resolve(child.pid!));
  });
}

// 1. One run at a time per --out directory.

test('a second census on the same --out while one runs is refused; the first finishes exact', async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:3000', latency: { meanMs: 3, jitterMs: 2 } });
  const dir = tempDir(t);
  const options: CensusOptions = { api: emu.url, tokens: [token], out: dir, shards: 4 };
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const first = runCensus(options, {
    progressIntervalMs: 10,
    onProgress: (e) => e.type === 'progress' && started(),
  });
  await running;
  assert.ok(existsSync(join(dir, 'census.lock')));
  await assert.rejects(runCensus(options), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'ERR_CENSUS_OUTPUT');
    assert.ok(error.message.includes(dir), error.message);
    assert.ok(error.message.includes(`process ${process.pid}`), error.message);
    assert.match(error.message, /wait for it to finish.*delete .*census\.lock/);
    return true;
  });
  const { manifest } = await first;
  assert.equal(manifest.complete, true);
  const { repos, languages } = censusById(dir); // throws on duplicates
  assert.equal(repos.size, 3000);
  assert.equal(languages.size, 3000);
  assert.ok(!existsSync(join(dir, 'census.lock')), 'the lock is removed at the end');
});

test('a stale lock (its pid is gone) is taken over; the lock is removed after a failed run too', async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:300' });
  const dir = tempDir(t);
  const lock = join(dir, 'census.lock');
  writeFileSync(
    lock,
    `${JSON.stringify({ pid: await deadPid(), hostname: (await import('node:os')).hostname() })}\n`,
  );
  const { manifest } = await runCensus({ api: emu.url, tokens: [token], out: dir });
  assert.equal(manifest.complete, true);
  assert.ok(!existsSync(lock));
  // A failing run (here: other options for the same directory) leaves no lock behind.
  await assert.rejects(runCensus({ api: emu.url, tokens: [token], out: dir, repos: 5 }), {
    code: 'ERR_CENSUS_OUTPUT',
  });
  assert.ok(!existsSync(lock));
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    runCensus({ api: emu.url, tokens: [token], out: dir }, { signal: controller.signal }),
    {
      code: 'ERR_CENSUS_ABORTED',
    },
  );
  assert.ok(!existsSync(lock));
  // A lock naming this very pid that this process does not hold: left by an earlier process
  // that had the same pid (a container restarted after a crash runs as pid 1 again).
  writeFileSync(
    lock,
    `${JSON.stringify({ pid: process.pid, hostname: (await import('node:os')).hostname() })}\n`,
  );
  const again = await runCensus({ api: emu.url, tokens: [token], out: dir });
  assert.equal(again.manifest.complete, true);
  assert.ok(!existsSync(lock));
});

test('forage census on a locked --out exits 2 naming the directory, the pid and the fix', async (t) => {
  const dir = tempDir(t);
  const lock = join(dir, 'census.lock');
  // This test process is alive: the lock is held.
  const held = `${JSON.stringify({ pid: process.pid, hostname: (await import('node:os')).hostname() })}\n`;
  writeFileSync(lock, held);
  const r = await forage([
    'census',
    '--emulator',
    'synthetic:100',
    '--out',
    dir,
    '--quiet',
    '--no-report',
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(r.stderr.includes(dir), r.stderr);
  assert.ok(r.stderr.includes(`process ${process.pid}`), r.stderr);
  assert.match(r.stderr, /delete /);
  assert.equal(readFileSync(lock, 'utf8'), held, 'a held lock is left alone');
  assert.ok(!existsSync(join(dir, 'repos.jsonl')), 'nothing was written');
});

// 2. Export refuses an unfinished census before writing anything.

test('export of an unfinished census fails before writing, leaving a good earlier export alone', async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:500' });
  const dir = tempDir(t);
  await runCensus({ api: emu.url, tokens: [token], out: dir });
  await exportCensus(dir, { format: 'blog' });
  const good = {
    all: readFileSync(join(dir, 'all_repos.jsonl'), 'utf8'),
    lang: readFileSync(join(dir, 'lang_data.jsonl'), 'utf8'),
  };
  // As if interrupted: the last 200 languages records are not there yet.
  const lines = readFileSync(join(dir, 'languages.jsonl'), 'utf8').split('\n').filter(Boolean);
  writeFileSync(join(dir, 'languages.jsonl'), `${lines.slice(0, 300).join('\n')}\n`);
  await assert.rejects(exportCensus(dir, { format: 'blog' }), {
    code: 'ERR_CENSUS_OUTPUT',
    message: /200 repositories in .* have no languages record: finish the census/,
  });
  assert.equal(readFileSync(join(dir, 'all_repos.jsonl'), 'utf8'), good.all);
  assert.equal(readFileSync(join(dir, 'lang_data.jsonl'), 'utf8'), good.lang);
  // Into a fresh --out: nothing at all is written.
  const out = tempDir(t);
  await assert.rejects(exportCensus(dir, { format: 'blog', outDir: out }), {
    code: 'ERR_CENSUS_OUTPUT',
  });
  assert.ok(!existsSync(join(out, 'all_repos.jsonl')) && !existsSync(join(out, 'lang_data.jsonl')));
});

// 3. A body that never ends is cut off at the limit, not collected without bound.

test('a 200 whose body never ends is cut off at maxBodyBytes, the stream destroyed, the URL named', {
  timeout: 60_000,
}, async (t) => {
  const chunk = Buffer.alloc(64 << 10, 0x20);
  const sent: number[] = [];
  let closed = 0;
  const url = await mock(t, (req, res) => {
    if (req.url?.startsWith('/announced')) {
      // Announces more than the limit: refused before reading it.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(8 << 20) });
      res.write(chunk);
      req.socket.on('close', () => closed++);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    let bytes = 0;
    const i = sent.push(0) - 1;
    // Bounded for the test's sake (256 MiB); the client must stop long before.
    const pump = () => {
      while (bytes < 256 << 20 && res.write(chunk)) {
        bytes += chunk.length;
        sent[i] = bytes;
      }
      if (bytes >= 256 << 20) res.end();
    };
    res.on('drain', pump);
    res.on('close', () => closed++);
    pump();
  });
  const client = new ApiClient({
    api: new URL(url),
    tokens: [token],
    scheduler: new BudgetScheduler(1, githubLimits),
    retry: { attempts: 2, baseMs: 1, maxMs: 5 },
    timeoutMs: 3000,
    maxBodyBytes: 1 << 20,
  });
  t.after(() => client.close());
  await assert.rejects(
    client.send({
      kind: 'rest',
      endpoint: 'rest:/repositories',
      url: client.url('repositories?since=7'),
    }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_CENSUS_API');
      assert.match(
        error.message,
        /GET \/repositories\?since=7 passed 1048576 bytes; stopped reading it after 2 attempts/,
      );
      assert.ok(!error.message.includes(token));
      return true;
    },
  );
  await assert.rejects(
    client.send({ kind: 'rest', endpoint: 'rest:/announced', url: client.url('announced') }),
    { code: 'ERR_CENSUS_API', message: /GET \/announced passed 1048576 bytes/ },
  );
  // The client hung up: every response stream was closed, far below the server's 256 MiB.
  for (let i = 0; i < 200 && closed < 4; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(closed, 4);
  assert.equal(sent.length, 2);
  for (const bytes of sent) assert.ok(bytes < 64 << 20, `the server got to write ${bytes} bytes`);
});

// 4. A redirect with an invalid Location is that repository's error, not the census's end.

test("a 301 whose Location is not a URL is recorded as that repository's error; the census goes on", async (t) => {
  const { base } = await badRedirectApi(t);
  const out = tempDir(t);
  const options: CensusOptions = { api: base, tokens: [token], out, via: 'rest', shards: 1 };
  const { manifest } = await runCensus(options);
  assert.equal(manifest.complete, true);
  assert.deepEqual(manifest.counts, {
    listed: 3,
    ok: 2,
    empty: 0,
    not_found: 0,
    blocked: 0,
    error: 1,
  });
  const { languages } = censusById(out);
  assert.equal(languages.get(2)!.status, 'error');
  assert.match(
    languages.get(2)!.error!,
    /^invalid Location header in HTTP 301 \("http:\/\/\[oops"\)$/,
  );
  // A rerun of the finished census fetches nothing and still succeeds.
  assert.equal((await runCensus(options)).manifest.complete, true);
});

// 5. A client clock ahead of the server's: a spent primary limit must not be re-probed at once.

test('a spent primary limit whose reset looks past is placed on this clock by Date, else waits the floor', () => {
  const limits = { ...githubLimits, resetMarginMs: 1000, unknownResetWaitMs: 60_000 };
  const spent = { limit: 5000, remaining: 0, reset: 100, resource: 'core' };
  // This clock is 5 s ahead: the server's reset (100 s) is 105 s here.
  const b = new TokenBudget(0, limits);
  b.start('rest');
  b.finish('rest', 105_000, { headers: spent, exhaustedUntilMs: 100_000, serverDateMs: 99_000 });
  // Reset 1 s after the server's Date, + 1 s for Date's whole seconds, + the margin.
  assert.deepEqual(b.wait('rest', 105_000), { ms: 2000, reason: 'primary' });
  // No Date: the floor.
  const c = new TokenBudget(0, limits);
  c.start('rest');
  c.finish('rest', 105_000, { headers: spent, exhaustedUntilMs: 100_000 });
  assert.deepEqual(c.wait('rest', 105_000), { ms: 61_000, reason: 'primary' });
  // The server's own clock is past its reset (it makes no sense): the floor too.
  const d = new TokenBudget(0, limits);
  d.start('rest');
  d.finish('rest', 105_000, { headers: spent, exhaustedUntilMs: 100_000, serverDateMs: 101_000 });
  assert.equal(d.wait('rest', 105_000).ms, 61_000);
  // No reset at all (0): the floor. A reset in the future is used as it is.
  const e = new TokenBudget(0, limits);
  e.start('rest');
  e.finish('rest', 105_000, { exhaustedUntilMs: 0, serverDateMs: 105_000 });
  assert.equal(e.wait('rest', 105_000).ms, 61_000);
  const f = new TokenBudget(0, limits);
  f.start('rest');
  f.finish('rest', 105_000, {
    headers: { ...spent, reset: 200 },
    exhaustedUntilMs: 200_000,
    serverDateMs: 1,
  });
  assert.equal(f.wait('rest', 105_000).ms, 96_000);
});

/**
 * A GitHub-like server whose core limit is spent until `spentMs` from now (real time), whose
 * clock runs `skewMs` behind ours, and which sends its own `Date` only when `sendDate`.
 */
async function skewedServer(
  t: { after(fn: () => unknown): void },
  options: { skewMs: number; spentMs: number; sendDate: boolean; reset: 'server' | 'past' },
) {
  const stats = { limited: 0, ok: 0 };
  const until = Date.now() + options.spentMs;
  const serverNow = () => Date.now() - options.skewMs;
  // The reset it announces, on its own clock (or one far past, as a broken server might).
  const resetSec =
    options.reset === 'server'
      ? Math.ceil((until - options.skewMs) / 1000)
      : Math.floor(serverNow() / 1000) - 3600;
  let base = '';
  base = await mock(t, (req, res) => {
    res.sendDate = false;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.sendDate) headers.date = new Date(serverNow()).toUTCString();
    const path = req.url ?? '';
    if (path.startsWith('/rate_limit')) {
      res.writeHead(200, headers);
      res.end(
        JSON.stringify({
          resources: { core: { limit: 5000, remaining: 0, reset: resetSec, used: 5000 } },
        }),
      );
      return;
    }
    if (Date.now() < until) {
      stats.limited++;
      res.writeHead(403, {
        ...headers,
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(resetSec),
        'x-ratelimit-resource': 'core',
      });
      res.end(JSON.stringify({ message: 'API rate limit exceeded for user ID 1.' }));
      return;
    }
    stats.ok++;
    res.writeHead(200, {
      ...headers,
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4000',
      'x-ratelimit-reset': String(resetSec + 3600),
      'x-ratelimit-resource': 'core',
    });
    if (path.startsWith('/repositories')) {
      const since = Number(new URL(path, base).searchParams.get('since'));
      const repos = [1, 2, 3]
        .filter((i) => i > since)
        .map((id) => ({
          id,
          node_id: `N${id}`,
          full_name: `o/r${id}`,
          fork: false,
          languages_url: `${base}/repos/o/r${id}/languages`,
        }));
      res.end(JSON.stringify(repos));
      return;
    }
    res.end(JSON.stringify({ C: 10 }));
  });
  return { url: base, stats };
}

test('a server clock 5 s behind ours: the spent limit is waited out by its Date, not re-probed at once', async (t) => {
  const server = await skewedServer(t, {
    skewMs: 5000,
    spentMs: 1500,
    sendDate: true,
    reset: 'server',
  });
  const { manifest } = await runCensus({
    api: server.url,
    tokens: [token],
    out: tempDir(t),
    via: 'rest',
    shards: 1,
    limits: { resetMarginMs: 200 },
  });
  assert.equal(manifest.complete, true);
  assert.equal(manifest.counts!.ok, 3);
  // The /rate_limit reset looks past here, so one probe learns it is not; then a wait.
  assert.ok(server.stats.limited <= 3, `${server.stats.limited} requests met the spent limit`);
});

test('a spent limit whose reset cannot be placed (no Date) waits the floor between probes', async (t) => {
  const server = await skewedServer(t, { skewMs: 0, spentMs: 700, sendDate: false, reset: 'past' });
  const { manifest } = await runCensus({
    api: server.url,
    tokens: [token],
    out: tempDir(t),
    via: 'rest',
    shards: 1,
    limits: { resetMarginMs: 50, unknownResetWaitMs: 250 },
  });
  assert.equal(manifest.complete, true);
  assert.ok(server.stats.limited <= 6, `${server.stats.limited} requests met the spent limit`);
});

// 6. Corrupt or foreign files are refused with the file, the line and the fix; never overwritten.

test('corrupt or foreign census files are refused naming file, line and fix, and left as they are', async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:300' });
  const root = tempDir(t);
  const good = join(root, 'good');
  const options = (out: string): CensusOptions => ({
    api: emu.url,
    tokens: [token],
    out,
    shards: 2,
  });
  await runCensus(options(good));
  const variant = (name: string, file: string, edit: (text: string) => string): string => {
    const dir = join(root, name);
    cpSync(good, dir, { recursive: true });
    writeFileSync(join(dir, file), edit(readFileSync(join(dir, file), 'utf8')));
    return dir;
  };
  const replaceLine = (n: number, by: string) => (text: string) => {
    const lines = text.split('\n');
    lines[n - 1] = by;
    return lines.join('\n');
  };
  const cases: Array<[string, string, (text: string) => string, RegExp]> = [
    [
      'manifest',
      'census.json',
      () => '{bad\n',
      /census\.json is not a census manifest: .*JSON.*\(fix: /,
    ],
    [
      'foreign',
      'census.json',
      () => '{"my":"own file"}\n',
      /census\.json is not a census manifest: its "format" is missing/,
    ],
    [
      'plan',
      'plan.json',
      () => '{"api":',
      /plan\.json is not a census plan: .*\(fix: restore the file/,
    ],
    [
      'repos',
      'repos.jsonl',
      replaceLine(5, 'garbage{'),
      /repos\.jsonl line 5 is not a census record: .*\(fix: /,
    ],
    [
      'repos-shape',
      'repos.jsonl',
      replaceLine(6, '{"my":"own"}'),
      /repos\.jsonl line 6 is not a census record: it has no integer "id"/,
    ],
    [
      'languages',
      'languages.jsonl',
      replaceLine(7, '{"id":'),
      /languages\.jsonl line 7 is not a census record: .*delete that line/,
    ],
    [
      'shards',
      'shards.jsonl',
      replaceLine(1, 'nope'),
      /shards\.jsonl line 1 is not a census record: .*its shard is listed again/,
    ],
  ];
  for (const [name, file, edit, message] of cases) {
    const dir = variant(name, file, edit);
    const before = readFileSync(join(dir, file), 'utf8');
    await assert.rejects(runCensus(options(dir)), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_CENSUS_OUTPUT', `${name}: ${error.message}`);
      assert.match(error.message, message, name);
      assert.ok(error.message.includes(join(dir, file)), `${name}: ${error.message}`);
      return true;
    });
    assert.equal(readFileSync(join(dir, file), 'utf8'), before, `${name}: ${file} was rewritten`);
  }
  // A directory whose only file is someone else's census.json gets no journals either.
  const other = join(root, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'census.json'), '{"my":"own file"}\n');
  await assert.rejects(runCensus(options(other)), { code: 'ERR_CENSUS_OUTPUT' });
  assert.deepEqual(readFileSync(join(other, 'census.json'), 'utf8'), '{"my":"own file"}\n');
  assert.ok(!existsSync(join(other, 'repos.jsonl')) && !existsSync(join(other, 'plan.json')));
  // Export names the line too.
  await assert.rejects(exportCensus(join(root, 'languages'), { format: 'blog' }), {
    code: 'ERR_CENSUS_OUTPUT',
    message: /languages\.jsonl line 7 is not a census record/,
  });
  // A torn last line (a crash mid-write) is still cut off and the census finishes.
  const torn = variant('torn', 'languages.jsonl', (text) => {
    const lines = text.split('\n').filter(Boolean);
    return `${lines.slice(0, -1).join('\n')}\n${lines.at(-1)!.slice(0, 20)}`;
  });
  appendFileSync(join(torn, 'repos.jsonl'), '{"id":99999999,"node_');
  const notices: string[] = [];
  const { manifest } = await runCensus(options(torn), {
    onProgress: (e) => e.type === 'notice' && notices.push(e.message),
  });
  assert.equal(manifest.complete, true);
  assert.equal(manifest.counts!.listed, 300);
  assert.ok(
    notices.some((m) => /repaired languages\.jsonl: cut a torn last line/.test(m)),
    notices.join('; '),
  );
  assert.ok(
    notices.some((m) => /repaired repos\.jsonl/.test(m)),
    notices.join('; '),
  );
});

// 7. Overlapping atomic writes of one file: their own temporary files, and the manifest in order.

test('overlapping writeAtomic calls on one path each succeed and leave a whole file, no temporaries', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'census.json');
  const big = `${JSON.stringify({ complete: false, pad: 'x'.repeat(20_000) })}\n`;
  const small = `${JSON.stringify({ complete: true })}\n`;
  for (let i = 0; i < 50; i++) {
    const a = writeAtomic(path, big);
    await new Promise((r) => setImmediate(r));
    await writeAtomic(path, small);
    await a;
    assert.ok([big, small].includes(readFileSync(path, 'utf8')));
  }
  assert.deepEqual(readdirSync(dir), ['census.json']);
});

test('atomicWriter lands writes in call order: a write in flight never undoes the last one', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'census.json');
  const write = atomicWriter(path);
  for (let i = 0; i < 50; i++) {
    const timer = write(`${JSON.stringify({ complete: false, i, pad: 'x'.repeat(20_000) })}\n`);
    await new Promise((r) => setImmediate(r));
    await write(`${JSON.stringify({ complete: true, i })}\n`);
    await timer;
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { complete: true, i });
  }
  assert.deepEqual(readdirSync(dir), ['census.json']);
});
