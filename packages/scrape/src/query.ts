import { compile, selectAll, selectOne } from 'css-select';
import type { AnyNode, Element } from 'domhandler';

/**
 * CSS queries with selectors compiled once. cheerio compiles a selector on every call, which
 * on a crawl of thousands of pages costs more than parsing the pages; the selectors used here
 * are fixed, so each is compiled the first time and kept.
 */
type Compiled = ReturnType<typeof compile<AnyNode, Element>>;
const compiled = new Map<string, Compiled>();

function query(css: string): Compiled {
  let q = compiled.get(css);
  if (!q) {
    // No result cache: it is a WeakSet per selector that would fill with the elements of every
    // page the crawl reads (and cost the garbage collector), for no gain on pages this small.
    q = compile<AnyNode, Element>(css, { cacheResults: false });
    compiled.set(css, q);
  }
  return q;
}

/** Every element under `root` matching `css`, in document order. */
export function queryAll(root: AnyNode | AnyNode[], css: string): Element[] {
  return selectAll<AnyNode, Element>(query(css), root);
}

/** The first element under `root` matching `css`, or null. */
export function queryOne(root: AnyNode | AnyNode[], css: string): Element | null {
  return selectOne<AnyNode, Element>(query(css), root);
}

/**
 * Every element under `root` in document order, for running several selectors over one page
 * with {@link matching}: one walk instead of one per selector.
 */
export function elementsUnder(root: AnyNode): Element[] {
  const out: Element[] = [];
  // A stack of children lists and positions rather than recursion: unclosed tags can nest a
  // page tens of thousands of elements deep, past the call stack.
  const lists: AnyNode[][] = [childrenOf(root)];
  const positions: number[] = [0];
  while (lists.length > 0) {
    const top = lists.length - 1;
    const child = lists[top]![positions[top]!++];
    if (child === undefined) {
      lists.pop();
      positions.pop();
    } else if (child.type === 'tag' || child.type === 'script' || child.type === 'style') {
      out.push(child as Element);
      lists.push(childrenOf(child));
      positions.push(0);
    }
  }
  return out;
}

function childrenOf(node: AnyNode): AnyNode[] {
  return (node as unknown as { children?: AnyNode[] }).children ?? [];
}

/** The elements of `elements` (from {@link elementsUnder}) that match `css`, in order. */
export function matching(elements: readonly Element[], css: string): Element[] {
  return elements.filter(query(css));
}
