/**
 * `POST /graphql`: parse and validate through graphql-js (documents are cached by text), check
 * GitHub's pagination and node limits, charge the cost, then execute. Errors are returned the
 * way GitHub returns them: HTTP 200 with `errors[]` carrying a top-level `type`.
 */
import {
  type DocumentNode,
  execute,
  type FragmentDefinitionNode,
  type GraphQLError,
  getOperationAST,
  getVariableValues,
  Kind,
  parse,
  validate,
} from 'graphql';
import type { Dataset } from '../dataset.js';
import { type GitHubGraphQLError, queryCost } from './cost.js';
import { type RateLimitView, rootValue } from './resolvers.js';
import { emulatorSchema } from './schema.js';

/** The outcome of charging a query's cost to the caller's GraphQL bucket. */
export interface Charge {
  ok: boolean;
  view: RateLimitView;
}

/** What the HTTP layer needs back. */
export interface GraphQLOutcome {
  /** JSON body. */
  body: string;
  /** HTTP status (400 only for an unreadable body, as on GitHub). */
  status: number;
  /** Points charged (0 when the query never ran). */
  cost: number;
  /** True when the query was refused because the primary limit was spent. */
  rateLimited: boolean;
}

type Parsed = { document: DocumentNode } | { errors: GitHubGraphQLError[] };

const CACHE_SIZE = 500;
/**
 * Longer queries are parsed every time: clients repeat short queries (a census batch passes its
 * ids as variables; 100 inline ids are about 4 KB), while caching every distinct text up to the
 * 1 MiB body limit would let 500 of them hold hundreds of MB.
 */
const MAX_CACHED_QUERY = 16 * 1024;
const cache = new Map<string, Parsed>();

function toGitHubError(error: GraphQLError): GitHubGraphQLError {
  const out: GitHubGraphQLError = { message: error.message };
  const type = error.extensions?.type;
  if (typeof type === 'string') out.type = type;
  if (error.path) out.path = [...error.path];
  if (error.locations) out.locations = error.locations.map((l) => ({ ...l }));
  return out;
}

function parseAndValidate(query: string): Parsed {
  const hit = cache.get(query);
  if (hit) return hit;
  let parsed: Parsed;
  try {
    const document = parse(query);
    const errors = validate(emulatorSchema(), document);
    parsed = errors.length ? { errors: errors.map(toGitHubError) } : { document };
  } catch (error) {
    parsed = { errors: [toGitHubError(error as GraphQLError)] };
  }
  if (query.length > MAX_CACHED_QUERY) return parsed;
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(query, parsed);
  return parsed;
}

const errorsBody = (errors: GitHubGraphQLError[]) => JSON.stringify({ errors });

/** The three members of a GraphQL request body, checked. */
interface GraphQLRequest {
  query: string;
  variables: Record<string, unknown>;
  operationName: string | null;
}

/** What a JSON value is, for an error message ("an array", "a string", …). */
function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Checks the shape of a parsed request body before anything is parsed or charged, and reports
 * every problem at once, the way GitHub reports a missing query: HTTP 200, `errors[]`, no `data`.
 *
 * - A body that is not an object (a batch array, say), a missing or non-string `query`, and an
 *   empty one get GitHub's own message (observed, for `{}` and for `query: ""`).
 * - `variables` may be absent or null (no variables) or an object. Anything else used to be
 *   passed on as if it were an object, so `[…]` or a JSON-encoded string ran the query with no
 *   variables at all. GitHub's exact answer is not in our notes (status and text unknown; some
 *   GraphQL servers even parse a string), so this refuses, in the shape of the missing-query
 *   error: a client refused here gets fixed before it meets GitHub, while accepting what GitHub
 *   may refuse would let a broken client pass its tests.
 * - `operationName` may be absent, null or a string. Another type used to be dropped silently,
 *   which runs a different operation than the one asked for, or none.
 */
function readRequest(body: unknown): GraphQLRequest | { errors: GitHubGraphQLError[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { errors: [{ message: 'A query attribute must be specified and must be a string.' }] };
  }
  const { query, variables, operationName } = body as Record<string, unknown>;
  const errors: GitHubGraphQLError[] = [];
  if (typeof query !== 'string' || query === '') {
    errors.push({ message: 'A query attribute must be specified and must be a string.' });
  }
  const variablesOk =
    variables === undefined ||
    variables === null ||
    (typeof variables === 'object' && !Array.isArray(variables));
  if (!variablesOk) {
    errors.push({
      message: `The variables attribute must be a JSON object (or null), not ${describe(variables)}.`,
    });
  }
  const nameOk =
    operationName === undefined || operationName === null || typeof operationName === 'string';
  if (!nameOk) {
    errors.push({
      message: `The operationName attribute must be a string (or null), not ${describe(operationName)}.`,
    });
  }
  if (errors.length) return { errors };
  return {
    query: query as string,
    variables: (variables ?? {}) as Record<string, unknown>,
    operationName: (operationName as string | undefined) ?? null,
  };
}

/** Handles one GraphQL request body. */
export async function runGraphQL(
  dataset: Dataset,
  bodyText: string,
  charge: (cost: number, nodeCount: number, dryRun: boolean) => Charge,
  rateLimitMessage: () => GitHubGraphQLError,
  onLanguages: () => void,
): Promise<GraphQLOutcome> {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return {
      status: 400,
      cost: 0,
      rateLimited: false,
      body: JSON.stringify({
        message: 'Problems parsing JSON',
        documentation_url: 'https://docs.github.com/graphql',
      }),
    };
  }
  const request = readRequest(body);
  if ('errors' in request) {
    return { status: 200, cost: 0, rateLimited: false, body: errorsBody(request.errors) };
  }
  const { query, variables, operationName } = request;
  const parsed = parseAndValidate(query);
  if ('errors' in parsed) {
    return { status: 200, cost: 0, rateLimited: false, body: errorsBody(parsed.errors) };
  }
  const operation = getOperationAST(parsed.document, operationName);
  if (operation?.operation !== 'query') {
    return {
      status: 200,
      cost: 0,
      rateLimited: false,
      body: errorsBody([
        {
          message: operation
            ? 'Only queries are supported by this emulator.'
            : 'No operation given.',
        },
      ]),
    };
  }
  const schema = emulatorSchema();
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
  if (coerced.errors) {
    return {
      status: 200,
      cost: 0,
      rateLimited: false,
      body: errorsBody(coerced.errors.map(toGitHubError)),
    };
  }
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of parsed.document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  }
  const cost = queryCost(schema, operation, fragments, coerced.coerced);
  if (!cost.ok) return { status: 200, cost: 0, rateLimited: false, body: errorsBody(cost.errors) };
  const charged = charge(cost.cost, cost.nodeCount, cost.dryRun);
  if (!charged.ok) {
    return { status: 200, cost: 0, rateLimited: true, body: errorsBody([rateLimitMessage()]) };
  }
  // Missing ids become GraphQL errors, and capturing a stack trace for each is most of the cost
  // of a batch full of them; nobody reads those stacks. The resolvers are synchronous, so every
  // error is created inside this call.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let pending: ReturnType<typeof execute>;
  try {
    pending = execute({
      schema,
      document: parsed.document,
      operationName,
      variableValues: coerced.coerced,
      rootValue: rootValue(dataset, () => charged.view, onLanguages),
    });
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  const result = await pending;
  const out: { data?: unknown; errors?: GitHubGraphQLError[] } = {};
  if (result.errors?.length) out.errors = result.errors.map(toGitHubError);
  out.data = result.data ?? null;
  return {
    status: 200,
    cost: cost.dryRun ? 0 : cost.cost,
    rateLimited: false,
    body: JSON.stringify(out.errors ? { data: out.data, errors: out.errors } : { data: out.data }),
  };
}
