/**
 * What "the site" is: the host the scrape started on (with or without `www.`, over http or
 * https) plus any hosts the caller allows. Everything else is off-site and never fetched.
 */
export class Site {
  readonly #keys: Set<string>;

  constructor(start: URL, allowHosts: readonly string[] = []) {
    this.#keys = new Set([hostKey(start.hostname, start.port)]);
    for (const h of allowHosts) {
      const [name, port = ''] = h.toLowerCase().split(':');
      this.#keys.add(hostKey(name!, port));
    }
  }

  /** Whether `url` belongs to the site. */
  has(url: string | URL): boolean {
    let u: URL;
    try {
      u = typeof url === 'string' ? new URL(url) : url;
    } catch {
      return false;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
    return this.#keys.has(hostKey(u.hostname, u.port)) || this.#keys.has(hostKey(u.hostname, '*'));
  }
}

/**
 * The key of the host whose politeness limits (concurrency, delay, pauses) apply to `url`: its
 * host and port without a leading `www.`, since a blog's apex and `www.` names are one server.
 */
export function politenessKey(url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  return hostKey(u.hostname, u.port);
}

/** Query parameters that only say where a click came from (campaigns, ad and mail trackers). */
const TRACKING = /^(?:utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|mkt_tok)$/i;

/**
 * `url` without tracking parameters (`utm_source`, `fbclid`, ...): a feed that tags its links
 * (FeedBurner adds `?utm_source=feedburner`) names the same post as the index's plain link.
 */
export function withoutTracking(url: string): string {
  if (!url.includes('?')) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  const names = [...u.searchParams.keys()].filter((name) => TRACKING.test(name));
  if (names.length === 0) return url;
  for (const name of names) u.searchParams.delete(name);
  return u.href;
}

function hostKey(hostname: string, port: string): string {
  return `${hostname.toLowerCase().replace(/^www\./, '')}:${port}`;
}

/**
 * The "shape" of a post URL: its directory with digit-only segments generalised, and its depth.
 * `/post/hello/` and `/post/other/` share a shape; `/tags/go/` does not. Used to tell which
 * sitemap entries are posts.
 */
export function urlShape(url: string): string {
  const segments = new URL(url).pathname.split('/').filter(Boolean);
  const dir = segments.slice(0, -1).map((s) => (/^\d+$/.test(s) ? '#' : s));
  return `${dir.join('/')}|${segments.length}`;
}
