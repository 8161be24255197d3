// Child process for the emulator benchmark: runs one server (the emulator, or the bare node:http
// peer) and answers "report" lines on stdin with its CPU time and memory, so the benchmark can
// charge each request its server-side CPU cost. Usage: node server.mjs emulator|bare '<json>'.
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { startEmulator } from '@forage/github-emulator';

const [kind, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}');

/**
 * The peer: node:http answering with fixed bytes, copied once from the emulator at
 * `options.from`, so both send bodies of the same sizes.
 */
async function startBare() {
  const h = { 'user-agent': 'bench', authorization: 'token bench' };
  const get = async (path) =>
    Buffer.from(await (await fetch(`${options.from}${path}`, { headers: h })).arrayBuffer());
  const page = await get('/repositories?since=5000000');
  const languages = await get('/repositories/5000002/languages');
  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    const body = req.url.startsWith('/repositories?') ? page : languages;
    res.writeHead(200, [
      'content-type',
      'application/json; charset=utf-8',
      'content-length',
      String(body.length),
    ]);
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

const server = kind === 'bare' ? await startBare() : await startEmulator(options);
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'report') {
    global.gc?.();
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const stats = server.stats?.();
    process.stdout.write(
      `${JSON.stringify({ cpuUs: cpu.user + cpu.system, rss: mem.rss, heapUsed: mem.heapUsed, requests: stats?.requests })}\n`,
    );
  }
}
await server.close();
