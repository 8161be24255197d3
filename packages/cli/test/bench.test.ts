import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chartSvg, explain, formatTable } from '../dist/bench/report.js';
import {
  type BenchResult,
  defaultWorkers,
  type ModeResult,
  parallelism,
  repeatsLimit,
  runBench,
  type WorkloadResult,
  workersLimit,
} from '../dist/bench/run.js';
import { sumPrimes } from '../dist/bench/tasks.js';
import { sizes } from '../dist/bench/workloads.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

function mode(name: ModeResult['mode'], speedup: number, peakMb = 50): ModeResult {
  return {
    mode: name,
    wallMs: 100 / speedup,
    coldMs: 200 / speedup,
    cpuMs: 100,
    peakRssBytes: peakMb * 1_048_576,
    speedup,
    efficiency: speedup / 2,
    runs: [],
  };
}

function result(workloads: WorkloadResult[], cores = 2): BenchResult {
  return { size: 'small', cores, node: 'v20.0.0', python: null, workloads };
}

test('the medium size is the blog seed workload, with its known checksum', () => {
  const total = sizes.medium.primes.reduce((sum, n) => sum + sumPrimes(n), 0);
  assert.equal(sizes.medium.primes.length, 16);
  assert.equal(total, 46_974_496_440);
});

test('CPU sentences name the winner, the async verdict and the GIL', () => {
  const cpu: WorkloadResult = {
    workload: 'cpu',
    workers: 2,
    tasks: 16,
    failures: [],
    modes: [
      mode('sequential', 1),
      mode('async', 1.01),
      mode('threads', 1.7),
      mode('processes', 1.9),
      mode('python-sequential', 1),
      mode('python-threads', 0.98),
      mode('python-processes', 1.8),
    ],
  };
  const text = explain(result([cpu])).join('\n');
  assert.match(text, /processes were fastest at 1\.90x/);
  assert.match(text, /threads 1\.70x/);
  assert.match(text, /async executor was 1\.01x: no faster than sequential/);
  assert.match(text, /Python threads reached 0\.98x on CPU work: the GIL/);
  assert.match(text, /threads 118 ms cold against 59 ms warm, processes 105 ms cold/);
  assert.doesNotMatch(text, /cores ran out/);
  assert.doesNotMatch(text, /too small/);
});

test('CPU sentences say when the cores ran out and when the work was too small', () => {
  const cpu: WorkloadResult = {
    workload: 'cpu',
    workers: 8,
    tasks: 16,
    failures: [],
    modes: [mode('sequential', 1), mode('threads', 1.1), mode('processes', 1.05)],
  };
  const text = explain(result([cpu])).join('\n');
  assert.match(text, /threads were fastest/);
  assert.match(text, /8 workers share 2 cores/);
  // The speedup is the warm pass's: start-up is not what held it back.
  assert.match(
    text,
    /Neither got close to 2x on the warm pass: each task took about 6\.3 ms sequentially/,
  );
  assert.doesNotMatch(text, /starting the workers \(|pay for starting/);
});

test('CPU sentences do not call a pool slower than sequential the winner', () => {
  const cpu: WorkloadResult = {
    workload: 'cpu',
    workers: 2,
    tasks: 8,
    failures: [],
    modes: [mode('sequential', 1), mode('threads', 0.4), mode('processes', 0.1)],
  };
  const text = explain(result([cpu])).join('\n');
  assert.match(
    text,
    /neither pool beat sequential on the warm pass, with the workers already started \(threads 0\.40x, processes 0\.10x\): each task took about 13 ms sequentially, too little work to pay for handing each task to a worker/,
  );
  assert.doesNotMatch(text, /pay for starting/);
  assert.doesNotMatch(text, /fastest/);
});

test('efficiency is measured against the parallelism the tasks allow, not idle workers or cores', () => {
  // 32 GETs on 64 workers: at most 32 wait at once. 8 sums on 32 cores: at most 8 cores work.
  assert.equal(parallelism('io', 'async', 64, 2, 32), 32);
  assert.equal(parallelism('io', 'threads', 6, 2, 32), 6);
  assert.equal(parallelism('cpu', 'threads', 32, 32, 8), 8);
  assert.equal(parallelism('cpu', 'processes', 8, 2, 16), 2);
  assert.equal(parallelism('cpu', 'async', 8, 2, 16), 1);
  assert.equal(parallelism('io', 'python-sequential', 8, 2, 16), 1);
  const cpu: WorkloadResult = {
    workload: 'cpu',
    workers: 32,
    tasks: 8,
    failures: [],
    modes: [mode('sequential', 1), mode('threads', 7), mode('processes', 6.5)],
  };
  const text = explain(result([cpu], 32)).join('\n');
  assert.match(text, /of 8 usable cores/);
  assert.doesNotMatch(text, /Neither got close/);
});

test('the JavaScript-versus-Python sentence names whichever was faster, with a decimal when close', () => {
  const cpu = (python: number): WorkloadResult => ({
    workload: 'cpu',
    workers: 2,
    tasks: 16,
    failures: [],
    modes: [
      { ...mode('sequential', 1), wallMs: 100 },
      { ...mode('python-sequential', 1), wallMs: python },
    ],
  });
  const last = (python: number) => explain(result([cpu(python)])).at(-1);
  assert.equal(
    last(4000),
    'Sequential JavaScript was 40x faster than sequential Python on the same numbers.',
  );
  assert.equal(
    last(140),
    'Sequential JavaScript was 1.4x faster than sequential Python on the same numbers.',
  );
  assert.equal(
    last(50),
    'Sequential Python was 2.0x faster than sequential JavaScript on the same numbers.',
  );
});

test('I/O sentences compare every mode with sequential and the memory cost', () => {
  const io: WorkloadResult = {
    workload: 'io',
    workers: 6,
    tasks: 32,
    failures: [],
    modes: [
      mode('sequential', 1, 40),
      mode('async', 5.8, 45),
      mode('threads', 5.5, 80),
      mode('processes', 5.1, 200),
    ],
  };
  const lines = explain(result([io]));
  assert.match(lines[0]!, /async 5\.80x, threads 5\.50x, processes 5\.10x .*; async won/);
  assert.match(lines[1]!, /45 MB at peak against 200 MB for processes/);
  const table = formatTable(io, 2);
  assert.equal(table.split('\n').length, 2 + 4);
  assert.match(table, /processes\s+19\.6\s+39\.2\s+5\.10x\s+255%\s+100\s+200/);
  assert.match(chartSvg(result([io])), /^<svg[^>]*>[\s\S]*5\.80x[\s\S]*<\/svg>\n$/);
});

test('forage bench --json runs every mode on both workloads and writes a chart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-bench-'));
  try {
    const chart = join(dir, 'speedup.svg');
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'bench',
        'all',
        '--size',
        'small',
        '--workers',
        '2',
        '--repeats',
        '1',
        '--json',
        '--chart',
        chart,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as BenchResult & { sentences: string[] };
    assert.deepEqual(
      out.workloads.map((w) => w.workload),
      ['cpu', 'io'],
    );
    for (const w of out.workloads) {
      assert.deepEqual(
        w.modes.map((m) => m.mode),
        ['sequential', 'async', 'threads', 'processes'],
      );
      const checksums = new Set(w.modes.map((m) => m.runs[0]!.checksum));
      assert.equal(checksums.size, 1, `${w.workload}: every mode computes the same result`);
      for (const m of w.modes) {
        assert.ok(m.wallMs > 0 && m.coldMs > 0 && m.cpuMs > 0, `${w.workload}/${m.mode} timings`);
        assert.ok(m.peakRssBytes > 10_000_000, `${w.workload}/${m.mode} memory was sampled`);
      }
    }
    assert.ok(out.sentences.length >= 2);
    assert.match(readFileSync(chart, 'utf8'), /<svg[\s\S]*sequential/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('forage bench rejects a bad workload or size with exit code 2', () => {
  for (const args of [
    ['bench', 'gpu'],
    ['bench', '--size', 'huge'],
    ['bench', '--workers', '0'],
  ]) {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test('the workers limit is 8 per core, never below 32, and always admits the defaults', () => {
  assert.equal(workersLimit(1), 32);
  assert.equal(workersLimit(2), 32);
  assert.equal(workersLimit(4), 32);
  assert.equal(workersLimit(16), 128);
  for (const cores of [1, 2, 3, 8, 28, 64]) {
    for (const w of ['cpu', 'io'] as const) {
      assert.ok(defaultWorkers(w, cores) <= workersLimit(cores), `${w} on ${cores} cores`);
    }
  }
});

test('forage bench rejects --workers and --repeats that are zero, negative, fractional, not decimal or above the limit, exit 2', () => {
  const limit = workersLimit(availableParallelism());
  // A --chart in a directory that does not exist: a value wrongly accepted still exits 2 (on
  // the chart) instead of starting a benchmark, and the message check below then fails.
  const chart = join(tmpdir(), 'forage-bench-no-such-dir', 'x.svg');
  const bench = (...args: string[]) =>
    spawnSync(process.execPath, [bin, 'bench', ...args, '--chart', chart], { encoding: 'utf8' });
  const malformed: [string, string, number][] = [];
  for (const [flag, max] of [
    ['--workers', limit],
    ['--repeats', repeatsLimit],
  ] as const) {
    for (const value of ['0', '-1', '2.5', '1.0', '0x10', '1e1', '', 'many']) {
      malformed.push([flag, value, max]);
    }
  }
  for (const [flag, value, max] of malformed) {
    const r = bench(flag, value);
    assert.equal(r.status, 2, `${flag} "${value}"`);
    assert.equal(
      r.stderr.trim(),
      `forage: error: ${flag} must be a whole number from 1 to ${max}, got "${value}"`,
    );
  }
  const above: [string, string, number][] = [
    ['--workers', String(limit + 1), limit],
    ['--workers', '1000', limit],
    ['--workers', '99999999999999999999', limit],
    ['--repeats', String(repeatsLimit + 1), repeatsLimit],
    ['--repeats', '1024', repeatsLimit],
  ];
  for (const [flag, value, max] of above) {
    const r = bench(flag, value);
    assert.equal(r.status, 2, `${flag} ${value}`);
    const message = r.stderr.trim();
    assert.equal(message.split('\n').length, 1);
    assert.ok(
      message.startsWith(`forage: error: ${flag} ${value} is above the limit of ${max} (`),
      message,
    );
    assert.ok(message.endsWith(`; pass ${flag} ${max} or less`), message);
  }
  assert.match(bench('--workers', '1000').stderr, /per core.*-core machine/);
  // The limits themselves are accepted: the command gets as far as the --chart check.
  for (const args of [
    ['--workers', String(limit)],
    ['--repeats', String(repeatsLimit)],
    ['--workers', '1', '--repeats', '1'],
  ]) {
    const r = bench(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^forage: error: --chart /, args.join(' '));
  }
});

test('forage bench --chart: an unusable path exits 2 before running; a late failure keeps the results', () => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-bench-'));
  try {
    const file = join(dir, 'afile');
    writeFileSync(file, '');
    for (const [chart, pattern] of [
      [join(dir, 'nodir', 'x.svg'), /--chart .*nodir does not exist; create the directory/],
      [join(file, 'x.svg'), /--chart .*afile is not a directory/],
      [dir.concat('.svg'), null],
    ] as const) {
      if (pattern === null) mkdirSync(chart);
      const r = spawnSync(process.execPath, [bin, 'bench', 'io', '--chart', chart], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '', 'nothing was run');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern ?? /--chart .* is a directory/);
      if (pattern === null) rmSync(chart, { recursive: true });
    }
    // Passes the checks (its directory is writable) but cannot be written: a dangling link.
    const dangling = join(dir, 'late.svg');
    symlinkSync(join(dir, 'gone', 'late.svg'), dangling);
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'bench',
        'io',
        '--size',
        'small',
        '--workers',
        '2',
        '--repeats',
        '1',
        '--chart',
        dangling,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /sequential/, 'the results were printed');
    assert.match(r.stderr, /cannot write --chart .*late\.svg .*the results are above/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a mode that fails is reported by name after the results of the others, which are kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-bench-'));
  try {
    // A python3 whose process pool cannot start (no /dev/shm in a container), whose threads
    // print half a result, and whose sequential run answers with the right checksum.
    const checksum = sizes.small.primes.reduce((sum, n) => sum + sumPrimes(n), 0);
    const python = join(dir, 'python3');
    writeFileSync(
      python,
      `#!/bin/sh
case "$1 $2" in
  --version*) echo 'Python 3.99.0' ;;
  *'"mode":"processes"'*)
    printf 'Traceback (most recent call last):\\n  File "x.py", line 1\\nOSError: [Errno 38] Function not implemented\\n' >&2
    exit 1 ;;
  *'"mode":"threads"'*) echo '{"wallMs": 1' ;;
  *) echo '{"wallMs":50,"coldMs":50,"cpuMs":50,"checksum":${checksum}}' ;;
esac
`,
    );
    chmodSync(python, 0o755);
    const r = spawnSync(
      process.execPath,
      [bin, 'bench', 'cpu', '--size', 'small', '--workers', '2', '--repeats', '1', '--python'],
      {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
      },
    );
    assert.equal(r.status, 1, r.stderr);
    for (const mode of ['sequential', 'async', 'threads', 'processes', 'python-sequential']) {
      assert.match(r.stdout, new RegExp(`^${mode} +[\\d.]+ +[\\d.]+ +[\\d.]+x`, 'm'), mode);
    }
    assert.match(r.stdout, /^python-threads +failed$/m);
    assert.match(r.stdout, /^python-processes +failed$/m);
    assert.match(r.stdout, /Python 3\.99\.0/);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0]!,
      /^forage: error: 2 mode\(s\) left out of the results above: python-threads on cpu work printed no result .*; python-processes on cpu work failed \(exit code 1\): OSError: \[Errno 38\] Function not implemented$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The pids under `pid`, from /proc (Linux). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0 && out.length < 1000) {
    const next = stack.pop()!;
    let children: number[] = [];
    try {
      for (const tid of readdirSync(`/proc/${next}/task`)) {
        const text = readFileSync(`/proc/${next}/task/${tid}/children`, 'utf8').trim();
        if (text) children = children.concat(text.split(' ').map(Number));
      }
    } catch {
      // Gone meanwhile.
    }
    out.push(...children);
    stack.push(...children);
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('Ctrl-C sent to forage bench alone stops the run in progress and its worker processes, exit 130', {
  skip: process.platform !== 'linux' && 'reads /proc',
}, async () => {
  const child = spawn(
    process.execPath,
    [bin, 'bench', 'cpu', '--size', 'large', '--workers', '2', '--repeats', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    // Wait (at most 60 s) for the process pool's run: forage -> run -> pool workers.
    let tree: number[] = [];
    for (let i = 0; i < 3000 && tree.length < 3; i++) {
      await sleep(20);
      tree = descendants(child.pid!);
    }
    assert.ok(tree.length >= 3, `a run with its pool workers started: ${tree.join(' ')}`);
    child.kill('SIGINT');
    assert.equal(await closed, 130, stderr);
    assert.match(stderr, /^forage bench: stopped \(SIGINT\) before the results$/m);
    for (let i = 0; i < 250 && tree.some(alive); i++) await sleep(20);
    assert.deepEqual(tree.filter(alive), [], 'no process of the run is left');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test('a run that hangs is killed at its deadline and reported as failed; the others are kept', {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-bench-'));
  const pidFile = join(dir, 'hung.pid');
  const path = process.env.PATH;
  try {
    // A python3 whose thread pool never comes back (it writes its pid, then sleeps).
    const checksum = sizes.small.primes.reduce((sum, n) => sum + sumPrimes(n), 0);
    writeFileSync(
      join(dir, 'python3'),
      `#!/bin/sh
case "$1 $2" in
  --version*) echo 'Python 3.99.0' ;;
  *'"mode":"threads"'*) echo $$ > '${pidFile}'; exec sleep 600 ;;
  *) echo '{"wallMs":50,"coldMs":50,"cpuMs":50,"checksum":${checksum}}' ;;
esac
`,
    );
    chmodSync(join(dir, 'python3'), 0o755);
    process.env.PATH = `${dir}:${path}`;
    const result = await runBench({
      workloads: ['cpu'],
      size: 'small',
      workers: 2,
      repeats: 1,
      python: true,
      runTimeoutMs: 5_000,
    });
    const [cpu] = result.workloads;
    assert.deepEqual(cpu!.failures, [
      { mode: 'python-threads', error: 'did not finish within 5 s' },
    ]);
    assert.deepEqual(
      cpu!.modes.map((m) => m.mode),
      ['sequential', 'async', 'threads', 'processes', 'python-sequential', 'python-processes'],
    );
    const hung = Number(readFileSync(pidFile, 'utf8'));
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      try {
        process.kill(hung, 0);
        await sleep(20);
      } catch {
        gone = true;
      }
    }
    assert.ok(gone, 'the hung run was killed');
  } finally {
    process.env.PATH = path;
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // Killed already, or never started.
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
