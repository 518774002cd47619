import { getJson, qs, type Kpi, type MarketStatus, type SparklinesReply, type SymbolRow } from '../api';
import type { AppContext, View } from '../app';
import { drawSparkline } from '../charts/sparkline';
import type { Treemap } from '../charts/treemap';
import { emptyState, errorBox, every, h, replace, setText } from '../dom';
import { big, pct, price, relative, time } from '../format';
import { onThemeChange, palette } from '../theme';

/**
 * Market overview: each exchange's status, the watchlist (live KPIs, sparkline, sort, search),
 * a treemap by sector and the top movers. KPI updates arrive on the `kpis` channel for every
 * symbol; rows are patched in place once per animation frame, never rebuilt, so nothing flickers.
 */

interface Row {
  info: SymbolRow;
  kpi: Kpi | null;
  /** Closes of the last SPARK_POINTS steps, then the live last price in the newest step. */
  spark: number[];
  /** The newest step's index (time / sparkStep). */
  sparkSlot: number;
  /** 1 minute once an hour of 1m candles can fill the line; 1 s on a young platform, so the line moves at once. */
  sparkStep: number;
  tr: HTMLTableRowElement;
  cells: { last: HTMLElement; chg: HTMLElement; vol: HTMLElement; spark: HTMLCanvasElement };
}

type SortKey = 'symbol' | 'exchange' | 'last' | 'changePct' | 'volume';
const COLUMNS: { key: SortKey | null; label: string; num?: boolean; narrow?: boolean }[] = [
  { key: 'symbol', label: 'Symbol' },
  { key: null, label: 'Name', narrow: true },
  { key: 'exchange', label: 'Exchange', narrow: true },
  { key: 'last', label: 'Last', num: true },
  { key: 'changePct', label: 'Chg %', num: true },
  { key: 'volume', label: 'Volume', num: true },
  { key: null, label: 'Trend' },
];
const SPARK_POINTS = 60;

export function overviewView(ctx: AppContext): View {
  const stops: (() => void)[] = [];
  const rows = new Map<string, Row>();
  let sortKey: SortKey = 'symbol';
  let sortDir: 1 | -1 = 1;
  let filter = '';
  let dirty = new Set<string>();
  let frame = 0;
  let treemap: Treemap | null = null;
  let treemapSize: 'cap' | 'volume' = 'cap';
  let treemapMarket = 'USD';
  let mounted = true;

  const tbody = h('tbody');
  const marketsEl = h('section', { class: 'markets', 'aria-label': 'Exchanges' });
  const moversEl = h('div', { class: 'movers' });
  const treemapEl = h('div', { class: 'treemap', role: 'img', 'aria-label': 'Market treemap: area by size, colour by change' });
  const headRow = h('tr');

  const sortValue = (r: Row): string | number => {
    switch (sortKey) {
      case 'symbol':
        return r.info.symbol;
      case 'exchange':
        return r.info.exchange ?? '';
      default:
        return r.kpi?.[sortKey] ?? Number.NEGATIVE_INFINITY;
    }
  };

  const renderHead = (): void => {
    replace(
      headRow,
      COLUMNS.map((c) => {
        const th = h('th', { class: `${c.num ? 'num' : ''} ${c.narrow ? 'hide-narrow' : ''}`, scope: 'col' });
        if (c.key === null) th.textContent = c.label;
        else {
          const key = c.key;
          th.setAttribute('aria-sort', key === sortKey ? (sortDir === 1 ? 'ascending' : 'descending') : 'none');
          th.append(
            h(
              'button',
              {
                type: 'button',
                onclick: () => {
                  if (sortKey === key) sortDir = sortDir === 1 ? -1 : 1;
                  else {
                    sortKey = key;
                    sortDir = key === 'symbol' || key === 'exchange' ? 1 : -1;
                  }
                  renderHead();
                  reorder();
                },
              },
              c.label,
            ),
          );
        }
        return th;
      }),
    );
  };

  const reorder = (): void => {
    const list = [...rows.values()].sort((a, b) => {
      const x = sortValue(a);
      const y = sortValue(b);
      return (x < y ? -1 : x > y ? 1 : a.info.symbol < b.info.symbol ? -1 : 1) * sortDir;
    });
    let prev: Element | null = null;
    for (const r of list) {
      const expected: Element | null = prev === null ? tbody.firstElementChild : prev.nextElementSibling;
      if (expected !== r.tr) tbody.insertBefore(r.tr, expected);
      prev = r.tr;
    }
  };

  const applyFilter = (): void => {
    const q = filter.trim().toUpperCase();
    for (const r of rows.values()) {
      const hay = `${r.info.symbol} ${r.info.name} ${r.info.sector ?? ''} ${r.info.exchange ?? ''}`.toUpperCase();
      r.tr.hidden = q !== '' && !hay.includes(q);
    }
  };

  const paintRow = (r: Row, flash: boolean): void => {
    const k = r.kpi;
    const before = r.cells.last.textContent;
    setText(r.cells.last, price(k?.last, r.info.currency));
    setText(r.cells.chg, pct(k?.changePct));
    r.cells.chg.className = `num ${k === null ? '' : k.changePct > 0 ? 'up' : k.changePct < 0 ? 'down' : ''}`;
    setText(r.cells.vol, big(k?.volume));
    if (flash && k !== null && before !== r.cells.last.textContent) {
      const cls = k.change >= 0 ? 'flash-up' : 'flash-down';
      r.cells.last.classList.remove('flash-up', 'flash-down');
      // Restart the animation: reading offsetWidth forces the removal to apply first.
      void r.cells.last.offsetWidth;
      r.cells.last.classList.add(cls);
    }
    const p = palette();
    drawSparkline(r.cells.spark, r.spark, p.up, p.down);
  };

  const flush = (): void => {
    frame = 0;
    if (!mounted) return;
    const batch = dirty;
    dirty = new Set();
    for (const s of batch) {
      const r = rows.get(s);
      if (r) paintRow(r, true);
    }
    if (sortKey !== 'symbol' && sortKey !== 'exchange') reorder();
  };

  const onKpi = (kpi: Kpi): void => {
    const r = rows.get(kpi.symbol);
    if (r === undefined) return;
    r.kpi = kpi;
    const slot = Math.floor(kpi.ts / r.sparkStep);
    if (slot > r.sparkSlot) {
      r.spark.push(kpi.last);
      if (r.spark.length > SPARK_POINTS) r.spark.shift();
      r.sparkSlot = slot;
    } else if (r.spark.length > 0) r.spark[r.spark.length - 1] = kpi.last;
    dirty.add(kpi.symbol);
    if (frame === 0) frame = requestAnimationFrame(flush);
  };

  const makeRow = (info: SymbolRow): Row => {
    const last = h('td', { class: 'num', 'data-col': 'last' });
    const chg = h('td', { class: 'num', 'data-col': 'change' });
    const vol = h('td', { class: 'num', 'data-col': 'volume' });
    const spark = h('canvas', { class: 'spark', 'aria-hidden': 'true' });
    const tr = h(
      'tr',
      { 'data-symbol': info.symbol },
      h('td', {}, h('a', { href: `#/symbol/${encodeURIComponent(info.symbol)}`, title: `Open the chart of ${info.name}` }, info.symbol)),
      h('td', { class: 'hide-narrow muted name', title: info.name }, info.name),
      h('td', { class: 'hide-narrow muted' }, info.exchange ?? '—'),
      last,
      chg,
      vol,
      h('td', {}, spark),
    );
    return { info, kpi: null, spark: [], sparkSlot: 0, sparkStep: 1000, tr, cells: { last, chg, vol, spark } };
  };

  const renderMarkets = (markets: MarketStatus[]): void => {
    const now = Date.now();
    replace(
      marketsEl,
      markets.map((m) => {
        const phaseLabel = m.alwaysOpen ? 'open · demo' : m.phase === 'regular' ? 'open' : m.phase === 'lunch' ? 'lunch break' : m.phase === 'pre' ? 'pre-market' : m.phase === 'post' ? 'after hours' : 'closed';
        const next =
          m.alwaysOpen ? 'sessions ignored by the simulator’s demo switch'
          : m.nextClose !== null ? `closes ${relative(m.nextClose, now)} (${time(m.nextClose, m.timeZone, 'time')} local)`
          : m.nextOpen !== null ? `opens ${relative(m.nextOpen, now)} (${time(m.nextOpen, m.timeZone, 'datetime').slice(0, 16)} local)`
          : 'no session scheduled';
        return h(
          'div',
          { class: 'panel market', 'data-exchange': m.exchange },
          h('div', { class: 'toolbar' }, h('strong', {}, m.exchange), h('span', { class: 'phase', 'data-phase': m.alwaysOpen ? 'regular' : m.phase }, phaseLabel)),
          h('div', { class: 'muted' }, `${m.localTime} ${m.timeZone} · ${m.symbols} symbols`),
          h('div', { class: 'muted', style: 'font-size:12px' }, next),
        );
      }),
    );
  };

  const renderMovers = (): void => {
    const withKpi = [...rows.values()].filter((r) => r.kpi !== null);
    const list = (title: string, items: Row[], value: (r: Row) => string, cls: (r: Row) => string): HTMLElement =>
      h(
        'div',
        {},
        h('h2', {}, title),
        items.length === 0
          ? h('p', { class: 'muted' }, 'No trades yet.')
          : h(
              'ol',
              {},
              items.map((r) => h('li', {}, h('a', { href: `#/symbol/${encodeURIComponent(r.info.symbol)}` }, r.info.symbol), h('span', { class: cls(r) }, value(r)))),
            ),
      );
    const byChange = [...withKpi].sort((a, b) => (b.kpi?.changePct ?? 0) - (a.kpi?.changePct ?? 0));
    const tone = (r: Row): string => ((r.kpi?.changePct ?? 0) >= 0 ? 'up' : 'down');
    replace(
      moversEl,
      list('Top gainers', byChange.slice(0, 5), (r) => pct(r.kpi?.changePct), tone),
      list('Top losers', byChange.slice(-5).reverse(), (r) => pct(r.kpi?.changePct), tone),
      list('Most active', [...withKpi].sort((a, b) => (b.kpi?.tradesPerSec ?? 0) - (a.kpi?.tradesPerSec ?? 0)).slice(0, 5), (r) => `${(r.kpi?.tradesPerSec ?? 0).toFixed(1)} trades/s`, () => 'muted'),
    );
  };

  const renderTreemap = (): void => {
    if (treemap === null) return;
    const p = palette();
    const leaves = [...rows.values()]
      .filter((r) => r.kpi !== null && r.info.currency === treemapMarket)
      .map((r) => {
        const k = r.kpi as Kpi;
        const cap = r.info.sharesOutstanding ? r.info.sharesOutstanding * k.last : null;
        const size = treemapSize === 'cap' && cap !== null ? cap : k.volume;
        return {
          symbol: r.info.symbol,
          name: r.info.name,
          sector: r.info.sector ?? 'Unclassified',
          size: Math.max(size, 1),
          changePct: k.changePct,
          label: treemapSize === 'cap' && cap !== null ? `market cap ${big(cap)} ${r.info.currency ?? ''}` : `volume ${big(k.volume)}`,
        };
      });
    treemap.update(leaves, { up: p.up, down: p.down, flat: p.flat, text: p.text, label: p.muted, border: p.panel });
  };

  /**
   * Sparklines for every row in two requests (GET /api/sparklines): an hour of 1m closes, or,
   * for a symbol with under a quarter of that (a young platform), its last minute of 1s closes.
   */
  const loadSparks = async (): Promise<void> => {
    let minutes: SparklinesReply;
    let seconds: SparklinesReply;
    try {
      [minutes, seconds] = await Promise.all([
        getJson<SparklinesReply>(`/api/sparklines${qs({ interval: '1m', points: SPARK_POINTS })}`),
        getJson<SparklinesReply>(`/api/sparklines${qs({ interval: '1s', points: SPARK_POINTS })}`),
      ]);
    } catch {
      // A sparkline is decoration: the rows still show live values.
      return;
    }
    if (!mounted) return;
    for (const [symbol, r] of rows) {
      const m = minutes.series[symbol];
      const useMinutes = m !== undefined && m.closes.length >= SPARK_POINTS / 4;
      const line = useMinutes ? m : seconds.series[symbol];
      if (line === undefined || line.lastStart === null || line.closes.length === 0) continue;
      const step = useMinutes ? 60_000 : 1000;
      const closes = [...line.closes];
      const lastSlot = Math.floor(line.lastStart / step);
      const live = r.spark[r.spark.length - 1];
      // Keep a live price newer than the history.
      if (live !== undefined && (r.kpi?.ts ?? 0) >= (lastSlot + 1) * step) closes.push(live);
      r.spark = closes.slice(-SPARK_POINTS);
      r.sparkStep = step;
      r.sparkSlot = Math.max(lastSlot, Math.floor((r.kpi?.ts ?? 0) / step));
      dirty.add(symbol);
    }
    if (frame === 0) frame = requestAnimationFrame(flush);
  };

  const refreshMarkets = async (): Promise<void> => {
    try {
      renderMarkets(await getJson<MarketStatus[]>('/api/markets'));
    } catch (err) {
      replace(marketsEl, errorBox('Exchange status unavailable', (err as Error).message));
    }
  };

  return {
    async mount(root) {
      mounted = true;
      const search = h('input', { type: 'search', placeholder: 'Search symbol, name, sector…', 'aria-label': 'Search the watchlist' });
      search.addEventListener('input', () => {
        filter = search.value;
        applyFilter();
      });
      const sizeSel = h('select', { 'aria-label': 'Treemap area' }, h('option', { value: 'cap' }, 'Size: market cap'), h('option', { value: 'volume' }, 'Size: volume'));
      sizeSel.addEventListener('change', () => {
        treemapSize = sizeSel.value as 'cap' | 'volume';
        renderTreemap();
      });
      const marketSel = h('select', { 'aria-label': 'Treemap market' }, h('option', { value: 'USD' }, 'US (USD)'), h('option', { value: 'VND' }, 'Vietnam (VND)'));
      marketSel.addEventListener('change', () => {
        treemapMarket = marketSel.value;
        renderTreemap();
      });
      const watch = h('section', { class: 'panel', 'aria-labelledby': 'wl-title' }, h('div', { class: 'toolbar' }, h('h2', { id: 'wl-title', class: 'grow' }, 'Watchlist'), search), h('div', { class: 'table-wrap' }, h('table', { class: 'watchlist' }, h('thead', {}, headRow), tbody)));
      const side = h(
        'div',
        { class: 'grid' },
        h('section', { class: 'panel', 'aria-labelledby': 'tm-title' }, h('div', { class: 'toolbar' }, h('h2', { id: 'tm-title', class: 'grow' }, 'Treemap'), marketSel, sizeSel), treemapEl),
        h('section', { class: 'panel', 'aria-label': 'Top movers' }, moversEl),
      );
      replace(root, h('h1', {}, 'Market overview'), marketsEl, h('div', { class: 'grid overview-grid' }, watch, side));
      renderHead();
      void refreshMarkets();
      stops.push(every(15_000, refreshMarkets));

      let symbols: SymbolRow[];
      let kpis: Kpi[];
      try {
        [symbols, kpis] = await Promise.all([ctx.symbols(), getJson<Kpi[]>('/api/kpis')]);
      } catch (err) {
        replace(tbody, h('tr', {}, h('td', { colspan: String(COLUMNS.length) }, errorBox('The watchlist could not load', (err as Error).message))));
        return;
      }
      if (!mounted) return;
      if (symbols.length === 0) {
        replace(tbody, h('tr', {}, h('td', { colspan: String(COLUMNS.length) }, emptyState('No symbols yet', 'Symbols appear when a source delivers its first event; check the Pipeline view for the source’s status.'))));
      }
      for (const s of symbols) {
        const r = makeRow(s);
        rows.set(s.symbol, r);
        tbody.append(r.tr);
      }
      for (const k of kpis) onKpi(k);
      for (const r of rows.values()) paintRow(r, false);
      reorder();
      stops.push(ctx.stream.subscribe(['*'], ['kpis'], (m) => onKpi(m.data as Kpi)));
      stops.push(
        ctx.stream.onReconnect(() => {
          void getJson<Kpi[]>('/api/kpis').then((ks) => ks.forEach(onKpi), () => undefined);
        }),
      );
      renderMovers();
      stops.push(every(1000, renderMovers));
      void loadSparks();

      const { createTreemap } = await import('../charts/treemap');
      if (!mounted) return;
      treemap = createTreemap(treemapEl, (symbol) => {
        location.hash = `#/symbol/${encodeURIComponent(symbol)}`;
      });
      renderTreemap();
      stops.push(every(2000, renderTreemap));
      const onResize = (): void => treemap?.resize();
      window.addEventListener('resize', onResize);
      stops.push(() => window.removeEventListener('resize', onResize));
      stops.push(onThemeChange(() => {
        renderTreemap();
        for (const r of rows.values()) paintRow(r, false);
      }));
    },
    unmount() {
      mounted = false;
      if (frame !== 0) cancelAnimationFrame(frame);
      for (const s of stops.splice(0)) s();
      treemap?.dispose();
      treemap = null;
      rows.clear();
    },
  };
}
