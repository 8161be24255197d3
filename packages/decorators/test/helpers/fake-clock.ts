/**
 * A fake clock for retry and cache tests: `sleep` advances `now` at once and records the delay,
 * so backoff schedules are checked exactly without waiting.
 */
export class FakeClock {
  time = 0;
  readonly sleeps: number[] = [];

  now = (): number => this.time;

  advance(ms: number): void {
    this.time += ms;
  }

  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.time += ms;
  };
}

/** A promise with its resolve and reject exposed (Node 20 lacks Promise.withResolvers). */
export function deferred<T = void>() {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued microtasks and promise callbacks run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
