import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CensusError, messageOf } from './errors.js';
import { censusPaths, writeLinesAtomic } from './files.js';
import { notARecord, readNumberedLines } from './journal.js';
import { type LanguageRecord, type RepoRecord, repoFromListing } from './records.js';

/** Output formats of {@link exportCensus}. */
export type ExportFormat = 'blog';

/** What {@link exportCensus} wrote. */
export interface ExportResult {
  readonly files: readonly string[];
  /** Repositories written. */
  readonly repos: number;
  /** Of those, how many had a status the study's format cannot express (written as `{}`). */
  readonly inexpressible: number;
}

/**
 * Writes a census in the 2016 study's format, for anyone with its scripts: `all_repos.jsonl`
 * (`{"id": …, "name": …, "languages_url": …}` per line, as its Scrapy spider saved them) and
 * `lang_data.jsonl` (one languages object per line, in the same order). Both are in listing
 * order (ascending id). As in the study, a repository without languages (`not_found`,
 * `blocked`, `error`) is written as `{}`: the format cannot say why, so the count is returned.
 * Holds the listing in memory (about 100 bytes per repository) to sort it.
 */
export async function exportCensus(
  dir: string,
  options: { format: ExportFormat; outDir?: string },
): Promise<ExportResult> {
  if (options.format !== 'blog') {
    throw new CensusError(
      'ERR_CENSUS_OPTION',
      `--format must be blog, got "${String(options.format)}"`,
    );
  }
  const paths = censusPaths(dir);
  const languages = new Map<number, string>();
  let inexpressible = 0;
  for await (const [line, n] of readNumberedLines(paths.languages)) {
    let r: LanguageRecord;
    try {
      r = JSON.parse(line) as LanguageRecord;
      if (!Number.isSafeInteger(r?.id)) throw new Error('it has no integer "id"');
    } catch (error) {
      throw notARecord(paths.languages, n, error);
    }
    languages.set(
      r.id,
      r.languages && (r.status === 'ok' || r.status === 'empty') ? JSON.stringify(r.languages) : '',
    );
  }
  const repos: Array<{ id: number; name: string; url: string }> = [];
  for await (const [line, n] of readNumberedLines(paths.repos)) {
    let r: RepoRecord | string;
    try {
      r = repoFromListing(JSON.parse(line));
      if (typeof r === 'string') throw new Error(r);
    } catch (error) {
      throw notARecord(paths.repos, n, error);
    }
    repos.push({
      id: r.id,
      name: r.full_name.slice(r.full_name.indexOf('/') + 1),
      url: r.languages_url,
    });
  }
  if (repos.length === 0) {
    throw new CensusError(
      'ERR_CENSUS_OUTPUT',
      `${dir} holds no repos.jsonl lines: is it a census directory?`,
    );
  }
  // An unfinished census is refused before anything is written: the study's format would show
  // its unfetched repositories as {} (and overwrite a good earlier export).
  let missing = 0;
  for (const r of repos) if (!languages.has(r.id)) missing++;
  if (missing > 0) {
    throw new CensusError(
      'ERR_CENSUS_OUTPUT',
      `${missing} repositories in ${dir} have no languages record: finish the census (run it again) before exporting`,
    );
  }
  repos.sort((a, b) => a.id - b.id);
  const out = options.outDir ?? dir;
  await makeOutDir(out);
  const allRepos = join(out, 'all_repos.jsonl');
  const langData = join(out, 'lang_data.jsonl');
  await writeLinesAtomic(allRepos, async (write) => {
    // Python's json.dumps spacing, as Scrapy's JSON lines exporter wrote it.
    for (const r of repos) {
      await write(
        `{"id": ${r.id}, "name": ${JSON.stringify(r.name)}, "languages_url": ${JSON.stringify(r.url)}}`,
      );
    }
  });
  await writeLinesAtomic(langData, async (write) => {
    for (const r of repos) {
      const langs = languages.get(r.id);
      if (!langs) inexpressible++;
      await write(langs || '{}');
    }
  });
  return { files: [allRepos, langData], repos: repos.length, inexpressible };
}

/** An export to a new directory creates it; a path that cannot be one is the caller's to fix. */
async function makeOutDir(out: string): Promise<void> {
  try {
    await mkdir(out, { recursive: true });
  } catch (error) {
    throw new CensusError(
      'ERR_CENSUS_OUTPUT',
      `cannot create --out ${out} (${messageOf(error)}): choose a directory for the exported files`,
    );
  }
}
