// Runs one scenario for one contender in this (fresh) process and prints one JSON line.
// Usage: node run-one.mjs <contender> <scenario>
import { memoryKind, treeMemory } from '../../packages/cli/dist/bench/measure.js';
import { contenders } from './contenders.mjs';

const [name, scenario] = process.argv.slice(2);
const TINY_TASKS = 200_000;
const WINDOW = 1024;
const CHUNKED_ITEMS = 1 << 20;
const PRIMES = Array.from({ length: 16 }, (_, i) => 100_000 + i * 20_000);
const PRIMES_CHECKSUM = 46_974_496_440;

const now = () => performance.now();

// Peak memory of the whole process tree: this process and every descendant (the pool's child
// processes for the process-pool contenders), measured as `forage bench` measures it
// (treeMemory: each process's private memory summed, Node's code counted once; see
// packages/cli/src/bench/measure.ts). process.resourceUsage().maxRSS, used before, is this
// process alone and left the children out. Threads contenders are measured the same way (a
// tree of one process): all are comparable. The sampler runs on a timer in this process, so it
// takes a little of the measured event loop's time: every SAMPLE_MS (kept modest on purpose) it
// reads status and the children lists, ~0.1-0.3 ms for a tree of three processes, about 1 % of
// the run. Being a sample, it can miss a peak shorter than SAMPLE_MS, and it cannot run while
// this thread is busy in synchronous code.
const SAMPLE_MS = 20;
let peakTreeBytes = 0;
function sampleTree() {
  peakTreeBytes = Math.max(peakTreeBytes, treeMemory(process.pid));
}

async function windowed(c, total, window) {
  const ring = new Array(window);
  let sum = 0;
  for (let i = 0; i < total; i++) {
    const slot = i % window;
    if (ring[slot] !== undefined) sum += await ring[slot];
    ring[slot] = c.call('inc', i);
  }
  for (const p of ring) if (p !== undefined) sum += await p;
  return sum;
}

/** Maps the tiny task over CHUNKED_ITEMS items with the contender's `method`; items/s. */
async function mapItems(c, method) {
  c.create();
  await c.call('inc', 0);
  const items = Array.from({ length: CHUNKED_ITEMS }, (_, i) => i);
  const start = now();
  const n = await c[method](items);
  const ms = now() - start;
  if (n !== CHUNKED_ITEMS) throw new Error(`got ${n} items`);
  await c.close();
  return { itemsPerSec: CHUNKED_ITEMS / (ms / 1000) };
}

const scenarios = {
  async tiny(c) {
    c.create();
    await c.call('inc', 0);
    const start = now();
    const cpu = process.cpuUsage();
    const sum = await windowed(c, TINY_TASKS, WINDOW);
    const ms = now() - start;
    const { user, system } = process.cpuUsage(cpu);
    if (sum !== (TINY_TASKS * (TINY_TASKS + 1)) / 2) throw new Error(`bad sum ${sum}`);
    await c.close();
    // CPU of this process (all its threads) per task: less sensitive to a busy machine.
    return { tasksPerSec: TINY_TASKS / (ms / 1000), cpuUsPerTask: (user + system) / TINY_TASKS };
  },
  async unbounded(c) {
    c.create();
    await c.call('inc', 0);
    const start = now();
    const all = new Array(TINY_TASKS);
    for (let i = 0; i < TINY_TASKS; i++) all[i] = c.call('inc', i);
    const values = await Promise.all(all);
    const ms = now() - start;
    if (values.length !== TINY_TASKS || values[TINY_TASKS - 1] !== TINY_TASKS)
      throw new Error('bad');
    await c.close();
    return { tasksPerSec: TINY_TASKS / (ms / 1000) };
  },
  // The same, collected with @forage/futures' own wait() (no promise per task).
  async unboundedWait(c) {
    const { wait } = await import('@forage/futures');
    c.create();
    await c.call('inc', 0);
    const start = now();
    const all = new Array(TINY_TASKS);
    for (let i = 0; i < TINY_TASKS; i++) all[i] = c.call('inc', i);
    const { done } = await wait(all);
    const ms = now() - start;
    if (done.size !== TINY_TASKS || (await all[TINY_TASKS - 1]) !== TINY_TASKS)
      throw new Error('bad');
    await c.close();
    return { tasksPerSec: TINY_TASKS / (ms / 1000) };
  },
  chunked: (c) => mapItems(c, 'mapChunked'),
  chunkedBatches: (c) => mapItems(c, 'mapBatches'),
  async latency(c) {
    c.create();
    for (let i = 0; i < 200; i++) await c.call('inc', i);
    const samples = new Float64Array(2000);
    for (let i = 0; i < samples.length; i++) {
      const t = now();
      await c.call('inc', i);
      samples[i] = (now() - t) * 1000;
    }
    samples.sort();
    await c.close();
    return { medianUs: samples[1000], p99Us: samples[1980] };
  },
  async cold(c) {
    const start = now();
    c.create();
    await c.call('inc', 1);
    const ms = now() - start;
    await c.close();
    return { coldMs: ms };
  },
  async primes(c) {
    const run = async () => {
      const t = now();
      const sums = await Promise.all(PRIMES.map((n) => c.call('sumPrimes', n)));
      const total = sums.reduce((a, b) => a + b, 0);
      if (total !== PRIMES_CHECKSUM) throw new Error(`bad checksum ${total}`);
      return now() - t;
    };
    const start = now();
    c.create();
    await run();
    const coldMs = now() - start;
    // Warm: the median of three rounds in the same pool, after the cold one (one round on a
    // shared machine is at the mercy of whatever else runs in those ~80 ms).
    const warm = [await run(), await run(), await run()].sort((a, b) => a - b);
    await c.close();
    return { coldMs, warmMs: warm[1] };
  },
};

if (!(name in contenders) || !(scenario in scenarios)) {
  console.error(
    `usage: node run-one.mjs <contender> <scenario>\n  contenders: ${Object.keys(contenders).join(', ')}\n  scenarios: ${Object.keys(scenarios).join(', ')}`,
  );
  process.exit(2);
}
const c = await contenders[name]();
sampleTree();
const sampler = setInterval(sampleTree, SAMPLE_MS);
const result = await scenarios[scenario](c);
clearInterval(sampler);
sampleTree();
const { maxRSS } = process.resourceUsage();
console.log(
  JSON.stringify({
    contender: name,
    scenario,
    ...result,
    // Peak of the process tree, sampled (see sampleTree); `peakMemKind` says how it was summed.
    peakMb: peakTreeBytes / 1048576,
    peakMemKind: memoryKind(),
    // This process alone, exact (the figure reported as "peak RSS" before 2026-11-26).
    selfMaxRssMb: maxRSS / 1024,
  }),
);
// Some pools keep handles open after close(); the measurement is done.
process.exit(0);
