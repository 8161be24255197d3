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
 * `ESC ]8;;URL`, or their one-byte C1 forms) would otherwise drive the user's terminal. A
 * carriage return is kept only before a line feed: alone, it sends the cursor back to overwrite
 * the line with what follows.
 */
export function forTerminal(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|\r(?!\n)/g, '?');
}

/**
 * JSON text for `stream`: on a terminal, its C1 control characters (U+0080 to U+009F, such as
 * the one-byte CSI), which `JSON.stringify` leaves as they are, are written as `\u0080`-style
 * escapes, the same JSON value that no terminal reads as a control; elsewhere `json` itself.
 */
export function jsonFor(stream: { isTTY?: boolean }, json: string): string {
  if (stream.isTTY !== true) return json;
  return json.replace(
    /[\u0080-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
