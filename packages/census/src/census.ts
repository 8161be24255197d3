import { setMaxListeners } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import type { TokenBudget } from './budget.js';
import { ApiClient } from './client.js';
import { enumerate, ListingState } from './enumerate.js';
import { CensusError, isCensusError, messageOf } from './errors.js';
import { atomicWriter, censusPaths, writeAtomic } from './files.js';
import {
  type CensusCounts,
  countJournals,
  dropErrorRecords,
  nthId,
  trimJournal,
} from './finalize.js';
import { Journal } from './journal.js';
import { collectLanguages, DoneIds } from './languages.js';
import { lockCensus } from './lock.js';
import {
  addCounts,
  type CensusManifest,
  type CensusRun,
  censusVersion,
  readManifest,
} from './manifest.js';
import { type CensusOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { makePlan, type ShardPlan } from './plan.js';
import { type LanguageStatus, languageStatuses } from './records.js';
import { BudgetScheduler, type SchedulerWait, TokenRetired } from './scheduler.js';
import { redactToken, scrubTokens } from './token.js';

/** One token's budget as progress displays show it (the token redacted). */
export interface TokenView {
  readonly token: string;
  /** The API rejected it (401) and this run no longer uses it. */
  readonly retired: boolean;
  readonly inflight: number;
  readonly core: BucketView;
  readonly graphql: BucketView;
}

/** A primary bucket as last seen: undefined fields are not known yet. */
export interface BucketView {
  readonly remaining: number | undefined;
  readonly limit: number | undefined;
  /** Epoch ms. */
  readonly resetAt: number | undefined;
}

/** A progress snapshot, emitted every `progressIntervalMs` while the census runs. */
export interface CensusProgress {
  readonly type: 'progress';
  readonly stage: 'listing' | 'languages' | 'finishing';
  readonly elapsedMs: number;
  /** Repositories in `repos.jsonl` (all runs). */
  readonly listed: number;
  /** Records in `languages.jsonl` (all runs). */
  readonly languages: number;
  /** How many repositories the census expects in all, when it can tell. */
  readonly target: number | null;
  /** Statuses written by this run. */
  readonly counts: Readonly<Record<LanguageStatus, number>>;
  /** Requests sent by this run. */
  readonly requests: number;
  readonly tokens: readonly TokenView[];
  /** What requests are waiting for (a reset, a retry-after, the secondary window). */
  readonly waits: readonly SchedulerWait[];
}

/** Everything `onProgress` receives. */
export type CensusEvent =
  | { readonly type: 'notice'; readonly message: string }
  | CensusProgress
  | { readonly type: 'done'; readonly manifest: CensusManifest };

/** How a run is controlled and watched. */
export interface CensusHooks {
  /** Aborting stops the run; the journals stay consistent and the next run resumes. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: CensusEvent) => void;
  /** Progress interval, ms (default 500). */
  readonly progressIntervalMs?: number;
}

/** What a finished census left behind. */
export interface CensusResult {
  readonly dir: string;
  readonly manifest: CensusManifest;
  readonly files: { readonly repos: string; readonly languages: string; readonly manifest: string };
}

/** What `plan.json` holds: the shard plan and the options of the census it belongs to. */
export interface StoredPlan {
  readonly api: string;
  /** The emulator dataset, when the census ran against one (its port changes between runs). */
  readonly dataset?: string | null;
  readonly since: number;
  readonly until: number | null;
  readonly repos: number | null;
  readonly forks: string;
  readonly density: number;
  readonly plan: ShardPlan;
}

/**
 * Runs (or resumes) a census: lists repositories in `[since + 1, until)` (at most `repos` of
 * them) into `repos.jsonl`, fetches their languages into `languages.jsonl`, and writes
 * `census.json`. Running it again on the same directory continues where it stopped; a finished
 * census is not fetched again.
 *
 * @example
 * ```ts
 * const { manifest } = await runCensus(
 *   { api: 'https://api.github.com', tokens: [process.env.GITHUB_TOKEN!], since: 76761293, repos: 100_000, out: 'census' },
 *   { onProgress: (e) => e.type === 'notice' && console.log(e.message) },
 * );
 * console.log(manifest.counts);
 * ```
 */
export async function runCensus(
  options: CensusOptions,
  hooks: CensusHooks = {},
): Promise<CensusResult> {
  const opts = resolveOptions(options);
  try {
    await mkdir(opts.out, { recursive: true });
  } catch (error) {
    throw new CensusError(
      'ERR_CENSUS_OUTPUT',
      `cannot create --out ${opts.out} (${messageOf(error)})`,
    );
  }
  // One run at a time per directory: two would append every repository twice.
  const lock = await lockCensus(opts.out);
  try {
    return await runLocked(opts, hooks);
  } finally {
    await lock.release();
  }
}

/** {@link runCensus} once the directory is locked. */
async function runLocked(opts: ResolvedOptions, hooks: CensusHooks): Promise<CensusResult> {
  const emit = hooks.onProgress ?? (() => {});
  const notice = (message: string) =>
    emit({ type: 'notice', message: scrubTokens(message, opts.tokens) });
  let via = opts.via;
  if (opts.tokens.length === 0 && via === 'graphql') {
    via = 'rest';
    notice('no token: GraphQL needs one, so languages come from REST, one call per repository');
  }
  const paths = censusPaths(opts.out);
  const previous = await readManifest(paths.manifest);
  const stored = await readStoredPlan(paths.plan);
  if (stored) checkSameCensus(stored, opts);

  const controller = new AbortController();
  const onAbort = () => controller.abort(hooks.signal?.reason);
  if (hooks.signal?.aborted) onAbort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;
  // Every request in flight listens to the signal: hundreds of listeners are expected.
  setMaxListeners(0, signal);
  const scheduler = new BudgetScheduler(Math.max(1, opts.tokens.length), opts.limits);
  const client = new ApiClient({
    api: opts.api,
    tokens: opts.tokens,
    scheduler,
    retry: opts.retry,
    timeoutMs: opts.timeoutMs,
    connections: Math.min(128, opts.concurrency * Math.max(1, opts.tokens.length)),
    userAgent: `forage-census/${censusVersion}`,
    compress: opts.compress,
    signal,
    onTokenRetired: (_index, message) => notice(message),
  });
  const started = Date.now();
  const run: CensusRun = {
    startedAt: new Date(started).toISOString(),
    finishedAt: null,
    wallMs: 0,
    resumed: !!previous,
  };
  const manifest: CensusManifest = previous ?? {
    format: 'forage-census/1',
    version: censusVersion,
    complete: false,
    api: opts.api.href.replace(/\/$/, ''),
    via,
    dataset: opts.dataset,
    range: { since: opts.since, until: opts.until, repos: opts.repos },
    forks: opts.forks,
    tokens: [],
    startedAt: run.startedAt,
    finishedAt: null,
    wallMs: 0,
    counts: null,
    requests: {},
    points: { core: 0, graphql: 0 },
    sleptMs: 0,
    retries: 0,
    runs: [],
  };
  manifest.complete = false;
  manifest.via = via;
  manifest.tokens = opts.tokens.map(redactToken);
  manifest.runs.push(run);
  const base = {
    requests: { ...manifest.requests },
    points: { ...manifest.points },
    sleptMs: manifest.sleptMs,
    retries: manifest.retries,
    wallMs: manifest.wallMs,
  };
  const snapshotStats = (): void => {
    run.wallMs = Date.now() - started;
    manifest.wallMs = base.wallMs + run.wallMs;
    manifest.requests = { ...base.requests };
    addCounts(manifest.requests, client.stats.requests);
    manifest.points = {
      core: base.points.core + client.stats.points.core,
      graphql: base.points.graphql + client.stats.points.graphql,
    };
    manifest.sleptMs = base.sleptMs + Math.round(scheduler.sleptMs);
    manifest.retries = base.retries + client.stats.retries;
    const retired = client.retiredTokens();
    if (retired.length > 0) run.retiredTokens = retired.map((i) => i + 1);
  };

  // Manifest writes run one after another, each with the manifest as it was when asked for: a
  // timer's write still in flight can never land after (and undo) the final one.
  const writeManifest = atomicWriter(paths.manifest);
  const saveManifest = (): Promise<void> => writeManifest(`${JSON.stringify(manifest, null, 2)}\n`);

  const journals: Journal[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    await preflight(client, opts, scheduler.budgets, notice);
    const { plan, density } = stored ?? (await newPlan(client, opts, paths.plan));
    if (opts.tokens.length === 0)
      notice(unauthenticatedEstimate(opts, density, scheduler.budgets[0]!));

    const reposOpen = await Journal.open(paths.repos);
    const languagesOpen = await Journal.open(paths.languages);
    const shardsOpen = await Journal.open(paths.shards);
    journals.push(reposOpen.journal, languagesOpen.journal, shardsOpen.journal);
    for (const [name, o] of [
      ['repos.jsonl', reposOpen],
      ['languages.jsonl', languagesOpen],
      ['shards.jsonl', shardsOpen],
    ] as const) {
      if (o.repairedBytes > 0)
        notice(`repaired ${name}: cut a torn last line (${o.repairedBytes} bytes)`);
    }
    let languages = languagesOpen.journal;
    if (opts.retryErrors) {
      journals.splice(journals.indexOf(languagesOpen.journal), 1);
      const { journal, dropped } = await dropErrorRecords(languagesOpen.journal);
      journals.push(journal);
      languages = journal;
      notice(
        `--retry-errors: ${dropped} ${dropped === 1 ? 'repository' : 'repositories'} whose languages failed before will be fetched again`,
      );
    }
    const repos = reposOpen.journal;
    const state = await ListingState.load(plan, paths.repos, paths.shards);
    const done = await DoneIds.load(paths.languages);
    if (previous)
      notice(`resuming: ${state.listed} repositories listed, ${done.size} with languages`);
    await saveManifest();

    // Flush journals in batches (group commit) and wake the languages stage after each flush.
    let wake: (() => void) | undefined;
    let flushError: unknown;
    // Woken by the next flush, or after a short while in case that flush came first.
    const moreListed = () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(20, opts.flushIntervalMs));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    const flushAll = async (): Promise<void> => {
      const had = repos.pendingBytes > 0;
      await Promise.all([repos.flush(), languages.flush()]);
      if (had) {
        wake?.();
        wake = undefined;
      }
    };
    timers.push(
      setInterval(() => {
        flushAll().catch((error: unknown) => {
          flushError ??= error;
          controller.abort(error);
        });
      }, opts.flushIntervalMs),
    );
    timers.push(
      setInterval(() => {
        snapshotStats();
        saveManifest().catch(() => {});
      }, 5000),
    );

    const runCounts = Object.fromEntries(languageStatuses.map((s) => [s, 0])) as Record<
      LanguageStatus,
      number
    >;
    let languagesWritten = done.size;
    let stage: CensusProgress['stage'] = 'listing';
    const target =
      opts.repos ??
      (opts.until !== null ? Math.round((opts.until - opts.since - 1) / density) : null);
    const progress = (): void => {
      emit({
        type: 'progress',
        stage,
        elapsedMs: Date.now() - started,
        listed: state.listed,
        languages: languagesWritten,
        target,
        counts: { ...runCounts },
        requests: Object.values(client.stats.requests).reduce((a, b) => a + b, 0),
        tokens: scheduler.budgets.map((b) => tokenView(b, opts.tokens)),
        waits: scheduler.currentWaits(),
      });
    };
    timers.push(setInterval(progress, hooks.progressIntervalMs ?? 500));

    let listingFinished = false;
    const listing = enumerate({
      client,
      plan,
      state,
      repos,
      shardsJournal: shardsOpen.journal,
      forks: opts.forks,
      parallel: opts.shards,
      signal,
    }).then(
      async () => {
        await repos.flush();
        listingFinished = true;
        stage = 'languages';
        wake?.();
      },
      (error: unknown) => {
        // Stop the languages stage too: it would otherwise wait for a listing that never ends.
        controller.abort(error);
        throw error;
      },
    );
    const collecting = collectLanguages({
      client,
      via,
      reposPath: paths.repos,
      repos,
      languages,
      done,
      parallel: opts.concurrency * Math.max(1, opts.tokens.length),
      listingDone: () => listingFinished,
      moreListed,
      signal,
      onRecords: (records) => {
        languagesWritten += records.length;
        for (const r of records) runCounts[r.status]++;
      },
    });
    const stopOnFailure = collecting.catch((error: unknown) => {
      controller.abort(error);
      throw error;
    });
    const outcomes = await Promise.allSettled([listing, stopOnFailure]);
    // The first real failure, not the abort it caused in the other stage.
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    const failed =
      failures.find((o) => !isCensusError(o.reason, 'ERR_CENSUS_ABORTED')) ?? failures[0];
    // A failed flush (a full disk) is the cause of everything else that stopped.
    if (flushError !== undefined) throw flushError;
    if (failed) {
      controller.abort(failed.reason);
      throw failed.reason;
    }
    stage = 'finishing';
    for (const t of timers.splice(0)) clearInterval(t);
    await flushAll();
    for (const j of journals.splice(0)) await j.close();

    // --repos N: the last shards may have listed past the N-th repository; keep the first N.
    if (opts.repos !== null && state.listed > opts.repos) {
      const cutoff = await nthId(opts.repos, plan, state, paths.repos);
      if (cutoff !== undefined) {
        await trimJournal(paths.languages, cutoff);
        await trimJournal(paths.repos, cutoff);
      }
    }
    const counts: CensusCounts = await countJournals(paths.repos, paths.languages);
    const answered = languageStatuses.reduce((sum, s) => sum + counts[s], 0);
    manifest.counts = counts;
    manifest.complete = answered === counts.listed;
    if (!manifest.complete) {
      notice(
        `${counts.listed - answered} listed repositories have no languages record yet; run again to finish`,
      );
    }
    run.finishedAt = new Date().toISOString();
    manifest.finishedAt = run.finishedAt;
    snapshotStats();
    await saveManifest();
    progress();
    emit({ type: 'done', manifest });
    return {
      dir: opts.out,
      manifest,
      files: { repos: paths.repos, languages: paths.languages, manifest: paths.manifest },
    };
  } catch (error) {
    const clean = cleanError(error, opts.tokens, hooks.signal);
    for (const t of timers.splice(0)) clearInterval(t);
    controller.abort(clean);
    // Whatever was appended is complete records: flush it so the next run resumes from there.
    for (const j of journals.splice(0)) await j.close().catch(() => {});
    run.error = clean.message;
    snapshotStats();
    await saveManifest().catch(() => {});
    throw clean;
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
    scheduler.close(new CensusError('ERR_CENSUS_ABORTED', 'the census has ended'));
    await client.close().catch(() => {});
  }
}

/** The error to surface: a CensusError without any token in it. */
function cleanError(
  error: unknown,
  tokens: readonly string[],
  signal: AbortSignal | undefined,
): CensusError {
  if (signal?.aborted)
    return new CensusError(
      'ERR_CENSUS_ABORTED',
      'the census was aborted; run the same command again to resume',
    );
  const message = scrubTokens(messageOf(error), tokens);
  return isCensusError(error)
    ? new CensusError(error.code, message)
    : new CensusError('ERR_CENSUS_API', message);
}

function tokenView(b: TokenBudget, tokens: readonly string[]): TokenView {
  const token = tokens[b.index];
  const view = (x: TokenBudget['core']): BucketView => ({
    remaining: x.remaining,
    limit: x.limit,
    resetAt: x.resetMs,
  });
  return {
    token: token ? redactToken(token) : 'unauthenticated',
    retired: b.retired,
    inflight: b.inflight,
    core: view(b.core),
    graphql: view(b.graphql),
  };
}

/** Learns every token's budget from `GET /rate_limit` (free on the primary limit) and checks it works. */
async function preflight(
  client: ApiClient,
  opts: ResolvedOptions,
  budgets: readonly TokenBudget[],
  notice: (m: string) => void,
): Promise<void> {
  await Promise.all(
    budgets.map(async (budget) => {
      let res: Awaited<ReturnType<ApiClient['send']>>;
      try {
        res = await client.send({
          kind: 'rest',
          endpoint: 'rest:/rate_limit',
          url: client.url('rate_limit'),
          primary: false,
          token: budget.index,
        });
      } catch (error) {
        // The API rejected this token, and others are left: it is retired (the client has
        // said so), and the census goes on with them.
        if (error instanceof TokenRetired) return;
        throw error;
      }
      const resources = (
        res.body as {
          resources?: Record<string, { limit?: number; remaining?: number; reset?: number }>;
        } | null
      )?.resources;
      if (res.status !== 200 || !resources) {
        notice(
          `GET /rate_limit answered HTTP ${res.status}; budgets will be learnt from the first responses`,
        );
        return;
      }
      for (const [name, bucket] of [
        ['core', budget.core],
        ['graphql', budget.graphql],
      ] as const) {
        const r = resources[name];
        if (
          r &&
          typeof r.limit === 'number' &&
          typeof r.remaining === 'number' &&
          typeof r.reset === 'number'
        ) {
          bucket.observe({ limit: r.limit, remaining: r.remaining, reset: r.reset });
        }
      }
    }),
  );
  void opts;
}

/** Measures id density on the first listing page and splits the range; stores the plan. */
async function newPlan(
  client: ApiClient,
  opts: ResolvedOptions,
  path: string,
): Promise<StoredPlan> {
  let density = 1;
  if (opts.until === null || opts.repos !== null) {
    const url = client.url(`repositories?since=${opts.since}`);
    const res = await client.send({ kind: 'rest', endpoint: 'rest:/repositories', url });
    const items = Array.isArray(res.body) ? (res.body as Array<{ id?: unknown }>) : [];
    const last = items.at(-1)?.id;
    if (items.length > 0 && typeof last === 'number') density = (last - opts.since) / items.length;
  } else {
    density = 1;
  }
  const plan = makePlan({
    since: opts.since,
    until: opts.until,
    repos: opts.repos,
    shards: opts.shards,
    density,
  });
  const stored: StoredPlan = {
    api: opts.api.href,
    dataset: opts.dataset,
    since: opts.since,
    until: opts.until,
    repos: opts.repos,
    forks: opts.forks,
    density,
    plan,
  };
  await writeAtomic(path, `${JSON.stringify(stored, null, 2)}\n`);
  return stored;
}

/**
 * Reads `plan.json` if there is one. One that cannot be read or is not a plan is refused, never
 * replaced: a new plan could split the range differently from the journals already written.
 */
export async function readStoredPlan(path: string): Promise<StoredPlan | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw notAPlan(path, messageOf(error));
  }
  let stored: StoredPlan | null;
  try {
    stored = JSON.parse(text) as StoredPlan | null;
  } catch (error) {
    throw notAPlan(path, messageOf(error));
  }
  const plan = stored?.plan;
  if (
    typeof stored?.api !== 'string' ||
    !Number.isSafeInteger(stored.since) ||
    typeof stored.density !== 'number' ||
    !plan ||
    !Number.isSafeInteger(plan.width) ||
    plan.width < 1 ||
    !Number.isSafeInteger(plan.since)
  ) {
    throw notAPlan(path, 'it is not a shard plan');
  }
  return stored;
}

function notAPlan(path: string, why: string): CensusError {
  return new CensusError(
    'ERR_CENSUS_OUTPUT',
    `${path} is not a census plan: ${why} (fix: restore the file, or start the census again in an empty --out)`,
  );
}

/** A directory holds one census: resuming with other options would mix two. */
function checkSameCensus(stored: StoredPlan, opts: ResolvedOptions): void {
  const differs: string[] = [];
  // An emulator listens on a new port each time: its dataset, not its URL, names the census.
  const sameEmulator = !!stored.dataset && stored.dataset === opts.dataset;
  if (stored.api !== opts.api.href && !sameEmulator) {
    differs.push(stored.dataset ? `dataset ${stored.dataset}` : `API ${stored.api}`);
  }
  if (stored.since !== opts.since) differs.push(`--since ${stored.since}`);
  if (stored.until !== opts.until) differs.push(`--until ${stored.until ?? '(none)'}`);
  if (stored.repos !== opts.repos) differs.push(`--repos ${stored.repos ?? '(none)'}`);
  if (stored.forks !== opts.forks) differs.push(`--forks ${stored.forks}`);
  if (differs.length > 0) {
    throw new CensusError(
      'ERR_CENSUS_OUTPUT',
      `${opts.out} holds a census made with ${differs.join(', ')}; run with those options to resume it, or choose another --out`,
    );
  }
}

/** What the unauthenticated limit means for this census, in words. */
function unauthenticatedEstimate(
  opts: ResolvedOptions,
  density: number,
  budget: TokenBudget,
): string {
  const limit = budget.core.limit ?? 60;
  const repos =
    opts.repos ??
    (opts.until !== null ? Math.round((opts.until - opts.since - 1) / density) : null);
  if (repos === null) {
    return `no token: the unauthenticated limit is ${limit} requests per hour (one per repository); pass --token or set GITHUB_TOKEN`;
  }
  const requests = Math.ceil(repos / 100) + repos;
  const hours = requests / limit;
  const when = hours < 48 ? `${hours.toFixed(1)} hours` : `${(hours / 24).toFixed(1)} days`;
  return `no token: the unauthenticated limit is ${limit} requests per hour, so ${repos} repositories (${requests} requests) take about ${when}; pass --token or set GITHUB_TOKEN`;
}
