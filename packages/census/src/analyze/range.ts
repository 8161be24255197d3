import { open } from 'node:fs/promises';
import { Collector } from './collector.js';
import {
  type InputFormat,
  noteId,
  noteMalformed,
  noteReason,
  type PartialAggregate,
} from './partial.js';
import { byteCount, LanguageScanner } from './scan.js';

/** A byte range of a languages file: the unit of parallel work. */
export interface RangeTask {
  path: string;
  format: InputFormat;
  /** Lines whose first byte lies in [start, end) belong to this range. */
  start: number;
  end: number;
  /** Read size in bytes (default 1 MiB). */
  chunkSize?: number;
}

const NEWLINE = 0x0a;

/**
 * Aggregates the lines of one byte range of a file. Pure apart from reading the file: the same
 * range always gives the same partial, and the partials of ranges that tile a file merge into
 * the aggregate of the whole file, so it runs sequentially or on a thread pool alike.
 * Memory is one read buffer plus the aggregate, whatever the range's size.
 */
export async function aggregateRange(task: RangeTask): Promise<PartialAggregate> {
  const collector = new Collector(task.format);
  const scanner = new LanguageScanner(collector);
  const onLine =
    task.format === 'blog'
      ? (buf: Buffer, s: number, e: number, offset: number) =>
          blogLine(collector, scanner, buf, s, e, offset)
      : (buf: Buffer, s: number, e: number, offset: number) =>
          censusLine(collector, scanner, buf, s, e, offset);
  await forEachLine(task, onLine);
  return collector.toPartial();
}

/** Receives one line as `buf[start, end)` (no newline); `offset` is its position in the file. */
export type LineHandler = (buf: Buffer, start: number, end: number, offset: number) => void;

/** Calls `onLine` for each line starting in [task.start, task.end), without the newline. */
export async function forEachLine(
  task: Pick<RangeTask, 'path' | 'start' | 'end' | 'chunkSize'>,
  onLine: LineHandler,
): Promise<void> {
  const handle = await open(task.path, 'r');
  try {
    let buf = Buffer.allocUnsafe(task.chunkSize ?? 1 << 20);
    // Begin one byte early: if that byte is a newline, a line starts exactly at `start`.
    let filePos = task.start > 0 ? task.start - 1 : 0;
    let skipFirst = task.start > 0;
    let bufStart = filePos; // file offset of buf[0]
    let have = 0;
    for (;;) {
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2); // a line longer than the buffer
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, have, buf.length - have, filePos);
      filePos += bytesRead;
      const eof = bytesRead === 0;
      const limit = have + bytesRead;
      let p = 0;
      for (;;) {
        const nl = buf.indexOf(NEWLINE, p);
        if (nl === -1 || nl >= limit) break;
        if (skipFirst) skipFirst = false;
        else if (bufStart + p >= task.end) return;
        else onLine(buf, p, nl, bufStart + p);
        p = nl + 1;
      }
      if (eof) {
        if (!skipFirst && p < limit && bufStart + p < task.end) onLine(buf, p, limit, bufStart + p);
        return;
      }
      if (!skipFirst && bufStart + p >= task.end) return; // the next line belongs to the next range
      // Keep the unfinished line at the front of the buffer.
      buf.copy(buf, 0, p, limit);
      have = limit - p;
      bufStart += p;
    }
  } finally {
    await handle.close();
  }
}

function isBlank(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

function blogLine(
  c: Collector,
  scanner: LanguageScanner,
  buf: Buffer,
  s: number,
  e: number,
  offset: number,
): void {
  if (isBlank(buf, s, e)) return;
  const p = c.partial;
  if (!scanner.scan(buf, s, e)) {
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8', s, e));
    } catch (error) {
      noteMalformed(p, offset, `not JSON (${(error as Error).message})`);
      return;
    }
    if (!readLanguages(scanner, value)) {
      noteMalformed(p, offset, 'not a languages object ({"Language": bytes, ...})');
      return;
    }
  }
  c.addRepository(scanner.langs, scanner.sizes, scanner.count, offset);
}

/** Loads a parsed languages object into the scanner; false if it is not one. */
function readLanguages(scanner: LanguageScanner, value: unknown): boolean {
  scanner.reset();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const [name, raw] of Object.entries(value)) {
    const size = byteCount(raw);
    if (size === null) return false;
    scanner.push(scanner.languageOf(name), size);
  }
  return true;
}

function censusLine(
  c: Collector,
  scanner: LanguageScanner,
  buf: Buffer,
  s: number,
  e: number,
  offset: number,
): void {
  if (isBlank(buf, s, e)) return;
  const p = c.partial;
  let rec: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(buf.toString('utf8', s, e));
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new Error('not an object');
    rec = value as Record<string, unknown>;
  } catch (error) {
    // A torn last line is what an interrupted census leaves; it is counted, not fatal.
    noteMalformed(p, offset, `not a JSON object (${(error as Error).message})`);
    return;
  }
  const status = rec.status;
  switch (status) {
    case 'ok':
    case 'empty': {
      const langs = rec.languages ?? {};
      if (!readLanguages(scanner, langs)) {
        noteMalformed(
          p,
          offset,
          '"languages" is not a languages object ({"Language": bytes, ...})',
        );
        return;
      }
      if (status === 'empty' && scanner.count > 0) {
        noteMalformed(p, offset, 'status "empty" but "languages" lists languages');
        return;
      }
      noteId(p, rec.id);
      c.addRepository(scanner.langs, scanner.sizes, scanner.count, offset);
      return;
    }
    case 'not_found':
      p.records++;
      p.status.notFound++;
      noteId(p, rec.id);
      return;
    case 'blocked':
    case 'error': {
      p.records++;
      if (status === 'blocked') p.status.blocked++;
      else p.status.failed++;
      noteId(p, rec.id);
      const why = rec.reason ?? rec.error;
      noteReason(
        p,
        `${status}: ${typeof why === 'string' ? why : why === undefined ? 'no reason given' : JSON.stringify(why)}`,
      );
      return;
    }
    default:
      noteMalformed(
        p,
        offset,
        `unknown status ${JSON.stringify(status)?.slice(0, 40)} (expected ok, empty, not_found, blocked or error)`,
      );
  }
}
