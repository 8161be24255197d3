// One adapter per contender, all with 2 workers: create(), call(name, arg), close().
// `call` runs one task; `mapChunked` runs the tiny task over items in chunks of 256
// (`mapBatches`: forage's map taken with batches()).

const tasksUrl = new URL('./tasks.mjs', import.meta.url);
const WORKERS = 2;
const CHUNK = 256;
const CHUNKS_IN_FLIGHT = 16;

/** Runs fn over chunks of items with at most CHUNKS_IN_FLIGHT in flight; returns the count. */
async function chunkedWith(runChunk, items) {
  let done = 0;
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const start = next;
      next += CHUNK;
      const out = await runChunk(items.slice(start, start + CHUNK));
      done += out.length;
    }
  };
  await Promise.all(Array.from({ length: CHUNKS_IN_FLIGHT }, lane));
  return done;
}

async function forage(kind) {
  const { ThreadPoolExecutor, ProcessPoolExecutor, taskModule } = await import('@forage/futures');
  const tasks = taskModule(tasksUrl);
  return {
    create() {
      const Executor = kind === 'process' ? ProcessPoolExecutor : ThreadPoolExecutor;
      // Both workers started at once, as the peers are configured (minThreads, minWorkers).
      this.ex = new Executor({ maxWorkers: WORKERS, minWorkers: WORKERS, execArgv: [] });
    },
    call(name, arg) {
      return this.ex.submit(tasks[name], arg);
    },
    async mapChunked(items) {
      let n = 0;
      for await (const _ of this.ex.map(tasks.inc, items, { chunksize: CHUNK })) n += 1;
      return n;
    },
    // The same map, its results taken an array at a time (as the peers hand them back).
    async mapBatches(items) {
      let n = 0;
      const results = this.ex.map(tasks.inc, items, { chunksize: CHUNK });
      for await (const batch of results.batches()) n += batch.length;
      return n;
    },
    close() {
      return this.ex.shutdown();
    },
  };
}

// piscina and tinypool share an API: a file, and run(arg, { name }) for a named export.
function runByName(makePool) {
  return {
    create() {
      this.pool = makePool();
    },
    call(name, arg) {
      return this.pool.run(arg, { name });
    },
    mapChunked(items) {
      return chunkedWith((chunk) => this.pool.run(chunk, { name: 'incChunk' }), items);
    },
    close() {
      return this.pool.destroy();
    },
  };
}

async function piscina() {
  const { Piscina } = await import('piscina');
  return runByName(
    () => new Piscina({ filename: tasksUrl.href, minThreads: WORKERS, maxThreads: WORKERS }),
  );
}

async function tinypool(runtime) {
  const { Tinypool } = await import('tinypool');
  return runByName(
    () =>
      new Tinypool({ filename: tasksUrl.href, minThreads: WORKERS, maxThreads: WORKERS, runtime }),
  );
}

async function workerpool(workerType) {
  const { default: wp } = await import('workerpool');
  const script = new URL('./workerpool-worker.mjs', import.meta.url);
  return {
    create() {
      this.pool = wp.pool(script.pathname, {
        minWorkers: WORKERS,
        maxWorkers: WORKERS,
        workerType,
      });
    },
    call(name, arg) {
      return this.pool.exec(name, [arg]);
    },
    mapChunked(items) {
      return chunkedWith((chunk) => this.pool.exec('incChunk', [chunk]), items);
    },
    close() {
      return this.pool.terminate();
    },
  };
}

async function multithreading() {
  const mt = await import('multithreading');
  // Its tasks are functions shipped by source, which cannot see tasks.mjs: inline copies.
  const fns = {
    inc: (x) => x + 1,
    sumPrimes: (n) => {
      const isPrime = (k) => {
        if (k < 2) return false;
        if (k % 2 === 0) return k === 2;
        for (let d = 3; d * d <= k; d += 2) if (k % d === 0) return false;
        return true;
      };
      let total = 0;
      for (let i = 2; i < n; i++) if (isPrime(i)) total += i;
      return total;
    },
  };
  const incChunk = (items) => items.map((x) => x + 1);
  const join = async (handle) => {
    const r = await handle.join();
    if (!r.ok) throw r.error;
    return r.value;
  };
  return {
    create() {
      mt.initRuntime({ maxWorkers: WORKERS });
    },
    call(name, arg) {
      return join(mt.spawn(mt.move(arg), fns[name]));
    },
    mapChunked(items) {
      return chunkedWith((chunk) => join(mt.spawn(mt.move(chunk), incChunk)), items);
    },
    close() {
      mt.shutdown();
    },
  };
}

async function sequential() {
  const tasks = await import('./tasks.mjs');
  return {
    create() {},
    async call(name, arg) {
      return tasks[name](arg);
    },
    async mapChunked(items) {
      return chunkedWith(async (chunk) => tasks.incChunk(chunk), items);
    },
    close() {},
  };
}

export const contenders = {
  'forage-thread': () => forage('thread'),
  'forage-process': () => forage('process'),
  piscina,
  tinypool: () => tinypool('worker_threads'),
  'tinypool-process': () => tinypool('child_process'),
  workerpool: () => workerpool('thread'),
  'workerpool-process': () => workerpool('process'),
  multithreading,
  sequential,
};
