/**
 * The REST `Link` header (RFC 8288), as GitHub sends it on `/repositories`:
 * `<https://api.github.com/repositories?since=369>; rel="next", <…{?since}>; rel="first"`.
 */

/** One link: its target (as written, possibly a URI template) and its relation types. */
export interface LinkEntry {
  readonly href: string;
  readonly rels: readonly string[];
}

/** Parses a `Link` header into its entries. Malformed parts are skipped, never guessed at. */
export function parseLinkHeader(header: string | null | undefined): LinkEntry[] {
  if (!header) return [];
  const entries: LinkEntry[] = [];
  // Commas may appear inside <…> (templates) and quoted values, so scan rather than split. A
  // parameter may have no value (`; crossorigin`), and a quoted one may hold `\"`.
  const re = /<([^>]*)>((?:\s*;\s*[^;,=\s]+(?:\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,\s]*))?)*)/g;
  for (const match of header.matchAll(re)) {
    const href = match[1]!;
    const params = match[2] ?? '';
    const rels: string[] = [];
    for (const p of params.matchAll(
      /;\s*([^;,=\s]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,\s]*)))?/g,
    )) {
      if (p[1]!.toLowerCase() === 'rel') {
        const value = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
        rels.push(...value.toLowerCase().split(/\s+/).filter(Boolean));
      }
    }
    entries.push({ href, rels });
  }
  return entries;
}

/** The outcome of looking for a `rel="next"` link. */
export type NextLink =
  | { readonly kind: 'none' }
  | { readonly kind: 'next'; readonly url: URL }
  /** A next link that points away from the API origin: never followed with a token. */
  | { readonly kind: 'foreign'; readonly href: string };

/**
 * Finds the `rel="next"` link and resolves it against `base`. A link to any other origin than
 * `origin` comes back as `foreign` so that the caller refuses it rather than sending the token
 * elsewhere.
 */
export function nextLink(header: string | null | undefined, base: URL, origin: string): NextLink {
  const entry = parseLinkHeader(header).find((e) => e.rels.includes('next'));
  if (!entry) return { kind: 'none' };
  let url: URL;
  try {
    url = new URL(entry.href, base);
  } catch {
    return { kind: 'foreign', href: entry.href };
  }
  return url.origin === origin ? { kind: 'next', url } : { kind: 'foreign', href: url.href };
}
