/** Entry point of a `ProcessPoolExecutor` child process. */

import { serialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import {
  type FunctionDef,
  type InitPayload,
  MSG_EXIT,
  MSG_HELLO,
  MSG_INIT,
  MSG_TASKS,
} from './protocol.js';
import { Runner } from './runner.js';

const send = process.send?.bind(process);
if (send === undefined)
  throw new Error('@forage/futures child.js must be started by ProcessPoolExecutor');

// A child never outlives its parent. When the IPC channel closes (the parent exited, was
// killed, or shut the pool down), exit as soon as the event loop gets control. A task or an
// initializer that never yields (a CPU-bound loop) would delay that forever, so a tiny watchdog
// thread also checks whether the child was orphaned and kills it. The parent passes its pid:
// a parent already gone by the time this runs (the child was re-parented) is seen at once.
const parentPid = Number(process.argv[2]) || process.ppid;
const ppid = process.ppid;
if (ppid !== parentPid && !isAlive(parentPid)) process.exit(0);
process.on('disconnect', () => process.exit(0));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

function startWatchdog(): void {
  const watchdog = new Worker(
    `const { ppid } = require('node:worker_threads').workerData;
     setInterval(() => { if (process.ppid !== ppid) process.kill(process.pid, 'SIGKILL'); }, 500);`,
    {
      eval: true,
      workerData: { ppid },
      resourceLimits: { maxOldGenerationSizeMb: 8 },
    },
  );
  watchdog.unref();
}

const runner = new Runner({
  post: (message) => {
    send(message);
  },
  // The IPC channel uses V8 serialisation ('advanced').
  check: (value) => serialize(value),
});

process.on('message', (message: unknown[]) => {
  switch (message[0]) {
    case MSG_TASKS:
      runner.runBatch(message[1] as FunctionDef[] | null, message[2] as unknown[]);
      break;
    case MSG_INIT:
      // Before the initializer, which may run for long without yielding.
      startWatchdog();
      void runner.init(message[1] as InitPayload);
      break;
    case MSG_EXIT:
      process.exit(0);
  }
});
send([MSG_HELLO]);
