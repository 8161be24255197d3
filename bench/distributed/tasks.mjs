// Tiny tasks for the distributed benchmark (plain .mjs so workers need no TypeScript loader).
export function add(a, b) {
  return a + b;
}
