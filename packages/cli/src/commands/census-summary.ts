// The end of `forage census`, one machine or coordinator: the report, then the summary.
import { jsonFor, oneLine } from '../errors.js';

/**
 * Writes the report of a finished census (unless --no-report), then prints the summary, one
 * JSON line with --json. A report that cannot be written (a full disk, a `charts` that is a
 * file) costs nothing of the census: the summary is still printed, with a line saying how to
 * write the report again, and the exit code is 1.
 */
export async function printSummary(
  lines: string[],
  dir: string,
  flags: { report: boolean; json?: boolean },
  finished: boolean,
): Promise<void> {
  if (flags.report && finished) {
    try {
      const { files } = await (await import('@forage/census')).report(dir, { outDir: dir });
      lines.push(`report: ${files.html}`);
    } catch (error) {
      const why = oneLine(error instanceof Error ? error.message : String(error));
      process.stderr.write(
        `forage: error: the census is complete, but its report could not be written: ${why}; fix that, then run forage analyze ${dir}\n`,
      );
      lines.push('report: not written (see the error above)');
      process.exitCode = 1;
    }
  }
  if (flags.json)
    process.stdout.write(
      `${jsonFor(process.stdout, JSON.stringify({ type: 'summary', lines }))}\n`,
    );
  else process.stdout.write(`${lines.join('\n')}\n`);
}
