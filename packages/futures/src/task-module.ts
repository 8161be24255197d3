/**
 * `taskModule()`: typed references to the exported functions of a module, which worker threads
 * and child processes import themselves. This is the way to run code that needs imports or
 * shared helpers; a `new URL('./tasks.js', import.meta.url)` argument is visible to bundlers.
 */
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FuturesError, invalidArgType } from './errors.js';

const TASK_REF = Symbol.for('@forage/futures.taskRef');

/** Where a task function lives: a module URL and an export name. */
export interface TaskRef {
  readonly url: string;
  readonly exportName: string;
}

/** The function-valued exports of module type `M`, as task references. */
export type TaskModule<M> = {
  readonly [K in keyof M as M[K] extends (...args: never[]) => unknown ? K : never]: M[K];
};

/**
 * Returns typed references to the exports of the module at `url`. Submit them to any executor;
 * the worker imports the module (once) and calls the export. A `.ts` module works when the
 * application runs under tsx (Node 20 and later) or on a Node with type stripping.
 *
 * Calling a reference directly throws: it is a name, not the function.
 *
 * @example
 * ```ts
 * const tasks = taskModule<typeof import('./primes.js')>(new URL('./primes.js', import.meta.url));
 * const total = await executor.submit(tasks.sumPrimes, 100_000);
 * ```
 */
export function taskModule<M>(url: URL | string): TaskModule<M> {
  const href = normaliseModuleUrl(url);
  const refs = new Map<string, Function>();
  return new Proxy(Object.create(null) as TaskModule<M>, {
    get(_target, key) {
      // Never look like a thenable or a symbol-keyed protocol object.
      if (typeof key !== 'string' || key === 'then') return undefined;
      let ref = refs.get(key);
      if (ref === undefined) {
        ref = makeRef(href, key);
        refs.set(key, ref);
      }
      return ref;
    },
  });
}

function normaliseModuleUrl(url: URL | string): string {
  if (url instanceof URL) return url.href;
  if (typeof url !== 'string') {
    throw invalidArgType(
      `taskModule() needs a URL or an absolute path, got ${typeof url}; use new URL('./tasks.js', import.meta.url)`,
    );
  }
  if (/^(file|data):/.test(url)) return url;
  if (isAbsolute(url)) return pathToFileURL(url).href;
  throw invalidArgType(
    `taskModule() got the relative path ${JSON.stringify(url)}, which a worker cannot resolve; pass new URL(${JSON.stringify(url)}, import.meta.url) instead`,
  );
}

function makeRef(url: string, exportName: string): Function {
  const ref = () => {
    throw new FuturesError(
      `${exportName} from ${url} is a task reference, not the function itself: submit it to an executor, e.g. executor.submit(tasks.${exportName}, ...args)`,
      'ERR_TASK_REF_CALLED',
    );
  };
  Object.defineProperty(ref, 'name', { value: exportName });
  Object.defineProperty(ref, TASK_REF, { value: { url, exportName } satisfies TaskRef });
  return ref;
}

/** The module and export a task reference points to, or `undefined` for a plain function. */
export function taskRefOf(fn: Function): TaskRef | undefined {
  return (fn as { [TASK_REF]?: TaskRef })[TASK_REF];
}

const TS_EXTENSION = /\.[cm]?tsx?$/;

/**
 * Imports a task module. Node 20 cannot `import()` a `.ts` file from a worker even under tsx,
 * but `require()` of one works there (tsx hooks require, and Node 20.19 can require ESM).
 */
export async function importTaskModule(url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !TS_EXTENSION.test(url)) {
      throw new FuturesError(
        `cannot import task module ${url}: ${String(error)}`,
        'ERR_TASK_MODULE_IMPORT',
        {
          cause: error,
        },
      );
    }
    try {
      return createRequire(import.meta.url)(fileURLToPath(url)) as Record<string, unknown>;
    } catch {
      throw new FuturesError(
        `cannot import the TypeScript task module ${url}: run the application under tsx (node --import tsx), use a Node with type stripping (22.18+), or point taskModule() at the compiled .js file`,
        'ERR_TASK_MODULE_IMPORT',
        { cause: error },
      );
    }
  }
}

/** Imports the module of `ref` and returns the exported function. */
export async function loadTaskFunction(ref: TaskRef): Promise<Function> {
  const mod = await importTaskModule(ref.url);
  const fn = mod[ref.exportName];
  if (typeof fn !== 'function') {
    const exported = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new FuturesError(
      `task module ${ref.url} has no exported function named ${ref.exportName} (its function exports: ${exported.join(', ') || 'none'})`,
      'ERR_TASK_EXPORT_MISSING',
    );
  }
  return fn;
}
