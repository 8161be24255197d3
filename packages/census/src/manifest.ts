import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ForksMode } from './enumerate.js';
import { CensusError, messageOf } from './errors.js';
import type { CensusCounts } from './finalize.js';
import type { Via } from './languages.js';

/** The package version, recorded in every manifest. */
export const censusVersion: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** One run (the first, or a resumption) of a census. */
export interface CensusRun {
  readonly startedAt: string;
  finishedAt: string | null;
  wallMs: number;
  readonly resumed: boolean;
  /** Why the run stopped early, when it did (one line, no token). */
  error?: string;
  /**
   * Positions (1-based, in this run's token list) of the tokens the API rejected (401) during
   * the run: they were retired and the run went on with the others; when that was every token,
   * the run stopped there (`error` says so). Absent when none was.
   */
  retiredTokens?: number[];
}

/** `census.json`: what was measured, how, and what it cost (see the README). */
export interface CensusManifest {
  readonly format: 'forage-census/1';
  readonly version: string;
  complete: boolean;
  readonly api: string;
  via: Via;
  readonly dataset: string | null;
  readonly range: {
    readonly since: number;
    readonly until: number | null;
    readonly repos: number | null;
  };
  readonly forks: ForksMode;
  /** Redacted tokens (`ghp_…abcd`); an empty list means unauthenticated. */
  tokens: string[];
  readonly startedAt: string;
  finishedAt: string | null;
  /** Wall time over all runs, ms. */
  wallMs: number;
  counts: CensusCounts | null;
  /** Requests sent per endpoint, over all runs. */
  requests: Record<string, number>;
  /** Requests counted against each primary limit, over all runs. */
  points: { core: number; graphql: number };
  /** Time spent waiting on rate limits, over all runs, ms. */
  sleptMs: number;
  retries: number;
  runs: CensusRun[];
}

/**
 * Reads `census.json` if there is one. A file that cannot be read, or is not a census manifest
 * (corrupt, or someone else's), is an `ERR_CENSUS_OUTPUT` naming it: it is never overwritten.
 */
export async function readManifest(path: string): Promise<CensusManifest | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw notAManifest(path, messageOf(error));
  }
  let m: Partial<CensusManifest> | null;
  try {
    m = JSON.parse(text) as Partial<CensusManifest> | null;
  } catch (error) {
    throw notAManifest(path, messageOf(error));
  }
  if (!m || typeof m !== 'object' || m.format !== 'forage-census/1') {
    const format = m && typeof m === 'object' ? JSON.stringify(m.format) : 'missing';
    throw notAManifest(path, `its "format" is ${format ?? 'missing'}, not "forage-census/1"`);
  }
  if (!Array.isArray(m.runs) || typeof m.requests !== 'object' || m.requests === null) {
    throw notAManifest(path, 'it has no "runs" list or "requests" counts');
  }
  return m as CensusManifest;
}

function notAManifest(path: string, why: string): CensusError {
  return new CensusError(
    'ERR_CENSUS_OUTPUT',
    `${path} is not a census manifest: ${why} (fix: choose another --out; if the directory holds your census and only this file is damaged, delete it and run again: the journals are kept and the counts recomputed)`,
  );
}

/** Adds `b`'s per-key counts to `a`. */
export function addCounts(a: Record<string, number>, b: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
}
