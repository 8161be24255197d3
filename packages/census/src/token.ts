/**
 * Tokens: where they come from and how they may be shown. A token is only ever printed as
 * {@link redactToken}'s `ghp_…abcd`, and {@link scrubTokens} removes any that slipped into a
 * message before it leaves the library.
 */

/**
 * Shows a token as its GitHub prefix (`ghp_`, `github_pat_`, ...) and its last four
 * characters, as GitHub's own settings page does: `ghp_…abcd`. Short tokens show as `…`.
 */
export function redactToken(token: string): string {
  if (token.length < 12) return '…';
  // GitHub's token prefixes (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_) say what kind it is.
  const prefix = /^(github_pat_|gh[a-z]_)/.exec(token)?.[1] ?? '';
  return `${prefix}…${token.slice(-4)}`;
}

/**
 * Replaces every occurrence of any of `tokens` in `text` with its redacted form. Longer tokens
 * go first: were a token part of a longer one, replacing it first would leave the rest of the
 * longer one in the text.
 */
export function scrubTokens(text: string, tokens: readonly string[]): string {
  // Only the tokens found are sorted: text without any (every language name of every record,
  // redacted in the census's languages stage) costs one search per token, nothing more.
  let found: string[] | undefined;
  for (const token of tokens) {
    if (token.length > 0 && text.includes(token)) {
      found ??= [];
      found.push(token);
    }
  }
  if (found === undefined) return text;
  let out = text;
  for (const token of found.sort((a, b) => b.length - a.length)) {
    // A token found only inside a longer one is gone once that one is replaced.
    if (out.includes(token)) out = out.split(token).join(redactToken(token));
  }
  return out;
}

/**
 * The tokens to use: the `--token` values if any were given, otherwise `GITHUB_TOKEN`, then
 * `GH_TOKEN` (each may hold several, comma-separated; one that holds none, such as an empty
 * `GITHUB_TOKEN`, is skipped). Blanks are dropped, duplicates removed.
 */
export function tokensFrom(
  flags: readonly string[] | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] {
  const split = (values: readonly string[]) =>
    values
      .flatMap((value) => value.split(','))
      .map((t) => t.trim())
      .filter((t) => t.length > 0);
  if (flags && flags.length > 0) return [...new Set(split(flags))];
  // A GITHUB_TOKEN that is set but empty (a CI secret that is missing) is no token: GH_TOKEN then.
  const github = split([env.GITHUB_TOKEN ?? '']);
  return [...new Set(github.length > 0 ? github : split([env.GH_TOKEN ?? '']))];
}

/**
 * Tokens named by their positions (1-based), as messages and the report show them: `token 2 of
 * 3`, `tokens 1, 2 and 3 of 3` (without `of` when `count` is unknown). Never any part of a token.
 */
export function tokenPositions(
  positions: readonly (number | string)[],
  count?: number | string,
): string {
  const of = count === undefined ? '' : ` of ${count}`;
  if (positions.length === 1) return `token ${positions[0]}${of}`;
  return `tokens ${positions.slice(0, -1).join(', ')} and ${positions.at(-1)}${of}`;
}
