/**
 * Reads the module URL and export name out of a `taskModule()` reference. `@forage/futures`
 * marks references with a registered symbol; its own `taskRefOf()` is not exported, so this
 * reads the same mark.
 */
const taskRefSymbol = Symbol.for('@forage/futures.taskRef');

/** Where a task function lives: a module URL and an export name. */
export interface TaskLocation {
  readonly url: string;
  readonly exportName: string;
}

/** The location of a task reference, or `undefined` for a plain function. */
export function taskRefOf(fn: unknown): TaskLocation | undefined {
  if (typeof fn !== 'function') return undefined;
  const ref = (fn as { [taskRefSymbol]?: TaskLocation })[taskRefSymbol];
  if (ref === undefined || typeof ref.url !== 'string' || typeof ref.exportName !== 'string')
    return undefined;
  return ref;
}
