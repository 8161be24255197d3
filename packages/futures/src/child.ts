/** Entry point of a `ProcessPoolExecutor` child process. */
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

// A child never outlives its parent: when the IPC channel closes (the parent exited, was
// killed, or shut the pool down), exit as soon as the event loop gets control.
process.on('disconnect', () => process.exit(0));

const runner = new Runner({
  post: (message) => {
    send(message);
  },
});

process.on('message', (message: unknown[]) => {
  switch (message[0]) {
    case MSG_TASKS:
      runner.runBatch(message[1] as FunctionDef[] | null, message[2] as unknown[]);
      break;
    case MSG_INIT:
      void runner.init(message[1] as InitPayload);
      break;
    case MSG_EXIT:
      process.exit(0);
  }
});
send([MSG_HELLO]);
