import type { Interval } from './interval.js';

/**
 * A market event as it travels through StockStream after ingress validation.
 * `ts` is event time in epoch milliseconds; `id` is stable per source so replays dedupe.
 * See ARCHITECTURE.md §4 "Market event".
 */
export interface TradeEvent {
  readonly kind: 'trade';
  readonly symbol: string;
  readonly ts: number;
  readonly source: string;
  readonly id: string;
  readonly price: number;
  readonly size: number;
  /** Exchange trade condition codes, if the source reports them; empty when none. */
  readonly conditions: readonly string[];
}

export interface QuoteEvent {
  readonly kind: 'quote';
  readonly symbol: string;
  readonly ts: number;
  readonly source: string;
  readonly id: string;
  readonly bid: number;
  readonly ask: number;
  readonly bidSize: number;
  readonly askSize: number;
}

export interface BarEvent {
  readonly kind: 'bar';
  readonly symbol: string;
  /** Start of the bar, epoch ms. */
  readonly ts: number;
  readonly source: string;
  readonly id: string;
  readonly interval: Interval;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

export type MarketEvent = TradeEvent | QuoteEvent | BarEvent;
export type MarketEventKind = MarketEvent['kind'];

/** The conditions of a trade that has none: one shared frozen array. */
export const NO_CONDITIONS: readonly string[] = Object.freeze([]);

/** Factories set every field in one shape so V8 keeps one hidden class per kind (hot path). */
export function trade(f: Omit<TradeEvent, 'kind' | 'conditions'> & { conditions?: readonly string[] }): TradeEvent {
  return {
    kind: 'trade',
    symbol: f.symbol,
    ts: f.ts,
    source: f.source,
    id: f.id,
    price: f.price,
    size: f.size,
    conditions: f.conditions ?? NO_CONDITIONS,
  };
}

export function quote(f: Omit<QuoteEvent, 'kind'>): QuoteEvent {
  return {
    kind: 'quote',
    symbol: f.symbol,
    ts: f.ts,
    source: f.source,
    id: f.id,
    bid: f.bid,
    ask: f.ask,
    bidSize: f.bidSize,
    askSize: f.askSize,
  };
}

export function bar(f: Omit<BarEvent, 'kind'>): BarEvent {
  return {
    kind: 'bar',
    symbol: f.symbol,
    ts: f.ts,
    source: f.source,
    id: f.id,
    interval: f.interval,
    open: f.open,
    high: f.high,
    low: f.low,
    close: f.close,
    volume: f.volume,
  };
}
