/**
 * The census's two kinds of job, as they run in a `forage census-worker`: walk part of an
 * id-range shard of the listing, and fetch the languages of a batch of up to 100 repositories.
 * Each returns records; only the coordinator writes files.
 *
 * The worker's tokens never travel: the coordinator's jobs carry the API URL and ids, and the
 * worker sends its own tokens through the census's `ApiClient`. A job is only a request: anyone
 * who can write to the queue can add one, so the worker takes the API it serves from its own
 * configuration (`forage census-worker --api`) and refuses a job naming any other origin, before
 * a client (and so a token) is involved. Requests go through that client
 * and budget scheduler (one per API origin, shared by every job this process runs), gated by
 * the per-token budget kept in Redis (see `shared-budget.ts`).
 *
 * Each listing page and each languages batch is fetched and checked by `@forage/census`'s own
 * steps (`listingPage`, `languagesBatch`), so a distributed census answers exactly as one
 * process would.
 */
import {
  ApiClient,
  type BudgetLimits,
  BudgetScheduler,
  CensusError,
  type ForksMode,
  githubLimits,
  isCensusError,
  keepRepo,
  type LanguageRecord,
  languagesBatch,
  listingPage,
  parseApiUrl,
  type RepoRecord,
  type RetryPolicy,
  redactToken,
  TokensRejected,
  type Via,
} from '@forage/census';
import { DistributedError, ErrorCode } from './errors.js';
import { budgetGaveUp, type SharedBudget, SharedBudgetScheduler } from './shared-budget.js';

/** A slice of a listing shard: from `cursor` (exclusive) towards `end` (exclusive). */
export interface ShardJob {
  readonly api: string;
  /** The shard's first id (inclusive) and end (exclusive). */
  readonly start: number;
  readonly end: number;
  /** Highest id already seen in this shard (`start - 1` at first). */
  readonly cursor: number;
  /** Pages to walk in this job before handing back (bounds a job's size and duration). */
  readonly maxPages: number;
  readonly forks: ForksMode;
}

/** What a shard slice found. */
export interface ShardSlice {
  /** Repositories kept (by `forks`), in id order, all in `(cursor, end)`. */
  readonly repos: RepoRecord[];
  /** The highest id seen (kept or not): where the next slice starts. */
  readonly cursor: number;
  /** The shard is finished (its end reached, or the id space ended). */
  readonly finished: boolean;
  /** The id space ends inside this shard. */
  readonly endOfSpace: boolean;
}

/** A languages batch: up to 100 repositories. */
export interface LanguagesJob {
  readonly api: string;
  readonly via: Via;
  readonly repos: RepoRecord[];
}

/** How this process talks to the API: set once by `forage census-worker`. */
export interface CensusWorkerConfig {
  readonly tokens: readonly string[];
  /**
   * The API this worker serves (its origin counts): jobs naming another origin are refused, so
   * that the tokens go nowhere else.
   */
  readonly api: string | URL;
  readonly limits?: Partial<BudgetLimits>;
  readonly retry?: Partial<RetryPolicy>;
  readonly timeoutMs?: number;
  /** The per-token budget shared with other workers through Redis. */
  readonly shared?: SharedBudget;
  /** Called with the origin of each job refused because it names another API. */
  readonly onApiRefused?: (origin: string) => void;
  /**
   * Called when a job fails because the API rejected its token (401): the only token, or every
   * one of several. With the positions (0-based, into `tokens`) of the tokens rejected.
   */
  readonly onTokenRejected?: (indexes: number[]) => void;
  /**
   * Called once for each of several tokens the API rejects (401) while others are left: the
   * token is retired for the life of this process and its requests go with the others (the
   * job does not fail). `message` names it by position only (`token 2 of 3`).
   */
  readonly onTokenRetired?: (index: number, message: string) => void;
}

let config: CensusWorkerConfig | undefined;
const clients = new Map<string, ApiClient>();

/** Sets the tokens and limits of this worker process (before it takes jobs). */
export function configureCensusWorker(next: CensusWorkerConfig): void {
  config = next;
}

/** Closes the API connections of this process. */
export async function closeCensusWorker(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.allSettled(all.map((c) => c.close()));
}

function clientFor(api: string): ApiClient {
  if (config === undefined) {
    throw new CensusError(
      'ERR_CENSUS_TOKEN',
      'this process has no census configuration: run it with forage census-worker --token ...',
    );
  }
  const url = parseApiUrl(api);
  const allowed = parseApiUrl(config.api).origin;
  if (url.origin !== allowed) {
    config.onApiRefused?.(url.origin);
    throw new DistributedError(
      `refusing a job for the API at ${url.origin}: this worker sends its tokens only to ${allowed}; if the census is meant for ${url.origin}, start the worker with --api ${url.origin}`,
      ErrorCode.apiRefused,
    );
  }
  const key = url.href;
  let client = clients.get(key);
  if (client === undefined) {
    const limits = { ...githubLimits, ...config.limits };
    const count = Math.max(1, config.tokens.length);
    const scheduler = config.shared
      ? new SharedBudgetScheduler(count, limits, config.shared, config.tokens, url.host)
      : new BudgetScheduler(count, limits);
    client = new ApiClient({
      api: url,
      tokens: config.tokens,
      scheduler,
      ...(config.retry
        ? { retry: { attempts: 6, baseMs: 250, maxMs: 20_000, ...config.retry } }
        : {}),
      ...(config.timeoutMs ? { timeoutMs: config.timeoutMs } : {}),
      connections: Math.min(128, limits.concurrency * count),
      userAgent: 'forage-census-worker',
      ...(config.onTokenRetired ? { onTokenRetired: config.onTokenRetired } : {}),
    });
    clients.set(key, client);
  }
  return client;
}

/**
 * Runs a job; one that gave up waiting for the shared budget (a worker stopping while Redis did
 * not answer) fails with `ERR_QUEUE_UNAVAILABLE`, which the coordinator queues again (the
 * census's client reports it as an API error). A token the API rejected is reported to
 * `onTokenRejected`.
 */
async function requeueIfGaveUp<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const message = (error as { message?: unknown } | null)?.message;
    if (typeof message === 'string' && message.includes(budgetGaveUp)) {
      throw new DistributedError(message, ErrorCode.queueUnavailable);
    }
    if (isCensusError(error, 'ERR_CENSUS_TOKEN') && config?.onTokenRejected) {
      // The census's client says which (every token, once none is left); older messages name
      // the token as `token ghp_…abcd was rejected`.
      const tokens = config.tokens;
      const named =
        error instanceof TokensRejected
          ? [...error.tokenIndexes]
          : tokens.flatMap((token, index) =>
              error.message.includes(`token ${redactToken(token)} was rejected`) ? [index] : [],
            );
      config.onTokenRejected(named);
    }
    throw error;
  }
}

/** Walks up to `maxPages` pages of a shard with `GET /repositories?since=`. */
export function listShard(job: ShardJob): Promise<ShardSlice> {
  return requeueIfGaveUp(() => walkShard(job));
}

async function walkShard(job: ShardJob): Promise<ShardSlice> {
  const client = clientFor(job.api);
  const repos: RepoRecord[] = [];
  let cursor = job.cursor;
  let url = client.url(`repositories?since=${cursor}`);
  for (let page = 0; page < job.maxPages; page++) {
    const step = await listingPage(client, url, cursor, job.end);
    for (const repo of step.repos) {
      if (keepRepo(repo, job.forks)) repos.push(repo);
      cursor = repo.id;
    }
    if (step.next === undefined) {
      return { repos, cursor, finished: true, endOfSpace: step.endOfSpace };
    }
    url = step.next;
  }
  return { repos, cursor, finished: false, endOfSpace: false };
}

/** Fetches the languages of a batch; one record per repository, in order. */
export function fetchLanguages(job: LanguagesJob): Promise<LanguageRecord[]> {
  return requeueIfGaveUp(() => languagesBatch(clientFor(job.api), job.via, job.repos));
}
