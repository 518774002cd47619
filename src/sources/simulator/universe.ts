import type { ExchangeCode, Instrument } from '../../domain/index.js';

/** An instrument with the parameters the simulator needs to make it move. */
export interface SimulatedInstrument extends Instrument {
  /** Price at the start of a run, on the exchange's tick grid, in `currency`. */
  readonly startPrice: number;
  /** Annualised volatility in the calm regime, e.g. 0.25 for 25 %. */
  readonly volatility: number;
}

type Row = readonly [symbol: string, name: string, exchange: ExchangeCode, sector: string, sharesOutstanding: number, startPrice: number, volatility: number];

// Shares outstanding and prices are rounded, late-2024-ish figures: enough for realistic market-cap
// weights and price levels, not a reference data feed.
const US: readonly Row[] = [
  ['AAPL', 'Apple Inc.', 'NASDAQ', 'Information Technology', 15_200_000_000, 190.0, 0.25],
  ['MSFT', 'Microsoft Corporation', 'NASDAQ', 'Information Technology', 7_430_000_000, 410.0, 0.24],
  ['NVDA', 'NVIDIA Corporation', 'NASDAQ', 'Information Technology', 24_400_000_000, 120.0, 0.5],
  ['INTC', 'Intel Corporation', 'NASDAQ', 'Information Technology', 4_300_000_000, 31.0, 0.4],
  ['AMD', 'Advanced Micro Devices, Inc.', 'NASDAQ', 'Information Technology', 1_620_000_000, 160.0, 0.5],
  ['GOOGL', 'Alphabet Inc. Class A', 'NASDAQ', 'Communication Services', 5_800_000_000, 170.0, 0.28],
  ['META', 'Meta Platforms, Inc. Class A', 'NASDAQ', 'Communication Services', 2_530_000_000, 500.0, 0.35],
  ['NFLX', 'Netflix, Inc.', 'NASDAQ', 'Communication Services', 430_000_000, 620.0, 0.38],
  ['DIS', 'The Walt Disney Company', 'NYSE', 'Communication Services', 1_820_000_000, 100.0, 0.28],
  ['AMZN', 'Amazon.com, Inc.', 'NASDAQ', 'Consumer Discretionary', 10_500_000_000, 185.0, 0.3],
  ['TSLA', 'Tesla, Inc.', 'NASDAQ', 'Consumer Discretionary', 3_190_000_000, 240.0, 0.55],
  ['HD', 'The Home Depot, Inc.', 'NYSE', 'Consumer Discretionary', 990_000_000, 360.0, 0.22],
  ['WMT', 'Walmart Inc.', 'NYSE', 'Consumer Staples', 8_040_000_000, 68.0, 0.18],
  ['PG', 'The Procter & Gamble Company', 'NYSE', 'Consumer Staples', 2_360_000_000, 165.0, 0.16],
  ['KO', 'The Coca-Cola Company', 'NYSE', 'Consumer Staples', 4_310_000_000, 62.0, 0.15],
  ['PEP', 'PepsiCo, Inc.', 'NASDAQ', 'Consumer Staples', 1_370_000_000, 170.0, 0.16],
  ['JPM', 'JPMorgan Chase & Co.', 'NYSE', 'Financials', 2_850_000_000, 200.0, 0.22],
  ['BAC', 'Bank of America Corporation', 'NYSE', 'Financials', 7_800_000_000, 38.0, 0.27],
  ['V', 'Visa Inc. Class A', 'NYSE', 'Financials', 1_950_000_000, 275.0, 0.18],
  ['JNJ', 'Johnson & Johnson', 'NYSE', 'Health Care', 2_410_000_000, 155.0, 0.16],
  ['UNH', 'UnitedHealth Group Incorporated', 'NYSE', 'Health Care', 920_000_000, 520.0, 0.22],
  ['XOM', 'Exxon Mobil Corporation', 'NYSE', 'Energy', 4_400_000_000, 115.0, 0.24],
  ['CVX', 'Chevron Corporation', 'NYSE', 'Energy', 1_840_000_000, 155.0, 0.24],
];

// HOSE prices respect the tick tiers: 10 VND below 10,000, 50 VND below 50,000, 100 VND above.
const VN: readonly Row[] = [
  ['HPG', 'Hoa Phat Group JSC', 'HOSE', 'Materials', 6_396_000_000, 27_050, 0.32],
  ['VIC', 'Vingroup JSC', 'HOSE', 'Real Estate', 3_824_000_000, 42_000, 0.35],
  ['VHM', 'Vinhomes JSC', 'HOSE', 'Real Estate', 4_354_000_000, 42_350, 0.35],
  ['VNM', 'Vietnam Dairy Products JSC (Vinamilk)', 'HOSE', 'Consumer Staples', 2_090_000_000, 66_000, 0.2],
  ['MSN', 'Masan Group Corporation', 'HOSE', 'Consumer Staples', 1_430_000_000, 75_100, 0.32],
  ['MWG', 'Mobile World Investment Corporation', 'HOSE', 'Consumer Discretionary', 1_462_000_000, 60_500, 0.35],
  ['FPT', 'FPT Corporation', 'HOSE', 'Information Technology', 1_463_000_000, 130_000, 0.28],
  ['VCB', 'Joint Stock Commercial Bank for Foreign Trade of Vietnam (Vietcombank)', 'HOSE', 'Financials', 5_589_000_000, 90_000, 0.22],
  ['TCB', 'Vietnam Technological and Commercial Joint Stock Bank (Techcombank)', 'HOSE', 'Financials', 7_065_000_000, 24_000, 0.3],
  ['VPB', 'Vietnam Prosperity Joint Stock Commercial Bank (VPBank)', 'HOSE', 'Financials', 7_934_000_000, 19_350, 0.3],
  ['SSI', 'SSI Securities Corporation', 'HOSE', 'Financials', 1_960_000_000, 26_500, 0.38],
  ['GAS', 'PetroVietnam Gas JSC', 'HOSE', 'Utilities', 2_342_000_000, 70_200, 0.24],
];

const UNIVERSE: readonly SimulatedInstrument[] = Object.freeze(
  [...US.map((r) => make(r, 'USD')), ...VN.map((r) => make(r, 'VND'))].map((i) => Object.freeze(i)),
);

function make([symbol, name, exchange, sector, sharesOutstanding, startPrice, volatility]: Row, currency: string): SimulatedInstrument {
  return { symbol, name, exchange, currency, sector, sharesOutstanding, startPrice, volatility };
}

/** The demo market: 23 US large caps (NYSE/NASDAQ, USD) and 12 Vietnamese blue chips (HOSE, VND). */
export function defaultUniverse(): SimulatedInstrument[] {
  return [...UNIVERSE];
}
