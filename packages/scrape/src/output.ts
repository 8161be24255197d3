import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { ScrapeError } from './errors.js';
import type { Post } from './types.js';

/** Output formats of `forage scrape`. */
export type OutputFormat = 'jsonl' | 'csv';

/** CSV columns, in order. Tags are joined with "; ". */
export const CSV_COLUMNS = [
  'url',
  'title',
  'date',
  'author',
  'tags',
  'summary',
  'text',
  'word_count',
] as const;

/** One JSON Lines record. */
export function jsonlLine(post: Post): string {
  return `${JSON.stringify(post)}\n`;
}

function csvCell(value: string): string {
  // A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection):
  // prefix it with an apostrophe, as OWASP recommends.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The CSV header line. */
export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

/** One CSV record (RFC 4180: CRLF line ends, quoted when needed). */
export function csvLine(post: Post): string {
  const cells = [
    post.url,
    post.title,
    post.date ?? '',
    post.author ?? '',
    post.tags.join('; '),
    post.summary ?? '',
    post.text,
    String(post.wordCount),
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/**
 * Reads the post URLs already in an output file and cuts off a torn last record (a crash
 * mid-write), so appending continues cleanly. Returns the URLs in the file.
 */
export function existingOutputUrls(path: string, format: OutputFormat): Set<string> {
  const urls = new Set<string>();
  if (!existsSync(path)) return urls;
  const text = readFileSync(path, 'utf8');
  let complete = 0;
  if (format === 'jsonl') {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl);
      start = nl + 1;
      if (!line.trim()) continue;
      try {
        urls.add((JSON.parse(line) as Post).url);
      } catch {
        throw new ScrapeError(
          'ERR_SCRAPE_JOURNAL',
          `${path} has a line that is not JSON (byte ${start - line.length - 1}); it was not written by forage scrape in jsonl format`,
        );
      }
      complete = start;
    }
  } else {
    for (const rec of csvRecords(text)) {
      if (rec.fields[0] !== 'url') urls.add(rec.fields[0]!);
      complete = rec.end;
    }
  }
  if (complete < text.length) truncateSync(path, Buffer.byteLength(text.slice(0, complete)));
  return urls;
}

/** Complete CSV records (those ending in a line break), with the offset just past each. */
function* csvRecords(text: string): Generator<{ fields: string[]; end: number }> {
  let fields: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(cell);
      yield { fields, end: i + 1 };
      fields = [];
      cell = '';
    } else cell += c;
  }
}

/**
 * Appends posts to a JSONL or CSV file as they arrive (the header is written once, for a new
 * CSV file). Writes are synchronous and small, so a crash loses at most the post being written.
 */
export class OutputWriter {
  readonly path: string;
  readonly format: OutputFormat;
  #fd: number;

  constructor(path: string, format: OutputFormat) {
    this.path = path;
    this.format = format;
    const fresh = !existsSync(path) || readFileSync(path).length === 0;
    this.#fd = openSync(path, 'a');
    if (fresh && format === 'csv') writeSync(this.#fd, csvHeader());
  }

  write(post: Post): void {
    writeSync(this.#fd, this.format === 'csv' ? csvLine(post) : jsonlLine(post));
  }

  close(): void {
    fsyncSync(this.#fd);
    closeSync(this.#fd);
  }
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The fields of a post the HTML index shows. */
export type IndexItem = Pick<Post, 'url' | 'title' | 'date' | 'author' | 'summary'>;

/**
 * A self-contained HTML page listing scraped posts, newest first, each title linking to its
 * post. Everything that came from the network is escaped, and only http(s) links are made.
 */
export function htmlIndex(
  items: readonly IndexItem[],
  options: { source: string; generated?: Date },
): string {
  const sorted = [...items].sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
  const rows = sorted
    .map((p) => {
      const href = /^https?:\/\//i.test(p.url) ? p.url : '#';
      const meta = [p.date, p.author]
        .filter(Boolean)
        .map((s) => escapeHtml(s!))
        .join(' · ');
      const summary = p.summary
        ? `<p>${escapeHtml(p.summary.length > 300 ? `${p.summary.slice(0, 300)}…` : p.summary)}</p>`
        : '';
      return `<li><a href="${escapeHtml(href)}" rel="noopener noreferrer">${escapeHtml(p.title || p.url)}</a>${meta ? ` <small>${meta}</small>` : ''}${summary}</li>`;
    })
    .join('\n');
  const when = (options.generated ?? new Date()).toISOString();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Scraped: ${escapeHtml(options.source)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;line-height:1.5}li{margin:0 0 1rem}small{color:#666}p{margin:.25rem 0 0}</style>
</head>
<body>
<h1>${sorted.length} posts from ${escapeHtml(options.source)}</h1>
<p><small>Scraped by forage on ${when}</small></p>
<ol>
${rows}
</ol>
</body>
</html>
`;
}
