import type { DuckDBConnection } from '@duckdb/node-api';
import type { Candle, Interval } from '../../domain/index.js';
import type { CommitOffset, Log, LogConsumer, LogRecord } from '../../log/log.js';
import { StockStreamError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { RangeQuery } from '../live/index.js';
import { sqlString } from '../../shared/sql.js';

export interface CandleWarehouseOptions {
  log: Log;
  /** A new connection to the database holding the serving tables (the lake database when embedded). */
  connect: () => Promise<DuckDBConnection>;
  /** Topics to read, one per interval: `candles.<interval>`. */
  topics: readonly { interval: Interval; topic: string }[];
  /** Upsert at least this often while candles are pending (ms). Default 5,000. */
  flushIntervalMs?: number;
  group?: string;
  logger?: Logger;
}

const DDL = [
  'CREATE SCHEMA IF NOT EXISTS serving',
  `CREATE TABLE IF NOT EXISTS serving.candles (
    symbol VARCHAR NOT NULL, interval VARCHAR NOT NULL, start BIGINT NOT NULL, "end" BIGINT NOT NULL,
    open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL,
    vwap DOUBLE NOT NULL, trades BIGINT NOT NULL, final BOOLEAN NOT NULL, rev INTEGER NOT NULL)`,
];

/** Candles upserted at most per transaction while catching up. */
const MAX_PENDING = 50_000;


function num(v: number): string {
  // Through a string cast: a bare decimal literal is read as DECIMAL and may round twice on the way to DOUBLE.
  return Number.isFinite(v) ? `'${v}'::DOUBLE` : 'NULL';
}

/**
 * The serving warehouse of candles (issue 3, "Warehouse"; the PostgreSQL adapter of issue 4
 * takes the same place): consumes the final candles the pipelines write to `candles.<interval>`
 * and upserts them by (symbol, interval, start) into `serving.candles`, then commits the offsets,
 * so a restart replays into the same rows. The API reads history beyond the live rings from it.
 */
type Resolved = Required<Omit<CandleWarehouseOptions, 'logger'>> & { logger: Logger | null };

export class CandleWarehouse {
  readonly #o: Resolved;
  readonly #consumer: LogConsumer;
  readonly #conn: DuckDBConnection;
  /** Newest version per (symbol, interval, start) since the last upsert. */
  #pending = new Map<string, Candle>();
  #offsets = new Map<string, CommitOffset>();
  #running: Promise<void> | null = null;
  #stopping = false;
  #rows = 0;

  private constructor(o: Resolved, consumer: LogConsumer, conn: DuckDBConnection) {
    this.#o = o;
    this.#consumer = consumer;
    this.#conn = conn;
  }

  static async open(options: CandleWarehouseOptions): Promise<CandleWarehouse> {
    const o = { flushIntervalMs: 5_000, group: 'warehouse', ...options, logger: options.logger ?? null };
    const conn = await o.connect();
    for (const ddl of DDL) await conn.run(ddl);
    const consumer = await o.log.consumer({ group: o.group, topics: o.topics.map((t) => t.topic), reset: 'earliest' });
    return new CandleWarehouse(o, consumer, conn);
  }

  /** Candles upserted so far. */
  get rows(): number {
    return this.#rows;
  }

  start(): void {
    if (this.#running !== null) return;
    this.#running = this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
    this.#running = null;
    try {
      await this.drain();
      await this.flush();
    } finally {
      await this.#consumer.close();
      this.#conn.closeSync();
    }
  }

  /** Reads everything available now (tests, shutdown). */
  async drain(): Promise<void> {
    for (;;) {
      const records = await this.#consumer.poll({ maxRecords: 10_000, timeoutMs: 0 });
      if (records.length === 0) return;
      this.#add(records);
    }
  }

  /** Upserts the pending candles in one transaction, then commits their offsets. */
  async flush(): Promise<void> {
    if (this.#pending.size === 0) {
      if (this.#offsets.size > 0) await this.#consumer.commit([...this.#offsets.values()]);
      this.#offsets.clear();
      return;
    }
    const candles = [...this.#pending.values()];
    const offsets = [...this.#offsets.values()];
    const c = this.#conn;
    try {
      await c.run('BEGIN TRANSACTION');
      await c.run('CREATE OR REPLACE TEMP TABLE __candles AS SELECT * FROM serving.candles WHERE false');
      for (let i = 0; i < candles.length; i += 1000) {
        const values = candles
          .slice(i, i + 1000)
          .map((x) => `(${sqlString(x.symbol)}, ${sqlString(x.interval)}, ${x.start}, ${x.end}, ${num(x.open)}, ${num(x.high)}, ${num(x.low)}, ${num(x.close)}, ${num(x.volume)}, ${num(x.vwap)}, ${x.trades}, ${x.final}, ${x.rev})`);
        await c.run(`INSERT INTO __candles VALUES ${values.join(', ')}`);
      }
      let lo = Number.POSITIVE_INFINITY;
      for (const x of candles) if (x.start < lo) lo = x.start;
      await c.run(`DELETE FROM serving.candles AS t USING __candles AS n WHERE t.start >= ${lo} AND t.symbol = n.symbol AND t.interval = n.interval AND t.start = n.start`);
      await c.run('INSERT INTO serving.candles SELECT * FROM __candles');
      await c.run('DROP TABLE __candles');
      await c.run('COMMIT');
    } catch (err) {
      await c.run('ROLLBACK').catch(() => undefined);
      throw new StockStreamError('SS_LAKE_IO', `Expected to upsert ${candles.length} candles into serving.candles, but it failed: ${(err as Error).message.split('\n')[0]}; they stay pending and are retried.`, { cause: err });
    }
    await this.#consumer.commit(offsets);
    this.#rows += candles.length;
    this.#pending = new Map();
    this.#offsets = new Map();
  }

  /** History oldest first: with `limit`, the newest `limit` within [from, to]. */
  async candles(symbol: string, interval: Interval, query: RangeQuery = {}): Promise<Candle[]> {
    const where = [`symbol = ${sqlString(symbol)}`, `interval = ${sqlString(interval)}`];
    if (query.from !== undefined) where.push(`start >= ${Math.floor(query.from)}`);
    if (query.to !== undefined) where.push(`start <= ${Math.floor(query.to)}`);
    const limit = query.limit === undefined ? '' : `LIMIT ${Math.floor(query.limit)}`;
    const conn = await this.#o.connect();
    try {
      const r = await conn.runAndReadAll(`SELECT * FROM serving.candles WHERE ${where.join(' AND ')} ORDER BY start DESC ${limit}`);
      return (r.getRowObjectsJS() as Record<string, unknown>[]).reverse().map((x) => ({
        symbol: String(x.symbol),
        interval: String(x.interval) as Interval,
        start: Number(x.start),
        end: Number(x.end),
        open: Number(x.open),
        high: Number(x.high),
        low: Number(x.low),
        close: Number(x.close),
        volume: Number(x.volume),
        vwap: Number(x.vwap),
        trades: Number(x.trades),
        final: Boolean(x.final),
        rev: Number(x.rev),
      }));
    } finally {
      conn.closeSync();
    }
  }

  async #loop(): Promise<void> {
    let last = Date.now();
    while (!this.#stopping) {
      try {
        const records = await this.#consumer.poll({ maxRecords: 10_000, timeoutMs: 200 });
        this.#add(records);
        // A catch-up from the earliest offset flushes by size too, so a batch stays bounded.
        if (Date.now() - last >= this.#o.flushIntervalMs || this.#pending.size >= MAX_PENDING) {
          await this.flush();
          last = Date.now();
        }
      } catch (err) {
        this.#o.logger?.error({ err }, 'warehouse upsert failed; retrying');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  #add(records: readonly LogRecord[]): void {
    for (const r of records) {
      const c = JSON.parse(Buffer.from(r.value).toString('utf8')) as Candle;
      this.#pending.set(`${c.symbol}|${c.interval}|${c.start}`, c);
      this.#offsets.set(`${r.topic}/${r.partition}`, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
    }
  }
}
