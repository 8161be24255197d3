/**
 * Runs one benchmark run in a fresh process and measures it from outside: the process reports
 * its own wall and CPU time; we sample the resident memory of its whole process tree.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface Measurement {
  /** The warm pass (workers started, JIT warm). */
  readonly wallMs: number;
  /** The first pass, including creating the executor. */
  readonly coldMs: number;
  readonly cpuMs: number;
  /** Peak resident memory of the run's process tree, sampled every 10 ms (Linux), in bytes. */
  readonly peakRssBytes: number;
  readonly checksum: number;
}

function readRss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
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

/** Resident memory of a process and all its descendants, in bytes (0 where /proc is missing). */
export function treeRss(pid: number): number {
  let total = 0;
  const stack = [pid];
  for (let seen = 0; stack.length > 0 && seen < 10_000; seen++) {
    const next = stack.pop()!;
    total += readRss(next);
    stack.push(...childPids(next));
  }
  return total;
}

/**
 * Spawns `command args`, samples its tree's memory until it exits, and parses the JSON line it
 * prints. Fails with the run's stderr when it exits badly or prints nothing useful.
 */
export function measure(command: string, args: readonly string[]): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const sample = () => {
      if (child.pid !== undefined) peak = Math.max(peak, treeRss(child.pid));
    };
    const timer = setInterval(sample, 10);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearInterval(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        const why = signal ? `signal ${signal}` : `exit code ${code}`;
        reject(new Error(`benchmark run "${args.at(-1)}" failed (${why}): ${stderr.trim()}`));
        return;
      }
      const parsed = JSON.parse(line) as Omit<Measurement, 'peakRssBytes'>;
      resolve({ ...parsed, peakRssBytes: peak });
    });
  });
}
