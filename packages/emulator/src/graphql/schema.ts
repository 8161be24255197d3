/**
 * The GraphQL schema the emulator serves: the part of GitHub's public schema a language census
 * uses. Every type and field here has the same name, type and arguments as in GitHub's schema
 * (a test checks this against ../shared/data/github-graphql-subset.graphql).
 */
import { buildSchema, type GraphQLSchema } from 'graphql';

const sdl = /* GraphQL */ `
scalar DateTime
scalar URI

interface Node {
  id: ID!
}

interface RepositoryOwner {
  id: ID!
  login: String!
  url: URI!
}

type Query {
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  rateLimit(dryRun: Boolean = false): RateLimit
  repository(followRenames: Boolean = true, name: String!, owner: String!): Repository
}

type User implements Node & RepositoryOwner {
  databaseId: Int
  id: ID!
  login: String!
  url: URI!
}

type Organization implements Node & RepositoryOwner {
  databaseId: Int
  id: ID!
  login: String!
  url: URI!
}

type Repository implements Node {
  createdAt: DateTime!
  databaseId: Int
  diskUsage: Int
  id: ID!
  isArchived: Boolean!
  isDisabled: Boolean!
  isEmpty: Boolean!
  isFork: Boolean!
  isLocked: Boolean!
  isPrivate: Boolean!
  languages(after: String, before: String, first: Int, last: Int, orderBy: LanguageOrder): LanguageConnection
  name: String!
  nameWithOwner: String!
  owner: RepositoryOwner!
  primaryLanguage: Language
  url: URI!
}

type Language implements Node {
  color: String
  id: ID!
  name: String!
}

type LanguageConnection {
  edges: [LanguageEdge]
  nodes: [Language]
  pageInfo: PageInfo!
  totalCount: Int!
  totalSize: Int!
}

type LanguageEdge {
  cursor: String!
  node: Language!
  size: Int!
}

input LanguageOrder {
  direction: OrderDirection!
  field: LanguageOrderField!
}

enum LanguageOrderField {
  SIZE
}

enum OrderDirection {
  ASC
  DESC
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}

type RateLimit {
  cost: Int!
  limit: Int!
  nodeCount: Int!
  remaining: Int!
  resetAt: DateTime!
  used: Int!
}
`;

/** The SDL text of the served schema. */
export const emulatorSchemaSdl: string = sdl;

let cached: GraphQLSchema | undefined;
/** The served schema (built once). */
export function emulatorSchema(): GraphQLSchema {
  cached ??= buildSchema(sdl);
  return cached;
}
