// Plain JavaScript (not TypeScript) so that the tsx loader does not count in this process's peak RSS.
// One timed run of forage's aggregation (analyze: stream, parallel ranges, merge, summary).
// Prints a JSON line: { ms, cpuMs, maxRssMb, top } for bench.ts.
import { analyze } from '@forage/census';

const [file, parallelism] = process.argv.slice(2);
const start = performance.now();
const cpu0 = process.cpuUsage();
const summary = await analyze(file, { format: 'blog', parallelism: Number(parallelism) });
const ms = performance.now() - start;
const top = {
  totalSize: summary.study.totalSize.map((r) => [r.language, r.bytes]),
  reposAppearedIn: summary.study.reposAppearedIn.map((r) => [r.language, r.repos]),
};
// CPU of the timed work only (all threads), like the wall time: module loading is left out.
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    top,
  }),
);
