/**
 * Where Redis is: `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS), or the
 * same as an object. Turned into the options BullMQ and ioredis take. Passwords never appear
 * in messages: {@link describeRedis} redacts them.
 */
import { Redis } from 'ioredis';
import { DistributedError, ErrorCode } from './errors.js';
import { settlesWithin } from './settles-within.js';

/** Connection options for Redis, a plain subset of ioredis's. */
export interface RedisEndpoint {
  host: string;
  port: number;
  db?: number;
  username?: string;
  password?: string;
  /** Use TLS (`rediss://`). */
  tls?: boolean;
}

/** A Redis URL (`redis://127.0.0.1:6379`) or its parts. */
export type RedisConnection = string | URL | RedisEndpoint;

/** The options object handed to BullMQ / ioredis. @internal */
export interface IoRedisOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
  /** BullMQ's workers block on Redis; they must wait through a restart rather than fail. */
  maxRetriesPerRequest: number | null;
  connectionName?: string;
}

/**
 * Parses a Redis URL or endpoint.
 * @throws {@link DistributedError} `ERR_QUEUE_URL` naming the input and the expected form.
 */
export function parseRedis(connection: RedisConnection): RedisEndpoint {
  if (typeof connection === 'object' && !(connection instanceof URL)) {
    if (!connection || typeof connection.host !== 'string' || connection.host === '') {
      throw badUrl('an object without a host');
    }
    const { port, db, username, password } = connection;
    if (!validPort(port)) throw badUrl(`an object with port ${String(port)} (1 to 65535)`);
    if (db !== undefined && (!Number.isInteger(db) || db < 0)) {
      throw badUrl(`an object with database ${String(db)} (an integer >= 0)`);
    }
    for (const [name, value] of [
      ['username', username],
      ['password', password],
    ] as const) {
      if (value !== undefined && typeof value !== 'string') {
        throw badUrl(`an object whose ${name} is not a string`);
      }
    }
    return { ...connection };
  }
  const text = String(connection);
  const shown = JSON.stringify(redact(text));
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUrl(shown);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw badUrl(`${shown} (scheme ${url.protocol.slice(0, -1)})`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw badUrl(`${shown} (no host)`);
  const port = url.port === '' ? 6379 : Number(url.port);
  if (!validPort(port)) throw badUrl(`${shown} (port ${port})`);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) {
    throw badUrl(`${shown} (database ${JSON.stringify(dbText)} is not a number)`);
  }
  return {
    host,
    port,
    db,
    username: url.username ? decodeUserinfo(url.username, shown) : undefined,
    password: url.password ? decodeUserinfo(url.password, shown) : undefined,
    tls: url.protocol === 'rediss:',
  };
}

function validPort(port: unknown): boolean {
  return Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535;
}

/** Percent-decodes a user name or password; a stray `%` is the caller's URL to fix. */
function decodeUserinfo(part: string, shown: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw badUrl(`${shown} (its user name or password is not valid percent-encoding)`);
  }
}

/** ioredis options for an endpoint. @internal */
export function ioRedisOptions(endpoint: RedisEndpoint, retryForever: boolean): IoRedisOptions {
  return {
    host: endpoint.host,
    port: endpoint.port,
    db: endpoint.db ?? 0,
    ...(endpoint.username ? { username: endpoint.username } : {}),
    ...(endpoint.password ? { password: endpoint.password } : {}),
    ...(endpoint.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: retryForever ? null : 20,
  };
}

/**
 * Connects once, without retrying, and sends PING: a Redis that is not there is reported at
 * once (or after `timeoutMs` for a host that does not answer), instead of after the minutes of
 * retries the queue's own connections would spend waiting for it.
 * @param label how the caller gave the URL, for the message: `the connection option` (a
 *   library call), or the CLI's `--queue`.
 * @throws {@link DistributedError} `ERR_QUEUE_UNAVAILABLE` naming the URL (never its password)
 *   and the fix.
 */
export async function checkRedis(
  endpoint: RedisEndpoint,
  timeoutMs = 5000,
  label = 'the connection option',
): Promise<void> {
  const client = new Redis({
    ...ioRedisOptions(endpoint, false),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The socket's error (ECONNREFUSED, ENOTFOUND...) says more than the rejection of connect().
  let socketError: Error | undefined;
  client.on('error', (error: Error) => {
    socketError ??= error;
  });
  try {
    const answered = client.connect().then(() => client.ping());
    if (!(await settlesWithin(answered, timeoutMs))) {
      throw new Error(`no answer within ${timeoutMs} ms`);
    }
    await answered;
  } catch (error) {
    const where = describeRedis(endpoint);
    const reason = redactPassword((socketError ?? (error as Error)).message, endpoint.password);
    // Redis is there, but wants another password (or user): starting it is not the fix.
    if (/^(NOAUTH|WRONGPASS)\b/.test(reason)) {
      throw new DistributedError(
        `Redis at ${where} (${label}) refused the connection: ${reason}; give ${label} its password, as ${where.replace(/^(rediss?:\/\/)([^@]*@)?/, '$1:PASSWORD@')} (or USER:PASSWORD@ for an ACL user; write / ? # @ % in it as %2F %3F %23 %40 %25)`,
        ErrorCode.queueUnavailable,
      );
    }
    throw new DistributedError(
      `cannot reach Redis at ${where} (${label}): ${reason}; start it there (redis-server --port ${endpoint.port} --appendonly yes) or give ${label} the URL of a running Redis`,
      ErrorCode.queueUnavailable,
    );
  } finally {
    client.disconnect();
  }
}

function redactPassword(text: string, password: string | undefined): string {
  return password ? text.split(password).join('***') : text;
}

/** `redis://host:port/db` with any password replaced by `***`, for messages and logs. */
export function describeRedis(endpoint: RedisEndpoint): string {
  const scheme = endpoint.tls ? 'rediss' : 'redis';
  const auth = endpoint.password
    ? `${endpoint.username ?? ''}:***@`
    : endpoint.username
      ? `${endpoint.username}@`
      : '';
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${scheme}://${auth}${host}:${endpoint.port}${endpoint.db ? `/${endpoint.db}` : ''}`;
}

/**
 * A URL as typed, with everything between the scheme and the last `@` (the user name and
 * password) replaced by `***`. By position rather than by parsing: the URLs shown are those that
 * did not parse, often because a password holds `/`, `?`, `#` or `@`, and a parser would take
 * part of the password for the host or path.
 */
function redact(text: string): string {
  const at = text.lastIndexOf('@');
  if (at === -1) return text;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/*/.exec(text)?.[0] ?? '';
  return `${text.slice(0, Math.min(scheme.length, at))}***${text.slice(at)}`;
}

function badUrl(what: string): DistributedError {
  return new DistributedError(
    `the queue must be a Redis URL like redis://127.0.0.1:6379 (or rediss:// for TLS, /N for a database, redis://:PASSWORD@host with / ? # @ % in the password written %2F %3F %23 %40 %25), got ${what}`,
    ErrorCode.queueUrl,
  );
}
