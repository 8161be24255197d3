import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LanguageRecord, RepoRecord } from '@forage/census';
import { type EmulatorOptions, startEmulator } from '@forage/github-emulator';

/** Something with `after`, as node:test's test context. */
export interface Cleanup {
  after(fn: () => unknown): void;
}

/**
 * A loopback HTTP server for one test, closed after it (open connections too); its base URL,
 * which the handler also gets.
 */
export async function mock(
  t: Cleanup,
  handler: (req: IncomingMessage, res: ServerResponse, base: string) => void,
): Promise<string> {
  let base = '';
  const srv = createServer((req, res) => handler(req, res, base));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    srv.closeAllConnections();
    return new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return base;
}

/**
 * A three-repository API whose repository 2 answers its languages request with a redirect to
 * an unusable Location while `broken()` is true: a failure the census records as `error` at
 * once (no retries to wait for). Counts the languages requests per repository.
 */
export async function badRedirectApi(t: Cleanup, broken: () => boolean = () => true) {
  const hits = new Map<number, number>();
  const base = await mock(t, (req, res, base) => {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const path = req.url ?? '';
    if (path.startsWith('/rate_limit')) return json(200, { resources: {} });
    if (path.startsWith('/repositories')) {
      const since = Number(new URL(path, base).searchParams.get('since'));
      const repo = (id: number) => ({
        id,
        node_id: `N${id}`,
        full_name: `o/r${id}`,
        fork: false,
        languages_url: `${base}/repos/o/r${id}/languages`,
      });
      return json(200, [1, 2, 3].filter((i) => i > since).map(repo));
    }
    const id = Number(/^\/repos\/o\/r(\d+)\/languages$/.exec(path)?.[1]);
    hits.set(id, (hits.get(id) ?? 0) + 1);
    if (id === 2 && broken()) {
      return json(301, { message: 'Moved Permanently' }, { location: 'http://[oops' });
    }
    return json(200, { C: 10 * id });
  });
  return { base, hits };
}

/** A fresh temporary directory, removed after the test. */
export function tempDir(t: Cleanup, prefix = 'census-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts the emulator for one test and closes it afterwards. */
export async function emulator(t: Cleanup, options: EmulatorOptions = {}) {
  const emu = await startEmulator(options);
  t.after(() => emu.close());
  return emu;
}

/** Reads a JSONL file. */
export function readJsonl<T>(path: string): T[] {
  const text = readFileSync(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

/** A census directory's records, keyed by id; fails on duplicates. */
export function censusById(dir: string): {
  repos: Map<number, RepoRecord>;
  languages: Map<number, LanguageRecord>;
} {
  const repos = new Map<number, RepoRecord>();
  for (const r of readJsonl<RepoRecord>(join(dir, 'repos.jsonl'))) {
    if (repos.has(r.id)) throw new Error(`duplicate repo ${r.id} in ${dir}`);
    repos.set(r.id, r);
  }
  const languages = new Map<number, LanguageRecord>();
  for (const r of readJsonl<LanguageRecord>(join(dir, 'languages.jsonl'))) {
    if (languages.has(r.id)) throw new Error(`duplicate languages record ${r.id} in ${dir}`);
    languages.set(r.id, r);
  }
  return { repos, languages };
}

/** Sorted entries, for comparing two censuses as sets keyed by id. */
export function sorted<T>(map: Map<number, T>): Array<[number, T]> {
  return [...map.entries()].sort((a, b) => a[0] - b[0]);
}

/** Rates that make every status common in a small synthetic dataset. */
export const eventfulRates = {
  missing: 0.02,
  dmca: 0.01,
  tos: 0.01,
  unavailable: 0.01,
  renamed: 0.02,
};

/** Retries fast enough for tests. */
export const quickRetry = { attempts: 8, baseMs: 5, maxMs: 50 };
