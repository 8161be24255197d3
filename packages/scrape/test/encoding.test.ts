import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Fetcher, get } from '@forage/scrape';
import { Agent } from 'undici';
import { decodeBody } from '../dist/charset.js';
import { beautifulhugo } from './fixtures/engines/index.js';
import { assertSamePosts, scrapeAll, serveSite } from './fixtures/harness.js';

// Content-Encoding (gzip, deflate, br) on both transports, get()'s maxBytes, and the UTF-8 /
// windows-1252 guess for bodies whose bytes do not fit the charset they declare.

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A server on 127.0.0.1 answering every request with `handler`; `close` ends every connection. */
async function startServer(handler: Handler) {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const TRANSPORTS = [
  { name: 'node:http (default)', dispatcher: () => undefined },
  { name: 'undici dispatcher', dispatcher: () => new Agent({ connections: 4 }) },
];

const PAGE = '<html><head><title>Café</title></head><body>Un café — très naïve.</body></html>';
const ENCODERS: Record<string, (data: Buffer) => Buffer> = {
  gzip: gzipSync,
  'x-gzip': gzipSync,
  deflate: deflateSync,
  br: brotliCompressSync,
};

for (const transport of TRANSPORTS) {
  test(`fetcher over ${transport.name}: gzip, deflate and br bodies are decompressed, even when sent unasked`, async (t) => {
    const asked: (string | undefined)[] = [];
    const server = await startServer((req, res) => {
      asked.push(req.headers['accept-encoding']);
      const encoding = req.url!.slice(1);
      const encode = ENCODERS[encoding];
      if (encoding === 'bomb') {
        // 64 MiB of zeros, about 64 KiB on the wire.
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
        res.end(gzipSync(Buffer.alloc(64 * 1024 * 1024)));
      } else if (encoding === 'zstd') {
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'zstd' });
        res.end('not really zstd');
      } else if (encoding === 'corrupt') {
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
        res.end('this is not gzip');
      } else if (encoding === 'stalled') {
        // Half a gzip body, then nothing: the timeout, not a decompression error.
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
        res.write(gzipSync(Buffer.from(PAGE)).subarray(0, 20));
      } else if (encoding === 'nocontent') {
        // No body, though the header names the resource's coding.
        res.writeHead(204, { 'content-encoding': 'gzip' });
        res.end();
      } else if (encoding === 'identity') {
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'identity' });
        res.end(PAGE);
      } else {
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-encoding': encoding,
          vary: 'accept-encoding',
        });
        res.end(encode!(Buffer.from(PAGE)));
      }
    });
    const dispatcher = transport.dispatcher();
    const fetcher = new Fetcher({ dispatcher, timeoutMs: 5_000, maxBytes: 1024 * 1024 });
    t.after(async () => {
      await fetcher.close();
      await dispatcher?.close();
      await server.close();
    });
    for (const encoding of [...Object.keys(ENCODERS), 'identity']) {
      const page = await fetcher.fetch(`${server.base}/${encoding}`);
      assert.equal(page.text, PAGE, encoding);
      assert.equal(
        page.bytes,
        Buffer.byteLength(PAGE),
        `${encoding}: bytes counts the decoded body`,
      );
    }
    assert.deepEqual(new Set(asked), new Set(['gzip, deflate, br']));
    // The limit holds for the decompressed body (a gzip bomb), with the usual error.
    await assert.rejects(fetcher.fetch(`${server.base}/bomb`), {
      code: 'ERR_SCRAPE_TOO_LARGE',
      message: `${server.base}/bomb is over the 1048576-byte limit (raise maxBytes)`,
    });
    await assert.rejects(fetcher.fetch(`${server.base}/zstd`), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ERR_SCRAPE_HTTP');
      assert.match(
        e.message,
        /\/zstd is sent with Content-Encoding "zstd", which .* gzip, deflate/,
      );
      return true;
    });
    await assert.rejects(
      fetcher.fetch(`${server.base}/corrupt`),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'ERR_SCRAPE_NETWORK');
        assert.match(e.message, /\/corrupt: could not decompress its gzip body/);
        return true;
      },
    );
    await assert.rejects(fetcher.fetch(`${server.base}/stalled`, { timeoutMs: 300 }), {
      code: 'ERR_SCRAPE_TIMEOUT',
      message: `${server.base}/stalled did not answer within 300 ms`,
    });
    const empty = await fetcher.fetch(`${server.base}/nocontent`);
    assert.equal(empty.text, '', 'a 204 naming a coding is an empty page, not an error');
    // Still usable after all that.
    assert.equal((await fetcher.fetch(`${server.base}/gzip`)).text, PAGE);
  });
}

test('a blog whose host gzips every file whatever the request says scrapes as usual', async (t) => {
  const { server, site } = await serveSite(beautifulhugo, { count: 12 });
  t.after(() => server.close());
  for (const [path, file] of server.files) {
    server.files.set(path, {
      ...file,
      body: gzipSync(file.body),
      headers: { ...file.headers, 'content-encoding': 'gzip' },
    });
  }
  const { posts } = await scrapeAll(`${server.base}/`);
  assertSamePosts(posts, site.truth, 'gzipped blog');
});

test('get(): maxBytes is the limit of the fetch itself, above and below the 10 MiB default', async (t) => {
  const big = Buffer.alloc(11 * 1024 * 1024, 'a');
  const chunk = Buffer.alloc(64 * 1024, 'b');
  const chunks = 1024; // 64 MiB in all, streamed without a content-length
  let sent = 0;
  const server = await startServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': big.length });
      res.end(big);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    let n = 0;
    const pump = () => {
      while (n < chunks && !res.destroyed) {
        n++;
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  t.after(() => server.close());
  const ok = await get(`${server.base}/big`, { timeoutMs: 10_000, maxBytes: 12 * 1024 * 1024 });
  assert.equal(ok.text.length, big.length);
  await assert.rejects(get(`${server.base}/big`, { timeoutMs: 10_000, maxBytes: 1000 }), {
    code: 'ERR_SCRAPE_TOO_LARGE',
    message: `${server.base}/big is ${big.length} bytes, over the 1000-byte limit (raise maxBytes)`,
  });
  await assert.rejects(get(`${server.base}/stream`, { timeoutMs: 10_000, maxBytes: 1000 }), {
    code: 'ERR_SCRAPE_TOO_LARGE',
    message: `${server.base}/stream is over the 1000-byte limit (raise maxBytes)`,
  });
  // The download stopped at the limit: the server wrote only what the socket buffers took
  // (about 4 MiB here, depending on the kernel's settings), not the whole 64 MiB.
  assert.ok(sent < chunks * chunk.length, `the server sent all ${sent} bytes`);
  await assert.rejects(get(`${server.base}/big`, { timeoutMs: 10_000, maxBytes: -1 }), {
    code: 'ERR_SCRAPE_BAD_OPTION',
  });
});

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? utf8(p) : Buffer.from(p))));
const HTML = 'text/html; charset=utf-8';

test('a UTF-8 page with a stray invalid byte stays UTF-8 (U+FFFD for the byte), as browsers do', () => {
  // A curly apostrophe pasted from Word (windows-1252 0x92) into a UTF-8 page.
  const page = bytes('Café — naïve. It', [0x92], 's fine');
  assert.equal(decodeBody(page, HTML), 'Café — naïve. It\ufffds fine');
  // The same with UTF-8 only guessed (nothing declared), or declared in a <meta> tag.
  assert.equal(decodeBody(page, 'text/html'), 'Café — naïve. It\ufffds fine');
  const meta = bytes('<meta charset="utf-8">déjà', [0xe9], '!');
  assert.equal(decodeBody(meta, 'text/html'), '<meta charset="utf-8">déjà\ufffd!');
  // A sequence cut short at the very end: two bad bytes against two good sequences, still UTF-8.
  assert.equal(decodeBody(bytes('naïve — ', [0xe2, 0x80]), HTML), 'naïve — \ufffd');
});

test('bytes that are mostly not UTF-8 are read as windows-1252', () => {
  // No valid multi-byte sequence at all: a windows-1252 page that claims UTF-8.
  const latin = Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x96, 0x20, 0x92, 0x78]);
  assert.equal(decodeBody(latin, HTML), 'Café – ’x');
  assert.equal(decodeBody(latin, 'text/html'), 'Café – ’x');
  // Invalid bytes outnumber the valid sequences (one "é" that happens to be UTF-8).
  const mostly = bytes([0xe9, 0x20, 0xe8, 0x20, 0x93, 0x20], 'é');
  assert.equal(decodeBody(mostly, HTML), 'é è “ Ã©');
  // Declared non-UTF-8 charsets are read as declared, as before.
  assert.equal(decodeBody(latin, 'text/html; charset=windows-1252'), 'Café – ’x');
  assert.equal(decodeBody(latin, 'text/html; charset=ISO-8859-1'), 'Café – ’x');
  assert.equal(
    decodeBody(Buffer.from([0x93, 0xfa, 0x96, 0x7b]), 'text/html; charset=shift_jis'),
    '日本',
  );
  // Valid UTF-8 is unchanged.
  assert.equal(decodeBody(utf8('Café — naïve'), HTML), 'Café — naïve');
});

test('a declared charset the bytes do not fit is read as browsers read it, not as windows-1252', () => {
  // A Shift_JIS page (日本語のブログ) with one stray byte: Shift_JIS with U+FFFD for that byte.
  // This used to turn the whole page into windows-1252 mojibake ("“ú–{Œê...").
  const sjis = Buffer.from([
    0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0x82, 0xcc, 0xff, 0x83, 0x75, 0x83, 0x8d, 0x83, 0x4f,
  ]);
  assert.equal(decodeBody(sjis, 'text/html; charset=shift_jis'), '日本語の\ufffdブログ');
  // A page converted to UTF-8 that kept its old declaration: its bytes are valid UTF-8.
  assert.equal(
    decodeBody(utf8('日本語のブログ'), 'text/html; charset=shift_jis'),
    '日本語のブログ',
  );
  assert.equal(decodeBody(utf8('한국어 블로그'), 'text/html; charset=euc-kr'), '한국어 블로그');
  // <meta charset="utf-16"> on bytes that are not UTF-16 means UTF-8 (WHATWG prescan); this
  // used to read "Café" as "CafÃ©".
  const meta16 = utf8('<meta charset="utf-16"><p>Café — naïve</p>');
  assert.equal(decodeBody(meta16, 'text/html'), '<meta charset="utf-16"><p>Café — naïve</p>');
  const even = utf8('<meta charset="utf-16"><p>Café</p>!');
  assert.equal(even.length % 2, 0);
  assert.equal(decodeBody(even, 'text/html'), '<meta charset="utf-16"><p>Café</p>!');
  // UTF-16 with its BOM, or named by the header, is still UTF-16.
  const le = Buffer.from('<p>Café</p>', 'utf16le');
  assert.equal(
    decodeBody(Buffer.concat([Buffer.from([0xff, 0xfe]), le]), 'text/html'),
    '<p>Café</p>',
  );
  assert.equal(decodeBody(le, 'text/html; charset=utf-16le'), '<p>Café</p>');
});

test('a charset name TextDecoder does not know is read as UTF-8 when the bytes are UTF-8', () => {
  assert.equal(decodeBody(utf8('Café — naïve'), 'text/html; charset=utf8mb4'), 'Café — naïve');
  assert.equal(
    decodeBody(Buffer.from([0x43, 0x61, 0x66, 0xe9]), 'text/html; charset=x-unknown'),
    'Café',
  );
});

test('fetched pages get the same UTF-8 guess (the scrape reads "Café — naïve", not "CafÃ©")', async (t) => {
  const server = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': HTML });
    res.end(bytes('<h1>Café — naïve</h1><footer>It', [0x92], 's fine</footer>'));
  });
  const fetcher = new Fetcher({ timeoutMs: 5_000 });
  t.after(async () => {
    await fetcher.close();
    await server.close();
  });
  const page = await fetcher.fetch(`${server.base}/`);
  assert.equal(page.text, '<h1>Café — naïve</h1><footer>It\ufffds fine</footer>');
});
