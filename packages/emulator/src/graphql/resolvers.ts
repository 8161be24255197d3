/**
 * Resolves GraphQL fields from the dataset. Objects are built per request and carry
 * `__typename`, which graphql-js uses to resolve the `Node` and `RepositoryOwner` interfaces.
 */
import { GraphQLError } from 'graphql';
import type { Dataset, Repo } from '../dataset.js';
import { type LanguageBytes, languageColor, languageDatabaseId } from '../language-model.js';
import { decodeNodeId, legacyNodeId } from '../names.js';

/** What `rateLimit` reports, after this query was charged. */
export interface RateLimitView {
  cost: number;
  limit: number;
  nodeCount: number;
  remaining: number;
  resetAt: string;
  used: number;
}

interface LanguagesArgs {
  after?: string | null;
  before?: string | null;
  first?: number | null;
  last?: number | null;
  orderBy?: { direction: 'ASC' | 'DESC'; field: 'SIZE' } | null;
}

function githubError(type: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { type } });
}

const cursorFor = (index: number) => Buffer.from(`cursor:${index}`).toString('base64');
function indexOfCursor(cursor: string): number {
  const match = /^cursor:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('latin1'));
  if (!match)
    throw githubError(
      'INVALID_CURSOR_ARGUMENTS',
      `\`${cursor}\` does not appear to be a valid cursor.`,
    );
  return Number(match[1]);
}

function languageNode(name: string) {
  return {
    __typename: 'Language',
    id: legacyNodeId('Language', languageDatabaseId(name)),
    name,
    color: languageColor(name),
  };
}

/** A `LanguageConnection` page over a repository's languages (cursors are 1-based positions). */
function languageConnection(all: LanguageBytes, args: LanguagesArgs) {
  const ordered = args.orderBy?.direction === 'ASC' ? [...all].reverse() : all;
  let start = 0;
  let end = ordered.length;
  if (args.after) start = Math.max(start, indexOfCursor(args.after));
  if (args.before) end = Math.min(end, indexOfCursor(args.before) - 1);
  if (end < start) end = start;
  if (typeof args.first === 'number') end = Math.min(end, start + args.first);
  if (typeof args.last === 'number') start = Math.max(start, end - args.last);
  const edges = ordered.slice(start, end).map(([name, size], i) => ({
    cursor: cursorFor(start + i + 1),
    size,
    node: languageNode(name),
  }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    totalCount: all.length,
    totalSize: all.reduce((sum, [, bytes]) => sum + bytes, 0),
    pageInfo: {
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
      hasNextPage: end < ordered.length,
      hasPreviousPage: start > 0,
    },
  };
}

/** The GraphQL object for a repository; languages are computed only if asked for. */
export function repositoryObject(dataset: Dataset, repo: Repo, onLanguages: () => void) {
  let cached: LanguageBytes | undefined;
  const languages = () => {
    if (!cached) {
      cached = dataset.languages(repo);
      onLanguages();
    }
    return cached;
  };
  const ownerType = repo.ownerIsOrg ? 'Organization' : 'User';
  return {
    __typename: 'Repository',
    id: legacyNodeId('Repository', repo.id),
    databaseId: repo.id,
    name: repo.name,
    nameWithOwner: `${repo.owner}/${repo.name}`,
    url: `https://github.com/${repo.owner}/${repo.name}`,
    owner: {
      __typename: ownerType,
      id: legacyNodeId(ownerType, repo.ownerId),
      databaseId: repo.ownerId,
      login: repo.owner,
      url: `https://github.com/${repo.owner}`,
    },
    createdAt: new Date(Date.UTC(2008, 0, 1) + repo.id * 250)
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z'),
    isFork: repo.fork,
    isPrivate: false,
    isArchived: false,
    isDisabled: false,
    isLocked: false,
    isEmpty: () => languages().length === 0,
    diskUsage: () => Math.ceil(languages().reduce((s, [, b]) => s + b, 0) / 1024),
    primaryLanguage: () => {
      const first = languages()[0];
      return first ? languageNode(first[0]) : null;
    },
    languages: (args: LanguagesArgs) => languageConnection(languages(), args),
  };
}

/** Resolves a repository id for `node`/`nodes`: null with GitHub's error when it cannot. */
function resolveNode(dataset: Dataset, globalId: string, onLanguages: () => void) {
  const decoded = decodeNodeId(globalId);
  const repo = decoded?.type === 'Repository' ? dataset.get(decoded.id) : undefined;
  if (!repo || repo.state === 'missing') {
    throw githubError(
      'NOT_FOUND',
      `Could not resolve to a node with the global id of '${globalId}'`,
    );
  }
  if (repo.state === 'dmca' || repo.state === 'tos' || repo.state === 'unavailable') {
    throw githubError('FORBIDDEN', 'Repository access blocked');
  }
  return repositoryObject(dataset, repo, onLanguages);
}

/** The root value for one query. */
export function rootValue(
  dataset: Dataset,
  rateLimit: () => RateLimitView,
  onLanguages: () => void,
) {
  return {
    rateLimit,
    node: ({ id }: { id: string }) => resolveNode(dataset, id, onLanguages),
    nodes: ({ ids }: { ids: string[] }) =>
      ids.map((id) => {
        try {
          return resolveNode(dataset, id, onLanguages);
        } catch (error) {
          return error;
        }
      }),
    repository: (args: { owner: string; name: string; followRenames: boolean }) => {
      const found = dataset.lookup(args.owner, args.name);
      const usable =
        found &&
        found.repo.state !== 'missing' &&
        found.repo.state !== 'dmca' &&
        found.repo.state !== 'tos' &&
        found.repo.state !== 'unavailable' &&
        (!found.viaOldName || args.followRenames);
      if (!usable) {
        throw githubError(
          'NOT_FOUND',
          `Could not resolve to a Repository with the name '${args.owner}/${args.name}'.`,
        );
      }
      return repositoryObject(dataset, found.repo, onLanguages);
    },
  };
}
