/** Whether `bytes` holds `word` at `at` (for matching keys and literals without decoding). */
export function same(bytes: Uint8Array, at: number, word: Uint8Array): boolean {
  for (let k = 0; k < word.length; k++) if (bytes[at + k] !== word[k]) return false;
  return true;
}
