import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { ScrapeError } from './errors.js';
import type { Post, Preview } from './types.js';

/** The role of a queued URL: an index page, a post linked from one, or a post only a feed or sitemap listed. */
export type PageRole = 'index' | 'post' | 'late';

/** One line of the journal. */
export type JournalRecord =
  | { k: 'start'; url: string; v: 1 }
  | { k: 'queue'; url: string; role: PageRole; preview?: Preview; speculative?: boolean }
  | { k: 'done'; url: string }
  /** A page that failed for now (server or network down): a resumed run tries it again. */
  | { k: 'failed'; url: string }
  /** The feed the start page links to (null: none), so a resumed run can read it again. */
  | { k: 'feed'; url: string | null }
  | { k: 'post'; post: Post }
  | { k: 'end' };

/** What a journal says about an earlier run, for resuming it. */
export interface JournalState {
  startUrl: string;
  /** Every URL queued, with its role and preview, in order. */
  queued: Map<string, { role: PageRole; preview?: Preview; speculative?: boolean }>;
  /** URLs finished (fetched and processed, or failed for good: 404, not a page, ...). */
  done: Set<string>;
  /** URLs whose last attempt failed for now (5xx, timeout, ...): to do again, as if never fetched. */
  failed: Set<string>;
  /** Posts already yielded, by canonical URL. */
  posts: Map<string, Post>;
  /** Whether the run reached its end. */
  complete: boolean;
  /** The start page's feed (null: it has none; undefined: not recorded, or not read yet). */
  feed?: string | null;
}

/**
 * Reads a journal, dropping a torn last line (a crash mid-write) by truncating the file to the
 * last complete line, so new records append cleanly.
 */
export function readJournal(path: string): JournalState | null {
  if (!existsSync(path)) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw unreadableJournal(path, error);
  }
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length) truncateSync(path, Buffer.byteLength(text.slice(0, end)));
  const state: JournalState = {
    startUrl: '',
    queued: new Map(),
    done: new Set(),
    failed: new Set(),
    posts: new Map(),
    complete: false,
  };
  let lineNo = 0;
  for (const line of text.slice(0, end).split('\n')) {
    lineNo++;
    if (!line) continue;
    let rec: JournalRecord;
    try {
      rec = JSON.parse(line) as JournalRecord;
    } catch {
      throw new ScrapeError(
        'ERR_SCRAPE_JOURNAL',
        `journal ${path} line ${lineNo} is not JSON; it was not written by forage scrape (delete it to start over)`,
      );
    }
    switch (rec.k) {
      case 'start':
        state.startUrl = rec.url;
        break;
      case 'queue': {
        const entry: { role: PageRole; preview?: Preview; speculative?: boolean } = {
          role: rec.role,
        };
        if (rec.preview) entry.preview = rec.preview;
        if (rec.speculative) entry.speculative = true;
        state.queued.set(rec.url, entry);
        break;
      }
      case 'done':
        state.done.add(rec.url);
        state.failed.delete(rec.url); // failed in an earlier run, read in a later one
        break;
      case 'failed':
        state.failed.add(rec.url);
        break;
      case 'feed':
        state.feed = rec.url;
        break;
      case 'post':
        state.posts.set(rec.post.url, rec.post);
        break;
      case 'end':
        state.complete = true;
        break;
    }
  }
  if (!state.startUrl) {
    throw new ScrapeError(
      'ERR_SCRAPE_JOURNAL',
      `journal ${path} has no start record; delete it to start over`,
    );
  }
  return state;
}

function unreadableJournal(path: string, error: unknown): ScrapeError {
  const code = (error as NodeJS.ErrnoException).code;
  return new ScrapeError(
    'ERR_SCRAPE_JOURNAL',
    code === 'EISDIR'
      ? `journal ${path} is a directory, not a journal written by forage scrape; move it away or use another journal path`
      : `cannot read journal ${path}: ${(error as Error).message}`,
    { cause: error },
  );
}

/**
 * The start URL of the scrape a journal belongs to, from its first record, without reading the
 * rest; null when there is no journal or its first line is not a start record (which
 * {@link readJournal} then reports).
 */
export function journalStartUrl(path: string): string | null {
  if (!existsSync(path)) return null;
  let head: string;
  try {
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(64 * 1024);
      head = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw unreadableJournal(path, error);
  }
  const nl = head.indexOf('\n');
  if (nl === -1) return null;
  try {
    const rec = JSON.parse(head.slice(0, nl)) as JournalRecord;
    return rec.k === 'start' && typeof rec.url === 'string' ? rec.url : null;
  } catch {
    return null;
  }
}

/**
 * Appends journal records in batches: records written in one tick go out in one `write`, so a
 * crawl of 5,000 pages costs a few thousand small appends, not one file per request. A crash
 * loses at most the last tick's records, which only means re-fetching those pages.
 */
export class JournalWriter {
  readonly path: string;
  #fd: number | null;
  #buffer: string[] = [];
  #scheduled = false;

  constructor(path: string) {
    this.path = path;
    try {
      this.#fd = openSync(path, 'a');
    } catch (error) {
      throw new ScrapeError(
        'ERR_SCRAPE_JOURNAL',
        `cannot open journal ${path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  write(record: JournalRecord): void {
    this.#buffer.push(JSON.stringify(record));
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes out everything buffered. */
  flush(): void {
    this.#scheduled = false;
    if (this.#fd === null || this.#buffer.length === 0) return;
    const chunk = `${this.#buffer.join('\n')}\n`;
    this.#buffer = [];
    writeSync(this.#fd, chunk);
  }

  /** Flushes, syncs to disk and closes. */
  close(): void {
    this.flush();
    if (this.#fd !== null) {
      fsyncSync(this.#fd);
      closeSync(this.#fd);
      this.#fd = null;
    }
  }
}
