import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { commands, forTerminal, main, UsageError } from 'forage';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

function forage(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help lists usage and exits 0', () => {
  const r = forage('--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: forage/);
  for (const c of ['--version', '--debug']) assert.ok(r.stdout.includes(c), c);
});

test('--version prints the package version', () => {
  const r = forage('--version');
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('an unknown subcommand exits 2 with one line on stderr', () => {
  const r = forage('no-such-command');
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /unknown command 'no-such-command'/);
  assert.match(lines[0]!, /forage --help/);
});

test('an unknown command that looks like a token (pasted in the wrong place) is not echoed', () => {
  const pasted = `ghp_${'k'.repeat(32)}Z9Z9`;
  const r = forage(pasted);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command \(a word of 40 characters, not shown\)/);
  assert.ok(!r.stderr.includes('Z9Z9'), r.stderr);
  assert.match(forage('sacnr').stderr, /unknown command 'sacnr'/);
});

test('forTerminal shows controls as ?, keeps tabs and line breaks, and a CR only before LF', () => {
  assert.equal(forTerminal('a\tb\nc\r\nd'), 'a\tb\nc\r\nd');
  assert.equal(forTerminal('ok\rPWNED \u001b[2J\u009b2J\u0007'), 'ok?PWNED ?[2J?2J?');
});

test('an unknown option exits 2 with one line', () => {
  const r = forage('--no-such-flag');
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /--no-such-flag/);
});

test("a usage error points at the help of the command that failed, not forage's", () => {
  const r = forage('census', 'export', fileURLToPath(new URL('.', import.meta.url)));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /'--format <format>' not specified \(see forage census export --help\)/);
  assert.match(forage('census', '--no-such-flag').stderr, /\(see forage census --help\)$/m);
});

test('the command npm links is a launcher outside dist/, so npm ci can link it before a build', () => {
  const launcher = pkg.bin.forage as string;
  assert.doesNotMatch(launcher, /dist\//, 'npm links no command whose file is not there yet');
  const r = spawnSync(
    process.execPath,
    [fileURLToPath(new URL(`../${launcher}`, import.meta.url)), '--version'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('a reader that closes the pipe early (forage ... | head) ends the output quietly', async () => {
  const child = spawn(process.execPath, [bin, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Closed before the first write: every write the command makes fails with EPIPE.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = await once(child, 'exit');
  assert.equal(stderr, '', 'no stack trace');
  assert.equal(code, 0);
});

test('command failures exit 1 as one line; usage errors exit 2; --debug adds the stack', async (t) => {
  commands.push((program) => {
    program.command('explode').action(() => {
      throw new Error('the widget broke\nsecond line');
    });
    program
      .command('misuse')
      .option('--size <n>')
      .action(() => {
        throw new UsageError('--size must be small|medium|large, got "huge"');
      });
  });
  t.after(() => commands.pop());
  const writes: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    writes.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    assert.equal(await main(['node', 'forage', 'explode']), 1);
    assert.deepEqual(writes, ['forage: error: the widget broke second line\n']);
    writes.length = 0;
    assert.equal(await main(['node', 'forage', 'misuse', '--size', 'huge']), 2);
    assert.equal(writes.length, 1);
    writes.length = 0;
    assert.equal(await main(['node', 'forage', '--debug', 'explode']), 1);
    assert.equal(writes.length, 2);
    assert.match(writes[1]!, /at .*test/);
    // Options are positional (census export's --out is its own), but --debug goes anywhere.
    writes.length = 0;
    assert.equal(await main(['node', 'forage', 'misuse', '--size', 'huge', '--debug']), 2);
    assert.equal(writes.length, 2);
  } finally {
    process.stderr.write = original;
  }
});

test('an API message with escape sequences or the token in it reaches the terminal as neither', async (t) => {
  // Made up for this test; it only lives in this process and the child's environment.
  const token = `fake_${'x'.repeat(24)}cafe`;
  const srv = createServer((req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        message: `Bad credentials \u001b]8;;http://evil.example/\u0007click\u001b]8;;\u0007 \u001b[2J\u009b2J for ${req.headers.authorization}`,
      }),
    );
  });
  const { code, stderr } = await censusAgainst(t, srv, token, ['--debug', '--repos', '5']);
  assert.equal(code, 1, stderr);
  assert.match(stderr, /forage: error: token …cafe was rejected \(401 Bad credentials \?\]8;;/);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point
  assert.doesNotMatch(stderr, /[\u0007\u001b\u009b]/);
  assert.ok(!stderr.includes(token.slice(0, -4)), stderr);
});

test('a notice quoting the API (a token retired among several) cannot drive the terminal', async (t) => {
  // Made up for this test; they only live in this process and the child's environment.
  const rejected = `fake_${'r'.repeat(24)}dead`;
  const good = `fake_${'g'.repeat(24)}beef`;
  const reset = Math.ceil(Date.now() / 1000) + 3600;
  const srv = createServer((req, res) => {
    const rate = { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4000' };
    res.writeHead(req.headers.authorization === `Bearer ${rejected}` ? 401 : 200, {
      'content-type': 'application/json',
      'x-ratelimit-reset': String(reset),
      ...rate,
    });
    if (req.headers.authorization === `Bearer ${rejected}`) {
      res.end(JSON.stringify({ message: `Bad \u001b[2J\u001b]0;owned\u0007 ${rejected}` }));
    } else if (req.url === '/rate_limit') {
      const bucket = { limit: 5000, remaining: 4000, reset };
      res.end(JSON.stringify({ resources: { core: bucket, graphql: bucket } }));
    } else res.end('[]');
  });
  const { code, stderr } = await censusAgainst(t, srv, `${rejected},${good}`, [
    '--via',
    'rest',
    '--no-report',
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /forage census: token 1 of 2 was rejected \(401 Bad \?\[2J\?\]0;owned\?/);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point
  assert.doesNotMatch(stderr, /[\u0007\u001b]/);
  for (const token of [rejected, good]) assert.ok(!stderr.includes(token.slice(0, -4)), stderr);
});

test('a mistyped --option=VALUE is named without its value (it may be a token)', () => {
  // Made up for this test.
  const value = `fake_${'v'.repeat(24)}0000`;
  const r = forage('census', `--tokn=${value}`);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--tokn=…'/);
  assert.ok(!r.stderr.includes(value.slice(5)), r.stderr);
});

test('JSON shown on a terminal (analyze --json) has its C1 controls escaped: the same JSON, nothing that drives it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-cli-json-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A language name as a hostile API could send it: U+009B is the one-byte CSI, which
  // JSON.stringify leaves as it is.
  const name = 'Evil\u009b2J\u009d0;owned\u009c';
  writeFileSync(
    join(dir, 'languages.jsonl'),
    `${JSON.stringify({ id: 1, full_name: 'o/r', status: 'ok', languages: { [name]: 10, Go: 5 } })}\n`,
  );
  const run = async (isTTY: boolean): Promise<string> => {
    const writes: string[] = [];
    const write = process.stdout.write;
    const tty = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    Object.defineProperty(process.stdout, 'isTTY', { value: isTTY, configurable: true });
    // The test runner reports through stdout too, in binary: only the command's text is kept.
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      if (typeof chunk === 'string') writes.push(chunk);
      else return write.call(process.stdout, chunk, ...rest);
      return true;
    }) as typeof process.stdout.write;
    try {
      const out = join(dir, `report-${isTTY}`);
      const args = ['node', 'forage', 'analyze', dir, '--json', '--out', out];
      assert.equal(await main([...args, '--input-format', 'census']), 0);
    } finally {
      process.stdout.write = write;
      if (tty) Object.defineProperty(process.stdout, 'isTTY', tty);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
    return writes.join('');
  };
  const shown = await run(true);
  assert.doesNotMatch(shown, /[\u0080-\u009f]/);
  const summary = JSON.parse(shown) as { languages: { name: string }[] };
  assert.ok(
    summary.languages.some((l) => l.name === name),
    'the name reads back as it was',
  );
  assert.ok((await run(false)).includes(name), 'into a pipe, JSON.stringify as before');
});

/**
 * Runs `forage census` (with `flags`, and --debug first if given) against `srv`, started here on
 * loopback, with `githubToken` in GITHUB_TOKEN and a temporary --out; its exit code and stderr.
 */
async function censusAgainst(
  t: { after: (fn: () => void) => void },
  srv: ReturnType<typeof createServer>,
  githubToken: string,
  flags: string[],
): Promise<{ code: number | null; stderr: string }> {
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => srv.close());
  const out = mkdtempSync(join(tmpdir(), 'forage-cli-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const api = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  const debug = flags.includes('--debug') ? ['--debug'] : [];
  const rest = flags.filter((f) => f !== '--debug');
  const child = spawn(
    process.execPath,
    [bin, ...debug, 'census', '--api', api, '--out', join(out, 'c'), ...rest],
    { env: { ...process.env, GITHUB_TOKEN: githubToken, GH_TOKEN: '' } },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = await once(child, 'close');
  return { code, stderr };
}
