/**
 * Who is asking: a known token, or (for REST without a token) a client address. Each principal
 * owns its rate-limit buckets and secondary-limit state. Tokens are never stored in stats or
 * messages: principals are labelled by login or by a short hash.
 */
import { createHash } from 'node:crypto';
import type { RateLimitOptions, ResolvedOptions, TokenOptions } from './options.js';
import { resolveRateLimit } from './options.js';
import { Bucket, type Resource, SecondaryState } from './rate-limits.js';

/** A client the emulator meters. */
export interface Principal {
  /** Safe to show: a login, `token#N`, `token-<hash>` or `ip:<address>`. */
  readonly label: string;
  readonly authenticated: boolean;
  readonly userId: number;
  readonly address: string;
  readonly buckets: Record<Resource, Bucket>;
  readonly secondary: SecondaryState | undefined;
}

/** The outcome of reading the Authorization header. */
export type AuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'bad-credentials' };

const SCHEME = /^(?:token|bearer)\s+(\S+)\s*$/i;

function shortHash(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 10);
}

/** Keeps one principal per token or address for the emulator's lifetime. */
export class Principals {
  private readonly byToken = new Map<string, Principal>();
  private readonly byAddress = new Map<string, Principal>();
  private readonly known: Map<string, { entry: TokenOptions; index: number }> | undefined;

  constructor(private readonly options: ResolvedOptions) {
    this.known =
      options.tokens &&
      new Map(options.tokens.map((entry, index) => [entry.token, { entry, index }]));
  }

  private create(
    label: string,
    authenticated: boolean,
    userId: number,
    address: string,
    limits: RateLimitOptions | undefined,
  ): Principal {
    const rate = resolveRateLimit(limits, this.options.rateLimit, `tokens[${label}].rateLimit`);
    const secondary = this.options.secondaryLimit;
    return {
      label,
      authenticated,
      userId,
      address,
      buckets: {
        core: new Bucket(authenticated ? rate.core : rate.unauthenticated),
        graphql: new Bucket(authenticated ? rate.graphql : { limit: 0, windowMs: 3_600_000 }),
      },
      secondary: secondary ? new SecondaryState(secondary) : undefined,
    };
  }

  /** Resolves a request's Authorization header (undefined when absent). */
  authenticate(header: string | undefined, address: string): AuthResult {
    if (header === undefined || header === '') {
      let p = this.byAddress.get(address);
      if (!p) {
        p = this.create(`ip:${address}`, false, 0, address, undefined);
        this.byAddress.set(address, p);
      }
      return { ok: true, principal: p };
    }
    const token = SCHEME.exec(header)?.[1];
    if (token === undefined) return { ok: false, reason: 'bad-credentials' };
    const existing = this.byToken.get(token);
    if (existing) return { ok: true, principal: existing };
    let found: { entry: TokenOptions; index: number } | undefined;
    if (this.known) {
      found = this.known.get(token);
      if (!found) return { ok: false, reason: 'bad-credentials' };
    }
    const entry = found?.entry;
    const hash = shortHash(token);
    // Listed tokens are labelled by login or position (token#1); others by a short hash.
    const label = entry?.login ?? (found ? `token#${found.index + 1}` : `token-${hash}`);
    const principal = this.create(
      label,
      true,
      entry?.userId ?? 1_000_000 + (Number.parseInt(hash.slice(0, 6), 16) % 9_000_000),
      address,
      entry?.rateLimit,
    );
    this.byToken.set(token, principal);
    return { ok: true, principal };
  }
}
