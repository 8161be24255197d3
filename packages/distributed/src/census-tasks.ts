/**
 * The census's two kinds of job, as they run in a `forage census-worker`: walk part of an
 * id-range shard of the listing, and fetch the languages of a batch of up to 100 repositories.
 * Each returns records; only the coordinator writes files.
 *
 * The worker's tokens never travel: the coordinator's jobs carry the API URL and ids, and the
 * worker sends its own tokens, only to that API's origin, through the census's `ApiClient`
 * and budget scheduler (one per API origin, shared by every job this process runs), gated by
 * the per-token budget kept in Redis (see `shared-budget.ts`).
 *
 * The REST languages call and the record builders come from `@forage/census`; the shard walk
 * and the GraphQL batch call are repeated here because the census's versions write journals
 * as they go; see the package README.
 */
import {
  ApiClient,
  type ApiResponse,
  type BudgetLimits,
  BudgetScheduler,
  batchBody,
  CensusError,
  type ForksMode,
  failureRecord,
  githubLimits,
  type LanguageRecord,
  languagesRecord,
  nextLink,
  parseApiUrl,
  parseBatch,
  type RepoRecord,
  type RetryPolicy,
  restLanguages,
  type Via,
} from '@forage/census';
import { type SharedBudget, SharedBudgetScheduler } from './shared-budget.js';

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
  readonly limits?: Partial<BudgetLimits>;
  readonly retry?: Partial<RetryPolicy>;
  readonly timeoutMs?: number;
  /** The per-token budget shared with other workers through Redis. */
  readonly shared?: SharedBudget;
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
  const key = url.href;
  let client = clients.get(key);
  if (client === undefined) {
    const limits = { ...githubLimits, ...config.limits };
    const count = Math.max(1, config.tokens.length);
    const scheduler = config.shared
      ? new SharedBudgetScheduler(count, limits, config.shared, config.tokens)
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
    });
    clients.set(key, client);
  }
  return client;
}

/** Walks up to `maxPages` pages of a shard with `GET /repositories?since=`. */
export async function listShard(job: ShardJob): Promise<ShardSlice> {
  const client = clientFor(job.api);
  const repos: RepoRecord[] = [];
  let cursor = job.cursor;
  let url = client.url(`repositories?since=${cursor}`);
  for (let page = 0; page < job.maxPages; page++) {
    const res = await client.send({ kind: 'rest', endpoint: 'rest:/repositories', url });
    if (res.status !== 200 || !Array.isArray(res.body)) {
      throw new CensusError(
        'ERR_CENSUS_API',
        `GET ${url.pathname}${url.search} answered HTTP ${res.status}, not a list of repositories`,
      );
    }
    const items = res.body as unknown[];
    if (items.length === 0) return { repos, cursor, finished: true, endOfSpace: true };
    for (const item of items) {
      const repo = repoFromListing(item);
      if (repo.id <= cursor) {
        throw new CensusError(
          'ERR_CENSUS_PROTOCOL',
          `the listing went backwards (id ${repo.id} after ${cursor}) at ${url.pathname}${url.search}`,
        );
      }
      if (repo.id >= job.end) return { repos, cursor, finished: true, endOfSpace: false };
      if (keep(repo, job.forks)) repos.push(repo);
      cursor = repo.id;
    }
    if (cursor >= job.end - 1) return { repos, cursor, finished: true, endOfSpace: false };
    const link = nextLink(res.header('link'), url, client.origin);
    if (link.kind === 'foreign') {
      throw new CensusError(
        'ERR_CENSUS_PROTOCOL',
        `refused a Link rel="next" to another origin; the token only goes to ${client.origin}`,
      );
    }
    if (link.kind === 'none') return { repos, cursor, finished: true, endOfSpace: true };
    url = link.url;
  }
  return { repos, cursor, finished: false, endOfSpace: false };
}

/** Fetches the languages of a batch; one record per repository, in order. */
export async function fetchLanguages(job: LanguagesJob): Promise<LanguageRecord[]> {
  const client = clientFor(job.api);
  if (job.via === 'rest') return Promise.all(job.repos.map((repo) => restLanguages(client, repo)));
  return graphqlBatch(client, job.repos);
}

async function graphqlBatch(client: ApiClient, repos: RepoRecord[]): Promise<LanguageRecord[]> {
  const url = client.url('graphql');
  let lastWhy = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    let res: ApiResponse;
    try {
      res = await client.send({
        kind: 'graphql',
        endpoint: 'graphql',
        url,
        method: 'POST',
        body: batchBody(repos),
      });
    } catch (error) {
      if (!perRepoFailure(error)) throw error;
      lastWhy = (error as Error).message;
      break;
    }
    if (res.status !== 200) {
      lastWhy = `HTTP ${res.status}: ${messageOf(res.body) ?? 'unexpected status'}`;
      continue;
    }
    const parsed = parseBatch(res.body, repos.length);
    if (parsed.kind === 'failed') {
      lastWhy = `GraphQL: ${parsed.why}`;
      continue;
    }
    const records: LanguageRecord[] = [];
    for (let i = 0; i < repos.length; i++) {
      const repo = repos[i] as RepoRecord;
      const node = parsed.nodes[i];
      if (node?.kind === 'not_found') records.push(failureRecord(repo, 'not_found'));
      else if (node?.kind === 'languages' && node.after === undefined)
        records.push(languagesRecord(repo, node.languages));
      // More than 100 languages, or GraphQL could not say: REST has the whole object and exact statuses.
      else records.push(await restLanguages(client, repo));
    }
    return records;
  }
  return repos.map((repo) => failureRecord(repo, 'error', lastWhy));
}

/** A request that failed for this repository although the API answers (vs. the API is gone). */
function perRepoFailure(error: unknown): boolean {
  return error instanceof CensusError && (error as { status?: unknown }).status !== undefined;
}

function messageOf(body: unknown): string | undefined {
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : undefined;
}

function repoFromListing(item: unknown): RepoRecord {
  const r = (item ?? {}) as Record<string, unknown>;
  if (
    !Number.isSafeInteger(r.id) ||
    typeof r.node_id !== 'string' ||
    typeof r.full_name !== 'string'
  ) {
    throw new CensusError(
      'ERR_CENSUS_PROTOCOL',
      `a listing item lacks an integer id, node_id or full_name (id ${String(r.id)})`,
    );
  }
  return {
    id: r.id as number,
    node_id: r.node_id,
    full_name: r.full_name,
    fork: r.fork === true,
    languages_url: typeof r.languages_url === 'string' ? r.languages_url : '',
  };
}

function keep(repo: RepoRecord, forks: ForksMode): boolean {
  return forks === 'include' || (forks === 'only') === repo.fork;
}
