/**
 * Entry point of a `ThreadPoolExecutor` worker thread.
 *
 * Waking a thread parked in its event loop costs tens of microseconds on a busy machine, a
 * thread parked in `Atomics.wait` a few. So when a batch is done and the worker holds nothing
 * that its event loop must serve (no timer, socket, file request or other handle, no async task
 * in progress), it parks in `Atomics.wait` for a short while and takes the next message with
 * `receiveMessageOnPort`; the parent bumps a shared counter after each message. Anything a task
 * left behind shows up as an active resource, and then the worker stays in its event loop.
 *
 * While batches keep coming, the worker stays in that loop instead of going once around its
 * event loop per batch (which costs as much as the task round trip itself when both threads
 * share a CPU): after each batch it runs the batch's `process.nextTick` callbacks and promise
 * reactions at once (`process._tickCallback`, which Node runs after every callback it makes),
 * then looks again. It goes back to the event loop once it has been in the loop for `PARK_MS`,
 * so even an unreferenced timer (not an active resource) is late by at most about twice that.
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

// How long an idle worker parks before going back to its event loop, and how long it may stay
// in the parking loop while batches keep coming.
const PARK_MS = 10;

// Runs pending nextTick callbacks and microtasks now (undocumented but present in Node 20 and
// 24). Without it, the worker goes around its event loop after every batch.
const drainTicks = (process as { _tickCallback?: () => void })._tickCallback?.bind(process);

if (parentPort === null) throw new Error('@forage/futures worker.js must run in a worker thread');
const port = parentPort;
const { init, wake } = workerData as ThreadWorkerData;

const runner = new Runner({
  post: (message) => port.postMessage(message),
  check: (value) => structuredClone(value),
});
let parkScheduled = false;

function run(message: unknown[], holdResults = false): void {
  if (message[0] === MSG_TASKS) {
    runner.runBatch(message[1] as FunctionDef[] | null, message[2] as unknown[], holdResults);
  } else if (message[0] === MSG_EXIT) process.exit(0);
}

function handle(message: unknown[]): void {
  run(message);
  schedulePark();
}

function schedulePark(): void {
  if (parkScheduled) return;
  parkScheduled = true;
  // After the microtasks of this batch (async tasks starting, results being flushed).
  setImmediate(park);
}

/** Only the port to the parent is active: parking blocks nothing a task could be waiting on. */
function nothingElseToServe(): boolean {
  if (!runner.idle) return false;
  const resources = process.getActiveResourcesInfo();
  return resources.length === 1 && resources[0] === 'MessagePort';
}

function park(): void {
  parkScheduled = false;
  const leaveAt = performance.now() + PARK_MS;
  let canPark = nothingElseToServe();
  while (canPark) {
    const seen = Atomics.load(wake, 0);
    let next = receiveMessageOnPort(port);
    if (next === undefined && Atomics.wait(wake, 0, seen, PARK_MS) !== 'timed-out') {
      next = receiveMessageOnPort(port);
    }
    if (next === undefined) return;
    if (drainTicks === undefined || performance.now() > leaveAt) {
      run(next.message as unknown[]);
      schedulePark();
      return;
    }
    // Everything the batch set off runs, and the worker decides whether it may park again,
    // before the results go out: sending them is the last step before waiting, so the parent
    // is woken by a thread that is about to sleep.
    run(next.message as unknown[], true);
    try {
      drainTicks();
      canPark = nothingElseToServe();
    } finally {
      // Even if a callback the batch set off throws (which ends the worker, as it would have
      // anyway), the batch's results go out first.
      runner.flush();
    }
  }
}

if (await runner.init(init)) port.on('message', handle);
