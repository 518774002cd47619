import { INTERVAL_MS, INTERVALS, type Candle, type Interval, type MarketCalendar, type MarketEvent, type SessionDay } from '../../../src/domain/index.js';

/**
 * A slow, obviously-correct model of the candle operator's contract, written from the spec and
 * not from the operator: it keeps every candle ever made and every contribution to it, enumerates
 * buckets by stepping through each session window, and recomputes OHLCV from the contributions
 * at each emission. Used to write the golden expected file and as a differential oracle.
 */
export interface ReferenceOptions {
  intervals: readonly Interval[];
  calendarOf: (symbol: string) => MarketCalendar;
  allowedLatenessMs: number;
  fillGaps: boolean;
  includeExtendedHours: boolean;
}

interface Contribution {
  ts: number;
  seq: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  pv: number;
}

interface RefCandle {
  symbol: string;
  interval: Interval;
  start: number;
  end: number;
  wStart: number;
  wEnd: number;
  regular: boolean;
  contributions: Contribution[];
  /** Set for a flat gap fill until a real event lands in it. */
  fillClose: number | null;
  final: boolean;
  rev: number;
}

interface Bucket {
  interval: Interval;
  start: number;
  end: number;
  wStart: number;
  wEnd: number;
  regular: boolean;
}

export class ReferenceCandles {
  readonly candles = new Map<string, RefCandle>();
  wm = Number.NEGATIVE_INFINITY;
  late = 0;
  #seq = 0;
  readonly #o: ReferenceOptions;

  constructor(o: ReferenceOptions) {
    this.#o = o;
  }

  #windows(day: SessionDay): { start: number; end: number; regular: boolean }[] {
    const ws = day.regular.map((w) => ({ start: w.start, end: w.end, regular: true }));
    if (this.#o.includeExtendedHours) {
      if (day.pre) ws.push({ start: day.pre.start, end: day.pre.end, regular: false });
      if (day.post) ws.push({ start: day.post.start, end: day.post.end, regular: false });
    }
    return ws;
  }

  #dayBounds(day: SessionDay): { start: number; end: number } {
    const ext = this.#o.includeExtendedHours;
    const start = ext && day.pre ? day.pre.start : day.regular[0]!.start;
    const end = ext && day.post ? day.post.end : day.regular[day.regular.length - 1]!.end;
    return { start, end };
  }

  #buckets(e: MarketEvent): Bucket[] {
    const cal = this.#o.calendarOf(e.symbol);
    const minRank = e.kind === 'bar' ? INTERVALS.indexOf(e.interval) : 0;
    const wanted = this.#o.intervals.filter((i) => INTERVALS.indexOf(i) >= minRank);
    if (e.kind === 'bar' && e.interval === '1d') {
      const day = cal.day(cal.localDate(e.ts));
      if (!day || day.regular.length === 0 || !wanted.includes('1d')) return [];
      const d = this.#dayBounds(day);
      return [{ interval: '1d', start: d.start, end: d.end, wStart: d.start, wEnd: d.end, regular: true }];
    }
    const day = cal.dayAt(e.ts);
    if (!day) return [];
    const w = this.#windows(day).find((x) => e.ts >= x.start && e.ts < x.end);
    if (!w) return [];
    const out: Bucket[] = [];
    for (const interval of wanted) {
      if (interval === '1d') {
        const d = this.#dayBounds(day);
        out.push({ interval, start: d.start, end: d.end, wStart: d.start, wEnd: d.end, regular: true });
        continue;
      }
      const ms = INTERVAL_MS[interval];
      for (let t = w.start; t < w.end; t += ms) {
        const end = Math.min(t + ms, w.end);
        if (e.ts >= t && e.ts < end) out.push({ interval, start: t, end, wStart: w.start, wEnd: w.end, regular: w.regular });
      }
    }
    return out;
  }

  snapshot(c: RefCandle): Candle {
    if (c.contributions.length === 0) {
      const p = c.fillClose as number;
      return { symbol: c.symbol, interval: c.interval, start: c.start, end: c.end, open: p, high: p, low: p, close: p, volume: 0, vwap: p, trades: 0, final: c.final, rev: c.rev };
    }
    const byTime = [...c.contributions].sort((a, b) => a.ts - b.ts || a.seq - b.seq);
    let volume = 0;
    let pv = 0;
    for (const x of c.contributions) {
      volume += x.v;
      pv += x.pv;
    }
    const close = byTime[byTime.length - 1]!.c;
    return {
      symbol: c.symbol,
      interval: c.interval,
      start: c.start,
      end: c.end,
      open: byTime[0]!.o,
      high: Math.max(...c.contributions.map((x) => x.h)),
      low: Math.min(...c.contributions.map((x) => x.l)),
      close,
      volume,
      vwap: volume > 0 ? pv / volume : close,
      trades: c.contributions.length,
      final: c.final,
      rev: c.rev,
    };
  }

  batch(events: readonly MarketEvent[]): Candle[] {
    const touched = new Set<string>();
    for (const e of events) {
      if (e.kind === 'quote') continue;
      const contribution: Contribution =
        e.kind === 'trade'
          ? { ts: e.ts, seq: this.#seq++, o: e.price, h: e.price, l: e.price, c: e.price, v: e.size, pv: e.price * e.size }
          : { ts: e.ts, seq: this.#seq++, o: e.open, h: e.high, l: e.low, c: e.close, v: e.volume, pv: ((e.high + e.low + e.close) / 3) * e.volume };
      for (const b of this.#buckets(e)) {
        if (b.end + this.#o.allowedLatenessMs <= this.wm) {
          this.late++;
          continue;
        }
        const key = `${e.symbol}|${b.interval}|${b.start}`;
        let c = this.candles.get(key);
        if (!c) {
          c = { symbol: e.symbol, ...b, contributions: [], fillClose: null, final: b.end <= this.wm, rev: 0 };
          this.candles.set(key, c);
        } else if (c.final) {
          // One revision per late event that amends a final candle.
          c.rev++;
        }
        if (c.fillClose !== null) c.fillClose = null;
        c.contributions.push(contribution);
        touched.add(key);
      }
    }
    const out: Candle[] = [];
    for (const key of touched) {
      out.push(this.snapshot(this.candles.get(key)!));
    }
    return out;
  }

  watermark(wm: number): Candle[] {
    if (!(wm > this.wm)) return [];
    const prev = this.wm;
    this.wm = wm;
    const out = new Map<string, RefCandle>();
    if (this.#o.fillGaps) {
      const lanes = new Map<string, RefCandle[]>();
      for (const c of this.candles.values()) {
        if (c.interval === '1d' || !c.regular) continue;
        const k = `${c.symbol}|${c.interval}`;
        (lanes.get(k) ?? lanes.set(k, []).get(k)!).push(c);
      }
      for (const list of lanes.values()) {
        const { symbol, interval } = list[0]!;
        const ms = INTERVAL_MS[interval];
        const windows = [...new Map(list.map((c) => [c.wStart, c.wEnd])).entries()].sort((a, b) => a[0] - b[0]);
        for (const [wStart, wEnd] of windows) {
          for (let t = wStart; t < wEnd; t += ms) {
            const end = Math.min(t + ms, wEnd);
            if (!(end > prev && end <= wm)) continue;
            const key = `${symbol}|${interval}|${t}`;
            if (this.candles.has(key)) continue;
            let nearest: RefCandle | null = null;
            for (const c of this.candles.values()) {
              if (c.symbol === symbol && c.interval === interval && c.wStart === wStart && c.start < t && (!nearest || c.start > nearest.start)) nearest = c;
            }
            if (!nearest) continue;
            const fill: RefCandle = { symbol, interval, start: t, end, wStart, wEnd, regular: true, contributions: [], fillClose: this.snapshot(nearest).close, final: true, rev: 0 };
            this.candles.set(key, fill);
            out.set(key, fill);
          }
        }
      }
    }
    for (const [key, c] of this.candles) {
      if (!c.final && c.end <= wm) {
        c.final = true;
        out.set(key, c);
      }
    }
    return [...out.values()].map((c) => this.snapshot(c));
  }

  close(): Candle[] {
    return [...this.candles.values()].filter((c) => !c.final).map((c) => this.snapshot(c));
  }
}
