import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CensusError, messageOf } from './errors.js';

/** The lock file in a census directory: held by the one run writing there. */
export const lockFile = 'census.lock';

/** A lock with no readable pid is only taken over once it is this old (ms). */
const unreadableStaleMs = 60_000;

/**
 * Lock files this process holds. A lock naming this process's pid that is not here was left by
 * an earlier process that had the same pid: a container restarted after a crash runs the
 * census as pid 1 again, and would otherwise be refused by its own dead lock forever.
 */
const heldHere = new Set<string>();

/** What a lock file says about its holder. */
interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
}

/** A held lock on a census directory. */
export interface CensusLock {
  readonly path: string;
  /** Removes the lock file (once; errors are ignored: the next run finds a dead pid). */
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock on census directory `dir`: creates `census.lock` (flag `wx`) holding
 * this process's pid. A lock whose pid is not alive on this host is stale (a run killed with
 * `kill -9`) and is taken over. A live holder is an `ERR_CENSUS_OUTPUT` naming the directory,
 * the pid and the fix: two runs appending to the same journals would write every repository
 * twice.
 */
export async function lockCensus(dir: string): Promise<CensusLock> {
  const path = join(dir, lockFile);
  const host = hostname();
  const content = `${JSON.stringify({ pid: process.pid, hostname: host, startedAt: new Date().toISOString() })}\n`;
  // Bounded: each turn either creates the lock, fails, or removes one stale lock.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(content);
      } finally {
        await handle.close();
      }
      let released = false;
      heldHere.add(path);
      return {
        path,
        release: async () => {
          if (released) return;
          released = true;
          heldHere.delete(path);
          await unlink(path).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST') {
        throw new CensusError(
          'ERR_CENSUS_OUTPUT',
          `cannot create ${path} (${messageOf(error)}): check that --out ${dir} is a writable directory`,
        );
      }
    }
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue; // removed meanwhile: try again
    const owner = parseOwner(text);
    if (owner === undefined) {
      // Unreadable: a holder between creating and writing it, or a crash right then.
      const age = await stat(path).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age < unreadableStaleMs) throw heldError(dir, path, undefined);
    } else if (owner.hostname !== host || (alive(owner.pid) && !leftByEarlierSelf(owner, path))) {
      throw heldError(dir, path, owner);
    }
    // Stale: remove it, unless another run replaced it in the meantime.
    const again = await readFile(path, 'utf8').catch(() => undefined);
    if (again === text) await unlink(path).catch(() => {});
  }
  throw new CensusError(
    'ERR_CENSUS_OUTPUT',
    `cannot lock --out ${dir}: ${path} keeps being created by other runs; run one census at a time in a directory`,
  );
}

/** A lock with our own pid that this process does not hold (see {@link heldHere}). */
function leftByEarlierSelf(owner: LockOwner, path: string): boolean {
  return owner.pid === process.pid && !heldHere.has(path);
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isSafeInteger(o.pid) && (o.pid as number) > 0 && typeof o.hostname === 'string') {
      return { pid: o.pid as number, hostname: o.hostname };
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

function heldError(dir: string, path: string, owner: LockOwner | undefined): CensusError {
  const who = owner
    ? `process ${owner.pid}${owner.hostname === hostname() ? '' : ` on ${owner.hostname}`}`
    : 'another process';
  return new CensusError(
    'ERR_CENSUS_OUTPUT',
    `--out ${dir} is in use by another census (${who}, lock ${path}): wait for it to finish or stop it, choose another --out, or delete ${path} if no census is running there`,
  );
}
