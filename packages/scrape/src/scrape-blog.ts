import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import { retry } from '@forage/decorators';
import { ThreadPoolExecutor, taskModule } from '@forage/futures';
import type { Dispatcher } from 'undici';
import { Channel } from './channel.js';
import { ScrapeError } from './errors.js';
import { type FeedEntry, looksLikeFeed, parseFeed, parseSitemap } from './feeds.js';
import { assertHttpUrl, type FetchedPage, Fetcher } from './fetcher.js';
import { HostPool } from './host-pool.js';
import { documentBase, parseDom, resolveHref } from './html.js';
import { readIndexEntries, TRIED_DESCRIPTION } from './index-page.js';
import {
  type JournalState,
  JournalWriter,
  journalStartUrl,
  type PageRole,
  readJournal,
} from './journal.js';
import { type Pagination, readPagination } from './pagination.js';
import { extractPostFromHtml } from './post-stream.js';
import { queryOne } from './query.js';
import { DEFAULT_RETRY, isSlowDown, isTemporary, type RetryPolicy, retryOptions } from './retry.js';
import { Robots } from './robots.js';
import { type Selectors, validateSelectors } from './selectors.js';
import { politenessKey, Site, urlShape, withoutTracking } from './site.js';
import type { Post, Preview, ScrapeStats } from './types.js';

/** Options for {@link scrapeBlog}. All are optional. */
export interface ScrapeOptions {
  /** Most index and post pages to fetch in this run. Default: no limit. */
  maxPages?: number;
  /** Requests in flight per host. Default 8. */
  concurrency?: number;
  /** Minimum milliseconds between request starts per host. Default 0 (robots.txt `Crawl-delay` raises it). */
  delayMs?: number;
  /** Timeout of each request, headers and body, in milliseconds. Default 30,000. */
  timeoutMs?: number;
  /** Largest response accepted, bytes. Default 10 MiB. */
  maxBytes?: number;
  /** Redirects followed per request. Default 10 (the most allowed). */
  maxRedirects?: number;
  /** Honour robots.txt. Default true. */
  robots?: boolean;
  /** User-Agent header. Default names Forage and its version. */
  userAgent?: string;
  /** CSS selectors that override detection. */
  selectors?: Selectors;
  /** Hosts besides the start URL's (and its `www.` twin) that may be fetched. */
  allowHosts?: string[];
  /** Path of an append-only journal; when it exists, the scrape resumes from it. */
  journal?: string;
  /** Read the RSS/Atom feed and sitemap to find posts and fetch index pages in parallel. Default true. */
  useFeeds?: boolean;
  /** Retry policy for 429/503 (with `Retry-After`), other 5xx and network errors. */
  retry?: Partial<RetryPolicy>;
  /** Stops the scrape: the iteration ends after the posts already extracted, and the journal is kept. */
  signal?: AbortSignal;
  /** Undici dispatcher to send requests through (tests, proxies). */
  dispatcher?: Dispatcher;
  /**
   * Worker threads (a `ThreadPoolExecutor` of `@forage/futures`) that parse and read post pages
   * while the calling thread keeps the requests moving. Default 1 where the machine has more
   * than one core, else 0 (everything on the calling thread). On the 5,000-post benchmark 1
   * thread took the scrape from about 1,230 to about 1,660 pages/s for about 25 MB more memory.
   * Post-page `selectors` keep extraction on the calling thread.
   */
  extractThreads?: number;
}

/** The extraction thread's young generation, MB: a page's garbage dies young (see below). */
const EXTRACT_YOUNG_MB = 2;
// The extraction thread's task module (see post-worker.ts); typed references to its exports.
const postWorker = taskModule<typeof import('./post-worker.js')>(
  new URL('./post-worker.js', import.meta.url),
);

/** A running scrape: iterate it for posts; `stats` is kept current and final once iteration ends. */
export interface ScrapeRun extends AsyncIterable<Post> {
  readonly stats: ScrapeStats & {
    /**
     * True when every page was visited: not stopped, not cut by `maxPages`, and none left to do
     * because it failed for now (`failed`).
     */
    complete: boolean;
    /** How posts were found on index pages ("Hugo beautifulhugo", "selectors", ...). */
    strategy: string | null;
  };
}

/** Post pages in progress at once (fetching, parsing, or waiting for the consumer). */
const POST_WINDOW = 48;
/**
 * Index pages are read only while fewer than this many posts they found (or will find) are
 * waiting, so fanning out over thousands of index pages does not hold every post's preview in
 * memory before the posts are fetched.
 */
const POSTS_AHEAD = 256;
const PRIORITY: Record<PageRole, number> = { index: 10, post: 0, late: 0 };
/** Index pages the fan-out adds for each index page that lists new posts (see #fanOut). */
const FAN_OUT_GROWTH = 2;
const acceptPage = (type: string) => type === '' || /html|xml/i.test(type);

type FetchFn = (
  url: string,
  priority: number,
  accept?: (type: string) => boolean,
) => Promise<FetchedPage>;

interface QueueInfo {
  role: PageRole;
  preview?: Preview | undefined;
  speculative?: boolean | undefined;
}

/** `s` percent-decoded, or as it is where it does not decode (a stray `%`). */
function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The target of a page's `<meta http-equiv="refresh" content="0; url=...">`, resolved. */
function metaRefreshTarget(doc: ReturnType<typeof parseDom>, base: string): string | null {
  const content = queryOne(doc, 'meta[http-equiv="refresh" i][content]')?.attribs.content;
  const m = /^\s*[\d.]*\s*[;,]\s*url\s*=\s*(["']?)([^"']+)\1/i.exec(content ?? '');
  return m ? resolveHref(m[2]!.trim(), base) : null;
}

/**
 * Scrapes every post of a blog. Give it the blog's front page (or any index page); it finds the
 * post list, follows pagination (in parallel when the page count or a feed/sitemap tells how
 * many pages there are), fetches each post and yields it as soon as it is extracted.
 *
 * ```ts
 * const run = scrapeBlog('https://example.com/', { concurrency: 8 });
 * for await (const post of run) console.log(post.date, post.title);
 * console.log(run.stats);
 * ```
 *
 * Bad options throw a {@link ScrapeError} at once; a site where no posts are found makes the
 * iteration throw `ERR_SCRAPE_NOTHING_FOUND` naming what was tried.
 */
export function scrapeBlog(url: string, options: ScrapeOptions = {}): ScrapeRun {
  const crawl = new Crawl(url, options);
  return {
    stats: crawl.stats,
    [Symbol.asyncIterator]() {
      crawl.begin();
      return {
        next: () => crawl.channel.next(),
        return: async () => {
          crawl.stop(true);
          await crawl.finished;
          return { value: undefined, done: true };
        },
      };
    },
  };
}

/** The longest a Node.js timer waits: a longer one fires after 1 ms (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function positiveInt(
  name: string,
  value: number | undefined,
  min: number,
  max?: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || (max !== undefined && value > max)) {
    throw new ScrapeError(
      'ERR_SCRAPE_BAD_OPTION',
      `${name} must be a whole number >= ${min}${max !== undefined ? ` and <= ${max}` : ''}, got ${value}`,
    );
  }
  return value;
}

class Crawl {
  readonly start: URL;
  readonly options: ScrapeOptions;
  readonly selectors: Selectors;
  readonly site: Site;
  readonly fetcher: Fetcher;
  readonly pool: HostPool;
  readonly retry: RetryPolicy;
  readonly channel = new Channel<Post>(64);
  readonly #waitingPosts: { url: string; info: QueueInfo }[] = [];
  #waitingHead = 0;
  #postsActive = 0;
  readonly #waitingIndex: { url: string; info: QueueInfo }[] = [];
  #indexActive = 0;
  readonly stats: ScrapeRun['stats'] = {
    pages: 0,
    indexPages: 0,
    posts: 0,
    errors: 0,
    failed: 0,
    skipped: {},
    retries: 0,
    resumed: 0,
    elapsedMs: 0,
    errorSamples: [],
    complete: false,
    strategy: null,
  };
  finished: Promise<void> = Promise.resolve();

  readonly #queued = new Map<string, QueueInfo>();
  readonly #done = new Set<string>();
  readonly #posts = new Set<string>();
  readonly #robots = new Map<string, Promise<Robots>>();
  readonly #robotsReady = new Map<string, Robots>();
  /** robots.txt read for a redirect target, outside the host pool (see #robotsForRedirect). */
  readonly #robotsDirect = new Map<string, Promise<Robots>>();
  /** Why an origin's robots.txt made the whole site disallowed (it could not be read). */
  readonly #robotsFailures = new Map<string, { reason: string; error: ScrapeError }>();
  readonly #feed = new Map<string, FeedEntry>();
  readonly #sitemapUrls = new Set<string>();
  readonly #shapes = new Set<string>();
  #journal: JournalWriter | null = null;
  /** `Authorization` for the start URL's server, from credentials in the start URL. */
  #authorization: string | undefined;
  readonly #fetch: FetchFn;
  /** {@link #fetch} without the host pool, for #robotsForRedirect only. */
  readonly #fetchDirect: FetchFn;
  readonly #abort = new AbortController();
  #budget: number;
  #cut = false;
  #stopped = false;
  #started = false;
  #outstanding = 0;
  #idle: (() => void)[] = [];
  #perPage = 0;
  #pagination: Pagination | null = null;
  #fannedOut = false;
  /** The next page number the fan-out queues, the last it may queue, and whether it guesses. */
  #fanNext = 1;
  #fanEnd = 0;
  #fanSpeculative = false;
  #startError: string | null = null;
  #postLinks = 0;
  /** Where a start page that is only a meta refresh sends the reader (see #indexPage). */
  #startRefresh: string | null = null;
  /** The URL the start page answered from (after redirects), once it has been read. */
  #startFinal: string | null = null;
  /** The first post link the start page gave that is on another host, if any. */
  #offSitePost: string | null = null;
  #offSitePosts = 0;
  #t0 = 0;
  /** Where post pages are read, when not on this thread (`extractThreads`). */
  #extractor: ThreadPoolExecutor | undefined;
  /**
   * Posts between "fetch started" and "handed to the consumer". With an extraction thread,
   * fetches would otherwise run ahead of extraction by the whole window (while the thread
   * starts, say); twice the concurrency keeps both busy and a consumer that leaves early
   * costs at most that many extra requests.
   */
  #postWindow = POST_WINDOW;

  constructor(url: string, options: ScrapeOptions) {
    const start = assertHttpUrl(url);
    start.hash = '';
    // A user name and password in the URL (a staging blog behind basic auth) become a header
    // sent to that server only: left in the URL, they would be copied into every link resolved
    // against it, and so into the output, the journal and every message.
    if (start.username || start.password) {
      const user = `${decoded(start.username)}:${decoded(start.password)}`;
      this.#authorization = `Basic ${Buffer.from(user).toString('base64')}`;
      start.username = '';
      start.password = '';
    }
    // The front page is queued without tracking tags (as every link is), so the start URL is
    // that one too: a tagged start URL was otherwise never recognised as the start page.
    this.start = new URL(withoutTracking(start.href));
    this.options = options;
    this.#budget = positiveInt('maxPages', options.maxPages, 1) ?? Number.POSITIVE_INFINITY;
    const concurrency = positiveInt('concurrency', options.concurrency, 1) ?? 8;
    const delayMs = positiveInt('delayMs', options.delayMs, 0, MAX_TIMER_MS) ?? 0;
    positiveInt('timeoutMs', options.timeoutMs, 1, MAX_TIMER_MS);
    const maxRedirects = positiveInt('maxRedirects', options.maxRedirects, 0) ?? 10;
    if (maxRedirects > 10)
      throw new ScrapeError(
        'ERR_SCRAPE_BAD_OPTION',
        `maxRedirects must be at most 10, got ${maxRedirects}`,
      );
    this.selectors = options.selectors
      ? validateSelectors(options.selectors, 'options.selectors')
      : {};
    const threads =
      positiveInt('extractThreads', options.extractThreads, 0) ??
      (availableParallelism() > 1 ? 1 : 0);
    const postSelectors = this.selectors.post && Object.values(this.selectors.post).some(Boolean);
    if (threads > 0 && !postSelectors) {
      this.#postWindow = Math.min(POST_WINDOW, 2 * concurrency);
      this.#extractor = new ThreadPoolExecutor({
        maxWorkers: threads,
        namePrefix: 'forage-scrape-extract',
        // Measured on the 5,000-post bench: 2 MB held the thread's heap near 11 MB at no cost in
        // speed; V8's default young generation let peak RSS grow by about 20 MB more.
        resourceLimits: { maxYoungGenerationSizeMb: EXTRACT_YOUNG_MB },
      });
    }
    // Another scrape's journal is a bad option, refused before anything is fetched or written.
    const owner = options.journal ? journalStartUrl(options.journal) : null;
    if (owner && owner !== this.start.href) throw this.#foreignJournal(options.journal!, owner);
    this.site = new Site(this.start, options.allowHosts);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.pool = new HostPool({ concurrency, delayMs });
    this.#fetch = this.#retryingFetch(true);
    this.#fetchDirect = this.#retryingFetch(false);
    // One abort listener per request in flight is expected, not a leak.
    setMaxListeners(0, this.#abort.signal);
    this.fetcher = new Fetcher({
      userAgent: options.userAgent,
      timeoutMs: options.timeoutMs,
      maxBytes: options.maxBytes,
      maxRedirects,
      connections: concurrency,
      dispatcher: options.dispatcher,
      checkRedirect: async (target) => {
        if (!this.site.has(target))
          return {
            code: 'ERR_SCRAPE_OFF_SITE',
            reason: 'another site; scrape that URL instead, or allow its host with allowHosts',
          };
        // robots.txt is never subject to robots.txt (and reading one for it could go round in
        // circles between an http and an https robots.txt).
        if (this.options.robots === false || target.pathname === '/robots.txt') return null;
        // A same-site origin not seen before (http -> https, apex -> www.) has its robots.txt
        // read now, before the redirect is followed.
        const robots =
          this.#robotsReady.get(target.origin) ?? (await this.#robotsForRedirect(target.origin));
        if (robots.allows(target)) return null;
        // A robots.txt that could not be read disallows for now only: the error it gave is the
        // cause, so that the page is journaled as failed and a rerun tries it again.
        const unreadable = this.#robotsFailures.get(target.origin);
        if (unreadable === undefined)
          return { code: 'ERR_SCRAPE_ROBOTS', reason: 'disallowed by robots.txt' };
        return { code: 'ERR_SCRAPE_ROBOTS', reason: unreadable.reason, cause: unreadable.error };
      },
    });
  }

  begin(): void {
    if (this.#started) return;
    this.#started = true;
    this.#t0 = performance.now();
    this.options.signal?.addEventListener('abort', () => this.stop(false), { once: true });
    this.finished = this.#run().then(
      () => this.channel.close(),
      (error) => this.channel.close(error),
    );
  }

  /**
   * Stops fetching. With `dropOutput` (the consumer left the loop) nothing more is delivered;
   * otherwise posts already extracted are still delivered and the iteration then ends.
   */
  stop(dropOutput: boolean): void {
    this.#stopped = true;
    this.#abort.abort();
    if (dropOutput) this.channel.close();
  }

  async #run(): Promise<void> {
    try {
      const resumed = this.options.journal ? this.#resume(this.options.journal) : null;
      if (resumed?.complete) {
        this.stats.complete = true;
        return;
      }
      if (this.options.signal?.aborted) return;
      await this.#robotsFor(this.start.origin);
      if (this.options.useFeeds !== false) this.#track(this.#discoverSitemaps());
      if (resumed) {
        if (this.options.useFeeds !== false) this.#resumeFeed(resumed);
        for (const [url, info] of resumed.queued)
          if (!resumed.done.has(url)) this.#schedule(url, info);
      } else {
        this.#enqueue(this.start.href, 'index');
      }
      await this.#whenIdle();
      // Posts that a feed or sitemap lists but no index page linked to.
      for (const url of this.#latePosts()) this.#enqueue(url, 'late', this.#feedPreview(url));
      await this.#whenIdle();
      this.stats.complete = !this.#stopped && !this.#cut && this.stats.failed === 0;
      // Only a scrape that found something is finished: a rerun of one that found nothing (the
      // site was down, robots.txt said no) must try again, not resume a journal marked done.
      this.#checkSomethingFound();
      if (this.stats.complete) this.#journal?.write({ k: 'end' });
    } finally {
      this.stats.elapsedMs = Math.round(performance.now() - this.#t0);
      this.#journal?.close();
      await Promise.all([this.fetcher.close(), this.#extractor?.shutdown({ cancelFutures: true })]);
    }
  }

  #resume(path: string): JournalState | null {
    const state = readJournal(path);
    if (state && state.startUrl !== this.start.href)
      throw this.#foreignJournal(path, state.startUrl);
    this.#journal = new JournalWriter(path);
    if (!state) {
      this.#journal.write({ k: 'start', url: this.start.href, v: 1 });
      return null;
    }
    for (const [url, info] of state.queued) {
      this.#queued.set(url, info);
      if (info.role === 'post') this.#shapes.add(urlShape(url));
    }
    for (const url of state.done) this.#done.add(url);
    for (const key of state.posts.keys()) this.#posts.add(key);
    this.stats.resumed = state.posts.size;
    this.#fannedOut = true; // index pages found last time are already in the queue
    return state;
  }

  #foreignJournal(path: string, startUrl: string): ScrapeError {
    return new ScrapeError(
      'ERR_SCRAPE_JOURNAL',
      `journal ${path} belongs to a scrape of ${startUrl}, not ${this.start.href}; use another output file or delete the journal`,
    );
  }

  #checkSomethingFound(): void {
    if (this.#posts.size > 0 || this.#stopped) return;
    if (this.#startError) {
      throw new ScrapeError(
        'ERR_SCRAPE_NOTHING_FOUND',
        `no posts: the start page ${this.start.href} could not be read (${this.#startError})`,
        { url: this.start.href },
      );
    }
    if (this.#postLinks === 0 && this.#offSitePost) {
      // A blog whose links all name another host (a generator's baseURL left at its default,
      // a front page listing posts published elsewhere): the layout was found, selectors would
      // not help.
      throw new ScrapeError(
        'ERR_SCRAPE_NOTHING_FOUND',
        `found ${this.#offSitePosts} post links on ${this.start.href} but all lead to another site (${this.#offSitePost}): scrape that site instead, or allow its host with allowHosts`,
        { url: this.start.href },
      );
    }
    if (this.#postLinks > 0) {
      const first = this.stats.errorSamples[0];
      throw new ScrapeError(
        'ERR_SCRAPE_NOTHING_FOUND',
        `found ${this.#postLinks} post links on ${this.start.href} but no post page could be read${first ? ` (first failure: ${first.url}: ${first.reason})` : ''}`,
        { url: this.start.href },
      );
    }
    throw new ScrapeError(
      'ERR_SCRAPE_NOTHING_FOUND',
      `no posts found on ${this.start.href}. Tried: ${TRIED_DESCRIPTION}; and ${this.options.useFeeds === false ? 'no feed or sitemap (turned off)' : 'no RSS/Atom feed or sitemap.xml listing posts'}. Give CSS selectors (--selectors FILE, e.g. {"index": {"post": "div.story", "link": "a"}}) to say where posts are.`,
      { url: this.start.href },
    );
  }

  // ---- the frontier ----------------------------------------------------------------------

  #enqueue(link: string, role: PageRole, preview?: Preview, speculative?: boolean): void {
    const url = withoutTracking(link);
    if (this.#queued.has(url)) return;
    if (!this.site.has(url)) {
      this.#skip('off-site');
      return;
    }
    const info: QueueInfo = { role, preview, speculative };
    this.#queued.set(url, info);
    if (role === 'post') this.#postLinks++;
    const rec: {
      k: 'queue';
      url: string;
      role: PageRole;
      preview?: Preview;
      speculative?: boolean;
    } = { k: 'queue', url, role };
    if (preview) rec.preview = preview;
    if (speculative) rec.speculative = true;
    this.#journal?.write(rec);
    this.#schedule(url, info);
  }

  #schedule(url: string, info: QueueInfo): void {
    if (this.#stopped) return;
    if (this.#budget <= 0) {
      this.#cut = true;
      this.#skip('max-pages');
      return;
    }
    this.#budget--;
    if (info.role === 'index') {
      this.#waitingIndex.push({ url, info });
      this.#startIndexPages();
    } else {
      this.#waitingPosts.push({ url, info });
      this.#startPosts();
    }
  }

  /** Starts waiting index pages while the posts found and still to be fetched stay under POSTS_AHEAD. */
  #startIndexPages(): void {
    const perPage = this.#perPage || 10;
    // Waiting posts always get started (each one that ends calls this again), so this never stalls.
    while (
      this.#waitingIndex.length > 0 &&
      this.#waitingPosts.length - this.#waitingHead + this.#indexActive * perPage < POSTS_AHEAD
    ) {
      const next = this.#waitingIndex.shift()!;
      this.#indexActive++;
      this.#track(
        this.#process(next.url, next.info).finally(() => {
          this.#indexActive--;
          this.#startIndexPages();
        }),
      );
    }
  }

  /**
   * Starts waiting post pages while fewer than `#postWindow` are between "fetch started" and
   * "handed to the consumer". The frontier stays plain data until then, so a 5,000-post queue
   * costs a few hundred KB, and a slow consumer holds back fetching instead of filling memory.
   */
  #startPosts(): void {
    while (this.#postsActive < this.#postWindow && this.#waitingHead < this.#waitingPosts.length) {
      const next = this.#waitingPosts[this.#waitingHead]!;
      this.#waitingPosts[this.#waitingHead++] = undefined as never;
      if (this.#waitingHead > 1024 && this.#waitingHead * 2 > this.#waitingPosts.length) {
        this.#waitingPosts.splice(0, this.#waitingHead);
        this.#waitingHead = 0;
      }
      this.#postsActive++;
      // The next post starts before this task counts as finished, so the crawl never looks idle
      // while posts are still waiting.
      this.#track(
        this.#process(next.url, next.info).finally(() => {
          this.#postsActive--;
          this.#startPosts();
        }),
      );
    }
    this.#startIndexPages();
  }

  #track(task: Promise<void>): void {
    this.#outstanding++;
    task
      .catch((error) => this.#fail('(internal)', error))
      .finally(() => {
        if (--this.#outstanding === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
  }

  #whenIdle(): Promise<void> {
    return this.#outstanding === 0
      ? Promise.resolve()
      : new Promise((resolve) => this.#idle.push(resolve));
  }

  #skip(reason: string): void {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
  }

  #fail(url: string, error: unknown): void {
    this.stats.errors++;
    if (this.stats.errorSamples.length < 10) {
      this.stats.errorSamples.push({ url, reason: (error as Error)?.message ?? String(error) });
    }
  }

  #markDone(url: string): void {
    this.#done.add(url);
    this.#journal?.write({ k: 'done', url });
  }

  /** A page that failed for now: not done, so a resumed run fetches it again (see isTemporary). */
  #markFailed(url: string): void {
    this.stats.failed++;
    this.#journal?.write({ k: 'failed', url });
  }

  // ---- fetching --------------------------------------------------------------------------

  /**
   * GETs a URL through the host pool, retried per the policy by `@forage/decorators`' `retry`
   * (which reads `Retry-After` from the error). A 429/503 also pauses the whole host for the
   * wait, so that other requests to it hold off too.
   */
  #retryingFetch(pooled: boolean): FetchFn {
    return retry(
      retryOptions(this.retry, {
        shouldStop: () => this.#stopped,
        signal: this.#abort.signal,
        beforeSleep: (error, delayMs, state) => {
          this.stats.retries++;
          if (isSlowDown(error)) this.pool.pause(politenessKey(String(state.args[0])), delayMs);
        },
      }),
    )((url: string, priority: number, accept: (type: string) => boolean = acceptPage) => {
      const get = () =>
        this.fetcher.fetch(url, {
          accept,
          signal: this.#abort.signal,
          ...this.#credentialsFor(url),
        });
      // example.com and www.example.com share one concurrency and delay: one server.
      return pooled ? this.pool.run(politenessKey(url), get, priority, this.#abort.signal) : get();
    });
  }

  /**
   * The start URL's credentials, for a request to its server (with or without `www.`), never
   * sent in clear over http when they were given for https. The fetcher drops them on a
   * redirect to another host.
   */
  #credentialsFor(url: string): { headers: Record<string, string> } | undefined {
    if (!this.#authorization) return undefined;
    const u = new URL(url);
    if (politenessKey(u) !== politenessKey(this.start)) return undefined;
    if (u.protocol === 'http:' && this.start.protocol === 'https:') return undefined;
    return { headers: { authorization: this.#authorization } };
  }

  #robotsFor(origin: string): Promise<Robots> {
    if (this.options.robots === false) return Promise.resolve(Robots.allowAll());
    let p = this.#robots.get(origin);
    if (!p) {
      p = this.#loadRobots(origin, this.#fetch).then((r) => this.#robotsLoaded(origin, r));
      this.#robots.set(origin, p);
    }
    return p;
  }

  /**
   * The robots.txt of a redirect's target origin, read while the redirected request waits. It
   * is fetched outside the host pool: that request holds a slot of (usually) the same server,
   * so with concurrency 1 a queued robots.txt would wait behind it for ever. That request is
   * idle meanwhile, so the server still sees no more requests at once than the concurrency (a
   * target on another allowed host may see one more, once).
   */
  #robotsForRedirect(origin: string): Promise<Robots> {
    let p = this.#robotsDirect.get(origin);
    if (!p) {
      p = this.#loadRobots(origin, this.#fetchDirect).then((r) => this.#robotsLoaded(origin, r));
      this.#robotsDirect.set(origin, p);
      if (!this.#robots.has(origin)) this.#robots.set(origin, p);
    }
    return p;
  }

  #robotsLoaded(origin: string, r: Robots): Robots {
    if (!this.#robotsReady.has(origin)) this.#robotsReady.set(origin, r);
    const delay = r.crawlDelayMs;
    if (delay !== undefined && delay > this.pool.delayMs)
      this.pool.delayMs = Math.min(delay, 60_000);
    return this.#robotsReady.get(origin)!;
  }

  async #loadRobots(origin: string, fetch: FetchFn): Promise<Robots> {
    try {
      const page = await fetch(`${origin}/robots.txt`, 20, () => true);
      this.stats.pages++;
      // The groups for the User-Agent we send (a custom one brings its own rules).
      return Robots.parse(page.text, this.fetcher.userAgent);
    } catch (error) {
      // RFC 9309 2.3.1.4: unreachable "due to server or network errors" means complete disallow.
      if (
        error instanceof ScrapeError &&
        ((error.status !== undefined && error.status >= 500) ||
          error.code === 'ERR_SCRAPE_NETWORK' ||
          error.code === 'ERR_SCRAPE_TIMEOUT')
      ) {
        const why =
          error.status !== undefined
            ? `answered ${error.status}`
            : `could not be fetched (${error.message})`;
        const reason = `robots.txt ${why}; RFC 9309 says to treat the whole site as disallowed (pass --no-robots / robots: false to override)`;
        this.#robotsFailures.set(origin, { reason, error });
        this.#fail(`${origin}/robots.txt`, new Error(reason));
        return Robots.disallowAll();
      }
      return Robots.allowAll(); // missing (4xx), too large, off-site: as if there were none
    }
  }

  // ---- pages -----------------------------------------------------------------------------

  async #process(url: string, info: QueueInfo): Promise<void> {
    const robots = await this.#robotsFor(new URL(url).origin);
    if (this.#stopped) return;
    if (!robots.allows(url)) {
      this.#skip('robots');
      if (this.#isStart(url))
        this.#startError =
          this.#robotsFailures.get(this.start.origin)?.reason ??
          'robots.txt does not allow it; pass --no-robots (robots: false) to ignore robots.txt';
      // A robots.txt that could not be read disallows everything for now only: a rerun tries
      // again. The start page stays to do: a rerun (later, or with robots: false) reads it then.
      if (this.#robotsFailures.has(new URL(url).origin)) this.#markFailed(url);
      else if (!this.#isStart(url)) this.#markDone(url);
      return;
    }
    let page: FetchedPage;
    try {
      page = await this.#fetch(url, PRIORITY[info.role]);
    } catch (error) {
      if (this.#stopped) return;
      this.#fetchFailed(url, info, error);
      // A server or network that is down for now: journaled as failed, so a rerun tries again
      // (in this run it is not fetched again). So is a redirect refused because the target's
      // robots.txt could not be read (see checkRedirect). A 404 or 410, gone for good, is done.
      if (isTemporary(error) || isTemporary((error as ScrapeError | undefined)?.cause))
        this.#markFailed(url);
      else if (!this.#isStart(url)) this.#markDone(url);
      return;
    }
    if (this.#stopped) return;
    this.stats.pages++;
    try {
      if (info.role === 'index') this.#indexPage(page);
      else await this.#postPage(page, info);
    } catch (error) {
      this.#fail(url, error);
    }
    // The URL stays known (no page is fetched twice); what the index showed of it is no longer
    // needed, and 5,000 summaries are most of a crawl's live memory.
    info.preview = undefined;
    if (!this.#stopped) this.#markDone(url);
  }

  #fetchFailed(url: string, info: QueueInfo, error: unknown): void {
    const code = error instanceof ScrapeError ? error.code : undefined;
    if (info.speculative && error instanceof ScrapeError && error.status === 404)
      this.#skip('past-last-page');
    else if (code === 'ERR_SCRAPE_NOT_HTML') this.#skip('not-html');
    else if (code === 'ERR_SCRAPE_OFF_SITE') this.#skip('off-site');
    else if (code === 'ERR_SCRAPE_ROBOTS') this.#skip('robots');
    else this.#fail(url, error);
    if (this.#isStart(url)) this.#startError = (error as Error).message;
  }

  #indexPage(page: FetchedPage): void {
    const isStart = this.#isStart(page.url);
    if (looksLikeFeed(page.text)) {
      for (const entry of parseFeed(page.text, page.finalUrl)) this.#addFeedEntry(entry, true);
      return;
    }
    this.stats.indexPages++;
    // The bare tree, not cheerio: it dies young (see parseDom), and nothing here needs the wrapper.
    const doc = parseDom(page.text);
    const base = documentBase(doc, page.finalUrl);
    const { entries, strategy } = readIndexEntries(doc, base, this.selectors.index);
    if (isStart && entries.length === 0 && this.#startRefresh === null) {
      // A front page that is only a <meta http-equiv="refresh"> (the alias Hugo writes at the
      // root of a multilingual site, pointing at /en/) is a redirect: its target is the front page.
      const target = metaRefreshTarget(doc, base);
      if (target && target !== page.url && this.site.has(target)) {
        this.#startRefresh = withoutTracking(target);
        this.#enqueue(target, 'index');
        return;
      }
    }
    if (isStart) {
      this.#startFinal = page.finalUrl;
      this.stats.strategy = strategy;
      this.#perPage = entries.length;
      for (const e of entries) {
        if (this.site.has(e.url)) this.#shapes.add(urlShape(e.url));
        else {
          this.#offSitePosts++;
          this.#offSitePost ??= e.url;
        }
      }
      if (this.options.useFeeds !== false) this.#discoverFeedOf(doc, base);
    }
    let fresh = 0;
    for (const e of entries) {
      if (!this.#queued.has(e.url)) fresh++;
      this.#enqueue(e.url, 'post', e.preview);
    }
    const pagination = readPagination(doc, page.url, base, this.selectors.index?.next);
    // A page past the last one that still links "older posts" (some engines render them)
    // would lead on forever: follow a next link only from a page that listed new posts.
    if (pagination.next && (isStart || fresh > 0)) this.#enqueue(pagination.next, 'index');
    else if (pagination.next) this.#skip('index-without-new-posts');
    if (fresh > 0 && !isStart) this.#extendFanOut(FAN_OUT_GROWTH);
    if (isStart) this.#pagination = pagination;
    else if (pagination.last && this.#pagination && !this.#pagination.last)
      this.#pagination.last = pagination.last;
    this.#fanOut();
  }

  async #postPage(page: FetchedPage, info: QueueInfo): Promise<void> {
    if (looksLikeFeed(page.text)) {
      this.#skip('not-html');
      return;
    }
    // A deleted post often redirects to the front page: that is not a post.
    if (this.#isIndexUrl(page.finalUrl)) {
      this.#skip('redirected-to-index');
      return;
    }
    const feed = this.#feedPreview(page.url);
    const preview = feed || info.preview ? { ...feed, ...info.preview } : undefined;
    const post = this.#extractor
      ? await this.#extractor.submit(
          postWorker.extractPostTask,
          page.text,
          page.finalUrl,
          preview,
          this.start.href,
          this.options.allowHosts ?? [],
        )
      : extractPostFromHtml(page.text, page.finalUrl, {
          preview,
          selectors: this.selectors.post,
          sameSite: (u) => this.site.has(u),
        });
    if (!post?.text) {
      this.#skip('empty');
      return;
    }
    // A canonical link pointing at the front page (a common plugin misconfiguration) would
    // make every post a duplicate of the first: the URL fetched names the post then.
    if (post.url !== page.finalUrl && this.#isIndexUrl(post.url)) post.url = page.finalUrl;
    if (info.role === 'late' && !post.date) {
      this.#skip('not-a-post');
      return;
    }
    if (this.#stopped) return;
    if (this.#posts.has(post.url)) {
      this.#skip('duplicate');
      return;
    }
    this.#posts.add(post.url);
    this.stats.posts++;
    this.#journal?.write({ k: 'post', post });
    await this.channel.push(post);
  }

  /** The start URL, or where the start page's meta refresh sent the crawl (see #indexPage). */
  #isStart(url: string): boolean {
    return url === this.start.href || url === this.#startRefresh;
  }

  /**
   * The start page (by the URL given, the URL it redirected to, or either under its other names:
   * http or https, with or without `www.`) or a page queued as an index page.
   */
  #isIndexUrl(url: string): boolean {
    if (url === this.start.href || url === this.#startFinal) return true;
    if (this.#queued.get(url)?.role === 'index') return true;
    const u = new URL(url);
    const key = politenessKey(u);
    return [this.start, this.#startFinal].some((front) => {
      if (!front) return false;
      const f = new URL(front);
      return politenessKey(f) === key && f.pathname === u.pathname && f.search === u.search;
    });
  }

  // ---- feeds, sitemaps and fan-out ----------------------------------------------------------

  /** Fetches index pages 2..N in parallel once the page count is known or can be estimated. */
  #fanOut(): void {
    const p = this.#pagination;
    if (this.#fannedOut || !p?.pageUrl) return;
    let last = p.last;
    let speculative = false;
    if (!last) {
      const expected = this.#expectedPosts();
      if (!expected || !this.#perPage) return;
      last = Math.ceil(expected / this.#perPage);
      speculative = true;
    }
    this.#fannedOut = true;
    // Under maxPages, fetch only as many index pages as there is budget left to follow up on.
    const affordable = Number.isFinite(this.#budget)
      ? Math.floor(this.#budget / (this.#perPage + 1))
      : 100_000;
    this.#fanNext = p.current + 2;
    this.#fanEnd = Math.min(last, p.current + 1 + affordable);
    this.#fanSpeculative = speculative;
    // The page count is a claim, not evidence: a "Last" link to page 100,000 (a theme bug) would
    // otherwise be 100,000 requests. So the fan-out grows only as pages prove to exist: first
    // two pages per connection to the host (enough to keep them all busy), then FAN_OUT_GROWTH
    // more for each index page that lists new posts (#indexPage). On a real blog it keeps
    // ahead of the index pages read (those are held back to POSTS_AHEAD posts anyway); past a
    // bogus last page it stops after a few requests, and the next links still lead on. The
    // host pool keeps the requests in flight within the concurrency either way.
    this.#extendFanOut(2 * this.pool.concurrency);
  }

  /** Queues up to `pages` more index pages of the fan-out (none before #fanOut sets it up). */
  #extendFanOut(pages: number): void {
    const p = this.#pagination;
    if (!this.#fannedOut || !p?.pageUrl) return;
    const to = Math.min(this.#fanEnd, this.#fanNext + pages - 1);
    for (; this.#fanNext <= to; this.#fanNext++)
      this.#enqueue(p.pageUrl(this.#fanNext), 'index', undefined, this.#fanSpeculative);
  }

  #expectedPosts(): number {
    if (!this.#shapes.size) return this.#feed.size;
    let n = 0;
    for (const url of this.#sitemapUrls) if (this.#shapes.has(urlShape(url))) n++;
    return Math.max(n, this.#feed.size);
  }

  #latePosts(): string[] {
    const out: string[] = [];
    for (const url of this.#feed.keys()) if (!this.#queued.has(url)) out.push(url);
    if (this.#shapes.size) {
      for (const url of this.#sitemapUrls) {
        if (!this.#queued.has(url) && !this.#feed.has(url) && this.#shapes.has(urlShape(url)))
          out.push(url);
      }
    }
    return out.filter((u) => this.site.has(u));
  }

  #feedPreview(url: string): Preview | undefined {
    const e = this.#feed.get(url);
    if (!e) return undefined;
    const p: Preview = {};
    if (e.title) p.title = e.title;
    if (e.summary) p.summary = e.summary;
    if (e.date) p.date = e.date;
    return p;
  }

  #addFeedEntry(entry: FeedEntry, enqueue: boolean): void {
    if (!this.site.has(entry.url)) return;
    const url = withoutTracking(entry.url);
    this.#feed.set(url, { ...entry, url });
    if (enqueue) this.#enqueue(url, 'post', this.#feedPreview(url));
  }

  /**
   * Reads the RSS/Atom feed the start page links to (`<link rel="alternate">`), if on site, and
   * notes it in the journal for a resumed run.
   */
  #discoverFeedOf(doc: ReturnType<typeof parseDom>, base: string): void {
    const feed = queryOne(
      doc,
      'link[rel~="alternate"][type*="rss"], link[rel~="alternate"][type*="atom"]',
    )?.attribs.href;
    const href = resolveHref(feed, base);
    const feedUrl = href && this.site.has(href) ? href : null;
    this.#journal?.write({ k: 'feed', url: feedUrl });
    if (feedUrl) this.#track(this.#discoverFeed(feedUrl));
  }

  /**
   * The feed's link is on the start page, which a resumed run does not read again: without the
   * feed, the posts only it lists would be lost (and the run still called complete).
   */
  #resumeFeed(state: JournalState): void {
    if (state.feed !== undefined) {
      if (state.feed) this.#track(this.#discoverFeed(state.feed));
    } else if (state.done.has(this.start.href)) {
      // A journal written before the feed was recorded: fetch the start page for its link.
      this.#track(this.#rediscoverFeed());
    }
  }

  /** Fetches the start page again only for its feed link (see {@link #resumeFeed}). */
  async #rediscoverFeed(): Promise<void> {
    const robots = await this.#robotsFor(this.start.origin);
    if (!robots.allows(this.start.href)) return;
    try {
      const page = await this.#fetch(this.start.href, 5);
      this.stats.pages++;
      if (looksLikeFeed(page.text)) return; // a feed as the start URL is re-read as an index page
      const doc = parseDom(page.text);
      this.#discoverFeedOf(doc, documentBase(doc, page.finalUrl));
    } catch {
      this.#skip('feed-unavailable');
    }
  }

  async #discoverFeed(url: string): Promise<void> {
    const robots = await this.#robotsFor(new URL(url).origin);
    if (!robots.allows(url)) return;
    try {
      const page = await this.#fetch(url, 5);
      this.stats.pages++;
      if (!looksLikeFeed(page.text)) return;
      for (const entry of parseFeed(page.text, page.finalUrl)) this.#addFeedEntry(entry, false);
      this.#fanOut();
    } catch {
      this.#skip('feed-unavailable');
    }
  }

  async #discoverSitemaps(): Promise<void> {
    const robots = await this.#robotsFor(this.start.origin);
    const listed = robots.sitemaps.filter((u) => this.site.has(u));
    let pending = listed.length ? listed : [`${this.start.origin}/sitemap.xml`];
    for (let round = 0; round < 3 && pending.length; round++) {
      const next: string[] = [];
      await Promise.all(
        pending.slice(0, 50).map(async (url) => {
          if (!robots.allows(url)) return;
          try {
            const page = await this.#fetch(url, 5);
            this.stats.pages++;
            const found = parseSitemap(page.text, page.finalUrl);
            for (const u of found.urls)
              if (this.site.has(u)) this.#sitemapUrls.add(withoutTracking(u));
            // In a sitemap index, post sitemaps (Ghost, WordPress, Yoast name them so) come first.
            const children = found.sitemaps.filter((u) => this.site.has(u));
            const posts = children.filter((u) => /post/i.test(u));
            next.push(...(posts.length ? posts : children));
          } catch {
            this.#skip('sitemap-unavailable');
          }
        }),
      );
      pending = next;
    }
    this.#fanOut();
  }
}
