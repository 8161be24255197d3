import { type ApiClient, messageField } from './client.js';
import { CensusError, messageOf } from './errors.js';
import { forEachIdOfFile, forEachLine, type Journal, notARecord } from './journal.js';
import { nextLink } from './link.js';
import { readListingPage, ScannedPage } from './listing.js';
import { type ShardPlan, shardOf, shardRange } from './plan.js';
import { type RepoRecord, repoFromListing } from './records.js';

/** Which repositories to keep: all, none of the forks, or only forks. */
export type ForksMode = 'include' | 'exclude' | 'only';

/** A line of `shards.jsonl`: shard `k` is finished (and, maybe, the id space ends in it). */
export interface ShardDone {
  readonly k: number;
  readonly count: number;
  readonly endOfSpace?: boolean;
}

/** What the listing knows about its shards, rebuilt from the journals on resume. */
export class ListingState {
  readonly done = new Set<number>();
  /** Highest id written per shard: where a resumed shard continues. */
  readonly cursor = new Map<number, number>();
  /** Repositories written per shard. */
  readonly counts = new Map<number, number>();
  /** No shard at or after this one has repositories. */
  endShard = Number.POSITIVE_INFINITY;
  listed = 0;

  /** Repositories written so far in the shards before `k`. */
  below(k: number): number {
    let n = 0;
    for (const [j, count] of this.counts) if (j < k) n += count;
    return n;
  }

  /** Rebuilds the state from `repos.jsonl` and `shards.jsonl`. */
  static async load(plan: ShardPlan, reposPath: string, shardsPath: string): Promise<ListingState> {
    const state = new ListingState();
    await forEachIdOfFile(reposPath, (id) => {
      const k = shardOf(plan, id);
      state.cursor.set(k, Math.max(state.cursor.get(k) ?? 0, id));
      state.counts.set(k, (state.counts.get(k) ?? 0) + 1);
      state.listed++;
    });
    await forEachLine(shardsPath, (text, line) => {
      let d: ShardDone;
      try {
        d = JSON.parse(text) as ShardDone;
        if (!Number.isSafeInteger(d?.k) || d.k < 0) throw new Error('it has no shard number "k"');
      } catch (error) {
        throw notARecord(shardsPath, line, error);
      }
      state.done.add(d.k);
      if (d.endOfSpace) state.endShard = Math.min(state.endShard, d.k + 1);
    });
    return state;
  }
}

/** Options of {@link enumerate}. */
export interface EnumerateOptions {
  readonly client: ApiClient;
  readonly plan: ShardPlan;
  readonly state: ListingState;
  readonly repos: Journal;
  readonly shardsJournal: Journal;
  readonly forks: ForksMode;
  /** Shards walked at once. */
  readonly parallel: number;
  readonly signal?: AbortSignal;
  /** Called after each page is appended (for progress). */
  readonly onPage?: (written: number) => void;
}

/**
 * The listing stage: walks shards in parallel with `GET /repositories?since=`, following only
 * `rel="next"` links on the API's origin, and appends each repository inside the shard's range
 * to `repos.jsonl`. A shard is marked finished in `shards.jsonl` only after its repositories
 * are on disk, so a resumed run continues every unfinished shard from its highest written id
 * and neither loses nor repeats a repository.
 */
export async function enumerate(options: EnumerateOptions): Promise<void> {
  const { plan, state } = options;
  let next = 0;
  let active = 0;
  let firstError: unknown;

  /** The next shard to walk, or undefined when there is nothing more to start. */
  const take = (): number | undefined => {
    for (;;) {
      const k = next;
      if (k >= state.endShard || shardRange(plan, k) === undefined) return undefined;
      if (state.done.has(k)) {
        next++;
        continue;
      }
      const started = state.cursor.has(k);
      // Shards hold ascending id ranges: once the shards below k hold N repositories, the first
      // N are all below k. (Not "N listed so far": a resumed run may have listed N in higher
      // shards while a lower one, started but not yet written to, still holds some of them.)
      if (plan.repos !== null && state.below(k) >= plan.repos) return undefined;
      // Beyond the expected shards (the density guess was low), extend one shard at a time.
      if (
        !started &&
        plan.expected !== null &&
        plan.repos !== null &&
        k >= plan.expected &&
        active > 0
      ) {
        return -1;
      }
      next++;
      return k;
    }
  };

  await new Promise<void>((resolve) => {
    const launch = (): void => {
      while (firstError === undefined && active < options.parallel) {
        const k = take();
        if (k === undefined || k === -1) break;
        active++;
        walk(options, k).then(
          () => {
            active--;
            launch();
          },
          (error: unknown) => {
            active--;
            firstError ??= error;
            launch();
          },
        );
      }
      if (active === 0) resolve();
    };
    launch();
  });
  if (firstError !== undefined) throw firstError;
}

/** One page of `GET /repositories?since=`, cut at a shard's end (see {@link listingPage}). */
export interface ListingPage {
  /** Repositories of the page below `end`, in id order (forks not yet filtered). */
  readonly repos: RepoRecord[];
  /** The highest id on the page (kept or not, below `end` or not); `after` if it was empty. */
  readonly last: number;
  /** The page reached `end`: the shard is finished. */
  readonly reachedEnd: boolean;
  /** No repository above `after` exists (an empty page). */
  readonly endOfSpace: boolean;
  /** Where the listing continues, when neither end was reached. */
  readonly next?: URL;
}

/**
 * Fetches one listing page at `url` (whose `since` is `after`) and checks what GitHub promises:
 * ids ascending past `after`, and a `rel="next"` on the API's own origin that moves forward. A
 * page of repositories without a `rel="next"` continues at `since=` its last id.
 * The census's shard walk and the distributed census's shard jobs both step with it.
 */
export async function listingPage(
  client: ApiClient,
  url: URL,
  after: number,
  end: number,
): Promise<ListingPage> {
  const res = await client.send({
    kind: 'rest',
    endpoint: 'rest:/repositories',
    url,
    read: readListingPage,
  });
  // Scanned for the five fields it keeps, or (anything unusual) parsed whole.
  const scanned = res.body instanceof ScannedPage ? res.body.repos : undefined;
  if (res.status !== 200 || (!scanned && !Array.isArray(res.body))) {
    // What the API said (one line, no token), so the reason shows: SAML, a blocked token, ...
    const said = messageField(res.body);
    const why = said ? `: ${client.redact(messageOf(said)).slice(0, 300)}` : '';
    throw new CensusError(
      'ERR_CENSUS_API',
      `GET ${url.pathname}${url.search} answered HTTP ${res.status}, not a list of repositories${why}`,
    );
  }
  const items: readonly unknown[] = scanned ?? (res.body as unknown[]);
  // Nothing above the cursor anywhere: the id space ends here.
  if (items.length === 0) return { repos: [], last: after, reachedEnd: false, endOfSpace: true };
  const repos: RepoRecord[] = [];
  let last = after;
  let reachedEnd = false;
  for (const item of items) {
    const repo = scanned ? (item as RepoRecord) : repoFromListing(item);
    if (typeof repo === 'string') throw new CensusError('ERR_CENSUS_PROTOCOL', repo);
    if (repo.id <= last) {
      throw new CensusError(
        'ERR_CENSUS_PROTOCOL',
        `the listing went backwards (id ${repo.id} after ${last}) at ${url.pathname}${url.search}`,
      );
    }
    last = repo.id;
    if (repo.id >= end) {
      reachedEnd = true;
      break;
    }
    repos.push(repo);
  }
  if (reachedEnd || last >= end - 1) return { repos, last, reachedEnd: true, endOfSpace: false };
  const link = nextLink(res.header('link'), url, client.origin);
  if (link.kind === 'foreign') {
    throw new CensusError(
      'ERR_CENSUS_PROTOCOL',
      `refused a Link rel="next" to another origin (${new URL(link.href, url).origin}); the token only goes to ${client.origin}`,
    );
  }
  if (link.kind === 'none') {
    // Only an empty page says the id space ends (GitHub's last page is `[]`): a page of
    // repositories whose Link was lost on the way continues after its last id. Taking it for
    // the end would drop every later repository and still call the census complete.
    const next = new URL(url);
    next.searchParams.set('since', String(last));
    return { repos, last, reachedEnd: false, endOfSpace: false, next };
  }
  const since = Number(link.url.searchParams.get('since'));
  if (!Number.isSafeInteger(since) || since <= after) {
    throw new CensusError(
      'ERR_CENSUS_PROTOCOL',
      `the Link rel="next" (${link.url.pathname}${link.url.search}) does not move past id ${after}`,
    );
  }
  return { repos, last, reachedEnd: false, endOfSpace: false, next: link.url };
}

/** Walks one shard to its end. */
async function walk(options: EnumerateOptions, k: number): Promise<void> {
  const { client, plan, state } = options;
  const range = shardRange(plan, k)!;
  let cursor = Math.max(range.start - 1, state.cursor.get(k) ?? 0);
  let url = client.url(`repositories?since=${cursor}`);
  let endOfSpace = false;
  for (;;) {
    const page = await listingPage(client, url, cursor, range.end);
    let written = 0;
    for (const repo of page.repos) {
      if (keepRepo(repo, options.forks)) {
        options.repos.append(repo);
        written++;
      }
      state.cursor.set(k, repo.id);
    }
    state.counts.set(k, (state.counts.get(k) ?? 0) + written);
    state.listed += written;
    options.onPage?.(written);
    if (page.next === undefined) {
      endOfSpace = page.endOfSpace;
      break;
    }
    cursor = Number(page.next.searchParams.get('since'));
    url = page.next;
  }
  // The shard's repositories must be on disk before it is marked finished.
  await options.repos.flush();
  const done: ShardDone = endOfSpace
    ? { k, count: state.counts.get(k) ?? 0, endOfSpace: true }
    : { k, count: state.counts.get(k) ?? 0 };
  options.shardsJournal.append(done);
  await options.shardsJournal.flush();
  state.done.add(k);
  if (endOfSpace) state.endShard = Math.min(state.endShard, k + 1);
}

/** Whether `forks` keeps this repository. */
export function keepRepo(repo: RepoRecord, forks: ForksMode): boolean {
  return forks === 'include' || (forks === 'only') === repo.fork;
}
