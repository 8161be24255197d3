/**
 * One blog post as `scrapeBlog` yields it. Every string is a fresh copy, never a slice of the
 * page it came from, so holding a post does not keep the page's HTML alive.
 */
export interface Post {
  /** The post's canonical URL (`link[rel=canonical]`, else `og:url`, else the URL fetched). */
  url: string;
  /** The post's title. */
  title: string;
  /**
   * When the post was published, ISO 8601: `2023-09-01` when only the day is known,
   * `2023-09-01T10:00:00` with a time, `2023-09-01T10:00:00+02:00` (or `Z`) with a zone.
   * `null` when the page gives no date.
   */
  date: string | null;
  /** The author's name, or `null`. */
  author: string | null;
  /** Tags and categories, in page order, without duplicates. */
  tags: string[];
  /** The summary shown on the index page (else the feed's, the meta description's, or the first paragraph). */
  summary: string | null;
  /** The main text, without navigation, headers, footers or comments; blocks separated by a blank line. */
  text: string;
  /** Words in `text` (runs of non-space characters). */
  wordCount: number;
}

/** What was seen of a post on an index page or in a feed, before its own page is fetched. */
export interface Preview {
  title?: string | undefined;
  summary?: string | undefined;
  date?: string | undefined;
}

/** Counts reported at the end of a scrape (and kept up to date while it runs). */
export interface ScrapeStats {
  /** Pages fetched successfully (index pages, posts, feeds, sitemaps, robots.txt). */
  pages: number;
  /** Index pages among them. */
  indexPages: number;
  /** Posts yielded. */
  posts: number;
  /** Requests that failed for good (HTTP errors after retries, timeouts, bad responses). */
  errors: number;
  /**
   * Pages left to do because they failed for now: a 5xx, 429, timeout or network error after
   * their retries (also counted in `errors`), or a robots.txt that could not be read. With a
   * journal they are recorded as failed, not done, and the next run tries them again.
   */
  failed: number;
  /** URLs not fetched on purpose, by reason (robots, off-site, not-html, max-pages, ...). */
  skipped: Record<string, number>;
  /** Retries made after 429/503/5xx or network errors. */
  retries: number;
  /** Posts already in the journal when the run started (resumed runs only). */
  resumed: number;
  /** Milliseconds from start to end. */
  elapsedMs: number;
  /** A few failures, for the message at the end: URL and reason. */
  errorSamples: { url: string; reason: string }[];
}
