/**
 * `cache(options)`: `functools.cache` / `lru_cache` with a TTL, for sync and async functions.
 * Promises are cached as soon as they are created, so concurrent calls for the same key share
 * one in-flight call, and a promise that rejects is dropped so the next call tries again.
 * Methods get one cache per instance (per class for static methods), held weakly; so does a
 * wrapped function called on objects (assigned as a method).
 */

import { defaultKey } from './cache-key.js';
import { InvalidOptionError } from './errors.js';
import { forgetOnRejection, isThenable } from './thenable.js';
import {
  type AnyFunction,
  controlOf,
  type Decorator,
  makeDecorator,
  registerControl,
} from './wrap.js';

/** Options of {@link cache}. */
export interface CacheOptions {
  /** Keep at most this many entries, evicting the least recently used (default: unbounded). */
  maxSize?: number;
  /** Entries expire this many ms after they were stored (default: never). */
  ttlMs?: number;
  /**
   * Computes the key from the arguments (default: every argument, primitives by value and
   * objects by identity). The result is compared with SameValueZero, like a Map key.
   */
  key?: (...args: never[]) => unknown;
  /** Keep arguments of different types apart, e.g. `3` and `3n` (default false). */
  typed?: boolean;
  /** The clock for `ttlMs`, in ms (default `performance.now`). */
  now?: () => number;
}

/** What {@link cacheInfo} reports, like Python's `CacheInfo`. */
export interface CacheInfo {
  hits: number;
  misses: number;
  /** The bound, or undefined for an unbounded cache. */
  maxSize: number | undefined;
  /** Entries currently stored (expired ones are counted until they are next looked up). */
  currSize: number;
}

interface Live {
  size: number;
  generation: number;
}

interface Entry {
  readonly key: unknown;
  /** The result served on a hit; set once, right after the call (see `cache`). */
  value: unknown;
  readonly expiresAt: number;
  /** Neighbours in recency order, for O(1) LRU moves without re-hashing the key. */
  older: Entry | undefined;
  newer: Entry | undefined;
}

/** Counters summed over every store of one decorated method. */
interface Totals {
  hits: number;
  misses: number;
  size: number;
  generation: number;
}

/** One cache: a Map from key to entry, the entries in a recency list, and the counters. */
class Store {
  readonly map = new Map<unknown, Entry>();
  hits = 0;
  misses = 0;
  oldest: Entry | undefined;
  newest: Entry | undefined;
  /** Size and generation, shared with the FinalizationRegistry: it must not reach the receiver. */
  readonly live: Live;

  constructor(
    readonly totals: Totals,
    generation: number,
  ) {
    this.live = { size: 0, generation };
  }

  /**
   * True after `cacheClear(method)` until the store is next looked up: its entries are already
   * gone from the totals, and are dropped from the map lazily.
   */
  get stale(): boolean {
    return this.live.generation !== this.totals.generation;
  }

  clear(adjustTotals: boolean): void {
    if (adjustTotals) this.totals.size -= this.map.size;
    this.map.clear();
    this.oldest = undefined;
    this.newest = undefined;
    this.live.size = 0;
    this.hits = 0;
    this.misses = 0;
  }

  #unlink(entry: Entry): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
  }

  #append(entry: Entry): void {
    entry.older = this.newest;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
  }

  /** Marks `entry` as the most recently used. */
  touch(entry: Entry): void {
    if (entry === this.newest) return;
    this.#unlink(entry);
    this.#append(entry);
  }

  delete(entry: Entry): void {
    if (this.map.get(entry.key) !== entry) return;
    this.map.delete(entry.key);
    this.#unlink(entry);
    this.totals.size--;
    this.live.size--;
  }

  add(entry: Entry, maxSize: number): void {
    const previous = this.map.get(entry.key);
    if (previous !== undefined) this.delete(previous);
    this.map.set(entry.key, entry);
    this.#append(entry);
    this.totals.size++;
    this.live.size++;
    if (this.map.size > maxSize && this.oldest !== undefined) this.delete(this.oldest);
  }
}

/** What `cacheInfo`/`cacheClear` reach through the wrapper. */
interface CacheControl {
  readonly maxSize: number | undefined;
  readonly totals: Totals;
  /** Empties every store and resets the totals. */
  clearAll(): void;
  /** The store of a receiver, if it has one. */
  peek(receiver: unknown): Store | undefined;
}

function checkOptions(options: CacheOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('cache(options): options must be an object, e.g. cache({})');
  }
  const { maxSize, ttlMs, key, now } = options;
  if (maxSize !== undefined && (!Number.isInteger(maxSize) || maxSize < 1)) {
    throw new InvalidOptionError(
      `cache(options): maxSize must be an integer >= 1 (or left out for no bound), got ${String(maxSize)}`,
    );
  }
  if (ttlMs !== undefined && (typeof ttlMs !== 'number' || !(ttlMs > 0))) {
    throw new InvalidOptionError(
      `cache(options): ttlMs must be a number > 0 (or left out to never expire), got ${String(ttlMs)}`,
    );
  }
  if (key !== undefined && typeof key !== 'function') {
    throw new InvalidOptionError('cache(options): key must be a function (...args) => key');
  }
  if (now !== undefined && typeof now !== 'function') {
    throw new InvalidOptionError('cache(options): now must be a function returning ms');
  }
}

/**
 * One store per object receiver, and one for calls without one (a plain call, a detached
 * method). Plain functions too: `cache()(fn)` assigned as a method gets a receiver, and its
 * result may depend on it (Python's `functools.cache` keys on `self`). See `perReceiver` in
 * wrap.ts for the plain version.
 */
function storesFor(totals: Totals) {
  const stores = new WeakMap<object, Store>();
  const detached = new Store(totals, 0);
  // When an instance is collected, its entries leave the totals too.
  const registry = new FinalizationRegistry<Live>((live) => {
    if (live.generation === totals.generation) totals.size -= live.size;
  });
  const peek = (receiver: unknown): Store | undefined => {
    const store =
      (typeof receiver === 'object' || typeof receiver === 'function') && receiver !== null
        ? stores.get(receiver)
        : detached;
    // cacheClear(method) bumps the generation; stale stores are emptied lazily.
    if (store !== undefined && store.live.generation !== totals.generation) {
      store.clear(false);
      store.live.generation = totals.generation;
    }
    return store;
  };
  const get = (receiver: unknown): Store => {
    let store = peek(receiver);
    if (store === undefined) {
      store = new Store(totals, totals.generation);
      stores.set(receiver as object, store);
      registry.register(receiver as object, store.live);
    }
    return store;
  };
  // Every store at once: the others are emptied lazily (see peek), the one for calls without
  // a receiver now, so that its lookup (the plain function's hot path) needs no check.
  const clearAll = (): void => {
    totals.generation++;
    totals.hits = 0;
    totals.misses = 0;
    totals.size = 0;
    detached.clear(false);
    detached.live.generation = totals.generation;
  };
  return { get, peek, detached, clearAll };
}

/**
 * Caches results by arguments. Without `maxSize` it is unbounded like `functools.cache`; with it,
 * an LRU like `functools.lru_cache`. `ttlMs` expires entries. Concurrent calls with the same key
 * share one in-flight promise; rejected promises and thrown errors are never cached. For a native
 * promise the cache stores and returns a promise derived from it, so that a rejection no caller
 * handles is still reported as unhandled; other thenables are kept as they are (and their
 * rejection is marked handled). On methods each instance gets its own cache. Reach the cache
 * with {@link cacheInfo} and {@link cacheClear}.
 *
 * @example
 * const fib = cache()((n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2)));
 * class Repo { @cache({ maxSize: 100, ttlMs: 60_000 }) async languages(id: string) { ... } }
 */
export function cache(options: CacheOptions = {}): Decorator {
  checkOptions(options);
  const maxSize = options.maxSize ?? Number.POSITIVE_INFINITY;
  const ttlMs = options.ttlMs;
  const typed = options.typed ?? false;
  const keyFn = options.key;
  const now = options.now ?? (() => performance.now());
  const lru = options.maxSize !== undefined;

  return makeDecorator('@cache()', (fn) => {
    const totals: Totals = { hits: 0, misses: 0, size: 0, generation: 0 };
    const stores = storesFor(totals);

    const cached = function (this: unknown, ...args: unknown[]): unknown {
      const store = this === undefined ? stores.detached : stores.get(this);
      const key = keyFn === undefined ? defaultKey(args, typed) : keyFn(...(args as never[]));
      const entry = store.map.get(key);
      if (entry !== undefined) {
        if (ttlMs === undefined || entry.expiresAt > now()) {
          store.hits++;
          totals.hits++;
          if (lru) store.touch(entry);
          return entry.value;
        }
        store.delete(entry);
      }
      store.misses++;
      totals.misses++;
      const result = fn.apply(this, args);
      const fresh: Entry = {
        key,
        value: result,
        expiresAt: ttlMs === undefined ? 0 : now() + ttlMs,
        older: undefined,
        newer: undefined,
      };
      // Stored before watching for a rejection: a thenable may call its handler at once,
      // inside `then`, and the entry must be there to be dropped.
      store.add(fresh, maxSize);
      if (isThenable(result)) {
        // A rejected promise must not be served again; drop it unless it was replaced meanwhile,
        // or cleared: a stale store's entries are no longer in the totals. What is stored (and
        // returned) may be a promise derived from the result, so that a rejection no caller
        // handles is still reported as unhandled (see forgetOnRejection).
        fresh.value = forgetOnRejection(result, () => {
          if (!store.stale) store.delete(fresh);
        });
      }
      return fresh.value;
    };
    const control: CacheControl = {
      maxSize: options.maxSize,
      totals,
      peek: stores.peek,
      clearAll: stores.clearAll,
    };
    registerControl(cached, 'cache', control);
    return cached as AnyFunction;
  }) as Decorator;
}

/**
 * Hits, misses, bound and size of a cached function's cache. For a method, pass the instance
 * (or the class, for a static method) to see its own cache; without one you get the totals
 * over every instance.
 *
 * @example
 * cacheInfo(fib); // { hits: 28, misses: 31, maxSize: undefined, currSize: 31 }
 * cacheInfo(repo.languages, repo);
 */
export function cacheInfo(fn: AnyFunction, receiver?: object): CacheInfo {
  const control = controlOf<CacheControl>(fn, 'cache', 'cacheInfo(fn)');
  if (receiver === undefined) {
    const { hits, misses, size } = control.totals;
    return { hits, misses, maxSize: control.maxSize, currSize: size };
  }
  const store = control.peek(receiver);
  return {
    hits: store?.hits ?? 0,
    misses: store?.misses ?? 0,
    maxSize: control.maxSize,
    currSize: store?.map.size ?? 0,
  };
}

/**
 * Empties a cached function's cache and resets its counters. For a method, pass the instance to
 * clear only its cache; without one every instance's cache is cleared.
 *
 * @example
 * cacheClear(fib);
 * cacheClear(repo.languages, repo);
 */
export function cacheClear(fn: AnyFunction, receiver?: object): void {
  const control = controlOf<CacheControl>(fn, 'cache', 'cacheClear(fn)');
  const totals = control.totals;
  if (receiver === undefined) {
    control.clearAll();
    return;
  }
  const store = control.peek(receiver);
  if (store === undefined) return;
  totals.hits -= store.hits;
  totals.misses -= store.misses;
  store.clear(true);
}
