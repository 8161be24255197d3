/**
 * robots.txt as RFC 9309 reads it: the group for our product token (else `*`), longest
 * matching rule wins, `Allow` wins a tie, `*` and `$` in paths, plus the common extensions
 * `Crawl-delay` and `Sitemap`.
 */

interface Rule {
  allow: boolean;
  pattern: string;
  regex: RegExp;
}

/**
 * The product token of a User-Agent header or a robots.txt `User-agent` line, lower-cased: its
 * leading letters, `_` and `-` (RFC 9309), so `MyBot/2.1 (+https://...)` and `MyBot/1.0` are
 * both `mybot`.
 */
export function productToken(userAgent: string): string {
  return (/^[A-Za-z_-]*/.exec(userAgent.trim())?.[0] ?? '').toLowerCase();
}

/** The parsed rules that apply to one user agent. */
export class Robots {
  /** Sitemap URLs the file lists (for every agent). */
  readonly sitemaps: string[];
  /** `Crawl-delay` for our group, in milliseconds, if any. */
  readonly crawlDelayMs: number | undefined;
  readonly #rules: Rule[];
  readonly #disallowAll: boolean;

  private constructor(
    rules: Rule[],
    sitemaps: string[],
    crawlDelayMs: number | undefined,
    disallowAll: boolean,
  ) {
    this.#rules = rules;
    this.sitemaps = sitemaps;
    this.crawlDelayMs = crawlDelayMs;
    this.#disallowAll = disallowAll;
  }

  /** Rules that allow everything (robots.txt missing, 4xx, or robots turned off). */
  static allowAll(): Robots {
    return new Robots([], [], undefined, false);
  }

  /** Rules that forbid everything (robots.txt unreachable: RFC 9309 says assume full disallow). */
  static disallowAll(): Robots {
    return new Robots([], [], undefined, true);
  }

  /**
   * Parses `text` for the agent whose product token is `agent` (e.g. `Forage`, or a whole
   * User-Agent header): the groups naming exactly that token (any case, any version), else `*`.
   */
  static parse(text: string, agent: string): Robots {
    const token = productToken(agent);
    type Group = { agents: string[]; rules: Rule[]; delay?: number };
    const groups: Group[] = [];
    const sitemaps: string[] = [];
    let current: Group | undefined;
    let lastWasAgent = false;
    for (const raw of text.split(/\r\n|\r|\n/)) {
      const line = raw.replace(/#.*/, '').trim();
      const m = /^([A-Za-z-]+)\s*:\s*(.*)$/.exec(line);
      if (!m) continue;
      const key = m[1]!.toLowerCase();
      const value = m[2]!.trim();
      if (key === 'sitemap') {
        if (value) sitemaps.push(value);
        continue;
      }
      if (key === 'user-agent') {
        if (!current || !lastWasAgent) {
          current = { agents: [], rules: [] };
          groups.push(current);
        }
        current.agents.push(value === '*' ? '*' : productToken(value));
        lastWasAgent = true;
        continue;
      }
      lastWasAgent = false;
      if (!current) continue;
      if (key === 'allow' || key === 'disallow') {
        // An empty Disallow allows everything: it is simply not a rule.
        if (value) current.rules.push(makeRule(key === 'allow', value));
      } else if (key === 'crawl-delay') {
        const n = Number(value);
        if (Number.isFinite(n) && n >= 0) current.delay = n * 1000;
      }
    }
    // Exact tokens: a substring test would let `User-agent: age` rules bind `forage`.
    const mine = token ? groups.filter((g) => g.agents.includes(token)) : [];
    const chosen = mine.length ? mine : groups.filter((g) => g.agents.includes('*'));
    const rules = chosen.flatMap((g) => g.rules);
    const delay = chosen.find((g) => g.delay !== undefined)?.delay;
    return new Robots(rules, sitemaps, delay, false);
  }

  /** Whether the path (and query) of `url` may be fetched. */
  allows(url: URL | string): boolean {
    if (this.#disallowAll) return false;
    const u = typeof url === 'string' ? new URL(url) : url;
    if (u.pathname === '/robots.txt') return true;
    const path = u.pathname + u.search;
    let best: Rule | undefined;
    for (const rule of this.#rules) {
      if (!rule.regex.test(path)) continue;
      if (
        !best ||
        rule.pattern.length > best.pattern.length ||
        (rule.pattern.length === best.pattern.length && rule.allow && !best.allow)
      ) {
        best = rule;
      }
    }
    return best ? best.allow : true;
  }
}

function makeRule(allow: boolean, pattern: string): Rule {
  const anchored = pattern.endsWith('$');
  const body = anchored ? pattern.slice(0, -1) : pattern;
  // Compare percent-encoded forms, as RFC 9309 asks; characters other than * are literal.
  const source = body
    .split('*')
    .map((part) => encodePath(part).replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return { allow, pattern, regex: new RegExp(`^${source}${anchored ? '$' : ''}`) };
}

function encodePath(part: string): string {
  try {
    return encodeURI(decodeURI(part));
  } catch {
    return part;
  }
}
