/**
 * GitHub's GraphQL cost and node-limit rules, applied before a query runs:
 * - every connection needs `first` or `last`, each one given between 1 and 100;
 * - `nodes(ids:)` takes at most 100 ids;
 * - cost = max(1, round(requests / 100)), where each connection counts one request per parent
 *   object it may be fetched for (so `nodes` x 100 with `languages(first: 100)` costs 1);
 * - node count = every object the query may return; at most 500,000.
 */
import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  getArgumentValues,
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** A GitHub-style GraphQL error (GitHub puts `type` at the top level, not in extensions). */
export interface GitHubGraphQLError {
  type?: string;
  code?: string;
  path?: (string | number)[];
  locations?: { line: number; column: number }[];
  message: string;
}

/** What a query will cost, or why it may not run. */
export type CostResult =
  | { ok: true; cost: number; nodeCount: number; dryRun: boolean }
  | { ok: false; errors: GitHubGraphQLError[] };

const MAX_NODES = 500_000;
const MAX_PAGE = 100;

interface Walk {
  requests: number;
  nodes: number;
  dryRun: boolean;
  errors: GitHubGraphQLError[];
}

function location(node: FieldNode) {
  const loc = node.loc;
  return loc ? [{ line: loc.startToken.line, column: loc.startToken.column }] : undefined;
}

/** Computes cost and node count for the operation, with variables applied. */
export function queryCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): CostResult {
  const walk: Walk = { requests: 0, nodes: 0, dryRun: false, errors: [] };
  const root = schema.getQueryType()!;
  visit(schema, root, operation.selectionSet, 1, [], fragments, variables, walk);
  if (walk.errors.length > 0) return { ok: false, errors: walk.errors };
  if (walk.nodes > MAX_NODES) {
    return {
      ok: false,
      errors: [
        {
          type: 'MAX_NODE_LIMIT_EXCEEDED',
          message: `By the time this query traverses to the nodes connection, it is requesting up to ${walk.nodes} possible nodes which exceeds the maximum limit of ${MAX_NODES}.`,
        },
      ],
    };
  }
  return {
    ok: true,
    cost: Math.max(1, Math.round(walk.requests / 100)),
    nodeCount: walk.nodes,
    dryRun: walk.dryRun,
  };
}

/**
 * The most records a connection may return, or undefined after recording why it may not run.
 * GitHub requires `first` or `last` and allows 1..100 for each one given. Both together are
 * allowed (GitHub's docs do not forbid it; the Relay algorithm takes the first `first`, then the
 * last `last` of those), so each is checked and the page is the smaller of the two.
 */
function pageSize(
  connection: string,
  args: Record<string, unknown>,
  path: (string | number)[],
  locations: GitHubGraphQLError['locations'],
  walk: Walk,
): number | undefined {
  const given = (['first', 'last'] as const).filter((name) => typeof args[name] === 'number');
  if (given.length === 0) {
    walk.errors.push({
      type: 'MISSING_PAGINATION_BOUNDARIES',
      path,
      locations,
      message: `You must provide a \`first\` or \`last\` value to properly paginate the \`${connection}\` connection.`,
    });
    return undefined;
  }
  let n = MAX_PAGE;
  for (const name of given) {
    const value = args[name] as number;
    if (value >= 1 && value <= MAX_PAGE) {
      n = Math.min(n, value);
      continue;
    }
    walk.errors.push({
      type: 'EXCESSIVE_PAGINATION',
      path,
      locations,
      message:
        value > MAX_PAGE
          ? `Requesting ${value} records on the \`${connection}\` connection exceeds the \`${name}\` limit of ${MAX_PAGE} records.`
          : `Requesting ${value} records on the \`${connection}\` connection is below the minimum: \`${name}\` must be between 1 and ${MAX_PAGE}.`,
    });
    return undefined;
  }
  return n;
}

function visit(
  schema: GraphQLSchema,
  parent: GraphQLObjectType | { getFields(): Record<string, GraphQLField<unknown, unknown>> },
  selectionSet: SelectionSetNode,
  multiplier: number,
  path: (string | number)[],
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  walk: Walk,
): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT || selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment =
        selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments[selection.name.value];
      if (!fragment) continue;
      const typeName = fragment.typeCondition?.name.value;
      const type = typeName ? schema.getType(typeName) : undefined;
      const target = type && (isObjectType(type) || isAbstractType(type)) ? type : parent;
      visit(
        schema,
        target as GraphQLObjectType,
        fragment.selectionSet,
        multiplier,
        path,
        fragments,
        variables,
        walk,
      );
      continue;
    }
    const field = parent.getFields()[selection.name.value];
    if (!field) continue;
    const key = selection.alias?.value ?? selection.name.value;
    const args = getArgumentValues(field, selection, variables) as Record<string, unknown>;
    const named = getNamedType(field.type);
    let childMultiplier = multiplier;
    if (field.name === 'rateLimit' && args.dryRun === true) walk.dryRun = true;
    if (field.name === 'nodes' && Array.isArray(args.ids)) {
      const n = args.ids.length;
      if (n > MAX_PAGE) {
        walk.errors.push({
          type: 'ARGUMENT_LIMIT',
          path: [...path, key],
          locations: location(selection),
          message: `You may not provide more than ${MAX_PAGE} node ids; you provided ${n}.`,
        });
        continue;
      }
      walk.nodes += multiplier * n;
      childMultiplier = multiplier * n;
    } else if (named.name.endsWith('Connection')) {
      const n = pageSize(field.name, args, [...path, key], location(selection), walk);
      if (n === undefined) continue;
      walk.requests += multiplier;
      walk.nodes += multiplier * n;
      childMultiplier = multiplier * n;
    }
    if (selection.selectionSet && (isObjectType(named) || isAbstractType(named))) {
      visit(
        schema,
        named as GraphQLObjectType,
        selection.selectionSet,
        childMultiplier,
        [...path, key],
        fragments,
        variables,
        walk,
      );
    }
  }
}
