/**
 * Starts real `forage worker` processes (the compiled CLI, under tsx so that the `.ts` task
 * fixtures import) and stops them by pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const forageBin = fileURLToPath(new URL('../../../cli/dist/bin.js', import.meta.url));

/** A running `forage` subprocess. */
export interface ForageProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Everything written to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (or signal name) once the process exits. */
  readonly exited: Promise<number | string>;
  /** Waits until stderr contains `text`, or fails after `timeoutMs`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** SIGINT (Ctrl-C), then wait for the exit and return its code. */
  interrupt(): Promise<number | string>;
}

/** Runs `forage ...args` as a child process of this test. */
export function spawnForage(args: string[], env: NodeJS.ProcessEnv = {}): ForageProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', forageBin, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  const listeners = new Set<() => void>();
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    for (const fn of listeners) fn();
  });
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  // Settles once the output is read too ('close'), which can come after the exit; bounded, in
  // case a process the child started keeps its pipes open.
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      const settle = () => {
        clearTimeout(timer);
        resolve(code ?? signal ?? 'unknown');
        for (const fn of listeners) fn();
      };
      const timer = setTimeout(settle, 2000);
      proc.once('close', settle);
    });
  });
  const waitFor = (text: string | RegExp, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const matches = () => (typeof text === 'string' ? err.includes(text) : text.test(err));
      const check = () => {
        if (matches()) {
          finish();
          resolve();
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          finish();
          reject(
            new Error(
              `forage ${args[0]} exited (${proc.exitCode ?? proc.signalCode}) before printing ${text}; stderr:\n${err}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `forage ${args[0]} did not print ${text} within ${timeoutMs} ms; stderr:\n${err}`,
          ),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return {
    proc,
    pid: proc.pid ?? -1,
    stderr: () => err,
    stdout: () => out,
    exited,
    waitFor,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    interrupt: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      return exited;
    },
  };
}

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  concurrency?: number;
  /** Short locks so that a killed worker's job is retried within a few seconds (default 3000). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/** Starts `forage worker` on `queueName` and waits until it is ready. */
export async function startWorker(
  url: string,
  queueName: string,
  options: WorkerOptions = {},
): Promise<ForageProcess> {
  const worker = spawnForage([
    'worker',
    '--queue',
    url,
    '--queue-name',
    queueName,
    '--concurrency',
    String(options.concurrency ?? 4),
    '--lock-duration',
    String(options.lockDurationMs ?? 3000),
    '--stalled-interval',
    String(options.stalledIntervalMs ?? 1000),
  ]);
  await worker.waitFor('ready on');
  return worker;
}
