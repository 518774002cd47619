import type { Candle, Interval, Kpi } from '../../../domain/index.js';
import type { CommitOffset, Log, LogConsumer, LogRecord } from '../../../log/log.js';
import { StockStreamError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/logger.js';
import { IndicatorPlan, type WarehouseIndicatorSet } from './indicator-plan.js';
import { IndicatorSeries, type SeriesSnapshot } from './indicator-series.js';
import type { IndicatorStateRow, IndicatorValueRow, PgWarehouse } from './pg-warehouse.js';
import { decodeCandle, decodeKpi } from './warehouse-records.js';

export interface PgWarehouseWriterOptions {
  log: Log;
  warehouse: PgWarehouse;
  /** Topics of final candles and their revisions, one per interval: `candles.<interval>`. They must exist. */
  topics: readonly { interval: Interval; topic: string }[];
  /** Topic of KPI updates (JSON Kpi, key = symbol); null: none. Default 'kpis'. It must exist. */
  kpiTopic?: string | null;
  /** Indicators derived from every final candle into serving.indicators; absent: none. */
  indicators?: WarehouseIndicatorSet;
  /** Default 'warehouse.postgres'. */
  group?: string;
  /** Write at least this often while records are pending (ms). Default 1,000. */
  flushIntervalMs?: number;
  /** Records per transaction at most (and read ahead while a write is retried). Default 20,000. */
  maxBatchRecords?: number;
  /**
   * Newest candles held per series so that a revision of one of them re-derives the indicators
   * (IndicatorSeries). The pipeline revises a candle only within its allowed lateness (2 s by
   * default): a couple of 1s candles at most. Default 8.
   */
  revisionWindow?: number;
  /** Candles read back to warm up a spec that has no saved state (a spec added to the configuration). Default 1,000. */
  warmupCandles?: number;
  /** Backoff between attempts after a failure: doubling from `initialMs` to `maxMs`, with jitter. */
  retry?: { initialMs?: number; maxMs?: number };
  logger?: Logger;
}

export interface PgWarehouseWriterStats {
  /** Rows sent in committed transactions. */
  candles: number;
  indicatorValues: number;
  kpis: number;
  transactions: number;
  /** Failed attempts (to read state, write or commit offsets), each followed by a backoff. */
  retries: number;
  /** Consecutive failed attempts now (0 when healthy). */
  failing: number;
  lastError: string | null;
  /** Records skipped because they did not decode (warned with the reason). */
  rejected: number;
  /**
   * Final candles older than their series' revision window: upserted, indicators not re-derived.
   * Candles replayed from before the window after a restart are counted here too.
   */
  outsideWindow: number;
  /** Records read whose transaction and offset commit have not both succeeded. */
  pendingRecords: number;
  /** How long the oldest of those has waited (ms); 0 when none: the writer's lag behind what it read. */
  lagMs: number;
}

type Resolved = Required<Omit<PgWarehouseWriterOptions, 'indicators' | 'logger' | 'retry'>> & {
  indicators: WarehouseIndicatorSet | null;
  logger: Logger | null;
  retry: { initialMs: number; maxMs: number };
};

interface PendingValues {
  candle: Candle;
  values: (number | null)[];
}

/** Series rebuilt per query when many are new at once. */
const LOAD_SLICE = 500;

function seriesKey(symbol: string, interval: string): string {
  return `${symbol}|${interval}`;
}

function tpKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/**
 * The PostgreSQL warehouse writer (issue 4): consumes `candles.<interval>` and `kpis` in consumer
 * group `warehouse.postgres`, derives the configured indicators from final candles in candle
 * order (IndicatorSeries), and writes candles, indicator values, indicator state and KPIs in one
 * transaction per batch (PgWarehouse.write), then commits the batch's offsets — never before the
 * transaction commits, so a crash between the two replays records whose rows are already there,
 * which the upserts and the series' duplicate check absorb.
 *
 * When PostgreSQL is unreachable or restarts, a failed step is retried with exponential backoff
 * and a warning: the records read stay pending in memory (the consumer's position is kept; reading
 * ahead stops at `maxBatchRecords`), no offset is committed for them, and once the server is back
 * the same rows are written: the final tables equal a run without the outage. A transaction whose
 * COMMIT outcome is unknown (connection lost during it) is simply written again: every write is an
 * idempotent upsert.
 *
 * A series (symbol, interval) seen for the first time (start, restart, or a partition gained in a
 * rebalance) is rebuilt from PostgreSQL before its candles are applied: its saved indicator state
 * and the candles after it (PgWarehouse.seriesState), so values continue exactly as without a
 * restart. After a rebalance every series is rebuilt that way, since another member may have
 * advanced it meanwhile.
 */
export class PgWarehouseWriter {
  readonly #o: Resolved;
  readonly #consumer: LogConsumer;
  readonly #plan: IndicatorPlan | null;
  readonly #series = new Map<string, IndicatorSeries>();
  /** Records polled but not applied yet (applying may need PostgreSQL, and is retried). */
  #inbox: LogRecord[] = [];
  /** Since the last committed transaction: newest revision per candle key, values per candle, newest KPI per symbol. */
  #candles = new Map<string, Candle>();
  #values = new Map<string, PendingValues>();
  #kpis = new Map<string, Kpi>();
  #dirty = new Set<string>();
  #offsets = new Map<string, CommitOffset>();
  /** Offsets of written transactions whose commit to the log has not succeeded yet. */
  #toCommit = new Map<string, CommitOffset>();
  #pendingRecords = 0;
  #pendingSince: number | null = null;
  #firstApplied: number | null = null;
  #assignment: string;
  #rebuildAll = false;
  #running: Promise<void> | null = null;
  #stopping = false;
  #closed = false;
  #wake: (() => void) | null = null;
  #failing = 0;
  #backoffUntil = 0;
  readonly #stats = { candles: 0, indicatorValues: 0, kpis: 0, transactions: 0, retries: 0, rejected: 0, outsideWindow: 0, lastError: null as string | null };
  readonly #emit = (candle: Candle, values: (number | null)[]): void => {
    this.#values.set(`${candle.symbol}|${candle.interval}|${candle.start}`, { candle, values });
  };

  private constructor(o: Resolved, consumer: LogConsumer) {
    this.#o = o;
    this.#consumer = consumer;
    this.#plan = o.indicators === null ? null : new IndicatorPlan(o.indicators);
    this.#assignment = this.#assignmentKey();
  }

  static async open(options: PgWarehouseWriterOptions): Promise<PgWarehouseWriter> {
    const o: Resolved = {
      kpiTopic: 'kpis',
      group: 'warehouse.postgres',
      flushIntervalMs: 1_000,
      maxBatchRecords: 20_000,
      revisionWindow: 8,
      warmupCandles: 1_000,
      ...options,
      indicators: options.indicators ?? null,
      logger: options.logger ?? null,
      retry: { initialMs: options.retry?.initialMs ?? 100, maxMs: options.retry?.maxMs ?? 5_000 },
    };
    if (!Number.isInteger(o.revisionWindow) || o.revisionWindow < 1) {
      throw new StockStreamError('SS_CONFIG_INVALID', `Expected revisionWindow to be a positive integer, got ${o.revisionWindow}.`);
    }
    const topics = o.topics.map((t) => t.topic);
    if (o.kpiTopic !== null) topics.push(o.kpiTopic);
    const consumer = await o.log.consumer({ group: o.group, topics, reset: 'earliest' });
    return new PgWarehouseWriter(o, consumer);
  }

  stats(): PgWarehouseWriterStats {
    return {
      ...this.#stats,
      failing: this.#failing,
      pendingRecords: this.#pendingRecords + this.#inbox.length,
      lagMs: this.#pendingSince === null ? 0 : Math.max(0, Date.now() - this.#pendingSince),
    };
  }

  start(): void {
    if (this.#closed) throw new StockStreamError('SS_LOG_CLOSED', 'Expected start() on an open writer, but it was stopped; open a new one.');
    if (this.#running !== null) return;
    this.#stopping = false;
    this.#running = this.#loop();
  }

  /** Stops the loop, makes one last attempt to write and commit what is pending (else it is replayed on the next start), and closes the consumer. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
    this.#running = null;
    try {
      await this.#applyInbox();
      await this.#flush();
    } catch (err) {
      this.#o.logger?.warn({ err: (err as Error).message, pendingRecords: this.#pendingRecords }, 'warehouse writer: could not write the last batch on stop; it is replayed from the log on the next start');
    } finally {
      await this.#consumer.close();
    }
  }

  /** Reads, writes and commits everything available now, without retrying (tests, tools); not while started. */
  async drain(): Promise<void> {
    if (this.#closed) throw new StockStreamError('SS_LOG_CLOSED', 'Expected drain() on an open writer, but it was stopped; open a new one.');
    if (this.#running !== null) throw new StockStreamError('SS_INTERNAL', 'Expected drain() on a stopped writer, but its loop is running; use stats() to watch it instead.');
    for (;;) {
      if (this.#inbox.length === 0) await this.#read(0);
      if (this.#inbox.length === 0) break;
      await this.#applyInbox();
      if (this.#pendingRecords >= this.#o.maxBatchRecords) await this.#flush();
    }
    await this.#flush();
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.#step();
        // Recovered once everything that was pending when it failed is written and committed.
        if (this.#failing > 0 && this.#pendingRecords === 0 && this.#inbox.length === 0 && this.#toCommit.size === 0) {
          this.#o.logger?.info({ attempts: this.#failing }, 'warehouse writer: recovered; pending records written');
          this.#failing = 0;
        }
      } catch (err) {
        this.#failed(err);
      }
      const wait = this.#backoffUntil - Date.now();
      if (wait > 0 && !this.#stopping) await this.#sleep(wait);
    }
  }

  async #step(): Promise<void> {
    if (this.#inbox.length === 0 && this.#pendingRecords < this.#o.maxBatchRecords) {
      const due = this.#firstApplied === null ? 200 : this.#firstApplied + this.#o.flushIntervalMs - Date.now();
      await this.#read(Math.max(0, Math.min(200, due)));
    }
    // Checked after the read: a rebalance during the poll may have handed us records of a new partition.
    const assignment = this.#assignmentKey();
    if (assignment !== this.#assignment) {
      this.#assignment = assignment;
      this.#rebuildAll = true;
    }
    if (this.#rebuildAll) {
      // Write what the old state derived first, then forget it: another member may have advanced these series.
      await this.#flush();
      this.#series.clear();
      this.#rebuildAll = false;
    }
    await this.#applyInbox();
    const due = this.#firstApplied !== null && Date.now() - this.#firstApplied >= this.#o.flushIntervalMs;
    if (due || this.#pendingRecords >= this.#o.maxBatchRecords || this.#toCommit.size > 0) await this.#flush();
  }

  async #read(timeoutMs: number): Promise<void> {
    const records = await this.#consumer.poll({ maxRecords: this.#o.maxBatchRecords - this.#pendingRecords, timeoutMs });
    if (records.length === 0) return;
    this.#inbox = records;
    this.#pendingSince ??= Date.now();
  }

  /** Rebuilds the series the inbox touches for the first time, then applies it in log order. */
  async #applyInbox(): Promise<void> {
    const records = this.#inbox;
    if (records.length === 0) return;
    const plan = this.#plan;
    const decoded = records.map((r) => (r.topic === this.#o.kpiTopic ? decodeKpi(r.value) : decodeCandle(r.value)));
    if (plan !== null) await this.#loadSeries(plan, decoded);
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as LogRecord;
      const d = decoded[i] as (typeof decoded)[number];
      if (!d.ok) {
        this.#stats.rejected++;
        this.#o.logger?.warn({ topic: r.topic, partition: r.partition, offset: r.offset, reason: d.reason }, 'warehouse writer: skipped a record that does not decode');
      } else if (r.topic === this.#o.kpiTopic) {
        const k = d.value as Kpi;
        const had = this.#kpis.get(k.symbol);
        if (had === undefined || k.ts >= had.ts) this.#kpis.set(k.symbol, k);
      } else {
        this.#applyCandle(d.value as Candle);
      }
      const key = tpKey(r.topic, r.partition);
      const next = r.offset + 1;
      if ((this.#offsets.get(key)?.offset ?? -1) < next) this.#offsets.set(key, { topic: r.topic, partition: r.partition, offset: next });
    }
    this.#pendingRecords += records.length;
    this.#firstApplied ??= Date.now();
    this.#inbox = [];
  }

  #applyCandle(c: Candle): void {
    const key = `${c.symbol}|${c.interval}|${c.start}`;
    const had = this.#candles.get(key);
    if (had === undefined || c.rev >= had.rev) this.#candles.set(key, c);
    if (this.#plan === null) return;
    const sk = seriesKey(c.symbol, c.interval);
    const outcome = (this.#series.get(sk) as IndicatorSeries).apply(c, this.#emit);
    if (outcome === 'applied') this.#dirty.add(sk);
    else if (outcome === 'outside') this.#stats.outsideWindow++;
  }

  async #loadSeries(plan: IndicatorPlan, decoded: readonly ReturnType<typeof decodeCandle | typeof decodeKpi>[]): Promise<void> {
    const keys = new Map<string, { symbol: string; interval: Interval }>();
    for (const d of decoded) {
      if (!d.ok || !('interval' in d.value)) continue;
      const c = d.value;
      const sk = seriesKey(c.symbol, c.interval);
      if (!this.#series.has(sk) && !keys.has(sk)) keys.set(sk, { symbol: c.symbol, interval: c.interval });
    }
    const complete = (s: SeriesSnapshot | null): boolean => s !== null && plan.specs.every((spec) => spec in s.state);
    const all = [...keys.values()];
    // In slices: a first start over a full database reads up to warmupCandles per series without state.
    for (let from = 0; from < all.length; from += LOAD_SLICE) {
      const list = all.slice(from, from + LOAD_SLICE);
      const loaded = await this.#o.warehouse.seriesState(list, (s) => (complete(s) ? 0 : this.#o.warmupCandles));
      for (let i = 0; i < list.length; i++) this.#adopt(plan, list[i] as { symbol: string; interval: Interval }, loaded[i] as { state: SeriesSnapshot | null; candles: Candle[] });
    }
  }

  /** Takes a series rebuilt from PostgreSQL into memory. */
  #adopt(plan: IndicatorPlan, k: { symbol: string; interval: Interval }, loaded: { state: SeriesSnapshot | null; candles: Candle[] }): void {
    const { series, warmed } = IndicatorSeries.load(plan, this.#o.revisionWindow, loaded.state, loaded.candles);
    if (warmed.length > 0 && loaded.candles.length > 0) {
      this.#o.logger?.warn(
        { symbol: k.symbol, interval: k.interval, specs: warmed, candles: loaded.candles.length },
        'warehouse writer: no saved state for these indicators; warmed up from the newest candles in PostgreSQL (values approximate a run from the first candle if older ones exist)',
      );
    }
    this.#series.set(seriesKey(k.symbol, k.interval), series);
  }

  /** One transaction with everything pending, then the offsets it covers. */
  async #flush(): Promise<void> {
    if (this.#pendingRecords > 0) {
      const plan = this.#plan;
      const candles = [...this.#candles.values()];
      const values: IndicatorValueRow[] = [];
      if (plan !== null) {
        const cols = plan.columns;
        for (const { candle, values: v } of this.#values.values()) {
          for (let j = 0; j < cols.length; j++) {
            const col = cols[j] as { spec: string; output: string };
            values.push({ symbol: candle.symbol, interval: candle.interval, start: candle.start, spec: col.spec, output: col.output, value: v[j] ?? null });
          }
        }
      }
      const states: IndicatorStateRow[] = [];
      for (const sk of this.#dirty) {
        const series = this.#series.get(sk) as IndicatorSeries;
        const i = sk.lastIndexOf('|');
        states.push({ symbol: sk.slice(0, i), interval: sk.slice(i + 1) as Interval, ...series.snapshot() });
      }
      const kpis = [...this.#kpis.values()];
      await this.#o.warehouse.write({ candles, indicatorValues: values, kpis, indicatorState: states });
      this.#stats.transactions++;
      this.#stats.candles += candles.length;
      this.#stats.indicatorValues += values.length;
      this.#stats.kpis += kpis.length;
      for (const [k, o] of this.#offsets) this.#toCommit.set(k, o);
      this.#candles = new Map();
      this.#values = new Map();
      this.#kpis = new Map();
      this.#dirty = new Set();
      this.#offsets = new Map();
      this.#pendingRecords = 0;
      this.#firstApplied = null;
    }
    if (this.#toCommit.size > 0) {
      // Offsets of partitions this member lost in a rebalance are the new owner's to commit.
      const owned = new Set(this.#consumer.assignment().map((tp) => tpKey(tp.topic, tp.partition)));
      const offsets = [...this.#toCommit.entries()].filter(([k]) => owned.has(k)).map(([, o]) => o);
      if (offsets.length > 0) await this.#consumer.commit(offsets);
      this.#toCommit = new Map();
    }
    if (this.#inbox.length === 0) this.#pendingSince = null;
  }

  #failed(err: unknown): void {
    this.#failing++;
    this.#stats.retries++;
    const message = (err as Error).message ?? String(err);
    this.#stats.lastError = message;
    const base = Math.min(this.#o.retry.maxMs, this.#o.retry.initialMs * 2 ** Math.min(this.#failing - 1, 30));
    // Jitter: writers of several processes that lost the same server do not reconnect in step.
    const wait = Math.round(base * (0.5 + Math.random() * 0.5));
    this.#backoffUntil = Date.now() + wait;
    this.#o.logger?.warn({ err: message, attempt: this.#failing, retryInMs: wait, pendingRecords: this.#pendingRecords + this.#inbox.length }, 'warehouse writer: step failed; nothing committed for pending records, retrying');
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  #assignmentKey(): string {
    return this.#consumer
      .assignment()
      .map((tp) => tpKey(tp.topic, tp.partition))
      .sort()
      .join(',');
  }
}
