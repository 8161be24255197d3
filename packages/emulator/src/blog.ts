/**
 * The `blog:PATH` dataset: a file in the 2016 study's `lang_data.jsonl` format (one languages
 * object per line, in listing order). Ids and names are synthesised in listing order; each
 * repository's languages body is the file's line, byte for byte.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { IdSpaceDataset, type Repo, type ResolvedRates } from './dataset.js';
import { EmulatorError } from './errors.js';
import type { LanguageBytes } from './language-model.js';

/** Every repository answers normally: the file cannot tell errors from empty repositories. */
export const blogDefaultRates: ResolvedRates = {
  empty: 0,
  fork: 0.2,
  missing: 0,
  dmca: 0,
  tos: 0,
  unavailable: 0,
  renamed: 0,
};

/** Where the 2016 crawl started: its first repository came after this id. */
export const BLOG_2016_START_ID = 76761293;

function parseLine(path: string, n: number, line: string): LanguageBytes {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new EmulatorError(
      'ERR_EMULATOR_DATASET',
      `${path}:${n}: not JSON; each line must be a languages object such as {"C":1200,"Shell":40}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EmulatorError(
      'ERR_EMULATOR_DATASET',
      `${path}:${n}: expected a languages object such as {"C":1200}, got ${line.slice(0, 40)}`,
    );
  }
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [name, bytes] of entries) {
    if (!Number.isSafeInteger(bytes) || (bytes as number) < 0) {
      throw new EmulatorError(
        'ERR_EMULATOR_DATASET',
        `${path}:${n}: language ${JSON.stringify(name)} has ${JSON.stringify(bytes)} bytes; expected a non-negative integer`,
      );
    }
  }
  return entries as [string, number][];
}

/** 32 bits of a SHA-256 of the lines served, so ETags change when the file does. */
function contentHash(lines: readonly string[]): number {
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line).update('\n');
  return hash.digest().readUInt32BE(0);
}

/** Serves a census file back: repository k has line k. */
export class BlogDataset extends IdSpaceDataset {
  readonly kind = 'blog';

  private constructor(
    seed: number,
    startId: number,
    rates: ResolvedRates,
    private readonly lines: readonly string[],
  ) {
    super(seed, startId, lines.length, rates, contentHash(lines));
  }

  /** Reads and checks the whole file (about 3 MB for the 2016 census). */
  static async load(
    path: string,
    seed: number,
    startId: number,
    rates: ResolvedRates,
  ): Promise<BlogDataset> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new EmulatorError(
        'ERR_EMULATOR_DATASET',
        `cannot read blog dataset ${path} (${reason}); give a lang_data.jsonl file as blog:PATH`,
        { cause: error },
      );
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const kept = lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    kept.forEach((line, i) => {
      parseLine(path, i + 1, line);
    });
    if (kept.length === 0) {
      throw new EmulatorError('ERR_EMULATOR_DATASET', `blog dataset ${path} has no lines`);
    }
    return new BlogDataset(seed, startId, rates, kept);
  }

  private lineOf(repo: Repo): string {
    return this.lines[this.layout.indexOf(repo.id)]!;
  }

  languages(repo: Repo): LanguageBytes {
    return parseLine('blog', 0, this.lineOf(repo));
  }

  override languagesJson(repo: Repo): string {
    return this.lineOf(repo);
  }
}
