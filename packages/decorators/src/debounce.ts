/**
 * `debounce({ waitMs })`: collapse a burst of calls into one. The function runs `waitMs` after
 * the last call of the burst (or at the latest `maxWaitMs` after the first), with the last
 * call's arguments, and every call of the burst gets that one result.
 */
import { CancelledError, InvalidOptionError } from './errors.js';
import { MAX_TIMER_MS } from './signal.js';
import {
  type AnyFunction,
  controlOf,
  makeDecorator,
  perReceiver,
  registerControl,
  type WrapInfo,
} from './wrap.js';

/** Options of {@link debounce}. */
export interface DebounceOptions {
  /** How long the calls must pause before the function runs, in ms. */
  waitMs: number;
  /** Run at the latest this long after the first call of a burst, in ms (default: no limit). */
  maxWaitMs?: number;
}

/**
 * The type of `debounce(...)`: on a method it accepts methods returning nothing or a promise
 * (a debounced call cannot return a value synchronously); on a function it returns the async
 * version, whose promise settles with the result of the run that served the call.
 */
export interface DebounceDecorator {
  // biome-ignore lint/suspicious/noConfusingVoidType: methods declared `(): void` must be accepted
  <This, F extends (this: This, ...args: any[]) => void | PromiseLike<unknown>>(
    value: F,
    context: ClassMethodDecoratorContext<This, F>,
  ): F;
  // biome-ignore lint/suspicious/noConfusingVoidType: methods declared `(): void` must be accepted
  <T extends (this: any, ...args: any[]) => void | PromiseLike<unknown>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): void;
  <This, A extends unknown[], R>(
    fn: (this: This, ...args: A) => R,
    notADecoratorContext?: undefined,
  ): (this: This, ...args: A) => Promise<Awaited<R>>;
}

interface Waiting {
  promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

const ignore = () => {};
const passThrough = (value: unknown): unknown => value;

class Burst {
  timer: ReturnType<typeof setTimeout> | undefined;
  firstAt = 0;
  self: unknown;
  args: unknown[] = [];
  waiting: Waiting[] = [];

  constructor(
    readonly fn: AnyFunction,
    readonly options: DebounceOptions,
  ) {}

  call(self: unknown, args: unknown[]): Promise<unknown> {
    const now = Date.now();
    if (this.waiting.length === 0) this.firstAt = now;
    this.self = self;
    this.args = args;
    let resolve!: (value: unknown) => void;
    let reject!: (reason: unknown) => void;
    const result = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.waiting.push({ promise: result, resolve, reject });
    clearTimeout(this.timer);
    const { waitMs, maxWaitMs } = this.options;
    const delay =
      maxWaitMs === undefined
        ? waitMs
        : Math.max(0, Math.min(waitMs, this.firstAt + maxWaitMs - now));
    this.timer = setTimeout(() => void this.run(), delay);
    return result;
  }

  /** Runs now with the latest arguments and settles every waiting call. */
  run(): Promise<unknown> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { self, args, waiting } = this;
    this.waiting = [];
    this.args = [];
    this.self = undefined;
    const outcome = new Promise((resolve) => resolve(this.fn.apply(self, args)));
    for (const w of waiting) outcome.then(w.resolve, w.reject);
    return outcome;
  }

  cancel(name: string): number {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { waiting } = this;
    this.waiting = [];
    this.args = [];
    this.self = undefined;
    for (const w of waiting) {
      // Cancelling is deliberate: a caller that ignored the promise must not crash the process.
      w.promise.catch(ignore);
      w.reject(new CancelledError(`the debounced call to ${name}() was cancelled`));
    }
    return waiting.length;
  }
}

interface DebounceControl {
  info: WrapInfo;
  burstOf(receiver: unknown): Burst;
}

/**
 * Debounces: the function runs once a burst of calls has paused for `waitMs` (or `maxWaitMs`
 * after the burst began), with the last call's arguments; every call in the burst gets a promise
 * of that run's result. On methods, one burst per instance. {@link flush} runs a pending burst
 * now, {@link cancel} drops it (its promises reject with `CancelledError`).
 *
 * @example
 * class Editor { @debounce({ waitMs: 500 }) async save() { ... } }
 * const search = debounce({ waitMs: 200 })((query: string) => api.search(query));
 */
export function debounce(options: DebounceOptions): DebounceDecorator {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      'debounce(options): pass { waitMs }, e.g. debounce({ waitMs: 300 })',
    );
  }
  const { waitMs, maxWaitMs } = options;
  if (typeof waitMs !== 'number' || !(waitMs >= 0) || !Number.isFinite(waitMs)) {
    throw new InvalidOptionError(
      `debounce(options): waitMs must be a number >= 0, got ${String(waitMs)}`,
    );
  }
  if (waitMs > MAX_TIMER_MS) {
    // Node would fire such a timer after 1 ms: the burst would run at once.
    throw new InvalidOptionError(
      `debounce(options): waitMs must be at most ${MAX_TIMER_MS} (about 24.8 days, the longest timer Node supports), got ${waitMs}`,
    );
  }
  if (maxWaitMs !== undefined && (typeof maxWaitMs !== 'number' || !(maxWaitMs >= waitMs))) {
    throw new InvalidOptionError(
      `debounce(options): maxWaitMs must be a number >= waitMs (${waitMs}), got ${String(maxWaitMs)}`,
    );
  }
  return makeDecorator('@debounce()', (fn, info) => {
    const burstOf = perReceiver(() => new Burst(fn, { waitMs, maxWaitMs }));
    const debounced = function (this: unknown, ...args: unknown[]): Promise<unknown> {
      return burstOf(this).call(this, args);
    };
    registerControl(debounced, 'debounce', { info, burstOf } satisfies DebounceControl);
    return debounced;
  }) as DebounceDecorator;
}

function burstFor(api: string, fn: AnyFunction, receiver: object | undefined): Burst {
  const control = controlOf<DebounceControl>(fn, 'debounce', `${api}(fn)`);
  if (control.info.kind === 'method' && receiver === undefined) {
    throw new InvalidOptionError(
      `${api}(fn, receiver): ${control.info.name} is a method with one burst per instance; ` +
        `pass the instance, e.g. ${api}(obj.${control.info.name}, obj)`,
    );
  }
  return control.burstOf(receiver);
}

/**
 * Runs a debounced function's pending burst now instead of waiting; resolves with its result
 * (undefined when nothing was pending), or rejects with its error: a promise of the caller's
 * own, reported as unhandled if ignored. For a method, pass the instance.
 *
 * @example await flush(editor.save, editor);
 */
export function flush(fn: AnyFunction, receiver?: object): Promise<unknown> {
  const burst = burstFor('flush', fn, receiver);
  if (burst.waiting.length === 0) return Promise.resolve(undefined);
  // A promise of the caller's own: the run's promise carries the waiting calls' handlers, so
  // its rejection would never be reported if the caller of flush ignored it.
  return burst.run().then(passThrough);
}

/**
 * Drops a debounced function's pending burst: the function does not run and the burst's
 * promises reject with `CancelledError` (code `ERR_CANCELLED`). Returns how many calls were
 * dropped. For a method, pass the instance.
 *
 * @example cancel(editor.save, editor);
 */
export function cancel(fn: AnyFunction, receiver?: object): number {
  const control = controlOf<DebounceControl>(fn, 'debounce', 'cancel(fn)');
  return burstFor('cancel', fn, receiver).cancel(control.info.name);
}
