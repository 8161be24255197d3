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

/**
 * Prints the cases with each peer's ratio against its like-for-like forage case (`against`: a
 * peer bounded at 64 entries against forage's LRU at 64, an unbounded one against the unbounded
 * cache()). The headline compares the fastest peer with its like; every other forage case gets
 * a line of its own against that peer.
 */
function report(
  title: string,
  results: Map<string, number>,
  against: Record<string, string>,
  baseline: string,
): void {
  const base = results.get(baseline) as number;
  console.log(`\n${title}`);
  console.log(
    `${'case'.padEnd(40)} ${'ns/call'.padStart(9)} ${'overhead'.padStart(9)} ${'peer/forage'.padStart(12)}  against`,
  );
  for (const [name, ns] of results) {
    const overhead = name === baseline ? '' : (ns - base).toFixed(1);
    const ours = against[name];
    const ratio = ours === undefined ? '' : `${(ns / (results.get(ours) as number)).toFixed(2)}x`;
    console.log(
      `${name.padEnd(40)} ${ns.toFixed(1).padStart(9)} ${overhead.padStart(9)} ${ratio.padStart(12)}  ${ours ?? ''}`,
    );
  }
  const peers = [...results].filter(([name]) => against[name] !== undefined);
  const [peer, peerNs] = peers.reduce((a, b) => (b[1] < a[1] ? b : a));
  const like = against[peer] as string;
  console.log(
    `fastest peer: ${peer}; ${like} (like for like) is ${(peerNs / (results.get(like) as number)).toFixed(2)}x its speed`,
  );
  for (const [name, ns] of results)
    if (name.startsWith('forage') && name !== like)
      console.log(`  separately: ${name} is ${(peerNs / ns).toFixed(2)}x ${peer}'s speed`);
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
  { 'moize({ maxSize: 64 })': 'forage cache({ maxSize: 64 }) LRU' },
  'direct call (baseline)',
);

// --- cache hit, async ------------------------------------------------------------------------
const fetchSquare = async (n: number) => n * n;
const forageAsync = cache()(fetchSquare);
const forageAsyncLru = cache({ maxSize: 64 })(fetchSquare);
const pMemoized = pMemoize(fetchSquare);
const moizeAsync = moize(fetchSquare, { isPromise: true, maxSize: 64 }); // bounded, like moizeSync
for (let k = 0; k < KEYS; k++) {
  await forageAsync(k);
  await forageAsyncLru(k);
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
  { name: 'forage cache({ maxSize: 64 }) LRU', run: asyncLoop(forageAsyncLru) },
  { name: 'p-memoize', run: asyncLoop(pMemoized) },
  { name: 'moize({ isPromise: true })', run: asyncLoop(moizeAsync) },
]);
report(
  `cache hit, async, 1 numeric argument, ${KEYS} keys`,
  asyncResults,
  {
    'p-memoize': 'forage cache()', // p-memoize's default cache is an unbounded Map
    'moize({ isPromise: true })': 'forage cache({ maxSize: 64 }) LRU',
  },
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
  { 'p-retry makeRetriable': 'forage retry()', 'cockatiel retry policy': 'forage retry()' },
  'direct await (baseline)',
);
console.log(`\n${ROUNDS} rounds x ${CALLS} calls per case; Node ${process.version}`);
