import type { AnyNode, Element } from 'domhandler';

/**
 * Everything post extraction looks at, gathered in ONE walk over the document. Post pages used
 * to run some sixty CSS queries each (every one a full-document traversal through cheerio);
 * this walk tests each element against the same rules, written out by hand, and keeps the
 * matches per rule in document order. The rules mirror these selectors, in priority order:
 *
 * - title: h1.post-title, h1.entry-title, h1.article-title, h1.post-full-title, h1.p-name,
 *   article h1, main h1, .post-heading h1, [itemprop=headline]
 * - published date: time[itemprop=datePublished], [itemprop=datePublished], time.dt-published,
 *   time.published, time.entry-date:not(.updated), article time[datetime]:not(.updated),
 *   time[datetime]:not(.updated) (neither marked dateModified)
 * - date text: .post-meta, .entry-meta, .post-date, .posted-on, .byline, .article-byline,
 *   .meta, .date, .dateline, time
 * - author: [itemprop=author] [itemprop=name], [itemprop=author], .p-author, a[rel~=author],
 *   .author-name, .byline .author, .post-author, .entry-author, .author .fn, .author
 * - tags: a[rel~=tag], then links inside .post-tags, .blog-tags, .tags, .tag-links,
 *   .tags-links, .article-tag, .post-full-tags, .terms
 * - content: [itemprop=articleBody], .post-content, .entry-content, .gh-content,
 *   .post-full-content, .article-content, .post-body, .e-content, .blog-post,
 *   article .content, article, main, [role=main], body
 *
 * Elements inside navigation, asides and the site's own header and footer are left out.
 */
export interface PageFacts<T = Element> {
  /** `<meta>` content by lower-cased name, property or itemprop (first one wins). */
  metas: Map<string, string>;
  /** Every `article:tag` meta value, in order. */
  metaTags: string[];
  canonical: string | undefined;
  /** Texts of `application/ld+json` scripts. */
  ldJson: string[];
  titleTag: T | undefined;
  title: T[][];
  h1: T[];
  published: T[][];
  dateText: T[];
  author: T[][];
  byline: T[];
  tags: T[][];
  content: (T | undefined)[];
  /** Counts every element recorded above, so a caller can tell whether a visit kept one. */
  kept: number;
}

// Ancestor flags, passed down the walk.
const ARTICLE = 1;
const MAIN = 2;
const CHROME = 4;
const AUTHOR_PROP = 8;
const AUTHOR_CLASS = 16;
const BYLINE = 32;
const POST_HEADING = 64;
const ARTICLE_HEADER = 128;
const MAIN_HEADER = 256;
/** Tag containers, one bit each from bit 9, in the rule order above. */
const TAG_BOXES = [
  'post-tags',
  'blog-tags',
  'tags',
  'tag-links',
  'tags-links',
  'article-tag',
  'post-full-tags',
  'terms',
];
const TAG_BIT0 = 512;

const CONTENT_CLASSES = [
  'post-content',
  'entry-content',
  'gh-content',
  'post-full-content',
  'article-content',
  'post-body',
  'e-content',
  'blog-post',
];
const DATE_CLASSES = [
  'post-meta',
  'entry-meta',
  'post-date',
  'posted-on',
  'byline',
  'article-byline',
  'meta',
  'date',
  'dateline',
];
const TITLE_H1_CLASSES = [
  'post-title',
  'entry-title',
  'article-title',
  'post-full-title',
  'p-name',
];

const NONE: string[] = [];

function tokens(value: string | undefined): string[] {
  if (!value) return NONE;
  return value.includes(' ') || value.includes('\n') || value.includes('\t')
    ? value.split(/\s+/)
    : [value];
}

/** Empty facts, to be filled by {@link visitElement}. */
export function emptyFacts<T>(): PageFacts<T> {
  return {
    metas: new Map(),
    metaTags: [],
    canonical: undefined,
    ldJson: [],
    titleTag: undefined,
    title: [[], [], [], [], [], [], [], [], []],
    h1: [],
    published: [[], [], [], [], [], [], []],
    dateText: [],
    author: [[], [], [], [], [], [], [], [], [], []],
    byline: [],
    tags: [[], ...TAG_BOXES.map(() => [] as T[])],
    content: new Array(14).fill(undefined),
    kept: 0,
  };
}

/** {@link visitElement}'s answer for elements whose children are not visited. */
export const NO_DESCENT = -1;
/** {@link visitElement}'s answer for a JSON-LD script: its text belongs in `ldJson`. */
export const LD_JSON = -2;

/**
 * Applies the rules to one element, given the flags its ancestors passed down, and records it
 * in `f` where it matches. Returns the flags for its children, or {@link NO_DESCENT} /
 * {@link LD_JSON} when its children are not to be visited. The DOM walk ({@link collectFacts})
 * and the streaming extractor (`post-stream.ts`) both call this, so they find the same facts.
 */
export function visitElement<T>(
  f: PageFacts<T>,
  node: T,
  name: string,
  a: Record<string, string>,
  flags: number,
  parentName: string | undefined,
): number {
  const cls = tokens(a.class);
  const has = (c: string) => cls.includes(c);
  const itemprop = a.itemprop ? tokens(a.itemprop) : undefined;
  const rel = a.rel ? tokens(a.rel.toLowerCase()) : undefined;
  let inner = flags;

  // Context for descendants.
  if (name === 'nav' || name === 'aside') inner |= CHROME;
  else if ((name === 'header' || name === 'footer') && !(flags & ARTICLE)) {
    const role = a.role ?? '';
    if (
      role === 'banner' ||
      role === 'contentinfo' ||
      cls.some(
        (c) => c === 'site-header' || c === 'site-footer' || c === 'masthead' || c === 'header',
      )
    )
      inner |= CHROME;
  }
  if (name === 'article') inner |= ARTICLE;
  if (name === 'main') inner |= MAIN;
  if (name === 'header' && flags & ARTICLE) inner |= ARTICLE_HEADER;
  if (name === 'header' && flags & MAIN) inner |= MAIN_HEADER;
  if (itemprop?.includes('author')) inner |= AUTHOR_PROP;
  if (has('author')) inner |= AUTHOR_CLASS;
  if (has('byline')) inner |= BYLINE;
  if (has('post-heading')) inner |= POST_HEADING;
  for (let i = 0; i < TAG_BOXES.length; i++) if (has(TAG_BOXES[i]!)) inner |= TAG_BIT0 << i;

  const chrome = (flags & CHROME) !== 0;
  switch (name) {
    case 'meta': {
      const content = a.content;
      if (content !== undefined) {
        for (const key of [a.property, a.name, a.itemprop]) {
          if (!key) continue;
          const k = key.toLowerCase();
          if (!f.metas.has(k)) f.metas.set(k, content);
          if (k === 'article:tag') f.metaTags.push(content);
        }
      }
      return NO_DESCENT;
    }
    case 'link':
      if (f.canonical === undefined && rel?.includes('canonical')) f.canonical = a.href;
      return NO_DESCENT;
    case 'script':
      return (a.type ?? '').toLowerCase() === 'application/ld+json' ? LD_JSON : NO_DESCENT;
    case 'title':
      if (f.titleTag === undefined) {
        f.titleTag = node;
        f.kept++;
      }
      return NO_DESCENT;
    case 'style':
    case 'template':
    case 'noscript':
      return NO_DESCENT;
  }

  const keep = (list: T[]) => {
    list.push(node);
    f.kept++;
  };
  if (!chrome) {
    // Title.
    if (name === 'h1') {
      keep(f.h1);
      for (let i = 0; i < TITLE_H1_CLASSES.length; i++)
        if (has(TITLE_H1_CLASSES[i]!)) keep(f.title[i]!);
      if (flags & ARTICLE) keep(f.title[5]!);
      if (flags & MAIN) keep(f.title[6]!);
      if (flags & POST_HEADING) keep(f.title[7]!);
    }
    if (itemprop?.includes('headline')) keep(f.title[8]!);
    // Published date.
    const updated = has('updated') || itemprop?.includes('dateModified');
    if (name === 'time' && itemprop?.includes('datePublished')) keep(f.published[0]!);
    if (itemprop?.includes('datePublished')) keep(f.published[1]!);
    if (name === 'time') {
      if (has('dt-published')) keep(f.published[2]!);
      if (has('published')) keep(f.published[3]!);
      if (has('entry-date') && !has('updated')) keep(f.published[4]!);
      if (a.datetime !== undefined && !updated) {
        if (flags & ARTICLE) keep(f.published[5]!);
        keep(f.published[6]!);
      }
    }
    if (name === 'time' || cls.some((c) => DATE_CLASSES.includes(c))) keep(f.dateText);
    // Author.
    if (flags & AUTHOR_PROP && itemprop?.includes('name')) keep(f.author[0]!);
    if (itemprop?.includes('author')) keep(f.author[1]!);
    if (has('p-author')) keep(f.author[2]!);
    if (name === 'a' && rel?.includes('author')) keep(f.author[3]!);
    if (has('author-name')) keep(f.author[4]!);
    if (flags & BYLINE && has('author')) keep(f.author[5]!);
    if (has('post-author')) keep(f.author[6]!);
    if (has('entry-author')) keep(f.author[7]!);
    if (flags & AUTHOR_CLASS && has('fn')) keep(f.author[8]!);
    if (has('author')) keep(f.author[9]!);
    if (
      f.byline.length < 40 &&
      ((flags & ARTICLE_HEADER && (name === 'p' || name === 'span' || name === 'div')) ||
        (flags & MAIN_HEADER && name === 'p') ||
        has('post-meta') ||
        has('byline') ||
        (name === 'p' && parentName === 'article'))
    ) {
      keep(f.byline);
    }
    // Tags.
    if (name === 'a') {
      if (rel?.includes('tag')) keep(f.tags[0]!);
      for (let i = 0; i < TAG_BOXES.length; i++) if (flags & (TAG_BIT0 << i)) keep(f.tags[i + 1]!);
    }
  }
  // Content containers (first of each kind).
  const c = f.content;
  const container = (i: number) => {
    c[i] = node;
    f.kept++;
  };
  if (c[0] === undefined && itemprop?.includes('articleBody')) container(0);
  for (let i = 0; i < CONTENT_CLASSES.length; i++)
    if (c[i + 1] === undefined && has(CONTENT_CLASSES[i]!)) container(i + 1);
  if (c[9] === undefined && flags & ARTICLE && has('content')) container(9);
  if (c[10] === undefined && name === 'article') container(10);
  if (c[11] === undefined && name === 'main') container(11);
  if (c[12] === undefined && a.role === 'main') container(12);
  if (c[13] === undefined && name === 'body') container(13);
  return inner;
}

/** Collects {@link PageFacts} from a parsed document in one pass. */
export function collectFacts(root: AnyNode): PageFacts {
  const f = emptyFacts<Element>();
  // A stack rather than recursion: unclosed tags can nest a page deeper than the call stack.
  // Children go on in reverse, so elements are visited in document order, as before.
  const stack: { el: Element; flags: number; parentName: string | undefined }[] = [];
  const push = (children: readonly AnyNode[], flags: number, parentName: string | undefined) => {
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i]!;
      if (child.type === 'tag' || child.type === 'script' || child.type === 'style')
        stack.push({ el: child as Element, flags, parentName });
    }
  };
  push((root as unknown as { children: AnyNode[] }).children ?? [], 0, undefined);
  while (stack.length > 0) {
    const { el, flags, parentName } = stack.pop()!;
    const inner = visitElement(f, el, el.name, el.attribs, flags, parentName);
    if (inner === LD_JSON) f.ldJson.push(textOf(el));
    if (inner >= 0) push(el.children, inner, el.name);
  }
  return f;
}

function textOf(el: Element): string {
  let out = '';
  for (const c of el.children)
    if (c.type === 'text') out += (c as unknown as { data: string }).data;
  return out;
}
