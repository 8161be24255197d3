/**
 * The census range split into shards. Ids run from `since + 1` (the API's `since` is exclusive)
 * up to `until` (exclusive) or the end of the id space. Shard `k` covers
 * `[since + 1 + k * width, since + 1 + (k + 1) * width)`, clipped to `until`. Shards are made
 * lazily from a frontier, so an open range needs no guess of its end; the plan is stored in the
 * output directory so a resumed run splits the range exactly as the first run did.
 */
export interface ShardPlan {
  readonly since: number;
  readonly until: number | null;
  /** Stop making new shards once this many repositories are listed (`--repos`). */
  readonly repos: number | null;
  /** Ids per shard. */
  readonly width: number;
  /** Shards expected to cover `repos` (beyond them, shards are made one at a time). */
  readonly expected: number | null;
}

/** The id range of shard `k`: `start` inclusive, `end` exclusive; undefined past `until`. */
export function shardRange(plan: ShardPlan, k: number): { start: number; end: number } | undefined {
  const start = plan.since + 1 + k * plan.width;
  const limit = plan.until ?? Number.MAX_SAFE_INTEGER;
  if (start >= limit) return undefined;
  return { start, end: Math.min(start + plan.width, limit) };
}

/** The shard an id belongs to. */
export function shardOf(plan: ShardPlan, id: number): number {
  return Math.floor((id - plan.since - 1) / plan.width);
}

/** Inputs for {@link makePlan}. */
export interface PlanInput {
  readonly since: number;
  readonly until: number | null;
  readonly repos: number | null;
  /** Shards walked at once. */
  readonly shards: number;
  /** Ids per repository near `since`, measured on the first listing page (>= 1). */
  readonly density: number;
}

/** Pages an open-ended shard covers when neither `until` nor `repos` bounds the range. */
const openShardPages = 20;

/** Splits the range: `shards` equal shards over `until`, or over the span `repos` needs. */
export function makePlan(input: PlanInput): ShardPlan {
  const { since, until, repos, shards } = input;
  const density = Math.max(1, input.density);
  if (until !== null) {
    const width = Math.max(1, Math.ceil((until - since - 1) / shards));
    return { since, until, repos, width, expected: Math.ceil((until - since - 1) / width) };
  }
  if (repos !== null) {
    const span = Math.ceil(repos * density * 1.02) + 1;
    const width = Math.max(100, Math.ceil(span / shards));
    return { since, until, repos, width, expected: Math.ceil(span / width) };
  }
  const width = Math.max(100, Math.ceil(density * 100 * openShardPages));
  return { since, until, repos, width, expected: null };
}
