/**
 * What the emulator serves: a space of repository ids with gaps, each repository's name, owner,
 * fork flag, state (normal, missing, blocked, renamed) and languages. Datasets answer by id and
 * compute everything on demand, so a ten-million-repository dataset costs no memory.
 */
import type { LanguageBytes } from './language-model.js';
import {
  idFromRepoName,
  oldRepoName,
  ownerIdFor,
  ownerIsOrganization,
  ownerLogin,
  repoName,
} from './names.js';
import { hash32, unit } from './random.js';

/** What happens when a client asks for a repository's languages. */
export type RepoState = 'ok' | 'missing' | 'dmca' | 'tos' | 'unavailable' | 'renamed';

/** One repository, as the emulator knows it. */
export interface Repo {
  readonly id: number;
  /** Current name. */
  readonly name: string;
  /** The name the listing shows: the old name for a renamed repository (a stale listing). */
  readonly listedName: string;
  readonly owner: string;
  readonly ownerId: number;
  readonly ownerIsOrg: boolean;
  readonly fork: boolean;
  readonly state: RepoState;
}

/**
 * Shares of repositories with each property, between 0 and 1. `missing` repositories are listed
 * but answer 404 (deleted since); `dmca` answer 451, `tos` and `unavailable` 403 with a `block`;
 * `renamed` ones are listed under their old name and answer 301 there.
 */
export interface RepositoryRates {
  /** Repositories with no detectable code (`{}`). Synthetic default: 0.262, fitted to 2016. */
  empty?: number;
  /** Forks. Default 0.2 (an assumption: the 2016 listing was not published). */
  fork?: number;
  /** Listed but deleted: 404. Synthetic default 0.0005 (2016: about 3 errors per 5,000). */
  missing?: number;
  /** DMCA takedown: 451. Synthetic default 0.00004. */
  dmca?: number;
  /** Terms-of-service block: 403. Synthetic default 0.00004. */
  tos?: number;
  /** Access blocked as "unavailable": 403. Synthetic default 0.00002. */
  unavailable?: number;
  /** Renamed after listing: 301 at the old name. Synthetic default 0.001 (an assumption). */
  renamed?: number;
}

/** Ids per block; each block holds exactly REPOS_PER_BLOCK repositories at hashed positions. */
const BLOCK = 10;
const REPOS_PER_BLOCK = 7;
const PURPOSE_LAYOUT = 1;
const PURPOSE_STATE = 2;
const PURPOSE_FORK = 3;

/**
 * Repositories occupy 7 of every 10 ids (the rest are private or deleted, as on GitHub), at
 * positions hashed per block, so id <-> listing index is O(1) both ways.
 */
export class IdLayout {
  constructor(
    readonly seed: number,
    /** Ids start after this one. */
    readonly startId: number,
    /** Number of repositories. */
    readonly count: number,
  ) {}

  /** Bit mask of the offsets in block `b` that hold a repository. */
  private mask(b: number): number {
    let h = hash32(this.seed, b, PURPOSE_LAYOUT);
    let mask = (1 << BLOCK) - 1;
    let removed = 0;
    while (removed < BLOCK - REPOS_PER_BLOCK) {
      const offset = (h >>> 0) % BLOCK;
      h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + 0x297a2d39;
      if (mask & (1 << offset)) {
        mask &= ~(1 << offset);
        removed++;
      }
    }
    return mask;
  }

  /** The id of the repository at listing index k. */
  idAt(k: number): number {
    const b = Math.floor(k / REPOS_PER_BLOCK);
    let j = k % REPOS_PER_BLOCK;
    const mask = this.mask(b);
    for (let o = 0; o < BLOCK; o++) {
      if (mask & (1 << o) && j-- === 0) return this.startId + 1 + b * BLOCK + o;
    }
    throw new Error('unreachable: block has too few repositories');
  }

  /** The first listing index whose id is greater than `since`. */
  indexAfter(since: number): number {
    if (since < this.startId + 1) return 0;
    const offset = since - this.startId - 1;
    const b = Math.floor(offset / BLOCK);
    const o = offset % BLOCK;
    const mask = this.mask(b);
    let k = b * REPOS_PER_BLOCK;
    for (let i = 0; i <= o; i++) if (mask & (1 << i)) k++;
    return Math.min(k, this.count);
  }

  /** The listing index of `id`, or -1 if no repository has that id. */
  indexOf(id: number): number {
    if (!Number.isSafeInteger(id) || id <= this.startId) return -1;
    const offset = id - this.startId - 1;
    const b = Math.floor(offset / BLOCK);
    const o = offset % BLOCK;
    const mask = this.mask(b);
    if (!(mask & (1 << o))) return -1;
    let k = b * REPOS_PER_BLOCK;
    for (let i = 0; i < o; i++) if (mask & (1 << i)) k++;
    return k < this.count ? k : -1;
  }

  /** The highest id in use (or startId when empty). */
  get lastId(): number {
    return this.count === 0 ? this.startId : this.idAt(this.count - 1);
  }
}

/** The result of looking a repository up by owner and name. */
export interface NameLookup {
  readonly repo: Repo;
  /** True when the name given was the repository's old name (it was renamed). */
  readonly viaOldName: boolean;
}

/** Everything a dataset must answer; see {@link IdSpaceDataset} for the shared behaviour. */
export interface Dataset {
  readonly kind: 'synthetic' | 'blog';
  /** Number of repositories listed. */
  readonly count: number;
  readonly startId: number;
  readonly lastId: number;
  /**
   * A number that changes when the dataset's content would (for ETags): a hash of everything
   * that shapes a response (seed, ids, rates, and a file dataset's content).
   */
  readonly fingerprint: number;
  /** Up to `limit` repositories with ids greater than `since`, ascending. */
  page(since: number, limit: number): Repo[];
  get(id: number): Repo | undefined;
  lookup(owner: string, name: string): NameLookup | undefined;
  /** Languages, largest first. */
  languages(repo: Repo): LanguageBytes;
  /** The exact body of `GET /repos/{owner}/{repo}/languages`. */
  languagesJson(repo: Repo): string;
}

/** Repository rates with every field set. */
export type ResolvedRates = Required<RepositoryRates>;

/** The rates in a fixed order, so the fingerprint does not depend on how they were written. */
const RATE_KEYS = ['empty', 'fork', 'missing', 'dmca', 'tos', 'unavailable', 'renamed'] as const;

/** Folds each number's exact bits into a 32-bit hash (rates are fractions; ids go up to 2^52). */
function fingerprintOf(values: readonly number[]): number {
  const view = new DataView(new ArrayBuffer(8));
  let h = 0;
  for (const value of values) {
    view.setFloat64(0, value);
    h = hash32(h, view.getUint32(0), 0);
    h = hash32(h, view.getUint32(4), 1);
  }
  return h;
}

/** Ids, names, owners and states, shared by every dataset kind; subclasses supply languages. */
export abstract class IdSpaceDataset implements Dataset {
  abstract readonly kind: 'synthetic' | 'blog';
  readonly layout: IdLayout;
  readonly fingerprint: number;
  private readonly thresholds: readonly [RepoState, number][];

  /**
   * `content` is a hash of what the dataset serves beyond what the seed and rates generate
   * (a blog file's lines); it goes into {@link fingerprint}, so a changed file changes ETags.
   */
  constructor(
    readonly seed: number,
    startId: number,
    readonly count: number,
    readonly rates: ResolvedRates,
    content = 0,
  ) {
    this.layout = new IdLayout(seed, startId, count);
    this.fingerprint = fingerprintOf([
      seed,
      count,
      startId,
      ...RATE_KEYS.map((k) => rates[k]),
      content,
    ]);
    let acc = 0;
    const states: [RepoState, number][] = [];
    for (const state of ['missing', 'dmca', 'tos', 'unavailable', 'renamed'] as const) {
      acc += rates[state];
      states.push([state, acc]);
    }
    this.thresholds = states;
  }

  get startId(): number {
    return this.layout.startId;
  }

  get lastId(): number {
    return this.layout.lastId;
  }

  abstract languages(repo: Repo): LanguageBytes;

  languagesJson(repo: Repo): string {
    let out = '{';
    for (const [name, bytes] of this.languages(repo)) {
      if (out.length > 1) out += ',';
      out += `${JSON.stringify(name)}:${bytes}`;
    }
    return `${out}}`;
  }

  page(since: number, limit: number): Repo[] {
    const out: Repo[] = [];
    for (let k = this.layout.indexAfter(since); k < this.count && out.length < limit; k++) {
      out.push(this.repoAt(this.layout.idAt(k)));
    }
    return out;
  }

  get(id: number): Repo | undefined {
    const k = this.layout.indexOf(id);
    return k < 0 ? undefined : this.repoAt(id);
  }

  lookup(owner: string, name: string): NameLookup | undefined {
    const repo = this.get(idFromRepoName(name));
    if (!repo || owner.toLowerCase() !== repo.owner) return undefined;
    const lower = name.toLowerCase();
    if (lower === repo.name) return { repo, viaOldName: false };
    if (repo.state === 'renamed' && lower === repo.listedName) return { repo, viaOldName: true };
    return undefined;
  }

  protected stateOf(id: number): RepoState {
    const u = unit(this.seed, id, PURPOSE_STATE);
    for (const [state, threshold] of this.thresholds) if (u < threshold) return state;
    return 'ok';
  }

  protected repoAt(id: number): Repo {
    const ownerId = ownerIdFor(this.seed, id);
    const state = this.stateOf(id);
    const name = repoName(this.seed, id);
    return {
      id,
      name,
      listedName: state === 'renamed' ? oldRepoName(this.seed, id) : name,
      owner: ownerLogin(ownerId),
      ownerId,
      ownerIsOrg: ownerIsOrganization(this.seed, ownerId),
      fork: unit(this.seed, id, PURPOSE_FORK) < this.rates.fork,
      state,
    };
  }
}
