import http from 'node:http';
import https from 'node:https';
import { pipeline, type Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { Dispatcher } from 'undici';

/**
 * One HTTP answer before its body is read: what {@link Fetcher} needs from either transport.
 * `body` is the content itself: a transport undoes the `Content-Encoding` it knows (see
 * {@link decodeContent}) and then drops that header and `Content-Length`, which describe the
 * bytes on the wire. A `content-encoding` header still present means a body it could not undo.
 */
export interface RawResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

/** The content codings both transports ask for and undo with node:zlib (no zstd on Node 20). */
export const ACCEPT_ENCODING = 'gzip, deflate, br';

/**
 * Forgiving flushes, as browsers (and undici's fetch) use: a body cut short after its last
 * complete block still yields what it holds, and an empty body is empty rather than an error.
 * A connection closed early is still an error: node:http and undici report it themselves.
 */
const ZLIB = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
const BROTLI = {
  flush: zlib.constants.BROTLI_OPERATION_FLUSH,
  finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
};

const DECOMPRESSORS: Record<string, () => Transform> = {
  gzip: () => zlib.createGunzip(ZLIB),
  'x-gzip': () => zlib.createGunzip(ZLIB),
  deflate: () => zlib.createInflate(ZLIB),
  br: () => zlib.createBrotliDecompress(BROTLI),
};

/**
 * The response with its body decompressed as its `Content-Encoding` says, streaming, so the
 * fetcher's `maxBytes` counts (and stops at) decompressed bytes: a small gzip bomb cannot fill
 * memory. Servers send gzip even unasked (S3/CloudFront objects uploaded pre-gzipped), so this
 * runs whatever the request said. `identity` is dropped; an encoding not known here (zstd, or
 * more than one) is left in the headers and the body untouched, for the fetcher to refuse once
 * it wants the body (a redirect or error page with it is still fine). Transports that decompress
 * on their own (global fetch, undici's decompress interceptor) must drop the header instead, or
 * the body would be decompressed twice; undici's `request` and node:http do not decompress.
 */
function decodeContent(res: RawResponse): RawResponse {
  const header = res.headers['content-encoding'];
  if (header === undefined) return res;
  const { 'content-encoding': _, ...identity } = res.headers;
  // No body to undo (a 204 or 304 may still name the coding of the resource).
  if (res.statusCode === 204 || res.statusCode === 304) return { ...res, headers: identity };
  const encoding = String(header).trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return { ...res, headers: identity };
  const decompressor = DECOMPRESSORS[encoding]?.();
  if (!decompressor) return res;
  const { 'content-length': __, ...headers } = identity;
  // pipeline() passes errors of the raw body (timeouts, resets, aborts) on to the decompressor,
  // and destroying the decompressor (limit reached, body discarded) destroys the raw body.
  // Only zlib's own errors ("incorrect header check") are reworded to say what failed.
  let rawFailed = false;
  res.body.on('error', () => {
    rawFailed = true;
  });
  decompressor.on('error', (error) => {
    if (!rawFailed) error.message = `could not decompress its ${encoding} body (${error.message})`;
  });
  const body = pipeline(res.body, decompressor, () => undefined);
  return { statusCode: res.statusCode, headers, body };
}

/** `headers` with `accept-encoding` added unless the caller set it (in any letter case). */
function withAcceptEncoding(headers: Record<string, string>): Record<string, string> {
  const set = Object.keys(headers).some((name) => name.toLowerCase() === 'accept-encoding');
  return set ? headers : { ...headers, 'accept-encoding': ACCEPT_ENCODING };
}

/**
 * Sends one GET, asking for {@link ACCEPT_ENCODING}; resolves with the body decompressed
 * ({@link decodeContent}); rejects with the transport's own error (the fetcher maps it).
 */
export type Send = (
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
) => Promise<RawResponse>;

/** A transport and how to close its keep-alive connections. */
export interface Transport {
  send: Send;
  close(): Promise<void>;
}

/**
 * GETs over node:http(s) with keep-alive agents, `connections` sockets per origin. This is the
 * default rather than undici: the same CPU per page on the 5,000-post bench, and the process
 * does not load undici's code (about 15-20 MB of RSS).
 */
export function nodeTransport(connections: number): Transport {
  // Idle keep-alive sockets close after 4 s (as undici's keepAliveTimeout did).
  const options = { keepAlive: true, maxSockets: connections, timeout: 4_000 };
  const agents = { 'http:': new http.Agent(options), 'https:': new https.Agent(options) };
  // No per-request timeout here: the fetcher's whole-request timer aborts `signal`.
  const send: Send = (url, headers, _timeoutMs, signal) =>
    new Promise<RawResponse>((resolve, reject) => {
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.get(
        url,
        {
          agent: agents[url.protocol as 'http:' | 'https:'],
          headers: withAcceptEncoding(headers),
          signal,
        },
        (res) =>
          resolve(
            decodeContent({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res }),
          ),
      );
      req.on('error', reject);
    });
  return {
    send,
    async close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

/**
 * GETs through an undici dispatcher the caller gave (proxies, mocks); undici loads only then.
 * undici's `request` hands over the body as sent (unlike its `fetch`), so it is decompressed
 * here too, unless the dispatcher already did (its decompress interceptor drops the header).
 */
export function undiciTransport(dispatcher: Dispatcher): Transport {
  const send: Send = async (url, headers, timeoutMs, signal) => {
    const { request } = await import('undici');
    const res = await request(url, {
      method: 'GET',
      dispatcher,
      headers: withAcceptEncoding(headers),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal,
    });
    return decodeContent({ statusCode: res.statusCode, headers: res.headers, body: res.body });
  };
  return { send, close: async () => undefined };
}
