import { postJson, type SqlResult } from '../api';
import type { AppContext, View } from '../app';
import { emptyState, errorBox, h, replace } from '../dom';
import { toCsv } from '../format';
import { dataTable } from '../table';

/**
 * SQL console over the lake (`POST /api/sql`, read-only views `<layer>.<table>`): results table,
 * CSV export, and the server's error shown as it is — it names what was wrong and how to fix it.
 */

const EXAMPLES: { label: string; sql: string }[] = [
  { label: 'Tables', sql: "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('bronze', 'silver', 'gold') ORDER BY 1, 2" },
  { label: 'Latest KPIs', sql: 'SELECT * FROM gold.kpi_latest ORDER BY symbol' },
  { label: 'AAPL minutes', sql: "SELECT * FROM gold.ohlc_1m WHERE symbol = 'AAPL' ORDER BY start DESC LIMIT 100" },
  { label: 'Ticks per symbol', sql: 'SELECT symbol, count(*) AS ticks, min(ts) AS first_ts, max(ts) AS last_ts FROM bronze.ticks GROUP BY symbol ORDER BY ticks DESC' },
];
const SQL_KEY = 'stockstream.sql';

interface SqlReply extends SqlResult {
  types?: string[];
  truncated?: boolean;
  elapsedMs?: number;
}

export function sqlView(_ctx: AppContext): View {
  let abort: AbortController | null = null;
  return {
    mount(root) {
      const editor = h('textarea', { class: 'sql-editor', spellcheck: 'false', 'aria-label': 'SQL query', 'data-testid': 'sql-editor' });
      editor.value = localStorage.getItem(SQL_KEY) ?? EXAMPLES[0]?.sql ?? '';
      const run = h('button', { type: 'button', class: 'primary', 'data-testid': 'sql-run' }, 'Run (Ctrl+Enter)');
      const csv = h('button', { type: 'button', disabled: true }, 'Export CSV');
      const info = h('span', { class: 'muted', role: 'status' });
      const out = h('div', { 'data-testid': 'sql-result' }, emptyState('Run a query', 'Views are named <layer>.<table>: bronze.ticks, silver.ticks, gold.ohlc_1m, gold.kpi_latest… Try an example above.'));
      let last: SqlReply | null = null;

      const execute = async (): Promise<void> => {
        const sql = editor.value.trim();
        if (sql === '') return;
        localStorage.setItem(SQL_KEY, sql);
        abort?.abort();
        const mine = new AbortController();
        abort = mine;
        run.disabled = true;
        info.textContent = 'Running…';
        try {
          const r = await postJson<SqlReply>('/api/sql', { sql }, mine.signal);
          last = r;
          csv.disabled = false;
          const numeric = new Set<number>();
          r.types?.forEach((t, i) => {
            if (/INT|DOUBLE|FLOAT|DECIMAL|REAL|NUMERIC/i.test(t)) numeric.add(i);
          });
          info.textContent = `${r.rows.length} row${r.rows.length === 1 ? '' : 's'}${r.truncated ? ' (truncated)' : ''}${r.elapsedMs === undefined ? '' : ` in ${r.elapsedMs} ms`}`;
          replace(out, r.rows.length === 0 ? emptyState('No rows', 'The query ran and matched nothing.') : h('div', { class: 'table-wrap' }, dataTable(r.columns, r.rows, { numeric })));
        } catch (err) {
          if ((err as Error).name === 'AbortError') return;
          last = null;
          csv.disabled = true;
          info.textContent = 'Failed';
          replace(out, errorBox('The query failed', (err as Error).message));
        } finally {
          if (abort === mine) run.disabled = false;
        }
      };
      run.addEventListener('click', () => void execute());
      editor.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          void execute();
        }
      });
      csv.addEventListener('click', () => {
        if (last === null) return;
        const url = URL.createObjectURL(new Blob([toCsv(last.columns, last.rows)], { type: 'text/csv;charset=utf-8' }));
        const a = h('a', { href: url, download: `stockstream-${new Date().toISOString().replace(/[:.]/g, '-')}.csv` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
      });
      replace(
        root,
        h('h1', {}, 'SQL over the lake'),
        h(
          'section',
          { class: 'panel' },
          h(
            'div',
            { class: 'toolbar' },
            h('span', { class: 'muted' }, 'Examples:'),
            EXAMPLES.map((x) => {
              const b = h('button', { type: 'button' }, x.label);
              b.addEventListener('click', () => {
                editor.value = x.sql;
                void execute();
              });
              return b;
            }),
          ),
          editor,
          h('div', { class: 'toolbar', style: 'margin-top:8px' }, run, csv, info),
          out,
        ),
      );
      editor.focus();
    },
    unmount() {
      abort?.abort();
      abort = null;
    },
  };
}
