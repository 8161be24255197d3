#!/usr/bin/env node
// Runs every package's tests (or only those under the paths given) in one node:test run,
// so the output ends with node's own `# tests`, `# pass` and `# fail` summary lines.
// Usage: node scripts/run-tests.mjs [packages/futures ...] [-- extra node --test flags]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const roots = (dash === -1 ? argv : argv.slice(0, dash)).filter(Boolean);
const extra = dash === -1 ? [] : argv.slice(dash + 1);

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === 'fixtures') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const searchRoots = roots.length
  ? roots
  : readdirSync(join(root, 'packages')).map((p) => join('packages', p, 'test'));
const files = [];
for (const r of searchRoots) {
  const abs = join(root, r);
  if (!existsSync(abs)) continue;
  if (statSync(abs).isDirectory()) collect(abs, files);
  else files.push(relative(root, abs));
}
files.sort();
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${searchRoots.join(', ')}`);
  process.exit(1);
}

// The workplace's shared reference data (GitHub's schemas, the 2016 census) that some tests
// read: FORAGE_SHARED_DATA when set, else ../shared/data beside the repository, else the
// workplace's /work/shared/data, so that `npm test` works from a clone anywhere.
if (!process.env.FORAGE_SHARED_DATA) {
  const found = [join(root, '..', 'shared', 'data'), '/work/shared/data'].find((dir) =>
    existsSync(join(dir, 'github-2016')),
  );
  if (found) process.env.FORAGE_SHARED_DATA = `${found}/`;
  else
    console.error(
      'run-tests: shared data not found (../shared/data beside the repository or /work/shared/data); the tests that need it will fail: set FORAGE_SHARED_DATA to the directory holding github-2016/',
    );
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-timeout=300000', ...extra, ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
