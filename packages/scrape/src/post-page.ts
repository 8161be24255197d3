import type { Element } from 'domhandler';
import { isoFromMachine, isoFromText } from './dates.js';
import {
  type CheerioAPI,
  type JsonLd,
  jsonLdArticleFrom,
  jsonLdNames,
  resolveHref,
} from './html.js';
import { collectFacts, type PageFacts } from './page-facts.js';
import type { Selectors } from './selectors.js';
import { blockText, countWords, detach, inlineText, squash } from './text.js';
import type { Post, Preview } from './types.js';

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

function meta(f: PageFacts, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = f.metas.get(n.toLowerCase());
    if (v?.trim()) return squash(v);
  }
  return undefined;
}

/** The first element of the first rule (in priority order) that has text. */
function firstText(rules: readonly Element[][]): string | undefined {
  for (const list of rules) {
    for (const el of list) {
      const t = inlineText([el]);
      if (t) return t;
    }
  }
  return undefined;
}

/** JSON-LD Article/BlogPosting from the page's ld+json scripts. */
function ldArticle(f: PageFacts): JsonLd | null {
  return f.ldJson.length ? jsonLdArticleFrom(f.ldJson) : null;
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
 * The page is walked once (see `page-facts.ts`); the user's selectors, when given, go first.
 * Returns `null` when the page has neither a title nor any text.
 */
export function extractPost($: CheerioAPI, url: string, options: ExtractOptions = {}): Post | null {
  const f = collectFacts($.root()[0]!);
  const ld = ldArticle(f);
  const sel = options.selectors;
  const text = mainText($, f, sel?.content);
  const title = postTitle($, f, ld, sel?.title) ?? options.preview?.title;
  if (!title && !text) return null;
  const canonicalHref = resolveHref(f.canonical ?? meta(f, 'og:url'), url);
  const canonical =
    canonicalHref && (options.sameSite?.(canonicalHref) ?? true) ? canonicalHref : url;
  const summary =
    options.preview?.summary ??
    meta(f, 'description', 'og:description', 'twitter:description') ??
    text.split('\n\n')[0] ??
    '';
  return {
    url: detach(canonical),
    title: detach(title ?? ''),
    date: postDate($, f, ld, sel?.date) ?? options.preview?.date ?? null,
    author: detach(postAuthor($, f, ld, sel?.author) ?? null),
    tags: postTags($, f, ld, sel?.tags).map((t) => detach(t)),
    summary: summary ? detach(summary) : null,
    text: detach(text),
    wordCount: countWords(text),
  };
}

function postTitle(
  $: CheerioAPI,
  f: PageFacts,
  ld: JsonLd | null,
  override?: string,
): string | undefined {
  if (override) {
    const t = inlineText($(override).first().toArray());
    if (t) return t;
  }
  const fromMarkup = firstText(f.title);
  if (fromMarkup) return fromMarkup;
  const og = meta(f, 'og:title', 'twitter:title');
  if (og) return og;
  if (typeof ld?.headline === 'string' && ld.headline.trim()) return squash(ld.headline);
  const h1 = firstText([f.h1]);
  if (h1) return h1;
  const title = f.titleTag ? inlineText([f.titleTag]) : '';
  return title ? stripSiteName(title, meta(f, 'og:site_name')) : undefined;
}

function dateOf(el: Element): string | null {
  return isoFromMachine(el.attribs.datetime ?? el.attribs.content) ?? isoFromText(inlineText([el]));
}

function postDate(
  $: CheerioAPI,
  f: PageFacts,
  ld: JsonLd | null,
  override?: string,
): string | null {
  if (override) {
    const el = $(override).first()[0];
    const d = el?.type === 'tag' ? dateOf(el as Element) : null;
    if (d) return d;
  }
  const fromLd = typeof ld?.datePublished === 'string' ? isoFromMachine(ld.datePublished) : null;
  if (fromLd) return fromLd;
  const fromMeta = isoFromMachine(
    meta(
      f,
      'article:published_time',
      'datePublished',
      'date',
      'dc.date',
      'DC.date.issued',
      'pubdate',
    ),
  );
  if (fromMeta) return fromMeta;
  for (const list of f.published) {
    for (const el of list) {
      const d = dateOf(el);
      if (d) return d;
    }
  }
  for (const el of f.dateText) {
    const d = isoFromText(inlineText([el])) ?? isoFromMachine(el.attribs.title);
    if (d) return d;
  }
  return null;
}

function postAuthor(
  $: CheerioAPI,
  f: PageFacts,
  ld: JsonLd | null,
  override?: string,
): string | null {
  if (override) {
    const t = inlineText($(override).first().toArray());
    if (t) return t;
  }
  const fromLd = jsonLdNames(ld?.author).map(squash).filter(Boolean);
  if (fromLd.length) return fromLd.join(', ');
  const m = meta(f, 'author', 'article:author', 'twitter:creator');
  if (m && !/^https?:\/\//.test(m)) return m;
  const t = firstText(f.author);
  if (t) return t.replace(/^by\s+/i, '');
  // A short "By Jane Doe" line near the title (themes such as Ananke mark it up with no class).
  for (const el of f.byline) {
    const m = /^by\s+([^|·•,]{2,60}?)\s*$/i.exec(inlineText([el]));
    if (m && m[1]!.split(' ').length <= 5) return m[1]!;
  }
  return null;
}

function postTags($: CheerioAPI, f: PageFacts, ld: JsonLd | null, override?: string): string[] {
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
  if (f.metaTags.some(Boolean)) return unique(f.metaTags);
  for (const list of f.tags) {
    if (list.length) return unique(list.map((el) => inlineText([el]).replace(/^#/, '')));
  }
  return [];
}

/** The post's main text: the first content container that has text, without page furniture. */
export function mainText($: CheerioAPI, f: PageFacts, override?: string): string {
  if (override) {
    const text = blockText($(override).first().toArray(), { dropFurniture: true, skip: isTitle });
    if (text) return text;
  }
  for (const el of f.content) {
    if (!el) continue;
    const text = blockText([el], { dropFurniture: true, skip: isTitle });
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

/** Whether any text comes before `el` inside `container`. */
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
