import { type BudgetLimits, githubLimits } from './budget.js';
import { defaultRetry, type RetryPolicy } from './client.js';
import type { ForksMode } from './enumerate.js';
import { CensusError } from './errors.js';
import type { Via } from './languages.js';

/** Options of {@link runCensus}. Only `api` is required. */
export interface CensusOptions {
  /** The API's base URL, e.g. `https://api.github.com` or an emulator's `http://127.0.0.1:PORT`. */
  readonly api: string | URL;
  /** Tokens to share the work between; none means the unauthenticated limit (REST only). */
  readonly tokens?: readonly string[];
  /** The census directory (default `census-out`). Existing journals there are resumed. */
  readonly out?: string;
  /** List repositories with ids greater than this (the API's `since`). Default 0. */
  readonly since?: number;
  /** ...and less than this. Default: the end of the id space. */
  readonly until?: number | null;
  /** ...and at most this many: the first N repositories after `since`. Default: no cap. */
  readonly repos?: number | null;
  /** GraphQL batches (default) or one REST call per repository, as the 2016 study did. */
  readonly via?: Via;
  /** Listing shards walked at once (default 16). */
  readonly shards?: number;
  /** Requests in flight per token (default 64, at most 100). */
  readonly concurrency?: number;
  /** Keep forks (default), leave them out, or keep only forks. */
  readonly forks?: ForksMode;
  /** Recorded in the manifest: the emulator's dataset spec, or null for a real API. */
  readonly dataset?: string | null;
  /** Override GitHub's documented limits (tests with small windows). */
  readonly limits?: Partial<BudgetLimits>;
  /** Retry policy for failed requests. */
  readonly retry?: Partial<RetryPolicy>;
  /** Per-request headers/body timeout in ms (default 30,000); a stalled response is retried. */
  readonly timeoutMs?: number;
  /** How often journals are flushed and fsync'd, ms (default 100). */
  readonly flushIntervalMs?: number;
  /**
   * Ask for gzip'd responses. Default: on for a remote API (a listing page travels about 10x
   * smaller), off on loopback (an emulator), where compressing only costs CPU at both ends.
   */
  readonly compress?: boolean;
  /**
   * Fetch again the repositories whose languages record is `error` (the request failed after
   * its retries) from an earlier run of this census; default false, every record is final.
   */
  readonly retryErrors?: boolean;
}

/** Options with defaults applied and every value checked. */
export interface ResolvedOptions {
  readonly api: URL;
  readonly tokens: readonly string[];
  readonly out: string;
  readonly since: number;
  readonly until: number | null;
  readonly repos: number | null;
  readonly via: Via;
  readonly shards: number;
  readonly concurrency: number;
  readonly forks: ForksMode;
  readonly dataset: string | null;
  readonly limits: BudgetLimits;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly flushIntervalMs: number;
  readonly compress: boolean;
  readonly retryErrors: boolean;
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** True for loopback hosts, where plain http is allowed (the emulator). */
export function isLoopback(url: URL): boolean {
  return loopbackHosts.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}

function bad(message: string): CensusError {
  return new CensusError('ERR_CENSUS_OPTION', message);
}

function integer(
  name: string,
  value: number | null | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`;
    throw bad(`${name} must be an integer ${range}, got ${String(value)}`);
  }
  return value;
}

/** Parses the API URL: https, or http on a loopback address only; no credentials in it. */
export function parseApiUrl(value: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw bad(`--api must be a URL such as https://api.github.com, got "${String(value)}"`);
  }
  if (url.username || url.password) {
    throw bad('--api must not carry credentials; pass tokens with --token or GITHUB_TOKEN');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
    throw bad(
      `--api ${url.origin} must use https (plain http is only allowed on a loopback address such as 127.0.0.1)`,
    );
  }
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** Checks every option and fills in the defaults. Throws ERR_CENSUS_OPTION naming the fix. */
export function resolveOptions(options: CensusOptions): ResolvedOptions {
  const api = parseApiUrl(options.api);
  const tokens = [...new Set((options.tokens ?? []).map((t) => t.trim()).filter(Boolean))];
  for (const t of tokens) {
    if (!/^[\x21-\x7e]+$/.test(t)) {
      throw bad('a token contains spaces or control characters; check --token / GITHUB_TOKEN');
    }
  }
  const since = integer('--since', options.since ?? 0, 0)!;
  const until = integer('--until', options.until, since + 2);
  const repos = integer('--repos', options.repos, 1);
  const via = options.via ?? 'graphql';
  if (via !== 'graphql' && via !== 'rest') throw bad(`--via must be graphql or rest, got "${via}"`);
  const forks = options.forks ?? 'include';
  if (!['include', 'exclude', 'only'].includes(forks)) {
    throw bad(`--forks must be include, exclude or only, got "${forks}"`);
  }
  const shards = integer('--shards', options.shards ?? 16, 1, 4096)!;
  const concurrency = integer('--concurrency', options.concurrency ?? 64, 1, 100)!;
  const limits: BudgetLimits = { ...githubLimits, ...options.limits, concurrency };
  // A limit of 0 points would hold every request for ever; NaN would compare false everywhere.
  integer('limits.restPoints', limits.restPoints, 1);
  integer('limits.graphqlPoints', limits.graphqlPoints, 1);
  integer('limits.windowMs', limits.windowMs, 0);
  integer('limits.resetMarginMs', limits.resetMarginMs, 0);
  integer('limits.unknownResetWaitMs', limits.unknownResetWaitMs, 0);
  if (options.retryErrors !== undefined && typeof options.retryErrors !== 'boolean') {
    throw bad(`retryErrors must be true or false, got ${String(options.retryErrors)}`);
  }
  const retry: RetryPolicy = { ...defaultRetry, ...options.retry };
  integer('retry.attempts', retry.attempts, 1);
  integer('retry.baseMs', retry.baseMs, 0);
  integer('retry.maxMs', retry.maxMs, 0);
  return {
    api,
    tokens,
    out: options.out ?? 'census-out',
    since,
    until,
    repos,
    via,
    shards,
    concurrency,
    forks,
    dataset: options.dataset ?? null,
    limits,
    retry,
    timeoutMs: integer('timeoutMs', options.timeoutMs ?? 30_000, 1)!,
    flushIntervalMs: integer('flushIntervalMs', options.flushIntervalMs ?? 100, 1)!,
    compress: options.compress ?? !isLoopback(api),
    retryErrors: options.retryErrors ?? false,
  };
}
