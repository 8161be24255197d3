import { load } from 'cheerio/slim';
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
      url = new URL(href.trim(), base).href;
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

/** The `<loc>`s of a sitemap or sitemap index, resolved against `base`. */
export function parseSitemap(xml: string, base: string): SitemapContents {
  const $ = load(xml, { xml: { xmlMode: true } });
  const collect = (selector: string) =>
    $(selector)
      .toArray()
      .map((el) => $(el).text().trim())
      .filter(Boolean)
      .flatMap((loc) => {
        try {
          return [detach(new URL(loc, base).href)];
        } catch {
          return [];
        }
      });
  return { urls: collect('urlset > url > loc'), sitemaps: collect('sitemapindex > sitemap > loc') };
}
