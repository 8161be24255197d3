/**
 * @forage/scrape: scrape a blog, every post, fast and politely.
 *
 * - {@link scrapeBlog}: every post of a blog as an async iterable.
 * - {@link get} and {@link soup}: a requests + BeautifulSoup feel for ported Python scripts.
 * - {@link jsonlLine}, {@link csvLine}, {@link htmlIndex}: output helpers the CLI uses.
 */

export { hasBrowser, type Opener, openInBrowser } from './browser.js';
export { isoFromMachine, isoFromText } from './dates.js';
export { ScrapeError, type ScrapeErrorCode } from './errors.js';
export { type FeedEntry, parseFeed, parseSitemap } from './feeds.js';
export {
  DEFAULT_USER_AGENT,
  type FetchedPage,
  Fetcher,
  type FetcherOptions,
  type FetchOptions,
} from './fetcher.js';
export { HostPool, type HostPoolOptions } from './host-pool.js';
export { type ParsedPage, parseDom } from './html.js';
export { type IndexEntry, readIndexEntries } from './index-page.js';
export { type JournalState, readJournal } from './journal.js';
export {
  CSV_COLUMNS,
  csvHeader,
  csvLine,
  escapeHtml,
  existingOutputUrls,
  htmlIndex,
  type IndexItem,
  indexItem,
  jsonlLine,
  type OutputFormat,
  OutputWriter,
} from './output.js';
export { type Pagination, readPagination } from './pagination.js';
export { type ExtractOptions, extractPost } from './post-page.js';
export { extractPostFromHtml } from './post-stream.js';
export { type GetOptions, get, type Response } from './requests.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { productToken, Robots } from './robots.js';
export { type ScrapeOptions, type ScrapeRun, scrapeBlog } from './scrape-blog.js';
export { loadSelectors, type Selectors, validateSelectors } from './selectors.js';
export { type AttrFilter, type FindOptions, type GetTextOptions, Soup, soup, Tag } from './soup.js';
export { countWords } from './text.js';
export type { Post, Preview, ScrapeStats } from './types.js';
