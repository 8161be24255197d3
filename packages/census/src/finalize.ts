import { same } from './bytes.js';
import type { ListingState } from './enumerate.js';
import { writeLinesAtomic } from './files.js';
import {
  forEachIdOfFile,
  forEachLineBytes,
  Journal,
  notARecord,
  readNumberedLines,
} from './journal.js';
import type { ShardPlan } from './plan.js';
import { shardOf } from './plan.js';
import { type LanguageStatus, languageStatuses } from './records.js';

/** Counts per status, and how many repositories were listed. */
export type CensusCounts = { listed: number } & Record<LanguageStatus, number>;

/**
 * The id of the `n`-th repository (in id order) of the listing, found shard by shard so that
 * only one shard's ids are ever held in memory. Undefined when fewer than `n` were listed.
 */
export async function nthId(
  n: number,
  plan: ShardPlan,
  state: ListingState,
  reposPath: string,
): Promise<number | undefined> {
  const shards = [...state.counts.keys()].sort((a, b) => a - b);
  let before = 0;
  for (const k of shards) {
    const count = state.counts.get(k) ?? 0;
    if (before + count >= n) {
      const ids: number[] = [];
      await forEachIdOfFile(reposPath, (id) => {
        if (shardOf(plan, id) === k) ids.push(id);
      });
      ids.sort((a, b) => a - b);
      return ids[n - before - 1];
    }
    before += count;
  }
  return undefined;
}

/** Rewrites a journal (atomically) keeping only lines whose id is at most `cutoff`. */
export async function trimJournal(path: string, cutoff: number): Promise<number> {
  let kept = 0;
  await writeLinesAtomic(path, async (write) => {
    for await (const [line, n] of readNumberedLines(path)) {
      let id: unknown;
      try {
        id = (JSON.parse(line) as { id?: unknown } | null)?.id;
        if (!Number.isSafeInteger(id)) throw new Error('it has no integer "id"');
      } catch (error) {
        throw notARecord(path, n, error);
      }
      if ((id as number) > cutoff) continue;
      await write(line);
      kept++;
    }
  });
  return kept;
}

/**
 * Takes the `error` records out of an open `languages.jsonl` journal, so that the census run
 * that goes on with it fetches those repositories again (`--retry-errors`): closes the journal,
 * rewrites its file atomically without them, and returns the journal reopened on the new file,
 * with how many records were dropped. Call it once the journal is open (a torn last line is
 * repaired by then) and before anything reads the file.
 */
export async function dropErrorRecords(
  languages: Journal,
): Promise<{ journal: Journal; dropped: number }> {
  const { path } = languages;
  await languages.close();
  let dropped = 0;
  await writeLinesAtomic(path, async (write) => {
    for await (const [line, n] of readNumberedLines(path)) {
      let status: unknown;
      try {
        status = (JSON.parse(line) as { status?: unknown } | null)?.status;
      } catch (error) {
        throw notARecord(path, n, error);
      }
      if (status === 'error') dropped++;
      else await write(line);
    }
  });
  const { journal } = await Journal.open(path);
  return { journal, dropped };
}

/** Counts the lines of `repos.jsonl` and the statuses in `languages.jsonl`, streaming. */
export async function countJournals(
  reposPath: string,
  languagesPath: string,
): Promise<CensusCounts> {
  const counts = { listed: 0 } as CensusCounts;
  for (const s of languageStatuses) counts[s] = 0;
  await forEachLineBytes(reposPath, () => {
    counts.listed++;
  });
  await forEachLineBytes(languagesPath, (bytes, start, end, line) => {
    let status: LanguageStatus;
    try {
      status = statusOfLine(bytes, start, end);
    } catch (error) {
      throw notARecord(languagesPath, line, error);
    }
    if (languageStatuses.includes(status)) counts[status]++;
  });
  return counts;
}

const statusKey = Buffer.from(',"status":"');
const statusBytes = languageStatuses.map((s) => [s, Buffer.from(`${s}"`)] as const);

/**
 * The status of a `languages.jsonl` line, read from its bytes: the census writes it right after
 * `id` and `full_name`, and `,"status":"` cannot occur inside the `full_name` string before it
 * (a quote in a JSON string is escaped). Anything else is parsed as JSON.
 */
export function statusOfLine(bytes: Buffer, start: number, end: number): LanguageStatus {
  const at = bytes.indexOf(statusKey, start);
  if (at >= 0 && at < end) {
    const from = at + statusKey.length;
    for (const [status, word] of statusBytes) {
      if (from + word.length <= end && same(bytes, from, word)) return status;
    }
  }
  return (JSON.parse(bytes.toString('utf8', start, end)) as { status: LanguageStatus }).status;
}
