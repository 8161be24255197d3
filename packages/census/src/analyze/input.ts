import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AnalyzeError } from './errors.js';
import type { InputFormat, MalformedSample } from './partial.js';
import { forEachLine } from './range.js';

/** What to analyse: a census directory or a blog-format file, by path. */
export type AnalyzeInput = string | { path: string; format?: InputFormat };

/** An input, checked and resolved to its files. */
export interface ResolvedInput {
  format: InputFormat;
  path: string;
  languagesFile: string;
  languagesBytes: number;
  reposFile: string | null;
  manifestFile: string | null;
}

/**
 * Resolves an input: a directory is a census directory (it must hold `languages.jsonl`;
 * `repos.jsonl` and `census.json` are optional), a file is in the study's blog format unless
 * `format` says otherwise. A census file given directly (`.../languages.jsonl`) is accepted too.
 */
export async function resolveInput(
  input: AnalyzeInput,
  format?: InputFormat,
): Promise<ResolvedInput> {
  const path = resolve(typeof input === 'string' ? input : input.path);
  const wanted = format ?? (typeof input === 'string' ? undefined : input.format);
  const info = await stat(path).catch(() => null);
  if (!info) {
    throw new AnalyzeError(
      'ERR_ANALYZE_INPUT',
      `${path} does not exist: give a census directory (forage census --out DIR) or a blog-format file`,
    );
  }
  if (info.isDirectory()) {
    if (wanted === 'blog') {
      throw new AnalyzeError(
        'ERR_ANALYZE_INPUT',
        `${path} is a directory, but the blog format is one file: give the file (e.g. lang_data.jsonl), or drop --input-format blog to read a census directory`,
      );
    }
    const languagesFile = join(path, 'languages.jsonl');
    const languages = await stat(languagesFile).catch(() => null);
    if (!languages?.isFile()) {
      throw new AnalyzeError(
        'ERR_ANALYZE_INPUT',
        `${path} has no languages.jsonl: run forage census --out ${path} first, or give a blog-format file with --input-format blog`,
      );
    }
    const optional = async (name: string) =>
      (await stat(join(path, name)).catch(() => null))?.isFile() ? join(path, name) : null;
    return {
      format: 'census',
      path,
      languagesFile,
      languagesBytes: languages.size,
      reposFile: await optional('repos.jsonl'),
      manifestFile: await optional('census.json'),
    };
  }
  if (!info.isFile()) {
    // A pipe (forage analyze <(zcat file.gz)) cannot be read at an offset: it failed with a
    // bare ESPIPE.
    throw new AnalyzeError(
      'ERR_ANALYZE_INPUT',
      `${path} is not a regular file (a pipe or a device?): the analysis reads its file at several offsets at once; save it to a file and give that`,
    );
  }
  const dir = resolve(path, '..');
  const census = wanted === 'census';
  const sibling = async (name: string) =>
    census && ((await stat(join(dir, name)).catch(() => null))?.isFile() ?? false)
      ? join(dir, name)
      : null;
  return {
    format: census ? 'census' : 'blog',
    path,
    languagesFile: path,
    languagesBytes: info.size,
    reposFile: await sibling('repos.jsonl'),
    manifestFile: await sibling('census.json'),
  };
}

/** Manifest fields worth showing; anything else (such as redacted tokens) is left out. */
const MANIFEST_FIELDS = [
  'format',
  'version',
  'complete',
  'api',
  'via',
  'dataset',
  'range',
  'forks',
  'startedAt',
  'finishedAt',
  'wallMs',
  'counts',
] as const;

/** Reads census.json; a missing or unreadable manifest is reported as null, never fatal. */
export async function readManifest(file: string | null): Promise<Record<string, unknown> | null> {
  if (!file) return null;
  try {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    const out: Record<string, unknown> = {};
    for (const key of MANIFEST_FIELDS) {
      if (Object.hasOwn(value, key)) out[key] = (value as Record<string, unknown>)[key];
    }
    const retired = retiredTokensOf(value as Record<string, unknown>);
    if (retired) out.retiredTokens = retired;
    return out;
  } catch {
    return null;
  }
}

/**
 * The tokens the census's last run retired because the API rejected them (positions, 1-based,
 * and how many tokens the run had; never the tokens), so that the report says to replace them.
 */
function retiredTokensOf(
  manifest: Record<string, unknown>,
): { positions: number[]; of: number | null } | undefined {
  const runs = manifest.runs;
  const last: unknown = Array.isArray(runs) ? runs.at(-1) : undefined;
  const positions =
    last && typeof last === 'object' ? (last as { retiredTokens?: unknown }).retiredTokens : [];
  if (!Array.isArray(positions) || positions.length === 0) return undefined;
  if (!positions.every((p) => Number.isSafeInteger(p) && p > 0)) return undefined;
  const tokens = manifest.tokens;
  return { positions: positions as number[], of: Array.isArray(tokens) ? tokens.length : null };
}

const FORK_TRUE = Buffer.from('"fork":true');
const FORK_FALSE = Buffer.from('"fork":false');

/** Counts listed repositories and forks in repos.jsonl, streaming. */
export async function readListing(
  file: string | null,
): Promise<{ listed: number; forks: number } | null> {
  if (!file) return null;
  let listed = 0;
  let forks = 0;
  await forEachLine({ path: file, start: 0, end: Number.POSITIVE_INFINITY }, (buf, s, e) => {
    if (e <= s) return;
    const line = buf.subarray(s, e);
    if (line.indexOf(FORK_TRUE) !== -1) {
      listed++;
      forks++;
    } else if (line.indexOf(FORK_FALSE) !== -1) listed++;
    else {
      try {
        const rec = JSON.parse(line.toString('utf8')) as { fork?: unknown };
        listed++;
        if (rec.fork === true) forks++;
      } catch {
        // A torn last line of an interrupted listing: not a repository.
      }
    }
  });
  return { listed, forks };
}

/**
 * Fills in the line number of each sample, counting the lines up to the last one: the scan
 * itself knows byte offsets only (counting lines there would cost every line of every file),
 * and this runs only when some line could not be read, so that messages name a line.
 */
export async function numberLines(
  file: string,
  samples: readonly MalformedSample[],
): Promise<void> {
  if (samples.length === 0) return;
  const byOffset = new Map(samples.map((m) => [m.offset, m] as const));
  const last = Math.max(...byOffset.keys());
  let line = 0;
  await forEachLine({ path: file, start: 0, end: last + 1 }, (_buf, _start, _end, offset) => {
    line++;
    const sample = byOffset.get(offset);
    if (sample) sample.line = line;
  });
}
