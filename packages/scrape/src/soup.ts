import type { Cheerio } from 'cheerio/slim';
import type { AnyNode, Element } from 'domhandler';
import { type CheerioAPI, parseHtml } from './html.js';

/** Attribute filters for {@link Tag.find}: exact string, a RegExp, or `true` (present). `class_` matches one class. */
export type AttrFilter = Record<string, string | RegExp | boolean>;

/** Options of {@link Tag.getText}, as BeautifulSoup's `get_text(separator, strip)`. */
export interface GetTextOptions {
  /** Put between text pieces. Default ''. */
  separator?: string;
  /** Trim each piece and drop empty ones. Default false. */
  strip?: boolean;
}

/** Extra conditions for {@link Tag.find} and {@link Tag.findAll}. */
export interface FindOptions {
  /** The element's own text must equal this string or match this RegExp (bs4's `string=`). */
  string?: string | RegExp;
  /** At most this many results (findAll only). */
  limit?: number;
}

/**
 * An element, with BeautifulSoup's names and its habit of returning `null` (Python's `None`)
 * for what is not there, on top of cheerio with htmlparser2.
 */
export class Tag {
  readonly #$: CheerioAPI;
  readonly #node: AnyNode;

  /** @internal */
  constructor($: CheerioAPI, node: AnyNode) {
    this.#$ = $;
    this.#node = node;
  }

  #el(): Cheerio<AnyNode> {
    return this.#$(this.#node);
  }

  /** The tag name (`'a'`), or `'[document]'` for the soup itself, as in bs4. */
  get name(): string {
    return this.#node.type === 'tag' ? (this.#node as Element).name : '[document]';
  }

  /** Attributes; `class` (and `rel`) are lists, as in bs4. */
  get attrs(): Record<string, string | string[]> {
    const raw = this.#node.type === 'tag' ? (this.#node as Element).attribs : {};
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(raw))
      out[k] = k === 'class' || k === 'rel' ? v.split(/\s+/).filter(Boolean) : v;
    return out;
  }

  /** One attribute (`tag.get('href')`), or `null` when absent. */
  get(attr: string): string | string[] | null {
    return this.attrs[attr] ?? null;
  }

  /** All text inside, joined (bs4's `.text`). */
  get text(): string {
    return this.getText();
  }

  /** The only string inside, or `null` when there are several children (bs4's `.string`). */
  get string(): string | null {
    let node: AnyNode = this.#node;
    for (;;) {
      const kids = (node as Element).children ?? [];
      if (kids.length !== 1) return null;
      node = kids[0]!;
      if (node.type === 'text') return (node as unknown as { data: string }).data;
      if (node.type !== 'tag') return null;
    }
  }

  /** The parent element, or `null`. */
  get parent(): Tag | null {
    const p = this.#node.parent;
    return p ? new Tag(this.#$, p) : null;
  }

  /** Child elements (not text). */
  get children(): Tag[] {
    return this.#el()
      .children()
      .toArray()
      .map((n) => new Tag(this.#$, n));
  }

  /** Text pieces joined by `separator`, each stripped when `strip` (bs4's `get_text`). */
  getText(options: GetTextOptions = {}): string {
    const pieces: string[] = [];
    // A stack rather than recursion (a page can nest deeper than the call stack), children
    // pushed in reverse so that they come off in document order.
    const stack: AnyNode[] = [this.#node];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.type === 'text') pieces.push((n as unknown as { data: string }).data);
      else if (n.type === 'tag' || n.type === 'root') {
        const name = (n as Element).name;
        if (name === 'script' || name === 'style') continue;
        const children = (n as Element).children;
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
      }
    }
    const parts = options.strip ? pieces.map((p) => p.trim()).filter(Boolean) : pieces;
    return parts.join(options.separator ?? '');
  }

  /** The first descendant matching `name` (a tag name, or null for any) and `attrs`, or `null`. */
  find(name: string | null = null, attrs: AttrFilter = {}, options: FindOptions = {}): Tag | null {
    return this.findAll(name, attrs, { ...options, limit: 1 })[0] ?? null;
  }

  /** Every descendant matching `name` and `attrs`, in document order (bs4's `find_all`). */
  findAll(name: string | null = null, attrs: AttrFilter = {}, options: FindOptions = {}): Tag[] {
    const out: Tag[] = [];
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    for (const el of this.#el()
      .find(name ?? '*')
      .toArray()) {
      if (out.length >= limit) break;
      if (matches(el as Element, attrs) && matchesString(el, options.string))
        out.push(new Tag(this.#$, el));
    }
    return out;
  }

  /** The closest ancestor named `name`, or `null` (bs4's `find_parent`). */
  findParent(name: string): Tag | null {
    const p = this.#el().parents(name).first();
    return p.length ? new Tag(this.#$, p[0]!) : null;
  }

  /** The next sibling element named `name` (any when omitted), or `null`. */
  findNextSibling(name?: string): Tag | null {
    const n = (name ? this.#el().nextAll(name) : this.#el().next()).first();
    return n.length ? new Tag(this.#$, n[0]!) : null;
  }

  /** The previous sibling element named `name` (any when omitted), or `null`. */
  findPreviousSibling(name?: string): Tag | null {
    const n = (name ? this.#el().prevAll(name) : this.#el().prev()).first();
    return n.length ? new Tag(this.#$, n[0]!) : null;
  }

  /** Elements matching a CSS selector (bs4's `select`). */
  select(css: string): Tag[] {
    return this.#el()
      .find(css)
      .toArray()
      .map((n) => new Tag(this.#$, n));
  }

  /** The first element matching a CSS selector, or `null` (bs4's `select_one`). */
  selectOne(css: string): Tag | null {
    const n = this.#el().find(css).first();
    return n.length ? new Tag(this.#$, n[0]!) : null;
  }

  /** The element's HTML. */
  toString(): string {
    return this.#node.type === 'root' ? (this.#$.html() ?? '') : (this.#$.html(this.#node) ?? '');
  }
}

/** The parsed document: a {@link Tag} with shortcuts for `title` and friends. */
export class Soup extends Tag {
  /** The `<title>` element, or `null`. */
  get title(): Tag | null {
    return this.find('title');
  }
}

function matches(el: Element, attrs: AttrFilter): boolean {
  for (const [key, want] of Object.entries(attrs)) {
    const attr = key === 'class_' ? 'class' : key;
    const value = el.attribs[attr];
    if (want === true || want === false) {
      if ((value !== undefined) !== want) return false;
      continue;
    }
    if (value === undefined) return false;
    // As in bs4, a class filter matches any one of the element's classes (or the whole string).
    const candidates = attr === 'class' ? [value, ...value.split(/\s+/)] : [value];
    if (!candidates.some((v) => (typeof want === 'string' ? v === want : matchesRegExp(want, v))))
      return false;
  }
  return true;
}

function matchesString(el: AnyNode, want: string | RegExp | undefined): boolean {
  if (want === undefined) return true;
  const text = textContent(el);
  return typeof want === 'string' ? text === want : matchesRegExp(want, text);
}

/**
 * All the text inside `node`, scripts and styles included: what cheerio's `.text()` gives
 * (domutils' `textContent`), which recursed once per level and overflowed the call stack on
 * pages nested some thousands deep.
 */
function textContent(node: AnyNode): string {
  let out = '';
  const stack: AnyNode[] = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.type === 'text') out += (n as unknown as { data: string }).data;
    else if (n.type !== 'comment') {
      const children = (n as unknown as { children?: AnyNode[] }).children ?? [];
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  }
  return out;
}

/**
 * Whether `re` matches somewhere in `s`, whatever its flags: `search` starts at 0 and leaves
 * `lastIndex` as it was, where `test` with the g or y flag resumes from the last match (so a
 * filter like /post/g would skip every other element).
 */
function matchesRegExp(re: RegExp, s: string): boolean {
  return s.search(re) !== -1;
}

/**
 * Parses HTML into a BeautifulSoup-like tree (cheerio on htmlparser2 underneath).
 *
 * ```ts
 * const page = soup(html);
 * for (const post of page.findAll('article', { class_: 'post-preview' })) {
 *   console.log(post.find('h2')?.getText({ strip: true }), post.find('a')?.get('href'));
 * }
 * ```
 */
export function soup(html: string): Soup {
  const $ = parseHtml(html);
  return new Soup($, $.root()[0]!);
}
