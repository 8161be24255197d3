import { readFile } from 'node:fs/promises';
import { load } from 'cheerio/slim';
import { ScrapeError } from './errors.js';

/**
 * CSS selectors that override detection, for sites it does not recognise. Every field is
 * optional; what is not given is still detected.
 *
 * ```json
 * {
 *   "index": { "post": "div.story", "link": "a.headline", "title": "a.headline", "summary": "p.teaser", "next": "a.more" },
 *   "post":  { "title": "h1.headline", "date": "span.when", "author": "span.who", "tags": "a.topic", "content": "div.story-body" }
 * }
 * ```
 */
export interface Selectors {
  index?: {
    /** Each post's element on an index page. */
    post?: string;
    /** The link to the post, inside the post element. */
    link?: string;
    /** The title, inside the post element. */
    title?: string;
    /** The summary, inside the post element. */
    summary?: string;
    /** The date, inside the post element. */
    date?: string;
    /** The link to the next (older) index page. */
    next?: string;
  };
  post?: {
    title?: string;
    /** An element whose `datetime`/`content` attribute or text holds the date. */
    date?: string;
    author?: string;
    /** Every tag link or label. */
    tags?: string;
    /** The element holding the post's main text. */
    content?: string;
  };
}

const ALLOWED: Record<string, readonly string[]> = {
  index: ['post', 'link', 'title', 'summary', 'date', 'next'],
  post: ['title', 'date', 'author', 'tags', 'content'],
};

/**
 * Checks a selectors object: known groups and keys only, every value a CSS selector cheerio can
 * compile. `source` names where it came from in error messages.
 */
export function validateSelectors(value: unknown, source = 'selectors'): Selectors {
  const fail = (why: string): never => {
    throw new ScrapeError('ERR_SCRAPE_BAD_SELECTORS', `${source}: ${why}`);
  };
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    fail('expected a JSON object like {"index": {"post": "article"}, "post": {"content": "main"}}');
  }
  const probe = load('<p></p>');
  for (const [group, inner] of Object.entries(value as Record<string, unknown>)) {
    const keys = ALLOWED[group];
    if (!keys) fail(`unknown group "${group}" (use "index" and/or "post")`);
    if (!inner || typeof inner !== 'object' || Array.isArray(inner))
      fail(`"${group}" must be an object of CSS selectors`);
    for (const [key, css] of Object.entries(inner as Record<string, unknown>)) {
      if (!keys!.includes(key)) fail(`unknown key "${group}.${key}" (known: ${keys!.join(', ')})`);
      if (typeof css !== 'string' || !css.trim())
        fail(`"${group}.${key}" must be a non-empty CSS selector string`);
      try {
        probe(css as string);
      } catch (error) {
        fail(
          `"${group}.${key}" is not valid CSS (${JSON.stringify(css)}): ${(error as Error).message}`,
        );
      }
    }
  }
  return value as Selectors;
}

/** Reads and validates a selectors JSON file (the CLI's `--selectors FILE`). */
export async function loadSelectors(file: string): Promise<Selectors> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ScrapeError(
      'ERR_SCRAPE_BAD_SELECTORS',
      `cannot read selectors file ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ScrapeError(
      'ERR_SCRAPE_BAD_SELECTORS',
      `selectors file ${file} is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return validateSelectors(json, `selectors file ${file}`);
}
