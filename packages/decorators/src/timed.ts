/**
 * `timed()`: record how long each call takes (until its promise settles, for async functions),
 * and report count, mean, percentiles and maximum through `timings(fn)`.
 */

import { checkOptionFunction, checkOptionsObject, InvalidOptionError } from './errors.js';
import { isThenable } from './thenable.js';
import {
  type AnyFunction,
  controlOf,
  type Decorator,
  makeDecorator,
  registerControl,
} from './wrap.js';

/** Options of {@link timed}. */
export interface TimedOptions {
  /** How many recent durations to keep for the percentiles (default 10 000). */
  samples?: number;
  /** The clock, in ms (default `performance.now`). */
  now?: () => number;
}

/** What {@link timings} reports; durations in ms. */
export interface Timings {
  /** Calls finished (returned or threw). */
  count: number;
  /** How many of them threw or rejected. */
  errors: number;
  mean: number;
  /** Median of the kept samples. */
  p50: number;
  /** 95th percentile of the kept samples. */
  p95: number;
  max: number;
}

class Recorder {
  readonly samples: Float64Array;
  count = 0;
  errors = 0;
  total = 0;
  max = 0;

  constructor(size: number) {
    this.samples = new Float64Array(size);
  }

  record(durationMs: number, failed: boolean): void {
    this.samples[this.count % this.samples.length] = durationMs;
    this.count++;
    if (failed) this.errors++;
    this.total += durationMs;
    if (durationMs > this.max) this.max = durationMs;
  }

  report(): Timings {
    const kept = this.samples.slice(0, Math.min(this.count, this.samples.length)).sort();
    // Nearest-rank percentile over the kept samples.
    const rank = (p: number) =>
      kept.length === 0 ? 0 : (kept[Math.ceil(p * kept.length) - 1] ?? 0);
    return {
      count: this.count,
      errors: this.errors,
      mean: this.count === 0 ? 0 : this.total / this.count,
      p50: rank(0.5),
      p95: rank(0.95),
      max: this.max,
    };
  }
}

/**
 * Records the duration of every call (for a promise, until it settles). Read the figures with
 * {@link timings}; a method's figures cover all its instances.
 *
 * @example
 * class Census { @timed() async fetchBatch(ids: string[]) { ... } }
 * timings(census.fetchBatch); // { count: 120, errors: 1, mean: 310.2, p50: 280.5, p95: 710, max: 1204.3 }
 */
export function timed(options: TimedOptions = {}): Decorator {
  checkOptionsObject('timed(options)', options, 'timed({ samples: 1000 })');
  checkOptionFunction('timed(options)', 'now', options.now);
  const { samples = 10_000 } = options;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new InvalidOptionError(
      `timed(options): samples must be an integer >= 1, got ${String(samples)}`,
    );
  }
  const now = options.now ?? (() => performance.now());
  return makeDecorator('@timed()', (fn) => {
    const recorder = new Recorder(samples);
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      const start = now();
      let result: unknown;
      try {
        result = fn.apply(this, args);
      } catch (error) {
        recorder.record(now() - start, true);
        throw error;
      }
      if (!isThenable(result)) {
        recorder.record(now() - start, false);
        return result;
      }
      return Promise.resolve(result).then(
        (value) => {
          recorder.record(now() - start, false);
          return value;
        },
        (error: unknown) => {
          recorder.record(now() - start, true);
          throw error;
        },
      );
    };
    registerControl(wrapper, 'timed', recorder);
    return wrapper as AnyFunction;
  }) as Decorator;
}

/**
 * The recorded durations of a `timed()` function or method, in ms: count, errors, mean, p50,
 * p95 and max (percentiles over the most recent `samples` calls).
 *
 * @example const { p95 } = timings(fetchPage);
 */
export function timings(fn: AnyFunction): Timings {
  return controlOf<Recorder>(fn, 'timed', 'timings(fn)').report();
}
