/**
 * The coordinator of a census spread over many machines. It splits the id range into shards
 * exactly as a one-machine census does (and stores the same `plan.json`), hands shard slices and
 * 100-repository languages batches to `forage census-worker` processes through a
 * {@link QueueExecutor}, and is the only process that writes the census directory. It appends
 * what comes back to the same journals as `runCensus`, deduplicated by repository id, so the
 * files are those of a one-machine run and either kind of run can resume the other's directory.
 *
 * Resuming: every shard continues from the highest id it has in `repos.jsonl` (finished shards
 * are in `shards.jsonl`), and every listed repository without a languages record is batched
 * again. A job whose worker died is retried by BullMQ; a job lost to a Redis outage is queued
 * again by the coordinator. A result that arrives twice is written once.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import {
  atomicWriter,
  CensusError,
  type CensusManifest,
  censusFiles,
  censusPaths,
  censusVersion,
  dropErrorRecords,
  type ForksMode,
  forEachLine,
  Journal,
  type LanguageRecord,
  type LanguageStatus,
  languageStatuses,
  lockCensus,
  makePlan,
  parseApiUrl,
  type RepoRecord,
  readManifest,
  readStoredPlan,
  type ShardPlan,
  type StoredPlan,
  shardOf,
  shardRange,
  type Via,
  writeAtomic,
} from '@forage/census';
import { type Future, taskModule } from '@forage/futures';
import type { LanguagesJob, ShardJob, ShardSlice } from './census-tasks.js';
import {
  checkRedis,
  describeRedis,
  parseRedis,
  type RedisConnection,
  type RedisEndpoint,
} from './connection.js';
import {
  checkName,
  DistributedError,
  durationMs,
  ErrorCode,
  invalidOption,
  positiveInteger,
} from './errors.js';
import { QueueExecutor } from './queue-executor.js';

/** The queue census jobs go through unless told otherwise. */
export const censusQueueName = 'forage-census';

/**
 * The job group of the census in directory `out` on this host (see `QueueExecutor`'s
 * `jobGroup`): a restarted coordinator finds the jobs its killed predecessor left queued.
 */
export function censusJobGroup(out: string): string {
  const digest = createHash('sha256')
    .update(`${hostname()}\0${resolve(out)}`)
    .digest('hex');
  return `census-${digest.slice(0, 16)}`;
}

/** Options of {@link runDistributedCensus}. */
export interface DistributedCensusOptions {
  /** Where Redis is. */
  readonly connection: RedisConnection;
  /**
   * How messages name where `connection` came from (a Redis that cannot be reached). Default
   * `the connection option`; the CLI passes its flag, `--queue`.
   */
  readonly connectionLabel?: string;
  /** The queue name; the workers must use the same. Default `forage-census`. */
  readonly queue?: string;
  /** The API base URL (https, or http on loopback). The workers hold the tokens. */
  readonly api: string | URL;
  /** Repositories with ids above `since` (exclusive)... */
  readonly since: number;
  /** ...and below `until` (exclusive). A distributed census needs a bounded range. */
  readonly until: number;
  /** The census directory. Default `census-out`. */
  readonly out?: string;
  readonly via?: Via;
  readonly forks?: ForksMode;
  /** Shards of the id range. Default 32. */
  readonly shards?: number;
  /**
   * Fetch again the repositories whose languages record is `error` from an earlier run of this
   * census (as `runCensus`'s option of the same name). Default false: every record is final.
   */
  readonly retryErrors?: boolean;
  /** Listing pages per job (a shard is walked in several jobs). Default 10. */
  readonly pagesPerJob?: number;
  /** The emulator's dataset, for the manifest. */
  readonly dataset?: string | null;
}

/** What the coordinator reports while it runs. */
export type DistributedCensusEvent =
  | { readonly type: 'notice'; readonly message: string }
  | {
      readonly type: 'progress';
      readonly listed: number;
      readonly languages: number;
      readonly shardsDone: number;
      readonly shards: number;
      readonly jobsPending: number;
      readonly elapsedMs: number;
    };

/** How a run is controlled and watched. */
export interface DistributedCensusHooks {
  /** Aborting stops the run; the journals stay consistent and the next run resumes. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: DistributedCensusEvent) => void;
  /** Progress interval, ms (default 1000). */
  readonly progressIntervalMs?: number;
}

/** What a finished distributed census left behind. */
export interface DistributedCensusResult {
  readonly dir: string;
  readonly manifest: CensusManifest;
}

const tasks = taskModule<typeof import('./census-tasks.js')>(
  new URL('./census-tasks.js', import.meta.url),
);

/** Codes of failures that are about the queue, not the job: queue the job again. */
// A rejected token, or a worker started for another API, is one worker's problem: that worker
// stops, and another takes the job.
const requeueCodes = new Set<string>([
  ErrorCode.queueUnavailable,
  ErrorCode.jobLost,
  ErrorCode.jobFailed,
  ErrorCode.apiRefused,
  'ERR_CENSUS_TOKEN',
]);
const maxRequeues = 20;
/** When to say that no worker seems to be running. */
const noWorkerNoticeMs = 15_000;
/** How often the coordinator checks that its Redis answers (and how long it waits for it). */
const redisCheckMs = 5000;

/**
 * Runs (or resumes) a census whose requests are made by `forage census-worker` processes.
 *
 * @example
 * ```ts
 * const { manifest } = await runDistributedCensus({
 *   connection: 'redis://10.0.0.5:6379', api: 'https://api.github.com',
 *   since: 76761293, until: 77761293, out: 'census',
 * });
 * ```
 */
export async function runDistributedCensus(
  options: DistributedCensusOptions,
  hooks: DistributedCensusHooks = {},
): Promise<DistributedCensusResult> {
  const api = parseApiUrl(options.api);
  const out = options.out ?? 'census-out';
  const via: Via = options.via ?? 'graphql';
  if (via !== 'graphql' && via !== 'rest') {
    throw invalidOption(`via must be graphql or rest, got ${JSON.stringify(via)}`);
  }
  const forks: ForksMode = options.forks ?? 'include';
  if (forks !== 'include' && forks !== 'exclude' && forks !== 'only') {
    throw invalidOption(`forks must be include, exclude or only, got ${JSON.stringify(forks)}`);
  }
  if (!Number.isSafeInteger(options.since) || options.since < 0) {
    throw new DistributedError(
      `since must be an id >= 0, got ${options.since}`,
      ErrorCode.invalidOption,
    );
  }
  if (!Number.isSafeInteger(options.until) || options.until <= options.since + 1) {
    throw new DistributedError(
      `a distributed census needs --until above --since + 1 (got since ${options.since}, until ${String(options.until)}); give the id range to cover`,
      ErrorCode.invalidOption,
    );
  }
  // As a one-machine census allows: every shard is walked at once, each with a job queued.
  const shards = options.shards ?? 32;
  if (!Number.isSafeInteger(shards) || shards < 1 || shards > 4096) {
    throw invalidOption(`shards must be an integer 1..4096, got ${String(shards)}`);
  }
  const pagesPerJob = positiveInteger(options.pagesPerJob, 'pagesPerJob', 10);
  if (options.retryErrors !== undefined && typeof options.retryErrors !== 'boolean') {
    throw invalidOption(`retryErrors must be true or false, got ${String(options.retryErrors)}`);
  }
  // Checked here, not when the run has begun: nothing is connected or written for a bad option.
  const queue = checkName(options.queue, 'queue', censusQueueName);
  durationMs(hooks.progressIntervalMs, 'progressIntervalMs', 1000);
  // Before anything is planned or written: a Redis that is not there is one clear error, not
  // minutes of jobs queued again.
  const endpoint = parseRedis(options.connection);
  await checkRedis(endpoint, undefined, options.connectionLabel);
  try {
    await mkdir(out, { recursive: true });
  } catch (error) {
    throw new CensusError(
      'ERR_CENSUS_OUTPUT',
      `cannot create --out ${out} (${(error as Error).message})`,
    );
  }
  // One run at a time per directory, this one or a runCensus: two would append every
  // repository twice.
  const lock = await lockCensus(out);
  try {
    return await runLocked({
      options,
      hooks,
      api,
      out,
      via,
      forks,
      shards,
      pagesPerJob,
      endpoint,
      queue,
    });
  } finally {
    await lock.release();
  }
}

/** The checked options of a run. */
interface Setup {
  readonly options: DistributedCensusOptions;
  readonly hooks: DistributedCensusHooks;
  readonly api: URL;
  readonly out: string;
  readonly via: Via;
  readonly forks: ForksMode;
  readonly shards: number;
  readonly pagesPerJob: number;
  readonly endpoint: RedisEndpoint;
  readonly queue: string;
}

/** {@link runDistributedCensus} once the directory is locked. */
async function runLocked(setup: Setup): Promise<DistributedCensusResult> {
  const { options, hooks, api, out, via, forks, shards, pagesPerJob, endpoint, queue } = setup;
  const emit = hooks.onProgress ?? (() => {});
  const paths = censusPaths(out);
  const plan = await loadOrMakePlan(
    paths.plan,
    api.href,
    options.since,
    options.until,
    forks,
    shards,
    options.dataset ?? null,
  );
  const previous = await readManifest(paths.manifest);

  const opened = await Promise.all([
    Journal.open(paths.repos),
    Journal.open(paths.languages),
    Journal.open(paths.shards),
  ]);
  const [repos, languagesOpened, shardsJournal] = opened.map((o) => o.journal) as [
    Journal,
    Journal,
    Journal,
  ];
  for (const [name, o] of [
    [censusFiles.repos, opened[0]],
    [censusFiles.languages, opened[1]],
    [censusFiles.shards, opened[2]],
  ] as const) {
    if (o.repairedBytes > 0)
      emit({
        type: 'notice',
        message: `repaired ${name}: cut a torn last line (${o.repairedBytes} bytes)`,
      });
  }

  let languages = languagesOpened;
  let state: CoordinatorState;
  try {
    if (options.retryErrors) {
      const { journal, dropped } = await dropErrorRecords(languagesOpened);
      languages = journal;
      emit({
        type: 'notice',
        message: `--retry-errors: ${dropped} ${dropped === 1 ? 'repository' : 'repositories'} whose languages failed before will be fetched again`,
      });
    }
    state = await loadState(plan, paths);
  } catch (error) {
    await Promise.allSettled([repos.close(), languages.close(), shardsJournal.close()]);
    throw error;
  }
  if (state.listed > 0) {
    emit({
      type: 'notice',
      message: `resuming: ${state.listed} repositories listed, ${state.done.size} with languages`,
    });
  }
  const group = censusJobGroup(out);
  const executor = new QueueExecutor({
    connection: options.connection,
    queue,
    jobGroup: group,
  });
  // Jobs are queued again only after a failure of a connection that once worked.
  try {
    await executor.connected();
    // A coordinator of this directory that was killed left its queued jobs: workers would
    // still run them for nobody while this run queues the same work again. The lock says no
    // other coordinator of this directory is running.
    const removed = await executor.removeQueuedJobs(group);
    if (removed > 0) {
      emit({ type: 'notice', message: `removed ${removed} jobs an earlier run left queued` });
    }
  } catch (error) {
    await executor.abort(error);
    await Promise.allSettled([repos.close(), languages.close(), shardsJournal.close()]);
    throw error;
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort(hooks.signal?.reason);
  if (hooks.signal?.aborted) onAbort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;
  // Every job in flight listens to the signal.
  setMaxListeners(0, signal);
  const started = Date.now();
  let jobsPending = 0;
  let jobsDone = 0;
  const timers: NodeJS.Timeout[] = [];

  /** Submits a job, queueing it again while the failure is the queue's, not the job's. */
  const runJob = async <T>(submit: () => Future<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw aborted();
      jobsPending++;
      try {
        const result = await orAbort(submit(), signal);
        jobsDone++;
        return result;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (
          signal.aborted ||
          typeof code !== 'string' ||
          !requeueCodes.has(code) ||
          attempt >= maxRequeues
        )
          throw error;
        emit({ type: 'notice', message: `${(error as Error).message}; queueing the job again` });
        await delay(Math.min(5000, 250 * attempt), signal);
      } finally {
        jobsPending--;
      }
    }
  };

  const languageJobs = new Set<Promise<void>>();
  let batch: RepoRecord[] = [...state.unanswered];
  state.unanswered.length = 0;
  const submitBatch = (repoBatch: RepoRecord[]): void => {
    const job: LanguagesJob = { api: api.href, via, repos: repoBatch };
    const promise = runJob(() => executor.submit(tasks.fetchLanguages, job)).then((records) => {
      for (const record of records) writeLanguage(record);
    });
    const tracked: Promise<void> = promise.finally(() => languageJobs.delete(tracked));
    tracked.catch(() => {});
    languageJobs.add(tracked);
  };
  const writeLanguage = (record: LanguageRecord): void => {
    if (state.done.has(record.id)) return;
    state.done.add(record.id);
    state.counts[record.status]++;
    languages.append(record);
  };
  const queueForLanguages = (fresh: readonly RepoRecord[]): void => {
    for (const repo of fresh) {
      if (state.done.has(repo.id)) continue;
      batch.push(repo);
      if (batch.length === 100) {
        submitBatch(batch);
        batch = [];
      }
    }
  };

  const walkShard = async (k: number): Promise<void> => {
    const range = shardRange(plan, k);
    if (range === undefined) return;
    let cursor = Math.max(range.start - 1, state.cursor.get(k) ?? 0);
    let count = state.shardCounts.get(k) ?? 0;
    for (;;) {
      const job: ShardJob = {
        api: api.href,
        start: range.start,
        end: range.end,
        cursor,
        maxPages: pagesPerJob,
        forks,
      };
      const slice: ShardSlice = await runJob(() => executor.submit(tasks.listShard, job));
      // Only ids past the cursor are new: a result delivered twice adds nothing.
      const fresh = slice.repos.filter((r) => r.id > cursor && r.id < range.end);
      for (const repo of fresh) repos.append(repo);
      count += fresh.length;
      state.listed += fresh.length;
      cursor = Math.max(cursor, slice.cursor);
      // On disk before their languages are asked for, and before the shard is marked finished.
      await repos.flush();
      queueForLanguages(fresh);
      if (slice.finished) {
        shardsJournal.append(slice.endOfSpace ? { k, count, endOfSpace: true } : { k, count });
        await shardsJournal.flush();
        state.shardsDone.add(k);
        return;
      }
    }
  };

  const manifest = startManifest(previous, {
    api: api.href.replace(/\/$/, ''),
    via,
    dataset: options.dataset ?? null,
    since: options.since,
    until: options.until,
    forks,
  });
  const run = manifest.runs.at(-1) as CensusManifest['runs'][number];
  // Manifest writes run one after another, in call order: the last one's text is the file's.
  const writeManifest = atomicWriter(paths.manifest);
  const saveManifest = (): Promise<void> => writeManifest(`${JSON.stringify(manifest, null, 2)}\n`);
  try {
    await saveManifest();
    timers.push(setInterval(() => void languages.flush().catch(() => {}), 200));
    // While Redis is down nothing moves and, with every job already queued there, nothing else
    // would say why: look, and say so (once), and say when it is back.
    let redisDown = false;
    let checking = false;
    timers.push(
      setInterval(() => {
        if (checking) return;
        checking = true;
        checkRedis(endpoint, redisCheckMs, options.connectionLabel)
          .then(
            () => {
              if (!redisDown || timers.length === 0) return;
              redisDown = false;
              emit({
                type: 'notice',
                message: `Redis at ${describeRedis(endpoint)} answers again; the census goes on`,
              });
            },
            (error: unknown) => {
              if (redisDown || timers.length === 0) return;
              redisDown = true;
              const why = (error as Error).message
                .replace(/^.*?\): /, '')
                .replace(/; start it there.*$/, '');
              emit({
                type: 'notice',
                message: `Redis at ${describeRedis(endpoint)} is not answering (${why}); waiting for it: the queued jobs are there, and the census goes on when it is back (or stop with Ctrl-C and run the same command again later)`,
              });
            },
          )
          .finally(() => {
            checking = false;
          });
      }, redisCheckMs),
    );
    const idleWarning = setTimeout(() => {
      if (jobsDone === 0 && jobsPending > 0) {
        emit({
          type: 'notice',
          message: `no worker has finished a job after ${noWorkerNoticeMs / 1000} s: start forage census-worker --queue ${describeRedis(endpoint)} --api ${api.origin} --token T on each machine (same --queue-name)`,
        });
      }
    }, noWorkerNoticeMs);
    idleWarning.unref();
    timers.push(idleWarning);
    timers.push(
      setInterval(() => {
        emit({
          type: 'progress',
          listed: state.listed,
          languages: state.done.size,
          shardsDone: state.shardsDone.size,
          shards: plan.expected ?? state.shardsDone.size,
          jobsPending,
          elapsedMs: Date.now() - started,
        });
      }, hooks.progressIntervalMs ?? 1000),
    );
    // Batches left over by an earlier run go first.
    while (batch.length >= 100) {
      submitBatch(batch.slice(0, 100));
      batch = batch.slice(100);
    }
    const walks: Promise<void>[] = [];
    for (let k = 0; shardRange(plan, k) !== undefined; k++) {
      if (!state.shardsDone.has(k) && k < state.endShard) walks.push(walkShard(k));
    }
    const listing = await Promise.allSettled(walks);
    const failed = listing.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    if (batch.length > 0) submitBatch(batch);
    batch = [];
    while (languageJobs.size > 0) {
      const outcomes = await Promise.allSettled([...languageJobs]);
      const bad = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (bad) throw bad.reason;
    }
    for (const t of timers.splice(0)) clearInterval(t);
    await Promise.all([repos.close(), languages.close(), shardsJournal.close()]);
    const answered = languageStatuses.reduce((sum, s) => sum + state.counts[s], 0);
    manifest.counts = { listed: state.listed, ...state.counts };
    manifest.complete = answered === state.listed;
    run.finishedAt = new Date().toISOString();
    run.wallMs = Date.now() - started;
    manifest.finishedAt = run.finishedAt;
    manifest.wallMs += run.wallMs;
    await saveManifest();
    await executor.shutdown({ wait: true });
    return { dir: out, manifest };
  } catch (error) {
    controller.abort(error);
    for (const t of timers.splice(0)) clearInterval(t);
    await Promise.allSettled(languageJobs);
    await Promise.allSettled([repos.close(), languages.close(), shardsJournal.close()]);
    run.error = (error as Error).message;
    run.wallMs = Date.now() - started;
    await saveManifest().catch(() => {});
    // Not shutdown(): jobs a worker started may never finish (that worker may be gone), and
    // waiting for them would keep this process alive after its final error.
    await executor.abort(error);
    if (hooks.signal?.aborted) throw aborted();
    throw error;
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
  }
}

interface CoordinatorState {
  /** Highest id written per shard. */
  readonly cursor: Map<number, number>;
  readonly shardCounts: Map<number, number>;
  readonly shardsDone: Set<number>;
  endShard: number;
  listed: number;
  /** Ids with a languages record. */
  readonly done: Set<number>;
  readonly counts: Record<LanguageStatus, number>;
  /** Listed repositories without a languages record, in listing order. */
  readonly unanswered: RepoRecord[];
}

/** Rebuilds what the journals say: shard cursors, finished shards, answered ids. */
async function loadState(
  plan: ShardPlan,
  paths: { repos: string; languages: string; shards: string },
): Promise<CoordinatorState> {
  const state: CoordinatorState = {
    cursor: new Map(),
    shardCounts: new Map(),
    shardsDone: new Set(),
    endShard: Number.POSITIVE_INFINITY,
    listed: 0,
    done: new Set(),
    counts: Object.fromEntries(languageStatuses.map((s) => [s, 0])) as Record<
      LanguageStatus,
      number
    >,
    unanswered: [],
  };
  await forEachLine(paths.languages, (line, n) => {
    const record = readRecord<LanguageRecord>(paths.languages, line, n, (r) =>
      languageStatuses.includes(r.status) ? undefined : 'it has no known "status"',
    );
    if (state.done.has(record.id)) return;
    state.done.add(record.id);
    state.counts[record.status]++;
  });
  await forEachLine(paths.repos, (line, n) => {
    const repo = readRecord<RepoRecord>(paths.repos, line, n);
    const k = shardOf(plan, repo.id);
    state.cursor.set(k, Math.max(state.cursor.get(k) ?? 0, repo.id));
    state.shardCounts.set(k, (state.shardCounts.get(k) ?? 0) + 1);
    state.listed++;
    if (!state.done.has(repo.id)) state.unanswered.push(repo);
  });
  await forEachLine(paths.shards, (line, n) => {
    let done: { k: number; endOfSpace?: boolean };
    try {
      done = JSON.parse(line) as { k: number; endOfSpace?: boolean };
      if (!Number.isSafeInteger(done?.k) || done.k < 0)
        throw new Error('it has no shard number "k"');
    } catch (error) {
      throw notARecord(paths.shards, n, error);
    }
    state.shardsDone.add(done.k);
    if (done.endOfSpace) state.endShard = Math.min(state.endShard, done.k + 1);
  });
  return state;
}

/**
 * Line `n` of the journal at `path`, parsed: a record with an integer `id` that `check` (a
 * reason, or `undefined`) accepts. Throws `ERR_CENSUS_OUTPUT` naming the file, the line and
 * the fix, as a one-machine census does.
 */
function readRecord<T extends { id: number }>(
  path: string,
  line: string,
  n: number,
  check: (record: T) => string | undefined = () => undefined,
): T {
  try {
    const record = JSON.parse(line) as T;
    if (!Number.isSafeInteger(record?.id)) throw new Error('it has no integer "id"');
    const why = check(record);
    if (why !== undefined) throw new Error(why);
    return record;
  } catch (error) {
    throw notARecord(path, n, error);
  }
}

/** The error of a journal line that is not a record (the census's own wording and fixes). */
function notARecord(path: string, n: number, why: unknown): CensusError {
  const name = basename(path);
  const fix =
    name === censusFiles.languages
      ? 'delete that line and run the census again: its repository is fetched again'
      : name === censusFiles.shards
        ? 'delete that line and run the census again: its shard is listed again'
        : 'restore the file, or start the census again in an empty --out';
  return new CensusError(
    'ERR_CENSUS_OUTPUT',
    `${path} line ${n} is not a census record: ${why instanceof Error ? why.message : String(why)} (fix: ${fix})`,
  );
}

/**
 * The stored plan, checked against this run's options, or a new one (as `runCensus` makes). A
 * `plan.json` that cannot be read or is not a plan is refused (`ERR_CENSUS_OUTPUT`), never
 * replaced: a new plan could split the range differently from the journals already written.
 */
async function loadOrMakePlan(
  path: string,
  api: string,
  since: number,
  until: number,
  forks: ForksMode,
  shards: number,
  dataset: string | null,
): Promise<ShardPlan> {
  const stored = await readStoredPlan(path);
  if (stored) {
    const differs: string[] = [];
    // An emulator listens on a new port each time: its dataset, not its URL, names the census
    // (as runCensus decides).
    const sameEmulator = !!stored.dataset && stored.dataset === dataset;
    if (stored.api !== api && !sameEmulator) {
      differs.push(stored.dataset ? `dataset ${stored.dataset}` : `API ${stored.api}`);
    }
    if (stored.since !== since) differs.push(`--since ${stored.since}`);
    if (stored.until !== until) differs.push(`--until ${stored.until ?? '(none)'}`);
    if (stored.repos !== null) differs.push(`--repos ${stored.repos}`);
    if (stored.forks !== forks) differs.push(`--forks ${stored.forks}`);
    if (differs.length > 0) {
      throw new CensusError(
        'ERR_CENSUS_OUTPUT',
        `${path} belongs to a census made with ${differs.join(', ')}; run with those options to resume it, or choose another --out`,
      );
    }
    return stored.plan;
  }
  const plan = makePlan({ since, until, repos: null, shards, density: 1 });
  const fresh: StoredPlan = { api, dataset, since, until, repos: null, forks, density: 1, plan };
  await writeAtomic(path, `${JSON.stringify(fresh, null, 2)}\n`);
  return plan;
}

function startManifest(
  previous: CensusManifest | undefined,
  fields: {
    api: string;
    via: Via;
    dataset: string | null;
    since: number;
    until: number;
    forks: ForksMode;
  },
): CensusManifest {
  const now = new Date().toISOString();
  const manifest: CensusManifest = previous ?? {
    format: 'forage-census/1',
    version: censusVersion,
    complete: false,
    api: fields.api,
    via: fields.via,
    dataset: fields.dataset,
    range: { since: fields.since, until: fields.until, repos: null },
    forks: fields.forks,
    // The workers hold the tokens; the coordinator never sees them.
    tokens: [],
    startedAt: now,
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
  manifest.runs.push({
    startedAt: now,
    finishedAt: null,
    wallMs: 0,
    resumed: previous !== undefined,
  });
  return manifest;
}

function aborted(): CensusError {
  return new CensusError(
    'ERR_CENSUS_ABORTED',
    'the census was aborted; run the same command again to resume',
  );
}

/**
 * Races `promise` against `signal`: rejects with {@link aborted} once the signal aborts. Its
 * listener on the signal is removed as soon as the race ends, so that the run's signal does
 * not collect one listener per job.
 */
function orAbort<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      Promise.resolve(promise).then(undefined, () => {});
      reject(aborted());
      return;
    }
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(promise)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
