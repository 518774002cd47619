/** The current theme's colours, read from the CSS variables (charts draw on canvas and need them as values). */
export interface Palette {
  bg: string;
  panel: string;
  border: string;
  text: string;
  muted: string;
  up: string;
  down: string;
  accent: string;
  flat: string;
}

export function palette(): Palette {
  const s = getComputedStyle(document.documentElement);
  const v = (name: string): string => s.getPropertyValue(name).trim();
  return { bg: v('--bg'), panel: v('--panel'), border: v('--border'), text: v('--text'), muted: v('--muted'), up: v('--up'), down: v('--down'), accent: v('--accent'), flat: v('--panel-2') };
}

/** Calls `fn` when the user switches theme; returns the stop function. */
export function onThemeChange(fn: () => void): () => void {
  document.addEventListener('themechange', fn);
  return () => document.removeEventListener('themechange', fn);
}
