/** The dashboard's routes live in the hash (`#/symbol/AAPL?i=1m`), so a link or a reload keeps the view. */
export interface RouteParams {
  /** Path segments after the view name: `#/symbol/AAPL` → ['AAPL']. */
  readonly path: readonly string[];
  readonly query: URLSearchParams;
}

/** Parses `#/view/a/b?x=1`; an empty hash is the overview. */
export function parseHash(hash: string): { view: string; params: RouteParams } {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? '' : raw.slice(q + 1);
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  return { view: parts[0] ?? 'overview', params: { path: parts.slice(1), query: new URLSearchParams(query) } };
}
