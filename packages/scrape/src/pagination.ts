import type { Element } from 'domhandler';
import { cheerioOf, type ParsedPage, resolveHref, rootOf } from './html.js';
import { elementsUnder, matching } from './query.js';
import { inlineText } from './text.js';

/** What an index page says about the pages after it. */
export interface Pagination {
  /** The next (older) index page, if any. */
  next: string | null;
  /** The number of the last index page, when the page tells (a "Last" link, numbered links, "Page 1 of N"). */
  last: number | null;
  /** This page's number (1 when the URL has none). */
  current: number;
  /** Builds the URL of page `n` from the pattern of the next link, when it has a page number. */
  pageUrl: ((n: number) => string) | null;
  /** How the next link was found (for diagnostics). */
  how: string | null;
}

/** Ways of finding the next index page, in the order they are tried. */
export const NEXT_STRATEGIES: readonly { how: string; css: string }[] = [
  { how: 'rel=next', css: 'link[rel~="next"][href], a[rel~="next"][href]' },
  {
    how: 'aria-label',
    css: 'a[aria-label="Next" i][href], a[aria-label="Next page" i][href], a[aria-label="Older posts" i][href]',
  },
  {
    how: 'pager class',
    css: [
      '.pagination a.next',
      'a.next.page-numbers',
      'li.next > a',
      'li.pager-next > a',
      '.pager .next a',
      '.nav-previous > a',
      'a.older-posts',
      '.older-posts > a',
      'a.pagination-next',
      '.pagination-next > a',
      'nav.pagination a.next',
    ].join(', '),
  },
];

const NEXT_TEXT =
  /^(?:older(?: posts?| entries| articles)?|next(?: page| posts)?|more posts|previous posts|load more posts)$/i;
const ARROWS = /[«»‹›←→⟵⟶↢↣<>&;\s]+/g;

/** Where a page number sits in a URL: `/page/3/`, `?page=3`, `?paged=3`, `/p3`, `-3.html`. */
const PAGE_PATTERNS: readonly RegExp[] = [
  /([/]page[/])(\d+)(?=[/?#]|$)/i,
  /([?&](?:page|paged|pg|p)=)(\d+)(?=&|#|$)/i,
  /([/](?:p|page-?))(\d+)(?=[/.?#]|$)/i,
  /([/-])(\d+)(?=\.html?(?:[?#]|$))/i,
];

/** The page number in `url` and a function that puts another number in its place. */
export function pageNumberOf(url: string): { n: number; with: (n: number) => string } | null {
  for (const re of PAGE_PATTERNS) {
    const m = re.exec(url);
    if (m) {
      const at = m.index + m[1]!.length;
      const len = m[2]!.length;
      return {
        n: Number(m[2]),
        with: (n: number) => url.slice(0, at) + String(n) + url.slice(at + len),
      };
    }
  }
  return null;
}

/**
 * Reads the pagination of an index page: the next link (rel=next, aria-label, pager classes,
 * "Older Posts"/"Next" text, then a link to page N+1), and the last page number when shown.
 */
export function readPagination(
  page: ParsedPage,
  url: string,
  base: string,
  override?: string,
): Pagination {
  const current = pageNumberOf(url)?.n ?? 1;
  // Every selector below runs over one list of the page's elements (links mostly), not a walk each.
  const all = elementsUnder(rootOf(page));
  const links = all.filter((el) => el.name === 'a' || el.name === 'link');
  let next: string | null = null;
  let how: string | null = null;
  const usable = (href: string | undefined) => {
    const r = resolveHref(href, base);
    return r && r !== url ? r : null;
  };
  if (override) {
    next = usable(cheerioOf(page)(override).first().attr('href'));
    how = next ? 'selectors' : null;
  }
  for (const s of NEXT_STRATEGIES) {
    if (next) break;
    for (const el of matching(links, s.css)) {
      next = usable(el.attribs.href);
      if (next) {
        how = s.how;
        break;
      }
    }
  }
  const anchors = next ? [] : matching(links, 'a[href]');
  if (!next) {
    for (const el of anchors) {
      const text = inlineText([el]).replace(ARROWS, ' ').trim();
      if (NEXT_TEXT.test(text) && !insideArticle(el)) {
        next = usable(el.attribs.href);
        if (next) {
          how = 'link text';
          break;
        }
      }
    }
  }
  if (!next) {
    for (const el of anchors) {
      const target = usable(el.attribs.href);
      if (target && pageNumberOf(target)?.n === current + 1 && samePath(target, url, current + 1)) {
        next = target;
        how = '/page/N/ pattern';
        break;
      }
    }
  }
  const numbered = next ? pageNumberOf(next) : null;
  const pageUrl = numbered && numbered.n === current + 1 ? numbered.with : null;
  return { next, last: lastPage(all, links, base, current), current, pageUrl, how };
}

/** A link to page N+1 only counts when it differs from this page's URL in the page number alone. */
function samePath(target: string, url: string, n: number): boolean {
  const own = pageNumberOf(url);
  if (own) return own.with(n) === target;
  return new URL(target).pathname.startsWith(new URL(url).pathname);
}

function insideArticle(el: Element): boolean {
  for (let p = el.parent; p; p = p.parent) {
    if (
      p.type === 'tag' &&
      ((p as Element).name === 'article' ||
        /\bpost-content\b|\bentry-content\b/.test((p as Element).attribs.class ?? ''))
    )
      return true;
  }
  return false;
}

function lastPage(all: Element[], links: Element[], base: string, current: number): number | null {
  const lastLink = matching(
    links,
    'a[aria-label="Last" i][href], a[aria-label="Last page" i][href], a.last[href], li.last > a[href]',
  )[0]?.attribs.href;
  const fromLast = lastLink ? pageNumberOf(resolveHref(lastLink, base) ?? '')?.n : undefined;
  if (fromLast && fromLast >= current) return fromLast;
  const ofN = /\bpage:?\s+\d+\s+of\s+(\d+)\b/i.exec(
    inlineText(matching(all, '.pagination, .pager, .page-number, nav, .nav-links')),
  );
  if (ofN) return Number(ofN[1]);
  let max = 0;
  for (const el of matching(
    links,
    '.pagination a[href], a.page-numbers[href], .page-numbers a[href], .nav-links a[href], nav[aria-label*="pagination" i] a[href]',
  )) {
    const n = pageNumberOf(resolveHref(el.attribs.href, base) ?? '')?.n;
    if (n && n > max) max = n;
  }
  return max > current ? max : null;
}
