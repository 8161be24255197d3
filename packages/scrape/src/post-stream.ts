import { Parser } from 'htmlparser2';
import { parseHtml } from './html.js';
import { emptyFacts, LD_JSON, type PageFacts, visitElement } from './page-facts.js';
import { type ExtractOptions, extractPost, type FactReader, postFromFacts } from './post-page.js';
import { excludedFromInline, excludedFromText, isBlock, squash, TextBlocks } from './text.js';
import type { Post } from './types.js';

/**
 * Post extraction straight from the parser's events, without building a DOM.
 *
 * A post page is mostly one article's text, and extraction needs only a few facts about it
 * (see `page-facts.ts`). Building the whole tree first costs more CPU than the tokenizer and
 * leaves thousands of objects per page for the garbage collector. So this runs htmlparser2's
 * `Parser` (the same parser and options cheerio uses, hence the same element structure) with
 * callbacks that apply the same rules, element by element, keeping only:
 *
 * - for each element a rule recorded: its attributes and where it starts and ends in the log;
 * - one flat log of the page's open / close / text events, from which the texts that field
 *   extraction asks for (a title, a date, the main text of the chosen content container) are
 *   replayed the way `inlineText` and `blockText` walk a DOM.
 *
 * Field rules are shared with the DOM path (`postFromFacts`), so both give the same post.
 * When the user gave post selectors, the page is parsed with cheerio and read by
 * {@link extractPost} instead, since CSS selectors need a tree.
 *
 * ```ts
 * const post = extractPostFromHtml(html, 'https://example.com/2024/hello/');
 * console.log(post?.title, post?.date, post?.wordCount);
 * ```
 */
export function extractPostFromHtml(
  html: string,
  url: string,
  options: ExtractOptions = {},
): Post | null {
  const sel = options.selectors;
  if (sel && Object.values(sel).some(Boolean)) return extractPost(parseHtml(html), url, options);
  const page = new PageStream();
  const parser = new Parser(page);
  parser.end(html);
  return postFromFacts(page.facts, page, url, options);
}

/** What is kept of an element a rule recorded. */
interface Kept {
  attribs: Record<string, string>;
  /** Index of its open event in the log, and of its close event (-1 while open). */
  open: number;
  close: number;
}

// Event log entries: an open event is a positive bit set, a close is CLOSE, and text number i
// is stored as -(i + 2).
const OPEN = 1;
const EXCLUDED = 2;
const BLOCK = 4;
const PRE = 8;
const BR = 16;
/** Left out of one-line texts (`inlineText`): script, style, svg, ... */
const NOT_INLINE = 32;
const CLOSE = -1;

const NOT_BLANK = /\S/;

/** Flags value of an element whose children the fact rules do not visit. */
const DEAD = -1;

/** Parser callbacks that gather {@link PageFacts} and the text log; see {@link extractPostFromHtml}. */
class PageStream implements FactReader<Kept> {
  readonly facts: PageFacts<Kept> = emptyFacts<Kept>();
  readonly #ops: number[] = [];
  readonly #texts: string[] = [];
  // The element stack, one array per field (index 0 is the document).
  readonly #names: string[] = [''];
  readonly #flags: number[] = [0];
  readonly #kept: (Kept | null)[] = [null];
  /** Non-blank text nodes seen before each element opened (to tell a leading title heading). */
  readonly #textsBefore: number[] = [0];
  #depth = 0;
  #nonBlank = 0;
  #spare: Kept | null = null;
  #ld: string | null = null;

  onopentag(name: string, attribs: Record<string, string>): void {
    const parent = this.#depth;
    const depth = ++this.#depth;
    const parentFlags = this.#flags[parent]!;
    let flags = DEAD;
    let kept: Kept | null = null;
    if (parentFlags !== DEAD) {
      const node = this.#spare ?? { attribs, open: 0, close: -1 };
      node.attribs = attribs;
      const before = this.facts.kept;
      flags = visitElement(
        this.facts,
        node,
        name,
        attribs,
        parentFlags,
        parent ? this.#names[parent] : undefined,
      );
      if (this.facts.kept !== before) {
        kept = node;
        this.#spare = null;
      } else this.#spare = node;
      if (flags === LD_JSON) this.#ld = '';
      if (flags < 0) flags = DEAD;
    }
    this.#names[depth] = name;
    this.#flags[depth] = flags;
    this.#kept[depth] = kept;
    this.#textsBefore[depth] = this.#nonBlank;

    let op = OPEN;
    if (excludedFromText(name, attribs, true) || (name === 'h1' && this.#leadingTitle()))
      op |= EXCLUDED;
    if (name === 'br') op |= BR;
    else if (isBlock(name)) op |= BLOCK;
    if (name === 'pre') op |= PRE;
    if (excludedFromInline(name)) op |= NOT_INLINE;
    if (kept) {
      kept.open = this.#ops.length;
      kept.close = -1;
    }
    this.#ops.push(op);
  }

  ontext(data: string): void {
    const depth = this.#depth;
    this.#ops.push(-(this.#texts.length + 2));
    this.#texts.push(data);
    const parent = this.#names[depth];
    if (parent === 'script' || parent === 'style') {
      if (this.#ld !== null) this.#ld += data;
      return;
    }
    if (NOT_BLANK.test(data)) this.#nonBlank++;
  }

  onclosetag(): void {
    const depth = this.#depth;
    if (depth === 0) return;
    const name = this.#names[depth]!;
    this.#ops.push(CLOSE);
    const kept = this.#kept[depth];
    if (kept) {
      kept.close = this.#ops.length - 1;
      this.#kept[depth] = null;
    }
    if (this.#ld !== null && name === 'script') {
      this.facts.ldJson.push(this.#ld);
      this.#ld = null;
    }
    this.#depth--;
  }

  /**
   * Whether the `<h1>` opening now is the post's title heading, left out of its text: inside a
   * `<header>`, or first in its `<article>`/`<main>` with no text before it, or in neither.
   */
  #leadingTitle(): boolean {
    for (let d = this.#depth - 1; d > 0; d--) {
      const name = this.#names[d];
      if (name === 'header') return true;
      if (name === 'article' || name === 'main') return this.#textsBefore[d] === this.#nonBlank;
    }
    return true;
  }

  /** Replays the log over `k` the way `inlineText` walks a DOM. */
  text(k: Kept): string {
    const ops = this.#ops;
    const end = k.close < 0 ? ops.length - 1 : k.close;
    const open: number[] = [];
    let out = '';
    let skip = 0;
    for (let i = k.open; i <= end; i++) {
      const op = ops[i]!;
      if (skip) {
        if (op > 0) skip++;
        else if (op === CLOSE) skip--;
        continue;
      }
      if (op > 0) {
        if (op & NOT_INLINE) {
          skip = 1;
          continue;
        }
        if (op & BR) out += ' ';
        open.push(op);
      } else if (op === CLOSE) {
        if ((open.pop() ?? 0) & BLOCK) out += ' ';
      } else out += this.#texts[-op - 2]!;
    }
    return squash(out);
  }

  attr(k: Kept, name: string): string | undefined {
    return k.attribs[name];
  }

  /**
   * Replays the log from `k`'s open event to its close the way `blockText` walks a DOM. The walk
   * repeats `text()`'s on purpose: one shared walk calling back per event measured 4-8% fewer
   * pages/s on the scrape benchmark (this is the hot path of every post).
   */
  blocks(k: Kept): string {
    const ops = this.#ops;
    const end = k.close < 0 ? ops.length - 1 : k.close;
    const out = new TextBlocks();
    const open: number[] = [];
    let skip = 0;
    let pre = 0;
    for (let i = k.open; i <= end; i++) {
      const op = ops[i]!;
      if (skip) {
        if (op > 0) skip++;
        else if (op === CLOSE) skip--;
        continue;
      }
      if (op > 0) {
        if (op & EXCLUDED) {
          skip = 1;
          continue;
        }
        if (op & BR) out.br();
        if (op & BLOCK) out.open();
        if (op & PRE) pre++;
        open.push(op);
      } else if (op === CLOSE) {
        const o = open.pop() ?? 0;
        if (o & PRE) pre--;
        if (o & BLOCK) out.close((o & PRE) !== 0);
      } else out.text(this.#texts[-op - 2]!, pre > 0);
    }
    return out.result();
  }
}
