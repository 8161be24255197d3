/**
 * Short text forms of the options, as typed on a command line: `5000/1h`, `100ms±30`,
 * `0.01` or `500=0.01,reset=0.002`. Used by `forage emulator`; errors name the input and the fix.
 */
import { EmulatorError } from './errors.js';
import { type FaultOptions, faultKinds, type LatencyOptions, type RateWindow } from './options.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

function fail(what: string, value: string, expected: string): never {
  throw new EmulatorError(
    'ERR_EMULATOR_OPTIONS',
    `${what} ${JSON.stringify(value)}: expected ${expected}`,
  );
}

/** Parses a duration such as `500ms`, `2s`, `1m`, `1h` (a bare number is milliseconds). */
export function parseDuration(text: string, what = 'duration'): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/.exec(text.trim());
  if (!match) fail(what, text, 'a duration such as 500ms, 2s, 1m or 1h');
  return Number(match[1]) * UNIT_MS[match[2] ?? 'ms']!;
}

/** Parses `LIMIT/WINDOW`, e.g. `5000/1h` or `100/2s`. */
export function parseRateWindow(text: string, what = 'rate limit'): RateWindow {
  const [limit, window, extra] = text.split('/');
  if (extra !== undefined || !limit || !window || !/^\d+$/.test(limit.trim())) {
    fail(what, text, 'LIMIT/WINDOW such as 5000/1h or 100/2s');
  }
  const windowMs = parseDuration(window, what);
  if (windowMs <= 0) fail(what, text, 'a window longer than 0');
  return { limit: Number(limit), windowMs };
}

/** Parses `MEAN[±JITTER]` (also `+-`), e.g. `100ms±30`, `100±30ms`, `50ms`. */
export function parseLatency(text: string, what = 'latency'): LatencyOptions {
  const [mean, jitter, extra] = text.split(/±|\+-/);
  if (extra !== undefined || !mean) fail(what, text, 'MEAN[±JITTER] such as 100ms±30');
  const unit = /(ms|s|m|h)$/.exec(text.trim())?.[1] ?? 'ms';
  const withUnit = (part: string) => (/[a-z]$/.test(part.trim()) ? part : `${part}${unit}`);
  return {
    meanMs: parseDuration(withUnit(mean), what),
    jitterMs: jitter === undefined ? 0 : parseDuration(withUnit(jitter), what),
  };
}

const FAULT_ALIASES: Record<string, (typeof faultKinds)[number]> = {
  '500': 'http500',
  '502': 'http502',
  '503': 'http503',
  http500: 'http500',
  http502: 'http502',
  http503: 'http503',
  reset: 'reset',
  stall: 'stall',
  truncated: 'truncated',
  truncate: 'truncated',
};

/**
 * Parses faults: a single rate (`0.01`) is shared evenly by the six kinds; otherwise a list of
 * `KIND=RATE` with kinds 500, 502, 503, reset, stall, truncated (e.g. `500=0.01,reset=0.002`).
 */
export function parseFaults(text: string, what = 'faults'): FaultOptions {
  const expected =
    'a rate such as 0.01, or KIND=RATE,... with kinds 500, 502, 503, reset, stall, truncated';
  const rate = (s: string) => {
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) fail(what, text, expected);
    return n;
  };
  if (!text.includes('=')) {
    const each = rate(text) / faultKinds.length;
    return Object.fromEntries(faultKinds.map((k) => [k, each]));
  }
  const out: FaultOptions = {};
  for (const part of text.split(',')) {
    const [name, value] = part.split('=');
    const kind = FAULT_ALIASES[(name ?? '').trim()];
    if (!kind || value === undefined) fail(what, text, expected);
    out[kind] = rate(value);
  }
  return out;
}
