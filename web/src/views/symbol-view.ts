import {
  CandlestickSeries,
  CrosshairMode,
  HistogramSeries,
  LineSeries,
  LineStyle,
  TickMarkType,
  createChart,
  type IChartApi,
  type ISeriesApi,
  type LogicalRange,
  type MouseEventParams,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { getJson, qs, type Candle, type Kpi, type MarketStatus, type SymbolRow, type Trade } from '../api';
import { ChartIndicators, type ChartBar, type Point } from '../chart-indicators';
import type { AppContext, RouteParams, View } from '../app';
import { errorBox, h, replace, setText } from '../dom';
import { num, pct, price, time } from '../format';
import { onThemeChange, palette } from '../theme';

/**
 * Symbol view: candlesticks with volume (lightweight-charts), interval switch, overlays (SMA,
 * EMA, Bollinger, VWAP), RSI and MACD panes, crosshair values, older history on scroll-back.
 * Live: the forming candle of `candles:<interval>` is updated in place; a late revision of an
 * older candle (rev + 1) replaces that candle where it stands; the last price follows `ticks`.
 */

export const INTERVALS = ['1s', '1m', '5m', '15m', '1h', '1d'] as const;
const PAGE = 500;
/** Indicator specs of the overlays and panes (the /api/indicators syntax), by their index in ChartIndicators. */
const SPECS = ['sma:20', 'ema:50', 'bbands:20:2', 'vwap', 'rsi:14', 'macd:12:26:9'] as const;
const SMA = 0;
const EMA = 1;
const BB = 2;
const VWAP = 3;
const RSI = 4;
const MACD = 5;
type Overlay = 'sma' | 'ema' | 'bb' | 'vwap';
const OVERLAYS: { key: Overlay; label: string }[] = [
  { key: 'sma', label: 'SMA 20' },
  { key: 'ema', label: 'EMA 50' },
  { key: 'bb', label: 'Bollinger 20, 2' },
  { key: 'vwap', label: 'VWAP' },
];
const OVERLAY_KEY = 'stockstream.overlays';

interface TickProbe {
  ticks: { id: string; symbol: string; paintedAt: number }[];
  firstCandleAt: number | null;
}

declare global {
  interface Window {
    /** Measurements for the benchmark (`?probe=1`): when ticks reached the screen, when the first candle was drawn. */
    __stockstreamProbe?: TickProbe;
  }
}

const sec = (ms: number): UTCTimestamp => Math.floor(ms / 1000) as UTCTimestamp;

function loadOverlays(): Set<Overlay> {
  try {
    const saved = JSON.parse(localStorage.getItem(OVERLAY_KEY) ?? 'null') as unknown;
    if (Array.isArray(saved)) return new Set(saved.filter((x): x is Overlay => OVERLAYS.some((o) => o.key === x)));
  } catch {
    // A damaged setting falls back to the default.
  }
  return new Set<Overlay>(['sma', 'bb']);
}

export function symbolView(ctx: AppContext): View {
  const stops: (() => void)[] = [];
  let chart: IChartApi | null = null;
  let mounted = false;

  return {
    async mount(root: HTMLElement, params: RouteParams) {
      mounted = true;
      const [symbols, markets] = await Promise.all([ctx.symbols().catch(() => [] as SymbolRow[]), getJson<MarketStatus[]>('/api/markets').catch(() => [] as MarketStatus[])]);
      if (!mounted) return;
      const symbol = (params.path[0] ?? symbols[0]?.symbol ?? '').toUpperCase();
      const interval = INTERVALS.find((i) => i === params.query.get('i')) ?? '1m';
      const info = symbols.find((s) => s.symbol === symbol);
      // Times read in the exchange's own zone, as its traders see them.
      const tz = markets.find((m) => m.exchange === info?.exchange)?.timeZone ?? 'UTC';
      const probe = new URLSearchParams(location.search).has('probe') ? (window.__stockstreamProbe ??= { ticks: [], firstCandleAt: null }) : null;

      if (symbol === '') {
        replace(root, errorBox('No symbol to show', 'The platform has no symbols yet: start a source (the simulator is the default) and reload.'));
        return;
      }

      // --- header: picker, last price, change, session stats -----------------------------------
      const picker = h('input', { list: 'symbol-list', value: symbol, 'aria-label': 'Symbol', size: 8, autocomplete: 'off' });
      const go = (): void => {
        const s = picker.value.trim().toUpperCase();
        if (s !== '' && s !== symbol) location.hash = `#/symbol/${encodeURIComponent(s)}?i=${interval}`;
      };
      picker.addEventListener('change', go);
      picker.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') go();
      });
      const lastEl = h('span', { class: 'last', 'data-testid': 'last-price', 'aria-live': 'off' }, '—');
      const chgEl = h('span', { class: 'change' }, '');
      const statsEl = h('span', { class: 'muted' }, '');
      const head = h(
        'div',
        { class: 'symbol-head' },
        h('h1', { style: 'margin:0' }, picker, h('datalist', { id: 'symbol-list' }, symbols.map((s) => h('option', { value: s.symbol }, s.name)))),
        h('span', { class: 'muted' }, info ? `${info.name} · ${info.exchange ?? ''} · ${info.currency ?? ''}` : 'symbol not in the universe'),
        lastEl,
        chgEl,
        statsEl,
      );

      // --- toolbar: interval, overlays ---------------------------------------------------------
      const seg = h('div', { class: 'seg', role: 'group', 'aria-label': 'Interval' });
      for (const i of INTERVALS) {
        const b = h('button', { type: 'button', 'aria-pressed': String(i === interval), 'data-interval': i }, i);
        b.addEventListener('click', () => {
          if (i !== interval) location.hash = `#/symbol/${encodeURIComponent(symbol)}?i=${i}`;
        });
        seg.append(b);
      }
      const overlays = loadOverlays();
      const overlayBoxes = OVERLAYS.map((o) => {
        const box = h('input', { type: 'checkbox', 'data-overlay': o.key });
        box.checked = overlays.has(o.key);
        box.addEventListener('change', () => {
          if (box.checked) overlays.add(o.key);
          else overlays.delete(o.key);
          localStorage.setItem(OVERLAY_KEY, JSON.stringify([...overlays]));
          showOverlays();
        });
        return h('label', { class: 'check' }, box, o.label);
      });
      const status = h('span', { class: 'muted', role: 'status' }, 'Loading…');
      const legend = h('div', { class: 'legend', 'aria-live': 'off' });
      const chartEl = h('div', { class: 'chart', 'data-testid': 'chart', 'data-interval': interval, 'data-symbol': symbol }, legend);
      replace(root, head, h('div', { class: 'toolbar' }, seg, h('span', { class: 'grow' }), ...overlayBoxes), h('section', { class: 'panel', 'aria-label': `${symbol} ${interval} chart` }, chartEl), h('div', { class: 'toolbar' }, status));

      // --- chart ---------------------------------------------------------------------------------
      const p = palette();
      const c = createChart(chartEl, {
        autoSize: true,
        layout: { background: { color: p.panel }, textColor: p.muted, attributionLogo: false, panes: { separatorColor: p.border } },
        grid: { vertLines: { color: p.border }, horzLines: { color: p.border } },
        crosshair: { mode: CrosshairMode.Normal },
        rightPriceScale: { borderColor: p.border },
        timeScale: {
          borderColor: p.border,
          timeVisible: interval !== '1d',
          secondsVisible: interval === '1s',
          // Axis labels in the exchange's zone too (the library's default is UTC).
          tickMarkFormatter: (t: Time, type: TickMarkType) => {
            const ms = (t as number) * 1000;
            if (type === TickMarkType.Year) return time(ms, tz, 'date').slice(0, 4);
            if (type === TickMarkType.Month || type === TickMarkType.DayOfMonth) return time(ms, tz, 'date').slice(5);
            return time(ms, tz, type === TickMarkType.TimeWithSeconds ? 'seconds' : 'time');
          },
        },
        localization: { timeFormatter: (t: Time) => time((t as number) * 1000, tz, interval === '1d' ? 'date' : 'datetime') },
      });
      chart = c;
      const digits = info?.currency === 'VND' ? 0 : 2;
      const priceFormat = { type: 'price' as const, precision: digits, minMove: digits === 0 ? 1 : 0.01 };
      const candles = c.addSeries(CandlestickSeries, { upColor: p.up, downColor: p.down, borderVisible: false, wickUpColor: p.up, wickDownColor: p.down, priceFormat });
      const volume = c.addSeries(HistogramSeries, { priceScaleId: 'vol', priceFormat: { type: 'volume' }, lastValueVisible: false, priceLineVisible: false });
      c.priceScale('vol').applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
      const line = (color: string, pane = 0, width: 1 | 2 = 1, style: LineStyle = LineStyle.Solid): ISeriesApi<'Line'> =>
        c.addSeries(LineSeries, { color, lineWidth: width, lineStyle: style, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false, priceFormat }, pane);
      const over = {
        sma: [line('#f5a623')],
        ema: [line('#b388ff')],
        bb: [line('#4fc3f7', 0, 1, LineStyle.Dashed), line('#4fc3f7'), line('#4fc3f7', 0, 1, LineStyle.Dashed)],
        vwap: [line('#ffd54f', 0, 2)],
      } satisfies Record<Overlay, ISeriesApi<'Line'>[]>;
      // RSI's scale is its whole range, so 30 and 70 sit where a trader expects them.
      const rsi = c.addSeries(
        LineSeries,
        { color: '#ba68c8', lineWidth: 1, priceLineVisible: false, priceFormat: { type: 'price', precision: 1, minMove: 0.1 }, autoscaleInfoProvider: () => ({ priceRange: { minValue: 0, maxValue: 100 } }) },
        1,
      );
      rsi.createPriceLine({ price: 70, color: p.down, lineStyle: LineStyle.Dashed, lineWidth: 1, axisLabelVisible: true, title: '70' });
      rsi.createPriceLine({ price: 30, color: p.up, lineStyle: LineStyle.Dashed, lineWidth: 1, axisLabelVisible: true, title: '30' });
      const macdHist = c.addSeries(HistogramSeries, { priceLineVisible: false, lastValueVisible: false, priceFormat: { type: 'price', precision: 4, minMove: 0.0001 } }, 2);
      const macdLine = c.addSeries(LineSeries, { color: '#42a5f5', lineWidth: 1, priceLineVisible: false, lastValueVisible: false, priceFormat: { type: 'price', precision: 4, minMove: 0.0001 } }, 2);
      const macdSignal = c.addSeries(LineSeries, { color: '#ff7043', lineWidth: 1, priceLineVisible: false, lastValueVisible: false, priceFormat: { type: 'price', precision: 4, minMove: 0.0001 } }, 2);
      // Price and volume take most of the height; RSI and MACD a fifth each (stretch factors are relative).
      const panes = c.panes();
      panes[0]?.setStretchFactor(3);
      panes[1]?.setStretchFactor(1);
      panes[2]?.setStretchFactor(1);

      const showOverlays = (): void => {
        for (const o of OVERLAYS) for (const s of over[o.key]) s.applyOptions({ visible: overlays.has(o.key) });
      };
      showOverlays();

      // --- data ----------------------------------------------------------------------------------
      /** Loaded candles, oldest first; index by start for revisions. */
      let bars: Candle[] = [];
      const byStart = new Map<number, number>();
      let exhausted = false;
      let loadingOlder = false;
      /** Scroll-back waits for the first page: before it, the series may hold only a live candle. */
      let loaded = false;
      let drewFirst = false;
      const candleBar = (k: Candle) => ({ time: sec(k.start), open: k.open, high: k.high, low: k.low, close: k.close });
      const volBar = (k: Candle) => ({ time: sec(k.start), value: k.volume, color: k.close >= k.open ? `${p.up}80` : `${p.down}80` });
      const reindex = (): void => {
        byStart.clear();
        bars.forEach((b, i) => byStart.set(b.start, i));
      };
      const setAll = (): void => {
        candles.setData(bars.map(candleBar));
        volume.setData(bars.map(volBar));
        indicatorsAll();
        chartEl.dataset['candles'] = String(bars.length);
        if (!drewFirst && bars.length > 0) {
          drewFirst = true;
          requestAnimationFrame(() => {
            const at = performance.now();
            performance.mark('stockstream:first-candle');
            document.documentElement.dataset['firstCandleMs'] = at.toFixed(1);
            if (probe) probe.firstCandleAt = at;
          });
        }
      };

      const indicators = new ChartIndicators(SPECS);
      // Session VWAP restarts at each exchange-local date, as the server's sessionOf does.
      const toBar = (k: Candle): ChartBar => ({ start: k.start, open: k.open, high: k.high, low: k.low, close: k.close, volume: k.volume, session: time(k.start, tz, 'date') });
      /** The indicator series fed by `spec`'s `output`, with the histogram's colour for MACD. */
      const outputs: { series: ISeriesApi<'Line'> | ISeriesApi<'Histogram'>; spec: number; output: string; colour?: boolean }[] = [
        { series: over.sma[0] as ISeriesApi<'Line'>, spec: SMA, output: 'value' },
        { series: over.ema[0] as ISeriesApi<'Line'>, spec: EMA, output: 'value' },
        { series: over.bb[0] as ISeriesApi<'Line'>, spec: BB, output: 'upper' },
        { series: over.bb[1] as ISeriesApi<'Line'>, spec: BB, output: 'middle' },
        { series: over.bb[2] as ISeriesApi<'Line'>, spec: BB, output: 'lower' },
        { series: over.vwap[0] as ISeriesApi<'Line'>, spec: VWAP, output: 'value' },
        { series: rsi, spec: RSI, output: 'value' },
        { series: macdLine, spec: MACD, output: 'macd' },
        { series: macdSignal, spec: MACD, output: 'signal' },
        { series: macdHist, spec: MACD, output: 'histogram', colour: true },
      ];
      const datum = (o: (typeof outputs)[number], start: number, pt: Point | undefined) => {
        const v = pt?.[o.output];
        const t = sec(start);
        if (v === null || v === undefined) return { time: t };
        return o.colour ? { time: t, value: v, color: v >= 0 ? `${p.up}b0` : `${p.down}b0` } : { time: t, value: v };
      };
      /** Every indicator over every loaded candle (after a load, a page of older ones, or a revision of an older candle). */
      const indicatorsAll = (): void => {
        indicators.reset(bars.map(toBar));
        for (const o of outputs) {
          const pts = indicators.series(o.spec);
          o.series.setData(bars.map((b, i) => datum(o, b.start, pts[i])));
        }
        // How many candles have an RSI (all but its 14-bar warm-up): tells a test the overlays span the whole chart.
        chartEl.dataset['rsiPoints'] = String(indicators.series(RSI).filter((pt) => pt['value'] !== null).length);
      };
      /** The newest candle, new or changed: O(1) per indicator. */
      const indicatorsNext = (k: Candle): void => {
        const pts = indicators.next(toBar(k));
        for (const o of outputs) o.series.update(datum(o, k.start, pts[o.spec]));
      };

      const legendFor = (k: Candle | undefined, at: number | null): void => {
        if (k === undefined) {
          replace(legend);
          return;
        }
        const i = byStart.get(at ?? k.start);
        const rsiV = i === undefined ? null : (indicators.at(RSI, i)?.['value'] ?? null);
        const macdV = i === undefined ? null : (indicators.at(MACD, i)?.['macd'] ?? null);
        replace(
          legend,
          h('span', {}, time(k.start, tz, interval === '1d' ? 'date' : 'datetime')),
          h('span', {}, `O ${price(k.open, info?.currency)}`),
          h('span', {}, `H ${price(k.high, info?.currency)}`),
          h('span', {}, `L ${price(k.low, info?.currency)}`),
          h('span', { class: k.close >= k.open ? 'up' : 'down' }, `C ${price(k.close, info?.currency)}`),
          h('span', {}, `V ${num(k.volume)}`),
          rsiV === null ? null : h('span', {}, `RSI ${rsiV.toFixed(1)}`),
          macdV === null ? null : h('span', {}, `MACD ${macdV.toFixed(4)}`),
          k.final ? null : h('span', { class: 'muted' }, 'forming'),
          k.rev > 0 ? h('span', { class: 'muted' }, `rev ${k.rev}`) : null,
        );
      };
      c.subscribeCrosshairMove((param: MouseEventParams) => {
        if (param.time === undefined) {
          legendFor(bars[bars.length - 1], null);
          return;
        }
        const ms = (param.time as number) * 1000;
        const i = byStart.get(ms);
        legendFor(i === undefined ? undefined : bars[i], ms);
      });

      const loadOlder = async (range: LogicalRange): Promise<void> => {
        if (!loaded || loadingOlder || exhausted || bars.length === 0) return;
        loadingOlder = true;
        setText(status, 'Loading older candles…');
        try {
          const older = await getJson<Candle[]>(`/api/candles${qs({ symbol, interval, to: (bars[0] as Candle).start - 1, limit: PAGE })}`);
          if (!mounted) return;
          const fresh = older.filter((k) => k.start < (bars[0] as Candle).start);
          if (fresh.length === 0) {
            exhausted = true;
            setText(status, `${bars.length} candles · the start of the available history`);
            return;
          }
          bars = [...fresh, ...bars];
          reindex();
          setAll();
          // Keep the view where it was: the loaded bars are left of it.
          c.timeScale().setVisibleLogicalRange({ from: range.from + fresh.length, to: range.to + fresh.length });
          // A short page is the oldest there is: no request for nothing next time.
          exhausted = older.length < PAGE;
          setText(status, exhausted ? `${bars.length} candles · the start of the available history` : `${bars.length} candles`);
        } catch (err) {
          setText(status, `Older candles unavailable: ${(err as Error).message}`);
        } finally {
          loadingOlder = false;
        }
      };
      c.timeScale().subscribeVisibleLogicalRangeChange((range) => {
        if (range !== null && range.from < 10) void loadOlder(range);
      });

      const onCandle = (k: Candle): void => {
        if (k.interval !== interval) return;
        const last = bars[bars.length - 1];
        const at = byStart.get(k.start);
        if (at !== undefined) {
          // Same candle: the forming one, or a late revision (rev + 1) of an older one, in place.
          bars[at] = k;
          const historical = at !== bars.length - 1;
          candles.update(candleBar(k), historical);
          volume.update(volBar(k), historical);
          // The indicators of every later candle depend on an older one: recompute them.
          if (historical) indicatorsAll();
          else indicatorsNext(k);
        } else if (last === undefined || k.start > last.start) {
          bars.push(k);
          byStart.set(k.start, bars.length - 1);
          if (bars.length === 1) setAll();
          else {
            candles.update(candleBar(k));
            volume.update(volBar(k));
            indicatorsNext(k);
          }
        } else {
          // Inside the loaded range but unknown (a gap filled late): rebuild the series in order.
          if (k.start < (bars[0] as Candle).start) return;
          bars.push(k);
          bars.sort((a, b) => a.start - b.start);
          reindex();
          setAll();
        }
        chartEl.dataset['candles'] = String(bars.length);
        chartEl.dataset['lastCandle'] = String(bars[bars.length - 1]?.start ?? '');
        chartEl.dataset['lastRev'] = `${k.start}:${k.rev}`;
        legendFor(bars[bars.length - 1], null);
      };

      let pendingTick: Trade | null = null;
      let tickFrame = 0;
      const probeIds: string[] = [];
      const onTick = (t: Trade): void => {
        if (t.kind !== 'trade') return;
        pendingTick = t;
        if (probe) probeIds.push(t.id);
        if (tickFrame === 0)
          tickFrame = requestAnimationFrame(() => {
            tickFrame = 0;
            if (pendingTick === null) return;
            setText(lastEl, price(pendingTick.price, info?.currency));
            lastEl.dataset['ts'] = String(pendingTick.ts);
            if (probe) {
              // The frame that shows them is being produced now: this is when they reach the screen.
              const paintedAt = performance.timeOrigin + performance.now();
              for (const id of probeIds.splice(0)) probe.ticks.push({ id, symbol, paintedAt });
            }
          });
      };
      stops.push(() => {
        if (tickFrame !== 0) cancelAnimationFrame(tickFrame);
      });
      const onKpi = (k: Kpi): void => {
        setText(chgEl, `${k.change >= 0 ? '+' : ''}${price(k.change, info?.currency)} (${pct(k.changePct)})`);
        chgEl.className = `change ${k.change > 0 ? 'up' : k.change < 0 ? 'down' : ''}`;
        setText(statsEl, `O ${price(k.open, info?.currency)} · H ${price(k.high, info?.currency)} · L ${price(k.low, info?.currency)} · Vol ${num(k.volume)} · VWAP ${price(k.vwap, info?.currency)}`);
        if (pendingTick === null) setText(lastEl, price(k.last, info?.currency));
      };

      const loadInitial = async (): Promise<void> => {
        try {
          const [list, kpis] = await Promise.all([getJson<Candle[]>(`/api/candles${qs({ symbol, interval, limit: PAGE })}`), getJson<Kpi[]>('/api/kpis')]);
          if (!mounted) return;
          // Live candles that arrived while loading are newer: keep them.
          const newer = bars.filter((b) => b.start > (list[list.length - 1]?.start ?? -Infinity));
          bars = [...list, ...newer];
          exhausted = false;
          reindex();
          setAll();
          loaded = true;
          chartEl.dataset['lastCandle'] = String(bars[bars.length - 1]?.start ?? '');
          legendFor(bars[bars.length - 1], null);
          const kpi = kpis.find((k) => k.symbol === symbol);
          if (kpi) onKpi(kpi);
          setText(status, bars.length === 0 ? `No ${interval} candles for ${symbol} yet: they appear as trades arrive.` : `${bars.length} candles · scroll left for older ones`);
        } catch (err) {
          setText(status, `Candles unavailable: ${(err as Error).message}`);
        }
      };

      stops.push(ctx.stream.subscribe([symbol], [`candles:${interval}`], (m) => onCandle(m.data as Candle)));
      stops.push(ctx.stream.subscribe([symbol], ['ticks'], (m) => onTick(m.data as Trade)));
      stops.push(ctx.stream.subscribe([symbol], ['kpis'], (m) => onKpi(m.data as Kpi)));
      stops.push(ctx.stream.onReconnect(() => void loadInitial()));
      stops.push(
        onThemeChange(() => {
          const q = palette();
          c.applyOptions({ layout: { background: { color: q.panel }, textColor: q.muted, panes: { separatorColor: q.border } }, grid: { vertLines: { color: q.border }, horzLines: { color: q.border } } });
        }),
      );
      await loadInitial();
    },
    unmount() {
      mounted = false;
      for (const s of stops.splice(0)) s();
      chart?.remove();
      chart = null;
    },
  };
}

