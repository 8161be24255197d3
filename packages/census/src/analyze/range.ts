import { type FileHandle, open } from 'node:fs/promises';
import { Collector, type CollectorState } from './collector.js';
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
  /** Read size in bytes (default 256 KiB). */
  chunkSize?: number;
}

/**
 * Ranges of one file handed out on demand: chunk i is `[bounds[i], bounds[i + 1])`, and each
 * thread takes the next with an atomic increment of `next[0]`, so a thread that starts late (a
 * pool worker) or runs slower simply takes fewer.
 */
export interface ChunkedTask {
  path: string;
  format: InputFormat;
  /** Chunk boundaries, from 0 to the file's size (see {@link chunkBounds}). */
  bounds: Float64Array;
  /** An Int32Array over a SharedArrayBuffer: the next chunk to take, shared by all threads. */
  next: Int32Array;
  /** Read size in bytes (default 256 KiB). */
  readBytes?: number;
}

/**
 * Chunk boundaries for `threads` threads: each chunk is a quarter of an even share of what is
 * left (a "guided" schedule), but at least `min` bytes. Large chunks first keep the chunks few;
 * small ones last let the threads finish within a few milliseconds of each other.
 */
export function chunkBounds(size: number, threads: number, min = 512 << 10): Float64Array {
  const bounds = [0];
  for (let at = 0; at < size; ) {
    at = Math.min(size, at + Math.max(min, Math.ceil((size - at) / (threads * 4))));
    bounds.push(at);
  }
  return Float64Array.from(bounds);
}

const NEWLINE = 0x0a;
const READ_BYTES = 256 << 10;

/**
 * Aggregates the lines of one byte range of a file. Pure apart from reading the file: the same
 * range always gives the same partial, and the partials of ranges that tile a file merge into
 * the aggregate of the whole file, so it runs sequentially or on a thread pool alike.
 * Memory is two read buffers plus the aggregate, whatever the range's size.
 */
export async function aggregateRange(task: RangeTask): Promise<PartialAggregate> {
  const reader = await BlockReader.open(task.path, task.chunkSize);
  try {
    const read = rangeReader(new Collector(task.format), task.format);
    await reader.forEachBlock(task.start, task.end, read.onLines, read.onLine);
    return read.collector.toPartial();
  } finally {
    await reader.close();
  }
}

/**
 * Takes chunks of `task` until none is left (see {@link ChunkedTask}) and returns their
 * aggregate as a {@link Collector}. Every thread of a parallel run calls it with the same task.
 * `onLanguage` is called with the name of each language this thread meets first.
 */
export async function collectChunks(
  task: ChunkedTask,
  onLanguage?: (name: string) => void,
): Promise<Collector> {
  const reader = await BlockReader.open(task.path, task.readBytes);
  try {
    const read = rangeReader(new Collector(task.format, onLanguage), task.format);
    for (;;) {
      const i = Atomics.add(task.next, 0, 1);
      if (i + 1 >= task.bounds.length) break;
      await reader.forEachBlock(
        task.bounds[i] as number,
        task.bounds[i + 1] as number,
        read.onLines,
        read.onLine,
      );
    }
    return read.collector;
  } finally {
    await reader.close();
  }
}

/** {@link collectChunks} for a pool worker: its aggregate as plain data, cheap to send back. */
export async function collectChunksState(task: ChunkedTask): Promise<CollectorState> {
  return (await collectChunks(task)).state();
}

/** The line handlers that feed a collector from a file in `format`. */
function rangeReader(collector: Collector, format: InputFormat) {
  const scanner = new LanguageScanner(collector);
  const onLine: LineHandler =
    format === 'blog'
      ? (buf, s, e, offset) => blogLine(collector, scanner, buf, s, e, offset)
      : (buf, s, e, offset) => censusLine(collector, scanner, buf, s, e, offset);
  const onLines: BlockHandler =
    format === 'blog'
      ? (buf, from, stop, base) => scanner.scanLines(buf, from, stop, base, onLine)
      : (buf, from, stop, base) => splitLines(buf, from, stop, base, onLine);
  return { collector, onLine, onLines };
}

/** Receives one line as `buf[start, end)` (no newline); `offset` is its position in the file. */
export type LineHandler = (buf: Buffer, start: number, end: number, offset: number) => void;

/**
 * Receives the lines that start in `buf[from, stop)`, each ended by a newline inside `buf`;
 * `base` is the file offset of `buf[0]`.
 */
export type BlockHandler = (buf: Buffer, from: number, stop: number, base: number) => void;

function splitLines(buf: Buffer, p: number, stop: number, base: number, onLine: LineHandler) {
  while (p < stop) {
    const nl = buf.indexOf(NEWLINE, p);
    onLine(buf, p, nl, base + p);
    p = nl + 1;
  }
}

/** Calls `onLine` for each line starting in [task.start, task.end), without the newline. */
export async function forEachLine(
  task: Pick<RangeTask, 'path' | 'start' | 'end' | 'chunkSize'>,
  onLine: LineHandler,
): Promise<void> {
  const reader = await BlockReader.open(task.path, task.chunkSize);
  try {
    await reader.forEachBlock(
      task.start,
      task.end,
      (buf, from, stop, base) => splitLines(buf, from, stop, base, onLine),
      onLine,
    );
  } finally {
    await reader.close();
  }
}

/**
 * Reads ranges of one file in blocks of whole lines. Two buffers alternate: the next block is
 * read (on libuv's threads) while the current one is scanned. Each buffer keeps room in front
 * of its block for the unfinished last line of the block before, which is copied there, so a
 * line is never split across calls; the room grows when a line is longer.
 */
export class BlockReader {
  private room = 16 << 10;
  private current: Buffer;
  private spare: Buffer;

  private constructor(
    private readonly handle: FileHandle,
    private readonly readBytes: number,
  ) {
    this.current = Buffer.allocUnsafe(this.room + readBytes);
    this.spare = Buffer.allocUnsafe(this.room + readBytes);
  }

  static async open(path: string, readBytes = READ_BYTES): Promise<BlockReader> {
    return new BlockReader(await open(path, 'r'), Math.max(1, readBytes));
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private async read(buf: Buffer, at: number): Promise<number> {
    const { bytesRead } = await this.handle.read(buf, this.room, this.readBytes, at);
    return bytesRead;
  }

  /**
   * Calls `onLines` for the complete lines that start in [start, end), block by block, and
   * `onLast` for a last line that has no newline (at the end of the file).
   */
  async forEachBlock(
    start: number,
    end: number,
    onLines: BlockHandler,
    onLast: LineHandler,
  ): Promise<void> {
    // Begin one byte early: if that byte is a newline, a line starts exactly at `start`.
    let pos = start > 0 ? start - 1 : 0;
    let skip = start > 0; // inside the line that began before the range
    let buf = this.current;
    let n = await this.read(buf, pos);
    let base = pos - this.room; // file offset of buf[0]
    let from = this.room;
    let to = from + n;
    pos += n;
    for (;;) {
      if (n === 0) {
        if (!skip && from < to && base + from < end) onLast(buf, from, to, base + from);
        return;
      }
      // Read ahead only while this block does not reach the range's end: the last line may
      // run past it, but rarely by more than the rest of the block.
      const ahead = base + to <= end ? this.read(this.spare, pos) : null;
      let p = from;
      try {
        if (skip) {
          const nl = buf.indexOf(NEWLINE, from);
          if (nl !== -1 && nl < to) {
            skip = false;
            p = nl + 1;
          } else p = to;
        }
        if (!skip) {
          const last = buf.lastIndexOf(NEWLINE, to - 1);
          if (last >= p) {
            const stop = Math.min(last + 1, end - base);
            if (p < stop) onLines(buf, p, stop, base);
            p = last + 1;
          }
        }
      } catch (error) {
        // Never leave a read writing into a buffer (or a closing file) behind.
        await ahead?.catch(() => {});
        throw error;
      }
      if (!skip && base + p >= end) {
        await ahead;
        return; // the next line starts in the next range
      }
      n = await (ahead ?? this.read(this.spare, pos));
      // The unfinished line goes in front of the next block.
      const tail = to - p;
      if (tail > this.room) this.makeRoom(tail, n);
      buf.copy(this.spare, this.room - tail, p, to);
      base = pos - this.room;
      pos += n;
      from = this.room - tail;
      to = this.room + n;
      const filled = this.spare;
      this.spare = buf.length === this.room + this.readBytes ? buf : this.alloc();
      this.current = buf = filled;
    }
  }

  private alloc(): Buffer {
    return Buffer.allocUnsafe(this.room + this.readBytes);
  }

  /** Grows the room for a line of `tail` bytes; the spare buffer's `n` bytes just read move along. */
  private makeRoom(tail: number, n: number): void {
    const old = this.room;
    this.room = 2 ** Math.ceil(Math.log2(tail * 2));
    const spare = this.alloc();
    this.spare.copy(spare, this.room, old, old + n);
    this.spare = spare;
  }
}

function isBlank(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

function hasBom(buf: Buffer, s: number, e: number): boolean {
  return e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf;
}

function blogLine(
  c: Collector,
  scanner: LanguageScanner,
  buf: Buffer,
  s: number,
  e: number,
  offset: number,
): void {
  // Editors on Windows save UTF-8 with a byte order mark; JSON.parse would refuse the line.
  if (offset === 0 && hasBom(buf, s, e)) s += 3;
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
