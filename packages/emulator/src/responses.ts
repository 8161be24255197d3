/**
 * Building and sending responses: GitHub's standard headers, rate-limit headers, weak ETags,
 * gzip when asked, and the fault modes that break a response on purpose.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { Bucket, Resource } from './rate-limits.js';

const gzip = promisify(gzipCallback);

/** A response ready to send. Headers are a flat [name, value, ...] list (fast in node:http). */
export interface Reply {
  status: number;
  headers: string[];
  body: string | Buffer;
  /** Called once the response is done with `body` (returns a pooled buffer). */
  release?: () => void;
}

/** Rate-limit headers for a bucket. */
export function rateHeaders(bucket: Bucket, resource: Resource): string[] {
  return [
    'x-ratelimit-limit',
    String(bucket.limit),
    'x-ratelimit-remaining',
    String(bucket.remaining),
    'x-ratelimit-reset',
    String(bucket.resetSeconds),
    'x-ratelimit-used',
    String(bucket.used),
    'x-ratelimit-resource',
    resource,
  ];
}

/** Headers GitHub sends on every JSON response. */
export function baseHeaders(version: string, requestId: string, authenticated: boolean): string[] {
  return [
    'content-type',
    'application/json; charset=utf-8',
    'cache-control',
    authenticated ? 'private, max-age=60, s-maxage=60' : 'public, max-age=60, s-maxage=60',
    'vary',
    'Accept, Authorization, Cookie, X-GitHub-OTP,Accept-Encoding, Accept, X-Requested-With',
    'x-github-media-type',
    'github.v3; format=json',
    'x-github-api-version-selected',
    version,
    'x-github-request-id',
    requestId,
    'server',
    'github.com',
  ];
}

/** Whether an `If-None-Match` header matches `etag` (weak comparison, lists and `*` allowed). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (const part of header.split(',')) {
    const tag = part.trim();
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === bare) return true;
  }
  return false;
}

/**
 * Whether the client accepts gzip (RFC 9110 12.5.3): `gzip` or `x-gzip` with a weight above 0,
 * or `*` above 0 when gzip is not named; `gzip;q=0` refuses it.
 */
export function wantsGzip(req: IncomingMessage): boolean {
  const accept = req.headers['accept-encoding'];
  if (typeof accept !== 'string') return false;
  let any = false;
  for (const part of accept.split(',')) {
    const [name = '', ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') continue;
    const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/i.exec(p)?.[1]).find(Boolean);
    const accepted = q === undefined || Number(q) > 0;
    if (coding !== '*') return accepted;
    any = accepted;
  }
  return any;
}

/** Encodes the body (gzip if asked) and adds Content-Length. */
export async function encode(req: IncomingMessage, reply: Reply): Promise<Buffer | string> {
  if (reply.body.length > 0 && reply.status !== 304 && wantsGzip(req)) {
    const zipped = await gzip(reply.body);
    reply.headers.push('content-encoding', 'gzip', 'content-length', String(zipped.length));
    return zipped;
  }
  reply.headers.push('content-length', String(Buffer.byteLength(reply.body)));
  return reply.body;
}

/** Sends a reply (encoded already). */
export function send(res: ServerResponse, reply: Reply, payload: Buffer | string): void {
  if (reply.release) res.once('close', reply.release);
  if (res.destroyed) return;
  res.writeHead(reply.status, reply.headers);
  res.end(payload);
}

/** Sends full headers, half the body, then kills the connection: a truncated JSON body. */
export function sendTruncated(res: ServerResponse, reply: Reply, payload: Buffer | string): void {
  if (reply.release) res.once('close', reply.release);
  if (res.destroyed) return;
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  res.writeHead(reply.status, reply.headers);
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
}

/** Resets the connection (RST where the platform allows, else a plain close). */
export function resetConnection(res: ServerResponse): void {
  const socket = res.socket as (ServerResponse['socket'] & { resetAndDestroy?: () => void }) | null;
  if (socket?.resetAndDestroy) socket.resetAndDestroy();
  else socket?.destroy();
}
