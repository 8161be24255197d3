/**
 * Errors the `forage` command turns into exit codes.
 *
 * - {@link UsageError}: the command line was wrong (exit 2). The message names the flag or
 *   argument and says how to fix it.
 * - Anything else thrown by a command is a failure (exit 1), printed as one line.
 */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly code = 'ERR_FORAGE_USAGE';
}

/** Exit codes shared by every subcommand. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;

/** Collapses a message to one line so that errors never print as a wall of text. */
export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
