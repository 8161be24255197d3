// Benchmark: forage's census aggregation against DuckDB and the 2016 study's Python script,
// on the study's file repeated 30 times (3,000,000 lines, about 100 MB), plus the time from a
// 100,000-line input to a finished report. Each contender runs in its own process (so peak
// RSS is its own), several times; medians and ratios are printed.
//
//   npm run --workspace bench analyze            (after npm run build)
//   BENCH_RUNS=5 BENCH_COPIES=30 npm run --workspace bench analyze
//   FORAGE_SHARED_DATA=/path/to/data npm run --workspace bench analyze   (where github-2016/ is)
//   BENCH_ONLY=forage,duckdb npm run --workspace bench analyze   (a subset, while iterating:
//     forage, forage1 (one thread), duckdb, python, report)
import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
// The workplace's shared data, found as scripts/run-tests.mjs finds it: FORAGE_SHARED_DATA when
// set, else ../shared/data beside the repository, else /work/shared/data.
function sharedData(): string {
  const fromEnv = process.env.FORAGE_SHARED_DATA;
  if (fromEnv) return fromEnv;
  const found = [join(root, '..', 'shared', 'data'), '/work/shared/data'].find((dir) =>
    existsSync(join(dir, 'github-2016')),
  );
  if (found) return found;
  throw new Error(
    'shared data not found (../shared/data beside the repository or /work/shared/data): set FORAGE_SHARED_DATA to the directory holding github-2016/',
  );
}
const STUDY = join(sharedData(), 'github-2016', 'lang_data.jsonl');
const COPIES = Number(process.env.BENCH_COPIES ?? 30);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ALL = ['forage', 'forage1', 'duckdb', 'python', 'report'];
const ONLY = new Set(process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : ALL);
for (const name of ONLY)
  if (!ALL.includes(name)) throw new Error(`BENCH_ONLY: unknown ${name}; choose from ${ALL}`);
const out = join(here, 'out');
const big = join(out, `lang_data_x${COPIES}.jsonl`);

interface Run {
  ms: number;
  /** CPU time of the timed work (all threads), a steadier figure on a shared machine. */
  cpuMs: number;
  maxRssMb: number;
  top?: { totalSize: [string, number][]; reposAppearedIn: [string, number][] };
}

async function ensureInput(): Promise<void> {
  const want = statSync(STUDY).size * COPIES;
  if (existsSync(big) && statSync(big).size === want) return;
  mkdirSync(out, { recursive: true });
  const sink = createWriteStream(big);
  for (let i = 0; i < COPIES; i++)
    await pipeline(createReadStream(STUDY), sink, { end: i === COPIES - 1 });
}

function child(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, {
    cwd: here,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Run;
}

const node = (script: string, ...args: string[]) =>
  child(process.execPath, [join(here, script), ...args]);

const PY = `
import json, resource, sys, time
sys.path.insert(0, ${JSON.stringify(here)})
import study_analysis
start, cpu0 = time.perf_counter(), time.process_time()
figs = study_analysis.figures(sys.argv[1], 10)
ms = (time.perf_counter() - start) * 1000
cpu = (time.process_time() - cpu0) * 1000
# The answers, for the check against the other contenders: bytes (GB x 2^30 is exact) and counts.
top = {"totalSize": [[l, round(gb * 1024 ** 3)] for l, gb in figs["totalSize"]], "reposAppearedIn": figs["reposAppearedIn"]}
print(json.dumps({"ms": ms, "cpuMs": cpu, "maxRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "top": top}))
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

interface Measured {
  name: string;
  ms: number;
  cpu: number;
  rss: number;
  runs: Run[];
}

/** Runs a contender RUNS times; prints nothing (the answers are checked first, see below). */
function measure(name: string, run: () => Run): Measured {
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(run());
  const ms = median(runs.map((r) => r.ms));
  const cpu = median(runs.map((r) => r.cpuMs));
  const rss = Math.max(...runs.map((r) => r.maxRssMb));
  return { name, ms, cpu, rss, runs };
}

function print(m: Measured): void {
  console.log(
    `  ${m.name.padEnd(34)} ${m.ms.toFixed(0).padStart(7)} ms (runs: ${m.runs.map((r) => r.ms.toFixed(0)).join(', ')})  peak RSS ${m.rss.toFixed(0)} MB`,
  );
  console.log(`  ${''.padEnd(34)} CPU ${m.cpu.toFixed(0)} ms (median, all threads)`);
}

await ensureInput();
const cores = availableParallelism();
console.log(
  `analyze benchmark: ${big} (${(statSync(big).size / 1e6).toFixed(1)} MB, ${COPIES * 100_000} lines), ${RUNS} runs each, ${cores} cores, Node ${process.version}`,
);
const forage = ONLY.has('forage')
  ? measure(`forage analyze (${cores} threads)`, () => node('child-forage.mjs', big, String(cores)))
  : null;
const forage1 = ONLY.has('forage1')
  ? measure('forage analyze (1 thread)', () => node('child-forage.mjs', big, '1'))
  : null;
const duck = ONLY.has('duckdb')
  ? measure('DuckDB read_json_objects', () => node('child-duckdb.mjs', big))
  : null;
const python = ONLY.has('python') && spawnSync('python3', ['--version']).status === 0;
const py = python
  ? measure('study script (Python, json)', () => child('python3', ['-c', PY, big]))
  : null;

// The same answers before any figure is printed: every run of every contender (forage, DuckDB,
// the Python script) must give the same top 10 by bytes and by repositories as the first.
const measured = [forage, forage1, duck, py].filter((m) => m !== null);
const reference = measured[0] && JSON.stringify(measured[0].runs[0]!.top);
for (const m of measured)
  m.runs.forEach((r, i) => {
    const answer = JSON.stringify(r.top);
    if (r.top === undefined || answer !== reference)
      throw new Error(
        `the contenders disagree: ${m.name}, run ${i + 1}, answered\n${answer}\nbut ${measured[0]!.name}, run 1, answered\n${reference}`,
      );
  });
if (measured.length > 0)
  console.log(
    `answers checked: the top 10 by bytes and by repositories are the same in every run of ${measured.map((m) => m.name).join(', ')}`,
  );
for (const m of measured) print(m);

// 100,000 repositories, from input to a finished report (summary, HTML, 7 charts as SVG + PNG),
// as a user runs it: the CLI in a fresh process, module loading included.
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const reportRuns: number[] = [];
for (let i = 0; ONLY.has('report') && i < RUNS; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'forage-bench-report-'));
  const start = performance.now();
  const r = spawnSync(
    process.execPath,
    [bin, 'analyze', '--input-format', 'blog', STUDY, '--out', dir],
    { encoding: 'utf8' },
  );
  reportRuns.push(performance.now() - start);
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`forage analyze failed: ${r.stderr}`);
}

console.log('\nratios (higher = forage faster):');
if (forage && duck)
  console.log(`  DuckDB / forage:          ${(duck.ms / forage.ms).toFixed(2)}x   (target >= 2x)`);
if (forage && py)
  console.log(`  Python script / forage:   ${(py.ms / forage.ms).toFixed(2)}x   (target >= 5x)`);
if (forage && (duck || py))
  console.log(
    '  CPU time, ' +
      [
        duck && `DuckDB / forage: ${(duck.cpu / forage.cpu).toFixed(2)}x`,
        py && `Python / forage: ${(py.cpu / forage.cpu).toFixed(2)}x`,
      ]
        .filter(Boolean)
        .join(';  '),
  );
if (forage && forage1)
  console.log(`  1 thread / ${cores} threads:       ${(forage1.ms / forage.ms).toFixed(2)}x`);
if (forage)
  console.log(`  forage peak RSS:          ${forage.rss.toFixed(0)} MB   (target < 150 MB)`);
if (reportRuns.length)
  console.log(
    `  100,000 lines -> report:  ${median(reportRuns).toFixed(0)} ms wall, CLI process included (runs: ${reportRuns.map((x) => x.toFixed(0)).join(', ')}; target < 2,000 ms)`,
  );
if (ONLY.has('python') && !python)
  console.log('  python3 not found: the study script was not measured');
