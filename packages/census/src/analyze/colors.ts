import { createRequire } from 'node:module';

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
 * 2016 names that Linguist renamed or merged since and that no alias resolves. The rest
 * (VimL -> Vim Script, Matlab -> MATLAB, Perl6 -> Raku, ...) resolve through Linguist's own
 * aliases and case-insensitive names.
 */
const RENAMED: Readonly<Record<string, string>> = {
  Arduino: 'C++',
  KiCad: 'KiCad Layout',
  Nimrod: 'Nim',
  'Ragel in Ruby Host': 'Ragel',
};

interface LinguistEntry {
  color?: string;
  aliases?: readonly string[];
}

let table: { byName: Map<string, LinguistEntry>; byLower: Map<string, string> } | null = null;

function linguistTable() {
  if (table) return table;
  const byName = new Map<string, LinguistEntry>();
  const byLower = new Map<string, string>();
  // Loaded on first use, not at import: it is 833 modules and about 30 MB, which the
  // aggregation (and its worker threads) never need.
  const linguist = createRequire(import.meta.url)('linguist-languages') as Record<
    string,
    LinguistEntry
  >;
  for (const [name, entry] of Object.entries(linguist)) {
    if (!entry || typeof entry !== 'object') continue;
    byName.set(name, entry);
    byLower.set(name.toLowerCase(), name);
  }
  // Aliases only where they do not shadow a real name.
  for (const [name, entry] of byName) {
    for (const alias of entry.aliases ?? []) {
      if (!byLower.has(alias.toLowerCase())) byLower.set(alias.toLowerCase(), name);
    }
  }
  table = { byName, byLower };
  return table;
}

/** Matches a language name to Linguist's current list and picks its colour. */
export function languageColor(name: string): LanguageColor {
  const { byName, byLower } = linguistTable();
  const current = byName.has(name)
    ? name
    : Object.hasOwn(RENAMED, name)
      ? (RENAMED[name] as string)
      : (byLower.get(name.toLowerCase()) ?? null);
  const color = current === null ? undefined : byName.get(current)?.color;
  return {
    name,
    linguist: current,
    color: color && /^#[0-9a-fA-F]{6}$/.test(color) ? color.toLowerCase() : NEUTRAL_COLOR,
  };
}
