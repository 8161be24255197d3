import { ScrapeError } from './errors.js';
import { type FetchedPage, Fetcher } from './fetcher.js';

/** Options for {@link get}. Unlike Python's requests, a timeout is required. */
export interface GetOptions {
  /** Give up after this many milliseconds (headers and body). Required: requests' default is to wait forever. */
  timeoutMs: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /**
   * Largest body accepted, bytes (decompressed). Default 10 MiB. The download stops there, with
   * `ERR_SCRAPE_TOO_LARGE`, rather than after the whole body came in.
   */
  maxBytes?: number;
}

/** What {@link get} returns: the parts of `requests.Response` a scraping script uses. */
export interface Response {
  /** `status_code` */
  status: number;
  /** True for 2xx. */
  ok: boolean;
  /** The URL that answered, after redirects. */
  url: string;
  /** The `Content-Type` header. */
  contentType: string;
  /** The body decoded with the charset from the headers or a `<meta>` tag. */
  text: string;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
  /** Throws `ERR_SCRAPE_HTTP` unless the status is 2xx (requests' `raise_for_status`). */
  raiseForStatus(): void;
}

let shared: Fetcher | undefined;

/**
 * `requests.get` for people porting Python scripts: follows up to 10 redirects, decodes the
 * body, never throws for 4xx/5xx (call `raiseForStatus()`), and insists on a timeout.
 *
 * ```ts
 * const res = await get('https://example.com/', { timeoutMs: 10_000 });
 * res.raiseForStatus();
 * const page = soup(res.text);
 * ```
 */
export async function get(url: string, options: GetOptions): Promise<Response> {
  const timeoutMs = options?.timeoutMs;
  // Above 2^31-1 ms a Node.js timer fires after 1 ms: every request would time out at once.
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2 ** 31 - 1) {
    throw new ScrapeError(
      'ERR_SCRAPE_BAD_OPTION',
      `get(${JSON.stringify(url)}) needs { timeoutMs } (a whole number of milliseconds from 1 to 2147483647, e.g. { timeoutMs: 10_000 }); without one a stuck server would hang the script forever`,
    );
  }
  const { maxBytes } = options;
  if (maxBytes !== undefined && (!Number.isInteger(maxBytes) || maxBytes <= 0)) {
    throw new ScrapeError(
      'ERR_SCRAPE_BAD_OPTION',
      `get(${JSON.stringify(url)}): maxBytes must be a whole number of bytes > 0 (got ${maxBytes}); leave it out for 10 MiB`,
    );
  }
  shared ??= new Fetcher();
  // The limit goes into the fetch (not checked afterwards): the shared Fetcher's own 10 MiB
  // would otherwise refuse a larger limit, and download up to 10 MiB before a smaller one.
  const page = await shared.fetch(url, {
    timeoutMs,
    throwOnStatus: false,
    ...(maxBytes !== undefined ? { maxBytes } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  return toResponse(page);
}

function toResponse(page: FetchedPage): Response {
  const ok = page.status >= 200 && page.status <= 299;
  return {
    status: page.status,
    ok,
    url: page.finalUrl,
    contentType: page.contentType,
    text: page.text,
    json: <T>() => JSON.parse(page.text) as T,
    raiseForStatus() {
      if (!ok)
        throw new ScrapeError('ERR_SCRAPE_HTTP', `HTTP ${page.status} for ${page.finalUrl}`, {
          url: page.url,
          status: page.status,
        });
    },
  };
}
