/**
 * The default cache key: every argument, primitives by value and objects by identity (like
 * `functools.lru_cache`, which keys on all arguments). One primitive argument is used as the
 * Map key directly; anything else becomes one string that cannot collide with those.
 */

const objectIds = new WeakMap<object, number>();
/**
 * Ids of unregistered symbols, held weakly like objects: a strong map would keep every symbol
 * ever passed (say, one per request) alive forever, whatever the cache's `maxSize`.
 */
const symbolIds = new WeakMap<symbol, number>();
let nextId = 0;

/** Composite keys start with a character no raw single-string key may start with. */
const COMPOSITE = '\u0000';

function idOf(value: object): number {
  let id = objectIds.get(value);
  if (id === undefined) {
    id = nextId++;
    objectIds.set(value, id);
  }
  return id;
}

/**
 * A symbol's part of a composite key. A registered symbol (`Symbol.for(name)`) cannot be a
 * WeakMap key, but it is fully identified by its registry name, so that is the key.
 */
function encodeSymbol(value: symbol): string {
  const registered = Symbol.keyFor(value);
  if (registered !== undefined) return `Y${registered.length}:${registered}`;
  let id = symbolIds.get(value);
  if (id === undefined) {
    id = nextId++;
    symbolIds.set(value, id);
  }
  return `y${id}`;
}

/** Untyped keys treat `3` and `3n` as the same argument, as Python treats `3` and `3.0`. */
function numericBigint(value: bigint): number | undefined {
  return value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER
    ? Number(value)
    : undefined;
}

function encode(value: unknown, typed: boolean): string {
  switch (typeof value) {
    case 'string':
      return `s${value.length}:${value}`;
    case 'number':
      return `n${value}`;
    case 'bigint': {
      const asNumber = typed ? undefined : numericBigint(value);
      return asNumber === undefined ? `b${value}` : `n${asNumber}`;
    }
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'symbol':
      return encodeSymbol(value);
    default:
      return value === null ? 'z' : `o${idOf(value as object)}`;
  }
}

/**
 * The key for `args`. With `typed`, arguments of different types are always different keys
 * (`3` versus `3n`).
 */
export function defaultKey(args: readonly unknown[], typed: boolean): unknown {
  if (args.length === 1) {
    const only = args[0];
    switch (typeof only) {
      case 'number':
      case 'boolean':
      case 'undefined':
      case 'symbol':
      case 'object':
      case 'function':
        return only;
      case 'string':
        if (only.charCodeAt(0) !== 0) return only;
        break;
      case 'bigint': {
        const asNumber = typed ? undefined : numericBigint(only);
        if (asNumber !== undefined) return asNumber;
        break;
      }
    }
  }
  let key = COMPOSITE;
  for (let i = 0; i < args.length; i++) key += `${encode(args[i], typed)}|`;
  return key;
}
