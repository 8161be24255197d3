import { createReadStream } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { same } from './bytes.js';
import { CensusError, messageOf } from './errors.js';

/**
 * An append-only JSONL journal. Lines are buffered and written in batches, each followed by
 * `fdatasync`, so after a crash the file holds every flushed batch and at most one torn last
 * line, which {@link Journal.open} cuts off. Nothing is ever rewritten in place.
 */
export class Journal {
  /**
   * The next batch, already UTF-8: each line is encoded as it is appended, so its string dies
   * young instead of waiting (and being promoted by the garbage collector) until the flush.
   */
  private batch: Buffer = Buffer.allocUnsafeSlow(64 << 10);
  private batchBytes = 0;
  /** Batch buffers whose write has finished, for reuse. */
  private readonly spare: Buffer[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private failure: CensusError | undefined;
  /** Bytes known to be on disk (after the last completed flush). */
  flushedBytes: number;
  /** Lines appended since open (flushed or not). */
  appended = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    size: number,
  ) {
    this.flushedBytes = size;
  }

  /**
   * Opens (creating if needed) the journal at `path` for appending, after repairing a torn last
   * line: anything after the last newline, and a last line that is not valid JSON, are cut off.
   * Returns the journal and how many bytes were cut.
   */
  static async open(path: string): Promise<{ journal: Journal; repairedBytes: number }> {
    let repairedBytes = 0;
    let handle: FileHandle;
    try {
      handle = await open(path, 'a+');
      const size = (await handle.stat()).size;
      const keep = await validLength(handle, size, path);
      if (keep < size) {
        await handle.truncate(keep);
        await handle.datasync();
        repairedBytes = size - keep;
      }
      return { journal: new Journal(path, handle, keep), repairedBytes };
    } catch (error) {
      throw writeError(path, error);
    }
  }

  /** Adds one record (serialised as one line) to the next batch. */
  append(record: unknown): void {
    if (this.failure) throw this.failure;
    const line = JSON.stringify(record);
    // At most 3 UTF-8 bytes per UTF-16 unit, and the newline.
    const room = line.length * 3 + 1;
    if (this.batchBytes + room > this.batch.length) {
      let size = this.batch.length * 2;
      while (size < this.batchBytes + room) size *= 2;
      const bigger = Buffer.allocUnsafeSlow(size);
      this.batch.copy(bigger, 0, 0, this.batchBytes);
      this.batch = bigger;
    }
    this.batchBytes += this.batch.write(line, this.batchBytes);
    this.batch[this.batchBytes++] = 0x0a;
    this.appended++;
  }

  /** Bytes waiting in memory for the next flush. */
  get pendingBytes(): number {
    return this.batchBytes;
  }

  /** Writes the buffered lines and syncs them to disk. Flushes run one after another. */
  flush(): Promise<void> {
    if (this.batchBytes === 0) return this.flushing;
    const whole = this.batch;
    const bytes = whole.subarray(0, this.batchBytes);
    this.batch = this.spare.pop() ?? Buffer.allocUnsafeSlow(whole.length);
    this.batchBytes = 0;
    this.flushing = this.flushing.then(async () => {
      if (this.failure) throw this.failure;
      try {
        let offset = 0;
        while (offset < bytes.length) {
          const { bytesWritten } = await this.handle.write(bytes, offset);
          offset += bytesWritten;
        }
        await this.handle.datasync();
        this.flushedBytes += bytes.length;
      } catch (error) {
        this.failure = writeError(this.path, error);
        throw this.failure;
      } finally {
        if (this.spare.length < 2) this.spare.push(whole);
      }
    });
    return this.flushing;
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.handle.close();
    }
  }
}

/** The length of the valid prefix: whole lines, the last of which parses as JSON. */
async function validLength(handle: FileHandle, size: number, path: string): Promise<number> {
  let end = size;
  for (;;) {
    if (end === 0) return 0;
    const window = Math.min(end, 1 << 20);
    const buf = Buffer.alloc(window);
    await handle.read(buf, 0, window, end - window);
    const lastNewline = buf.lastIndexOf(10);
    if (lastNewline < 0) {
      if (window === end) return 0;
      throw new CensusError(
        'ERR_CENSUS_OUTPUT',
        `${path}: a journal line is longer than 1 MiB; the file is not a census journal`,
      );
    }
    if (lastNewline < window - 1) {
      end = end - window + lastNewline + 1; // cut a torn tail
      continue;
    }
    // The file ends with a newline: check the last line parses.
    const prev = buf.lastIndexOf(10, lastNewline - 1);
    const line = buf.subarray(prev + 1, lastNewline).toString('utf8');
    if (line.length === 0 || isJson(line)) return end;
    end = end - window + prev + 1;
  }
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function writeError(path: string, error: unknown): CensusError {
  const code = (error as { code?: unknown })?.code;
  const hint =
    code === 'ENOSPC'
      ? 'the disk is full: free some space and run the same command again to resume'
      : code === 'EACCES' || code === 'EPERM'
        ? 'no permission: choose another --out directory'
        : 'check the --out directory and run the same command again to resume';
  return new CensusError(
    'ERR_CENSUS_WRITE',
    `cannot write ${path} (${messageOf(error)}): ${hint}`,
    {
      cause: error,
    },
  );
}

/** True for a regular file (a missing file, or a device, has no lines to read). */
async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The complete, non-empty lines of `path` (none if it does not exist), streamed. */
export async function* readLines(path: string): AsyncGenerator<string> {
  for await (const [line] of readNumberedLines(path)) yield line;
}

/** {@link readLines} with each line's number (1-based, empty lines counted). */
export async function* readNumberedLines(path: string): AsyncGenerator<[string, number]> {
  if (!(await isFile(path))) return;
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let n = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      n++;
      if (line.length > 0) yield [line, n];
    }
  }
}

/**
 * The error for a line of a census file that is not a census record (a corrupt or foreign
 * file): names the file, the line and the fix. A torn last line never gets here: opening a
 * journal cuts it off.
 */
export function notARecord(path: string, line: number, why: unknown): CensusError {
  const name = basename(path);
  const fix =
    name === 'languages.jsonl'
      ? 'delete that line and run the census again: its repository is fetched again'
      : name === 'shards.jsonl'
        ? 'delete that line and run the census again: its shard is listed again'
        : 'restore the file, or start the census again in an empty --out';
  return new CensusError(
    'ERR_CENSUS_OUTPUT',
    `${path} line ${line} is not a census record: ${messageOf(why)} (fix: ${fix})`,
  );
}

/**
 * Calls `onLine` for every complete line of `path` (none if it does not exist), streaming.
 * `end` stops at that byte offset (the flushed length of a journal being written).
 */
export async function forEachLine(
  path: string,
  onLine: (line: string, lineNumber: number) => void,
  end?: number,
): Promise<void> {
  if (!(await isFile(path))) return;
  const stream = createReadStream(path, end === undefined ? {} : { end: end - 1 });
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let n = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      n++;
      if (nl > start) onLine(text.slice(start, nl), n);
      start = nl + 1;
    }
    rest = text.slice(start);
  }
}

/**
 * Calls `onId` with the repository id of every line of the journal at `path` (`repos.jsonl`,
 * `languages.jsonl`), streaming; a line without an id is refused with {@link notARecord}.
 */
export function forEachIdOfFile(path: string, onId: (id: number) => void): Promise<void> {
  return forEachLineBytes(path, (bytes, start, end, line) => {
    let id: number;
    try {
      id = idOfLine(bytes, start, end);
    } catch (error) {
      throw notARecord(path, line, error);
    }
    onId(id);
  });
}

/** What {@link forEachLineBytes} calls per line; `offset` is where the line starts in the file. */
export type OnLineBytes = (
  bytes: Buffer,
  start: number,
  end: number,
  lineNumber: number,
  offset: number,
) => void;

/**
 * Calls `onLine(bytes, start, end)` for every complete, non-empty line of `path` (none if it
 * does not exist; an unfinished last line is left out, as {@link forEachLine} does), reading
 * through one reused buffer. For passes over whole journals that need a field or two per line:
 * nothing is decoded or allocated per line. `bytes` is only valid during the call.
 */
export async function forEachLineBytes(
  path: string,
  onLine: OnLineBytes,
  chunkSize = 1 << 20,
): Promise<void> {
  if (!(await isFile(path))) return;
  const handle = await open(path, 'r');
  // counter.base: the file offset of buf[0].
  const counter = { lines: 0, base: 0 };
  try {
    let buf = Buffer.allocUnsafe(chunkSize);
    let carried = 0; // the start of an unfinished line, moved to the front
    for (;;) {
      if (carried === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carried);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, carried, buf.length - carried, null);
      if (bytesRead === 0) return;
      const filled = carried + bytesRead;
      const start = eachLine(buf, filled, onLine, counter);
      buf.copy(buf, 0, start, filled);
      carried = filled - start;
      counter.base += start;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Calls `onLine` for each complete, non-empty line in `buf[0, filled)` and returns where the
 * unfinished rest starts. `counter.lines` counts every line (empty ones too) across calls.
 */
function eachLine(
  buf: Buffer,
  filled: number,
  onLine: OnLineBytes,
  counter: { lines: number; base: number },
): number {
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    // (Past `filled` are stale bytes of an earlier read.)
    if (nl < 0 || nl >= filled) return start;
    counter.lines++;
    if (nl > start) onLine(buf, start, nl, counter.lines, counter.base + start);
    start = nl + 1;
  }
}

/**
 * The `id` of a journal line (`repos.jsonl`, `languages.jsonl`), read from its bytes: the census
 * writes it first, as `{"id":123,`. Anything else is parsed as JSON.
 */
export function idOfLine(bytes: Buffer, start: number, end: number): number {
  if (same(bytes, start, idPrefix)) {
    let n = 0;
    let k = start + idPrefix.length;
    const first = k;
    for (; k < end && k - first < 16; k++) {
      const c = bytes[k]!;
      if (c < 0x30 || c > 0x39) break;
      n = n * 10 + (c - 0x30);
    }
    const next = bytes[k];
    if (k > first && k - first < 16 && (next === 0x2c || next === 0x7d)) return n;
  }
  const id = (JSON.parse(bytes.toString('utf8', start, end)) as { id?: unknown } | null)?.id;
  if (!Number.isSafeInteger(id)) throw new Error('it has no integer "id"');
  return id as number;
}

const idPrefix = Buffer.from('{"id":');

/**
 * Reads the complete lines a journal has flushed since the last call, without holding more
 * than one chunk in memory: the languages stage follows `repos.jsonl` this way while the
 * listing is still writing it.
 */
export class JournalTail {
  private offset = 0;
  private handle: FileHandle | undefined;
  /** One buffer, reused; `buf[0, carried)` is the start of an unfinished line. */
  private buf = Buffer.alloc(0);
  private carried = 0;
  private readonly counter = { lines: 0, base: 0 };

  constructor(readonly path: string) {}

  /** Up to about `maxBytes` of new complete lines, reading no further than `end`. */
  async read(end: number, maxBytes = 1 << 20): Promise<string[]> {
    const lines: string[] = [];
    await this.forEachNewLine(end, maxBytes, (b, s, e) => lines.push(b.toString('utf8', s, e)));
    return lines;
  }

  /**
   * Calls `onLine(bytes, start, end)` for the new complete, non-empty lines in about the next
   * `maxBytes`, reading no further than `end` (at least one line when there is one below
   * `end`). `bytes` is only valid during the call. Returns how many lines it called back.
   */
  async forEachNewLine(
    end: number,
    maxBytes: number,
    onLine: (bytes: Buffer, start: number, end: number, lineNumber: number) => void,
  ): Promise<number> {
    let lines = 0;
    while (lines === 0 && this.offset < end) {
      this.handle ??= await open(this.path, 'r');
      const length = Math.min(maxBytes, end - this.offset);
      if (this.buf.length < this.carried + length) {
        const bigger = Buffer.allocUnsafe(this.carried + length);
        this.buf.copy(bigger, 0, 0, this.carried);
        this.buf = bigger;
      }
      const buf = this.buf;
      const { bytesRead } = await this.handle.read(buf, this.carried, length, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      const filled = this.carried + bytesRead;
      const start = eachLine(
        buf,
        filled,
        (b, s, e, n) => {
          onLine(b, s, e, n);
          lines++;
        },
        this.counter,
      );
      buf.copy(buf, 0, start, filled);
      this.carried = filled - start;
      this.counter.base += start;
    }
    return lines;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}
