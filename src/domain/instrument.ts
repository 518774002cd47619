/** Exchanges StockStream knows calendars for. */
export type ExchangeCode = 'NYSE' | 'NASDAQ' | 'HOSE' | 'HNX' | 'CRYPTO';

export interface Instrument {
  readonly symbol: string;
  readonly name: string;
  readonly exchange: ExchangeCode;
  /** ISO 4217 code, e.g. USD, VND. */
  readonly currency: string;
  readonly sector: string;
  /** For market-cap weights: shares outstanding times last price. */
  readonly sharesOutstanding: number;
}
