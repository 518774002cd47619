import pg from 'pg';
import type { Candle, Interval, Kpi } from '../../../domain/index.js';
import { StockStreamError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/logger.js';
import type { IndicatorPoint, RangeQuery } from '../../live/index.js';
import type { SeriesSnapshot } from './indicator-series.js';
import { migrate } from './migrations.js';
import { MonthlyPartitions } from './monthly-partitions.js';
import { epochMs, timestampParam, withTransaction } from './pg-session.js';

export interface PgWarehouseOptions {
  /** libpq URL (warehouse.postgres.url). */
  url: string;
  /** Connections in the pool (warehouse.postgres.poolSize). Default 4. */
  poolSize?: number;
  /** Run the migrations on open (default true). */
  migrate?: boolean;
  /** Give up connecting after this long (ms), so an unreachable server fails a write instead of hanging it. Default 5,000. */
  connectTimeoutMs?: number;
  logger?: Logger;
}

/** An alert as stored in serving.alerts (no alert engine writes them yet; the API reads them). */
export interface WarehouseAlert {
  /** Stable id: re-inserting the same (id, ts) changes nothing. */
  id: string;
  /** Event time, epoch ms. */
  ts: number;
  symbol: string;
  rule: string;
  severity: string;
  message: string;
  /** Rule-specific details, stored as jsonb. */
  payload: Record<string, unknown>;
}

export interface AlertQuery {
  symbol?: string;
  rule?: string;
  severity?: string;
  /** Inclusive bounds on ts, epoch ms. */
  from?: number;
  to?: number;
  /** Newest first, at most this many. Default 100. */
  limit?: number;
}

/** One value of serving.indicators. */
export interface IndicatorValueRow {
  symbol: string;
  interval: Interval;
  start: number;
  spec: string;
  output: string;
  value: number | null;
}

/** Indicator state of one series, saved with the batch that produced it (serving.indicator_state). */
export interface IndicatorStateRow extends SeriesSnapshot {
  symbol: string;
  interval: Interval;
}

/** Everything one transaction writes. Keys may repeat: the newest revision, the newest KPI and the last value win. */
export interface WarehouseBatch {
  candles?: readonly Candle[];
  indicatorValues?: readonly IndicatorValueRow[];
  kpis?: readonly Kpi[];
  alerts?: readonly WarehouseAlert[];
  indicatorState?: readonly IndicatorStateRow[];
}

/** Rows per statement: arrays of this size keep one statement's parameters a few MB. */
const CHUNK = 5_000;

/** Candle columns as read back, epoch ms for times. */
const CANDLE_COLUMNS = `symbol, interval, ${epochMs('start')} AS start, ${epochMs('"end"')} AS "end", open, high, low, close, volume, vwap, trades, final, rev`;

interface CandleRow {
  symbol: string;
  interval: string;
  start: number;
  end: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  /** int8 comes back as a string from node-postgres. */
  trades: string;
  final: boolean;
  rev: number;
}

function toCandle(r: CandleRow): Candle {
  return {
    symbol: r.symbol,
    interval: r.interval as Interval,
    start: r.start,
    end: r.end,
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    vwap: r.vwap,
    trades: Number(r.trades),
    final: r.final,
    rev: r.rev,
  };
}

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += CHUNK) out.push(rows.slice(i, i + CHUNK));
  return out;
}

/** Keeps one item per key: the one `better` prefers, or the later one on a tie. */
function newestBy<T>(rows: readonly T[], key: (r: T) => string, better: (a: T, b: T) => boolean): T[] {
  const m = new Map<string, T>();
  for (const r of rows) {
    const k = key(r);
    const had = m.get(k);
    if (had === undefined || !better(had, r)) m.set(k, r);
  }
  return [...m.values()];
}

function limitOf(limit: number | undefined): number | null {
  return limit === undefined ? null : Math.max(0, Math.floor(limit));
}

/**
 * The PostgreSQL serving warehouse (issue 4): the tables of migrations.ts, one transaction per
 * `write`, and the queries the API serves history from. `candles` has the signature and semantics
 * of CandleWarehouse.candles (the embedded DuckDB warehouse), so the API can use either.
 */
export class PgWarehouse {
  readonly pool: pg.Pool;
  readonly #partitions: MonthlyPartitions;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
    this.#partitions = new MonthlyPartitions(pool);
  }

  static async open(options: PgWarehouseOptions): Promise<PgWarehouse> {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      keepAlive: true,
      application_name: 'stockstream-warehouse',
    });
    // An idle connection the server drops (restart, failover) is reported here and removed from
    // the pool; without a listener node would treat it as an unhandled error and exit.
    pool.on('error', (err) => options.logger?.warn({ err: err.message }, 'warehouse: idle PostgreSQL connection lost; the pool reconnects on demand'));
    const w = new PgWarehouse(pool);
    if (options.migrate ?? true) {
      try {
        await migrate(pool);
      } catch (err) {
        await pool.end();
        throw err;
      }
    }
    return w;
  }

  /**
   * Writes a batch in one transaction: candles upserted on (symbol, interval, start) keeping the
   * highest `rev` (an older revision replayed after a newer one changes nothing; an equal one
   * overwrites, so a replay is idempotent); indicator values and state overwritten; KPIs upserted
   * per symbol keeping the newest `ts`; alerts inserted once per (id, ts). The months' partitions
   * are created first, in their own transaction. All or nothing: on failure nothing is visible.
   */
  async write(batch: WarehouseBatch): Promise<void> {
    const candles = newestBy(batch.candles ?? [], (c) => `${c.symbol}|${c.interval}|${c.start}`, (a, b) => a.rev > b.rev);
    const values = newestBy(batch.indicatorValues ?? [], (v) => `${v.symbol}|${v.interval}|${v.start}|${v.spec}|${v.output}`, () => false);
    const kpis = newestBy(batch.kpis ?? [], (k) => k.symbol, (a, b) => a.ts > b.ts);
    const alerts = newestBy(batch.alerts ?? [], (a) => `${a.id}|${a.ts}`, () => false);
    const states = newestBy(batch.indicatorState ?? [], (s) => `${s.symbol}|${s.interval}`, () => false);
    if (candles.length + values.length + kpis.length + alerts.length + states.length === 0) return;
    try {
      await this.#partitions.ensure('candles', candles.map((c) => c.start));
      await this.#partitions.ensure('indicators', values.map((v) => v.start));
      await this.#partitions.ensure('alerts', alerts.map((a) => a.ts));
      await withTransaction(this.pool, async (client) => {
        for (const part of chunks(candles)) await upsertCandles(client, part);
        for (const part of chunks(values)) await upsertValues(client, part);
        for (const part of chunks(kpis)) await upsertKpis(client, part);
        for (const part of chunks(alerts)) await insertAlerts(client, part);
        for (const part of chunks(states)) await saveStates(client, part);
      });
    } catch (err) {
      // An operator may have dropped a month: check the partitions again next time.
      this.#partitions.forget();
      throw new StockStreamError('SS_WAREHOUSE_IO', `Expected to write ${candles.length} candles, ${values.length} indicator values, ${kpis.length} KPIs and ${alerts.length} alerts to PostgreSQL in one transaction, but it failed: ${(err as Error).message}; nothing of it was written, retry.`, {
        cause: err,
      });
    }
  }

  /** History oldest first: with `limit`, the newest `limit` within [from, to] (starts, inclusive). */
  async candles(symbol: string, interval: Interval, query: RangeQuery = {}): Promise<Candle[]> {
    const r = await this.#query<CandleRow>(
      `SELECT ${CANDLE_COLUMNS} FROM serving.candles
        WHERE symbol = $1 AND interval = $2 AND start >= $3 AND start <= $4
        ORDER BY start DESC LIMIT $5`,
      [symbol, interval, timestampParam(Math.floor(query.from ?? Number.NEGATIVE_INFINITY)), timestampParam(Math.floor(query.to ?? Number.POSITIVE_INFINITY)), limitOf(query.limit)],
    );
    return r.map(toCandle).reverse();
  }

  /**
   * Stored indicator values of `specs` (canonical spec text, as parseIndicatorSpec gives it), in
   * the live store's shape: per spec, points oldest first with `value` or one key per output
   * (null during warm-up); with `limit`, the newest `limit` candles within [from, to]. A spec with
   * no stored values gets an empty list.
   */
  async indicators(symbol: string, interval: Interval, specs: readonly string[], query: RangeQuery = {}): Promise<Record<string, IndicatorPoint[]>> {
    const out: Record<string, IndicatorPoint[]> = {};
    for (const spec of specs) out[spec] = [];
    if (specs.length === 0) return out;
    const rows = await this.#query<{ spec: string; output: string; start: number; value: number | null }>(
      `SELECT spec, output, ${epochMs('start')} AS start, value FROM (
         SELECT spec, output, start, value, dense_rank() OVER (PARTITION BY spec ORDER BY start DESC) AS newest
           FROM serving.indicators
          WHERE symbol = $1 AND interval = $2 AND spec = ANY($3::text[]) AND start >= $4 AND start <= $5) v
        WHERE $6::int IS NULL OR newest <= $6::int
        ORDER BY spec, start, output`,
      [symbol, interval, [...specs], timestampParam(Math.floor(query.from ?? Number.NEGATIVE_INFINITY)), timestampParam(Math.floor(query.to ?? Number.POSITIVE_INFINITY)), limitOf(query.limit)],
    );
    let list: IndicatorPoint[] | undefined;
    let point: IndicatorPoint | undefined;
    for (const r of rows) {
      if (point === undefined || point.start !== r.start || list !== out[r.spec]) {
        list = out[r.spec] as IndicatorPoint[];
        point = { start: r.start } as IndicatorPoint;
        list.push(point);
      }
      point[r.output] = r.value;
    }
    return out;
  }

  /** The latest KPIs of every symbol, by symbol. */
  async kpis(): Promise<Kpi[]> {
    const rows = await this.#query<{ symbol: string; last: number; change: number; change_pct: number; open: number; high: number; low: number; volume: number; vwap: number; prev_close: number | null; trades_per_sec: number; ts: number }>(
      `SELECT symbol, last, change, change_pct, open, high, low, volume, vwap, prev_close, trades_per_sec, ${epochMs('ts')} AS ts FROM serving.kpis ORDER BY symbol`,
      [],
    );
    return rows.map((r) => ({
      symbol: r.symbol,
      last: r.last,
      change: r.change,
      changePct: r.change_pct,
      open: r.open,
      high: r.high,
      low: r.low,
      volume: r.volume,
      vwap: r.vwap,
      prevClose: r.prev_close,
      tradesPerSec: r.trades_per_sec,
      ts: r.ts,
    }));
  }

  /** Alerts newest first (ties by id), filtered by the query's fields. */
  async alerts(query: AlertQuery = {}): Promise<WarehouseAlert[]> {
    const rows = await this.#query<{ id: string; ts: number; symbol: string; rule: string; severity: string; message: string; payload: Record<string, unknown> }>(
      `SELECT id, ${epochMs('ts')} AS ts, symbol, rule, severity, message, payload FROM serving.alerts
        WHERE ($1::text IS NULL OR symbol = $1) AND ($2::text IS NULL OR rule = $2) AND ($3::text IS NULL OR severity = $3)
          AND ts >= $4 AND ts <= $5
        ORDER BY ts DESC, id LIMIT $6`,
      [query.symbol ?? null, query.rule ?? null, query.severity ?? null, timestampParam(Math.floor(query.from ?? Number.NEGATIVE_INFINITY)), timestampParam(Math.floor(query.to ?? Number.POSITIVE_INFINITY)), limitOf(query.limit) ?? 100],
    );
    return rows;
  }

  /**
   * What the writer needs to rebuild series it sees for the first time: their saved state, and
   * their candles oldest first: every candle after the state's tailStart, plus the newest
   * `warmup[i]` candles up to it (or up to the newest, without a state).
   */
  async seriesState(keys: readonly { symbol: string; interval: Interval }[], warmup: (state: SeriesSnapshot | null) => number): Promise<{ state: SeriesSnapshot | null; candles: Candle[] }[]> {
    if (keys.length === 0) return [];
    const states = await this.#query<{ i: string; tail_start: number; state: Record<string, unknown> }>(
      `SELECT k.i, ${epochMs('s.tail_start')} AS tail_start, s.state
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(symbol, interval, i)
         JOIN serving.indicator_state s ON s.symbol = k.symbol AND s.interval = k.interval`,
      [keys.map((k) => k.symbol), keys.map((k) => k.interval)],
    );
    const out: { state: SeriesSnapshot | null; candles: Candle[] }[] = keys.map(() => ({ state: null, candles: [] }));
    for (const r of states) (out[Number(r.i) - 1] as { state: SeriesSnapshot | null }).state = { tailStart: r.tail_start, state: r.state };
    const after = out.map((o) => (o.state === null ? null : timestampParam(o.state.tailStart)));
    const rows = await this.#query<CandleRow & { i: string }>(
      `SELECT k.i, c.* FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[]) WITH ORDINALITY AS k(symbol, interval, after, warm, i)
       CROSS JOIN LATERAL (
         (SELECT ${CANDLE_COLUMNS} FROM serving.candles
           WHERE symbol = k.symbol AND interval = k.interval AND k.after IS NOT NULL AND start > k.after)
         UNION ALL
         (SELECT ${CANDLE_COLUMNS} FROM serving.candles
           WHERE symbol = k.symbol AND interval = k.interval AND start <= coalesce(k.after, 'infinity')
           ORDER BY start DESC LIMIT k.warm)) c
       ORDER BY k.i, c.start`,
      [keys.map((k) => k.symbol), keys.map((k) => k.interval), after, out.map((o) => warmup(o.state))],
    );
    for (const r of rows) (out[Number(r.i) - 1] as { candles: Candle[] }).candles.push(toCandle(r));
    return out;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw new StockStreamError('SS_WAREHOUSE_IO', `Expected PostgreSQL to answer a warehouse query, but it failed: ${(err as Error).message}; retry, and check the server if it persists.`, { cause: err });
    }
  }
}

async function upsertCandles(client: pg.PoolClient, rows: readonly Candle[]): Promise<void> {
  await client.query(
    `INSERT INTO serving.candles AS t (symbol, interval, start, "end", open, high, low, close, volume, vwap, trades, final, rev)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::float8[], $6::float8[], $7::float8[],
                          $8::float8[], $9::float8[], $10::float8[], $11::int8[], $12::bool[], $13::int4[])
     ON CONFLICT (symbol, interval, start) DO UPDATE SET
       "end" = EXCLUDED."end", open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
       volume = EXCLUDED.volume, vwap = EXCLUDED.vwap, trades = EXCLUDED.trades, final = EXCLUDED.final, rev = EXCLUDED.rev,
       updated_at = now()
     WHERE EXCLUDED.rev >= t.rev`,
    [
      rows.map((c) => c.symbol),
      rows.map((c) => c.interval),
      rows.map((c) => timestampParam(c.start)),
      rows.map((c) => timestampParam(c.end)),
      rows.map((c) => c.open),
      rows.map((c) => c.high),
      rows.map((c) => c.low),
      rows.map((c) => c.close),
      rows.map((c) => c.volume),
      rows.map((c) => c.vwap),
      rows.map((c) => c.trades),
      rows.map((c) => c.final),
      rows.map((c) => c.rev),
    ],
  );
}

async function upsertValues(client: pg.PoolClient, rows: readonly IndicatorValueRow[]): Promise<void> {
  await client.query(
    `INSERT INTO serving.indicators AS t (symbol, interval, start, spec, output, value)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::float8[])
     ON CONFLICT (symbol, interval, start, spec, output) DO UPDATE SET value = EXCLUDED.value`,
    [rows.map((v) => v.symbol), rows.map((v) => v.interval), rows.map((v) => timestampParam(v.start)), rows.map((v) => v.spec), rows.map((v) => v.output), rows.map((v) => v.value)],
  );
}

async function upsertKpis(client: pg.PoolClient, rows: readonly Kpi[]): Promise<void> {
  await client.query(
    `INSERT INTO serving.kpis AS t (symbol, last, change, change_pct, open, high, low, volume, vwap, prev_close, trades_per_sec, ts)
     SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[],
                          $9::float8[], $10::float8[], $11::float8[], $12::timestamptz[])
     ON CONFLICT (symbol) DO UPDATE SET
       last = EXCLUDED.last, change = EXCLUDED.change, change_pct = EXCLUDED.change_pct, open = EXCLUDED.open, high = EXCLUDED.high,
       low = EXCLUDED.low, volume = EXCLUDED.volume, vwap = EXCLUDED.vwap, prev_close = EXCLUDED.prev_close,
       trades_per_sec = EXCLUDED.trades_per_sec, ts = EXCLUDED.ts, updated_at = now()
     WHERE EXCLUDED.ts >= t.ts`,
    [
      rows.map((k) => k.symbol),
      rows.map((k) => k.last),
      rows.map((k) => k.change),
      rows.map((k) => k.changePct),
      rows.map((k) => k.open),
      rows.map((k) => k.high),
      rows.map((k) => k.low),
      rows.map((k) => k.volume),
      rows.map((k) => k.vwap),
      rows.map((k) => k.prevClose),
      rows.map((k) => k.tradesPerSec),
      rows.map((k) => timestampParam(k.ts)),
    ],
  );
}

async function insertAlerts(client: pg.PoolClient, rows: readonly WarehouseAlert[]): Promise<void> {
  await client.query(
    `INSERT INTO serving.alerts (id, ts, symbol, rule, severity, message, payload)
     SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[])
     ON CONFLICT (id, ts) DO NOTHING`,
    [
      rows.map((a) => a.id),
      rows.map((a) => timestampParam(a.ts)),
      rows.map((a) => a.symbol),
      rows.map((a) => a.rule),
      rows.map((a) => a.severity),
      rows.map((a) => a.message),
      rows.map((a) => JSON.stringify(a.payload)),
    ],
  );
}

async function saveStates(client: pg.PoolClient, rows: readonly IndicatorStateRow[]): Promise<void> {
  await client.query(
    `INSERT INTO serving.indicator_state AS t (symbol, interval, tail_start, state)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::json[])
     ON CONFLICT (symbol, interval) DO UPDATE SET tail_start = EXCLUDED.tail_start, state = EXCLUDED.state, updated_at = now()`,
    [rows.map((s) => s.symbol), rows.map((s) => s.interval), rows.map((s) => timestampParam(s.tailStart)), rows.map((s) => JSON.stringify(s.state))],
  );
}
