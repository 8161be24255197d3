/**
 * The options of {@link startEmulator}, their defaults and their validation. Every option is
 * optional: `startEmulator()` serves 100,000 synthetic repositories on a free loopback port with
 * GitHub's real limits.
 */
import type { RepositoryRates } from './dataset.js';
import { EmulatorError } from './errors.js';

/** A primary rate limit: `limit` points per window of `windowMs` (GitHub: 5,000 per hour). */
export interface RateWindow {
  /** Requests (REST) or points (GraphQL) per window. */
  limit: number;
  /** Window length in milliseconds; it starts at a token's first request, as on GitHub. */
  windowMs: number;
}

/** Primary limits per resource. Each token has its own buckets. */
export interface RateLimitOptions {
  /** REST (`x-ratelimit-resource: core`). Default 5,000 per hour. */
  core?: RateWindow;
  /** GraphQL points. Default 5,000 per hour. */
  graphql?: RateWindow;
  /** REST without a token, per client address. Default 60 per hour. */
  unauthenticated?: RateWindow;
}

/**
 * Secondary limits, per token (or per address without one). Exceeding any of them answers 403
 * with `retry-after` and a "secondary rate limit" message, and blocks the token for
 * `retryAfterSeconds`.
 */
export interface SecondaryLimitOptions {
  /** Requests in flight at once; one arriving over it is refused, not those in flight. Default 100. */
  maxConcurrent?: number;
  /** REST points (1 per GET) per window. Default 900. */
  restPoints?: number;
  /** GraphQL points (1 per query) per window. Default 2,000. */
  graphqlPoints?: number;
  /** The sliding window for the point limits, in ms. Default 60,000 (one minute). */
  windowMs?: number;
  /** How long a token stays blocked after tripping a limit; sent as `retry-after`. Default 60. */
  retryAfterSeconds?: number;
}

/** Simulated network and processing delay, added before each response. */
export interface LatencyOptions {
  /** Mean delay in ms. */
  meanMs: number;
  /** Each delay is uniform in [mean - jitter, mean + jitter] (never below 0). Default 0. */
  jitterMs?: number;
}

/**
 * Faults, each with the probability (0..1) that a request gets it. Faulted requests do not spend
 * the rate limit, except `truncated` (the request was served, the body cut short).
 */
export interface FaultOptions {
  /** 500 `{"message":"Server Error"}`. */
  http500?: number;
  /** 502 with GitHub's "couldn't respond in time" body. */
  http502?: number;
  /** 503 Service Unavailable. */
  http503?: number;
  /** The connection is destroyed before any response (ECONNRESET for the client). */
  reset?: number;
  /** Headers are never sent; the connection is destroyed after `stallMs`. */
  stall?: number;
  /** Status 200 and full headers, but the JSON body stops halfway and the connection closes. */
  truncated?: number;
  /** How long a stalled request hangs before its connection is destroyed. Default 30,000 ms. */
  stallMs?: number;
}

/** The fault kinds, in the order they are drawn. */
export const faultKinds = ['http500', 'http502', 'http503', 'reset', 'stall', 'truncated'] as const;
/** One kind of fault. */
export type FaultKind = (typeof faultKinds)[number];

/** A token the emulator accepts, with optional identity and limits of its own. */
export interface TokenOptions {
  token: string;
  /** The user the token belongs to (shown in rate-limit messages as its id). */
  login?: string;
  userId?: number;
  /** Limits for this token only, overriding {@link EmulatorOptions.rateLimit}. */
  rateLimit?: RateLimitOptions;
}

/** The API versions GitHub supports (`X-GitHub-Api-Version`). */
export type ApiVersion = '2022-11-28' | '2026-03-10';
/** The versions accepted in `X-GitHub-Api-Version`. */
export const apiVersions: readonly ApiVersion[] = ['2022-11-28', '2026-03-10'];

/** A dataset given as an object rather than a `synthetic:N` / `blog:PATH` string. */
export type DatasetOptions =
  | { kind: 'synthetic'; repositories?: number }
  | { kind: 'blog'; path: string };

/** Everything {@link startEmulator} accepts. */
export interface EmulatorOptions {
  /**
   * What to serve. `'synthetic:N'` (default `'synthetic:100000'`): N repositories generated on
   * demand from their ids, languages drawn from figures fitted to the 2016 census (`10M`, `250k`
   * and `1_000_000` are accepted). `'blog:PATH'`: a `lang_data.jsonl` file, one repository per line.
   */
  dataset?: string | DatasetOptions;
  /** Seed for everything synthetic (ids, names, languages, faults). Default 1. */
  seed?: number;
  /** Repository ids start after this one. Default 0 (synthetic) or 76,761,293 (blog, as in 2016). */
  startId?: number;
  /** Shares of empty, forked, missing, blocked and renamed repositories (see {@link RepositoryRates}). */
  repositoryRates?: RepositoryRates;
  /** Port on 127.0.0.1. Default 0 (any free port; read `url`). */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`; not empty (`'0.0.0.0'` means every interface). */
  host?: string;
  /**
   * Accepted tokens (`Authorization: token X` or `Bearer X`). Others get 401 "Bad credentials".
   * When omitted, any token is accepted and each distinct token gets its own limits.
   */
  tokens?: readonly (string | TokenOptions)[];
  /** Primary limits; tests use small windows such as `{ core: { limit: 100, windowMs: 2000 } }`. */
  rateLimit?: RateLimitOptions;
  /** Secondary limits; `false` turns them off. */
  secondaryLimit?: SecondaryLimitOptions | false;
  /** Status of REST primary-limit refusals and of all secondary-limit refusals: 403 (default) or 429. */
  rateLimitStatus?: 403 | 429;
  /** The GraphQL error `type` when points run out: `RATE_LIMITED` (default, long-standing) or `RATE_LIMIT` (seen in 2026). */
  graphqlRateLimitType?: 'RATE_LIMITED' | 'RATE_LIMIT';
  /** The version used when a request sends no `X-GitHub-Api-Version`. Default `2022-11-28`. */
  apiVersion?: ApiVersion;
  /** Added delay per response. Default none. */
  latency?: LatencyOptions;
  /** Injected failures. Default none. */
  faults?: FaultOptions;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  dataset: { kind: 'synthetic'; repositories: number } | { kind: 'blog'; path: string };
  seed: number;
  startId: number;
  repositoryRates: RepositoryRates;
  port: number;
  host: string;
  tokens: readonly TokenOptions[] | undefined;
  rateLimit: Required<RateLimitOptions>;
  secondaryLimit: Required<SecondaryLimitOptions> | false;
  rateLimitStatus: 403 | 429;
  graphqlRateLimitType: 'RATE_LIMITED' | 'RATE_LIMIT';
  apiVersion: ApiVersion;
  latency: Required<LatencyOptions>;
  faults: Required<FaultOptions>;
}

const HOUR = 3_600_000;
/** GitHub's documented limits. */
export const githubDefaults = {
  rateLimit: {
    core: { limit: 5000, windowMs: HOUR },
    graphql: { limit: 5000, windowMs: HOUR },
    unauthenticated: { limit: 60, windowMs: HOUR },
  },
  secondaryLimit: {
    maxConcurrent: 100,
    restPoints: 900,
    graphqlPoints: 2000,
    windowMs: 60_000,
    retryAfterSeconds: 60,
  },
} as const;

function fail(message: string): never {
  throw new EmulatorError('ERR_EMULATOR_OPTIONS', message);
}

function checkNumber(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Like {@link checkNumber}, for counts, ids and ports: a fraction would make ids such as 2.5. */
function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER) {
  const n = checkNumber(name, value, min, max);
  if (!Number.isInteger(n)) fail(`${name} must be a whole number, got ${JSON.stringify(value)}`);
  return n;
}

/** One of a few allowed values, or the default when left out. */
function checkChoice<T>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    fail(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** The longest delay one `setTimeout` takes (about 24.8 days); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const SIZE_SUFFIX: Record<string, number> = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6 };

/** Parses `synthetic[:N]` or `blog:PATH`; N may use `_`, `,` and a k/M suffix. */
export function parseDatasetSpec(spec: string): ResolvedOptions['dataset'] {
  if (spec === 'synthetic') return { kind: 'synthetic', repositories: 100_000 };
  if (spec.startsWith('synthetic:')) {
    const raw = spec.slice('synthetic:'.length).replace(/[_,]/g, '');
    const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(raw);
    const n = match ? Math.round(Number(match[1]) * SIZE_SUFFIX[match[2]!]!) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new EmulatorError(
        'ERR_EMULATOR_DATASET',
        `dataset ${JSON.stringify(spec)}: the repository count must be a whole number such as synthetic:100000 or synthetic:10M`,
      );
    }
    return { kind: 'synthetic', repositories: n };
  }
  if (spec.startsWith('blog:') && spec.length > 'blog:'.length) {
    return { kind: 'blog', path: spec.slice('blog:'.length) };
  }
  throw new EmulatorError(
    'ERR_EMULATOR_DATASET',
    `dataset ${JSON.stringify(spec)} is not understood; use synthetic:N (e.g. synthetic:100000) or blog:PATH (a lang_data.jsonl file)`,
  );
}

function resolveWindow(name: string, given: RateWindow | undefined, fallback: RateWindow) {
  if (given === undefined) return { ...fallback };
  return {
    limit: checkNumber(`${name}.limit`, given.limit, 0),
    windowMs: checkNumber(`${name}.windowMs`, given.windowMs, 1),
  };
}

/** Resolves per-resource limits over a fallback (used for the global and per-token limits). */
export function resolveRateLimit(
  given: RateLimitOptions | undefined,
  fallback: Required<RateLimitOptions>,
  name = 'rateLimit',
): Required<RateLimitOptions> {
  return {
    core: resolveWindow(`${name}.core`, given?.core, fallback.core),
    graphql: resolveWindow(`${name}.graphql`, given?.graphql, fallback.graphql),
    unauthenticated: resolveWindow(
      `${name}.unauthenticated`,
      given?.unauthenticated,
      fallback.unauthenticated,
    ),
  };
}

function resolveRates(rates: RepositoryRates | undefined): RepositoryRates {
  const out: RepositoryRates = {};
  for (const [key, value] of Object.entries(rates ?? {})) {
    if (value === undefined) continue;
    out[key as keyof RepositoryRates] = checkNumber(`repositoryRates.${key}`, value, 0, 1);
  }
  return out;
}

function resolveTokens(tokens: EmulatorOptions['tokens']): TokenOptions[] | undefined {
  if (tokens === undefined) return undefined;
  if (!Array.isArray(tokens)) fail('tokens must be an array of strings or { token } objects');
  return tokens.map((t, i) => {
    const entry = typeof t === 'string' ? { token: t } : t;
    if (typeof entry?.token !== 'string' || !/^[\x21-\x7e]+$/.test(entry.token)) {
      fail(`tokens[${i}] must be a non-empty token of printable characters without spaces`);
    }
    // Checked here, not when the token first shows up: a bad value would fail every request.
    resolveRateLimit(entry.rateLimit, githubDefaults.rateLimit, `tokens[${i}].rateLimit`);
    if (entry.userId !== undefined && !Number.isSafeInteger(entry.userId)) {
      fail(`tokens[${i}].userId must be a whole number, got ${JSON.stringify(entry.userId)}`);
    }
    if (entry.login !== undefined && (typeof entry.login !== 'string' || entry.login === '')) {
      fail(`tokens[${i}].login must be a non-empty string, got ${JSON.stringify(entry.login)}`);
    }
    return entry;
  });
}

/**
 * The address to listen on. node:http treats an empty host as "every interface", so an empty
 * string (say, from an unset variable) must not silently expose the emulator to the network.
 */
function resolveHost(host: unknown): string {
  if (host === undefined) return '127.0.0.1';
  if (typeof host !== 'string' || host.trim() === '') {
    fail(
      `host must be an address such as '127.0.0.1', got ${JSON.stringify(host)}; an empty host would listen on every interface, so pass '0.0.0.0' or '::' if that is what you want`,
    );
  }
  return host;
}

/** Applies defaults and checks every option, naming the one that is wrong. */
export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  const given = options.dataset;
  if (given !== undefined && typeof given !== 'string') {
    if (typeof given !== 'object' || given === null) {
      fail(`dataset must be a spec such as 'synthetic:1000' or { kind, ... }, got ${given}`);
    }
    checkChoice('dataset.kind', given.kind, ['synthetic', 'blog'], undefined);
  }
  const dataset =
    given === undefined
      ? parseDatasetSpec('synthetic')
      : typeof given === 'string'
        ? parseDatasetSpec(given)
        : given.kind === 'blog'
          ? { kind: 'blog' as const, path: given.path }
          : { kind: 'synthetic' as const, repositories: given.repositories ?? 100_000 };
  if (dataset.kind === 'synthetic') {
    checkInteger('dataset repositories', dataset.repositories, 0);
  } else if (typeof dataset.path !== 'string' || dataset.path === '') {
    fail(
      `dataset.path must be the path of a lang_data.jsonl file, got ${JSON.stringify(dataset.path)}`,
    );
  }
  const secondary = options.secondaryLimit;
  const s = githubDefaults.secondaryLimit;
  const faults = options.faults ?? {};
  const resolvedFaults = { stallMs: 30_000 } as Required<FaultOptions>;
  for (const kind of faultKinds) {
    resolvedFaults[kind] = checkNumber(`faults.${kind}`, faults[kind] ?? 0, 0, 1);
  }
  resolvedFaults.stallMs = checkNumber('faults.stallMs', faults.stallMs ?? 30_000, 0, MAX_TIMER_MS);
  const faultSum = faultKinds.reduce((sum, kind) => sum + resolvedFaults[kind], 0);
  if (faultSum > 1) fail(`the fault rates add up to ${faultSum}; their sum must be at most 1`);
  const apiVersion = options.apiVersion ?? '2022-11-28';
  if (!apiVersions.includes(apiVersion)) {
    fail(`apiVersion must be one of ${apiVersions.join(', ')}, got ${JSON.stringify(apiVersion)}`);
  }
  return {
    dataset,
    seed: Math.trunc(checkNumber('seed', options.seed ?? 1, 0, 0xffffffff)),
    startId: checkInteger(
      'startId',
      options.startId ?? (dataset.kind === 'blog' ? 76_761_293 : 0),
      0,
      2 ** 52,
    ),
    repositoryRates: resolveRates(options.repositoryRates),
    port: checkInteger('port', options.port ?? 0, 0, 65535),
    host: resolveHost(options.host),
    tokens: resolveTokens(options.tokens),
    rateLimit: resolveRateLimit(options.rateLimit, githubDefaults.rateLimit),
    secondaryLimit:
      secondary === false
        ? false
        : {
            maxConcurrent: checkNumber(
              'secondaryLimit.maxConcurrent',
              secondary?.maxConcurrent ?? s.maxConcurrent,
              1,
            ),
            restPoints: checkNumber(
              'secondaryLimit.restPoints',
              secondary?.restPoints ?? s.restPoints,
              1,
            ),
            graphqlPoints: checkNumber(
              'secondaryLimit.graphqlPoints',
              secondary?.graphqlPoints ?? s.graphqlPoints,
              1,
            ),
            windowMs: checkNumber('secondaryLimit.windowMs', secondary?.windowMs ?? s.windowMs, 60),
            retryAfterSeconds: checkNumber(
              'secondaryLimit.retryAfterSeconds',
              secondary?.retryAfterSeconds ?? s.retryAfterSeconds,
              0,
            ),
          },
    rateLimitStatus: checkChoice('rateLimitStatus', options.rateLimitStatus, [403, 429], 403),
    graphqlRateLimitType: checkChoice(
      'graphqlRateLimitType',
      options.graphqlRateLimitType,
      ['RATE_LIMITED', 'RATE_LIMIT'],
      'RATE_LIMITED',
    ),
    apiVersion,
    latency: {
      // Delays are timers: anything longer than MAX_TIMER_MS would fire after 1 ms.
      meanMs: checkNumber(
        'latency.meanMs',
        options.latency?.meanMs ?? 0,
        0,
        Math.floor(MAX_TIMER_MS / 2),
      ),
      jitterMs: checkNumber(
        'latency.jitterMs',
        options.latency?.jitterMs ?? 0,
        0,
        Math.floor(MAX_TIMER_MS / 2),
      ),
    },
    faults: resolvedFaults,
  };
}
