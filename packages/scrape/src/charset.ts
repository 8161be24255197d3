import { TextDecoder } from 'node:util';

/**
 * Decoding response bytes to text the way browsers do: BOM first, then the `Content-Type`
 * charset, then a `<meta charset>` in the first bytes, else UTF-8. A page said (or guessed) to
 * be UTF-8 whose bytes are mostly not (a common lie from windows-1252 sites) is decoded as
 * windows-1252, so the text stays readable; one with a few bad bytes in otherwise valid UTF-8
 * (a character pasted from Word) stays UTF-8, each bad byte read as U+FFFD.
 */

const META_CHARSET =
  /<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)|<meta[^>]+content\s*=\s*["'][^"']*charset=([A-Za-z0-9._:-]+)/i;
const XML_ENCODING = /^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)/i;

/** The charset named in a `Content-Type` header value, lower-cased, or `null`. */
export function charsetFromContentType(contentType: string | null | undefined): string | null {
  const m = /charset\s*=\s*"?([^";,\s]+)/i.exec(contentType ?? '');
  return m ? m[1]!.toLowerCase() : null;
}

function sniff(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 2048)).toString(
    'latin1',
  );
  const m = META_CHARSET.exec(head) ?? XML_ENCODING.exec(head);
  return m ? (m[1] ?? m[2] ?? '').toLowerCase() : null;
}

function decoder(label: string, fatal: boolean): TextDecoder | null {
  try {
    return new TextDecoder(label, { fatal });
  } catch {
    return null; // an encoding name TextDecoder does not know
  }
}

/** windows-1252's characters for bytes 0x80-0x9F (the rest is Latin-1); undefined bytes stay as is. */
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/**
 * windows-1252 decoding done by hand: Node 20's ICU-backed TextDecoder maps 0x80-0x9F to C1
 * controls (as ISO-8859-1 does) instead of to "–", "’", "€" and friends.
 */
function decodeCp1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  return latin1.replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
}

/**
 * Bytes that fail strict UTF-8: decoded as UTF-8 with U+FFFD for the bad bytes (what browsers
 * do for a declared charset) when they are still mostly UTF-8, that is some valid non-ASCII
 * characters and no more replacements than those; otherwise as windows-1252, whose text almost
 * never forms a valid sequence ("é " is E9 20) and so decodes to replacements only.
 */
function decodeNotQuiteUtf8(bytes: Uint8Array): string {
  const text = new TextDecoder('utf-8').decode(bytes);
  let valid = 0;
  let invalid = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd) invalid++;
    // Non-ASCII, a low surrogate counted once with its high one.
    else if (c > 0x7f && (c < 0xdc00 || c > 0xdfff)) valid++;
  }
  return valid > 0 && invalid <= valid ? text : decodeCp1252(bytes);
}

/** Decodes a response body; `contentType` is the header value (may be null). */
export function decodeBody(bytes: Uint8Array, contentType: string | null | undefined): string {
  const bom = sniff(bytes.subarray(0, 3));
  const label =
    (bom?.startsWith('utf') ? bom : null) ??
    charsetFromContentType(contentType) ??
    fromMeta(sniff(bytes)) ??
    'utf-8';
  const named = decoder(label, true);
  // WHATWG maps latin1, iso-8859-1, ascii and friends to windows-1252.
  if (named?.encoding === 'windows-1252') return decodeCp1252(bytes);
  if (named) {
    try {
      return named.decode(bytes);
    } catch {
      // Declared charset does not fit the bytes: fall through to a forgiving guess.
    }
  }
  // UTF-8 with bad bytes, or a charset name TextDecoder does not know ("utf8mb4"): UTF-8 or
  // windows-1252, whichever the bytes look like.
  if (!named || named.encoding === 'utf-8') return decodeNotQuiteUtf8(bytes);
  // Another declared charset (Shift_JIS, EUC-KR, UTF-16...) that the bytes do not fit: valid
  // UTF-8 is a page converted to UTF-8 that kept its old declaration; otherwise the declared
  // charset with U+FFFD for the bad bytes, as browsers do (windows-1252 would garble every
  // character of a Shift_JIS page for one stray byte).
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder(named.encoding).decode(bytes);
  }
}

/**
 * A charset named in the page itself, as the WHATWG prescan takes it: a page whose `<meta>`
 * says UTF-16 was read as bytes to find that tag, so it is not UTF-16 (it means UTF-8), and
 * x-user-defined means windows-1252.
 */
function fromMeta(label: string | null): string | null {
  if (label === null) return null;
  const encoding = decoder(label, false)?.encoding;
  if (encoding === 'utf-16le' || encoding === 'utf-16be') return 'utf-8';
  if (label === 'x-user-defined') return 'windows-1252';
  return label;
}
