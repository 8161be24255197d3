/**
 * Checks a contender's JSONL output against the generator's reference: count, unique URLs, every
 * reference post present, and field-by-field equality. Forage is checked on every field of a
 * post; the peers on the fields their spiders extract (url, title, summary, text, and the
 * "Posted on ..." text, parsed here to a date).
 */
import { readFileSync } from 'node:fs';

export interface Verdict {
  items: number;
  unique: number;
  missing: number;
  mismatches: number;
  firstMismatch?: string;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The five visible date formats of the fixture theme, parsed independently of the scraper. */
function dayOf(text: string): string | null {
  const t = text.replace(/^Posted on\s+/, '');
  const iso = (y: string, m: number, d: string) =>
    `${y}-${String(m).padStart(2, '0')}-${d.padStart(2, '0')}`;
  let m = /^(\d{4})\/(\d{2})\/(\d{2})$/.exec(t);
  if (m) return `${m[1]}-${m[2]}-${m[3]}`;
  m = /^(\d{1,2}) ([A-Za-z]+) (\d{4})$/.exec(t);
  if (m) return iso(m[3]!, MONTHS.indexOf(m[2]!.slice(0, 3).toLowerCase()) + 1, m[1]!);
  m = /^([A-Za-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?, (\d{4})$/.exec(t);
  if (m) return iso(m[3]!, MONTHS.indexOf(m[1]!.slice(0, 3).toLowerCase()) + 1, m[2]!);
  return null;
}

function readJsonl(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function verify(outFile: string, referenceFile: string, full: boolean): Verdict {
  const reference = new Map(readJsonl(referenceFile).map((p) => [p.url as string, p]));
  const items = readJsonl(outFile);
  const seen = new Set<string>();
  let mismatches = 0;
  let firstMismatch: string | undefined;
  const differ = (url: string, field: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    mismatches++;
    firstMismatch ??= `${url} ${field}: got ${JSON.stringify(got)?.slice(0, 80)}, want ${JSON.stringify(want)?.slice(0, 80)}`;
  };
  for (const item of items) {
    const url = item.url as string;
    seen.add(url);
    const want = reference.get(url);
    if (!want) {
      differ(url, 'url', url, '(not in the reference)');
      continue;
    }
    const fields = full ? Object.keys(want) : ['title', 'summary', 'text'];
    for (const f of fields) differ(url, f, item[f], want[f]);
    if (!full) differ(url, 'date', dayOf(String(item.date_text)), want.date);
  }
  const missing = [...reference.keys()].filter((u) => !seen.has(u)).length;
  return {
    items: items.length,
    unique: seen.size,
    missing,
    mismatches,
    ...(firstMismatch ? { firstMismatch } : {}),
  };
}
