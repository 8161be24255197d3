/**
 * Entry point of a `ThreadPoolExecutor` worker thread.
 *
 * Waking a thread parked in its event loop costs tens of microseconds on a busy machine, a
 * thread parked in `Atomics.wait` a few. So when a batch is done and the worker holds nothing
 * that its event loop must serve (no timer, socket, file request or other handle, no async task
 * in progress), it parks in `Atomics.wait` for a short while and takes the next message with
 * `receiveMessageOnPort`; the parent bumps a shared counter after each message. Anything a task
 * left behind shows up as an active resource, and then the worker stays in its event loop.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type FunctionDef, type InitPayload, MSG_EXIT, MSG_TASKS } from './protocol.js';
import { Runner } from './runner.js';

/** What a worker thread gets as `workerData`. @internal */
export interface ThreadWorkerData {
  init: InitPayload;
  /** `[0]` is bumped by the parent after each message it posts. */
  wake: Int32Array;
}

// How long an idle worker parks before going back to its event loop.
const PARK_MS = 10;

if (parentPort === null) throw new Error('@forage/futures worker.js must run in a worker thread');
const port = parentPort;
const { init, wake } = workerData as ThreadWorkerData;

const runner = new Runner({ post: (message) => port.postMessage(message) });
let parkScheduled = false;

function handle(message: unknown[]): void {
  if (message[0] === MSG_TASKS) {
    runner.runBatch(message[1] as FunctionDef[] | null, message[2] as unknown[]);
  } else if (message[0] === MSG_EXIT) process.exit(0);
  if (!parkScheduled) {
    parkScheduled = true;
    // After the microtasks of this batch (async tasks starting, results being flushed).
    setImmediate(park);
  }
}

/** Only the port to the parent is active: parking blocks nothing a task could be waiting on. */
function nothingElseToServe(): boolean {
  if (!runner.idle) return false;
  const resources = process.getActiveResourcesInfo();
  return resources.length === 1 && resources[0] === 'MessagePort';
}

function park(): void {
  parkScheduled = false;
  if (!nothingElseToServe()) return;
  const seen = Atomics.load(wake, 0);
  let next = receiveMessageOnPort(port);
  if (next === undefined && Atomics.wait(wake, 0, seen, PARK_MS) !== 'timed-out') {
    next = receiveMessageOnPort(port);
  }
  if (next !== undefined) handle(next.message as unknown[]);
}

if (await runner.init(init)) port.on('message', handle);
