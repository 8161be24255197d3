// Child process: runs the GitHub emulator with the options given as JSON, prints its URL, and
// answers "stats" on stdin with its counters and CPU time, so the census under test has its own process.
import { createInterface } from 'node:readline';
import { startEmulator } from '@forage/github-emulator';

const emu = await startEmulator(JSON.parse(process.argv[2] ?? '{}'));
process.stdout.write(`${JSON.stringify({ url: emu.url })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stats') {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ ...emu.stats(), cpuMs: (user + system) / 1000 })}\n`);
  }
  if (line === 'close') break;
}
// Keep-alive sockets may hold close() open; the benchmark is over, so do not wait for them.
setTimeout(() => process.exit(0), 1000).unref();
await emu.close();
process.exit(0);
