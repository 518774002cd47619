import { h } from './dom';

/** A plain data table; `cell` renders one value (default: its text, objects as JSON). */
export function dataTable(columns: readonly string[], rows: readonly (readonly unknown[])[], options: { numeric?: ReadonlySet<number>; caption?: string; cell?: (v: unknown, col: number) => Node | string } = {}): HTMLTableElement {
  const show = options.cell ?? ((v: unknown) => (v === null || v === undefined ? '∅' : typeof v === 'object' ? JSON.stringify(v) : String(v)));
  return h(
    'table',
    {},
    options.caption ? h('caption', { class: 'muted', style: 'text-align:left' }, options.caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c, i) => h('th', { scope: 'col', class: options.numeric?.has(i) ? 'num' : '' }, c)))),
    h(
      'tbody',
      {},
      rows.map((r) => h('tr', {}, r.map((v, i) => h('td', { class: options.numeric?.has(i) ? 'num' : '' }, show(v, i))))),
    ),
  );
}
