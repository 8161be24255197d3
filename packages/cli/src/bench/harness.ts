/**
 * Entry point of one benchmark run in a fresh process: `node harness.js '<RunSpec as JSON>'`.
 * Prints the {@link RunResult} as one JSON line.
 */
import { type RunSpec, run } from './run-once.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as RunSpec;
process.stdout.write(`${JSON.stringify(await run(spec))}\n`);
