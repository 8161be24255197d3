/**
 * The task module of the scraper's extraction thread (`ScrapeOptions.extractThreads`): post
 * pages are parsed and read there while the calling thread keeps the requests moving. Only
 * plain data crosses: the page's text, its URL, the preview, and what defines the site.
 */

import { extractPostFromHtml } from './post-stream.js';
import { Site } from './site.js';
import type { Post, Preview } from './types.js';

// One Site per scrape that used this thread (the key is its definition).
const sites = new Map<string, Site>();

/** {@link extractPostFromHtml} with the site given as data (a function cannot be sent). */
export function extractPostTask(
  html: string,
  url: string,
  preview: Preview | undefined,
  start: string,
  allowHosts: readonly string[],
): Post | null {
  const key = `${start} ${allowHosts.join(' ')}`;
  let site = sites.get(key);
  if (site === undefined) {
    site = new Site(new URL(start), allowHosts);
    sites.set(key, site);
  }
  const own = site;
  return extractPostFromHtml(html, url, { preview, sameSite: (u) => own.has(u) });
}
