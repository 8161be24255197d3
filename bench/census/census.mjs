// Child process: runs one census with the options given as JSON and prints its wall time, peak
// RSS, CPU time and manifest, so memory and CPU are measured for the census alone.
import { runCensus } from '@forage/census';

const options = JSON.parse(process.argv[2]);
const started = performance.now();
const { manifest } = await runCensus(options);
const wallMs = performance.now() - started;
const usage = process.resourceUsage();
const maxRssMb = usage.maxRSS / 1024;
const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
process.stdout.write(`${JSON.stringify({ wallMs, maxRssMb, cpuMs, manifest })}\n`);
