import {
  closeSync,
  existsSync,
  fstatSync,
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
 * Reads the post URLs already in an output file, so appending continues cleanly, and returns
 * them. `onPost` gets each record's index fields (for an HTML index of the whole file).
 *
 * Only a torn last record is cut from disk: what a crash in the middle of the final write leaves
 * behind, text after the last line break (for CSV, after the last complete record). Anything else
 * that does not read is refused with its line number and the file is left as it is, because
 * cutting there would throw away every record after it. A file in the other format (resuming
 * JSONL as CSV, or CSV as JSONL) is refused before anything is read.
 */
export function existingOutputUrls(
  path: string,
  format: OutputFormat,
  onPost?: (item: IndexItem) => void,
): Set<string> {
  const urls = new Set<string>();
  if (!existsSync(path)) return urls;
  const text = readFileSync(path, 'utf8');
  const found = formatOfOutput(text);
  if (found && found !== format) {
    throw new ScrapeError(
      'ERR_SCRAPE_BAD_OPTION',
      `${path} holds ${found} records, not ${format}: resume it as ${found}, or write ${format} to another file`,
    );
  }
  const add = (item: IndexItem) => {
    urls.add(item.url);
    onPost?.(item);
  };
  const complete = format === 'jsonl' ? readJsonl(path, text, add) : readCsv(path, text, add);
  if (complete < text.length) truncateSync(path, Buffer.byteLength(text.slice(0, complete)));
  return urls;
}

/**
 * The format an output file was written in, from its start: JSON Lines begin with `{`, CSV with
 * its header (or a torn piece of it). Undefined for an empty file, which either format may take,
 * and for anything else, which the reader of the format asked for then refuses at line 1.
 */
function formatOfOutput(text: string): OutputFormat | undefined {
  const start = text.trimStart();
  if (!start) return undefined;
  if (start.startsWith('{')) return 'jsonl';
  const header = csvHeader();
  if (text.startsWith(header) || header.startsWith(text)) return 'csv';
  return undefined;
}

/** Reads JSON Lines records; returns the offset just past the last complete line. */
function readJsonl(path: string, text: string, add: (item: IndexItem) => void): number {
  let start = 0;
  let line = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    const record = text.slice(start, nl);
    start = nl + 1;
    line++;
    if (!record.trim()) continue;
    const post = parsePost(record);
    if (!post) throw unreadableOutput(path, line, 'jsonl');
    add(indexItem(post));
  }
  return start;
}

/** A JSON Lines record, or undefined when the line is not JSON or not a post. */
function parsePost(record: string): Post | undefined {
  try {
    const post = JSON.parse(record) as Post | null;
    return typeof post?.url === 'string' ? post : undefined;
  } catch {
    return undefined;
  }
}

/** Reads CSV records (the header first); returns the offset just past the last complete one. */
function readCsv(path: string, text: string, add: (item: IndexItem) => void): number {
  let complete = 0;
  let first = true;
  for (const rec of csvRecords(path, text)) {
    complete = rec.end;
    if (rec.fields.length === 1 && rec.fields[0] === '') continue; // a blank line
    if (first && rec.fields.join(',') === CSV_COLUMNS.join(',')) {
      first = false;
      continue;
    }
    if (first || rec.fields.length !== CSV_COLUMNS.length)
      throw unreadableOutput(path, rec.line, 'csv');
    const [url, title, date, author, , summary] = rec.fields.map(csvValue);
    add({
      url: url!,
      title: title!,
      date: date || null,
      author: author || null,
      summary: summary || null,
    });
  }
  return complete;
}

function unreadableOutput(path: string, line: number, format: OutputFormat): ScrapeError {
  return new ScrapeError(
    'ERR_SCRAPE_JOURNAL',
    `${path} line ${line} is not a ${format} record written by forage scrape; it was left as it is (fix or delete that line, or choose another output file)`,
  );
}

/** The fields of a post the HTML index shows (not its text, which can be long). */
export function indexItem(post: IndexItem): IndexItem {
  return {
    url: post.url,
    title: post.title,
    date: post.date,
    author: post.author,
    summary: post.summary,
  };
}

/** A cell's value, without the apostrophe {@link csvCell} puts before formula-like text. */
function csvValue(cell: string): string {
  return /^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell;
}

/**
 * Complete CSV records (those ending in a line break outside quotes), each with the line it
 * starts on and the offset just past it. What follows the last one is a torn record, which may
 * only be a beginning of one: a quote where RFC 4180 allows none (inside an unquoted cell, or
 * after a closing quote) or a ninth cell means the file is not forage's CSV, and is refused.
 */
function* csvRecords(
  path: string,
  text: string,
): Generator<{ fields: string[]; line: number; end: number }> {
  let fields: string[] = [];
  let cell = '';
  let quoted = false;
  let closed = false; // just after a closing quote
  let line = 1;
  let recordLine = 1;
  const refuse = () => unreadableOutput(path, recordLine, 'csv');
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
        closed = true;
      } else cell += c;
    } else if (c === ',') {
      fields.push(cell);
      cell = '';
      closed = false;
      if (fields.length >= CSV_COLUMNS.length) throw refuse();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') {
        i++;
        line++;
      }
      fields.push(cell);
      yield { fields, line: recordLine, end: i + 1 };
      fields = [];
      cell = '';
      closed = false;
      recordLine = line;
    } else if (closed || (c === '"' && cell !== '')) throw refuse();
    else if (c === '"') quoted = true;
    else cell += c;
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
    this.#fd = openSync(path, 'a');
    // Its size says whether it is new: reading it all took memory in proportion to the output
    // (and threw past 2 GiB, the most one buffer holds).
    if (format === 'csv' && fstatSync(this.#fd).size === 0) writeSync(this.#fd, csvHeader());
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
