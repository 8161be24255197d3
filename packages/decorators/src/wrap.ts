/**
 * The one rule of this package: a decorator is a plain wrapper `(fn) => wrapped`, and the same
 * export works as a standard (TC39) method decorator, as a legacy `experimentalDecorators`
 * method decorator, and as a higher-order function on a plain function. This file tells the
 * three call forms apart at run time and gives them honest types.
 */
import { DecoratorTargetError } from './errors.js';

/** Any function, whatever its `this`, parameters and result. */
export type AnyFunction = (this: any, ...args: any[]) => any;

/** What a wrapper learns about the function it wraps. */
export interface WrapInfo {
  /** `'method'` for a decorated class method (either decorator mode), `'function'` otherwise. */
  readonly kind: 'method' | 'function';
  /** The function's or method's name (`'#name'` for private methods, `'[desc]'` for symbols). */
  readonly name: string;
  /** True for `static` methods. */
  readonly static: boolean;
  /** True for `#private` methods. */
  readonly private: boolean;
}

/** A function as a wrapper sees it: any receiver, any arguments, an unknown result. */
export type WrappedFunction = (this: unknown, ...args: unknown[]) => unknown;

/**
 * A plain wrapper: given the original function, return the function that replaces it. It is
 * called once per decorated method (per class, not per instance) or once per wrapped function.
 */
export type Wrap = (fn: WrappedFunction, info: WrapInfo) => WrappedFunction;

/**
 * A decorator that keeps the wrapped function's type exactly: `@deco` on a method (standard or
 * legacy) and `deco(fn)` on a plain function, which returns a function of the same type.
 */
export interface Decorator {
  /** Standard (TC39) method decorator; generic methods stay generic. */
  <This, F extends (this: This, ...args: any[]) => any>(
    value: F,
    context: ClassMethodDecoratorContext<This, F>,
  ): F;
  /** Legacy `experimentalDecorators` method decorator. */
  <T extends AnyFunction>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): void;
  /**
   * Higher-order function: `deco(fn)`. (TypeScript ignores extra arguments when it checks a
   * decorator, so the second parameter is what stops this signature from accepting getters.)
   */
  <F extends AnyFunction>(fn: F, notADecoratorContext?: undefined): F;
}

/**
 * A decorator whose wrapper is asynchronous (retry, timeout, throttle, ...). On a method it only
 * accepts methods that already return a promise, because a decorator cannot change a method's
 * type and a sync method would otherwise lie about its result. On a plain function it accepts
 * anything and returns the async version: `(...args) => Promise<Awaited<R>>`.
 */
export interface AsyncDecorator {
  /** Standard (TC39) method decorator: the method must return a promise. */
  <This, F extends (this: This, ...args: any[]) => PromiseLike<unknown>>(
    value: F,
    context: ClassMethodDecoratorContext<This, F>,
  ): F;
  /** Legacy `experimentalDecorators` method decorator: the method must return a promise. */
  <T extends (this: any, ...args: any[]) => PromiseLike<unknown>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): void;
  /** Higher-order function: `deco(fn)` returns the async version of `fn`. */
  <This, A extends unknown[], R>(
    fn: (this: This, ...args: A) => R,
    notADecoratorContext?: undefined,
  ): (this: This, ...args: A) => Promise<Awaited<R>>;
}

/** The wrapper's link to what it wraps, like Python's `__wrapped__`. */
const WRAPPED: unique symbol = Symbol.for('@forage/decorators.wrapped');

interface Wrapped {
  [WRAPPED]?: AnyFunction;
}

/**
 * Returns the function that `fn` wraps (one level, like Python's `fn.__wrapped__`), or `fn`
 * itself when it is not a wrapper made by this package.
 *
 * @example
 * const slow = (n: number) => n * 2;
 * const fast = cache()(slow);
 * unwrap(fast) === slow; // true
 */
export function unwrap<F extends AnyFunction>(
  fn: F,
): (this: ThisParameterType<F>, ...args: Parameters<F>) => unknown {
  return (fn as Wrapped)[WRAPPED] ?? fn;
}

/** Walks the chain of wrappers from the outermost inwards (the function itself first). */
export function* wrapperChain(fn: AnyFunction): Generator<AnyFunction> {
  let current: AnyFunction | undefined = fn;
  while (current !== undefined) {
    yield current;
    current = (current as Wrapped)[WRAPPED];
  }
}

function nameOf(key: string | symbol): string {
  return typeof key === 'symbol' ? `[${key.description ?? ''}]` : key;
}

/** Gives the wrapper the original's `name` and `length` and a link back to it. */
function finish(wrapper: WrappedFunction, original: AnyFunction, name: string): WrappedFunction {
  if (typeof wrapper !== 'function') {
    throw new DecoratorTargetError(
      `the wrapper for ${name}() returned ${typeof wrapper}, not a function; ` +
        'a wrap function must return the replacement function',
    );
  }
  if (wrapper === original) return wrapper;
  Object.defineProperty(wrapper, 'name', { value: name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
  Object.defineProperty(wrapper, WRAPPED, { value: original, configurable: true });
  return wrapper;
}

function isDecoratorContext(value: unknown): value is DecoratorContext {
  return typeof value === 'object' && value !== null && 'kind' in value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  return typeof value;
}

/**
 * Builds the run-time decorator for `wrap`: one function that recognises the three call forms.
 * `label` names the decorator in error messages, e.g. `'@retry()'`.
 */
export function makeDecorator(label: string, wrap: Wrap): (...args: unknown[]) => unknown {
  return function decorate(...args: unknown[]): unknown {
    const [value, context, descriptor] = args;
    if (args.length <= 1) {
      if (typeof value !== 'function') {
        throw new DecoratorTargetError(
          `${label} expects a function to wrap but got ${describe(value)}; ` +
            `call it as ${label}(fn) or put it on a method`,
        );
      }
      const fn = value as AnyFunction;
      const info: WrapInfo = { kind: 'function', name: fn.name, static: false, private: false };
      return finish(wrap(fn, info), fn, fn.name);
    }
    if (isDecoratorContext(context)) {
      const name = nameOf((context as { name?: string | symbol }).name ?? '');
      if (context.kind !== 'method') {
        throw new DecoratorTargetError(
          `${label} can decorate methods and plain functions, not the ${context.kind} '${name}'; ` +
            'move it onto a method',
        );
      }
      const fn = value as AnyFunction;
      const info: WrapInfo = {
        kind: 'method',
        name,
        static: context.static,
        private: context.private,
      };
      return finish(wrap(fn, info), fn, name);
    }
    if (typeof context === 'string' || typeof context === 'symbol') {
      const name = nameOf(context);
      const desc = descriptor as PropertyDescriptor | undefined;
      if (desc === undefined || typeof desc.value !== 'function') {
        const what = desc?.get || desc?.set ? 'accessor' : 'property';
        throw new DecoratorTargetError(
          `${label} can decorate methods and plain functions, not the ${what} '${name}'; ` +
            'move it onto a method',
        );
      }
      const fn = desc.value as AnyFunction;
      const info: WrapInfo = {
        kind: 'method',
        name,
        static: typeof value === 'function',
        private: false,
      };
      desc.value = finish(wrap(fn, info), fn, name);
      return desc;
    }
    throw new DecoratorTargetError(
      `${label} was called with (${describe(value)}, ${describe(context)}); ` +
        `use it as @${label.replace(/^@/, '')} on a method or as ${label}(fn)`,
    );
  };
}

/**
 * Turns a plain wrapper into a decorator that works three ways: `@myDecorator` on a method
 * (standard decorators), the same under `experimentalDecorators`, and `myDecorator(fn)` on a
 * plain function. The wrapper keeps the original's `name` and `length`, and `unwrap()` returns
 * the original.
 *
 * @example
 * const shout = decorator((fn) => function (this: unknown, ...args: unknown[]) {
 *   console.log('before');
 *   const result = fn.apply(this, args);
 *   console.log('after');
 *   return result;
 * });
 * const hello = shout(() => console.log('hello'));
 * class Greeter { @shout greet() { console.log('hi'); } }
 */
export function decorator(wrap: Wrap): Decorator {
  if (typeof wrap !== 'function') {
    throw new DecoratorTargetError(
      `decorator(wrap) expects a function (fn, info) => wrapped but got ${describe(wrap)}`,
    );
  }
  return makeDecorator(`@${wrap.name || 'decorator'}`, wrap) as Decorator;
}

/**
 * Per-receiver state for a wrapper: one `S` per object receiver (an instance, or the class for
 * static methods), held in a WeakMap so instances are never kept alive, and one for calls
 * without an object receiver (a plain call, a detached method). A plain function gets a
 * receiver too once it is assigned as a method (`Db.prototype.connect = once()(fn)`): it then
 * behaves as the decorated method would.
 */
export function perReceiver<S>(create: () => S): (receiver: unknown) => S {
  const states = new WeakMap<object, S>();
  let shared: S | undefined;
  return (receiver) => {
    if ((typeof receiver !== 'object' && typeof receiver !== 'function') || receiver === null) {
      shared ??= create();
      return shared;
    }
    let state = states.get(receiver);
    if (state === undefined) {
      state = create();
      states.set(receiver, state);
    }
    return state;
  };
}

/**
 * Where introspection helpers (`cacheInfo`, `timings`, ...) find a wrapper's state. A symbol
 * from the global registry, like the `unwrap` link, so two copies of this package in one
 * program still understand each other's wrappers.
 */
const CONTROL: unique symbol = Symbol.for('@forage/decorators.control');

interface Controlled {
  [CONTROL]?: { kind: string; control: unknown };
}

/** Records the control object behind a wrapper made by `kind` (e.g. `'cache'`). */
export function registerControl(wrapper: AnyFunction, kind: string, control: unknown): void {
  Object.defineProperty(wrapper, CONTROL, { value: { kind, control }, configurable: true });
}

/**
 * Finds the control object of the `kind` wrapper in `fn`'s chain of wrappers, so helpers work on
 * stacked decorators too. Throws a clear error naming `api` when there is none.
 */
export function controlOf<C>(fn: unknown, kind: string, api: string): C {
  if (typeof fn === 'function') {
    for (const link of wrapperChain(fn as AnyFunction)) {
      const entry = (link as Controlled)[CONTROL];
      if (entry?.kind === kind) return entry.control as C;
    }
  }
  throw new DecoratorTargetError(
    `${api}: ${describe(fn)} is not wrapped by ${kind}(); pass the decorated method ` +
      `(obj.method) or the function that ${kind}()(fn) returned`,
  );
}
