// GitHub's own schemas from ../shared/data: the OpenAPI subset (REST bodies, through ajv) and the
// GraphQL schema subset (queries, through graphql-js). The test helpers check every response
// and every query the tests exchange with the emulator against them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { buildSchema, type GraphQLSchema, parse, validate } from 'graphql';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Where GitHub's schemas and the 2016 census live (override with FORAGE_SHARED_DATA). */
export const sharedData =
  process.env.FORAGE_SHARED_DATA ??
  fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
/**
 * Returns the shared data directory, or fails the calling test with what to do when it is
 * missing. The faithfulness tests fail rather than skip: a green run must mean they ran.
 */
export function requireSharedData(): string {
  if (!existsSync(`${sharedData}/github-graphql-subset.graphql`)) {
    throw new Error(
      `shared data not found at ${sharedData}: set FORAGE_SHARED_DATA to the directory holding github-2016/ and GitHub's schemas (scripts/run-tests.mjs looks beside the repository and in /work/shared/data)`,
    );
  }
  return sharedData;
}

// The subset file omits the interfaces Repository implements and the fields it does not need;
// these stubs (names and types as in GitHub's public schema) let graphql-js build it.
const subsetStubs = `
interface Node { id: ID! }
interface PackageOwner { id: ID! }
interface ProjectOwner { id: ID! }
interface ProjectV2Recent { id: ID! }
interface RepositoryInfo { name: String! }
interface Starrable { id: ID! }
interface Subscribable { id: ID! }
interface UniformResourceLocatable { url: URI! }
interface RepositoryOwner { id: ID! login: String! url: URI! }
scalar URI
extend type Repository { owner: RepositoryOwner! url: URI! }
`;

let subset: GraphQLSchema | undefined;
/** GitHub's GraphQL schema subset from ../shared/data, buildable. */
export function githubSubsetSchema(): GraphQLSchema {
  subset ??= buildSchema(
    readFileSync(`${requireSharedData()}/github-graphql-subset.graphql`, 'utf8') + subsetStubs,
    { assumeValid: true },
  );
  return subset;
}

/** Throws unless `query` is valid against GitHub's own schema subset. */
export function assertValidForGitHub(query: string): void {
  const errors = validate(githubSubsetSchema(), parse(query));
  if (errors.length) {
    throw new Error(
      `query is not valid for GitHub's schema: ${errors.map((e) => e.message).join('; ')}`,
    );
  }
}

/** OpenAPI 3.0 `nullable: true` becomes JSON Schema's `type: [T, "null"]` for ajv. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k !== 'nullable' && k !== 'example' && k !== 'examples') out[k] = toJsonSchema(v);
  }
  const o = node as Record<string, unknown>;
  if (o.nullable === true) {
    if (typeof o.type === 'string') out.type = [o.type, 'null'];
    if (Array.isArray(o.enum)) out.enum = [...o.enum, null];
    if (!o.type && !o.enum) return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

/** GitHub's OpenAPI subset, compiled with ajv: one validator per response this emulator sends. */
export function openapi() {
  const doc = JSON.parse(readFileSync(`${requireSharedData()}/github-openapi-subset.json`, 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'gh', components: toJsonSchema(doc.components) } as object);
  const schema = (path: string, status: string) => {
    const response = doc.paths[path].get.responses[status];
    const resolved = response.$ref
      ? doc.components.responses[response.$ref.split('/').pop()]
      : response;
    const s = resolved.content['application/json'].schema;
    return s.$ref ? { $ref: `gh${s.$ref}` } : { ...(toJsonSchema(s) as object), $id: undefined };
  };
  const compile = (s: object) => {
    const fn = ajv.compile(
      JSON.parse(JSON.stringify(s).replaceAll('"#/components', '"gh#/components')),
    );
    return (value: unknown, what: string) => {
      assert.ok(fn(value), `${what}: ${ajv.errorsText(fn.errors)}`);
    };
  };
  return {
    doc,
    listing: compile(schema('/repositories', '200')),
    languages: compile(schema('/repos/{owner}/{repo}/languages', '200')),
    rateLimit: compile(schema('/rate_limit', '200')),
    // The schema's own breaking change for 2026-03-10: `rate` removed, `resources` required.
    rateLimitWithoutRate: compile({
      ...(toJsonSchema(doc.components.schemas['rate-limit-overview']) as object),
      required: ['resources'],
      not: { required: ['rate'] },
    }),
    basicError: compile({ $ref: 'gh#/components/schemas/basic-error' }),
    serviceUnavailable: compile(
      doc.components.responses.service_unavailable.content['application/json'].schema,
    ),
    rateLimitSchema: doc.components.schemas['rate-limit-overview'],
  };
}

let compiled: ReturnType<typeof openapi> | undefined;

/**
 * Validates one REST response from the emulator against GitHub's OpenAPI subset, by route and
 * status. GraphQL responses, `/_emulator/*`, the HTML User-Agent refusal and bodiless responses
 * are outside the REST description and are skipped.
 */
export function validateRestResponse(
  url: string,
  status: number,
  contentType: string,
  text: string,
): void {
  if (text === '' || !contentType.startsWith('application/json')) return;
  const path = new URL(url).pathname;
  if (path === '/graphql' || path.startsWith('/_emulator/')) return;
  compiled ??= openapi();
  const body = JSON.parse(text);
  const what = `${status} ${path}`;
  if (status === 200 && path === '/repositories') compiled.listing(body, what);
  else if (status === 200 && path.endsWith('/languages')) compiled.languages(body, what);
  else if (status === 200 && path === '/rate_limit') {
    if ('rate' in body) compiled.rateLimit(body, what);
    else compiled.rateLimitWithoutRate(body, what);
  } else if (status === 503) compiled.serviceUnavailable(body, what);
  else if (status >= 300) compiled.basicError(body, what);
  else assert.fail(`no schema for ${what}`);
}
