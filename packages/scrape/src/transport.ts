import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** One HTTP answer before its body is read: what {@link Fetcher} needs from either transport. */
export interface RawResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

/** Sends one GET; rejects with the transport's own error (the fetcher maps it). */
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
        { agent: agents[url.protocol as 'http:' | 'https:'], headers, signal },
        (res) => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res }),
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

/** GETs through an undici dispatcher the caller gave (proxies, mocks); undici loads only then. */
export function undiciTransport(dispatcher: Dispatcher): Transport {
  const send: Send = async (url, headers, timeoutMs, signal) => {
    const { request } = await import('undici');
    const res = await request(url, {
      method: 'GET',
      dispatcher,
      headers,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal,
    });
    return { statusCode: res.statusCode, headers: res.headers, body: res.body };
  };
  return { send, close: async () => undefined };
}
