import { same } from './bytes.js';
import type { RepoRecord } from './records.js';

/**
 * Reads a `GET /repositories` page straight from its bytes, keeping only the five fields the
 * census writes (`id`, `node_id`, `full_name`, `fork`, `languages_url`).
 *
 * Why: a page is about 450 KB (100 items of 46 fields, owner objects included) of which about
 * 10 KB is kept. Decoding it to a string and `JSON.parse`-ing it whole built a million objects
 * and strings per 10,000 repositories only for the garbage collector; that was most of the
 * census's CPU time and its peak memory.
 *
 * The scanner walks the whole body and checks it against the JSON grammar as it goes
 * (nesting, keys, colons and commas, numbers, literals, every key and kept string in full),
 * so a truncated body is never mistaken for a short page. The one thing it does not check is
 * the inside of string values it skips (found by their closing quote): a control character
 * or bad escape there, which JSON.parse would refuse, goes unnoticed; nothing kept depends on
 * it. It returns undefined, and the caller falls back to `JSON.parse` and its
 * exact error messages, whenever the body is not a plain array of objects each with an integer
 * `id` and string `node_id` and `full_name`, or a key is written with escapes. When it does
 * return, the records equal what `JSON.parse` followed by `repoFromListing` gives (duplicate
 * keys: the last wins; a `fork` that is not `true` is false; a `languages_url` that is not a
 * string is empty).
 */
export function scanListing(bytes: Buffer): RepoRecord[] | undefined {
  const s = new Scanner(bytes);
  if (s.skipSpace() !== OPEN_ARRAY) return undefined;
  s.i++;
  const repos: RepoRecord[] = [];
  let c = s.skipSpace();
  if (c === CLOSE_ARRAY) {
    s.i++;
  } else {
    for (;;) {
      if (c !== OPEN_OBJECT) return undefined;
      const repo = s.item();
      if (repo === undefined) return undefined;
      repos.push(repo);
      c = s.skipSpace();
      if (c === COMMA) {
        s.i++;
        c = s.skipSpace();
        continue;
      }
      if (c !== CLOSE_ARRAY) return undefined;
      s.i++;
      break;
    }
  }
  return s.skipSpace() === END ? repos : undefined;
}

/**
 * Reads a `repos.jsonl` line (`bytes[start, end)`) with the same scanner: its five fields are
 * a listing item's. Anything the scanner leaves alone is parsed as JSON.
 */
export function readRepoLine(bytes: Buffer, start: number, end: number): RepoRecord {
  const s = new Scanner(bytes);
  s.i = start;
  if (s.skipSpace() === OPEN_OBJECT) {
    const repo = s.item();
    // Exactly the line: a malformed one could otherwise run on into the next.
    if (repo !== undefined && s.i === end) return repo;
  }
  return JSON.parse(bytes.toString('utf8', start, end)) as RepoRecord;
}

/** A listing page the scanner read (told apart from an array `JSON.parse` made). */
export class ScannedPage {
  constructor(readonly repos: readonly RepoRecord[]) {}
}

/** The listing's `ApiRequest.read`: the scanned page, or undefined to fall back to JSON.parse. */
export function readListingPage(bytes: Buffer): ScannedPage | undefined {
  const repos = scanListing(bytes);
  return repos && new ScannedPage(repos);
}

const END = -1;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const MINUS = 0x2d;

/** What a value turned out to be (Fail: not valid JSON, or nested too deeply to bother). */
const Kind = { Fail: 0, String: 1, Number: 2, True: 3, Other: 4 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/** Deeper nesting than any listing has: let JSON.parse deal with it. */
const maxDepth = 64;

const keyId = bytesOf('id');
const keyNodeId = bytesOf('node_id');
const keyFullName = bytesOf('full_name');
const keyFork = bytesOf('fork');
const keyLanguagesUrl = bytesOf('languages_url');
const literalTrue = bytesOf('true');
const literalFalse = bytesOf('false');
const literalNull = bytesOf('null');

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Bytes after a backslash that make a JSON escape (`u` is checked separately). */
const simpleEscape = new Uint8Array(256);
for (const c of '"\\/bfnrt') simpleEscape[c.charCodeAt(0)] = 1;

function isHex(c: number | undefined): boolean {
  return (
    c !== undefined && ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66))
  );
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** A cursor over the body; each method starts at `i` and leaves `i` after what it read. */
class Scanner {
  i = 0;
  /** Whether the last string read had a backslash in it. */
  escaped = false;

  constructor(private readonly b: Buffer) {}

  /** Skips JSON whitespace; returns the byte at `i`, or END. */
  skipSpace(): number {
    const b = this.b;
    let i = this.i;
    let c = b[i];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++i];
    this.i = i;
    return c ?? END;
  }

  /** Checks the string value at `start` in full (a kept value); sets `escaped`. */
  private kept(start: number): boolean {
    const at = this.i;
    this.i = start;
    const ok = this.string();
    this.i = at;
    return ok;
  }

  /** Reads one listing item (at `{`): the repository, or undefined to fall back. */
  item(): RepoRecord | undefined {
    const b = this.b;
    this.i++;
    let id: number | undefined;
    let fork = false;
    // Strings are decoded once, at the end, from where they were last seen.
    let nodeId = -1;
    let nodeIdEnd = 0;
    let nodeIdEscaped = false;
    let fullName = -1;
    let fullNameEnd = 0;
    let fullNameEscaped = false;
    let langUrl = -1;
    let langUrlEnd = 0;
    let langUrlEscaped = false;
    let c = this.skipSpace();
    if (c === CLOSE_OBJECT) return undefined; // no id
    for (;;) {
      if (c !== QUOTE) return undefined;
      const keyStart = this.i + 1;
      if (!this.string() || this.escaped) return undefined;
      const keyLength = this.i - 1 - keyStart;
      if (this.skipSpace() !== COLON) return undefined;
      this.i++;
      this.skipSpace();
      const start = this.i;
      const kind = this.value(1);
      if (kind === Kind.Fail) return undefined;
      const end = this.i;
      switch (keyLength) {
        case 2:
          if (same(b, keyStart, keyId)) {
            if (kind !== Kind.Number) return undefined;
            id = integerAt(b, start, end);
            if (id === undefined) return undefined;
          }
          break;
        case 4:
          if (same(b, keyStart, keyFork)) fork = kind === Kind.True;
          break;
        case 7:
          if (same(b, keyStart, keyNodeId)) {
            if (kind !== Kind.String || !this.kept(start)) return undefined;
            nodeId = start;
            nodeIdEnd = end;
            nodeIdEscaped = this.escaped;
          }
          break;
        case 9:
          if (same(b, keyStart, keyFullName)) {
            if (kind !== Kind.String || !this.kept(start)) return undefined;
            fullName = start;
            fullNameEnd = end;
            fullNameEscaped = this.escaped;
          }
          break;
        case 13:
          if (same(b, keyStart, keyLanguagesUrl)) {
            if (kind === Kind.String) {
              if (!this.kept(start)) return undefined;
              langUrl = start;
              langUrlEnd = end;
              langUrlEscaped = this.escaped;
            } else {
              langUrl = -1;
            }
          }
          break;
      }
      c = this.skipSpace();
      if (c === COMMA) {
        this.i++;
        c = this.skipSpace();
        continue;
      }
      if (c !== CLOSE_OBJECT) return undefined;
      this.i++;
      break;
    }
    if (id === undefined || nodeId < 0 || fullName < 0) return undefined;
    return {
      id,
      node_id: stringAt(b, nodeId, nodeIdEnd, nodeIdEscaped),
      full_name: stringAt(b, fullName, fullNameEnd, fullNameEscaped),
      fork,
      languages_url: langUrl < 0 ? '' : stringAt(b, langUrl, langUrlEnd, langUrlEscaped),
    };
  }

  /** Reads any value at `i` (after whitespace), checking it is valid JSON. */
  value(depth: number): Kind {
    const c = this.b[this.i];
    switch (c) {
      case QUOTE:
        return this.skipString() ? Kind.String : Kind.Fail;
      case OPEN_OBJECT:
        return this.container(depth, CLOSE_OBJECT, true);
      case OPEN_ARRAY:
        return this.container(depth, CLOSE_ARRAY, false);
      case 0x74:
        return this.literal(literalTrue) ? Kind.True : Kind.Fail;
      case 0x66:
        return this.literal(literalFalse) ? Kind.Other : Kind.Fail;
      case 0x6e:
        return this.literal(literalNull) ? Kind.Other : Kind.Fail;
      default:
        return this.number() ? Kind.Number : Kind.Fail;
    }
  }

  /** Reads an object or array (at its opening bracket) and everything in it. */
  private container(depth: number, close: number, keyed: boolean): Kind {
    if (depth >= maxDepth) return Kind.Fail;
    this.i++;
    let c = this.skipSpace();
    if (c === close) {
      this.i++;
      return Kind.Other;
    }
    for (;;) {
      if (keyed) {
        if (c !== QUOTE || !this.string()) return Kind.Fail;
        if (this.skipSpace() !== COLON) return Kind.Fail;
        this.i++;
        this.skipSpace();
      }
      if (this.value(depth + 1) === Kind.Fail) return Kind.Fail;
      c = this.skipSpace();
      if (c === COMMA) {
        this.i++;
        c = this.skipSpace();
        continue;
      }
      if (c !== close) return Kind.Fail;
      this.i++;
      return Kind.Other;
    }
  }

  /**
   * Moves past a string value (at its opening quote) to its closing quote, found with the
   * native `indexOf` (most of a page is URLs). Only the end is found: the contents of strings
   * the census does not keep are not checked (a truncated body still fails, unterminated).
   */
  skipString(): boolean {
    const b = this.b;
    let q = b.indexOf(QUOTE, this.i + 1);
    for (;;) {
      if (q < 0) return false;
      // A quote preceded by an odd number of backslashes is escaped.
      let k = q - 1;
      while (b[k] === BACKSLASH) k--;
      if (((q - 1 - k) & 1) === 0) break;
      q = b.indexOf(QUOTE, q + 1);
    }
    this.i = q + 1;
    return true;
  }

  /**
   * Reads a string (at its opening quote): no raw control characters, only JSON's escapes.
   * Sets `escaped` when it holds a backslash.
   */
  string(): boolean {
    const b = this.b;
    let i = this.i + 1;
    let escaped = false;
    for (;;) {
      const c = b[i];
      if (c === undefined || c < 0x20) return false;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        escaped = true;
        const e = b[i + 1];
        if (e === 0x75) {
          if (!(isHex(b[i + 2]) && isHex(b[i + 3]) && isHex(b[i + 4]) && isHex(b[i + 5]))) {
            return false;
          }
          i += 6;
        } else if (e !== undefined && simpleEscape[e] === 1) {
          i += 2;
        } else {
          return false;
        }
        continue;
      }
      i++;
    }
    this.i = i + 1;
    this.escaped = escaped;
    return true;
  }

  /** Reads a number as JSON's grammar spells it: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. */
  private number(): boolean {
    const b = this.b;
    let i = this.i;
    if (b[i] === MINUS) i++;
    if (b[i] === 0x30) i++;
    else if (isDigit(b[i])) while (isDigit(b[i])) i++;
    else return false;
    if (b[i] === 0x2e) {
      i++;
      if (!isDigit(b[i])) return false;
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === MINUS) i++;
      if (!isDigit(b[i])) return false;
      while (isDigit(b[i])) i++;
    }
    this.i = i;
    return true;
  }

  private literal(word: Uint8Array): boolean {
    if (!same(this.b, this.i, word)) return false;
    this.i += word.length;
    return true;
  }
}

/** The safe integer a valid JSON number token spells, or undefined (1.5, 1e300, ...). */
function integerAt(b: Buffer, start: number, end: number): number | undefined {
  let n = 0;
  let plain = end - start <= 15;
  for (let k = start; plain && k < end; k++) {
    const c = b[k]!;
    if (c >= 0x30 && c <= 0x39) n = n * 10 + (c - 0x30);
    else plain = false;
  }
  if (plain) return n;
  // Signs, fractions and exponents: let Number decide, as JSON.parse would.
  const value = Number(b.toString('latin1', start, end));
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The text of a valid JSON string token (quotes included in `start..end`). */
function stringAt(b: Buffer, start: number, end: number, escaped: boolean): string {
  if (escaped) return JSON.parse(b.toString('utf8', start, end)) as string;
  return b.toString('utf8', start + 1, end - 1);
}
