import type { Cheerio } from 'cheerio/slim';
import type { AnyNode, Element } from 'domhandler';
import { isoFromMachine, isoFromText } from './dates.js';
import { type CheerioAPI, resolveHref } from './html.js';
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

const TITLE_LINKS = [
  '.post-title a[href]',
  '.entry-title a[href]',
  '.post-card-title a[href]',
  'h1 a[href]',
  'h2 a[href]',
  'h3 a[href]',
  'h4 a[href]',
  'a.post-link[href]',
  'a.entry-link[href]',
  'a.post-card-content-link[href]',
  'a[rel~="bookmark"][href]',
].join(', ');
const TITLES = 'h1, h2, h3, h4, .post-title, .entry-title, .post-card-title';
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
const META =
  '.post-meta, .entry-meta, .meta, .post-date, .date, .post-card-meta, .entry-footer, footer, time';

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
 */
export function readIndexEntries(
  $: CheerioAPI,
  base: string,
  selectors?: Selectors['index'],
): { entries: IndexEntry[]; strategy: string | null } {
  const candidates: { name: string; elements: Element[] }[] = [];
  if (selectors?.post)
    candidates.push({ name: 'selectors', elements: $(selectors.post).toArray() as Element[] });
  for (const s of ENTRY_STRATEGIES) {
    candidates.push({ name: s.engine, elements: $(s.css).toArray() as Element[] });
  }
  for (const c of candidates) {
    const entries = toEntries(
      $,
      c.elements.filter((el) => !inFurniture(el) && !containsAnother(el, c.elements)),
      base,
      selectors,
    );
    if (entries.length) return { entries, strategy: c.name };
  }
  const repeated = repeatedBlocks($);
  const entries = toEntries($, repeated, base, selectors);
  return { entries, strategy: entries.length ? 'repeated blocks' : null };
}

function toEntries(
  $: CheerioAPI,
  elements: Element[],
  base: string,
  selectors?: Selectors['index'],
): IndexEntry[] {
  const seen = new Set<string>();
  const out: IndexEntry[] = [];
  for (const el of elements) {
    const entry = readEntry($, $(el), base, selectors);
    if (entry && !seen.has(entry.url)) {
      seen.add(entry.url);
      out.push(entry);
    }
  }
  return out;
}

function readEntry(
  $: CheerioAPI,
  box: Cheerio<Element>,
  base: string,
  selectors?: Selectors['index'],
): IndexEntry | null {
  const link = (selectors?.link ? box.find(selectors.link) : box.find(TITLE_LINKS)).first();
  let href = link.attr('href');
  if (!href) {
    // Some themes wrap the whole card in a link (or the box is itself the link).
    href = box.is('a[href]')
      ? box.attr('href')
      : box
          .find('a[href]')
          .filter((_, a) => !isReadMore(a))
          .first()
          .attr('href');
  }
  const url = resolveHref(href, base);
  if (!url) return null;
  const preview: Preview = {};
  const titleEl = (selectors?.title ? box.find(selectors.title) : box.find(TITLES)).first();
  const title = inlineText(titleEl.length ? titleEl.toArray() : link.toArray());
  if (title) preview.title = detach(title);
  const summaryEl = (
    selectors?.summary ? box.find(selectors.summary) : box.find(SUMMARIES)
  ).first();
  const summary = summaryEl.length
    ? blockText(summaryEl.toArray(), { skip: SKIP_IN_SUMMARY })
    : blockText(
        box
          .find('p')
          .not(box.find(`${META} p`))
          .toArray(),
        { skip: SKIP_IN_SUMMARY },
      );
  if (summary) preview.summary = detach(summary);
  const date = entryDate($, box, selectors?.date);
  if (date) preview.date = date;
  return { url, preview };
}

function entryDate($: CheerioAPI, box: Cheerio<Element>, override?: string): string | null {
  const el = box.find(override ?? 'time[datetime]').first();
  const machine = isoFromMachine(el.attr('datetime') ?? el.attr('content'));
  if (machine) return machine;
  if (override && el.length) return isoFromText(el.text());
  const meta = box.find(META).toArray();
  for (const m of meta) {
    const d = isoFromText($(m).text()) ?? isoFromText($(m).attr('title'));
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

/** True when `el` contains another matched element (keep the innermost boxes). */
function containsAnother(el: Element, all: Element[]): boolean {
  if (all.length < 2) return false;
  for (const other of all) {
    if (other === el) continue;
    for (let p = other.parent; p; p = p.parent) if (p === el) return true;
  }
  return false;
}

/**
 * The structural fallback: the parent element with the most children that each hold a linked
 * heading (at least two), those children being the post boxes.
 */
function repeatedBlocks($: CheerioAPI): Element[] {
  const groups = new Map<AnyNode, Set<Element>>();
  for (const a of $(
    'h1 a[href], h2 a[href], h3 a[href], h4 a[href], a[href] h2, a[href] h3',
  ).toArray()) {
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
