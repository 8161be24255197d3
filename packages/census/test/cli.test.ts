import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { emulator, tempDir } from './helpers.ts';

const bin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));

function forage(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, GITHUB_TOKEN: '', GH_TOKEN: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close', not 'exit': the exit can come before the last of the output is read.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('bad flag values exit 2 with one line naming the flag', async () => {
  for (const [args, pattern] of [
    [['census', '--via', 'soap'], /--via/],
    [['census', '--since', 'abc'], /--since must be a whole number, got "abc"/],
    [
      ['census', '--concurrency', '500', '--api', 'http://127.0.0.1:9'],
      /--concurrency must be an integer 1\.\.100/,
    ],
    [['census', '--api', 'http://api.example.com'], /must use https/],
    [['census', '--emulator', '--api', 'http://127.0.0.1:9'], /cannot be used with option '--api/],
    [['census', 'export', '/tmp'], /--format/],
  ] as const) {
    const r = await forage([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
});

test('an unreachable API exits 1 with one line, never showing the token', async (t) => {
  const secret = 'ghp_clitesttoken00000000000000000000005678';
  const r = await forage(['census', '--api', 'http://127.0.0.1:9', '--out', tempDir(t)], {
    GITHUB_TOKEN: secret,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^forage: error: .*ECONNREFUSED/m);
  assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret));
});

test('forage census --emulator runs a census, streams JSON progress, then exports for the study', async (t) => {
  const dir = tempDir(t);
  const r = await forage([
    'census',
    '--emulator',
    'synthetic:1500',
    '--out',
    dir,
    '--json',
    '--no-report',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(
    events.some((e) => e.type === 'progress'),
    'progress events',
  );
  const summary = events.at(-1);
  assert.equal(summary.type, 'summary');
  assert.match(summary.lines[0], /census complete: 1500 repositories listed/);
  const manifest = JSON.parse(readFileSync(join(dir, 'census.json'), 'utf8'));
  assert.equal(manifest.dataset, 'synthetic:1500');
  assert.equal(manifest.complete, true);
  // The same dataset on a new emulator (another port) is the same census: nothing left to do.
  const again = await forage([
    'census',
    '--emulator',
    'synthetic:1500',
    '--out',
    dir,
    '--quiet',
    '--no-report',
  ]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /census complete: 1500 repositories listed/);
  // The summary line of a resumed census counts requests and seconds over the same runs.
  const resumed = JSON.parse(readFileSync(join(dir, 'census.json'), 'utf8'));
  const total = Object.values(resumed.requests as Record<string, number>).reduce((a, b) => a + b);
  assert.equal(resumed.runs.length, 2);
  assert.match(
    again.stdout,
    new RegExp(
      `^all 2 runs: ${total} requests in ${(resumed.wallMs / 1000).toFixed(1)} s \\(slept [\\d.]+ s on limits\\); this run ${(resumed.runs[1].wallMs / 1000).toFixed(1)} s;`,
      'm',
    ),
  );
  const other = await forage(['census', '--emulator', 'synthetic:1600', '--out', dir, '--quiet']);
  assert.equal(other.code, 2, 'another dataset: the directory is refused');
  assert.match(other.stderr, /holds a census made with dataset synthetic:1500/);
  const x = await forage(['census', 'export', dir, '--format', 'blog']);
  assert.equal(x.code, 0, x.stderr);
  assert.match(x.stdout, /wrote .*all_repos\.jsonl and .*lang_data\.jsonl: 1500 repositories/);
  assert.equal(readFileSync(join(dir, 'lang_data.jsonl'), 'utf8').split('\n').length, 1501);
  assert.ok(existsSync(join(dir, 'all_repos.jsonl')));
});

test("forage census --emulator never sends GITHUB_TOKEN or GH_TOKEN to the emulator, only --token's", async (t) => {
  const dir = tempDir(t);
  const secret = `fake_${Date.now().toString(36)}envtokenQ7Z9`;
  const r = await forage(['census', '--emulator', 'synthetic:300', '--out', dir, '--no-report'], {
    GITHUB_TOKEN: secret,
    GH_TOKEN: secret,
  });
  assert.equal(r.code, 0, r.stderr);
  // census.json names its tokens redacted (a prefix and the last four characters).
  const manifest = readFileSync(join(dir, 'census.json'), 'utf8');
  assert.ok(!manifest.includes('Q7Z9'), manifest);
  const withFlag = tempDir(t);
  const given = await forage(
    [
      'census',
      '--emulator',
      'synthetic:300',
      '--out',
      withFlag,
      '--no-report',
      '--token',
      'fake_flagtokenK4W2',
    ],
    { GITHUB_TOKEN: secret },
  );
  assert.equal(given.code, 0, given.stderr);
  // A token given with --token is used (to try several against the emulator).
  assert.match(readFileSync(join(withFlag, 'census.json'), 'utf8'), /K4W2/);
});

test('a report that cannot be written still prints the census summary, exits 1 and says how to write it', async (t) => {
  const dir = tempDir(t);
  const first = await forage([
    'census',
    '--emulator',
    'synthetic:300',
    '--out',
    dir,
    '--no-report',
  ]);
  assert.equal(first.code, 0, first.stderr);
  // A file where the report's charts directory goes.
  writeFileSync(join(dir, 'charts'), 'in the way');
  const r = await forage(['census', '--emulator', 'synthetic:300', '--out', dir]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^census complete: \d+ repositories listed/m);
  assert.match(r.stdout, /^report: not written/m);
  assert.match(
    r.stderr,
    /the census is complete, but its report could not be written: .*charts.*; fix that, then run forage analyze /,
  );
  assert.equal(readFileSync(join(dir, 'charts'), 'utf8'), 'in the way');
});

test('census export --out writes there, not into the census; census flags on export exit 2', async (t) => {
  const dir = tempDir(t);
  const other = join(tempDir(t), 'exported');
  const r = await forage([
    'census',
    '--emulator',
    'synthetic:200',
    '--out',
    dir,
    '--quiet',
    '--no-report',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const x = await forage(['census', 'export', dir, '--format', 'blog', '--out', other]);
  assert.equal(x.code, 0, x.stderr);
  assert.equal(readFileSync(join(other, 'lang_data.jsonl'), 'utf8').split('\n').length, 201);
  assert.ok(existsSync(join(other, 'all_repos.jsonl')));
  assert.ok(!existsSync(join(dir, 'all_repos.jsonl')), 'nothing written into the census');
  for (const args of [
    ['census', 'export', dir, '--format', 'blog', '--json'],
    ['census', 'export', dir, '--format', 'blog', '--emulator'],
    ['census', '--json', 'export', dir, '--format', 'blog'],
    ['census', '--out', other, 'export', dir, '--format', 'blog'],
  ]) {
    const bad = await forage(args);
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(
      bad.stderr,
      args.includes('--json') ? /--json/ : args.includes('--emulator') ? /--emulator/ : /--out/,
    );
  }
  assert.ok(!existsSync(join(dir, 'all_repos.jsonl')), 'refused before writing');
  const file = join(other, 'lang_data.jsonl');
  const notDir = await forage([
    'census',
    'export',
    dir,
    '--format',
    'blog',
    '--out',
    join(file, 'x'),
  ]);
  assert.equal(notDir.code, 2, notDir.stderr);
  assert.match(notDir.stderr, /cannot create --out .*choose a directory/);
});

test('forage census exits 130 on Ctrl-C (SIGINT), saying how to resume', async (t) => {
  // An API whose languages never answer: the census is surely still running when interrupted.
  const hanging: ServerResponse[] = [];
  let reached: () => void = () => {};
  const languagesAsked = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const srv = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const json = { 'content-type': 'application/json' };
    if (url.pathname === '/repositories') {
      const since = Number(url.searchParams.get('since') ?? 0);
      const items =
        since >= 3
          ? []
          : [1, 2, 3].map((id) => ({
              id,
              node_id: `N${id}`,
              full_name: `o/r${id}`,
              fork: false,
              languages_url: `http://127.0.0.1/repos/o/r${id}/languages`,
            }));
      res.writeHead(200, json);
      res.end(JSON.stringify(items));
      return;
    }
    if (url.pathname === '/graphql' || url.pathname.endsWith('/languages')) {
      hanging.push(res);
      reached();
      return;
    }
    res.writeHead(404, json);
    res.end(JSON.stringify({ message: 'Not Found' }));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    srv.closeAllConnections();
    return new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  const api = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const dir = tempDir(t);
  const child = spawn(process.execPath, [bin, 'census', '--api', api, '--out', dir, '--quiet'], {
    env: {
      ...process.env,
      GITHUB_TOKEN: 'ghp_clisiginttoken000000000000000000004321',
      GH_TOKEN: '',
    },
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  let timer: NodeJS.Timeout | undefined;
  const started = await Promise.race([
    languagesAsked.then(() => true),
    exited.then(() => false),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), 30_000);
    }),
  ]);
  clearTimeout(timer);
  assert.ok(started, `the census never asked for languages: ${stderr}`);
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /run the same command to resume/);
  assert.ok(hanging.length > 0);
});

test('--token on the command line warns that other users can see it, never printing it', async (t) => {
  const out = tempDir(t);
  const secret = 'ghp_clitokenflag0000000000000000000000009876';
  const r = await forage([
    'census',
    '--token',
    secret,
    '--api',
    'http://127.0.0.1:9',
    '--out',
    out,
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^forage census: warning: --token .*GITHUB_TOKEN or GH_TOKEN/m);
  assert.equal(r.stderr.match(/warning/g)?.length, 1, r.stderr);
  assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret));
  // From the environment: no warning.
  const env = await forage(['census', '--api', 'http://127.0.0.1:9', '--out', out], {
    GITHUB_TOKEN: secret,
  });
  assert.doesNotMatch(env.stderr, /warning/);
});

test('a rejected token among several: the census completes, and stderr and the summary name it by position only', async (t) => {
  const good = 'ghp_clitokengood000000000000000000000001';
  const bad = 'ghp_clitokenrevoked0000000000000000000bad';
  const emu = await emulator(t, { dataset: 'synthetic:300', tokens: [good] });
  const out = tempDir(t);
  const r = await forage(['census', '--api', emu.url, '--out', out, '--no-report'], {
    GITHUB_TOKEN: `${good},${bad}`,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^forage census: token 2 of 2 was rejected \(401 Bad credentials\)/m);
  assert.match(r.stdout, /^census complete: 300 repositories listed/m);
  assert.match(
    r.stdout,
    /^tokens retired: token 2 of 2 was rejected \(401\) during this run .*replace it in --token/m,
  );
  for (const token of [good, bad]) {
    const text = r.stdout + r.stderr;
    assert.ok(!text.includes(token) && !text.includes(token.slice(-4)), text);
  }
});
