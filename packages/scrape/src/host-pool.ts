/**
 * Per-host politeness: at most `concurrency` requests in flight to one host, starts spaced by
 * at least `delayMs`, and a host can be paused (after a 429/503 with `Retry-After`). Tasks
 * run in priority order, so index pages, which extend the frontier, overtake post pages.
 *
 * This is the one piece that decides *when* a request may start; swapping it for another
 * limiter only has to keep `run(host, task, priority)` and `pause(host, ms)`.
 */

interface Waiting {
  task: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  /** Removes the abort listener once the task starts. */
  started?: (() => void) | undefined;
}

class HostQueue {
  active = 0;
  nextStartAt = 0;
  pausedUntil = 0;
  timer: NodeJS.Timeout | undefined;
  /** One FIFO per priority level; higher levels first. */
  readonly levels = new Map<number, Waiting[]>();
  size = 0;

  push(priority: number, w: Waiting): void {
    let list = this.levels.get(priority);
    if (!list) {
      list = [];
      this.levels.set(priority, list);
    }
    list.push(w);
    this.size++;
  }

  shift(): Waiting | undefined {
    let best: number | undefined;
    for (const [p, list] of this.levels)
      if (list.length && (best === undefined || p > best)) best = p;
    if (best === undefined) return undefined;
    this.size--;
    return this.levels.get(best)!.shift();
  }

  /** Takes `w` out of the queue; false if it already left (started). */
  remove(w: Waiting): boolean {
    for (const list of this.levels.values()) {
      const i = list.indexOf(w);
      if (i === -1) continue;
      list.splice(i, 1);
      this.size--;
      return true;
    }
    return false;
  }
}

/** Options for {@link HostPool}. */
export interface HostPoolOptions {
  /** Requests in flight per host. Default 8. */
  concurrency?: number;
  /** Minimum milliseconds between the starts of two requests to one host. Default 0. */
  delayMs?: number;
}

/** A per-host concurrency limiter with priorities, spacing and pauses. */
export class HostPool {
  readonly concurrency: number;
  delayMs: number;
  readonly #hosts = new Map<string, HostQueue>();

  constructor(options: HostPoolOptions = {}) {
    this.concurrency = options.concurrency ?? 8;
    this.delayMs = options.delayMs ?? 0;
  }

  /**
   * Runs `task` when `host` has a free slot; higher `priority` goes first. When `signal` aborts
   * before the task starts, the task never runs and the promise rejects with the signal's
   * reason at once (a stopped crawl does not wait out the politeness delays of its queue).
   */
  run<T>(host: string, task: () => Promise<T>, priority = 0, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const q = this.#queue(host);
    return new Promise<T>((resolve, reject) => {
      const w: Waiting = { task, resolve: resolve as (v: unknown) => void, reject };
      if (signal) {
        const onAbort = () => {
          if (!q.remove(w)) return;
          if (q.size === 0 && q.timer) {
            clearTimeout(q.timer);
            q.timer = undefined;
          }
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        w.started = () => signal.removeEventListener('abort', onAbort);
      }
      q.push(priority, w);
      this.#pump(q);
    });
  }

  /** Holds every new request to `host` for `ms` milliseconds (requests in flight finish). */
  pause(host: string, ms: number): void {
    const q = this.#queue(host);
    q.pausedUntil = Math.max(q.pausedUntil, Date.now() + ms);
  }

  /** Requests waiting or running for `host`. */
  pending(host: string): number {
    const q = this.#hosts.get(host);
    return q ? q.size + q.active : 0;
  }

  #queue(host: string): HostQueue {
    let q = this.#hosts.get(host);
    if (!q) {
      q = new HostQueue();
      this.#hosts.set(host, q);
    }
    return q;
  }

  #pump(q: HostQueue): void {
    while (q.active < this.concurrency && q.size > 0) {
      const now = Date.now();
      const wait = Math.max(q.pausedUntil, q.nextStartAt) - now;
      if (wait > 0) {
        if (!q.timer) {
          q.timer = setTimeout(() => {
            q.timer = undefined;
            this.#pump(q);
          }, wait);
        }
        return;
      }
      const w = q.shift()!;
      w.started?.();
      q.active++;
      q.nextStartAt = this.delayMs > 0 ? now + this.delayMs : 0;
      w.task()
        .then(w.resolve, w.reject)
        .finally(() => {
          q.active--;
          this.#pump(q);
        });
    }
  }
}
