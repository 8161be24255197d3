/** Number and text formatting shared by the HTML report and the terminal table. */

/**
 * Makes text from the network safe to put in XML (SVG files) and HTML: control characters
 * that XML forbids and lone surrogates become U+FFFD. Escaping is still needed on top.
 */
export function printable(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
    /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '\ufffd',
  );
}

/** Replaces control characters with '?', so that text from a file cannot drive the terminal. */
export function withoutControls(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return printable(String(value))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A whole number with thousands separators (1,234,567), as en-US writes it, without loading ICU. */
export function formatInt(n: number): string {
  const digits = String(Math.abs(Math.round(n)));
  if (!/^\d+$/.test(digits)) return Math.round(n).toLocaleString('en-US'); // 1e21 and above
  const grouped = digits.replace(/\B(?=(\d{3})+$)/g, ',');
  return n <= -0.5 ? `-${grouped}` : grouped;
}

export function formatPercent(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

export function formatInterval([lo, hi]: [number, number]): string {
  return `${formatPercent(lo)}–${formatPercent(hi)}`;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** Bytes in binary units as the study used them (1 MB = 1024^2 bytes). */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${UNITS[u]}`;
}

export function formatNumber(x: number, digits = 2): string {
  return x.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}
