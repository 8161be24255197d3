/** `once()`: call the function at most once and give every later call the same outcome. */
import { type AnyFunction, type Decorator, makeDecorator, perReceiver } from './wrap.js';

type Remembered = { done: false } | { done: true; ok: boolean; value: unknown };

/**
 * Runs the function on the first call only; every later call returns the first call's result
 * (or throws its error again, or returns the same promise). On methods, once per instance.
 *
 * @example
 * class Db { @once() async connect() { ... } }   // later calls share the first connection
 * const init = once()(() => loadConfig());
 */
export function once(): Decorator {
  return makeDecorator('@once()', (fn) => {
    const stateOf = perReceiver<{ remembered: Remembered }>(() => ({
      remembered: { done: false },
    }));
    return function (this: unknown, ...args: unknown[]): unknown {
      const state = stateOf(this);
      const remembered = state.remembered;
      if (remembered.done) {
        if (remembered.ok) return remembered.value;
        throw remembered.value;
      }
      try {
        const value = fn.apply(this, args);
        state.remembered = { done: true, ok: true, value };
        return value;
      } catch (error) {
        state.remembered = { done: true, ok: false, value: error };
        throw error;
      }
    } as AnyFunction;
  }) as Decorator;
}
