import type { AnyNode, Element } from 'domhandler';

/**
 * Returns a copy of `s` that shares no memory with the string it was cut from. V8 keeps
 * substrings (and concatenations of them) as views into the parent string, so a title sliced
 * out of a page would pin the whole page; this returns a view into a fresh flat copy instead.
 */
export function detach(s: string): string;
export function detach(s: string | null): string | null;
export function detach(s: string | null): string | null {
  if (s === null) return null;
  // V8 copies short substrings anyway (SlicedString::kMinLength is 13). For longer ones,
  // slicing a fresh concatenation forces V8 to flatten it into a new buffer first.
  if (s.length < 13) return s;
  return ` ${s}`.slice(1);
}

/** Collapses runs of whitespace (including no-break spaces) to one space and trims. */
export function squash(s: string): string {
  // Same as s.replace(/\s+/g, ' '), but single plain spaces (most of them) are not matched.
  return s.replace(SPACE_RUNS, ' ').trim();
}
const SPACE_RUNS = /\s{2,}|[^\S ]/g;

/** Words in a text: runs of non-space characters. */
export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 160 || c === 0x2028 || c === 0x2029;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

/** Elements whose text is never part of an article's text. */
const SKIPPED = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'iframe',
  'object',
  'canvas',
  'nav',
  'header',
  'footer',
  'aside',
  'form',
  'button',
  'select',
  'textarea',
  'head',
  'title',
  'meta',
  'link',
]);

/** Elements that start a new block of text. */
const BLOCKS = new Set([
  'address',
  'article',
  'blockquote',
  'dd',
  'details',
  'div',
  'dl',
  'dt',
  'figcaption',
  'figure',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'li',
  'main',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'td',
  'th',
  'thead',
  'tr',
  'ul',
  'body',
  'html',
  'center',
]);

/** A class or id that marks page furniture rather than content (share bars, comments, ...). */
const FURNITURE =
  /(?:^|[\s_-])(?:share|sharing|social|comments?|related|newsletter|subscribe|sidebar|breadcrumbs?|pagination|pager|post-nav|nav-links|author-bio|blog-tags|post-tags|tags-links|tag-links|cat-links|entry-meta|post-meta|entry-footer|byline|sr-only|screen-reader-text|visually-hidden|jp-relatedposts|sharedaddy|disqus)(?:$|[\s_-])/i;

/** Options for {@link blockText}. */
export interface BlockTextOptions {
  /** Also drop elements whose class or id looks like page furniture (share bars, comments). */
  dropFurniture?: boolean;
  /** Leave out elements for which this returns true (with their text). */
  skip?: (el: Element) => boolean;
}

/**
 * Whether an element and everything in it is left out of an article's text: scripts, forms,
 * navigation, hidden elements and (with `dropFurniture`) share bars, comments and the like.
 * The same rule serves the DOM walk here and the streaming extractor (`post-stream.ts`).
 */
export function excludedFromText(
  name: string,
  attribs: Record<string, string>,
  dropFurniture: boolean,
): boolean {
  if (SKIPPED.has(name)) return true;
  if (attribs.hidden !== undefined || attribs['aria-hidden'] === 'true') return true;
  if (!dropFurniture || (attribs.class === undefined && attribs.id === undefined)) return false;
  return FURNITURE.test(`${attribs.class ?? ''} ${attribs.id ?? ''}`);
}

/** Whether an element starts a new block of text (a paragraph, heading, list item, ...). */
export function isBlock(name: string): boolean {
  return BLOCKS.has(name);
}

/** Elements whose text is left out of one-line texts (titles, names, dates). */
export function excludedFromInline(name: string): boolean {
  return SKIPPED_INLINE.has(name);
}

/**
 * Builds block text from a walk over elements, in document order: one block per paragraph,
 * heading, list item, ... separated by a blank line, whitespace collapsed inside each block
 * (kept inside `<pre>`). Both the DOM walk ({@link blockText}) and the streaming extractor feed
 * it, so both give the same text.
 */
export class TextBlocks {
  readonly #blocks: string[] = [];
  #line = '';

  /** A text node; `pre` when it sits inside a `<pre>`. */
  text(data: string, pre: boolean): void {
    this.#line += pre ? data.replace(/\n/g, '\uE000') : data.replace(/\n/g, ' ');
  }

  /** A `<br>`. */
  br(): void {
    this.#line += '\n';
  }

  /** A block element starts. */
  open(): void {
    this.#flush();
  }

  /** A block element ends; `pre` when it is a `<pre>` (its line breaks are kept). */
  close(pre: boolean): void {
    if (!pre) {
      this.#flush();
      return;
    }
    const kept = this.#line.replace(/\uE000/g, '\n').replace(/^\n+|\s+$/g, '');
    if (kept) this.#blocks.push(kept);
    this.#line = '';
  }

  /** The text so far, blocks separated by blank lines. */
  result(): string {
    this.#flush();
    return this.#blocks.join('\n\n').replace(/\uE000/g, '\n');
  }

  #flush(): void {
    const line = this.#line;
    if (!line) return;
    // Line breaks only come from <br>; most blocks have none and need one pass.
    const t = line.includes('\n')
      ? line
          .split('\n')
          .map((l) => squash(l))
          .filter(Boolean)
          .join('\n')
      : squash(line);
    if (t) this.#blocks.push(t);
    this.#line = '';
  }
}

/**
 * The readable text of `nodes`: one block per paragraph, heading, list item, ... separated by a
 * blank line, whitespace collapsed inside each block (kept inside `<pre>`), and the text of
 * navigation, headers, footers, scripts and forms left out.
 */
export function blockText(nodes: readonly AnyNode[], options: BlockTextOptions = {}): string {
  const out = new TextBlocks();
  const dropFurniture = options.dropFurniture === true;
  // A stack rather than recursion: unclosed tags can nest a page deeper than the call stack.
  // Each step is a node to read (`pre`: inside a <pre>) or, with node null, a block to close
  // (`pre`: it is a <pre>). Children go on in reverse, so they come off in document order.
  const stack: { node: AnyNode | null; pre: boolean }[] = [];
  const push = (children: readonly AnyNode[], pre: boolean) => {
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, pre });
  };
  push(nodes, false);
  while (stack.length > 0) {
    const { node, pre } = stack.pop()!;
    if (node === null) {
      out.close(pre);
      continue;
    }
    if (node.type === 'text') {
      out.text((node as unknown as { data: string }).data, pre);
      continue;
    }
    if (node.type !== 'tag' && node.type !== 'root') continue;
    if (node.type === 'root') {
      push((node as unknown as { children: AnyNode[] }).children, pre);
      continue;
    }
    const el = node as Element;
    const name = el.name.toLowerCase();
    if (excludedFromText(name, el.attribs, dropFurniture)) continue;
    if (options.skip?.(el)) continue;
    if (name === 'br') {
      out.br();
      continue;
    }
    if (BLOCKS.has(name)) {
      out.open();
      stack.push({ node: null, pre: name === 'pre' });
    }
    push(el.children, pre || name === 'pre');
  }
  return out.result();
}

/** The text of `nodes` on one line, whitespace collapsed (for titles, names, summaries). */
export function inlineText(nodes: readonly AnyNode[]): string {
  let out = '';
  // A stack rather than recursion (see blockText); a string on it is text to add after a block.
  const stack: (AnyNode | string)[] = [];
  const push = (children: readonly AnyNode[]) => {
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  };
  push(nodes);
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (typeof node === 'string') out += node;
    else if (node.type === 'text') out += (node as unknown as { data: string }).data;
    else if (node.type === 'tag' || node.type === 'root') {
      const el = node as Element;
      if (node.type === 'tag' && SKIPPED_INLINE.has(el.name.toLowerCase())) continue;
      if (node.type === 'tag' && el.name.toLowerCase() === 'br') out += ' ';
      if (node.type === 'tag' && BLOCKS.has(el.name.toLowerCase())) stack.push(' ');
      push(el.children);
    }
  }
  return squash(out);
}

const SKIPPED_INLINE = new Set(['script', 'style', 'noscript', 'template', 'svg']);
