import { gunzipSync } from 'node:zlib';
import {
  retry,
  retryIfException,
  stopAfterAttempt,
  waitRandomExponential,
} from '@forage/decorators';
import { Pool } from 'undici';
import { type ApiKind, type Outcome, parseRateHeaders, type RateHeaders } from './budget.js';
import { BodyTooLarge, BufferPool } from './buffers.js';
import { CensusError, messageOf } from './errors.js';
import { type BudgetScheduler, type Lease, TokenRetired } from './scheduler.js';
import { redactToken, scrubTokens, tokenPositions } from './token.js';

/** How failed requests are retried. */
export interface RetryPolicy {
  /** Attempts per request for 5xx, resets, stalls and truncated bodies (>= 1). */
  readonly attempts: number;
  /** First backoff in ms; it doubles per attempt, with full jitter. */
  readonly baseMs: number;
  /** Longest single backoff in ms. */
  readonly maxMs: number;
}

/** Defaults: 6 attempts, 250 ms doubling to at most 20 s. */
export const defaultRetry: RetryPolicy = { attempts: 6, baseMs: 250, maxMs: 20_000 };

/** A parsed response the caller has to interpret (not a failure the client retried away). */
export interface ApiResponse {
  readonly status: number;
  readonly url: URL;
  readonly body: unknown;
  header(name: string): string | undefined;
}

/** Counters the manifest reports. */
export interface ClientStats {
  /** Requests sent per endpoint label (`rest:/repositories`, `graphql`, ...). */
  readonly requests: Record<string, number>;
  /** Requests counted against each primary resource. */
  readonly points: Record<'core' | 'graphql', number>;
  retries: number;
  rateLimited: number;
}

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  readonly api: URL;
  readonly tokens: readonly string[];
  readonly scheduler: BudgetScheduler;
  readonly retry?: RetryPolicy;
  /** Headers and body timeout per request, ms (a stalled response is retried). */
  readonly timeoutMs?: number;
  readonly connections?: number;
  readonly userAgent?: string;
  /**
   * Ask for gzip'd bodies (`accept-encoding: gzip`). Worth it over a real network (a listing
   * page shrinks about 10x); on loopback it only costs CPU at both ends. Default false.
   */
  readonly compress?: boolean;
  /**
   * Largest response body, in bytes, both as it arrives and once decompressed (default 16 MiB).
   * A longer one is not read on: the attempt fails (and is retried) naming the URL.
   */
  readonly maxBodyBytes?: number;
  readonly signal?: AbortSignal;
  /**
   * With several tokens, a token the API rejects (401: revoked, expired, mistyped) is retired
   * for the rest of the client's life: no request uses it again, and the request that got the
   * 401 goes again on another token. This is called once per retired token, with its index
   * (0-based) and a one-line warning that names it by position (`token 2 of 5`), never by any
   * part of it. Only when every token has been rejected does a request fail, with
   * `ERR_CENSUS_TOKEN` ({@link TokensRejected}); with a single token its 401 fails at once.
   */
  readonly onTokenRetired?: (index: number, message: string) => void;
}

/** One request's description. */
export interface ApiRequest {
  readonly kind: ApiKind;
  /** Label for the per-endpoint request counts. */
  readonly endpoint: string;
  readonly url: URL;
  readonly method?: 'GET' | 'POST';
  readonly body?: string;
  /** False for calls GitHub does not count against the primary limit (`/rate_limit`). */
  readonly primary?: boolean;
  /** Send with this token (index into the token list) rather than any that has budget. */
  readonly token?: number;
  /**
   * Reads a 2xx JSON body straight from its bytes (the listing's scanner); returning undefined
   * falls back to `JSON.parse` of the decoded text, whose failure means a truncated body.
   * It must not keep `bytes` or a view of them: the buffer is reused for later bodies.
   */
  readonly read?: (bytes: Buffer) => unknown;
}

/** A failure worth another attempt: 5xx, a reset, a stall, a truncated body. */
class Retryable extends Error {
  constructor(
    message: string,
    /** The HTTP status, when a response arrived (a truncated 200 included). */
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * Every attempt failed. `status` is the last HTTP status when the server answered (the API is
 * up but this request keeps failing), undefined when it could not be reached at all.
 */
export class RetriesExhausted extends CensusError {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super('ERR_CENSUS_API', message);
  }
}

/**
 * The API rejected every token (401), so nothing can be sent: `tokenIndexes` are their indexes
 * (0-based), and the message names them by position and says how to fix it. With one token it
 * is that token's rejection, as the census has always reported it.
 */
export class TokensRejected extends CensusError {
  constructor(
    message: string,
    readonly tokenIndexes: readonly number[],
  ) {
    super('ERR_CENSUS_TOKEN', message);
  }
}

/**
 * The only thing in the census that talks to the network. It sends requests to one origin
 * through one keep-alive undici Pool, takes a lease from the budget scheduler before every
 * send, adds the token only for that origin, retries 5xx, resets, stalls and truncated bodies
 * with exponential backoff and full jitter, waits out rate limits, and never puts a token in an
 * error message.
 */
export class ApiClient {
  readonly origin: string;
  readonly stats: ClientStats = {
    requests: {},
    points: { core: 0, graphql: 0 },
    retries: 0,
    rateLimited: 0,
  };
  private readonly pool: Pool;
  /** Where response bodies are read (see {@link BufferPool} for why). */
  private readonly buffers = new BufferPool();
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly maxBodyBytes: number;
  private readonly withRetries: (request: ApiRequest) => Promise<ApiResponse>;

  constructor(private readonly options: ApiClientOptions) {
    this.origin = options.api.origin;
    this.retry = options.retry ?? defaultRetry;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.userAgent = options.userAgent ?? 'forage-census';
    this.maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
    this.withRetries = retry({
      stop: stopAfterAttempt(this.retry.attempts),
      wait: waitRandomExponential({ multiplier: this.retry.baseMs, max: this.retry.maxMs }),
      retryIf: retryIfException(Retryable),
      beforeSleep: () => {
        this.stats.retries++;
      },
      ...(options.signal ? { signal: options.signal } : {}),
    })((request: ApiRequest) => this.attempt(request)) as (
      request: ApiRequest,
    ) => Promise<ApiResponse>;
    this.pool = new Pool(this.origin, {
      connections: options.connections ?? 64,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  /** A URL on the API, from a path relative to the configured base. */
  url(path: string): URL {
    const base = this.options.api.href.endsWith('/')
      ? this.options.api.href
      : `${this.options.api.href}/`;
    return new URL(path.replace(/^\//, ''), base);
  }

  /**
   * Sends a request, retrying what is worth retrying, and returns the first response that is
   * not a failure or a rate limit. Throws {@link CensusError}: `ERR_CENSUS_TOKEN` on 401 once
   * no token is left (with several, a rejected token is retired and the request goes on with
   * another; a request for one given token whose token was retired fails with `TokenRetired`),
   * `ERR_CENSUS_API` when retries run out, `ERR_CENSUS_ABORTED` on abort.
   */
  async send(request: ApiRequest): Promise<ApiResponse> {
    if (request.url.origin !== this.origin) {
      throw new CensusError(
        'ERR_CENSUS_PROTOCOL',
        `refused to send a request to ${request.url.origin}: only ${this.origin} gets the token`,
      );
    }
    try {
      return await this.withRetries(request);
    } catch (error) {
      if (error instanceof Retryable) {
        throw new RetriesExhausted(
          `${request.endpoint}: ${scrubTokens(error.message, this.options.tokens)} after ${this.retry.attempts} attempts (${this.origin})`,
          error.status,
        );
      }
      if (this.options.signal?.aborted) {
        throw new CensusError('ERR_CENSUS_ABORTED', 'the census was aborted');
      }
      throw this.scrub(error);
    }
  }

  /**
   * One attempt, as `@forage/decorators`' `retry` sees it: waits for budget, sends, and waits
   * out rate limits itself (those are not failures and do not use up attempts). Throws
   * {@link Retryable} for what deserves another attempt.
   */
  private async attempt(request: ApiRequest): Promise<ApiResponse> {
    for (let limited = 0; ; limited++) {
      if (limited > 100) {
        throw new CensusError(
          'ERR_CENSUS_API',
          `${request.endpoint}: still rate limited after 100 waits (${this.origin})`,
        );
      }
      const lease = await this.options.scheduler.acquire(
        request.kind,
        this.options.signal,
        request.primary ?? true,
        request.token,
      );
      let response: Awaited<ReturnType<ApiClient['once']>>;
      try {
        response = await this.once(request, lease);
      } catch (error) {
        lease.release({});
        throw error;
      }
      const limit = rateLimitOf(response, request.kind);
      // A retried status (5xx) with a `retry-after`: the token waits as the server asked (the
      // budget bounds it) before this request, or any other, goes again; still an attempt.
      const failed = !limit && response.status >= 500;
      const retryAfterMs = failed
        ? retryAfterOf(response.header('retry-after'), dateOf(response))
        : undefined;
      // A success without any rate-limit header: no primary limit to learn (GitHub Enterprise
      // Server with rate limiting off), so the budget need not probe one request at a time.
      const noPrimaryLimit =
        !limit && response.status >= 200 && response.status < 400 && !response.rateHeaders;
      lease.release({
        headers: response.rate,
        ...limit,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        ...(noPrimaryLimit ? { noPrimaryLimit } : {}),
      });
      if (limit) {
        this.stats.rateLimited++;
        continue;
      }
      if (response.status === 401) {
        this.rejected(lease.tokenIndex, response);
        // Retired, and others are left: the request goes again on one of them (unless it was
        // for this token only). Not a failed attempt: nothing is wrong with the request.
        if (request.token !== undefined) {
          throw new TokenRetired(lease.tokenIndex, this.options.tokens.length);
        }
        continue;
      }
      if (failed) throw new Retryable(`HTTP ${response.status}`, response.status);
      return response;
    }
  }

  /**
   * `text` with every token replaced by its redacted form: for what a server said (an error
   * message that echoes the request's `authorization`) before it is written anywhere.
   */
  redact(text: string): string {
    return scrubTokens(text, this.options.tokens);
  }

  /**
   * Indexes (0-based) of the tokens the API rejected (401) and this client no longer uses, in
   * order of index; empty unless there were several tokens.
   */
  retiredTokens(): number[] {
    return this.options.scheduler.retired();
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  private async once(
    request: ApiRequest,
    lease: Lease,
  ): Promise<ApiResponse & { rate: RateHeaders | undefined; rateHeaders: boolean }> {
    const headers: Record<string, string> = {
      accept: 'application/vnd.github+json',
      'user-agent': this.userAgent,
      'x-github-api-version': '2022-11-28',
    };
    const token = this.options.tokens[lease.tokenIndex];
    if (token) headers.authorization = `Bearer ${token}`;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.compress) headers['accept-encoding'] = 'gzip';
    this.stats.requests[request.endpoint] = (this.stats.requests[request.endpoint] ?? 0) + 1;
    if (request.primary !== false) {
      this.stats.points[request.kind === 'rest' ? 'core' : 'graphql']++;
    }
    let status: number | undefined;
    let raw: Record<string, string | string[] | undefined>;
    let bytes: Buffer;
    try {
      const res = await this.pool.request({
        origin: this.origin,
        path: request.url.pathname + request.url.search,
        method: request.method ?? 'GET',
        headers,
        body: request.body,
        signal: this.options.signal,
      });
      status = res.statusCode;
      raw = res.headers;
      const length = Number(res.headers['content-length']);
      bytes = await this.buffers.read(
        res.body,
        Number.isSafeInteger(length) ? length : undefined,
        this.maxBodyBytes,
      );
    } catch (error) {
      if (this.options.signal?.aborted) {
        throw new CensusError('ERR_CENSUS_ABORTED', 'the census was aborted');
      }
      if (error instanceof BodyTooLarge) {
        // The URL has no token in it (tokens only travel in the authorization header).
        throw new Retryable(
          `the body of ${request.method ?? 'GET'} ${request.url.pathname}${request.url.search} passed ${error.limit} bytes; stopped reading it`,
          status,
        );
      }
      throw new Retryable(networkMessage(error));
    }
    const header = (name: string): string | undefined => {
      const v = raw[name];
      return Array.isArray(v) ? v[0] : v;
    };
    let body: unknown;
    try {
      const decoded = decompress(bytes, header('content-encoding'), status, this.maxBodyBytes);
      body = bodyOf(decoded, header('content-type') ?? '', status, request.read);
    } finally {
      // Everything kept from the body is a copy by now (strings, records, parsed JSON).
      this.buffers.give(bytes);
    }
    return {
      status,
      url: request.url,
      body,
      header,
      rate: parseRateHeaders(header),
      rateHeaders: Object.keys(raw).some((name) => name.startsWith('x-ratelimit-')),
    };
  }

  /**
   * A 401 for the token at `index`. Without a token, or with only one, it is the end (as it
   * always was). With several, the token is retired and the caller goes on with the others;
   * once none is left, every request fails with {@link TokensRejected}.
   */
  private rejected(index: number, response: ApiResponse): void {
    const count = this.options.tokens.length;
    if (count <= 1) {
      throw new TokensRejected(this.tokenError(index, response).message, count ? [index] : []);
    }
    const said = this.said401(response);
    const retired = this.options.scheduler.retired();
    const all = [...new Set([...retired, index])].sort((a, b) => a - b);
    const noneLeft = new TokensRejected(
      `every token was rejected (401 ${scrubTokens(said, this.options.tokens)}): ${tokenPositions(
        all.map((i) => i + 1),
        count,
      )}; check them, or replace them in --token / GITHUB_TOKEN`,
      all,
    );
    const { retired: first, left, error } = this.options.scheduler.retire(index, noneLeft);
    if (left === 0) throw error;
    if (first) {
      this.options.onTokenRetired?.(
        index,
        `${tokenPositions([index + 1], count)} was rejected (401 ${scrubTokens(said, this.options.tokens)}) and is not used for the rest of this run; the census goes on with the other ${left}: replace it in --token / GITHUB_TOKEN`,
      );
    }
  }

  /**
   * What the server said with a 401, on one line: it is quoted in a notice (a retired token),
   * which is printed as it is, and line breaks in it would print lines that look like ours.
   */
  private said401(response: ApiResponse): string {
    return (messageField(response.body) ?? 'Bad credentials').replace(/\s*[\r\n]\s*/g, ' ').trim();
  }

  private tokenError(index: number, response: ApiResponse): CensusError {
    const token = this.options.tokens[index];
    const who = token ? `token ${redactToken(token)}` : 'the API';
    // What the server said may echo the authorization header: scrubbed here, so that the error
    // keeps its class (send() would otherwise replace it with a plain CensusError to scrub it).
    const message = scrubTokens(this.said401(response), this.options.tokens);
    const fix = token
      ? 'check the token, or remove it from --token / GITHUB_TOKEN'
      : 'this endpoint needs a token: pass --token or set GITHUB_TOKEN';
    return new CensusError('ERR_CENSUS_TOKEN', `${who} was rejected (401 ${message}): ${fix}`);
  }

  private scrub(error: unknown): unknown {
    if (error instanceof CensusError) {
      const clean = scrubTokens(error.message, this.options.tokens);
      return clean === error.message ? error : new CensusError(error.code, clean);
    }
    return new CensusError('ERR_CENSUS_API', scrubTokens(messageOf(error), this.options.tokens));
  }
}

/** The message field of an error body, if it has one. */
export function messageField(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'message' in body) {
    const m = (body as { message: unknown }).message;
    return typeof m === 'string' ? m : undefined;
  }
  return undefined;
}

/**
 * Recognises a rate-limit answer, as GitHub documents them: a secondary limit (403/429 with
 * "secondary rate limit" or a `retry-after`), a spent primary limit (403/429 with
 * `x-ratelimit-remaining: 0`, or its "rate limit exceeded" message when the headers are
 * missing), a GraphQL 200 whose errors say `RATE_LIMITED`/`RATE_LIMIT`, or any other 429.
 */
export function rateLimitOf(
  response: ApiResponse & { rate: RateHeaders | undefined },
  kind: ApiKind,
): Outcome | undefined {
  const serverDateMs = dateOf(response);
  const retryAfterMs = retryAfterOf(response.header('retry-after'), serverDateMs);
  const message = messageField(response.body) ?? graphqlErrorText(response.body);
  // "abuse detection mechanism": what GitHub's secondary limits said before they were named so.
  const secondary = /secondary rate limit|abuse detection/i.test(message ?? '');
  const rateType = kind === 'graphql' && graphqlRateLimited(response.body);
  const limitedStatus = response.status === 403 || response.status === 429;
  if ((limitedStatus || kind === 'graphql') && secondary) {
    return { retryAfterMs: retryAfterMs ?? 60_000 };
  }
  if (limitedStatus && retryAfterMs !== undefined) return { retryAfterMs };
  const spent = response.header('x-ratelimit-remaining') === '0';
  // The primary limit's message, when the headers that should come with it did not.
  const saysSpent = /\brate limit (already )?exceeded\b/i.test(message ?? '');
  if ((limitedStatus && (spent || saysSpent) && !hasBlock(response.body)) || rateType) {
    // The reset is the server's time: the budget places it on its own clock (using `Date`).
    return { exhaustedUntilMs: response.rate ? response.rate.reset * 1000 : 0, serverDateMs };
  }
  // 429 Too Many Requests says nothing more: GitHub advises waiting at least a minute.
  if (response.status === 429) return { retryAfterMs: 60_000 };
  return undefined;
}

/** The response's `Date` (epoch ms, the server's clock), when it has a readable one. */
function dateOf(response: ApiResponse): number | undefined {
  const date = Date.parse(response.header('date') ?? '');
  return Number.isFinite(date) ? date : undefined;
}

/**
 * A `retry-after` in ms: delay-seconds, or an HTTP date (RFC 9110), placed by the response's
 * `Date` when there is one (both are the server's clock).
 */
function retryAfterOf(
  value: string | undefined,
  serverDateMs: number | undefined,
): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const at = Date.parse(value);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - (serverDateMs ?? Date.now()));
}

function hasBlock(body: unknown): boolean {
  return !!body && typeof body === 'object' && 'block' in body;
}

function graphqlErrors(body: unknown): Array<{ type?: unknown; message?: unknown }> {
  if (body && typeof body === 'object' && 'errors' in body) {
    const errors = (body as { errors: unknown }).errors;
    if (Array.isArray(errors)) return errors as Array<{ type?: unknown; message?: unknown }>;
  }
  return [];
}

function graphqlErrorText(body: unknown): string | undefined {
  const messages = graphqlErrors(body)
    .map((e) => e.message)
    .filter((m): m is string => typeof m === 'string');
  return messages.length ? messages.join('; ') : undefined;
}

function graphqlRateLimited(body: unknown): boolean {
  return graphqlErrors(body).some((e) => e.type === 'RATE_LIMITED' || e.type === 'RATE_LIMIT');
}

/**
 * Largest body accepted, as it arrives and after decompression: about 40 times the largest
 * answer the census asks for (a listing page of 100 repositories, with GitHub's fields, is about
 * 400 KB; a GraphQL batch of 100 repositories' languages is less), and with up to 64 requests in
 * flight per token it bounds what a misbehaving server can make a run hold.
 */
export const defaultMaxBodyBytes = 16 << 20;

/** The body's bytes without their content encoding (gzip, the only one asked for). */
function decompress(
  bytes: Buffer,
  encoding: string | undefined,
  status: number,
  maxBytes: number,
): Buffer {
  const coding = encoding?.trim().toLowerCase();
  if (!coding || coding === 'identity' || bytes.length === 0) return bytes;
  if (coding !== 'gzip' && coding !== 'x-gzip') {
    throw new CensusError(
      'ERR_CENSUS_PROTOCOL',
      `the API answered with content-encoding "${coding}", which the census cannot read (it only asks for gzip)`,
    );
  }
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    // Cut off on the way (or corrupt): worth another attempt, like a truncated JSON body.
    throw new Retryable(
      `unreadable gzip body (${bytes.length} bytes: ${messageOf(error)})`,
      status,
    );
  }
}

/** The body as the caller sees it: parsed JSON (or what `read` made of it), text, or null. */
function bodyOf(
  bytes: Buffer,
  type: string,
  status: number,
  read: ((bytes: Buffer) => unknown) | undefined,
): unknown {
  if (!type.includes('json')) return bytes.length > 0 ? utf8(bytes) || null : null;
  if (read && status < 300 && bytes.length > 0) {
    const body = read(bytes);
    if (body !== undefined) return body;
  }
  const text = utf8(bytes);
  if (text.length === 0) return null;
  try {
    return JSON.parse(text);
  } catch {
    // A 2xx that does not parse was cut off on the way: retry it.
    if (status < 300) throw new Retryable(`truncated JSON body (${bytes.length} bytes)`, status);
    return null;
  }
}

/** UTF-8 text without a byte order mark, as undici's `text()` decodes it. */
function utf8(bytes: Buffer): string {
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return bytes.toString('utf8', bom ? 3 : 0);
}

function networkMessage(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const text = messageOf(error);
  return typeof code === 'string' ? `${code}: ${text}` : text;
}

/** Waits `ms`, or rejects with ERR_CENSUS_ABORTED when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted)
    return Promise.reject(new CensusError('ERR_CENSUS_ABORTED', 'the census was aborted'));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CensusError('ERR_CENSUS_ABORTED', 'the census was aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
