/**
 * The HTTP server: routing, authentication, limits, conditional requests, latency and faults,
 * on node:http directly (the listing and languages routes are hot paths).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { type Principal, Principals } from './auth.js';
import type { Dataset, Repo } from './dataset.js';
import { EmulatorError } from './errors.js';
import { runGraphQL } from './graphql/handler.js';
import {
  type ApiVersion,
  apiVersions,
  type FaultKind,
  faultKinds,
  type ResolvedOptions,
} from './options.js';
import { hash32, Rng } from './random.js';
import type { Resource, SecondaryReason, SecondaryState } from './rate-limits.js';
import {
  baseHeaders,
  encode,
  etagMatches,
  type Reply,
  rateHeaders,
  resetConnection,
  send,
  sendTruncated,
} from './responses.js';
import { errorBodies, listingLink, listingPage, missingUserAgentBody } from './rest-bodies.js';
import { StatsRecorder } from './stats.js';

/** GitHub's page size for `GET /repositories`. */
const PAGE_SIZE = 100;
const MAX_GRAPHQL_BODY = 1 << 20;
/** Listing pages are written into pooled buffers (a page of 100 items is about 430 KB). */
const PAGE_BUFFER = 1 << 20;
const PAGE_POOL = 32;

type Route =
  | { name: 'GET /repositories' }
  | { name: 'GET /repos/{owner}/{repo}/languages'; owner: string; repo: string }
  | { name: 'GET /repositories/{id}/languages'; id: number }
  | { name: 'GET /rate_limit' }
  | { name: 'POST /graphql' }
  | { name: 'not found' };

function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** Maps method and path to a route (GitHub answers 404, not 405, to unsupported methods). */
function route(method: string, path: string): Route {
  const get = method === 'GET' || method === 'HEAD';
  if (get && path === '/repositories') return { name: 'GET /repositories' };
  if (get && path === '/rate_limit') return { name: 'GET /rate_limit' };
  if (method === 'POST' && path === '/graphql') return { name: 'POST /graphql' };
  if (get && path.endsWith('/languages')) {
    const parts = path.split('/');
    if (parts.length === 5 && parts[1] === 'repos' && parts[2] && parts[3]) {
      const owner = decodeSegment(parts[2]);
      const repo = decodeSegment(parts[3]);
      if (owner && repo) return { name: 'GET /repos/{owner}/{repo}/languages', owner, repo };
    }
    if (parts.length === 4 && parts[1] === 'repositories' && /^\d{1,16}$/.test(parts[2]!)) {
      return { name: 'GET /repositories/{id}/languages', id: Number(parts[2]) };
    }
  }
  return { name: 'not found' };
}

/**
 * The value of a query parameter, or undefined when it is absent or empty. Every parameter the
 * emulator reads goes through here, so a repeated one (`?since=1&since=2`) is read one way
 * everywhere: the last value wins. GitHub's REST API is a Rails application, and Rack's query
 * parser assigns a plain (bracketless) key once per occurrence, so the last assignment is the one
 * a handler sees. `URLSearchParams.get` returns the first, which answered a different page than
 * GitHub would, with nothing to tell the client.
 */
function queryParam(query: string, name: string): string | undefined {
  if (!query) return undefined;
  const value = new URLSearchParams(query).getAll(name).at(-1);
  return value === undefined || value === '' ? undefined : value;
}

/** Per-request context passed through the handlers. */
interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  now: number;
  requestId: string;
  version: ApiVersion;
  principal: Principal;
  resource: Resource;
}

/** The emulator's request handling; one instance per `startEmulator` call. */
export class EmulatorServer {
  readonly stats = new StatsRecorder();
  readonly server: Server;
  private readonly principals: Principals;
  private readonly rng: Rng;
  private api = '';
  private requestCounter = 0;
  private readonly faultCumulative: number[];
  private readonly pagePool: Buffer[] = [];

  constructor(
    private readonly options: ResolvedOptions,
    readonly dataset: Dataset,
  ) {
    this.principals = new Principals(options);
    this.rng = new Rng(hash32(options.seed, 0, 99));
    let acc = 0;
    this.faultCumulative = faultKinds.map((k) => {
      acc += options.faults[k];
      return acc;
    });
    this.server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // The client hung up while its body was being read: nothing to answer, nothing wrong.
        if (req.destroyed && (error as NodeJS.ErrnoException)?.code === 'ECONNRESET') return;
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          res.end(errorBodies.serverError());
        }
        // An emulator bug must be visible to whoever runs the tests.
        process.emitWarning(`github-emulator: ${(error as Error)?.stack ?? String(error)}`);
      });
    });
  }

  /** Starts listening; resolves with the base URL. */
  async listen(): Promise<string> {
    const { port, host } = this.options;
    await new Promise<void>((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException) => {
        const hint =
          error.code === 'EADDRINUSE'
            ? 'it is in use; choose another port, or 0 for any free one'
            : error.message;
        reject(
          new EmulatorError('ERR_EMULATOR_LISTEN', `cannot listen on ${host}:${port}: ${hint}`, {
            cause: error,
          }),
        );
      };
      this.server.once('error', failed);
      this.server.listen(port, host, () => {
        this.server.off('error', failed);
        resolve();
      });
    });
    const bound = (this.server.address() as AddressInfo).port;
    this.api = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
    return this.api;
  }

  /** Stops accepting, drops open connections (including stalled ones). */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private drawFault(): FaultKind | undefined {
    const total = this.faultCumulative.at(-1) ?? 0;
    if (total === 0) return undefined;
    const u = this.rng.next();
    if (u >= total) return undefined;
    const i = this.faultCumulative.findIndex((c) => u < c);
    return faultKinds[i];
  }

  private latency(): number {
    const { meanMs, jitterMs } = this.options.latency;
    if (meanMs === 0 && jitterMs === 0) return 0;
    return Math.max(0, meanMs + (this.rng.next() * 2 - 1) * jitterMs);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.begin();
    let entered: SecondaryState | undefined;
    let ended = false;
    res.once('close', () => {
      if (ended) return;
      ended = true;
      this.stats.end();
      entered?.leave();
    });
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    if (path === '/_emulator/stats') {
      this.stats.route('GET /_emulator/stats');
      return this.finish(req, res, {
        status: 200,
        headers: ['content-type', 'application/json; charset=utf-8'],
        body: JSON.stringify(this.stats.snapshot()),
      });
    }
    const r = route(req.method ?? 'GET', path);
    this.stats.route(r.name);
    const requestId = this.nextRequestId();
    const who = this.identify(req, r, requestId);
    if ('reply' in who) return this.finish(req, res, who.reply);
    const principal = who.principal;
    // Concurrency is judged on arrival; refused requests are not in flight for the limit.
    const refusedOnArrival = principal.secondary?.enter(Date.now());
    if (principal.secondary && !refusedOnArrival) entered = principal.secondary;
    this.stats.client(principal.label).requests++;
    const wait = this.latency();
    // Unref'd: while serving, the server keeps the process alive; after close() a request
    // still waiting out its delay must not.
    if (wait > 0) await delay(wait, undefined, { ref: false });
    if (res.destroyed) return;
    // Limits are judged when the request is handled, after its simulated latency.
    const ctx: Ctx = {
      req,
      res,
      now: Date.now(),
      requestId,
      version: who.version,
      principal,
      resource: r.name === 'POST /graphql' ? 'graphql' : 'core',
    };
    const fault = this.drawFault();
    if (fault && fault !== 'truncated') return this.fault(ctx, fault);
    const refused = this.checkSecondary(ctx, refusedOnArrival);
    if (refused) return this.finish(req, res, refused);
    const reply = await this.dispatch(ctx, r, query);
    if (fault === 'truncated') {
      this.stats.fault('truncated');
      this.stats.status(reply.status);
      const payload = await encode(req, reply);
      return sendTruncated(res, reply, payload);
    }
    return this.finish(req, res, reply);
  }

  /**
   * Checks what every request needs before it is routed (a User-Agent, a supported API version,
   * valid credentials, a token for GraphQL) and says who is asking, or the refusal to send.
   */
  private identify(
    req: IncomingMessage,
    r: Route,
    requestId: string,
  ): { reply: Reply } | { principal: Principal; version: ApiVersion } {
    if (!req.headers['user-agent']) {
      return {
        reply: {
          status: 403,
          headers: ['content-type', 'text/html; charset=utf-8', 'x-github-request-id', requestId],
          body: missingUserAgentBody,
        },
      };
    }
    const asked = req.headers['x-github-api-version'];
    const version = typeof asked === 'string' ? asked : this.options.apiVersion;
    if (!apiVersions.includes(version as ApiVersion)) {
      const headers = baseHeaders(this.options.apiVersion, requestId, false);
      return { reply: { status: 400, headers, body: errorBodies.badVersion(version) } };
    }
    const auth = this.principals.authenticate(
      req.headers.authorization,
      req.socket.remoteAddress ?? 'unknown',
    );
    const headers = baseHeaders(version, requestId, false);
    if (!auth.ok) return { reply: { status: 401, headers, body: errorBodies.badCredentials() } };
    if (r.name === 'POST /graphql' && !auth.principal.authenticated) {
      return { reply: { status: 401, headers, body: errorBodies.graphqlUnauthenticated() } };
    }
    return { principal: auth.principal, version: version as ApiVersion };
  }

  private nextRequestId(): string {
    this.requestCounter++;
    return `E${this.requestCounter.toString(16).toUpperCase().padStart(7, '0')}:0001:${((this.requestCounter * 2654435761) >>> 0).toString(16).toUpperCase()}`;
  }

  private async finish(req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<void> {
    this.stats.status(reply.status);
    const payload = await encode(req, reply);
    send(res, reply, payload);
  }

  private headers(ctx: Ctx, resource: Resource = ctx.resource): string[] {
    const h = baseHeaders(ctx.version, ctx.requestId, ctx.principal.authenticated);
    const bucket = ctx.principal.buckets[resource].refresh(ctx.now);
    h.push(...rateHeaders(bucket, resource));
    return h;
  }

  private fault(ctx: Ctx, kind: FaultKind): void {
    this.stats.fault(kind);
    const { req, res } = ctx;
    switch (kind) {
      case 'reset':
        resetConnection(res);
        return;
      case 'stall': {
        const timer = setTimeout(() => resetConnection(res), this.options.faults.stallMs);
        res.once('close', () => clearTimeout(timer));
        return;
      }
      default: {
        const status = kind === 'http500' ? 500 : kind === 'http502' ? 502 : 503;
        const body =
          status === 500
            ? errorBodies.serverError()
            : status === 502
              ? errorBodies.badGateway()
              : errorBodies.unavailable();
        // Drain a request body (GraphQL) so the connection stays usable.
        req.resume();
        void this.finish(req, res, { status, headers: this.headers(ctx), body });
      }
    }
  }

  /** The secondary-limit refusal to send: the one from arrival, else one for points. */
  private checkSecondary(ctx: Ctx, onArrival: SecondaryReason | undefined): Reply | undefined {
    const secondary = ctx.principal.secondary;
    if (!secondary) return undefined;
    const reason = onArrival ?? secondary.admit(ctx.now, ctx.resource, 1);
    if (!reason) return undefined;
    this.stats.client(ctx.principal.label).overSecondary++;
    ctx.req.resume();
    const status = this.options.rateLimitStatus;
    const headers = this.headers(ctx);
    headers.push('retry-after', String(secondary.retryAfter(ctx.now)));
    return { status, headers, body: errorBodies.secondary(ctx.requestId, status) };
  }

  /** Spends one REST point, or returns GitHub's primary-limit refusal. */
  private spendCore(ctx: Ctx): Reply | undefined {
    const bucket = ctx.principal.buckets.core.refresh(ctx.now);
    if (bucket.trySpend(1)) return undefined;
    this.stats.client(ctx.principal.label).overPrimary++;
    const status = this.options.rateLimitStatus;
    return {
      status,
      headers: this.headers(ctx),
      body: ctx.principal.authenticated
        ? errorBodies.rateLimitedUser(ctx.principal.userId, status)
        : errorBodies.rateLimitedAddress(ctx.principal.address),
    };
  }

  private etag(kind: number, key: number, version: ApiVersion): string {
    const f = this.dataset.fingerprint;
    const v = version === '2022-11-28' ? 0 : 1;
    let out = '';
    for (let i = 0; i < 4; i++)
      out += hash32(f ^ kind, key, v * 8 + i)
        .toString(16)
        .padStart(8, '0');
    return `W/"${out}"`;
  }

  /** A 304 when the client's ETag still matches (free when authorized, as on GitHub). */
  private conditional(ctx: Ctx, etag: string): Reply | undefined {
    if (!etagMatches(ctx.req.headers['if-none-match'] as string | undefined, etag))
      return undefined;
    if (!ctx.principal.authenticated) {
      const refused = this.spendCore(ctx);
      if (refused) return refused;
    }
    const headers = this.headers(ctx);
    headers.push('etag', etag);
    return { status: 304, headers, body: '' };
  }

  private async dispatch(ctx: Ctx, r: Route, query: string): Promise<Reply> {
    switch (r.name) {
      case 'GET /repositories':
        return this.listing(ctx, query);
      case 'GET /repos/{owner}/{repo}/languages': {
        const found = this.dataset.lookup(r.owner, r.repo);
        if (found?.viaOldName) {
          const refused = this.spendCore(ctx);
          if (refused) return refused;
          const location = `${this.api}/repositories/${found.repo.id}/languages`;
          const headers = this.headers(ctx);
          headers.push('location', location);
          return { status: 301, headers, body: errorBodies.moved(location) };
        }
        return this.languages(ctx, found?.repo);
      }
      case 'GET /repositories/{id}/languages':
        return this.languages(ctx, this.dataset.get(r.id));
      case 'GET /rate_limit':
        return this.rateLimit(ctx);
      case 'POST /graphql':
        return this.graphql(ctx);
      default: {
        const refused = this.spendCore(ctx);
        if (refused) return refused;
        return { status: 404, headers: this.headers(ctx), body: errorBodies.notFound() };
      }
    }
  }

  private listing(ctx: Ctx, query: string): Reply {
    const raw = queryParam(query, 'since');
    let since = 0;
    if (raw !== undefined) {
      if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
        const refused = this.spendCore(ctx);
        if (refused) return refused;
        return { status: 422, headers: this.headers(ctx), body: errorBodies.invalidSince(raw) };
      }
      since = Number(raw);
    }
    const etag = this.etag(1, since, ctx.version);
    const notModified = this.conditional(ctx, etag);
    if (notModified) return notModified;
    const refused = this.spendCore(ctx);
    if (refused) return refused;
    const repos = this.dataset.page(since, PAGE_SIZE);
    this.stats.servedRepositories += repos.length;
    const headers = this.headers(ctx);
    headers.push('etag', etag, 'link', listingLink(this.api, repos.at(-1)?.id));
    const buffer = this.pagePool.pop() ?? Buffer.allocUnsafe(PAGE_BUFFER);
    const release = () => {
      if (this.pagePool.length < PAGE_POOL) this.pagePool.push(buffer);
    };
    return { status: 200, headers, body: listingPage(this.api, repos, buffer), release };
  }

  private languages(ctx: Ctx, repo: Repo | undefined): Reply {
    // Every repository answered with 200 (a renamed one too, at its id or new name) has an ETag.
    if (repo && (repo.state === 'ok' || repo.state === 'renamed')) {
      const etag = this.etag(2, repo.id, ctx.version);
      const notModified = this.conditional(ctx, etag);
      if (notModified) return notModified;
    }
    const refused = this.spendCore(ctx);
    if (refused) return refused;
    const headers = this.headers(ctx);
    if (!repo || repo.state === 'missing') {
      return { status: 404, headers, body: errorBodies.languagesNotFound() };
    }
    if (repo.state === 'dmca' || repo.state === 'tos' || repo.state === 'unavailable') {
      return {
        status: repo.state === 'dmca' ? 451 : 403,
        headers,
        body: errorBodies.blocked(repo.state, repo.id),
      };
    }
    this.stats.servedLanguages++;
    headers.push('etag', this.etag(2, repo.id, ctx.version));
    return { status: 200, headers, body: this.dataset.languagesJson(repo) };
  }

  private rateLimit(ctx: Ctx): Reply {
    const p = ctx.principal;
    const view = (resource: Resource) => {
      const b = p.buckets[resource].refresh(ctx.now);
      return { limit: b.limit, used: b.used, remaining: b.remaining, reset: b.resetSeconds };
    };
    const fixed = (limit: number, seconds: number) => ({
      limit,
      used: 0,
      remaining: limit,
      reset: Math.ceil(ctx.now / 1000) + seconds,
    });
    const core = view('core');
    const resources = {
      core,
      search: fixed(p.authenticated ? 30 : 10, 60),
      graphql: view('graphql'),
      integration_manifest: fixed(5000, 3600),
      source_import: fixed(p.authenticated ? 100 : 5, 60),
      code_scanning_upload: fixed(p.authenticated ? 1000 : 60, 3600),
      actions_runner_registration: fixed(p.authenticated ? 10000 : 60, 3600),
      scim: fixed(15000, 3600),
      dependency_snapshots: fixed(100, 60),
      dependency_sbom: fixed(100, 3600),
      code_search: fixed(10, 60),
      code_scanning_autofix: fixed(10, 60),
    };
    const body = ctx.version === '2022-11-28' ? { resources, rate: core } : { resources };
    return { status: 200, headers: this.headers(ctx, 'core'), body: JSON.stringify(body) };
  }

  private async readBody(req: IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_GRAPHQL_BODY) return undefined;
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private async graphql(ctx: Ctx): Promise<Reply> {
    const text = await this.readBody(ctx.req);
    const bucket = ctx.principal.buckets.graphql.refresh(ctx.now);
    if (text === undefined) {
      // The rest of the body is never read, so this connection cannot carry another request:
      // say so, or a keep-alive client reuses it and its next request is reset.
      const headers = this.headers(ctx);
      headers.push('connection', 'close');
      return {
        status: 413,
        headers,
        body: JSON.stringify({ message: 'Request body too large (limit 1 MiB).' }),
      };
    }
    const stats = this.stats;
    const label = ctx.principal.label;
    const outcome = await runGraphQL(
      this.dataset,
      text,
      (cost, nodeCount, dryRun) => {
        const ok = dryRun || bucket.trySpend(cost);
        if (!ok) stats.client(label).overPrimary++;
        else if (!dryRun) stats.graphqlPoints += cost;
        return {
          ok,
          view: {
            cost,
            limit: bucket.limit,
            nodeCount,
            remaining: bucket.remaining,
            resetAt: new Date(bucket.resetSeconds * 1000).toISOString().replace('.000Z', 'Z'),
            used: bucket.used,
          },
        };
      },
      () =>
        this.options.graphqlRateLimitType === 'RATE_LIMIT'
          ? {
              type: 'RATE_LIMIT',
              code: 'graphql_rate_limit',
              message: `API rate limit already exceeded for user ID ${ctx.principal.userId}.`,
            }
          : {
              type: 'RATE_LIMITED',
              message: `API rate limit exceeded for user ID ${ctx.principal.userId}.`,
            },
      () => {
        stats.servedLanguages++;
      },
    );
    const headers = this.headers(ctx);
    if (outcome.rateLimited) {
      // GitHub reports 0 remaining when it refuses a query for points.
      const i = headers.indexOf('x-ratelimit-remaining');
      headers[i + 1] = '0';
    }
    return { status: outcome.status, headers, body: outcome.body };
  }
}
