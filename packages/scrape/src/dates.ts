/**
 * Turning the many ways blogs write dates into ISO 8601. Machine dates (`2023-09-01T10:00:00+02:00`)
 * keep their precision and zone; human dates ("Posted on September 1st, 2023", "1 Sept. 2023")
 * become `YYYY-MM-DD`. Anything ambiguous (03/04/2023) or impossible (February 30) gives `null`.
 */

const MONTHS: Record<string, number> = {
  jan: 1,
  january: 1,
  feb: 2,
  february: 2,
  mar: 3,
  march: 3,
  apr: 4,
  april: 4,
  may: 5,
  jun: 6,
  june: 6,
  jul: 7,
  july: 7,
  aug: 8,
  august: 8,
  sep: 9,
  sept: 9,
  september: 9,
  oct: 10,
  october: 10,
  nov: 11,
  november: 11,
  dec: 12,
  december: 12,
};

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function validDay(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || y < 1000 || y > 9999) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

function ymd(y: number, m: number, d: number): string | null {
  return validDay(y, m, d) ? `${pad(y, 4)}-${pad(m)}-${pad(d)}` : null;
}

const MACHINE =
  /^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?)?\s*$/;

/**
 * Normalises a machine-readable date (from `time[datetime]`, `article:published_time`,
 * JSON-LD or a feed) to ISO 8601, keeping its precision and offset. RFC 822 dates from RSS
 * (`Fri, 01 Sep 2023 10:00:00 +0200`) are accepted too. Returns `null` when it is not a date.
 */
export function isoFromMachine(value: string | null | undefined): string | null {
  if (!value) return null;
  const m = MACHINE.exec(value);
  if (m) {
    const day = ymd(Number(m[1]), Number(m[2]), Number(m[3]));
    if (!day) return null;
    if (m[4] === undefined) return day;
    const h = Number(m[4]);
    const min = Number(m[5]);
    const s = m[6] === undefined ? 0 : Number(m[6]);
    if (h > 23 || min > 59 || s > 60) return null;
    const time = `${day}T${pad(h)}:${pad(min)}:${pad(s)}`;
    return time + zone(m[7]);
  }
  return isoFromRfc822(value) ?? isoFromText(value);
}

function zone(z: string | undefined): string {
  if (z === undefined) return '';
  if (/^(?:z|utc|gmt)$/i.test(z)) return 'Z';
  const digits = z.replace(':', '');
  const hh = digits.slice(1, 3);
  const mm = digits.slice(3, 5) || '00';
  if (hh === '00' && mm === '00') return 'Z';
  return `${digits[0]}${hh}:${mm}`;
}

const RFC822 =
  /^\s*(?:[A-Za-z]{3},?\s+)?(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(Z|UT|UTC|GMT|[+-]\d{4})?\s*$/;

function isoFromRfc822(value: string): string | null {
  const m = RFC822.exec(value);
  if (!m) return null;
  const month = MONTHS[m[2]!.toLowerCase()];
  if (!month) return null;
  const day = ymd(Number(m[3]), month, Number(m[1]));
  if (!day) return null;
  const t = `${day}T${pad(Number(m[4]))}:${m[5]}:${m[6] ?? '00'}`;
  return t + zone(m[7] === 'UT' ? 'UTC' : m[7]);
}

const MONTH_WORD =
  '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';
const ORD = '(?:st|nd|rd|th)?';
/** "September 1, 2023", "Sep 1st 2023", "Sept. 01, 2023" */
const MDY = new RegExp(`\\b${MONTH_WORD}\\s+(\\d{1,2})${ORD},?\\s+(\\d{4})\\b`, 'i');
/** "1 September 2023", "1st of Sept, 2023", "01-Sep-2023" */
const DMY = new RegExp(
  `\\b(\\d{1,2})${ORD}(?:\\s+of)?[\\s-]+${MONTH_WORD},?[\\s-]+(\\d{4})\\b`,
  'i',
);
/** "2023-09-01", "2023/9/1", "2023.09.01" */
const YMD = /\b(\d{4})([-/.])(\d{1,2})\2(\d{1,2})\b/;
/** "25/12/2023" or "12/25/2023": only when the day is > 12 so the order is certain. */
const NUMERIC = /\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b/;

/**
 * Finds a date in human text such as "Posted on September 1st, 2023 by Ada" and returns
 * `YYYY-MM-DD`, or `null` when there is none or it is ambiguous.
 */
export function isoFromText(text: string | null | undefined): string | null {
  if (!text) return null;
  const t = text.replace(/\s+/g, ' ');
  let m = YMD.exec(t);
  if (m) return ymd(Number(m[1]), Number(m[3]), Number(m[4]));
  m = MDY.exec(t);
  if (m) return ymd(Number(m[3]), monthOf(m[1]!), Number(m[2]));
  m = DMY.exec(t);
  if (m) return ymd(Number(m[3]), monthOf(m[2]!), Number(m[1]));
  m = NUMERIC.exec(t);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const y = Number(m[3]);
    if (a > 12 && b <= 12) return ymd(y, b, a);
    if (b > 12 && a <= 12) return ymd(y, a, b);
  }
  return null;
}

function monthOf(word: string): number {
  return MONTHS[word.toLowerCase().replace(/\.$/, '')] ?? 0;
}
