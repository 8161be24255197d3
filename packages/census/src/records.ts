/**
 * The records the census writes, one JSON object per line (see the package README for the
 * format contract the analysis relies on).
 */

/** A line of `repos.jsonl`: one listed repository. */
export interface RepoRecord {
  readonly id: number;
  readonly node_id: string;
  readonly full_name: string;
  readonly fork: boolean;
  readonly languages_url: string;
}

/** The outcome for one repository. */
export type LanguageStatus = 'ok' | 'empty' | 'not_found' | 'blocked' | 'error';

/** Every status, in report order. */
export const languageStatuses: readonly LanguageStatus[] = [
  'ok',
  'empty',
  'not_found',
  'blocked',
  'error',
];

/** A line of `languages.jsonl`. `languages` is null unless the status is `ok` or `empty`. */
export interface LanguageRecord {
  readonly id: number;
  readonly full_name: string;
  readonly status: LanguageStatus;
  readonly languages: Readonly<Record<string, number>> | null;
  /** For `blocked`: `dmca`, `tos`, `unavailable` or the API's message. */
  readonly reason?: string;
  /** For `error`: the last error, one line. */
  readonly error?: string;
}

/** Builds the record for a languages object the API returned. */
export function languagesRecord(
  repo: Pick<RepoRecord, 'id' | 'full_name'>,
  languages: Record<string, number>,
): LanguageRecord {
  const status = Object.keys(languages).length > 0 ? 'ok' : 'empty';
  return { id: repo.id, full_name: repo.full_name, status, languages };
}

/** Builds a record for a repository whose languages could not be had. */
export function failureRecord(
  repo: Pick<RepoRecord, 'id' | 'full_name'>,
  status: 'not_found' | 'blocked' | 'error',
  detail?: string,
): LanguageRecord {
  const base = { id: repo.id, full_name: repo.full_name, status, languages: null };
  if (status === 'blocked') return { ...base, reason: detail ?? 'blocked' };
  if (status === 'error') return { ...base, error: detail ?? 'unknown error' };
  return base;
}

/** Reads a `repos.jsonl` item from a listing item, or explains why it is not one. */
export function repoFromListing(item: unknown): RepoRecord | string {
  if (!item || typeof item !== 'object') return 'a listing item is not an object';
  const r = item as Record<string, unknown>;
  if (!Number.isSafeInteger(r.id)) return 'a listing item has no integer id';
  if (typeof r.node_id !== 'string') return `repository ${r.id} has no node_id`;
  if (typeof r.full_name !== 'string') return `repository ${r.id} has no full_name`;
  return {
    id: r.id as number,
    node_id: r.node_id,
    full_name: r.full_name,
    fork: r.fork === true,
    languages_url: typeof r.languages_url === 'string' ? r.languages_url : '',
  };
}
