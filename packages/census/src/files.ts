import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CensusError, messageOf } from './errors.js';

/** The file names in a census directory. */
export const censusFiles = {
  repos: 'repos.jsonl',
  languages: 'languages.jsonl',
  manifest: 'census.json',
  shards: 'shards.jsonl',
  plan: 'plan.json',
} as const;

/** Paths of the census files in `dir`. */
export function censusPaths(dir: string): Record<keyof typeof censusFiles, string> {
  return {
    repos: join(dir, censusFiles.repos),
    languages: join(dir, censusFiles.languages),
    manifest: join(dir, censusFiles.manifest),
    shards: join(dir, censusFiles.shards),
    plan: join(dir, censusFiles.plan),
  };
}

let tmpCount = 0;

/**
 * A temporary name beside `path`, unique to this call: overlapping writes of one path (in one
 * process or several) never share a temporary file.
 */
function tmpName(path: string): string {
  tmpCount = (tmpCount + 1) % Number.MAX_SAFE_INTEGER;
  return `${path}.tmp-${process.pid}-${tmpCount}-${randomBytes(4).toString('hex')}`;
}

/**
 * Writes `text` to `path` atomically: a temporary file (its own for each call), fsync, then
 * rename over the target. Overlapping calls each leave a whole file; the last rename wins, so
 * callers that need an order (the manifest) chain their writes.
 */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = tmpName(path);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(text);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw new CensusError('ERR_CENSUS_WRITE', `cannot write ${path} (${messageOf(error)})`, {
      cause: error,
    });
  }
}

/**
 * {@link writeAtomic} for a file written again and again (the manifest): each call's write
 * starts after the previous one has finished (failed or not), so they land in call order and
 * the last call's text is the file's, even when a periodic write is still in flight.
 */
export function atomicWriter(path: string): (text: string) => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return (text) => {
    last = last.catch(() => {}).then(() => writeAtomic(path, text));
    return last;
  };
}

/**
 * Streams lines into `path` atomically (temporary file, fsync, rename). `produce` calls `write`
 * for each line (without its newline).
 */
export async function writeLinesAtomic(
  path: string,
  produce: (write: (line: string) => Promise<void>) => Promise<void>,
): Promise<void> {
  const tmp = tmpName(path);
  const stream = createWriteStream(tmp);
  const failed = new Promise<never>((_, reject) => stream.once('error', reject));
  failed.catch(() => {});
  const write = async (line: string): Promise<void> => {
    if (stream.write(`${line}\n`)) return;
    // once() also rejects on 'error' and removes its listeners (a race against `failed` would
    // leave a reaction on it per wait); an error that came before is in `errored`.
    if (stream.errored) throw stream.errored;
    await once(stream, 'drain');
  };
  try {
    await produce(write);
    await Promise.race([new Promise<void>((r) => stream.end(() => r())), failed]);
    const handle = await open(tmp, 'r+');
    await handle.datasync();
    await handle.close();
    await rename(tmp, path);
  } catch (error) {
    stream.destroy();
    await unlink(tmp).catch(() => {});
    throw new CensusError('ERR_CENSUS_WRITE', `cannot write ${path} (${messageOf(error)})`, {
      cause: error,
    });
  }
}
