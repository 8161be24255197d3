// Shared helpers for the emulator tests: small HTTP calls against a running emulator.
import { request } from 'node:http';

export interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => any;
}

/** One HTTP request with node:http (so headers such as User-Agent are exactly what we pass). */
export function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text),
          });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.end(options.body);
  });
}

/** Headers of an authenticated client. */
export const as = (token: string, extra: Record<string, string> = {}) => ({
  authorization: `token ${token}`,
  'user-agent': 'forage-emulator-test',
  ...extra,
});

/** POSTs a GraphQL query. */
export function graphql(
  url: string,
  token: string,
  query: string,
  variables?: unknown,
): Promise<Got> {
  return call(`${url}/graphql`, {
    method: 'POST',
    headers: { ...as(token), 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
}

/** The census batch query (also validated against GitHub's schema in faithfulness.test.ts). */
export const batchQuery = `query($ids: [ID!]!) {
  rateLimit { cost limit nodeCount remaining resetAt used }
  nodes(ids: $ids) {
    ... on Repository {
      id databaseId name nameWithOwner owner { login } isFork
      primaryLanguage { name color }
      languages(first: 100, orderBy: { field: SIZE, direction: DESC }) {
        totalCount totalSize
        edges { size cursor node { id name color } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`;
