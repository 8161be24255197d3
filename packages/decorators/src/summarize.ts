/**
 * Short, safe one-line summaries of values for `trace()`. Objects show their keys but never
 * their values, strings that look like credentials are redacted, and so are credentials inside
 * longer strings and error messages, so a token passed as an argument does not end up in a log.
 */

/** Prefixes of common credentials (GitHub, Slack, OpenAI-style keys, HTTP auth schemes). */
const SECRET = /^(gh[pousr]_|github_pat_|xox[abpr]-|sk-|bearer\s|basic\s|token\s)/i;
/** A long unbroken run of key-like characters is treated as a secret too. */
const KEY_LIKE = /^[A-Za-z0-9_\-+/=.]{32,}$/;

/**
 * The same credentials inside a longer string (an error message, a URL, a header line). Each
 * rule keeps the context that says what was there and replaces only the secret.
 */
const SECRET_INSIDE: readonly [RegExp, string][] = [
  // GitHub, Slack and OpenAI-style tokens anywhere.
  [/\b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]+/gi, '[redacted]'],
  [/\bxox[abpr]-[A-Za-z0-9-]+/gi, '[redacted]'],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, '[redacted]'],
  // `Authorization: Bearer <key>`-style values, when what follows looks like a key.
  [/\b(bearer|basic|token)(\s+)[A-Za-z0-9_\-+/=.~]{16,}/gi, '$1$2[redacted]'],
  // The user-info part of a URL (`https://user:password@host`, `https://<token>@github.com`).
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi, '$1[redacted]@'],
  // Credentials in a query string.
  [
    /([?&](?:access_token|token|client_secret|api_key|apikey|key|password|secret|signature|sig)=)[^&#\s]+/gi,
    '$1[redacted]',
  ],
];
/**
 * A long run of key characters. It is a secret when it mixes letters and digits; `/` and `.`
 * end a run, so paths, URLs and dotted names survive.
 */
const KEY_RUN = /[A-Za-z0-9_\-+=]{32,}/g;
/** Characters read past the shown length, so a secret that the cut would split is still seen. */
const MARGIN = 512;

/** Replaces every credential-like part of `text`; see {@link SECRET_INSIDE}. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_INSIDE) out = out.replace(pattern, replacement);
  return out.replace(KEY_RUN, (run) =>
    /\d/.test(run) && /[A-Za-z]/.test(run) ? '[redacted]' : run,
  );
}

/**
 * `text` redacted, then cut to about `max` characters. Only the part that can be shown (plus a
 * margin) is scanned, so summarising a large string stays cheap; redacting before the cut means
 * the cut cannot leave the start of a secret unrecognised.
 */
function redactAndTruncate(text: string, max: number, encode = (t: string) => t): string {
  const head = text.length > max + MARGIN ? text.slice(0, max + MARGIN) : text;
  return truncate(encode(redactSecrets(head)), max);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

/**
 * Summarises one value in at most about `max` characters: strings quoted (credentials
 * redacted), numbers as is, arrays as `Array(n)`, errors as `Name: message`, objects as
 * `Class {key1, key2, …}` without values.
 */
export function summarize(value: unknown, max = 40): string {
  switch (typeof value) {
    case 'string':
      if (SECRET.test(value) || KEY_LIKE.test(value)) return '"[redacted]"';
      return redactAndTruncate(value, max, JSON.stringify);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function ${value.name || 'anonymous'}]`;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (value instanceof Error) {
    return redactAndTruncate(`${value.name}: ${value.message}`, max * 2);
  }
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof Map || value instanceof Set) {
    return `${value.constructor.name}(${value.size})`;
  }
  if (typeof (value as { then?: unknown }).then === 'function') return 'Promise';
  const name = (value as object).constructor?.name;
  const prefix = name && name !== 'Object' ? `${name} ` : '';
  const keys = Object.keys(value as object);
  const shown = truncate(keys.join(', '), max);
  return `${prefix}{${shown}}`;
}
