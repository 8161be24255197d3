// Shared helpers for the emulator tests: small HTTP calls against a running emulator. Every
// REST body and GraphQL query they carry is checked against GitHub's own schemas
// (github-schemas.ts).
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { EmulatorOptions } from '@forage/github-emulator';
import { assertValidForGitHub, validateRestResponse } from './github-schemas.ts';

export {
  githubSubsetSchema,
  requireSharedData,
  sharedData,
} from './github-schemas.ts';

/** A response as the tests see it. */
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
          try {
            // Every REST body any test receives must match GitHub's description of it.
            const type = String(res.headers['content-type'] ?? '');
            validateRestResponse(url, res.statusCode ?? 0, type, text);
          } catch (error) {
            reject(error);
            return;
          }
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

/**
 * POSTs a GraphQL query. Every query is first validated against GitHub's schema subset, unless
 * it is deliberately broken (`githubValid: false`).
 */
export function graphql(
  url: string,
  token: string,
  query: string,
  variables?: unknown,
  githubValid = true,
): Promise<Got> {
  if (githubValid) assertValidForGitHub(query);
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

/** Starts an emulator in a child process; `close()` ends it (by closing its stdin, then by pid). */
export async function startInChild(
  options: EmulatorOptions,
): Promise<{ url: string; dataset: { startId: number }; close(): Promise<void> }> {
  const script = fileURLToPath(new URL('./fixtures/serve.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = (await Promise.race([
    createInterface({ input: child.stdout! })
      [Symbol.asyncIterator]()
      .next()
      .then((r) => [r.value]),
    new Promise((_, reject) =>
      child.once('exit', (code) => reject(new Error(`emulator exited ${code}`))),
    ),
  ])) as [string];
  const info = JSON.parse(line);
  return {
    ...info,
    close: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin!.end();
      const timer = setTimeout(() => child.kill(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * GETs many paths over a few keep-alive connections with HTTP/1.1 pipelining (up to `depth`
 * requests in flight per connection) and returns each response in the order asked. Far
 * cheaper per request than node:http's client, so a test can make 100,000 requests quickly.
 */
export async function pipelinedGet(
  base: string,
  paths: readonly string[],
  headers: Record<string, string>,
  connections = 4,
  depth = 64,
): Promise<{ status: number; body: string }[]> {
  const { hostname, port } = new URL(base);
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const out = new Array<{ status: number; body: string }>(paths.length);
  const { connect } = await import('node:net');
  let next = 0;
  const run = () =>
    new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), hostname);
      const queue: number[] = [];
      let buffer: Buffer = Buffer.alloc(0);
      const fill = () => {
        let text = '';
        while (queue.length < depth && next < paths.length) {
          queue.push(next);
          text += `GET ${paths[next++]} HTTP/1.1\r\nhost: ${hostname}\r\n${head}\r\n`;
        }
        if (text) socket.write(text);
        if (queue.length === 0) socket.end();
      };
      socket.on('connect', fill);
      socket.on('error', reject);
      socket.on('close', () =>
        queue.length ? reject(new Error('connection closed early')) : resolve(),
      );
      socket.on('data', (chunk: Buffer) => {
        buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
        for (;;) {
          const end = buffer.indexOf('\r\n\r\n');
          if (end < 0) break;
          const header = buffer.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length: (\d+)/i.exec(header)?.[1] ?? 0);
          if (buffer.length < end + 4 + length) break;
          out[queue.shift()!] = {
            status: Number(header.slice(9, 12)),
            body: buffer.subarray(end + 4, end + 4 + length).toString('utf8'),
          };
          buffer = buffer.subarray(end + 4 + length);
        }
        fill();
      });
    });
  await Promise.all(Array.from({ length: connections }, run));
  return out;
}
