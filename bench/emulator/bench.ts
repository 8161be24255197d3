// Emulator benchmark: how many listing pages and languages requests per second the emulator
// serves, charged by its own CPU time (so a shared machine's noise mostly cancels out), against
// a bare node:http server sending bytes of the same sizes (the floor for node:http), and its
// memory across a 10,000 and a 10,000,000 repository synthetic dataset.
// Run: npm run build && npm run --workspace bench emulator
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const serverScript = fileURLToPath(new URL('./server.mjs', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const headers = 'user-agent: bench\r\nauthorization: token bench\r\n';

interface Server {
  url: string;
  port: number;
  report(): Promise<{ cpuUs: number; rss: number; heapUsed: number }>;
  close(): Promise<void>;
}

async function startServer(kind: 'emulator' | 'bare', options: object): Promise<Server> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', serverScript, kind, JSON.stringify(options)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines: Interface = createInterface({ input: child.stdout! });
  const iterator = lines[Symbol.asyncIterator]();
  const next = async () => JSON.parse(String((await iterator.next()).value));
  const { url } = await next();
  return {
    url,
    port: Number(new URL(url).port),
    report: () => {
      child.stdin!.write('report\n');
      return next();
    },
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}

/**
 * Load: `connections` keep-alive sockets, each with `depth` pipelined GETs in flight, for
 * `seconds`. Responses are framed by content-length and counted, never parsed, so the client
 * spends as little CPU as possible.
 */
function load(
  port: number,
  path: (i: number) => string,
  seconds: number,
  connections: number,
  depth: number,
) {
  let done = 0;
  let bytes = 0;
  let issued = 0;
  const end = Date.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let inFlight = 0;
      let head = '';
      let remaining = -1;
      const fill = () => {
        let text = '';
        while (inFlight < depth && Date.now() < end) {
          const target = path(issued++);
          // A path is a GET; anything else is a ready-made request (the GraphQL POSTs).
          text += target.startsWith('/')
            ? `GET ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}\r\n`
            : target;
          inFlight++;
        }
        if (text) socket.write(text);
        else if (inFlight === 0) socket.end();
      };
      socket.on('connect', fill);
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        let off = 0;
        while (off < chunk.length) {
          if (remaining < 0) {
            const start = off;
            head += chunk.toString('latin1', off, Math.min(chunk.length, off + 2048));
            const at = head.indexOf('\r\n\r\n');
            if (at < 0) {
              off = Math.min(chunk.length, off + 2048);
              continue;
            }
            const length = Number(/content-length: (\d+)/i.exec(head)![1]);
            off = start + (at + 4 - (head.length - (Math.min(chunk.length, start + 2048) - start)));
            head = '';
            remaining = length;
          }
          const take = Math.min(remaining, chunk.length - off);
          off += take;
          remaining -= take;
          if (remaining === 0) {
            remaining = -1;
            done++;
            inFlight--;
          }
        }
        fill();
      });
    });
  const started = Date.now();
  return Promise.all(Array.from({ length: connections }, one)).then(() => ({
    requests: done,
    seconds: (Date.now() - started) / 1000,
    bytes,
  }));
}

interface Measure {
  perSecond: number;
  cpuUsPerRequest: number;
  perCore: number;
  mbPerSecond: number;
}

async function measure(
  server: Server,
  path: (i: number) => string,
  connections: number,
  depth: number,
): Promise<Measure> {
  const before = await server.report();
  const run = await load(server.port, path, SECONDS, connections, depth);
  const after = await server.report();
  const cpuUsPerRequest = (after.cpuUs - before.cpuUs) / run.requests;
  return {
    perSecond: run.requests / run.seconds,
    cpuUsPerRequest,
    perCore: 1e6 / cpuUsPerRequest,
    mbPerSecond: run.bytes / run.seconds / 1e6,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main() {
  const common = {
    secondaryLimit: false,
    rateLimit: { core: { limit: 1e12, windowMs: 3_600_000 } },
  };
  const emulator = await startServer('emulator', { dataset: 'synthetic:10M', ...common });
  const bare = await startServer('bare', { from: emulator.url });
  const lastId = 14_285_000;
  const listing = (i: number) => `/repositories?since=${(i * 7919) % lastId}`;
  const languages = (i: number) => `/repositories/${1 + ((i * 104_729) % lastId)}/languages`;
  const results: Record<string, Measure[]> = {};
  // The census's GraphQL batch: 100 repositories by node id, all their languages.
  const query =
    'query($ids:[ID!]!){ rateLimit { cost remaining } nodes(ids:$ids){ ... on Repository { databaseId nameWithOwner isFork languages(first: 100, orderBy: {field: SIZE, direction: DESC}) { totalCount totalSize edges { size node { name color } } } } } }';
  const batch = (i: number) => {
    const first = 1 + ((i * 104_729) % (lastId - 200));
    const ids = Array.from({ length: 100 }, (_, k) =>
      Buffer.from(`010:Repository${first + k}`).toString('base64'),
    );
    const body = JSON.stringify({ query, variables: { ids } });
    return `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };
  const cases: [string, Server, (i: number) => string, number, number][] = [
    ['listing, emulator', emulator, listing, 4, 4],
    ['listing, bare node:http', bare, listing, 4, 4],
    ['languages, emulator', emulator, languages, 8, 32],
    ['languages, bare node:http', bare, languages, 8, 32],
    ['GraphQL batch of 100, emulator', emulator, batch, 4, 4],
  ];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, server, path, connections, depth] of cases) {
      const list = results[name] ?? [];
      list.push(await measure(server, path, connections, depth));
      results[name] = list;
    }
  }
  console.log(
    `emulator benchmark: ${ROUNDS} rounds of ${SECONDS} s per case, medians; server in its own process`,
  );
  console.log('case | requests/s | MB/s | server CPU µs/request | requests/s per core');
  const perCore: Record<string, number> = {};
  for (const [name, ms] of Object.entries(results)) {
    perCore[name] = median(ms.map((m) => m.perCore));
    console.log(
      `${name} | ${fmt(median(ms.map((m) => m.perSecond)))} | ${fmt(median(ms.map((m) => m.mbPerSecond)))} | ${median(ms.map((m) => m.cpuUsPerRequest)).toFixed(0)} | ${fmt(perCore[name])}`,
    );
  }
  const ratio = (a: string, b: string) => (perCore[a]! / perCore[b]!).toFixed(2);
  console.log(
    `listing: emulator/bare per core = ${ratio('listing, emulator', 'listing, bare node:http')}x; target 1,000 pages/s per core: ${perCore['listing, emulator']! >= 1000 ? 'met' : 'NOT met'}`,
  );
  console.log(
    `languages: emulator/bare per core = ${ratio('languages, emulator', 'languages, bare node:http')}x; target 5,000 requests/s per core: ${perCore['languages, emulator']! >= 5000 ? 'met' : 'NOT met'}`,
  );
  const graphql = perCore['GraphQL batch of 100, emulator']!;
  console.log(
    `GraphQL: ${fmt(graphql)} batches/s per core = ${fmt(graphql * 100)} repositories/s (a token may send 2,000 per minute)`,
  );
  await bare.close();

  // Memory: the same walk over a small and a huge dataset; flat means the same footprint.
  const memory: string[] = [];
  for (const dataset of ['synthetic:10000', 'synthetic:10M']) {
    const server =
      dataset === 'synthetic:10M'
        ? emulator
        : await startServer('emulator', { dataset, ...common });
    const start = await server.report();
    const top = dataset === 'synthetic:10M' ? lastId : 14_000;
    await load(server.port, (i) => `/repositories?since=${(i * 7919) % top}`, 2, 2, 4);
    await load(
      server.port,
      (i) => `/repositories/${1 + ((i * 104_729) % top)}/languages`,
      2,
      4,
      32,
    );
    const end = await server.report();
    memory.push(
      `${dataset}: heap ${(start.heapUsed / 1e6).toFixed(1)} -> ${(end.heapUsed / 1e6).toFixed(1)} MB, RSS ${(start.rss / 1e6).toFixed(0)} -> ${(end.rss / 1e6).toFixed(0)} MB`,
    );
    if (server !== emulator) await server.close();
  }
  await emulator.close();
  console.log(`memory after the same load (heap after GC): ${memory.join('; ')}`);
}

await main();
