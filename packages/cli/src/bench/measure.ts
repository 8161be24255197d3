/**
 * Runs one benchmark run in a fresh process and measures it from outside: the process reports
 * its own wall and CPU time; we sample the resident memory of its whole process tree (treeMemory).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface Measurement {
  /** The warm pass (workers started, JIT warm). */
  readonly wallMs: number;
  /** The first pass, including creating the executor. */
  readonly coldMs: number;
  readonly cpuMs: number;
  /**
   * Peak resident memory of the run's process tree, sampled every 10 ms (Linux), in bytes: see
   * treeMemory (private memory summed, shared code once; the name is older than that).
   */
  readonly peakRssBytes: number;
  readonly checksum: number;
}

/** One process's resident memory: its own (anonymous and shmem) and its file-backed part. */
function readMemory(pid: number): { own: number; file: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return match ? Number(match[1]) * 1024 : undefined;
    };
    const anon = kb('RssAnon');
    const file = kb('RssFile');
    if (anon === undefined || file === undefined) return { own: kb('VmRSS') ?? 0, file: 0 };
    return { own: anon + (kb('RssShmem') ?? 0), file };
  } catch {
    return { own: 0, file: 0 };
  }
}

/**
 * How `treeMemory` sums a process tree on this system: 'private+code-once' where
 * /proc/<pid>/status has RssAnon and RssFile (Linux 4.5 and later), 'rss-sum' where it has only
 * VmRSS, 'none' without /proc.
 */
export function memoryKind(): 'private+code-once' | 'rss-sum' | 'none' {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    return /^RssAnon:/m.test(status) && /^RssFile:/m.test(status) ? 'private+code-once' : 'rss-sum';
  } catch {
    return 'none';
  }
}

/** What `peak MB` means on this system, for the output. */
export function memoryNote(): string {
  const kind = memoryKind();
  if (kind === 'none') return 'peak MB: not measured (no /proc on this system)';
  const how =
    kind === 'private+code-once'
      ? "each process's private memory summed, the code mapped from files (Node's or Python's binary and libraries) counted once"
      : "the sum of each process's RSS (this kernel gives no RssAnon), which counts the code they share once per process";
  return `peak MB: the run's whole process tree at its peak, sampled every 10 ms: ${how}.`;
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) for (const child of text.split(' ')) out.push(Number(child));
    }
  } catch {
    // The process has exited, or this is not Linux.
  }
  return out;
}

/**
 * Resident memory of a process and all its descendants, in bytes (0 where /proc is missing):
 * each process's private memory (RssAnon + RssShmem) summed, and the file-backed pages (RssFile:
 * Node's binary and libraries, which every process of the tree maps) counted once, as the
 * largest in the tree. Summing VmRSS instead would count those shared pages once per process
 * (~34 MB per Node process). Where status lacks RssAnon/RssFile, the sum of VmRSS (memoryKind).
 * PSS (smaps_rollup) is not used: reading it walks the page tables, 0.5 ms per idle Node process
 * and ~4 ms per 200 MB one against ~15 µs for status, too costly every 10 ms beside a run on a
 * small machine, and it divides the binary's pages among unrelated processes on the machine.
 */
export function treeMemory(pid: number): number {
  let own = 0;
  let file = 0;
  const stack = [pid];
  for (let seen = 0; stack.length > 0 && seen < 10_000; seen++) {
    const next = stack.pop()!;
    const m = readMemory(next);
    own += m.own;
    file = Math.max(file, m.file);
    stack.push(...childPids(next));
  }
  return own + file;
}

/** Sends SIGTERM to a process and all its descendants (found before any of them is signalled). */
function killTree(pid: number): void {
  const pids: number[] = [];
  const stack = [pid];
  for (let seen = 0; stack.length > 0 && seen < 10_000; seen++) {
    const next = stack.pop()!;
    pids.push(next);
    stack.push(...childPids(next));
  }
  for (const p of pids) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
}

/**
 * The line of a run's stderr that says what went wrong: the last one naming an error or an
 * exception (Python's traceback ends with it; Node's stack follows it), else the last line.
 */
function errorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const named = lines.filter((l) => /(Error|Exception)\b/.test(l) && !l.startsWith('at '));
  return named.at(-1) ?? lines.at(-1) ?? 'nothing on stderr';
}

/**
 * Spawns `command args`, samples its tree's memory until it exits, and parses the JSON line it
 * prints. Fails with the error line of its stderr when it exits badly, or with what it printed
 * when that is not a result.
 */
export function measure(
  command: string,
  args: readonly string[],
  signal?: AbortSignal,
  deadlineMs = Number.POSITIVE_INFINITY,
): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Stopped (Ctrl-C), or past its deadline (a run that hangs): the run and everything it
    // started go. A signal to forage alone (kill, timeout) reaches none of them, and Python's
    // pool workers do not notice their parent die.
    const stop = (reason: unknown) => {
      if (child.pid !== undefined) killTree(child.pid);
      reject(reason);
    };
    const onAbort = () => stop(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const deadline = Number.isFinite(deadlineMs)
      ? setTimeout(
          () => stop(new Error(`did not finish within ${Math.round(deadlineMs / 1000)} s`)),
          deadlineMs,
        )
      : undefined;
    const done = () => {
      clearInterval(timer);
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
    };
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const sample = () => {
      if (child.pid !== undefined) peak = Math.max(peak, treeMemory(child.pid));
    };
    const timer = setInterval(sample, 10);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', (error) => {
      done();
      reject(error);
    });
    child.on('close', (code, killedBy) => {
      done();
      const line = stdout.trim().split('\n').pop() ?? '';
      let parsed: Omit<Measurement, 'peakRssBytes'> | undefined;
      try {
        if (code === 0) parsed = JSON.parse(line);
      } catch {
        // Not a result (a run cut short, a python3 that is not Python): rejected below, not
        // thrown from this event handler, which would crash the command with a stack trace.
      }
      if (code !== 0) {
        const why = killedBy ? `signal ${killedBy}` : `exit code ${code}`;
        reject(new Error(`failed (${why}): ${errorLine(stderr)}`));
        return;
      }
      if (parsed === undefined || typeof parsed !== 'object' || parsed === null) {
        reject(
          new Error(`printed no result (its last line: ${JSON.stringify(line.slice(0, 80))})`),
        );
        return;
      }
      resolve({ ...parsed, peakRssBytes: peak });
    });
  });
}
