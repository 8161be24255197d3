/**
 * Short, safe one-line summaries of values for `trace()`. Objects show their keys but never
 * their values, and strings that look like credentials are redacted, so a token passed as an
 * argument does not end up in a log.
 */

/** Prefixes of common credentials (GitHub, Slack, OpenAI-style keys, HTTP auth schemes). */
const SECRET = /^(gh[pousr]_|github_pat_|xox[abpr]-|sk-|bearer\s|basic\s|token\s)/i;
/** A long unbroken run of key-like characters is treated as a secret too. */
const KEY_LIKE = /^[A-Za-z0-9_\-+/=.]{32,}$/;

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
      return truncate(JSON.stringify(value), max);
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
  if (value instanceof Error) return truncate(`${value.name}: ${value.message}`, max * 2);
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
