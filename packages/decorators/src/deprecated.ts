/** `deprecated(message)`: warn when deprecated code is called, once per call site. */
import { checkOptionFunction, checkOptionsObject, InvalidOptionError } from './errors.js';
import { type AnyFunction, type Decorator, makeDecorator } from './wrap.js';

/** Options of {@link deprecated}. */
export interface DeprecatedOptions {
  /**
   * Receives each warning (default: `process.emitWarning` as a `DeprecationWarning` with code
   * `FORAGE_DEPRECATED`, which `--no-deprecation` silences).
   */
  warn?: (message: string, callSite: string) => void;
}

function emit(message: string, callSite: string): void {
  process.emitWarning(message, {
    type: 'DeprecationWarning',
    code: 'FORAGE_DEPRECATED',
    detail: callSite ? `called ${callSite}` : undefined,
  });
}

/**
 * Where this package's own frames (other wrappers stacked on top) come from: its compiled
 * `dist/`, or `src/` when source maps translate the frames back.
 */
const OWN = ['dist/', 'src/'].flatMap((dir) => {
  const url = new URL(`../${dir}`, import.meta.url);
  return [url.href, url.pathname];
});

/** The first caller of `wrapper` outside this package, as a stack line `at main (file.js:3:7)`. */
function callSiteOf(wrapper: AnyFunction): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, wrapper);
  const frames = holder.stack?.split('\n').slice(1) ?? [];
  const outside = frames.find((frame) => !OWN.some((dir) => frame.includes(dir)));
  return outside?.trim() ?? '';
}

/**
 * Marks a function or method as deprecated: calling it warns with `message`, once per call site
 * (so a loop warns once, but every place that still calls it is reported).
 *
 * @example
 * class Client { @deprecated('use fetchAll() instead') fetchEach() { ... } }
 */
export function deprecated(message: string, options: DeprecatedOptions = {}): Decorator {
  if (typeof message !== 'string' || message.trim() === '') {
    throw new InvalidOptionError(
      "deprecated(message): message must say what to use instead, e.g. deprecated('use load()')",
    );
  }
  checkOptionsObject('deprecated(message, options)', options, "deprecated('use load()', {})");
  checkOptionFunction('deprecated(message, options)', 'warn', options.warn);
  const warn = options.warn ?? emit;
  return makeDecorator('@deprecated()', (fn, info) => {
    const seen = new Set<string>();
    const text = `${info.name || 'function'}() is deprecated: ${message}`;
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      const site = callSiteOf(wrapper);
      if (!seen.has(site)) {
        seen.add(site);
        warn(text, site);
      }
      return fn.apply(this, args);
    };
    return wrapper;
  }) as Decorator;
}
