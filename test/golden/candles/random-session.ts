import { bar, quote, trade, type Candle, type MarketEvent } from '../../../src/domain/index.js';
import { mulberry32 } from '../../fixtures/random.js';

/** One call into an operator: a batch of events or a watermark. */
export type Step = { type: 'batch'; events: MarketEvent[] } | { type: 'watermark'; wm: number };

export interface SessionSpec {
  seed: number;
  symbols: readonly string[];
  from: number;
  to: number;
  /** Mean gap between events, ms. */
  meanGapMs: number;
  /** Share of events shifted back 0–2.5 s (out of order, usually within lateness). */
  jitterShare: number;
  /** Share of events shifted back 3 s – 2 min (late: some amend, some are refused). */
  lateShare: number;
  /** Share of quotes. */
  quoteShare: number;
  /** Symbol that emits 1m bars (minute-aligned, for the minute just ended) instead of some trades. */
  barSymbol?: string;
  /** [symbol, from, to]: the symbol is silent in [from, to) so gaps get filled. */
  silence?: readonly [string, number, number][];
  /** Watermark = max event time seen − this. */
  watermarkDelayMs: number;
}

/** A deterministic stream of batches and watermarks for the spec. */
export function generateSession(spec: SessionSpec): Step[] {
  const r = mulberry32(spec.seed);
  const price = new Map(spec.symbols.map((s, i) => [s, 50 + 40 * i]));
  const steps: Step[] = [];
  let batch: MarketEvent[] = [];
  let batchTarget = 20 + Math.floor(r() * 40);
  let maxTs = Number.NEGATIVE_INFINITY;
  let n = 0;
  for (let t = spec.from; t < spec.to; t += Math.max(1, Math.round(-Math.log(1 - r()) * spec.meanGapMs))) {
    const symbol = spec.symbols[Math.floor(r() * spec.symbols.length)]!;
    if (spec.silence?.some(([s, a, b]) => s === symbol && t >= a && t < b)) continue;
    const p0 = price.get(symbol)!;
    const p = Math.max(1, Math.round((p0 + (r() - 0.5) * 0.2) * 100) / 100);
    price.set(symbol, p);
    let ts = t;
    const u = r();
    if (u < spec.lateShare) ts -= 3000 + Math.floor(r() * 117_000);
    else if (u < spec.lateShare + spec.jitterShare) ts -= Math.floor(r() * 2500);
    const id = `${symbol}-${n++}`;
    const k = r();
    if (k < spec.quoteShare) {
      batch.push(quote({ symbol, ts, source: 'golden', id, bid: p - 0.01, ask: p + 0.01, bidSize: 100, askSize: 200 }));
    } else if (symbol === spec.barSymbol && k < spec.quoteShare + 0.05) {
      const start = Math.floor(ts / 60_000) * 60_000 - 60_000;
      const hi = Math.round((p + r()) * 100) / 100;
      const lo = Math.round((p - r()) * 100) / 100;
      batch.push(bar({ symbol, ts: start, source: 'golden', id, interval: '1m', open: p, high: hi, low: lo, close: Math.round((lo + (hi - lo) * r()) * 100) / 100, volume: Math.floor(r() * 5000) }));
    } else {
      batch.push(trade({ symbol, ts, source: 'golden', id, price: p, size: 1 + Math.floor(r() * 500) }));
    }
    if (ts > maxTs) maxTs = ts;
    if (batch.length >= batchTarget) {
      steps.push({ type: 'batch', events: batch });
      steps.push({ type: 'watermark', wm: maxTs - spec.watermarkDelayMs });
      batch = [];
      batchTarget = 20 + Math.floor(r() * 40);
    }
  }
  if (batch.length > 0) steps.push({ type: 'batch', events: batch });
  steps.push({ type: 'watermark', wm: maxTs - spec.watermarkDelayMs });
  return steps;
}

/** Anything that takes the steps: the operator or the reference. */
export interface Target {
  batch(events: readonly MarketEvent[]): Candle[];
  watermark(wm: number): Candle[];
}

/** Candle order inside one call is not part of the contract (outputs are keyed upserts). */
export function sortCandles(cs: Candle[]): Candle[] {
  return [...cs].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0) || a.interval.localeCompare(b.interval) || a.start - b.start);
}

export function runSteps(target: Target, steps: readonly Step[]): Candle[][] {
  return steps.map((s) => sortCandles(s.type === 'batch' ? target.batch(s.events) : target.watermark(s.wm)));
}

/** NDJSON: one event per line, watermarks as {"kind":"watermark","ts":…}; a watermark ends a batch. */
export function stepsToNdjson(steps: readonly Step[]): string {
  const lines: string[] = [];
  for (const s of steps) {
    if (s.type === 'batch') for (const e of s.events) lines.push(JSON.stringify(e));
    else lines.push(JSON.stringify({ kind: 'watermark', ts: s.wm }));
  }
  return `${lines.join('\n')}\n`;
}

export function ndjsonToSteps(text: string): Step[] {
  const steps: Step[] = [];
  let batch: MarketEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const o = JSON.parse(line) as Record<string, unknown> & { kind: string };
    if (o.kind === 'watermark') {
      if (batch.length > 0) steps.push({ type: 'batch', events: batch });
      batch = [];
      steps.push({ type: 'watermark', wm: o.ts as number });
    } else if (o.kind === 'trade') batch.push(trade(o as unknown as Parameters<typeof trade>[0]));
    else if (o.kind === 'quote') batch.push(quote(o as unknown as Parameters<typeof quote>[0]));
    else if (o.kind === 'bar') batch.push(bar(o as unknown as Parameters<typeof bar>[0]));
    else throw new Error(`golden input: unknown kind ${o.kind}`);
  }
  if (batch.length > 0) steps.push({ type: 'batch', events: batch });
  return steps;
}
