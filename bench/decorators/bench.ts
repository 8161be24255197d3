/**
 * Call overhead of @forage/decorators against its peers, in one run:
 *   - a cache hit: sync against moize, async against p-memoize and moize({ isPromise });
 *   - retry on the success path: against p-retry (makeRetriable) and cockatiel's retry policy.
 * Each case runs in interleaved rounds; the median ns per call is reported with the ratio
 * peer / forage (above 1 means forage is faster). Usage: npm run --workspace bench decorators
 * [-- --rounds 15 --calls 200000]
 */
import { cache, retry, stopAfterAttempt } from '@forage/decorators';
import { retry as cockatielRetry, ExponentialBackoff, handleAll } from 'cockatiel';
import moizeModule from 'moize';
import pMemoize from 'p-memoize';
import { makeRetriable } from 'p-retry';

// moize is CommonJS whose types declare `export default`; under NodeNext that is `.default`,
// which moize also sets at run time.
const moize = moizeModule.default;

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
  return value;
}

const ROUNDS = option('rounds', 15);
const CALLS = option('calls', 200_000);
/** Keys cycled through on cache hits, so lookups are not all for the same most-recent key. */
const KEYS = 16;

type Case = { name: string; run: (calls: number) => number | Promise<number> };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Runs every case once per round, in rotating order, and returns the median ns per call. */
async function measure(cases: Case[]): Promise<Map<string, number>> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (const c of cases) await c.run(Math.min(CALLS, 20_000)); // warm up the JIT
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + round) % cases.length] as Case;
      const start = process.hrtime.bigint();
      const sink = await c.run(CALLS);
      const ns = Number(process.hrtime.bigint() - start) / CALLS;
      if (!Number.isFinite(sink)) throw new Error(`${c.name} returned ${sink}`);
      samples.get(c.name)?.push(ns);
    }
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

function report(title: string, results: Map<string, number>, ours: string, baseline: string): void {
  const forage = results.get(ours) as number;
  const base = results.get(baseline) as number;
  console.log(`\n${title}`);
  console.log(
    `${'case'.padEnd(40)} ${'ns/call'.padStart(9)} ${'overhead'.padStart(9)} ${'peer/forage'.padStart(12)}`,
  );
  for (const [name, ns] of results) {
    const overhead = name === baseline ? '' : (ns - base).toFixed(1);
    const ratio =
      name === baseline || name.startsWith('forage') ? '' : `${(ns / forage).toFixed(2)}x`;
    console.log(
      `${name.padEnd(40)} ${ns.toFixed(1).padStart(9)} ${overhead.padStart(9)} ${ratio.padStart(12)}`,
    );
  }
  const peers = [...results].filter(([name]) => !name.startsWith('forage') && name !== baseline);
  const fastest = peers.reduce((a, b) => (b[1] < a[1] ? b : a));
  console.log(
    `fastest peer: ${fastest[0]}; forage is ${(fastest[1] / forage).toFixed(2)}x its speed`,
  );
}

// --- cache hit, sync -------------------------------------------------------------------------
const square = (n: number) => n * n;
const forageSync = cache()(square);
const forageLru = cache({ maxSize: 64 })(square);
const moizeSync = moize(square, { maxSize: 64 });
for (let k = 0; k < KEYS; k++) {
  forageSync(k);
  forageLru(k);
  moizeSync(k);
}
const syncLoop =
  (fn: (n: number) => number): Case['run'] =>
  (calls) => {
    let sum = 0;
    for (let i = 0; i < calls; i++) sum += fn(i & (KEYS - 1));
    return sum;
  };
const syncResults = await measure([
  { name: 'direct call (baseline)', run: syncLoop(square) },
  { name: 'forage cache()', run: syncLoop(forageSync) },
  { name: 'forage cache({ maxSize: 64 }) LRU', run: syncLoop(forageLru) },
  { name: 'moize({ maxSize: 64 })', run: syncLoop(moizeSync) },
]);
report(
  `cache hit, sync, 1 numeric argument, ${KEYS} keys`,
  syncResults,
  'forage cache()',
  'direct call (baseline)',
);

// --- cache hit, async ------------------------------------------------------------------------
const fetchSquare = async (n: number) => n * n;
const forageAsync = cache()(fetchSquare);
const pMemoized = pMemoize(fetchSquare);
const moizeAsync = moize(fetchSquare, { isPromise: true, maxSize: 64 });
for (let k = 0; k < KEYS; k++) {
  await forageAsync(k);
  await pMemoized(k);
  await moizeAsync(k);
}
const asyncLoop =
  (fn: (n: number) => Promise<number>): Case['run'] =>
  async (calls) => {
    let sum = 0;
    for (let i = 0; i < calls; i++) sum += await fn(i & (KEYS - 1));
    return sum;
  };
const asyncResults = await measure([
  { name: 'direct await (baseline)', run: asyncLoop(fetchSquare) },
  { name: 'forage cache()', run: asyncLoop(forageAsync) },
  { name: 'p-memoize', run: asyncLoop(pMemoized) },
  { name: 'moize({ isPromise: true })', run: asyncLoop(moizeAsync) },
]);
report(
  `cache hit, async, 1 numeric argument, ${KEYS} keys`,
  asyncResults,
  'forage cache()',
  'direct await (baseline)',
);

// --- retry, success path ---------------------------------------------------------------------
const work = async (n: number) => n + 1;
const forageRetry = retry({ stop: stopAfterAttempt(3) })(work);
const pRetried = makeRetriable(work, { retries: 2 });
const policy = cockatielRetry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() });
const cockatielRetried = (n: number) => policy.execute(() => work(n));
const retryResults = await measure([
  { name: 'direct await (baseline)', run: asyncLoop(work) },
  { name: 'forage retry()', run: asyncLoop(forageRetry) },
  { name: 'p-retry makeRetriable', run: asyncLoop(pRetried) },
  { name: 'cockatiel retry policy', run: asyncLoop(cockatielRetried) },
]);
report(
  'retry, success on the first attempt',
  retryResults,
  'forage retry()',
  'direct await (baseline)',
);
console.log(`\n${ROUNDS} rounds x ${CALLS} calls per case; Node ${process.version}`);
