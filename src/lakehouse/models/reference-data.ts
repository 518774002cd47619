import type { DuckDBConnection } from '@duckdb/node-api';
import { zonedToUtc, type ExchangeCode, type Instrument, type MarketCalendar } from '../../domain/index.js';
import { sqlString } from '../../shared/sql.js';

/** What the models know of the market besides the ticks: the composition root supplies it. */
export interface LakeReferenceData {
  readonly instruments: readonly Instrument[];
  calendarOf(exchange: ExchangeCode): MarketCalendar;
  /** Closes known before the lake's first day (the live KPIs' reference too), e.g. the simulator's start prices. */
  readonly previousCloses?: ReadonlyMap<string, number>;
}

/**
 * Auction phases inside regular windows, exchange-local 'HH:MM' (HOSE: ATO 09:00–09:15 and ATC
 * 14:30–14:45; HNX: ATC 14:30–14:45). https://www.hsx.vn — trading rules. Trades in them still
 * build candles (they are in the regular window); silver tags them `auction`.
 */
const AUCTIONS: Partial<Record<ExchangeCode, readonly (readonly [string, string])[]>> = {
  HOSE: [
    ['09:00', '09:15'],
    ['14:30', '14:45'],
  ],
  HNX: [['14:30', '14:45']],
};

const INSTRUMENTS_DDL = `CREATE TABLE IF NOT EXISTS meta.instruments (
  symbol VARCHAR PRIMARY KEY, name VARCHAR, exchange VARCHAR NOT NULL, currency VARCHAR NOT NULL,
  sector VARCHAR, shares_outstanding DOUBLE, time_zone VARCHAR NOT NULL, previous_close DOUBLE)`;

/** One phase of one exchange day; window_* are the regular (or pre/post) window it lies in, day_* the session day. */
const SESSIONS_DDL = `CREATE TABLE IF NOT EXISTS meta.sessions (
  exchange VARCHAR NOT NULL, date DATE NOT NULL, phase VARCHAR NOT NULL, start_ts BIGINT NOT NULL, end_ts BIGINT NOT NULL,
  window_start BIGINT NOT NULL, window_end BIGINT NOT NULL, day_start BIGINT NOT NULL, day_end BIGINT NOT NULL,
  PRIMARY KEY (exchange, start_ts))`;


/** Exchange-local 'HH:MM' on `date`, as epoch ms. */
function atLocal(cal: MarketCalendar, date: string, hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return zonedToUtc(date, h * 60 + m, cal.timeZone);
}

/** Creates (or brings up to date) the reference tables; once, when the model runner opens. */
export const REFERENCE_DDL: readonly string[] = [
  INSTRUMENTS_DDL,
  'ALTER TABLE meta.instruments ADD COLUMN IF NOT EXISTS previous_close DOUBLE',
  SESSIONS_DDL,
];

/** Writes meta.instruments (replaced whole) on `conn`. */
export async function writeInstruments(conn: DuckDBConnection, ref: LakeReferenceData): Promise<void> {
  await conn.run('DELETE FROM meta.instruments');
  if (ref.instruments.length === 0) return;
  const rows = ref.instruments.map(
    (i) => {
      const prev = ref.previousCloses?.get(i.symbol);
      return `(${sqlString(i.symbol)}, ${sqlString(i.name)}, ${sqlString(i.exchange)}, ${sqlString(i.currency)}, ${sqlString(i.sector)}, ${Number.isFinite(i.sharesOutstanding) ? i.sharesOutstanding : 'NULL'}, ${sqlString(ref.calendarOf(i.exchange).timeZone)}, ${prev !== undefined && Number.isFinite(prev) ? `'${prev}'::DOUBLE` : 'NULL'})`;
    },
  );
  await conn.run(`INSERT INTO meta.instruments BY POSITION VALUES ${rows.join(',\n')}`);
}

/**
 * Writes meta.sessions for every exchange of the instruments over [fromDate, toDate] (UTC dates,
 * widened by a day each side so every exchange-local date touching them is covered). Idempotent.
 */
export async function writeSessions(conn: DuckDBConnection, ref: LakeReferenceData, fromDate: string, toDate: string): Promise<void> {
  // CRYPTO too: symbols outside the instrument list trade on its 24/7 calendar, as in the live pipeline.
  const exchanges = [...new Set<ExchangeCode>([...ref.instruments.map((i) => i.exchange), 'CRYPTO'])].sort();
  const from = Date.parse(`${fromDate}T00:00:00Z`) - 86_400_000;
  const to = Date.parse(`${toDate}T00:00:00Z`) + 86_400_000;
  const rows: string[] = [];
  for (const ex of exchanges) {
    const cal = ref.calendarOf(ex);
    for (let d = from; d <= to; d += 86_400_000) {
      const date = new Date(d).toISOString().slice(0, 10);
      const day = cal.day(date);
      if (day === null || day.regular.length === 0) continue;
      const push = (phase: string, s: number, e: number, ws: number, we: number): void => {
        if (e > s) rows.push(`(${sqlString(ex)}, DATE ${sqlString(date)}, ${sqlString(phase)}, ${s}, ${e}, ${ws}, ${we}, ${(day.regular[0] as { start: number }).start}, ${(day.regular[day.regular.length - 1] as { end: number }).end})`);
      };
      if (day.pre !== null) push('pre', day.pre.start, day.pre.end, day.pre.start, day.pre.end);
      for (const w of day.regular) {
        // Split the window around its auctions (none on an always-open demo day: it has no fixed hours).
        const cuts = (w.end - w.start < 86_400_000 - 3_600_000 ? (AUCTIONS[ex] ?? []) : [])
          .map(([a, b]) => [atLocal(cal, date, a), atLocal(cal, date, b)] as const)
          .filter(([a, b]) => a >= w.start && b <= w.end);
        let at = w.start;
        for (const [a, b] of cuts) {
          push('regular', at, a, w.start, w.end);
          push('auction', a, b, w.start, w.end);
          at = b;
        }
        push('regular', at, w.end, w.start, w.end);
      }
      if (day.post !== null) push('post', day.post.start, day.post.end, day.post.start, day.post.end);
    }
  }
  for (let i = 0; i < rows.length; i += 1000) {
    await conn.run(`INSERT OR REPLACE INTO meta.sessions VALUES ${rows.slice(i, i + 1000).join(',\n')}`);
  }
}
