// multithreading 0.3.52 needs `navigator` and `Promise.withResolvers`, which Node 20 lacks.
// Loaded with --import (workers inherit it) for that contender only.
import { availableParallelism } from 'node:os';

globalThis.navigator ??= { hardwareConcurrency: availableParallelism() };
Promise.withResolvers ??= () => {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
