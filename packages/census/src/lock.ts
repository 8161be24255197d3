import { type FileHandle, open, readFile, stat, unlink } from 'node:fs/promises';
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
export interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** Which process instance had the pid (see {@link instanceOf}); absent in older locks. */
  readonly instance?: string;
}

/** A held lock file. */
export interface FileLock {
  readonly path: string;
  /** Removes the lock file (once; errors are ignored: the next run finds a dead pid). */
  release(): Promise<void>;
}

/** A held lock on a census directory. */
export type CensusLock = FileLock;

/** The errors {@link acquireLock} throws, worded by its caller for what the lock guards. */
export interface LockErrors {
  /** The lock is held by a live process (`owner`), or is being written (`undefined`). */
  held(owner: LockOwner | undefined): Error;
  /** The lock file cannot be created (a missing or read-only directory...). */
  unwritable(error: unknown): Error;
  /** Other processes keep creating the lock (the attempts ran out). */
  contended(): Error;
}

/**
 * Takes the exclusive lock on census directory `dir` (`census.lock`, see {@link acquireLock}).
 * A live holder is an `ERR_CENSUS_OUTPUT` naming the directory, the pid and the fix: two runs
 * appending to the same journals would write every repository twice.
 */
export function lockCensus(dir: string): Promise<CensusLock> {
  const path = join(dir, lockFile);
  return acquireLock(path, {
    held: (owner) => heldError(dir, path, owner),
    unwritable: (error) =>
      new CensusError(
        'ERR_CENSUS_OUTPUT',
        `cannot create ${path} (${messageOf(error)}): check that --out ${dir} is a writable directory`,
      ),
    contended: () =>
      new CensusError(
        'ERR_CENSUS_OUTPUT',
        `cannot lock --out ${dir}: ${path} keeps being created by other runs; run one census at a time in a directory`,
      ),
  });
}

/**
 * Takes the exclusive lock file `path`: creates it (flag `wx`) holding this process's pid and,
 * where /proc tells, its instance (boot and start time). A lock whose pid is not alive on this
 * host is stale (a run killed with `kill -9`) and is taken over; so is one whose pid is alive
 * but is another instance than the one recorded (the dead run's pid, reused by an unrelated
 * process). A lock without an instance (an older one, or written where /proc is missing) is
 * held while its pid is alive. A live holder, on this host or another, is `errors.held(owner)`.
 *
 * Only one run at a time may remove a stale lock: it must first create `PATH.takeover` (flag
 * `wx`) and check again, under it, that the lock is the stale one it read. Without that, two runs
 * started together could both read the stale lock, and the second's removal could delete the
 * lock the first had just created, leaving both running.
 */
export async function acquireLock(path: string, errors: LockErrors): Promise<FileLock> {
  const host = hostname();
  const instance = await instanceOf(process.pid);
  const content = `${JSON.stringify({ pid: process.pid, hostname: host, startedAt: new Date().toISOString(), ...(instance ? { instance } : {}) })}\n`;
  // Bounded: each turn creates the lock, fails, removes one stale lock or waits a few ms for
  // another run's takeover, which takes milliseconds.
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const lock = await tryCreate(path, content, errors);
    if (lock !== undefined) return lock;
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue; // removed meanwhile: try again
    const owner = parseOwner(text);
    if (owner === undefined) {
      // Unreadable: a holder between creating and writing it, or a crash right then.
      if ((await ageMs(path)) < unreadableStaleMs) throw errors.held(undefined);
    } else if (
      owner.hostname !== host ||
      (alive(owner.pid) && !leftByEarlierSelf(owner, path) && !(await reusedPid(owner)))
    ) {
      throw errors.held(owner);
    }
    if (!(await removeStale(path, text))) await sleep(takeoverWaitMs);
  }
  throw errors.contended();
}

const maxAttempts = 200;
/** How long to wait while another run takes a stale lock over. */
const takeoverWaitMs = 10;
/** A takeover file this old was left by a run that died while taking over. */
const staleTakeoverMs = 10_000;

/** Creates the lock file, or returns undefined if it exists. */
async function tryCreate(
  path: string,
  content: string,
  errors: LockErrors,
): Promise<FileLock | undefined> {
  try {
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EEXIST') return undefined;
    throw errors.unwritable(error);
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
}

/**
 * Removes the lock at `path` if it still reads `stale`, holding the takeover file meanwhile.
 * Returns false when another run is taking over (the caller waits and looks again).
 */
async function removeStale(path: string, stale: string): Promise<boolean> {
  const takeover = `${path}.takeover`;
  let handle: FileHandle;
  try {
    handle = await open(takeover, 'wx');
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
    // Left by a run that died in the middle of a takeover (it takes milliseconds).
    if ((await ageMs(takeover)) > staleTakeoverMs) await unlink(takeover).catch(() => {});
    return false;
  }
  try {
    await handle.close();
    // Under the takeover file nobody else removes the lock: if it still reads the same, it is
    // the stale one (its holder is dead and cannot release it), not a lock created since.
    const again = await readFile(path, 'utf8').catch(() => undefined);
    if (again === stale) await unlink(path).catch(() => {});
    return true;
  } finally {
    await unlink(takeover).catch(() => {});
  }
}

/** How old the file is (ms); 0 if it is gone. */
function ageMs(path: string): Promise<number> {
  return stat(path).then(
    (s) => Date.now() - s.mtimeMs,
    () => 0,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A lock with our own pid that this process does not hold (see {@link heldHere}). */
function leftByEarlierSelf(owner: LockOwner, path: string): boolean {
  return owner.pid === process.pid && !heldHere.has(path);
}

/**
 * What tells this instance of process `pid` from another that gets the same pid later: the boot
 * (`/proc/sys/kernel/random/boot_id`) and the start time in clock ticks after boot (field 22 of
 * `/proc/PID/stat`). Undefined where /proc cannot tell (not Linux, or the process is gone).
 */
async function instanceOf(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 2, the command in parentheses, may hold spaces and ')': fields 3 on follow the last ')'.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    if (start === undefined || !/^\d+$/.test(start)) return undefined;
    const boot = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '');
    return `${boot.trim()}:${start}`;
  } catch {
    return undefined;
  }
}

/**
 * The lock's pid now belongs to another process than the one that wrote it: the lock recorded
 * an instance, and /proc names a different one for that pid.
 */
async function reusedPid(owner: LockOwner): Promise<boolean> {
  if (owner.instance === undefined) return false;
  const now = await instanceOf(owner.pid);
  return now !== undefined && now !== owner.instance;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isSafeInteger(o.pid) && (o.pid as number) > 0 && typeof o.hostname === 'string') {
      return typeof o.instance === 'string' && o.instance.length > 0
        ? { pid: o.pid as number, hostname: o.hostname, instance: o.instance }
        : { pid: o.pid as number, hostname: o.hostname };
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
