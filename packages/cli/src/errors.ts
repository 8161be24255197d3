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

/**
 * `text` with every control character but tab and line breaks shown as `?`: messages quote what
 * servers said (a 401's message, a page title), and an escape sequence in it (`ESC [2J`,
 * `ESC ]8;;URL`, or their one-byte C1 forms) would otherwise drive the user's terminal.
 */
export function forTerminal(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '?');
}
