import type { Element } from 'domhandler';
import { isoFromMachine, isoFromText } from './dates.js';
import { type CheerioAPI, type JsonLd, jsonLdArticle, jsonLdNames, resolveHref } from './html.js';
import type { Selectors } from './selectors.js';
import { blockText, countWords, detach, inlineText, squash } from './text.js';
import type { Post, Preview } from './types.js';

const TITLE_CSS = [
  'h1.post-title',
  'h1.entry-title',
  'h1.article-title',
  'h1.post-full-title',
  'h1.p-name',
  'article h1',
  'main h1',
  '.post-heading h1',
  '[itemprop="headline"]',
];
const CONTENT_CSS = [
  '[itemprop="articleBody"]',
  '.post-content',
  '.entry-content',
  '.gh-content',
  '.post-full-content',
  '.article-content',
  '.post-body',
  '.e-content',
  '.blog-post',
  'article .content',
  'article',
  'main',
  '[role="main"]',
  'body',
];
const PUBLISHED_CSS = [
  'time[itemprop="datePublished"]',
  '[itemprop="datePublished"]',
  'time.dt-published',
  'time.published',
  'time.entry-date:not(.updated)',
  'article time[datetime]:not(.updated):not([itemprop="dateModified"])',
  'time[datetime]:not(.updated):not([itemprop="dateModified"])',
];
const DATE_TEXT_CSS =
  '.post-meta, .entry-meta, .post-date, .posted-on, .byline, .article-byline, .meta, .date, .dateline, time';
const AUTHOR_CSS = [
  '[itemprop="author"] [itemprop="name"]',
  '[itemprop="author"]',
  '.p-author',
  'a[rel~="author"]',
  '.author-name',
  '.byline .author',
  '.post-author',
  '.entry-author',
  '.author .fn',
  '.author',
];
const TAG_CSS = [
  'a[rel~="tag"]',
  '.post-tags a',
  '.blog-tags a',
  '.tags a',
  '.tag-links a',
  '.tags-links a',
  '.article-tag a',
  '.post-full-tags a',
  '.terms a',
];

/** Strips a site-name suffix such as " | My Blog" or " – My Blog" from a `<title>`. */
function stripSiteName(title: string, siteName: string | undefined): string {
  if (siteName) {
    for (const sep of [' | ', ' - ', ' – ', ' — ', ' · ', ' :: ']) {
      if (title.endsWith(sep + siteName)) return title.slice(0, -(sep.length + siteName.length));
      if (title.startsWith(siteName + sep)) return title.slice(siteName.length + sep.length);
    }
  }
  return title;
}

function meta($: CheerioAPI, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = $(`meta[property="${n}"], meta[name="${n}"], meta[itemprop="${n}"]`)
      .first()
      .attr('content');
    if (v?.trim()) return squash(v);
  }
  return undefined;
}

function firstText(
  $: CheerioAPI,
  selectors: readonly string[],
  scope?: Element,
): string | undefined {
  for (const css of selectors) {
    const found = scope ? $(scope).find(css) : $(css);
    for (const el of found.toArray()) {
      if (insideChrome(el as Element)) continue;
      const t = inlineText([el]);
      if (t) return t;
    }
  }
  return undefined;
}

/** Elements inside site navigation, header or footer chrome (but a post's own header is content). */
function insideChrome(el: Element): boolean {
  for (let p = el.parent; p && p.type === 'tag'; p = p.parent) {
    const e = p as Element;
    if (e.name === 'nav' || e.name === 'aside') return true;
    if ((e.name === 'header' || e.name === 'footer') && !closestArticle(e)) {
      const role = e.attribs.role ?? '';
      if (
        role === 'banner' ||
        role === 'contentinfo' ||
        /site-(?:header|footer)|masthead|^header$/.test(e.attribs.class ?? '')
      )
        return true;
    }
  }
  return false;
}

function closestArticle(el: Element): boolean {
  for (let p = el.parent; p && p.type === 'tag'; p = p.parent)
    if ((p as Element).name === 'article') return true;
  return false;
}

/** Options for {@link extractPost}. */
export interface ExtractOptions {
  /** What the index page or feed showed of this post. */
  preview?: Preview | undefined;
  /** The user's selectors for post pages. */
  selectors?: Selectors['post'] | undefined;
  /** Decides whether a canonical URL may replace the fetched one (same site). */
  sameSite?: ((url: string) => boolean) | undefined;
}

/**
 * Extracts a post from its page. Every field has an ordered list of sources, most reliable
 * first: JSON-LD and meta tags (written for machines), then semantic markup, then visible text.
 * Returns `null` when the page has no readable text at all.
 */
export function extractPost($: CheerioAPI, url: string, options: ExtractOptions = {}): Post | null {
  const ld = jsonLdArticle($);
  const sel = options.selectors;
  const text = mainText($, sel?.content);
  const title = postTitle($, ld, sel?.title) ?? options.preview?.title;
  if (!title && !text) return null;
  const canonicalHref = resolveHref(
    $('link[rel~="canonical"]').first().attr('href') ?? meta($, 'og:url'),
    url,
  );
  const canonical =
    canonicalHref && (options.sameSite?.(canonicalHref) ?? true) ? canonicalHref : url;
  const summary =
    options.preview?.summary ??
    meta($, 'description', 'og:description', 'twitter:description') ??
    text.split('\n\n')[0] ??
    '';
  return {
    url: detach(canonical),
    title: detach(title ?? ''),
    date: postDate($, ld, sel?.date) ?? options.preview?.date ?? null,
    author: detach(postAuthor($, ld, sel?.author) ?? null),
    tags: postTags($, ld, sel?.tags).map((t) => detach(t)),
    summary: summary ? detach(summary) : null,
    text: detach(text),
    wordCount: countWords(text),
  };
}

function postTitle($: CheerioAPI, ld: JsonLd | null, override?: string): string | undefined {
  if (override) {
    const t = inlineText($(override).first().toArray());
    if (t) return t;
  }
  const fromMarkup = firstText($, TITLE_CSS);
  if (fromMarkup) return fromMarkup;
  const og = meta($, 'og:title', 'twitter:title');
  if (og) return og;
  if (typeof ld?.headline === 'string' && ld.headline.trim()) return squash(ld.headline);
  const h1 = firstText($, ['h1']);
  if (h1) return h1;
  const title = squash($('title').first().text());
  return title ? stripSiteName(title, meta($, 'og:site_name')) : undefined;
}

function postDate($: CheerioAPI, ld: JsonLd | null, override?: string): string | null {
  if (override) {
    const el = $(override).first();
    const d = isoFromMachine(el.attr('datetime') ?? el.attr('content')) ?? isoFromText(el.text());
    if (d) return d;
  }
  const fromLd = typeof ld?.datePublished === 'string' ? isoFromMachine(ld.datePublished) : null;
  if (fromLd) return fromLd;
  const fromMeta = isoFromMachine(
    meta(
      $,
      'article:published_time',
      'datePublished',
      'date',
      'dc.date',
      'DC.date.issued',
      'pubdate',
    ),
  );
  if (fromMeta) return fromMeta;
  for (const css of PUBLISHED_CSS) {
    for (const el of $(css).toArray()) {
      const e = $(el);
      const d = isoFromMachine(e.attr('datetime') ?? e.attr('content')) ?? isoFromText(e.text());
      if (d) return d;
    }
  }
  for (const el of $(DATE_TEXT_CSS).toArray()) {
    if (insideChrome(el as Element)) continue;
    const d = isoFromText($(el).text()) ?? isoFromMachine($(el).attr('title'));
    if (d) return d;
  }
  return null;
}

function postAuthor($: CheerioAPI, ld: JsonLd | null, override?: string): string | null {
  if (override) {
    const t = inlineText($(override).first().toArray());
    if (t) return t;
  }
  const fromLd = jsonLdNames(ld?.author).map(squash).filter(Boolean);
  if (fromLd.length) return fromLd.join(', ');
  const m = meta($, 'author', 'article:author', 'twitter:creator');
  if (m && !/^https?:\/\//.test(m)) return m;
  const t = firstText($, AUTHOR_CSS);
  if (t) return t.replace(/^by\s+/i, '');
  return bylineText($);
}

/** A short "By Jane Doe" line near the title (themes such as Ananke mark it up with no class). */
function bylineText($: CheerioAPI): string | null {
  const candidates = $(
    'article header p, article header span, article header div, main header p, .post-meta, .byline, article > p',
  ).toArray();
  for (const el of candidates.slice(0, 40)) {
    const m = /^by\s+([^|·•,]{2,60}?)\s*$/i.exec(inlineText([el]));
    if (m && m[1]!.split(' ').length <= 5) return m[1]!;
  }
  return null;
}

function postTags($: CheerioAPI, ld: JsonLd | null, override?: string): string[] {
  const unique = (list: string[]) => {
    const seen = new Set<string>();
    // Exact duplicates only: a category "Notes" and a tag "notes" are two terms.
    return list.map(squash).filter((t) => t && !seen.has(t) && seen.add(t));
  };
  if (override)
    return unique(
      $(override)
        .toArray()
        .map((el) => inlineText([el])),
    );
  const keywords = ld?.keywords;
  if (Array.isArray(keywords)) {
    const list = unique(keywords.filter((k): k is string => typeof k === 'string'));
    if (list.length) return list;
  } else if (typeof keywords === 'string' && keywords.trim()) {
    return unique(keywords.split(','));
  }
  const metaTags = $('meta[property="article:tag"]')
    .toArray()
    .map((el) => $(el).attr('content') ?? '');
  if (metaTags.some(Boolean)) return unique(metaTags);
  for (const css of TAG_CSS) {
    const found = $(css)
      .toArray()
      .filter((el) => !insideChrome(el as Element));
    if (found.length) return unique(found.map((el) => inlineText([el]).replace(/^#/, '')));
  }
  return [];
}

/** The post's main text: the first content container that has text, without page furniture. */
export function mainText($: CheerioAPI, override?: string): string {
  for (const css of override ? [override, ...CONTENT_CSS] : CONTENT_CSS) {
    const el = $(css).first();
    if (!el.length) continue;
    const text = blockText(el.toArray(), { dropFurniture: true, skip: isTitle });
    if (text) return text;
  }
  return '';
}

/** The post's own title heading is not part of its text. */
function isTitle(el: Element): boolean {
  return el.name === 'h1' && closestHeaderOrTop(el);
}

function closestHeaderOrTop(el: Element): boolean {
  for (let p = el.parent; p && p.type === 'tag'; p = p.parent) {
    const e = p as Element;
    if (e.name === 'header') return true;
    if (e.name === 'article' || e.name === 'main') return !prevText(el, e);
  }
  return true;
}

/** Whether any element with text comes before `el` inside `container`. */
function prevText(el: Element, container: Element): boolean {
  let found = false;
  let done = false;
  const walk = (n: Element): void => {
    for (const c of n.children) {
      if (done) return;
      if (c === el) {
        done = true;
        return;
      }
      if (c.type === 'text' && (c as unknown as { data: string }).data.trim()) found = true;
      else if (c.type === 'tag') walk(c as Element);
    }
  };
  walk(container);
  return found;
}
