import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';

/** How one language name from the data matches GitHub Linguist's current list. */
export interface LanguageColor {
  /** The name as it appears in the data. */
  name: string;
  /** Linguist's current name for it, or null when Linguist does not know it. */
  linguist: string | null;
  /** A CSS hex colour: Linguist's, or a neutral grey when it has none. */
  color: string;
}

/** Neutral colour for names Linguist does not know (or gives no colour). */
export const NEUTRAL_COLOR = '#9e9e9e';

/**
 * Names in the 2016 study's data that Linguist has renamed, re-cased or merged since. Listed
 * so that a 2016 census resolves without loading Linguist's whole list; any other unknown name
 * is still looked up among all of Linguist's names and aliases, case-insensitively.
 */
const RENAMED: Readonly<Record<string, string>> = {
  Arduino: 'C++',
  ASP: 'Classic ASP',
  Bro: 'Zeek',
  Coq: 'Rocq Prover',
  Cucumber: 'Gherkin',
  Ecl: 'ECL',
  FORTRAN: 'Fortran',
  Groff: 'Roff',
  KiCad: 'KiCad Layout',
  Mathematica: 'Wolfram Language',
  Matlab: 'MATLAB',
  Nimrod: 'Nim',
  PAWN: 'Pawn',
  Perl6: 'Raku',
  'Ragel in Ruby Host': 'Ragel',
  SaltStack: 'Salt',
  VimL: 'Vim script',
  'Visual Basic': 'Visual Basic .NET',
};

interface LinguistEntry {
  name?: string;
  color?: string;
  aliases?: readonly string[];
}

const require = createRequire(import.meta.url);
let dataFolder: string | null = null;

/** Linguist's data folder, resolved once (resolving each language's file costs more than reading it). */
function dataDir(): string {
  dataFolder ??= dirname(require.resolve('linguist-languages/data/C'));
  return dataFolder;
}
const entries = new Map<string, LinguistEntry | null>();
let lowerCase: Map<string, string> | null = null;

/**
 * One language's entry, from its own file (`linguist-languages/data/<name>.js`): a census
 * meets a few hundred of Linguist's 833 languages, and reading only those is much cheaper
 * than loading the whole list. The file is read as text, not run: its `name` must match
 * exactly (case too, whatever the file system) and `color` is taken when it is a hex colour.
 * The file name escapes every character outside [A-Za-z0-9.-] as `_<hex>_`, so no name can
 * reach outside the data folder.
 */
function entry(name: string): LinguistEntry | null {
  let found = entries.get(name);
  if (found === undefined) {
    found = null;
    const file = name.replace(/[^A-Za-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16)}_`);
    try {
      // `file` has no separator left and gets `.js` appended (so even `..` names a file in the
      // folder): plain concatenation is safe, and cheaper than path.join for hundreds of names.
      const text = readFileSync(`${dataDir()}${sep}${file}.js`, 'utf8');
      if (text.includes(`name: ${quote(name)},`)) {
        found = { name, color: /^ {2}color: '(#[0-9a-fA-F]{6})',$/m.exec(text)?.[1] };
      }
    } catch {
      // Not a Linguist language under this exact name.
    }
    entries.set(name, found);
  }
  return found;
}

/** A name as the data files write it: single quotes, unless it contains one. */
function quote(name: string): string {
  return name.includes("'") ? JSON.stringify(name) : `'${name.replace(/\\/g, '\\\\')}'`;
}

/** Linguist's names and aliases, lower-cased: loaded only when a name is not found directly. */
function byLowerCase(): Map<string, string> {
  if (lowerCase) return lowerCase;
  lowerCase = new Map();
  const all = require('linguist-languages') as Record<string, LinguistEntry>;
  for (const name of Object.keys(all)) lowerCase.set(name.toLowerCase(), name);
  // Aliases only where they do not shadow a real name.
  for (const [name, value] of Object.entries(all)) {
    for (const alias of value?.aliases ?? []) {
      if (!lowerCase.has(alias.toLowerCase())) lowerCase.set(alias.toLowerCase(), name);
    }
  }
  return lowerCase;
}

/** Matches a language name to Linguist's current list and picks its colour. */
export function languageColor(name: string): LanguageColor {
  const current = entry(name)
    ? name
    : Object.hasOwn(RENAMED, name)
      ? (RENAMED[name] as string)
      : (byLowerCase().get(name.toLowerCase()) ?? null);
  const color = current === null ? undefined : entry(current)?.color;
  return {
    name,
    linguist: current,
    color: color && /^#[0-9a-fA-F]{6}$/.test(color) ? color.toLowerCase() : NEUTRAL_COLOR,
  };
}
