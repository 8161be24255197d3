import type { RepoRecord } from './records.js';

/**
 * The GraphQL side of the languages stage: one query fetches up to 100 repositories by node id
 * with their first 100 languages, largest first. By GitHub's cost formula that is one point per
 * 100 repositories (../shared/notes/github-api.md §4).
 */

/** Most ids GitHub accepts in one `nodes(ids:)` call. */
export const maxBatch = 100;

// Only what the census keeps: each byte of the answer is decoded and parsed.
const languageFields = 'edges { size node { name } } pageInfo { hasNextPage endCursor }';

/**
 * The batch query: `$ids` is a list of up to 100 repository node ids. `databaseId` lets the
 * answer be checked against the request (see {@link parseBatch}).
 */
export const batchQuery =
  'query CensusLanguages($ids: [ID!]!) { rateLimit { cost remaining resetAt } ' +
  'nodes(ids: $ids) { ... on Repository { databaseId ' +
  `languages(first: 100, orderBy: {field: SIZE, direction: DESC}) { ${languageFields} } } } }`;

/** The follow-up query for a repository with more than 100 languages. */
export const pageQuery =
  'query CensusLanguagePage($id: ID!, $after: String!) { node(id: $id) { ... on Repository { ' +
  `languages(first: 100, after: $after, orderBy: {field: SIZE, direction: DESC}) { ${languageFields} } } } }`;

/** The JSON body of a batch request. */
export function batchBody(repos: readonly Pick<RepoRecord, 'node_id'>[]): string {
  if (repos.length === 0 || repos.length > maxBatch) {
    throw new RangeError(`a batch holds 1 to ${maxBatch} repositories, got ${repos.length}`);
  }
  return JSON.stringify({ query: batchQuery, variables: { ids: repos.map((r) => r.node_id) } });
}

/** The JSON body of a page request. */
export function pageBody(nodeId: string, after: string): string {
  return JSON.stringify({ query: pageQuery, variables: { id: nodeId, after } });
}

/** What the batch said about one repository. */
export type NodeOutcome =
  /** Languages so far; `after` is set when more pages follow. */
  | {
      readonly kind: 'languages';
      readonly languages: Record<string, number>;
      readonly after?: string;
    }
  | { readonly kind: 'not_found' }
  /** GraphQL could not say (an error other than NOT_FOUND): ask REST, which has exact statuses. */
  | { readonly kind: 'ask_rest'; readonly why: string };

/** A whole batch answer: per repository outcomes, or a reason the batch as a whole failed. */
export type BatchOutcome =
  | { readonly kind: 'nodes'; readonly nodes: NodeOutcome[] }
  | { readonly kind: 'failed'; readonly why: string };

interface GraphqlError {
  readonly type?: unknown;
  readonly message?: unknown;
  readonly path?: unknown;
}

interface LanguageConnection {
  readonly edges?: ReadonlyArray<{ size?: unknown; node?: { name?: unknown } | null } | null>;
  readonly pageInfo?: { hasNextPage?: unknown; endCursor?: unknown };
}

/** Reads a connection's edges into a bytes-per-language object, keeping the API's order. */
export function readConnection(
  conn: LanguageConnection | null | undefined,
  into: Record<string, number> = {},
): { languages: Record<string, number>; after?: string } | undefined {
  if (!conn || !Array.isArray(conn.edges)) return undefined;
  for (const edge of conn.edges) {
    const name = edge?.node?.name;
    const size = edge?.size;
    if (typeof name !== 'string' || typeof size !== 'number') return undefined;
    into[name] = size;
  }
  const more = conn.pageInfo?.hasNextPage === true && typeof conn.pageInfo.endCursor === 'string';
  return more
    ? { languages: into, after: conn.pageInfo!.endCursor as string }
    : { languages: into };
}

/**
 * Interprets a batch response body for the repositories whose ids are `ids`, in request order.
 * Missing ids come back as `null` with a `NOT_FOUND` error at `["nodes", i]`; other per-node
 * errors defer to REST; a body with no `data`, or a node that is another repository than the
 * one asked for at its place, fails the batch (to be retried): languages are never credited to
 * the wrong repository.
 */
export function parseBatch(body: unknown, ids: readonly number[]): BatchOutcome {
  const count = ids.length;
  const b = (body ?? {}) as { data?: { nodes?: unknown } | null; errors?: unknown };
  const errors = Array.isArray(b.errors) ? (b.errors as GraphqlError[]) : [];
  const nodes = b.data?.nodes;
  if (!Array.isArray(nodes)) {
    const why = errors.map((e) => `${String(e.type ?? 'ERROR')}: ${String(e.message ?? '')}`);
    return { kind: 'failed', why: why.join('; ') || 'GraphQL response without data.nodes' };
  }
  if (nodes.length !== count) {
    return { kind: 'failed', why: `asked for ${count} nodes, got ${nodes.length}` };
  }
  for (let i = 0; i < count; i++) {
    const id = (nodes[i] as { databaseId?: unknown } | null)?.databaseId;
    if (typeof id === 'number' && id !== ids[i]) {
      return { kind: 'failed', why: `node ${i} is repository ${id}, asked for ${ids[i]}` };
    }
  }
  const byIndex = new Map<number, GraphqlError>();
  for (const e of errors) {
    const path = Array.isArray(e.path) ? e.path : [];
    if (path[0] === 'nodes' && typeof path[1] === 'number' && !byIndex.has(path[1])) {
      byIndex.set(path[1], e);
    }
  }
  const out: NodeOutcome[] = nodes.map((node: unknown, i): NodeOutcome => {
    const error = byIndex.get(i);
    if (node === null) {
      if (error?.type === 'NOT_FOUND') return { kind: 'not_found' };
      return { kind: 'ask_rest', why: error ? String(error.type ?? error.message) : 'null node' };
    }
    const conn = (node as { languages?: LanguageConnection | null }).languages;
    const read = readConnection(conn);
    if (!read || error) {
      return {
        kind: 'ask_rest',
        why: error ? String(error.type ?? error.message) : 'no languages',
      };
    }
    return read.after
      ? { kind: 'languages', languages: read.languages, after: read.after }
      : { kind: 'languages', languages: read.languages };
  });
  return { kind: 'nodes', nodes: out };
}

/** Interprets a page response: the next edges, or undefined when the answer is unusable. */
export function parsePage(
  body: unknown,
  into: Record<string, number>,
): { languages: Record<string, number>; after?: string } | undefined {
  const node = (body as { data?: { node?: { languages?: LanguageConnection } | null } } | null)
    ?.data?.node;
  return readConnection(node?.languages, into);
}
