/** Entry point of a `ThreadPoolExecutor` worker thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { type FunctionDef, type InitPayload, MSG_EXIT, MSG_TASKS } from './protocol.js';
import { Runner } from './runner.js';

const port = parentPort;
if (port === null) throw new Error('@forage/futures worker.js must run in a worker thread');

const runner = new Runner({ post: (message) => port.postMessage(message) });
if (await runner.init(workerData as InitPayload)) {
  port.on('message', (message: unknown[]) => {
    if (message[0] === MSG_TASKS)
      runner.runBatch(message[1] as FunctionDef[] | null, message[2] as unknown[]);
    else if (message[0] === MSG_EXIT) process.exit(0);
  });
}
