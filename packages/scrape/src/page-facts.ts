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
export interface PageFacts {
  /** `<meta>` content by lower-cased name, property or itemprop (first one wins). */
  metas: Map<string, string>;
  /** Every `article:tag` meta value, in order. */
  metaTags: string[];
  canonical: string | undefined;
  /** Texts of `application/ld+json` scripts. */
  ldJson: string[];
  titleTag: Element | undefined;
  title: Element[][];
  h1: Element[];
  published: Element[][];
  dateText: Element[];
  author: Element[][];
  byline: Element[];
  tags: Element[][];
  content: (Element | undefined)[];
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

/** Collects {@link PageFacts} from a parsed document in one pass. */
export function collectFacts(root: AnyNode): PageFacts {
  const f: PageFacts = {
    metas: new Map(),
    metaTags: [],
    canonical: undefined,
    ldJson: [],
    titleTag: undefined,
    title: TITLE_H1_CLASSES.map(() => [] as Element[]).concat([[], [], [], []]),
    h1: [],
    published: [[], [], [], [], [], [], []],
    dateText: [],
    author: [[], [], [], [], [], [], [], [], [], []],
    byline: [],
    tags: [[], ...TAG_BOXES.map(() => [] as Element[])],
    content: new Array(14).fill(undefined),
  };
  const visit = (el: Element, flags: number): void => {
    const name = el.name;
    const a = el.attribs;
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
        return;
      }
      case 'link':
        if (f.canonical === undefined && rel?.includes('canonical')) f.canonical = a.href;
        return;
      case 'script':
        if ((a.type ?? '').toLowerCase() === 'application/ld+json') f.ldJson.push(textOf(el));
        return;
      case 'title':
        f.titleTag ??= el;
        return;
      case 'style':
      case 'template':
      case 'noscript':
        return;
    }

    if (!chrome) {
      // Title.
      if (name === 'h1') {
        f.h1.push(el);
        for (let i = 0; i < TITLE_H1_CLASSES.length; i++)
          if (has(TITLE_H1_CLASSES[i]!)) f.title[i]!.push(el);
        if (flags & ARTICLE) f.title[5]!.push(el);
        if (flags & MAIN) f.title[6]!.push(el);
        if (flags & POST_HEADING) f.title[7]!.push(el);
      }
      if (itemprop?.includes('headline')) f.title[8]!.push(el);
      // Published date.
      const updated = has('updated') || itemprop?.includes('dateModified');
      if (name === 'time' && itemprop?.includes('datePublished')) f.published[0]!.push(el);
      if (itemprop?.includes('datePublished')) f.published[1]!.push(el);
      if (name === 'time') {
        if (has('dt-published')) f.published[2]!.push(el);
        if (has('published')) f.published[3]!.push(el);
        if (has('entry-date') && !has('updated')) f.published[4]!.push(el);
        if (a.datetime !== undefined && !updated) {
          if (flags & ARTICLE) f.published[5]!.push(el);
          f.published[6]!.push(el);
        }
      }
      if (name === 'time' || cls.some((c) => DATE_CLASSES.includes(c))) f.dateText.push(el);
      // Author.
      if (flags & AUTHOR_PROP && itemprop?.includes('name')) f.author[0]!.push(el);
      if (itemprop?.includes('author')) f.author[1]!.push(el);
      if (has('p-author')) f.author[2]!.push(el);
      if (name === 'a' && rel?.includes('author')) f.author[3]!.push(el);
      if (has('author-name')) f.author[4]!.push(el);
      if (flags & BYLINE && has('author')) f.author[5]!.push(el);
      if (has('post-author')) f.author[6]!.push(el);
      if (has('entry-author')) f.author[7]!.push(el);
      if (flags & AUTHOR_CLASS && has('fn')) f.author[8]!.push(el);
      if (has('author')) f.author[9]!.push(el);
      if (
        f.byline.length < 40 &&
        ((flags & ARTICLE_HEADER && (name === 'p' || name === 'span' || name === 'div')) ||
          (flags & MAIN_HEADER && name === 'p') ||
          has('post-meta') ||
          has('byline') ||
          (name === 'p' && el.parent?.type === 'tag' && (el.parent as Element).name === 'article'))
      ) {
        f.byline.push(el);
      }
      // Tags.
      if (name === 'a') {
        if (rel?.includes('tag')) f.tags[0]!.push(el);
        for (let i = 0; i < TAG_BOXES.length; i++)
          if (flags & (TAG_BIT0 << i)) f.tags[i + 1]!.push(el);
      }
    }
    // Content containers (first of each kind).
    const c = f.content;
    if (c[0] === undefined && itemprop?.includes('articleBody')) c[0] = el;
    for (let i = 0; i < CONTENT_CLASSES.length; i++)
      if (c[i + 1] === undefined && has(CONTENT_CLASSES[i]!)) c[i + 1] = el;
    if (c[9] === undefined && flags & ARTICLE && has('content')) c[9] = el;
    if (c[10] === undefined && name === 'article') c[10] = el;
    if (c[11] === undefined && name === 'main') c[11] = el;
    if (c[12] === undefined && a.role === 'main') c[12] = el;
    if (c[13] === undefined && name === 'body') c[13] = el;

    for (const child of el.children)
      if (child.type === 'tag' || child.type === 'script' || child.type === 'style')
        visit(child as Element, inner);
  };
  for (const child of (root as unknown as { children: AnyNode[] }).children ?? []) {
    if (child.type === 'tag' || child.type === 'script' || child.type === 'style')
      visit(child as Element, 0);
  }
  return f;
}

function textOf(el: Element): string {
  let out = '';
  for (const c of el.children)
    if (c.type === 'text') out += (c as unknown as { data: string }).data;
  return out;
}
