import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { decodeBody } from './charset.js';
import { ScrapeError } from './errors.js';
import {
  ACCEPT_ENCODING,
  nodeTransport,
  type RawResponse,
  type Transport,
  undiciTransport,
} from './transport.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The User-Agent every request sends unless told otherwise; robots.txt rules for `Forage` apply. */
export const DEFAULT_USER_AGENT = `Forage/${pkg.version} (+https://www.npmjs.com/package/@forage/scrape; polite blog scraper)`;

/** A fetched response: the body is decoded to text using the declared or sniffed charset. */
export interface FetchedPage {
  /** The URL asked for. */
  url: string;
  /** The URL that answered, after redirects. */
  finalUrl: string;
  status: number;
  /** The `Content-Type` header, or `''`. */
  contentType: string;
  /** The body, decoded. */
  text: string;
  /** Size of the body in bytes (after undoing its `Content-Encoding`). */
  bytes: number;
}

/** Options for {@link Fetcher}. */
export interface FetcherOptions {
  userAgent?: string;
  /** Whole-request timeout (headers and body), milliseconds. Default 30,000. */
  timeoutMs?: number;
  /** Largest body accepted, bytes, counted after decompression (gzip, deflate, br). Default 10 MiB. */
  maxBytes?: number;
  /** Redirects followed before giving up. Default 10. */
  maxRedirects?: number;
  /** Connections kept per origin. Default 8. */
  connections?: number;
  /**
   * Called for every redirect target: return a reason to refuse it (off-site, robots), or null;
   * or a promise of one (the target's robots.txt may have to be read first).
   */
  checkRedirect?: (url: URL) => RedirectRefusal | Promise<RedirectRefusal>;
  /**
   * An undici dispatcher to send requests through (proxies, mocks) instead of the fetcher's own
   * node:http keep-alive agents; undici is loaded only when one is given.
   */
  dispatcher?: Dispatcher;
}

/** Why a redirect is not followed, or null to follow it. */
export type RedirectRefusal = {
  code: 'ERR_SCRAPE_OFF_SITE' | 'ERR_SCRAPE_ROBOTS';
  reason: string;
  /** What the refusal comes from, when it is for now (a robots.txt that could not be read). */
  cause?: unknown;
} | null;

/** Options for one {@link Fetcher.fetch} call. */
export interface FetchOptions {
  /** Return false for content types the caller cannot use; the body is then not downloaded. */
  accept?: (contentType: string) => boolean;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Timeout for this request, overriding the fetcher's. */
  timeoutMs?: number;
  /** Largest body accepted for this request, overriding the fetcher's `maxBytes`. */
  maxBytes?: number;
  /** Aborts the request (the crawl was stopped). */
  signal?: AbortSignal;
  /** Throw `ERR_SCRAPE_HTTP` for non-2xx answers (default). With false, they are returned. */
  throwOnStatus?: boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Drops a response body we will not read (closing the stream errors it; nobody needs that error). */
function discard(res: RawResponse): void {
  res.body.on('error', () => undefined);
  res.body.destroy();
}

/** Reads a small body we do not need (redirect, error page) to its end, keeping the connection. */
async function drain(body: Readable): Promise<void> {
  body.resume();
  await once(body, 'end').catch(() => undefined);
}

/** `headers` without `Authorization` (in any letter case). */
function withoutAuthorization(
  headers: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (!headers) return headers;
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'),
  );
}

/** Parses `Retry-After` (seconds or an HTTP date) to milliseconds from now. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const when = Date.parse(v);
  return Number.isNaN(when) ? undefined : Math.max(0, when - now);
}

/** Only http: and https: URLs are ever requested. */
export function assertHttpUrl(input: string | URL, base?: string): URL {
  const meant = base === undefined ? withScheme(String(input)) : null;
  if (meant) {
    throw new ScrapeError(
      'ERR_SCRAPE_BAD_URL',
      `"${shown(String(input))}" has no http:// or https://; did you mean ${shown(meant)}?`,
      { url: shown(String(input)) },
    );
  }
  let url: URL;
  try {
    url = new URL(String(input), base);
  } catch {
    throw new ScrapeError(
      'ERR_SCRAPE_BAD_URL',
      `"${shown(String(input))}" is not a URL; give a full address such as https://example.com/blog/`,
      { url: shown(String(input)) },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ScrapeError(
      'ERR_SCRAPE_BAD_URL',
      `${url.protocol} URLs are not fetched (${shown(url.href)}); only http: and https: are`,
      { url: shown(url.href) },
    );
  }
  return url;
}

/**
 * `input` with a user name and password in it (`ftp://me:secret@host/`, `me:secret@host`)
 * replaced by `***`: a URL refused here is echoed in the message, and credentials never are.
 */
function shown(input: string): string {
  return input.replace(/^(\s*(?:[a-z][a-z0-9+.-]*:)?\/\/|\s*)[^/?#\s]*@/i, '$1***@');
}

/**
 * The URL someone meant by a host name typed without its scheme (`example.com/blog`,
 * `localhost:8080`, `127.0.0.1:8080/`), or null for anything else. `localhost:8080` parses as
 * a URL of scheme "localhost:", and `127.0.0.1:8080` as no URL at all.
 */
function withScheme(input: string): string | null {
  const typed = input.trim();
  if (/^[a-z][a-z0-9+.-]*:(?!\d)/i.test(typed)) return null; // a scheme (not host:port)
  let url: URL;
  try {
    url = new URL(`http://${typed}`);
  } catch {
    return null;
  }
  const host = url.hostname;
  const local = host === 'localhost' || /^[\d.]+$/.test(host) || host.startsWith('[');
  if (!local && !/^[a-z0-9-]+(?:\.[a-z0-9-]+)+$/i.test(host)) return null;
  return local
    ? url.href
    : `https://${typed}${url.pathname === '/' && !typed.includes('/') ? '/' : ''}`;
}

/**
 * HTTP GET over keep-alive connections with the limits a polite, robust crawler needs:
 * a whole-request timeout, a body size limit, at most N redirects (each one checked by the
 * caller for robots and site), http(s) only, and text decoded with the right charset.
 * Retries and per-host scheduling live outside (see `retry.ts` and `host-pool.ts`).
 */
export class Fetcher {
  readonly userAgent: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly maxRedirects: number;
  readonly #transport: Transport;
  readonly #checkRedirect: FetcherOptions['checkRedirect'];

  constructor(options: FetcherOptions = {}) {
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
    this.maxRedirects = options.maxRedirects ?? 10;
    this.#checkRedirect = options.checkRedirect;
    this.#transport = options.dispatcher
      ? undiciTransport(options.dispatcher)
      : nodeTransport(options.connections ?? 8);
  }

  /** GETs `url`, following redirects; throws {@link ScrapeError} for anything but a 2xx page. */
  async fetch(url: string, options: FetchOptions = {}): Promise<FetchedPage> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    // One controller per request, its timer cleared and its link to the caller's signal
    // removed when the request ends. (AbortSignal.timeout keeps every request's state alive
    // until the timeout fires, and AbortSignal.any leaks on Node 20: hundreds of MB per crawl.)
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')),
      timeoutMs,
    );
    const outer = options.signal;
    const onAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) onAbort();
    else outer?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#follow(url, options, timeoutMs, controller.signal);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }

  async #follow(
    url: string,
    options: FetchOptions,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<FetchedPage> {
    let current = assertHttpUrl(url);
    let hopOptions = options;
    for (let hop = 0; ; hop++) {
      const res = await this.#send(current, hopOptions, timeoutMs, signal);
      if (REDIRECTS.has(res.statusCode) && res.headers.location) {
        await drain(res.body);
        if (hop >= this.maxRedirects) {
          throw new ScrapeError(
            'ERR_SCRAPE_REDIRECTS',
            `more than ${this.maxRedirects} redirects starting at ${url}`,
            { url },
          );
        }
        const next = assertHttpUrl(String(res.headers.location), current.href);
        const refusal = await this.#checkRedirect?.(next);
        if (refusal)
          throw new ScrapeError(
            refusal.code,
            `${url} redirects to ${next.href}: ${refusal.reason}`,
            { url, cause: refusal.cause },
          );
        // Credentials are for the host they were given for: not for another host or port (another
        // server, as far as anyone knows), nor in clear after a redirect from https to http (as
        // browsers do). An http to https upgrade on the default ports keeps them.
        if (
          next.host !== current.host ||
          (current.protocol === 'https:' && next.protocol === 'http:')
        )
          hopOptions = { ...hopOptions, headers: withoutAuthorization(hopOptions.headers) };
        current = next;
        continue;
      }
      const contentType = String(res.headers['content-type'] ?? '');
      if ((res.statusCode < 200 || res.statusCode > 299) && options.throwOnStatus !== false) {
        await drain(res.body);
        throw new ScrapeError('ERR_SCRAPE_HTTP', `HTTP ${res.statusCode} for ${current.href}`, {
          url,
          status: res.statusCode,
          retryAfterMs: parseRetryAfter(res.headers['retry-after']),
        });
      }
      if (options.accept && !options.accept(contentType)) {
        discard(res);
        throw new ScrapeError(
          'ERR_SCRAPE_NOT_HTML',
          `${current.href} is ${contentType || 'of no stated type'}, not a page`,
          { url },
        );
      }
      const maxBytes = options.maxBytes ?? this.maxBytes;
      const body = await this.#readBody(res, current.href, maxBytes, signal, timeoutMs);
      return {
        url,
        finalUrl: current.href,
        status: res.statusCode,
        contentType,
        text: decodeBody(body, contentType),
        bytes: body.length,
      };
    }
  }

  async #send(
    url: URL,
    options: FetchOptions,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<RawResponse> {
    const headers = {
      'user-agent': this.userAgent,
      accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      ...options.headers,
    };
    try {
      return await this.#transport.send(url, headers, timeoutMs, signal);
    } catch (error) {
      throw this.#networkError(signal.aborted ? signal.reason : error, url.href, timeoutMs);
    }
  }

  /** Reads the body, stopping (and closing the connection) as soon as it passes `maxBytes`. */
  async #readBody(
    res: RawResponse,
    url: string,
    maxBytes: number,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<Buffer> {
    const encoding = res.headers['content-encoding'];
    if (encoding !== undefined) {
      // The transport undid every encoding it knows and dropped the header (transport.ts).
      discard(res);
      throw new ScrapeError(
        'ERR_SCRAPE_HTTP',
        `${url} is sent with Content-Encoding "${encoding}", which Forage cannot decompress (it reads ${ACCEPT_ENCODING} only)`,
        { url, status: res.statusCode },
      );
    }
    // For a compressed body the transport dropped Content-Length (the size on the wire).
    const declared = Number(res.headers['content-length'] ?? Number.NaN);
    if (declared > maxBytes) {
      discard(res);
      throw new ScrapeError(
        'ERR_SCRAPE_TOO_LARGE',
        `${url} is ${declared} bytes, over the ${maxBytes}-byte limit (raise maxBytes)`,
        { url },
      );
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          discard(res);
          throw new ScrapeError(
            'ERR_SCRAPE_TOO_LARGE',
            `${url} is over the ${maxBytes}-byte limit (raise maxBytes)`,
            { url },
          );
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof ScrapeError) throw error;
      throw this.#networkError(signal.aborted ? signal.reason : error, url, timeoutMs);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  }

  #networkError(error: unknown, url: string, timeoutMs: number): ScrapeError {
    const name = (error as { name?: string })?.name;
    const code = (error as { code?: string })?.code;
    if (
      name === 'TimeoutError' ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT'
    ) {
      return new ScrapeError('ERR_SCRAPE_TIMEOUT', `${url} did not answer within ${timeoutMs} ms`, {
        url,
        cause: error,
      });
    }
    const message = (error as Error)?.message ?? String(error);
    return new ScrapeError('ERR_SCRAPE_NETWORK', `${url}: ${message}`, { url, cause: error });
  }

  /** Closes the keep-alive connections (only the fetcher's own; a given dispatcher stays open). */
  async close(): Promise<void> {
    await this.#transport.close();
  }
}
