/**
 * Scraping a 5,000-post blog served by nginx on 127.0.0.1, 16 requests in flight: @forage/scrape
 * against Crawlee 3.18 CheerioCrawler (memory storage) and Debian's Scrapy 2.8, in interleaved
 * rounds. Each run is timed by /usr/bin/time (wall, CPU, peak RSS); pages/s = nginx requests ÷
 * wall time; every output is checked field by field against the generator's ground truth.
 *
 * Usage: npm run --workspace bench scrape [-- --rounds 3 --posts 5000 --only forage,crawlee]
 * Needs: Debian's nginx and python3-scrapy (apt-get install -y nginx python3-scrapy).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './gen-site.js';
import { type Verdict, verify } from './verify.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const benchDir = resolve(here, '..');
const out = join(here, 'out');
const PORT = Number(process.env.FORAGE_BENCH_PORT ?? 8088);
const BASE = `http://127.0.0.1:${PORT}`;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : String(process.argv[i + 1]);
}
const ROUNDS = Number(arg('rounds', '3'));
const POSTS = Number(arg('posts', '5000'));
const ONLY = arg('only', 'forage,forage-inline,crawlee,scrapy').split(',');

interface Contender {
  name: string;
  full: boolean;
  command: (outFile: string) => string[];
}

const ALL_CONTENDERS: Contender[] = [
  {
    name: 'forage',
    full: true,
    command: (f) => [process.execPath, join(here, 'forage.mjs'), `${BASE}/`, f],
  },
  {
    // The same with every page read on the calling thread (`extractThreads: 0`).
    name: 'forage-inline',
    full: true,
    command: (f) => [process.execPath, join(here, 'forage.mjs'), `${BASE}/`, f, '0'],
  },
  {
    name: 'crawlee',
    full: false,
    command: (f) => [process.execPath, join(here, 'crawlee.mjs'), `${BASE}/`, f],
  },
  {
    name: 'scrapy',
    full: false,
    command: (f) => [
      '/usr/bin/python3',
      '-m',
      'scrapy',
      'runspider',
      join(here, 'scrapy_spider.py'),
      '-a',
      `start=${BASE}/`,
      '-O',
      f,
    ],
  },
];
const CONTENDERS = ALL_CONTENDERS.filter((c) => ONLY.includes(c.name));

interface Run {
  wallS: number;
  cpuS: number;
  rssMb: number;
  requests: number;
  verdict: Verdict;
}

function nginxConf(): string {
  const tmp = join(out, 'nginx-tmp');
  mkdirSync(tmp, { recursive: true });
  return `worker_processes 1;
daemon off;
pid ${out}/nginx.pid;
error_log ${out}/nginx-error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log ${out}/access.log;
  sendfile on;
  keepalive_requests 100000;
  keepalive_timeout 30s;
  client_body_temp_path ${tmp}/client;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  server {
    listen 127.0.0.1:${PORT};
    root ${out}/site;
    index index.html;
  }
}
`;
}

/** Whether something already accepts connections on 127.0.0.1:PORT. */
function portTaken(): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(PORT, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/**
 * Starts our own nginx and waits until it serves the generated site. Fails at once, naming the
 * port, if something else already listens there or nginx exits (e.g. it could not bind): the
 * benchmark must never measure whatever else answers on that port.
 */
async function startNginx(): Promise<ChildProcess> {
  const busy = `port ${PORT} on 127.0.0.1 is in use by another program; free it or choose another port with FORAGE_BENCH_PORT=<port>`;
  if (await portTaken()) throw new Error(busy);
  const conf = join(out, 'nginx.conf');
  writeFileSync(conf, nginxConf());
  const child = spawn('nginx', ['-c', conf, '-p', out], { stdio: 'inherit' });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `nginx exited (${signal ?? `code ${code}`}) before serving the site: ${busy.replace(' is in use by another program', ' may be in use')} (see ${out}/nginx-error.log)`;
  });
  child.once('error', (error) => {
    exited = `nginx could not start: ${error.message}`;
  });
  const expected = readFileSync(join(out, 'site', 'index.html'), 'utf8');
  for (let i = 0; i < 100 && exited === undefined; i++) {
    let res: Response | undefined;
    let body = '';
    try {
      res = await fetch(`${BASE}/`);
      body = await res.text();
    } catch {
      // not up yet
    }
    if (exited !== undefined) break;
    if (res?.ok) {
      if (body === expected) return child;
      child.kill('SIGQUIT');
      throw new Error(`${BASE}/ answers with a page that is not the generated site: ${busy}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (exited !== undefined) throw new Error(exited);
  child.kill('SIGQUIT');
  throw new Error(`nginx did not answer on ${BASE} (see ${out}/nginx-error.log)`);
}

function accessLines(): number {
  const file = join(out, 'access.log');
  if (!existsSync(file) || statSync(file).size === 0) return 0;
  return readFileSync(file, 'utf8').split('\n').length - 1;
}

function runOnce(c: Contender, round: number): Run {
  const outFile = join(out, `${c.name}-${round}.jsonl`);
  const before = accessLines();
  const [cmd, ...args] = c.command(outFile);
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', cmd!, ...args], {
    cwd: benchDir,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 600_000,
  });
  const line = r.stderr.split('\n').find((l) => l.startsWith('TIME '));
  if (r.status !== 0 || !line)
    throw new Error(`${c.name} failed (status ${r.status}):\n${r.stderr.slice(-2000)}`);
  const [, wall, user, sys, rssKb] = line.split(' ').map(Number);
  return {
    wallS: wall!,
    cpuS: user! + sys!,
    rssMb: rssKb! / 1024,
    requests: accessLines() - before,
    verdict: verify(outFile, join(out, 'reference.jsonl'), c.full),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const gen = generate(out, BASE, POSTS);
  console.log(
    `site: ${gen.files} files, ${(gen.bytes / 1e6).toFixed(1)} MB; ${POSTS} posts, 10 per index page; nginx on ${BASE}`,
  );
  const nginx = await startNginx();
  const runs = new Map<string, Run[]>(CONTENDERS.map((c) => [c.name, []]));
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const c of CONTENDERS) {
        const r = runOnce(c, round);
        runs.get(c.name)!.push(r);
        const v = r.verdict;
        console.log(
          `round ${round} ${c.name.padEnd(8)} ${r.wallS.toFixed(2)} s wall, ${r.cpuS.toFixed(1)} CPU-s, ${r.rssMb.toFixed(0)} MB RSS, ${r.requests} requests, ${(r.requests / r.wallS).toFixed(0)} pages/s; items ${v.items} (unique ${v.unique}, missing ${v.missing}, mismatches ${v.mismatches})${v.firstMismatch ? ` first: ${v.firstMismatch}` : ''}`,
        );
      }
    }
  } finally {
    nginx.kill('SIGQUIT');
  }
  console.log('\nmedians:');
  console.log(
    '| contender | wall s (min–max) | pages/s | CPU s | peak RSS MB | requests | items | mismatches + missing (worst round) |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  const rate = new Map<string, number>();
  const failed: string[] = [];
  for (const c of CONTENDERS) {
    const rs = runs.get(c.name)!;
    const walls = rs.map((r) => r.wallS);
    const pps = median(rs.map((r) => r.requests / r.wallS));
    // A contender that scraped any post wrongly or missed one gets no ratio: speed is only
    // compared between correct scrapes.
    const wrong = Math.max(...rs.map((r) => r.verdict.mismatches + r.verdict.missing));
    if (wrong > 0) failed.push(c.name);
    else rate.set(c.name, pps);
    console.log(
      `| ${c.name}${wrong > 0 ? ' (FAILED: incorrect output)' : ''} | ${median(walls).toFixed(2)} (${Math.min(...walls).toFixed(2)}–${Math.max(...walls).toFixed(2)}) | ${pps.toFixed(0)} | ${median(rs.map((r) => r.cpuS)).toFixed(1)} | ${median(rs.map((r) => r.rssMb)).toFixed(0)} (max ${Math.max(...rs.map((r) => r.rssMb)).toFixed(0)}) | ${median(rs.map((r) => r.requests))} | ${median(rs.map((r) => r.verdict.items))} | ${wrong} |`,
    );
  }
  for (const ours of ['forage', 'forage-inline']) {
    const f = rate.get(ours);
    if (!f) continue;
    for (const [name, r] of rate)
      if (!name.startsWith('forage'))
        console.log(`${ours} / ${name}: ${(f / r).toFixed(1)}x pages/s`);
  }
  if (failed.length > 0) {
    console.error(
      `\nFAILED: ${failed.join(', ')} scraped posts wrongly or missed some (see the rounds above); no ratios for ${failed.length > 1 ? 'them' : 'it'}.`,
    );
    process.exitCode = 1;
  }
}

await main();
