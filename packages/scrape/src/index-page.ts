import type { AnyNode, Element } from 'domhandler';
import { isoFromMachine, isoFromText } from './dates.js';
import { type CheerioAPI, cheerioOf, type ParsedPage, resolveHref, rootOf } from './html.js';
import { queryAll } from './query.js';
import type { Selectors } from './selectors.js';
import { blockText, detach, inlineText } from './text.js';
import type { Preview } from './types.js';

/** A post found on an index page: its link and what the index shows of it. */
export interface IndexEntry {
  url: string;
  preview: Preview;
}

/** Where posts sit on index pages of the engines recognised out of the box, tried in order. */
export const ENTRY_STRATEGIES: readonly { engine: string; css: string }[] = [
  { engine: 'Hugo beautifulhugo', css: 'article.post-preview' },
  { engine: 'Hugo PaperMod', css: 'article.post-entry' },
  { engine: 'Jekyll minima', css: 'ul.post-list > li' },
  { engine: 'Ghost Casper', css: 'article.post-card' },
  { engine: 'WordPress', css: 'article.type-post, article[id^="post-"], article.hentry' },
  { engine: 'microformats/schema.org', css: '.h-entry, [itemtype*="BlogPosting"]' },
  { engine: 'article elements (Hugo Ananke and others)', css: 'article' },
  { engine: '.post/.entry classes', css: '.post, .entry' },
];

/** Descriptions of everything tried, for the message when nothing is found. */
export const TRIED_DESCRIPTION = [
  ...ENTRY_STRATEGIES.map((s) => `${s.engine} (${s.css})`),
  'repeated blocks with a linked heading',
].join('; ');

const SUMMARIES = [
  '.post-entry',
  '.entry-summary',
  '.entry-content',
  '.post-excerpt',
  '.post-card-excerpt',
  '.post-summary',
  '.summary',
  '.excerpt',
  '.nested-links',
  '[itemprop="description"]',
  '.post-content',
  '.p-summary',
].join(', ');

const READ_MORE_TEXT =
  /^(?:read(?:\s+the)?\s+(?:more|rest|on|full(?:\s+(?:post|article|story))?)|continue(?:\s+reading)?|keep reading|more|view post|full post)\b/i;
const READ_MORE_CLASS =
  /(?:^|\s)(?:read-?more|more-link|post-read-more|readmore|continue-reading)(?:\s|$)/i;

/** Whether `el` is a "Read More" / "Continue reading" link (left out of summaries). */
export function isReadMore(el: Element): boolean {
  if (el.name !== 'a') return false;
  if (READ_MORE_CLASS.test(el.attribs.class ?? '')) return true;
  const text = inlineText([el]).replace(/^[\s[(«‹<]+|[\s\])»›>→…]+$/g, '');
  return READ_MORE_TEXT.test(text) && text.length < 60;
}

const SKIP_IN_SUMMARY = (el: Element): boolean =>
  isReadMore(el) ||
  /(?:^|\s)(?:post-meta|entry-meta|post-title|entry-title|screen-reader-text)(?:\s|$)/.test(
    el.attribs.class ?? '',
  );

/**
 * The posts listed on an index page, found with the user's selectors or by trying the known
 * engines' markup and then a structural guess. `strategy` says what matched (null: nothing).
 * `page` is a cheerio document or, cheaper, htmlparser2's tree from `parseDom`.
 */
export function readIndexEntries(
  page: ParsedPage,
  base: string,
  selectors?: Selectors['index'],
): { entries: IndexEntry[]; strategy: string | null } {
  const root = rootOf(page);
  // cheerio only for the user's selectors (they may use its extensions), and only if given.
  let $: CheerioAPI | undefined;
  const api = () => {
    $ ??= cheerioOf(page);
    return $;
  };
  // Tried one after another, each query only when the ones before found nothing.
  const candidates = [
    ...(selectors?.post ? [{ name: 'selectors', css: selectors.post }] : []),
    ...ENTRY_STRATEGIES.map((s) => ({ name: s.engine, css: s.css })),
  ];
  for (const candidate of candidates) {
    const c = { name: candidate.name, elements: queryAll(root, candidate.css) };
    const outer = containers(c.elements);
    const entries = toEntries(
      api,
      c.elements.filter((el) => !inFurniture(el) && !outer.has(el)),
      base,
      selectors,
    );
    if (entries.length) return { entries, strategy: c.name };
  }
  const repeated = repeatedBlocks(root);
  const entries = toEntries(api, repeated, base, selectors);
  return { entries, strategy: entries.length ? 'repeated blocks' : null };
}

function toEntries(
  api: () => CheerioAPI,
  elements: Element[],
  base: string,
  selectors?: Selectors['index'],
): IndexEntry[] {
  const seen = new Set<string>();
  const out: IndexEntry[] = [];
  for (const el of elements) {
    const entry = readEntry(api, el, base, selectors);
    if (entry && !seen.has(entry.url)) {
      seen.add(entry.url);
      out.push(entry);
    }
  }
  return out;
}

/** What one walk over a post box on an index page finds: the title link, title, summary, date and meta elements. */
interface BoxFacts {
  titleLink: Element | undefined;
  anyLink: Element | undefined;
  title: Element | undefined;
  summary: Element | undefined;
  time: Element | undefined;
  meta: Element[];
  paragraphs: Element[];
}

const TITLE_LINK_CLASSES = ['post-link', 'entry-link', 'post-card-content-link'];
const TITLE_BOX_CLASSES = ['post-title', 'entry-title', 'post-card-title'];
const SUMMARY_CLASSES = SUMMARIES.split(', ')
  .filter((c) => c.startsWith('.'))
  .map((c) => c.slice(1));
const META_CLASSES = [
  'post-meta',
  'entry-meta',
  'meta',
  'post-date',
  'date',
  'post-card-meta',
  'entry-footer',
];
const HEADINGS = new Set(['h1', 'h2', 'h3', 'h4']);

function boxFacts(box: Element): BoxFacts {
  const f: BoxFacts = {
    titleLink: undefined,
    anyLink: undefined,
    title: undefined,
    summary: undefined,
    time: undefined,
    meta: [],
    paragraphs: [],
  };
  const visit = (el: Element, inTitle: boolean, inMeta: boolean): void => {
    const cls = el.attribs.class ? el.attribs.class.split(/\s+/) : [];
    const name = el.name;
    const heading = HEADINGS.has(name);
    const titleBox = heading || cls.some((c) => TITLE_BOX_CLASSES.includes(c));
    if (name === 'a' && el.attribs.href !== undefined) {
      if (
        !f.titleLink &&
        (inTitle ||
          cls.some((c) => TITLE_LINK_CLASSES.includes(c)) ||
          /(?:^|\s)bookmark(?:\s|$)/.test(el.attribs.rel ?? ''))
      )
        f.titleLink = el;
      if (!f.anyLink && !isReadMore(el)) f.anyLink = el;
    }
    if (!f.title && titleBox) f.title = el;
    if (
      !f.summary &&
      (cls.some((c) => SUMMARY_CLASSES.includes(c)) || el.attribs.itemprop === 'description')
    )
      f.summary = el;
    if (!f.time && name === 'time' && el.attribs.datetime !== undefined) f.time = el;
    const meta = name === 'footer' || name === 'time' || cls.some((c) => META_CLASSES.includes(c));
    if (meta) f.meta.push(el);
    if (name === 'p' && !inMeta) f.paragraphs.push(el);
    push(el.children, inTitle || titleBox, inMeta || meta);
  };
  // A stack rather than recursion: unclosed tags can nest an entry deeper than the call stack.
  // Children go on in reverse, so elements are visited in document order, as before.
  const stack: { el: Element; inTitle: boolean; inMeta: boolean }[] = [];
  const push = (children: readonly AnyNode[], inTitle: boolean, inMeta: boolean) => {
    for (let i = children.length - 1; i >= 0; i--)
      if (children[i]!.type === 'tag') stack.push({ el: children[i] as Element, inTitle, inMeta });
  };
  push(box.children, false, false);
  while (stack.length > 0) {
    const next = stack.pop()!;
    visit(next.el, next.inTitle, next.inMeta);
  }
  return f;
}

function readEntry(
  api: () => CheerioAPI,
  el: Element,
  base: string,
  selectors?: Selectors['index'],
): IndexEntry | null {
  const f = boxFacts(el);
  const find = (css: string) => api()(el).find(css);
  const link = selectors?.link ? (find(selectors.link)[0] as Element | undefined) : f.titleLink;
  // Some themes wrap the whole card in a link (or the box is itself the link).
  const href = link?.attribs.href ?? (el.name === 'a' ? el.attribs.href : f.anyLink?.attribs.href);
  const url = resolveHref(href, base);
  if (!url) return null;
  const preview: Preview = {};
  const titleEl = selectors?.title ? (find(selectors.title)[0] as Element | undefined) : f.title;
  const title = inlineText(titleEl ? [titleEl] : link ? [link] : []);
  if (title) preview.title = detach(title);
  const summaryEl = selectors?.summary
    ? (find(selectors.summary)[0] as Element | undefined)
    : f.summary;
  const summary = blockText(summaryEl ? [summaryEl] : f.paragraphs, { skip: SKIP_IN_SUMMARY });
  if (summary) preview.summary = detach(summary);
  const date = selectors?.date ? overrideDate(api(), el, selectors.date) : entryDate(f);
  if (date) preview.date = date;
  return { url, preview };
}

function overrideDate($: CheerioAPI, box: Element, css: string): string | null {
  const el = $(box).find(css).first();
  return (
    isoFromMachine(el.attr('datetime') ?? el.attr('content')) ??
    (el.length ? isoFromText($(el).text()) : null)
  );
}

function entryDate(f: BoxFacts): string | null {
  const machine = f.time ? isoFromMachine(f.time.attribs.datetime) : null;
  if (machine) return machine;
  for (const m of f.meta) {
    const d = isoFromText(inlineText([m])) ?? isoFromText(m.attribs.title);
    if (d) return d;
  }
  return null;
}

function inFurniture(el: Element): boolean {
  for (let p = el.parent; p && p.type === 'tag'; p = p.parent) {
    const name = (p as Element).name;
    if (name === 'nav' || name === 'aside' || name === 'footer' || name === 'header') return true;
  }
  return false;
}

/**
 * The matched elements that contain another matched element (only the innermost boxes are
 * kept). One walk up from each element: linear in the page, where comparing every pair took
 * seconds on an archive page of 16,000 entries.
 */
function containers(all: Element[]): Set<AnyNode> {
  const out = new Set<AnyNode>();
  if (all.length < 2) return out;
  const matched = new Set<AnyNode>(all);
  for (const el of all) {
    for (let p = el.parent; p; p = p.parent) {
      // Its matched ancestors were marked by the walk that marked it.
      if (out.has(p)) break;
      if (matched.has(p)) out.add(p);
    }
  }
  return out;
}

/**
 * The structural fallback: the parent element with the most children that each hold a linked
 * heading (at least two), those children being the post boxes.
 */
function repeatedBlocks(root: AnyNode): Element[] {
  const groups = new Map<AnyNode, Set<Element>>();
  for (const a of queryAll(
    root,
    'h1 a[href], h2 a[href], h3 a[href], h4 a[href], a[href] h2, a[href] h3',
  )) {
    let child = a as Element;
    for (let parent = a.parent; parent && parent.type === 'tag'; parent = parent.parent) {
      let set = groups.get(parent);
      if (!set) {
        set = new Set();
        groups.set(parent, set);
      }
      set.add(child);
      child = parent as Element;
    }
  }
  let best: Set<Element> | undefined;
  for (const set of groups.values())
    if (set.size >= 2 && (!best || set.size > best.size)) best = set;
  return best ? [...best].filter((el) => !inFurniture(el)) : [];
}
