/**
 * `cachedProperty()`: Python's `functools.cached_property` for getters. The getter runs once per
 * instance; later reads return the stored value until {@link invalidate} forgets it.
 */

import { DecoratorTargetError } from './errors.js';
import { forgetOnRejection, isThenable } from './thenable.js';

/** Rejects methods in legacy mode, where a getter's and a method's descriptors look alike. */
type GetterOnly<V> = V extends (...args: any[]) => any
  ? { '@cachedProperty() decorates getters, not methods': never }
  : unknown;

/** The type of `cachedProperty()`: a getter decorator in both decorator modes. */
export interface GetterDecorator {
  /** Standard (TC39) getter decorator. */
  <This, V>(
    get: (this: This) => V,
    context: ClassGetterDecoratorContext<This, V>,
  ): (this: This) => V;
  /** Legacy `experimentalDecorators` accessor decorator. */
  <V>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<V> & GetterOnly<V>,
  ): void;
}

type Values = WeakMap<object, { value: unknown }>;

/**
 * The per-instance values behind a decorated getter, kept on the getter function under a
 * registered symbol so that two copies of this package still find each other's values.
 */
const VALUES: unique symbol = Symbol.for('@forage/decorators.cachedProperty');

interface WithValues {
  [VALUES]?: Values;
}

function cachingGetter(get: (this: unknown) => unknown): (this: unknown) => unknown {
  const values: Values = new WeakMap();
  const getter = function (this: unknown): unknown {
    const self = this as object;
    const stored = values.get(self);
    if (stored !== undefined) return stored.value;
    const result = get.call(self);
    const slot = { value: result };
    // Stored before watching for a rejection: a thenable may call its handler at once, inside
    // `then`, and the slot must be there to be forgotten.
    values.set(self, slot);
    if (isThenable(result)) {
      // A rejected promise is forgotten, so the next read tries again. The stored value may be
      // a promise derived from the result, so that a rejection no reader handles is still
      // reported as unhandled (see forgetOnRejection).
      slot.value = forgetOnRejection(result, () => {
        if (values.get(self) === slot) values.delete(self);
      });
    }
    return slot.value;
  };
  Object.defineProperty(getter, VALUES, { value: values });
  return getter;
}

/**
 * Caches a getter's value per instance: computed on first read, then stored (held weakly, so
 * the instance can still be collected). Promises are stored too; a rejected one is forgotten.
 * A native promise is stored as a promise derived from it, so that a rejection no reader
 * handles is still reported as unhandled. Call {@link invalidate} to recompute on the next read.
 *
 * @example
 * class Report {
 *   @cachedProperty()
 *   get summary() { return summarise(this.rows); }
 * }
 */
export function cachedProperty(): GetterDecorator {
  return function decorate(...args: unknown[]): unknown {
    const [value, context, descriptor] = args;
    if (typeof context === 'object' && context !== null && 'kind' in context) {
      const ctx = context as DecoratorContext;
      if (ctx.kind !== 'getter') {
        throw new DecoratorTargetError(
          `@cachedProperty() decorates getters (get name() {...}), not the ${ctx.kind} '${String(ctx.name)}'`,
        );
      }
      return cachingGetter(value as (this: unknown) => unknown);
    }
    const desc = descriptor as PropertyDescriptor | undefined;
    if (desc === undefined || typeof desc.get !== 'function') {
      throw new DecoratorTargetError(
        `@cachedProperty() decorates getters (get name() {...}), not '${String(context)}'`,
      );
    }
    desc.get = cachingGetter(desc.get);
    return desc;
  } as GetterDecorator;
}

/**
 * Forgets the cached value of `obj[key]` (a `@cachedProperty()` getter), so the next read
 * computes it again; like `del obj.attr` in Python. Returns whether a value was stored.
 *
 * @example invalidate(report, 'summary');
 */
export function invalidate<T extends object>(obj: T, key: keyof T & (string | symbol)): boolean {
  for (let proto: object | null = obj; proto !== null; proto = Object.getPrototypeOf(proto)) {
    const desc = Object.getOwnPropertyDescriptor(proto, key);
    if (desc === undefined) continue;
    const values = (desc.get as WithValues | undefined)?.[VALUES];
    if (values === undefined) break;
    return values.delete(obj);
  }
  throw new DecoratorTargetError(
    `invalidate(obj, key): '${String(key)}' is not a @cachedProperty() getter of this object`,
  );
}
