#!/usr/bin/env node
// The `forage` command as npm links it. It is kept outside dist/ so that `npm ci` can link it
// on a fresh clone, before the first build (npm links no command whose file is missing, and
// would never link it afterwards); it runs the compiled CLI, or says how to build it.
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/bin.js', import.meta.url);
try {
  await import(built.href);
} catch (error) {
  const missing =
    error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(fileURLToPath(built));
  if (!missing) throw error;
  console.error(
    `forage is not built yet (${fileURLToPath(built)} is missing): run npm run build in the repository, then try again`,
  );
  process.exitCode = 1;
}
