/**
 * Draws a repository's languages from the figures fitted to the 2016 census (model-2016.ts):
 * whether it is empty, how many languages it has, which one is largest, which others tend to
 * come with it, and how bytes fall off from one language to the next. Pure function of
 * (seed, id): nothing is stored.
 */
import { model2016 } from './model-2016.js';
import { cumulate, hash32, pickCumulative, Rng } from './random.js';

/** Bytes per language, largest first (the order GitHub returns). */
export type LanguageBytes = readonly (readonly [name: string, bytes: number])[];

const PURPOSE_LANGUAGES = 21;
/**
 * GraphQL's Int is 32-bit, and `size`/`totalSize` are Ints: keep a repository's total below
 * 2^31 (the 2016 census's largest was 1.73e9 bytes).
 */
const MAX_TOTAL_BYTES = 2 ** 31 - 1;
/** How often a secondary language is drawn from the primary's companions rather than globally. */
const COMPANION_SHARE = 0.85;

const names = model2016.languages.map((l) => l[0]);
const presenceCumulative = cumulate(model2016.languages.map((l) => l[2]));
const primaryCumulative = cumulate(model2016.languages.map((l) => l[3]));
const countCumulative = cumulate([...model2016.countWeights, ...model2016.countTail.map(() => 1)]);
const companions = new Map<number, { langs: number[]; cumulative: Float64Array }>();
for (const [primary, list] of Object.entries(model2016.coOccurrence)) {
  companions.set(Number(primary), {
    langs: list.map((e) => e[0]),
    cumulative: cumulate(list.map((e) => e[1])),
  });
}

const colors = new Map<string, string | null>(model2016.languages.map((l) => [l[0], l[1]]));

/** The colour GitHub shows for a language (from Linguist), or null when it has none or is unknown. */
export function languageColor(name: string): string | null {
  return colors.get(name) ?? null;
}

/** The names the model knows, most common first (index + 1 is the language's database id). */
export const knownLanguages: readonly string[] = names;

function drawCount(rng: Rng): number {
  const total = countCumulative[countCumulative.length - 1]!;
  const i = pickCumulative(countCumulative, rng.next() * total);
  const histogram = model2016.countWeights.length;
  return i < histogram ? i + 1 : model2016.countTail[i - histogram]!;
}

function draw(cumulative: Float64Array, rng: Rng): number {
  return pickCumulative(cumulative, rng.next() * cumulative[cumulative.length - 1]!);
}

function drawSecondaries(primary: number, count: number, rng: Rng): number[] {
  const chosen = new Set<number>([primary]);
  const order: number[] = [];
  const own = companions.get(primary);
  let attempts = 0;
  while (order.length < count && attempts < 30 * count + 30) {
    attempts++;
    const candidate =
      own && rng.next() < COMPANION_SHARE
        ? own.langs[draw(own.cumulative, rng)]!
        : draw(presenceCumulative, rng);
    if (chosen.has(candidate)) continue;
    chosen.add(candidate);
    order.push(candidate);
  }
  // Very wide repositories (the 2016 data has one with 270 languages) exhaust the random draws:
  // fill up with the most common languages not yet present.
  for (let i = 0; order.length < count && i < names.length; i++) {
    if (!chosen.has(i)) {
      chosen.add(i);
      order.push(i);
    }
  }
  return order;
}

/**
 * The languages of synthetic repository `id`, largest first; empty for an empty repository.
 * `emptyShare` overrides the fitted share of empty repositories.
 */
export function sampleLanguages(seed: number, id: number, emptyShare: number): LanguageBytes {
  const rng = new Rng(hash32(seed, id, PURPOSE_LANGUAGES));
  if (rng.next() < emptyShare) return [];
  const count = Math.min(drawCount(rng), names.length);
  const primary = draw(primaryCumulative, rng);
  const [mu, sd] = [model2016.languages[primary]![4], model2016.languages[primary]![5]];
  let bytes = Math.min(
    model2016.maxBytes,
    Math.max(1, Math.round(Math.exp(mu + sd * rng.normal()))),
  );
  const out: [string, number][] = [[names[primary]!, bytes]];
  const ratios = model2016.ratioLog;
  for (const lang of drawSecondaries(primary, count - 1, rng)) {
    const [rmu, rsd] = ratios[Math.min(out.length, ratios.length) - 1]!;
    const next = Math.round(bytes * Math.exp(Math.min(0, rmu + rsd * rng.normal())));
    bytes = Math.max(1, Math.min(bytes, next));
    out.push([names[lang]!, bytes]);
  }
  const total = out.reduce((sum, [, b]) => sum + b, 0);
  if (total > MAX_TOTAL_BYTES) {
    const scale = MAX_TOTAL_BYTES / total;
    for (const entry of out) entry[1] = Math.max(1, Math.floor(entry[1] * scale));
  }
  return out;
}

const extraIds = new Map<string, number>();
/** A stable database id for a language: its rank in the model, or a new id for unknown names. */
export function languageDatabaseId(name: string): number {
  const known = knownIndex.get(name);
  if (known !== undefined) return known + 1;
  let id = extraIds.get(name);
  if (id === undefined) {
    id = 10_000 + extraIds.size;
    extraIds.set(name, id);
  }
  return id;
}
const knownIndex = new Map(names.map((n, i) => [n, i]));
