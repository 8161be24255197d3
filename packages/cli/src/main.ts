import { CommanderError } from 'commander';
import { ExitCode, forTerminal, oneLine, UsageError } from './errors.js';
import { createProgram } from './program.js';

/** Commander outcomes that are not errors (help and version were printed). */
const benignCodes = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/**
 * Runs the `forage` command line and returns the exit code: 0 success, 1 failure,
 * 2 bad usage. Errors print as one line on stderr; `--debug` adds the stack trace.
 */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const debug = argv.includes('--debug');
  const program = createProgram();
  try {
    await program.parseAsync(debugFirst(argv));
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its one-line message through outputError.
      return benignCodes.has(error.code) ? ExitCode.ok : ExitCode.usage;
    }
    const err = error instanceof Error ? error : new Error(String(error));
    process.stderr.write(`forage: error: ${oneLine(forTerminal(err.message))}\n`);
    if (debug && err.stack) process.stderr.write(`${forTerminal(err.stack)}\n`);
    return err instanceof UsageError ? ExitCode.usage : ExitCode.failure;
  }
}

/**
 * With positional options (see createProgram) only the words before the subcommand are the
 * program's; `--debug` is documented as usable anywhere, so it is moved there.
 */
function debugFirst(argv: readonly string[]): string[] {
  const [node = '', script = '', ...rest] = argv;
  const end = rest.indexOf('--');
  const before = end === -1 ? rest : rest.slice(0, end);
  if (!before.includes('--debug')) return [...argv];
  const after = end === -1 ? [] : rest.slice(end);
  return [node, script, '--debug', ...before.filter((a) => a !== '--debug'), ...after];
}
