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
// killed, or shut the pool down), exit as soon as the event loop gets control. A task that
// never yields (a CPU-bound loop) would delay that forever, so a tiny watchdog thread also
// checks whether the child was orphaned and kills it.
process.on('disconnect', () => process.exit(0));
function startWatchdog(): void {
  const watchdog = new Worker(
    `const { ppid } = require('node:worker_threads').workerData;
     setInterval(() => { if (process.ppid !== ppid) process.kill(process.pid, 'SIGKILL'); }, 500);`,
    {
      eval: true,
      workerData: { ppid: process.ppid },
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
      // Started after the initializer so that it does not delay the first task.
      void runner.init(message[1] as InitPayload).then(startWatchdog);
      break;
    case MSG_EXIT:
      process.exit(0);
  }
});
send([MSG_HELLO]);
