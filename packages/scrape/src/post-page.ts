import type { AnyNode, Element } from 'domhandler';
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

function meta<T>(f: PageFacts<T>, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = f.metas.get(n.toLowerCase());
    if (v?.trim()) return squash(v);
  }
  return undefined;
}

/**
 * How field extraction reads the elements {@link PageFacts} recorded: a DOM element, or what
 * the streaming extractor kept of one. Both paths share the field rules below.
 */
export interface FactReader<T> {
  /** The element's text on one line, whitespace collapsed. */
  text(node: T): string;
  /** An attribute value. */
  attr(node: T, name: string): string | undefined;
  /** The element's readable block text, without page furniture or the post's title heading. */
  blocks(node: T): string;
}

/** Where the user's selectors point, on a parsed page (only the DOM path supports them). */
interface Overrides {
  $: CheerioAPI;
  selectors: NonNullable<Selectors['post']>;
}

/** Reads DOM elements. */
const DOM_READER: FactReader<Element> = {
  text: (el) => inlineText([el]),
  attr: (el, name) => el.attribs[name],
  blocks: (el) => blockText([el], { dropFurniture: true, skip: isTitle }),
};

/** The first element of the first rule (in priority order) that has text. */
function firstText<T>(r: FactReader<T>, rules: readonly T[][]): string | undefined {
  for (const list of rules) {
    for (const el of list) {
      const t = r.text(el);
      if (t) return t;
    }
  }
  return undefined;
}

/** JSON-LD Article/BlogPosting from the page's ld+json scripts. */
function ldArticle<T>(f: PageFacts<T>): JsonLd | null {
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
 * `extractPostFromHtml` gives the same result from the HTML text without building a DOM.
 */
export function extractPost($: CheerioAPI, url: string, options: ExtractOptions = {}): Post | null {
  const f = collectFacts($.root()[0]!);
  const o = options.selectors ? { $, selectors: options.selectors } : undefined;
  return postFromFacts(f, DOM_READER, url, options, o);
}

/** The post's fields from the facts of its page (see {@link extractPost}). */
export function postFromFacts<T>(
  f: PageFacts<T>,
  r: FactReader<T>,
  url: string,
  options: ExtractOptions,
  o?: Overrides,
): Post | null {
  const ld = ldArticle(f);
  const text = mainText(f, r, o);
  const title = postTitle(f, r, ld, o) ?? options.preview?.title;
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
    date: postDate(f, r, ld, o) ?? options.preview?.date ?? null,
    author: detach(postAuthor(f, r, ld, o) ?? null),
    tags: postTags(f, r, ld, o).map((t) => detach(t)),
    summary: summary ? detach(summary) : null,
    text: detach(text),
    wordCount: countWords(text),
  };
}

function postTitle<T>(
  f: PageFacts<T>,
  r: FactReader<T>,
  ld: JsonLd | null,
  o?: Overrides,
): string | undefined {
  if (o?.selectors.title) {
    const t = inlineText(o.$(o.selectors.title).first().toArray());
    if (t) return t;
  }
  const fromMarkup = firstText(r, f.title);
  if (fromMarkup) return fromMarkup;
  const og = meta(f, 'og:title', 'twitter:title');
  if (og) return og;
  if (typeof ld?.headline === 'string' && ld.headline.trim()) return squash(ld.headline);
  const h1 = firstText(r, [f.h1]);
  if (h1) return h1;
  const title = f.titleTag ? r.text(f.titleTag) : '';
  return title ? stripSiteName(title, meta(f, 'og:site_name')) : undefined;
}

function dateOf<T>(r: FactReader<T>, el: T): string | null {
  return isoFromMachine(r.attr(el, 'datetime') ?? r.attr(el, 'content')) ?? isoFromText(r.text(el));
}

function postDate<T>(
  f: PageFacts<T>,
  r: FactReader<T>,
  ld: JsonLd | null,
  o?: Overrides,
): string | null {
  if (o?.selectors.date) {
    const el = o.$(o.selectors.date).first()[0];
    const d = el?.type === 'tag' ? dateOf(DOM_READER, el as Element) : null;
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
      const d = dateOf(r, el);
      if (d) return d;
    }
  }
  for (const el of f.dateText) {
    const d = isoFromText(r.text(el)) ?? isoFromMachine(r.attr(el, 'title'));
    if (d) return d;
  }
  return null;
}

function postAuthor<T>(
  f: PageFacts<T>,
  r: FactReader<T>,
  ld: JsonLd | null,
  o?: Overrides,
): string | null {
  if (o?.selectors.author) {
    const t = inlineText(o.$(o.selectors.author).first().toArray());
    if (t) return t;
  }
  const fromLd = jsonLdNames(ld?.author).map(squash).filter(Boolean);
  if (fromLd.length) return fromLd.join(', ');
  const m = meta(f, 'author', 'article:author', 'twitter:creator');
  if (m && !/^https?:\/\//.test(m)) return m;
  const t = firstText(r, f.author);
  if (t) return t.replace(/^by\s+/i, '');
  // A short "By Jane Doe" line near the title (themes such as Ananke mark it up with no class).
  for (const el of f.byline) {
    const m = /^by\s+([^|·•,]{2,60}?)\s*$/i.exec(r.text(el));
    if (m && m[1]!.split(' ').length <= 5) return m[1]!;
  }
  return null;
}

function postTags<T>(
  f: PageFacts<T>,
  r: FactReader<T>,
  ld: JsonLd | null,
  o?: Overrides,
): string[] {
  const unique = (list: string[]) => {
    const seen = new Set<string>();
    // Exact duplicates only: a category "Notes" and a tag "notes" are two terms.
    return list.map(squash).filter((t) => t && !seen.has(t) && seen.add(t));
  };
  if (o?.selectors.tags)
    return unique(
      o
        .$(o.selectors.tags)
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
    if (list.length) return unique(list.map((el) => r.text(el).replace(/^#/, '')));
  }
  return [];
}

/** The post's main text: the first content container that has text, without page furniture. */
function mainText<T>(f: PageFacts<T>, r: FactReader<T>, o?: Overrides): string {
  if (o?.selectors.content) {
    const text = blockText(o.$(o.selectors.content).first().toArray(), {
      dropFurniture: true,
      skip: isTitle,
    });
    if (text) return text;
  }
  for (const el of f.content) {
    if (el === undefined) continue;
    const text = r.blocks(el);
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
  // In document order, with a stack rather than recursion (a page can nest deeper than the
  // call stack): the first text with more than spaces before `el` answers.
  const stack: AnyNode[] = [...container.children].reverse();
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (c === el) return false;
    if (c.type === 'text' && (c as unknown as { data: string }).data.trim()) return true;
    if (c.type === 'tag') {
      const children = (c as Element).children;
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  }
  return false;
}
