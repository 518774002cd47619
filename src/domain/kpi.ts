/** Per-symbol KPIs as served by `GET /api/kpis` (ARCHITECTURE.md §5). */
export interface Kpi {
  symbol: string;
  /** Last trade price. */
  last: number;
  /** last − previous session close (0 when no previous close is known). */
  change: number;
  /** change / previous close × 100. */
  changePct: number;
  /** Current session's open, high, low. */
  open: number;
  high: number;
  low: number;
  /** Session volume and volume-weighted average price. */
  volume: number;
  vwap: number;
  /** Previous session close; null until one is known. */
  prevClose: number | null;
  /** Trades per second over the last 10 s of event time. */
  tradesPerSec: number;
  /** Event time of the last trade, epoch ms. */
  ts: number;
}
