/**
 * `trace()`: the blog's "print before and after" as a tool. Logs each call with its arguments
 * (summarised and redacted), then its result or error and how long it took; for a promise,
 * when it settles.
 */

import { checkOptionFunction, checkOptionsObject, InvalidOptionError } from './errors.js';
import { summarize } from './summarize.js';
import { isThenable } from './thenable.js';
import { type AnyFunction, type Decorator, makeDecorator } from './wrap.js';

/** One traced moment: a call starting, returning or throwing. */
export interface TraceEvent {
  readonly phase: 'call' | 'return' | 'throw';
  /** The traced function's name (or the `name` option). */
  readonly name: string;
  readonly args: readonly unknown[];
  /** The result, for `'return'`. */
  readonly result?: unknown;
  /** The error, for `'throw'`. */
  readonly error?: unknown;
  /** Milliseconds since the call started, for `'return'` and `'throw'`. */
  readonly durationMs?: number;
}

/** Receives each formatted line and the event behind it. */
export type TraceLogger = (line: string, event: TraceEvent) => void;

/** Options of {@link trace}. */
export interface TraceOptions {
  /** Where lines go (default `console.log`). */
  log?: TraceLogger;
  /** The name to print (default the function's name). */
  name?: string;
  /** Print the arguments (default true); false prints `name(…)`. */
  args?: boolean;
  /** Print the result (default true). */
  result?: boolean;
  /** Roughly how many characters each summarised value may take (default 40). */
  maxLength?: number;
  /** Replaces the built-in summary of values (which redacts credentials). */
  summarize?: (value: unknown) => string;
  /** The clock, in ms (default `performance.now`). */
  now?: () => number;
}

/**
 * Logs every call: `call name(args)`, then `done name -> result in 1.2 ms` or
 * `fail name threw Error: ... after 1.2 ms`. Async results are logged when they settle. Values
 * are summarised on one line; objects show their keys only and credential-like strings are
 * redacted. Pass `log` to send lines (and structured events) elsewhere.
 *
 * @example
 * class Scraper { @trace() async page(url: string) { ... } }
 * const add = trace({ log: (line) => logger.debug(line) })((a: number, b: number) => a + b);
 */
export function trace(options: TraceOptions = {}): Decorator {
  checkOptionsObject('trace(options)', options, 'trace({})');
  for (const key of ['log', 'summarize', 'now'] as const) {
    checkOptionFunction('trace(options)', key, options[key]);
  }
  if (options.name !== undefined && typeof options.name !== 'string') {
    throw new InvalidOptionError(
      `trace(options): name must be a string, got ${typeof options.name}`,
    );
  }
  const max = options.maxLength ?? 40;
  if (!Number.isInteger(max) || max < 1) {
    throw new InvalidOptionError(
      `trace(options): maxLength must be an integer >= 1, got ${String(options.maxLength)}`,
    );
  }
  const log: TraceLogger = options.log ?? ((line) => console.log(line));
  const show = options.summarize ?? ((value: unknown) => summarize(value, max));
  const now = options.now ?? (() => performance.now());
  const withArgs = options.args ?? true;
  const withResult = options.result ?? true;

  return makeDecorator('@trace()', (fn, info) => {
    const name = options.name ?? (info.name || 'anonymous');
    const ms = (d: number) => `${d.toFixed(1)} ms`;
    return function (this: unknown, ...args: unknown[]): unknown {
      const signature = withArgs ? `${name}(${args.map(show).join(', ')})` : `${name}(…)`;
      log(`call ${signature}`, { phase: 'call', name, args });
      const start = now();
      const done = (result: unknown) => {
        const durationMs = now() - start;
        const shown = withResult ? ` -> ${show(result)}` : '';
        log(`done ${name}${shown} in ${ms(durationMs)}`, {
          phase: 'return',
          name,
          args,
          result,
          durationMs,
        });
      };
      const failed = (error: unknown) => {
        const durationMs = now() - start;
        log(`fail ${name} threw ${show(error)} after ${ms(durationMs)}`, {
          phase: 'throw',
          name,
          args,
          error,
          durationMs,
        });
      };
      let result: unknown;
      try {
        result = fn.apply(this, args);
      } catch (error) {
        failed(error);
        throw error;
      }
      if (!isThenable(result)) {
        done(result);
        return result;
      }
      return Promise.resolve(result).then(
        (value) => {
          done(value);
          return value;
        },
        (error: unknown) => {
          failed(error);
          throw error;
        },
      );
    } as AnyFunction;
  }) as Decorator;
}
