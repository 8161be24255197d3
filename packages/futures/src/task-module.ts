/**
 * `taskModule()`: typed references to the exported functions of a module, which worker threads
 * and child processes import themselves. This is the way to run code that needs imports or
 * shared helpers; a `new URL('./tasks.js', import.meta.url)` argument is visible to bundlers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
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

// What TypeScript's NodeNext resolution (and tsx) read for a `.js` specifier.
const TS_FOR_JS: Readonly<Record<string, readonly string[]>> = {
  '.js': ['.ts', '.tsx'],
  '.jsx': ['.tsx'],
  '.mjs': ['.mts'],
  '.cjs': ['.cts'],
};

/**
 * The `.ts` file that a `.js` URL which does not exist stands for: `new URL('./primes.js',
 * import.meta.url)` in a `primes.ts` project, as imports are written under NodeNext. tsx maps
 * it, but on Node 20 its hooks do not reach worker threads.
 */
function typeScriptFor(url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined;
  try {
    const parsed = new URL(url);
    const ext = /\.[cm]?jsx?$/.exec(parsed.pathname)?.[0];
    if (ext === undefined || existsSync(fileURLToPath(parsed))) return undefined;
    for (const tsExt of TS_FOR_JS[ext] ?? []) {
      const candidate = new URL(parsed.href);
      candidate.pathname = `${parsed.pathname.slice(0, -ext.length)}${tsExt}`;
      if (existsSync(fileURLToPath(candidate))) return candidate.href;
    }
  } catch {}
  return undefined;
}

/**
 * Imports a task module. On Node 20, tsx (4.x) registers its ESM hooks in the main thread only
 * (it cannot tell an application's worker thread from Node's own hooks thread there), so
 * `import()` of a `.ts` file fails in a worker thread even under tsx. `require()` of one works
 * (tsx hooks require, and Node 20.19 can require ESM), except for a module graph with top-level
 * await, which `require()` cannot load: then tsx's ESM hooks are registered in this thread and
 * the module is imported again.
 */
export async function importTaskModule(url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const typeScript = code === 'ERR_MODULE_NOT_FOUND' ? typeScriptFor(url) : undefined;
    if (typeScript !== undefined) return importTypeScript(typeScript);
    if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !TS_EXTENSION.test(url)) {
      throw new FuturesError(
        `cannot import task module ${url}: ${String(error)}`,
        'ERR_TASK_MODULE_IMPORT',
        {
          cause: error,
        },
      );
    }
    return importTypeScript(url);
  }
}

async function importTypeScript(url: string): Promise<Record<string, unknown>> {
  let reason: unknown;
  try {
    return createRequire(import.meta.url)(fileURLToPath(url)) as Record<string, unknown>;
  } catch (error) {
    reason = error;
  }
  const tsxApi = isMainThread ? undefined : findTsxApi();
  if (tsxApi !== undefined && (reason as { code?: unknown }).code === 'ERR_REQUIRE_ASYNC_MODULE') {
    try {
      return await importWithTsxHooks(url, tsxApi);
    } catch (error) {
      reason = error;
    }
  }
  const hint =
    tsxApi === undefined
      ? 'run the application under tsx (node --import tsx), use a Node with type stripping (22.18+), or point taskModule() at the compiled .js file'
      : 'point taskModule() at the compiled .js file if the module itself is not at fault';
  throw new FuturesError(
    `cannot import the TypeScript task module ${url}: ${describeReason(reason)}. ${hint}`,
    'ERR_TASK_MODULE_IMPORT',
    { cause: reason },
  );
}

function describeReason(reason: unknown): string {
  try {
    return String(reason).replace(/\.$/, '');
  } catch {
    return 'an error that cannot be described';
  }
}

let tsxRegistered: Promise<void> | undefined;

async function importWithTsxHooks(url: string, tsxApi: string): Promise<Record<string, unknown>> {
  tsxRegistered ??= import(tsxApi).then((api: { register(): unknown }) => {
    api.register();
  });
  await tsxRegistered;
  // Node keeps the failed import of `url`: import the module under another URL.
  const retry = new URL(url);
  retry.searchParams.set('forage-futures-tsx', '1');
  return (await import(retry.href)) as Record<string, unknown>;
}

/**
 * The URL of tsx's `tsx/esm/api` when the application runs under tsx (a Node flag such as
 * `--import tsx` or tsx's own `--import file:///…/node_modules/tsx/dist/loader.mjs`).
 */
function findTsxApi(): string | undefined {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  for (const flag of flags) {
    const value = flag.startsWith('--') ? flag.slice(flag.indexOf('=') + 1) : flag;
    if (!/(^|[\\/])tsx([\\/]|$)/.test(value)) continue;
    try {
      let root: string;
      if (value === 'tsx' || value.startsWith('tsx/')) {
        const require = createRequire(pathToFileURL(`${process.cwd()}/`));
        root = dirname(require.resolve('tsx/package.json'));
      } else {
        const path = value.startsWith('file:') ? fileURLToPath(value) : value;
        const match = /^(.*[\\/]node_modules[\\/]tsx)[\\/]/.exec(path);
        if (match === null) continue;
        root = match[1] as string;
      }
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        exports?: Record<string, unknown>;
      };
      const api = (pkg.exports?.['./esm/api'] as { import?: unknown } | undefined)?.import;
      const entry = typeof api === 'string' ? api : (api as { default?: unknown })?.default;
      if (typeof entry === 'string') return pathToFileURL(join(root, entry)).href;
    } catch {}
  }
  return undefined;
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
