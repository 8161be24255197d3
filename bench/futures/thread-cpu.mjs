// Where the CPU goes in the `chunked` scenario (map over 2^20 items in chunks of 256, the first
// map in a fresh process): the wall time, the calling thread's CPU time and its time waiting for
// a CPU (run queue), and the CPU of every other thread of the process (pool workers, and V8's
// platform threads, which compile optimised code and help the garbage collector). Read from
// /proc/<pid>/task/<tid>/schedstat, so Linux only.
//
// Rows, each a fresh process, interleaved, medians:
// - floor: a bare `for await` over an async iterator whose next() returns
//   Promise.resolve({ done, value }), 2^20 times, no pool: what yielding each item costs;
// - forage-thread: `for await (const x of ex.map(inc, items, { chunksize: 256 }))`;
// - forage-thread batches: the same map taken with `.batches()`;
// - multithreading: the peer that leads this scenario, 16 chunks of 256 in flight.
//
// Usage: node bench/futures/thread-cpu.mjs [--reps N]
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ITEMS = 1 << 20;

/** CPU time and run-queue wait of each thread of this process, in ms. */
function threadTimes() {
  const out = new Map();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const [cpu, wait] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ');
      out.set(tid, { cpuMs: Number(cpu) / 1e6, waitMs: Number(wait) / 1e6 });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Runs `body` and reports the wall time and the threads' CPU over it. */
async function measure(body) {
  const before = threadTimes();
  const start = performance.now();
  const n = await body();
  const wallMs = performance.now() - start;
  if (n !== ITEMS) throw new Error(`got ${n} items`);
  const after = threadTimes();
  let otherCpuMs = 0;
  let main = { cpuMs: 0, waitMs: 0 };
  for (const [tid, t] of after) {
    const t0 = before.get(tid) ?? { cpuMs: 0, waitMs: 0 };
    const d = { cpuMs: t.cpuMs - t0.cpuMs, waitMs: t.waitMs - t0.waitMs };
    if (tid === String(process.pid)) main = d;
    else otherCpuMs += d.cpuMs;
  }
  return { wallMs, mainCpuMs: main.cpuMs, mainRunQueueMs: main.waitMs, otherCpuMs };
}

async function floor() {
  let i = 0;
  const it = {
    next: () =>
      Promise.resolve(i < ITEMS ? { done: false, value: i++ } : { done: true, value: undefined }),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  let n = 0;
  for await (const _ of it) n += 1;
  return n;
}

async function child(row) {
  if (row === 'floor') return measure(floor);
  const { contenders } = await import('./contenders.mjs');
  const name = row === 'forage-thread batches' ? 'forage-thread' : row;
  const c = await contenders[name]();
  c.create();
  await c.call('inc', 0);
  const items = Array.from({ length: ITEMS }, (_, i) => i);
  const method = row === 'forage-thread batches' ? 'mapBatches' : 'mapChunked';
  const result = await measure(() => c[method](items));
  await c.close();
  return result;
}

const ROWS = ['floor', 'forage-thread', 'forage-thread batches', 'multithreading'];
const here = fileURLToPath(new URL('.', import.meta.url));

if (process.argv[2] === '--child') {
  console.log(JSON.stringify(await child(process.argv[3])));
} else {
  const i = process.argv.indexOf('--reps');
  const reps = i === -1 ? 5 : Number(process.argv[i + 1]);
  const runs = new Map(ROWS.map((row) => [row, []]));
  for (let r = 0; r < reps; r++) {
    for (const row of ROWS) {
      const flags = row === 'multithreading' ? ['--import', `${here}node20-shims.mjs`] : [];
      const p = spawnSync(process.execPath, [...flags, `${here}thread-cpu.mjs`, '--child', row], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (p.status !== 0) throw new Error(`${row}: ${p.stderr.trim().split('\n')[0]}`);
      runs.get(row).push(JSON.parse(p.stdout.trim().split('\n').at(-1)));
    }
  }
  const median = (xs) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cols = ['wallMs', 'mainCpuMs', 'mainRunQueueMs', 'otherCpuMs'];
  console.log(
    `| 2^20 items, first map in a fresh process (medians of ${reps}) | ${cols.join(' | ')} |`,
  );
  console.log(`|---|${cols.map(() => '---:').join('|')}|`);
  for (const [row, rs] of runs) {
    console.log(
      `| ${row} | ${cols.map((c) => median(rs.map((x) => x[c])).toFixed(1)).join(' | ')} |`,
    );
  }
}
