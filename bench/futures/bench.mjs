// @forage/futures against piscina, tinypool, workerpool, multithreading (and CPython for the
// seed workload), 2 workers each. Every measurement is a fresh process; repeats are
// interleaved across contenders; the tables show medians and ratios.
//
// Usage: node bench/futures/bench.mjs [--reps N] [--scenarios tiny,chunked,...] [--contenders a,b]
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};

const ALL_SCENARIOS = [
  'tiny',
  'unbounded',
  'unboundedWait',
  'chunked',
  'chunkedBatches',
  'latency',
  'cold',
  'primes',
];
const ALL_CONTENDERS = [
  'forage-thread',
  'forage-process',
  'piscina',
  'tinypool',
  'tinypool-process',
  'workerpool',
  'workerpool-process',
  'multithreading',
  'sequential',
];
const reps = Number(option('reps', '3'));
const scenarios = option('scenarios', ALL_SCENARIOS.join(',')).split(',');
const only = option('contenders', ALL_CONTENDERS.join(',')).split(',');
const python = option('python', 'python3');

// Which contenders make sense for which scenario.
const skip = {
  unbounded: new Set(['multithreading']), // loses promises past 65,536 in flight (see notes)
  unboundedWait: new Set(ALL_CONTENDERS.filter((c) => !c.startsWith('forage'))),
  chunkedBatches: new Set(ALL_CONTENDERS.filter((c) => !c.startsWith('forage'))),
  latency: new Set(['sequential']),
  cold: new Set(['sequential']),
};

function runNode(contender, scenario) {
  const flags = contender === 'multithreading' ? ['--import', `${here}node20-shims.mjs`] : [];
  const r = spawnSync(process.execPath, [...flags, `${here}run-one.mjs`, contender, scenario], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0)
    return { error: (r.stderr || r.error?.message || 'failed').trim().split('\n')[0] };
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

function runPython(mode) {
  const r = spawnSync(python, [`${here}sum_primes.py`, mode], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0)
    return { error: (r.stderr || r.error?.message || 'failed').trim().split('\n')[0] };
  return JSON.parse(r.stdout.trim());
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)];
};

const results = {}; // scenario -> contender -> [records]
function record(scenario, contender, value) {
  results[scenario][contender] ??= [];
  results[scenario][contender].push(value);
}
console.log(
  `# @forage/futures benchmark: Node ${process.version}, ${cpus().length} CPUs, load average at start ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, ${reps} runs each`,
);
for (const scenario of scenarios) {
  results[scenario] = {};
  const who = only.filter((c) => !skip[scenario]?.has(c));
  for (let rep = 0; rep < reps; rep++) {
    for (const contender of who) {
      record(scenario, contender, runNode(contender, scenario));
    }
    if (scenario === 'primes' && python !== 'none') {
      for (const mode of ['process', 'seq']) record(scenario, `python-${mode}`, runPython(mode));
    }
  }
}

const fmt = (x, digits = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

function table(scenario, metrics, { higherIsBetter, ratioMetric }) {
  const rows = results[scenario];
  if (rows === undefined) return;
  const med = {};
  for (const [contender, records] of Object.entries(rows)) {
    const ok = records.filter((r) => r.error === undefined);
    med[contender] = Object.fromEntries(
      metrics.map(([key]) => [key, median(ok.map((r) => r[key]))]),
    );
    med[contender].peakMb = median(ok.map((r) => r.peakMb));
    med[contender].peakMemKind = ok[0]?.peakMemKind;
    med[contender].errors = records.filter((r) => r.error !== undefined).map((r) => r.error);
    med[contender].n = ok.length;
  }
  const ours = med['forage-thread']?.[ratioMetric];
  console.log(`\n## ${scenario}\n`);
  if (ours === undefined)
    console.log('(forage-thread was not run: no "forage-thread vs it" ratios)\n');
  console.log(
    `| contender | ${metrics.map(([, label]) => label).join(' | ')} | forage-thread vs it | peak MB, process tree | runs |`,
  );
  console.log(`|---|${metrics.map(() => '---:').join('|')}|---:|---:|---:|`);
  for (const [contender, m] of Object.entries(med)) {
    const theirs = m[ratioMetric];
    const ratio = higherIsBetter ? ours / theirs : theirs / ours;
    const cells = metrics.map(([key, , digits]) => fmt(m[key], digits));
    const note = m.errors.length ? ` (failed: ${m.errors[0]})` : '';
    console.log(
      `| ${contender}${note} | ${cells.join(' | ')} | ${Number.isFinite(ratio) ? `${fmt(ratio, 2)}x` : 'n/a'} | ${fmt(m.peakMb)}${m.peakMemKind === 'rss-sum' ? ' (RSS sum)' : ''} | ${m.n} |`,
    );
  }
  return med;
}

table('tiny', [['tasksPerSec', 'tasks/s (200k, 1,024 in flight)']], {
  higherIsBetter: true,
  ratioMetric: 'tasksPerSec',
});
table('unbounded', [['tasksPerSec', 'tasks/s (200k submitted at once)']], {
  higherIsBetter: true,
  ratioMetric: 'tasksPerSec',
});
table('unboundedWait', [['tasksPerSec', 'tasks/s (200k at once, collected with wait())']], {
  higherIsBetter: true,
  ratioMetric: 'tasksPerSec',
});
table('chunked', [['itemsPerSec', 'items/s (map, chunks of 256)']], {
  higherIsBetter: true,
  ratioMetric: 'itemsPerSec',
});
table('chunkedBatches', [['itemsPerSec', 'items/s (map, chunks of 256, taken with batches())']], {
  higherIsBetter: true,
  ratioMetric: 'itemsPerSec',
});
table(
  'latency',
  [
    ['medianUs', 'median (µs)', 1],
    ['p99Us', 'p99 (µs)', 0],
  ],
  { higherIsBetter: false, ratioMetric: 'medianUs' },
);
table('cold', [['coldMs', 'create to first result (ms)', 1]], {
  higherIsBetter: false,
  ratioMetric: 'coldMs',
});
const primes = table(
  'primes',
  [
    ['coldMs', 'cold: create + 16 tasks + close (ms)'],
    ['warmMs', 'warm: 16 tasks, median of 3 rounds (ms)'],
  ],
  {
    higherIsBetter: false,
    ratioMetric: 'warmMs',
  },
);
if (primes?.sequential) {
  console.log('\nWarm speedup over sequential JS (same run):');
  for (const c of [
    'forage-thread',
    'forage-process',
    'piscina',
    'tinypool',
    'workerpool',
    'multithreading',
  ]) {
    if (primes[c]) console.log(`- ${c}: ${fmt(primes.sequential.warmMs / primes[c].warmMs, 2)}x`);
  }
  const py = primes['python-process'];
  if (py) {
    console.log(
      `- python ProcessPoolExecutor: ${fmt((primes['python-seq']?.warmMs ?? Number.NaN) / py.warmMs, 2)}x over python sequential`,
    );
    // Either forage contender may have been left out with --contenders.
    for (const c of ['forage-thread', 'forage-process']) {
      if (primes[c])
        console.log(
          `- ${c} vs python ProcessPoolExecutor (warm): ${fmt(py.warmMs / primes[c].warmMs, 1)}x faster`,
        );
    }
  }
}
console.log(
  `\nLoad average at end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (the machine is shared; see bench/RESULTS.md).`,
);
