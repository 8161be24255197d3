/**
 * Main-side half of function shipping: gives every task function a small numeric id and the
 * description a worker needs to rebuild it (its source text, or a module URL and export name).
 * Workers cache functions by id, so a function's source crosses to each worker once.
 */
import { invalidArgType } from './errors.js';
import type { FunctionDef } from './protocol.js';
import { taskRefOf } from './task-module.js';

const byFunction = new WeakMap<Function, FunctionDef>();
// Inline arrows (`ex.submit((x) => x + 1, i)` in a loop) are new objects every time but have
// the same source: share one id so the worker compiles them once.
const bySource = new Map<string, FunctionDef>();
const byModuleExport = new Map<string, FunctionDef>();
let nextId = 1;

const NATIVE = /\{\s*\[native code\]\s*\}\s*$/;

/** Returns the shippable description of `fn`, or throws a `TypeError` saying how to fix it. */
export function functionDef(fn: Function): FunctionDef {
  const cached = byFunction.get(fn);
  if (cached !== undefined) return cached;
  const def = describe(fn);
  byFunction.set(fn, def);
  return def;
}

function describe(fn: Function): FunctionDef {
  const ref = taskRefOf(fn);
  if (ref !== undefined) {
    const key = `${ref.url}#${ref.exportName}`;
    let def = byModuleExport.get(key);
    if (def === undefined) {
      def = { id: nextId++, name: ref.exportName, url: ref.url, exportName: ref.exportName };
      byModuleExport.set(key, def);
    }
    return def;
  }
  const name = fn.name || '(anonymous)';
  const source = Function.prototype.toString.call(fn);
  if (NATIVE.test(source)) {
    // A bound function is named `bound f` (`bound ` for an anonymous one): say so in words, and
    // suggest a call that reads as code.
    const bound = fn.name.startsWith('bound ');
    const target = bound ? fn.name.slice('bound '.length) : fn.name;
    const what = bound ? `the bound function ${target || '(anonymous)'}` : name;
    const call = /^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(target) ? target : 'fn';
    throw invalidArgType(
      `cannot send ${what} to a worker: it is a built-in or bound function, which has no source text. Wrap it in a function of your own, e.g. (...args) => ${call}(...args), or export it from a module and use taskModule()`,
    );
  }
  if (/^class[\s{]/.test(source)) {
    throw invalidArgType(`cannot send the class ${name} to a worker as a task: submit a function`);
  }
  let def = bySource.get(source);
  if (def === undefined) {
    def = { id: nextId++, name, source };
    bySource.set(source, def);
  }
  return def;
}
