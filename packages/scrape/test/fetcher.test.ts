import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Fetcher } from '@forage/scrape';
import { Agent } from 'undici';

// The fetcher's limits hold on both transports: its own node:http keep-alive agents (the
// default) and an undici dispatcher the caller gives.

async function startServer() {
  const sockets = new Set<unknown>();
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    sockets.add(req.socket);
    const html = (body: string) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<html><body>${body}</body></html>`);
    };
    if (req.url === '/page') html(`page for ${req.headers['user-agent']}`);
    else if (req.url === '/moved') {
      res.writeHead(302, { location: '/page' });
      res.end('moved');
    } else if (req.url === '/broken') {
      res.writeHead(500, { 'retry-after': '3' });
      res.end('oops');
    } else if (req.url === '/slow') held.push(res);
    else if (req.url === '/declared-big') {
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': '5000' });
      res.end('x'.repeat(5000));
    } else if (req.url === '/streamed-big') {
      res.writeHead(200, { 'content-type': 'text/html' });
      for (let i = 0; i < 5; i++) res.write('y'.repeat(1000));
      res.end();
    } else if (req.url === '/pdf') {
      res.writeHead(200, { 'content-type': 'application/pdf' });
      res.end('%PDF');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    sockets,
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const TRANSPORTS = [
  { name: 'node:http (default)', dispatcher: () => undefined },
  { name: 'undici dispatcher', dispatcher: () => new Agent({ connections: 4 }) },
];

for (const transport of TRANSPORTS) {
  test(`fetcher over ${transport.name}: pages, redirects, status, timeouts, size and type limits`, async (t) => {
    const server = await startServer();
    const dispatcher = transport.dispatcher();
    const fetcher = new Fetcher({
      dispatcher,
      timeoutMs: 1_000,
      maxBytes: 4_000,
      userAgent: 'T/1',
    });
    t.after(async () => {
      await fetcher.close();
      await dispatcher?.close();
      await server.close();
    });
    const page = await fetcher.fetch(`${server.base}/page`);
    assert.equal(page.status, 200);
    assert.equal(page.text, '<html><body>page for T/1</body></html>');
    assert.equal(page.contentType, 'text/html; charset=utf-8');
    const moved = await fetcher.fetch(`${server.base}/moved`);
    assert.equal(moved.finalUrl, `${server.base}/page`);
    assert.equal(moved.url, `${server.base}/moved`);
    await assert.rejects(fetcher.fetch(`${server.base}/broken`), {
      code: 'ERR_SCRAPE_HTTP',
      status: 500,
      retryAfterMs: 3_000,
    });
    const kept = await fetcher.fetch(`${server.base}/broken`, { throwOnStatus: false });
    assert.equal(kept.status, 500);
    await assert.rejects(fetcher.fetch(`${server.base}/slow`, { timeoutMs: 150 }), {
      code: 'ERR_SCRAPE_TIMEOUT',
    });
    for (const path of ['/declared-big', '/streamed-big'])
      await assert.rejects(fetcher.fetch(`${server.base}${path}`), {
        code: 'ERR_SCRAPE_TOO_LARGE',
      });
    await assert.rejects(
      fetcher.fetch(`${server.base}/pdf`, { accept: (type) => type.startsWith('text/html') }),
      { code: 'ERR_SCRAPE_NOT_HTML' },
    );
    const stop = new AbortController();
    const stopped = fetcher.fetch(`${server.base}/slow`, { signal: stop.signal });
    stop.abort(new Error('crawl stopped'));
    await assert.rejects(stopped, { code: 'ERR_SCRAPE_NETWORK' });
    // Still usable after all that.
    assert.equal((await fetcher.fetch(`${server.base}/page`)).status, 200);
  });
}

test('the default transport keeps connections alive, at most `connections` per origin', async (t) => {
  const server = await startServer();
  const fetcher = new Fetcher({ connections: 3, timeoutMs: 2_000 });
  t.after(async () => {
    await fetcher.close();
    await server.close();
  });
  const pages = await Promise.all(
    Array.from({ length: 30 }, () => fetcher.fetch(`${server.base}/page`)),
  );
  assert.equal(pages.length, 30);
  assert.ok(server.sockets.size <= 3, `${server.sockets.size} connections for 30 requests`);
});

test('closing the fetcher leaves a dispatcher it was given open', async (t) => {
  const server = await startServer();
  const dispatcher = new Agent();
  t.after(async () => {
    await dispatcher.close();
    await server.close();
  });
  const fetcher = new Fetcher({ dispatcher, timeoutMs: 2_000 });
  await fetcher.fetch(`${server.base}/page`);
  await fetcher.close();
  const again = new Fetcher({ dispatcher, timeoutMs: 2_000 });
  assert.equal((await again.fetch(`${server.base}/page`)).status, 200);
});

test('a redirect to the same host on another port does not carry the authorization header', async (t) => {
  const seen: Array<string | undefined> = [];
  const other = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<p>other</p>');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  t.after(() => other.close());
  const otherPort = (other.address() as AddressInfo).port;
  const first = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(302, { location: `http://127.0.0.1:${otherPort}/there` }).end();
  });
  await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
  t.after(() => first.close());
  const fetcher = new Fetcher();
  t.after(() => fetcher.close());
  const page = await fetcher.fetch(`http://127.0.0.1:${(first.address() as AddressInfo).port}/`, {
    headers: { authorization: 'Basic bWU6bm90LWEtc2VjcmV0' },
  });
  assert.equal(page.finalUrl, `http://127.0.0.1:${otherPort}/there`);
  // Another port is another origin (a browser drops the header too).
  assert.deepEqual(seen, ['Basic bWU6bm90LWEtc2VjcmV0', undefined]);
});
