/** Stable codes for every error this package raises. */
export type ScrapeErrorCode =
  | 'ERR_SCRAPE_BAD_URL'
  | 'ERR_SCRAPE_BAD_OPTION'
  | 'ERR_SCRAPE_BAD_SELECTORS'
  | 'ERR_SCRAPE_NOTHING_FOUND'
  | 'ERR_SCRAPE_HTTP'
  | 'ERR_SCRAPE_TIMEOUT'
  | 'ERR_SCRAPE_TOO_LARGE'
  | 'ERR_SCRAPE_REDIRECTS'
  | 'ERR_SCRAPE_NOT_HTML'
  | 'ERR_SCRAPE_ROBOTS'
  | 'ERR_SCRAPE_OFF_SITE'
  | 'ERR_SCRAPE_NETWORK'
  | 'ERR_SCRAPE_JOURNAL';

/**
 * The error every `@forage/scrape` function throws. `code` is stable; the message names the
 * input that was wrong and how to fix it.
 */
export class ScrapeError extends Error {
  override name = 'ScrapeError';
  readonly code: ScrapeErrorCode;
  /** The URL involved, when there is one. */
  readonly url: string | undefined;
  /** The HTTP status, for `ERR_SCRAPE_HTTP`. */
  readonly status: number | undefined;
  /** How long the server asked us to wait (`Retry-After`), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ScrapeErrorCode,
    message: string,
    details: { url?: string; status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.url = details.url;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}
