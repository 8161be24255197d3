import { type ApiClient, messageField, RetriesExhausted } from './client.js';
import { CensusError, messageOf } from './errors.js';
import { batchBody, maxBatch, pageBody, parseBatch, parsePage } from './graphql.js';
import { forEachIdOfFile, type Journal, JournalTail, notARecord } from './journal.js';
import { readRepoLine } from './listing.js';
import { failureRecord, type LanguageRecord, languagesRecord, type RepoRecord } from './records.js';

/** How languages are fetched: GraphQL batches of 100, or one REST call per repository. */
export type Via = 'graphql' | 'rest';

/** Ids already in `languages.jsonl`, as a sorted array (8 bytes per id, searched in O(log n)). */
export class DoneIds {
  private constructor(private readonly ids: Float64Array) {}

  static async load(path: string): Promise<DoneIds> {
    let ids = new Float64Array(1024);
    let n = 0;
    await forEachIdOfFile(path, (id) => {
      if (n === ids.length) {
        const bigger = new Float64Array(ids.length * 2);
        bigger.set(ids);
        ids = bigger;
      }
      ids[n++] = id;
    });
    return new DoneIds(ids.subarray(0, n).sort());
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: number): boolean {
    let lo = 0;
    let hi = this.ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.ids[mid]!;
      if (v === id) return true;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

/** Options of {@link collectLanguages}. */
export interface LanguagesOptions {
  readonly client: ApiClient;
  readonly via: Via;
  readonly reposPath: string;
  /** The listing journal, followed as it grows. */
  readonly repos: Journal;
  readonly languages: Journal;
  readonly done: DoneIds;
  /** Batches (GraphQL) or repositories (REST) in flight at once. */
  readonly parallel: number;
  /** Resolves when the listing has finished writing `repos.jsonl`. */
  readonly listingDone: () => boolean;
  /** Waits until the listing flushes more lines, or finishes. */
  readonly moreListed: () => Promise<void>;
  readonly signal?: AbortSignal;
  readonly onRecords?: (records: readonly LanguageRecord[]) => void;
}

/**
 * The languages stage: follows `repos.jsonl` while the listing writes it, skips ids already in
 * `languages.jsonl`, and fetches the rest in GraphQL batches of up to 100 (or one REST call
 * each), appending one record per repository. Errors are recorded as `error`, never as `{}`;
 * only a failure of the whole API (or an abort) stops the stage, leaving the journal consistent.
 */
export async function collectLanguages(options: LanguagesOptions): Promise<void> {
  const size = options.via === 'graphql' ? maxBatch : 1;
  const tail = new JournalTail(options.reposPath);
  const running = new Set<Promise<void>>();
  let failure: unknown;
  let batch: RepoRecord[] = [];

  const submit = async (repos: RepoRecord[]): Promise<void> => {
    while (running.size >= options.parallel) await Promise.race(running);
    if (failure !== undefined) throw failure;
    const task = runBatch(options, repos).then(
      (records) => {
        for (const r of records) options.languages.append(r);
        options.onRecords?.(records);
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
    const tracked = task.finally(() => running.delete(tracked));
    running.add(tracked);
  };

  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      if (options.signal?.aborted) {
        throw new CensusError('ERR_CENSUS_ABORTED', 'the languages stage was stopped');
      }
      const finished = options.listingDone();
      // A little at a time: lines waiting for a free batch slot live through garbage collections.
      const repos: RepoRecord[] = [];
      const lines = await tail.forEachNewLine(
        options.repos.flushedBytes,
        64 << 10,
        (b, s, e, line) => {
          let repo: RepoRecord | null;
          try {
            repo = readRepoLine(b, s, e);
            if (
              !Number.isSafeInteger(repo?.id) ||
              typeof repo?.node_id !== 'string' ||
              typeof repo.full_name !== 'string'
            ) {
              throw new Error('it is not a repository (an integer "id", "node_id", "full_name")');
            }
          } catch (error) {
            throw notARecord(options.reposPath, line, error);
          }
          repos.push(repo);
        },
      );
      if (lines === 0) {
        if (finished) break;
        await options.moreListed();
        continue;
      }
      for (const repo of repos) {
        if (options.done.has(repo.id)) continue;
        batch.push(repo);
        if (batch.length === size) {
          await submit(batch);
          batch = [];
        }
      }
    }
    if (batch.length > 0) await submit(batch);
    await Promise.all(running);
    if (failure !== undefined) throw failure;
  } finally {
    await Promise.allSettled(running);
    await tail.close();
  }
}

/** Fetches one batch and returns one record per repository, in order. */
function runBatch(options: LanguagesOptions, repos: RepoRecord[]): Promise<LanguageRecord[]> {
  return languagesBatch(options.client, options.via, repos);
}

/**
 * The languages of up to 100 repositories (one GraphQL batch, or one REST call each), one
 * record per repository in order; a failure of one repository is its `error` record. Only a
 * failure of the whole API (or an abort) throws. The distributed census's jobs use it too.
 */
export async function languagesBatch(
  client: ApiClient,
  via: Via,
  repos: RepoRecord[],
): Promise<LanguageRecord[]> {
  const records =
    via === 'rest'
      ? await Promise.all(repos.map((repo) => restLanguagesOnce(client, repo)))
      : await graphqlBatch(client, repos);
  // Redacted here, once, for both ways (restLanguages, for callers of its own, does it too).
  return records.map((record) => redacted(client, record));
}

/**
 * The record with no token in its `error`, `reason` or language names: those quote what the
 * server said, and a server (or a proxy) may echo the request's `authorization` header.
 */
function redacted(client: ApiClient, record: LanguageRecord): LanguageRecord {
  const error = record.error === undefined ? undefined : client.redact(record.error);
  const reason = record.reason === undefined ? undefined : client.redact(record.reason);
  const languages = record.languages && redactedNames(client, record.languages);
  if (error === record.error && reason === record.reason && languages === record.languages) {
    return record;
  }
  return {
    ...record,
    ...(languages === undefined ? {} : { languages }),
    ...(error === undefined ? {} : { error }),
    ...(reason === undefined ? {} : { reason }),
  };
}

/** `languages` itself when no name holds a token, else a copy with those names redacted. */
function redactedNames(
  client: ApiClient,
  languages: Record<string, number>,
): Record<string, number> {
  const names = Object.keys(languages);
  if (names.every((name) => client.redact(name) === name)) return languages;
  // A Map, then fromEntries: a name such as `__proto__` stays a name (not the prototype).
  const out = new Map<string, number>();
  for (const name of names) {
    const clean = client.redact(name);
    out.set(clean, (out.get(clean) ?? 0) + (languages[name] as number));
  }
  return Object.fromEntries(out);
}

/** Whether an error means "this repository failed" rather than "the API is gone". */
function perRepoFailure(error: unknown): error is RetriesExhausted {
  return error instanceof RetriesExhausted && error.status !== undefined;
}

async function graphqlBatch(client: ApiClient, repos: RepoRecord[]): Promise<LanguageRecord[]> {
  const url = client.url('graphql');
  for (let attempt = 1; attempt <= 3; attempt++) {
    let body: unknown;
    try {
      const res = await client.send({
        kind: 'graphql',
        endpoint: 'graphql',
        url,
        method: 'POST',
        body: batchBody(repos),
      });
      if (res.status !== 200) continue;
      body = res.body;
    } catch (error) {
      if (!perRepoFailure(error)) throw error;
      break;
    }
    const parsed = parseBatch(
      body,
      repos.map((r) => r.id),
    );
    if (parsed.kind === 'failed') continue;
    const records: LanguageRecord[] = [];
    for (let i = 0; i < repos.length; i++) {
      const repo = repos[i]!;
      const node = parsed.nodes[i]!;
      if (node.kind === 'not_found') records.push(failureRecord(repo, 'not_found'));
      else if (node.kind === 'ask_rest') records.push(await restLanguages(client, repo));
      else if (node.after === undefined) records.push(languagesRecord(repo, node.languages));
      else records.push(await morePages(client, repo, node.languages, node.after));
    }
    return records;
  }
  // The batch failed as a whole (no GraphQL at that path, as on GitHub Enterprise; a batch that
  // keeps timing out; answers that are not the batch): REST, which has exact statuses, answers
  // for each repository, as it does for a node GraphQL cannot answer. Writing `error` for all
  // of them would keep them out of every later run.
  return Promise.all(repos.map((repo) => restLanguages(client, repo)));
}

/** Pages through the languages of a repository with more than 100 of them. */
async function morePages(
  client: ApiClient,
  repo: RepoRecord,
  languages: Record<string, number>,
  after: string,
): Promise<LanguageRecord> {
  let cursor: string | undefined = after;
  for (let pages = 0; cursor !== undefined; pages++) {
    if (pages > 100) return failureRecord(repo, 'error', 'more than 10,000 languages');
    let res: Awaited<ReturnType<ApiClient['send']>>;
    try {
      res = await client.send({
        kind: 'graphql',
        endpoint: 'graphql',
        url: client.url('graphql'),
        method: 'POST',
        body: pageBody(repo.node_id, cursor),
      });
    } catch (error) {
      if (!perRepoFailure(error)) throw error;
      return failureRecord(repo, 'error', messageOf(error));
    }
    const page = res.status === 200 ? parsePage(res.body, languages) : undefined;
    if (!page) return restLanguages(client, repo);
    cursor = page.after;
  }
  return languagesRecord(repo, languages);
}

/**
 * The REST `/languages` call for one repository, with exact statuses for every outcome (no
 * token in the record, whatever the server said).
 */
export async function restLanguages(client: ApiClient, repo: RepoRecord): Promise<LanguageRecord> {
  return redacted(client, await restLanguagesOnce(client, repo));
}

async function restLanguagesOnce(client: ApiClient, repo: RepoRecord): Promise<LanguageRecord> {
  const first = languagesUrl(client, repo);
  if (typeof first === 'string') return failureRecord(repo, 'error', first);
  let url = first;
  for (let hops = 0; hops <= 3; hops++) {
    let res: Awaited<ReturnType<ApiClient['send']>>;
    try {
      res = await client.send({ kind: 'rest', endpoint: 'rest:/languages', url });
    } catch (error) {
      if (!perRepoFailure(error)) throw error;
      return failureRecord(repo, 'error', messageOf(error));
    }
    const { status, body } = res;
    if (status === 200 && body && typeof body === 'object' && !Array.isArray(body)) {
      return languagesRecord(repo, body as Record<string, number>);
    }
    if (status === 404) return failureRecord(repo, 'not_found');
    const block = blockReason(body);
    if (status === 451) return failureRecord(repo, 'blocked', block ?? 'dmca');
    if (status === 403 && block) return failureRecord(repo, 'blocked', block);
    if (status === 301 || status === 302 || status === 307 || status === 308) {
      const location = res.header('location');
      if (!location) return failureRecord(repo, 'error', `HTTP ${status} without Location`);
      let target: URL;
      try {
        target = new URL(location, url);
      } catch {
        return failureRecord(
          repo,
          'error',
          `invalid Location header in HTTP ${status} (${JSON.stringify(location.slice(0, 200))})`,
        );
      }
      if (target.origin !== client.origin) {
        return failureRecord(
          repo,
          'error',
          `redirect to another origin (${target.origin}) refused: the token only goes to ${client.origin}`,
        );
      }
      url = target;
      continue;
    }
    return failureRecord(repo, 'error', `HTTP ${status}: ${messageField(body) ?? 'unexpected'}`);
  }
  return failureRecord(repo, 'error', 'too many redirects');
}

/**
 * The repository's languages URL on the API origin (never another host), or why there is none.
 * Built from `full_name` (when `languages_url` is not on the origin), owner and name are each
 * percent-encoded: as they were, a `?`, `#`, `%` or `..` in them asked for another path on the
 * API (`o/../../rate_limit`). A name that cannot be a repository's is refused.
 */
function languagesUrl(client: ApiClient, repo: RepoRecord): URL | string {
  try {
    const given = new URL(repo.languages_url);
    if (given.origin === client.origin) return given;
  } catch {
    // fall through to the URL built from the name
  }
  const segments = repo.full_name.split('/');
  const refused = `full_name ${JSON.stringify(repo.full_name.slice(0, 200))} cannot be a repository's (owner/name, neither of them empty, "." or "..") and its languages_url is not on ${client.origin}: no request was sent; the listing gave both, so check the API's answer for id ${repo.id}`;
  if (segments.length !== 2 || segments.some((p) => p === '' || p === '.' || p === '..')) {
    return refused;
  }
  let path: string;
  try {
    path = segments.map((p) => encodeURIComponent(p)).join('/');
  } catch {
    return refused; // not well-formed Unicode (a lone surrogate)
  }
  return client.url(`repos/${path}/languages`);
}

function blockReason(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'block' in body) {
    const block = (body as { block?: { reason?: unknown } }).block;
    if (typeof block?.reason === 'string') return block.reason;
    return messageField(body) ?? 'blocked';
  }
  return undefined;
}
