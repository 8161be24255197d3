import type { Collector } from './collector.js';
import type { LineHandler } from './range.js';

/** Keys kept per two-byte prefix for the fast lookup (see `chained`). */
const MAX_CHAIN = 64;

/**
 * Reads one languages object (`{"C":123,"Shell":45}`) straight from bytes, without building a
 * JavaScript object or a string per key: a key's bytes are hashed and looked up in a table of
 * the keys seen so far. Only a strict, common subset of JSON is accepted (string keys, plain
 * non-negative integers of up to 15 digits, optional whitespace); anything else makes the scan
 * return false and the caller falls back to `JSON.parse`, so unusual but valid lines are still
 * read correctly.
 */
export class LanguageScanner {
  /** Language numbers and byte counts of the last object scanned. */
  langs = new Int32Array(64);
  sizes = new Float64Array(64);
  count = 0;

  private slots = new Int32Array(1024);
  private keyHash: number[] = [];
  /** Key k's raw bytes are arena[keyStart[k], keyStart[k] + keyLength[k]). */
  private keyStart: number[] = [];
  private keyLength: number[] = [];
  private arena = new Uint8Array(4096);
  private arenaUsed = 0;
  /** lineOf[lang] = file offset of the last line the fast path saw the language on. */
  private lineOf = new Float64Array(1024).fill(-1);
  private keyLang: number[] = [];
  /** Keys by their first two bytes (id + 1 of the newest; 0: none), chained through nextSame. */
  private byPrefix = new Int32Array(65536);
  private nextSame: number[] = [];
  /**
   * Keys chained per prefix, at most {@link MAX_CHAIN}: Linguist's 833 names share a prefix
   * 14 at most, but a file of 20,000 names starting "La" made every key a walk of the chain
   * (quadratic); keys past the bound are found through the hash table.
   */
  private chained = new Uint8Array(65536);
  /**
   * For {@link push}: language l is at index slotOf[l] of the current object when
   * objectOf[l] === object, so a repeated key is found without searching the object (a line
   * listing tens of thousands of languages took seconds per line).
   */
  private object = 1;
  private objectOf = new Float64Array(1024);
  private slotOf = new Int32Array(1024);

  constructor(private readonly collector: Collector) {}

  /** Resets the per-object state; then call {@link push} or {@link scan}. */
  reset(): void {
    this.count = 0;
    this.object++;
  }

  /** Language number for a name, adding it to the collector when new. */
  languageOf(name: string): number {
    return this.collector.languageOf(name);
  }

  /**
   * Reads the blog-format lines that start in `buf[p, stop)`; each must end with a newline
   * inside `buf`. `base` is the file offset of `buf[0]`. The common line, compact
   * (`{"C":123,"Shell":45}`) with keys seen before and no repeated key, is read and counted in
   * one pass over its bytes, with no per-line call or bounds check (every loop stops at the
   * newline); any other line goes to `other` (whitespace, escapes, new keys, floats, bad
   * JSON), which reads it the careful way. Both give the same result for a line.
   */
  scanLines(buf: Buffer, p: number, stop: number, base: number, other: LineHandler): void {
    const collector = this.collector;
    const byPrefix = this.byPrefix;
    const keyLength = this.keyLength;
    const keyLang = this.keyLang;
    const keyStart = this.keyStart;
    const nextSame = this.nextSame;
    let arena = this.arena;
    let langs = this.langs;
    let sizes = this.sizes;
    let lineOf = this.lineOf;
    while (p < stop) {
      const lineStart = p;
      const line = base + lineStart;
      let k = 0;
      let closed = false;
      if (buf[p] === 0x7b) {
        p++;
        if (buf[p] === 0x7d) {
          p++;
          closed = true;
        } else {
          for (;;) {
            if (buf[p] !== 0x22) break;
            p++;
            // The key: one seen before with these first two bytes, whole, then a quote.
            let lang = -1;
            let id = (byPrefix[((buf[p] as number) << 8) | (buf[p + 1] as number)] as number) - 1;
            while (id >= 0) {
              const len = keyLength[id] as number;
              if (buf[p + len] === 0x22) {
                const at = keyStart[id] as number;
                let i = 0;
                while (i < len && buf[p + i] === arena[at + i]) i++;
                if (i === len) {
                  lang = keyLang[id] as number;
                  p += len + 1;
                  break;
                }
              }
              id = nextSame[id] as number;
            }
            if (lang < 0 || buf[p] !== 0x3a) break; // a new key (the careful path adds it)
            p++;
            const digits = p;
            let v = 0;
            for (;;) {
              const d = (buf[p] as number) - 0x30;
              if (!(d >= 0 && d <= 9)) break;
              v = v * 10 + d;
              p++;
            }
            const n = p - digits;
            if (n === 0 || n > 15 || (n > 1 && buf[digits] === 0x30)) break;
            // A repeated key: JSON keeps the last value, and the careful path does that.
            if (lang >= lineOf.length) lineOf = this.widenLines(lang);
            if (lineOf[lang] === line) break;
            lineOf[lang] = line;
            if (k === langs.length) {
              this.count = k;
              this.widen();
              langs = this.langs;
              sizes = this.sizes;
            }
            langs[k] = lang;
            sizes[k] = v;
            k++;
            const c = buf[p];
            if (c === 0x2c) {
              p++;
              continue;
            }
            if (c === 0x7d) {
              p++;
              closed = true;
            }
            break;
          }
        }
      }
      if (closed && buf[p] === 0x0a) {
        collector.addRepository(langs, sizes, k, base + lineStart);
        p++;
        continue;
      }
      const nl = buf.indexOf(0x0a, lineStart);
      other(buf, lineStart, nl, base + lineStart);
      arena = this.arena; // the careful path may have added keys
      langs = this.langs;
      sizes = this.sizes;
      p = nl + 1;
    }
    // Nothing after the loop: V8 compiles it on the fly (on-stack replacement), and code after
    // it that had never run would make V8 throw that code away when it first runs.
  }

  /** Adds (language, bytes) to the current object; a repeated key keeps the last value, as JSON.parse does. */
  push(lang: number, size: number): void {
    if (lang >= this.objectOf.length) this.widenSlots(lang);
    if (this.objectOf[lang] === this.object) {
      this.sizes[this.slotOf[lang] as number] = size;
      return;
    }
    this.objectOf[lang] = this.object;
    this.slotOf[lang] = this.count;
    if (this.count === this.langs.length) this.widen();
    this.langs[this.count] = lang;
    this.sizes[this.count] = size;
    this.count++;
  }

  /** Room in {@link objectOf} and {@link slotOf} for language `lang`. */
  private widenSlots(lang: number): void {
    const length = Math.max(lang + 1, this.objectOf.length * 2);
    const objectOf = new Float64Array(length);
    objectOf.set(this.objectOf);
    this.objectOf = objectOf;
    const slotOf = new Int32Array(length);
    slotOf.set(this.slotOf);
    this.slotOf = slotOf;
  }

  /** Room in {@link lineOf} for language `lang`. */
  private widenLines(lang: number): Float64Array<ArrayBuffer> {
    const wider = new Float64Array(Math.max(lang + 1, this.lineOf.length * 2)).fill(-1);
    wider.set(this.lineOf);
    this.lineOf = wider;
    return wider;
  }

  /** Doubles the room for one object's languages (keeping the first `count`). */
  private widen(): void {
    const langs = new Int32Array(this.langs.length * 2);
    langs.set(this.langs.subarray(0, this.count));
    this.langs = langs;
    const sizes = new Float64Array(this.sizes.length * 2);
    sizes.set(this.sizes.subarray(0, this.count));
    this.sizes = sizes;
  }

  /** Scans `buf[start, end)`, which must hold exactly one object (and whitespace). */
  scan(buf: Buffer, start: number, end: number): boolean {
    this.reset();
    let p = skipWs(buf, start, end);
    if (buf[p] !== 0x7b) return false; // {
    p = skipWs(buf, p + 1, end);
    if (buf[p] === 0x7d) return skipWs(buf, p + 1, end) === end; // }
    for (;;) {
      if (buf[p] !== 0x22) return false; // "
      const keyStart = p + 1;
      // Most keys were seen before: try them by their first two bytes, which skips hashing.
      let lang = this.known(buf, keyStart, end);
      let q = keyStart + (lang >= 0 ? (this.keyLength[lang >> 16] as number) : 0);
      if (lang >= 0) lang &= 0xffff;
      else {
        let h = 0x811c9dc5;
        let escaped = false;
        for (;;) {
          if (q >= end) return false;
          const c = buf[q] as number;
          if (c === 0x22) break;
          if (c === 0x5c) {
            escaped = true;
            h = Math.imul(h ^ c, 0x01000193);
            q++;
            if (q >= end) return false;
          } else if (c < 0x20) return false;
          h = Math.imul(h ^ (buf[q] as number), 0x01000193);
          q++;
        }
        lang = this.intern(buf, keyStart, q, h >>> 0, escaped);
        if (lang < 0) return false;
      }
      p = skipWs(buf, q + 1, end);
      if (buf[p] !== 0x3a) return false; // :
      p = skipWs(buf, p + 1, end);
      let v = 0;
      const digits = p;
      while (p < end) {
        const d = (buf[p] as number) - 0x30;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
        p++;
      }
      // No digits, a leading zero, or so many that a double might round: let JSON.parse decide.
      if (p === digits || p - digits > 15 || (buf[digits] === 0x30 && p - digits > 1)) return false;
      this.push(lang, v);
      p = skipWs(buf, p, end);
      const c = buf[p];
      if (c === 0x2c) {
        p = skipWs(buf, p + 1, end);
        continue;
      }
      if (c === 0x7d) return skipWs(buf, p + 1, end) === end;
      return false;
    }
  }

  /** Finds (or adds) the language whose key bytes are `buf[s, e)`. */
  private intern(buf: Buffer, s: number, e: number, h: number, escaped: boolean): number {
    const mask = this.slots.length - 1;
    const len = e - s;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot] as number;
      if (entry === 0) break;
      const k = entry - 1;
      if (this.keyHash[k] !== h) continue;
      if (this.keyLength[k] === len && this.sameBytes(buf, s, this.keyStart[k] as number, len)) {
        return this.keyLang[k] as number;
      }
    }
    let name: string;
    try {
      name = escaped
        ? (JSON.parse(buf.toString('utf8', s - 1, e + 1)) as string)
        : buf.toString('utf8', s, e);
    } catch {
      return -1;
    }
    const lang = this.languageOf(name);
    const k = this.keyHash.length;
    this.keyHash.push(h);
    this.keyStart.push(this.store(buf, s, len));
    this.keyLength.push(len);
    this.keyLang.push(lang);
    // Registered for known() when plain (no escapes), when ids and languages fit its packing,
    // and while the chain of its prefix is short.
    const prefix = len > 0 ? ((buf[s] as number) << 8) | (buf[s + 1] as number) : 0;
    if (
      !escaped &&
      len > 0 &&
      k < 0x8000 &&
      lang < 0x10000 &&
      (this.chained[prefix] as number) < MAX_CHAIN
    ) {
      this.chained[prefix]!++;
      this.nextSame.push((this.byPrefix[prefix] as number) - 1);
      this.byPrefix[prefix] = k + 1;
    } else this.nextSame.push(-1);
    if ((k + 1) * 2 > this.slots.length) this.rehash();
    else this.place(k);
    return lang;
  }

  /**
   * The key starting at `s` if it is one seen before (its bytes, then a closing quote), as
   * `(key id << 16) | language`; -1 otherwise. Only keys without escapes are registered, so
   * equal raw bytes mean an equal name.
   */
  private known(buf: Buffer, s: number, end: number): number {
    if (s + 1 >= end) return -1;
    let id = (this.byPrefix[((buf[s] as number) << 8) | (buf[s + 1] as number)] as number) - 1;
    while (id >= 0) {
      const len = this.keyLength[id] as number;
      if (
        s + len < end &&
        buf[s + len] === 0x22 &&
        this.sameBytes(buf, s, this.keyStart[id] as number, len)
      ) {
        return (id << 16) | (this.keyLang[id] as number);
      }
      id = this.nextSame[id] as number;
    }
    return -1;
  }

  /** Keys are short, so a plain loop beats Buffer.compare's per-call cost. */
  private sameBytes(buf: Buffer, s: number, at: number, len: number): boolean {
    const arena = this.arena;
    for (let i = 0; i < len; i++) if (buf[s + i] !== arena[at + i]) return false;
    return true;
  }

  private store(buf: Buffer, s: number, len: number): number {
    if (this.arenaUsed + len > this.arena.length) {
      const bigger = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + len));
      bigger.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = bigger;
    }
    const at = this.arenaUsed;
    this.arena.set(buf.subarray(s, s + len), at);
    this.arenaUsed += len;
    return at;
  }

  private place(k: number): void {
    const mask = this.slots.length - 1;
    let slot = (this.keyHash[k] as number) & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = k + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let k = 0; k < this.keyHash.length; k++) this.place(k);
  }
}

function skipWs(buf: Buffer, p: number, end: number): number {
  while (p < end) {
    const c = buf[p];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
    p++;
  }
  return p;
}

/**
 * Converts a byte count from a parsed languages object the way the study's script did
 * (`int(bytes_count)`): integers as they are, other finite non-negative numbers truncated,
 * digit strings parsed. Anything else is not a byte count (returns null).
 */
export function byteCount(value: unknown): number | null {
  if (typeof value === 'number')
    return Number.isFinite(value) && value >= 0 ? Math.trunc(value) : null;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return null;
}
