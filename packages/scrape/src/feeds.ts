import { load } from 'cheerio/slim';
import { Parser } from 'htmlparser2';
import { isoFromMachine } from './dates.js';
import { detach, squash } from './text.js';

/** A post as a feed lists it. */
export interface FeedEntry {
  url: string;
  title?: string;
  summary?: string;
  date?: string;
}

/** What a sitemap lists: pages, and further sitemaps (from a sitemap index). */
export interface SitemapContents {
  urls: string[];
  sitemaps: string[];
}

/** Plain text of an HTML fragment (feeds carry summaries as escaped HTML). */
function htmlToText(html: string): string {
  if (!/[<&]/.test(html)) return squash(html);
  return squash(load(html, null, false).root().text());
}

/**
 * `href` resolved against `base`, without its `#fragment`, as links on pages are read
 * (`resolveHref`): `/post/1/#more` is the page `/post/1/`, not a second post. Throws for junk.
 */
function pageUrl(href: string, base: string): string {
  const url = new URL(href, base);
  url.hash = '';
  return url.href;
}

/** Whether `text` looks like an RSS or Atom document rather than HTML. */
export function looksLikeFeed(text: string): boolean {
  const head = text.slice(0, 1024);
  return /<rss[\s>]|<feed[\s>]|<rdf:RDF[\s>]/i.test(head);
}

/** Entries of an RSS 2.0, RSS 1.0 or Atom feed, with URLs resolved against `base`. */
export function parseFeed(xml: string, base: string): FeedEntry[] {
  const $ = load(xml, { xml: { xmlMode: true, decodeEntities: true } });
  const out: FeedEntry[] = [];
  $('item, entry').each((_, el) => {
    const item = $(el);
    let link = item.children('link').first();
    const atomAlternate = item.children('link[rel="alternate"]').first();
    if (atomAlternate.length) link = atomAlternate;
    const href =
      link.attr('href') || link.text().trim() || item.children('guid').first().text().trim();
    if (!href) return;
    let url: string;
    try {
      url = pageUrl(href.trim(), base);
    } catch {
      return;
    }
    const entry: FeedEntry = { url: detach(url) };
    const title = squash(item.children('title').first().text());
    if (title) entry.title = detach(htmlToText(title));
    const summaryNode = item.children('description, summary').first();
    const summary = summaryNode.length ? htmlToText(summaryNode.text()) : '';
    if (summary) entry.summary = detach(summary);
    const when = item.children('pubDate, published, updated, dc\\:date').first().text().trim();
    const date = isoFromMachine(when);
    if (date) entry.date = date;
    out.push(entry);
  });
  return out;
}

/**
 * The `<loc>`s of a sitemap or sitemap index (`urlset > url > loc`, `sitemapindex > sitemap >
 * loc`), resolved against `base`. Read from the parser's events: a sitemap can list tens of
 * thousands of URLs, and a tree of them would be the largest thing a crawl holds in memory.
 */
export function parseSitemap(xml: string, base: string): SitemapContents {
  const out: SitemapContents = { urls: [], sitemaps: [] };
  const stack: string[] = [];
  let loc: string | null = null;
  let locDepth = 0;
  let into: string[] = out.urls;
  const add = (text: string) => {
    const trimmed = text.trim();
    if (!trimmed) return;
    try {
      into.push(detach(pageUrl(trimmed, base)));
    } catch {
      // not a URL: skipped, like any other junk in a sitemap
    }
  };
  const parser = new Parser(
    {
      onopentag(name) {
        const parent = stack[stack.length - 1];
        const grandparent = stack[stack.length - 2];
        stack.push(name);
        if (name !== 'loc' || loc !== null) return;
        if (parent === 'url' && grandparent === 'urlset') into = out.urls;
        else if (parent === 'sitemap' && grandparent === 'sitemapindex') into = out.sitemaps;
        else return;
        loc = '';
        locDepth = stack.length;
      },
      ontext(text) {
        if (loc !== null) loc += text;
      },
      onclosetag() {
        if (loc !== null && stack.length === locDepth) {
          add(loc);
          loc = null;
        }
        stack.pop();
      },
    },
    { xmlMode: true },
  );
  parser.end(xml);
  return out;
}
