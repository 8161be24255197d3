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
