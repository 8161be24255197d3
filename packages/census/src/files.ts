import { createWriteStream } from 'node:fs';
import { open, rename } from 'node:fs/promises';
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

/** Writes `text` to `path` atomically: a temporary file, fsync, then rename over the target. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
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
    throw new CensusError('ERR_CENSUS_WRITE', `cannot write ${path} (${messageOf(error)})`, {
      cause: error,
    });
  }
}

/**
 * Streams lines into `path` atomically (temporary file, fsync, rename). `produce` calls `write`
 * for each line (without its newline).
 */
export async function writeLinesAtomic(
  path: string,
  produce: (write: (line: string) => Promise<void>) => Promise<void>,
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const stream = createWriteStream(tmp);
  const failed = new Promise<never>((_, reject) => stream.once('error', reject));
  failed.catch(() => {});
  const write = async (line: string): Promise<void> => {
    if (!stream.write(`${line}\n`)) {
      await Promise.race([new Promise<void>((r) => stream.once('drain', () => r())), failed]);
    }
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
    throw new CensusError('ERR_CENSUS_WRITE', `cannot write ${path} (${messageOf(error)})`, {
      cause: error,
    });
  }
}
