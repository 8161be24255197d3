/**
 * Names and global ids for synthetic repositories and their owners. A repository's name ends in
 * its id in base 36 (`quiet-parser-1ho0t`), so a name can be turned back into an id without an
 * index; owners are drawn from a pool and spelt in syllables so logins look like logins.
 */
import { hash32 } from './random.js';

const adjectives = [
  'quiet',
  'rapid',
  'simple',
  'tiny',
  'awesome',
  'lazy',
  'bright',
  'clever',
  'dark',
  'eager',
  'fancy',
  'golden',
  'happy',
  'little',
  'modern',
  'open',
  'plain',
  'red',
  'silver',
  'smart',
  'sweet',
  'wild',
  'blue',
  'cool',
  'deep',
  'easy',
  'fast',
  'green',
  'hidden',
  'minimal',
  'new',
  'old',
] as const;
const nouns = [
  'parser',
  'app',
  'bot',
  'site',
  'dotfiles',
  'api',
  'game',
  'blog',
  'cli',
  'server',
  'client',
  'engine',
  'tools',
  'demo',
  'lib',
  'kit',
  'notes',
  'scripts',
  'theme',
  'plugin',
  'tracker',
  'viewer',
  'crawler',
  'compiler',
  'shell',
  'chat',
  'wiki',
  'portfolio',
  'sandbox',
  'project',
  'sdk',
  'utils',
] as const;
const syllables = [
  'ka',
  'ri',
  'to',
  'me',
  'su',
  'na',
  'lo',
  'vi',
  'de',
  'ba',
  'zo',
  'pe',
  'ju',
  'ha',
  'ni',
  'go',
  'ra',
  'ti',
  'mo',
  'sa',
  'le',
  'fu',
  'ke',
  'da',
  'yo',
  'bi',
  'ne',
  'po',
  'ru',
  'xa',
  'wi',
  'co',
] as const;

const PURPOSE_NAME = 11;
const PURPOSE_OLD_NAME = 12;
const PURPOSE_OWNER = 13;
const PURPOSE_ORG = 14;

function wordsFor(seed: number, id: number, purpose: number): string {
  const h = hash32(seed, id, purpose);
  return `${adjectives[h & 31]}-${nouns[(h >>> 5) & 31]}-${id.toString(36)}`;
}

/** The repository's current name. */
export function repoName(seed: number, id: number): string {
  return wordsFor(seed, id, PURPOSE_NAME);
}

/** The name a renamed repository had before (what a stale listing still shows). */
export function oldRepoName(seed: number, id: number): string {
  return wordsFor(seed, id, PURPOSE_OLD_NAME);
}

/** The id encoded at the end of a synthetic repository name, or -1. */
export function idFromRepoName(name: string): number {
  const dash = name.lastIndexOf('-');
  if (dash < 0 || dash === name.length - 1) return -1;
  const tail = name.slice(dash + 1).toLowerCase();
  if (!/^[0-9a-z]{1,11}$/.test(tail)) return -1;
  const id = Number.parseInt(tail, 36);
  return Number.isSafeInteger(id) ? id : -1;
}

/** The owner (user or organisation) id of a repository: owners have several repositories. */
export function ownerIdFor(seed: number, id: number): number {
  const pool = Math.max(1, Math.floor(id / 3));
  return 1 + (hash32(seed, id, PURPOSE_OWNER) % pool);
}

/** A login spelt in syllables; distinct owner ids give distinct logins. */
export function ownerLogin(ownerId: number): string {
  let n = ownerId;
  let out = '';
  do {
    out += syllables[n & 31];
    n = Math.floor(n / 32);
  } while (n > 0);
  return out;
}

/** Whether an owner is an organisation (about one in eight). */
export function ownerIsOrganization(seed: number, ownerId: number): boolean {
  return (hash32(seed, ownerId, PURPOSE_ORG) & 7) === 0;
}

/** GitHub's legacy global id: base64 of `<length of type>:<Type><id>` (e.g. `MDEwOlJlcG9zaXRvcnkx`). */
export function legacyNodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64');
}

/** Decodes a legacy global id into its type and numeric id, or undefined if it is not one. */
export function decodeNodeId(nodeId: string): { type: string; id: number } | undefined {
  if (nodeId.length > 64) return undefined;
  const text = Buffer.from(nodeId, 'base64').toString('latin1');
  const match = /^0(\d{1,2}):([A-Za-z]+)(\d{1,16})$/.exec(text);
  if (!match || Number(match[1]) !== match[2]!.length) return undefined;
  const id = Number(match[3]);
  if (!Number.isSafeInteger(id) || legacyNodeId(match[2]!, id) !== nodeId) return undefined;
  return { type: match[2]!, id };
}
