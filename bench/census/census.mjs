// Child process: runs one census with the options given as JSON and prints its wall time, peak
// RSS and manifest, so memory is measured for the census alone.
import { runCensus } from '@forage/census';

const options = JSON.parse(process.argv[2]);
const started = performance.now();
const { manifest } = await runCensus(options);
const wallMs = performance.now() - started;
const maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ wallMs, maxRssMb, manifest })}\n`);
