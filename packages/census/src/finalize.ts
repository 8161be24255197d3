import type { ListingState } from './enumerate.js';
import { writeLinesAtomic } from './files.js';
import { forEachLine, readLines } from './journal.js';
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
      await forEachLine(reposPath, (line) => {
        const id = (JSON.parse(line) as { id: number }).id;
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
    for await (const line of readLines(path)) {
      if ((JSON.parse(line) as { id: number }).id > cutoff) continue;
      await write(line);
      kept++;
    }
  });
  return kept;
}

/** Counts the lines of `repos.jsonl` and the statuses in `languages.jsonl`, streaming. */
export async function countJournals(
  reposPath: string,
  languagesPath: string,
): Promise<CensusCounts> {
  const counts = { listed: 0 } as CensusCounts;
  for (const s of languageStatuses) counts[s] = 0;
  await forEachLine(reposPath, () => {
    counts.listed++;
  });
  await forEachLine(languagesPath, (line) => {
    const status = (JSON.parse(line) as { status: LanguageStatus }).status;
    if (status in counts) counts[status]++;
  });
  return counts;
}
