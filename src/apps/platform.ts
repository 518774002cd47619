import { hostname } from 'node:os';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { REFRESH_CHANNEL, buildApi, buildOpsApi, shippedWebDir, streamHubOf, type LakeApi, type LatencyProbe, type PipelineSource, type PipelineStage, type StreamHubStats } from '../api/index.js';
import { INTERVALS, INTERVAL_MS, stringTableMisses, type Candle, type ExchangeCode, type Instrument, type Interval } from '../domain/index.js';
import { calendarFor, type MarketCalendar } from '../domain/calendar/index.js';
import type { Log } from '../log/index.js';
import { CandleOperator } from '../processors/candles/index.js';
import { DedupOperator } from '../processors/dedup/index.js';
import { createIndicator, parseIndicatorSpec } from '../processors/indicators/index.js';
import { KpiOperator } from '../processors/kpis/index.js';
import {
  KPIS_TOPIC,
  LATE_TOPIC,
  LiveIndicators,
  TickTask,
  candlesTopic,
  indicatorSeries,
  type LiveSink,
  type TickTaskState,
} from '../processors/pipeline/index.js';
import { FileCheckpointStore, LogCheckpointStore, PartitionRunner } from '../processors/runtime/index.js';
import type { Config } from '../shared/config/index.js';
import { Metrics } from '../shared/metrics.js';
import type { Logger } from '../shared/logger.js';
import { BronzeWriter, Lakehouse, PgGoldSync, createObjectStore, type LakeMirror } from '../lakehouse/index.js';
import { lakeApiOf } from './lake-client.js';
import { StockStreamError } from '../shared/errors.js';
import { DLQ_TOPIC, IngestWriter, TICKS_TOPIC } from '../sources/ingest/index.js';
import { defaultUniverse } from '../sources/simulator/index.js';
import { DEFAULT_DEPTHS, LiveStore } from '../stores/live/index.js';
import { CandleWarehouse, LiveFanoutPublisher, MemoryCache, PgWarehouse, PgWarehouseWriter, RedisFanout, cached, type LiveMessage, type RangeQuery, type ResponseCache } from '../stores/index.js';
import { setHeapGrowingPercent } from './heap-growth.js';
import { describeLog, openLog } from './open-log.js';
import { checkRole, runs, type Role } from './roles.js';


/** How often a process instance publishes its live changes to the serve instances (ms). */
const FANOUT_INTERVAL_MS = 50;
/** Checkpoints kept on Kafka this long; each partition's is rewritten every quarter of it at least. */
const CHECKPOINT_RETENTION_MS = 3_600_000;

/** KPI snapshots are only the warehouse's input: a day covers any outage worth waiting out. */
const KPIS_RETENTION_MS = 86_400_000;

/** Retention of each candle topic: enough to rebuild the live rings after a restart. */
const CANDLE_RETENTION_MS: Record<Interval, number> = {
  '1s': 6 * 3_600_000,
  '1m': 7 * 86_400_000,
  '5m': 30 * 86_400_000,
  '15m': 60 * 86_400_000,
  '1h': 365 * 86_400_000,
  '1d': 10 * 365 * 86_400_000,
};

export interface PlatformOptions {
  config: Readonly<Config>;
  logger: Logger;
  /** Start the HTTP server (default true). */
  serve?: boolean;
  /** Instruments to serve and, with `ingest.unknownSymbols: reject`, to accept. Default: the simulator's universe. */
  instruments?: readonly Instrument[];
  /** When true, the validation window accepts any event age (replays of history). */
  acceptHistory?: boolean;
  /**
   * Whether event time moves with the wall clock while input is idle (live sources). A replay at
   * max speed has no relation to the wall clock, so it turns this off. Default true.
   */
  idleWatermarks?: boolean;
  /** Previous session closes known at start (KPI change before a session rolls over). */
  prevCloses?: ReadonlyMap<string, number>;
  /** Told of every WebSocket data frame written (the latency benchmark). */
  latencyProbe?: LatencyProbe;
  /** The built dashboard served at `/` (default: `dist/web` beside package.json, where `npm run build` puts it). */
  webDir?: string;
  now?: () => number;
}

/**
 * The embedded platform in one process (ARCHITECTURE.md §1): journal → ingest → per-partition
 * tick pipelines → live store → API. Sources are attached separately (`ingest.write` is their
 * sink), so `up`, `replay`, tests and benchmarks share this one composition.
 */
export class Platform {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  readonly log: Log;
  /** What this instance runs (`up --role`). */
  readonly role: Role;
  /** Redis fan-out and cache, when `redis.url` is set. */
  readonly fanout: RedisFanout | null;
  /** A `process` instance's live output, published to the serve instances through Redis. */
  readonly #publisher: LiveFanoutPublisher | null = null;
  readonly store: LiveStore;
  readonly ingest: IngestWriter;
  readonly runner: PartitionRunner<TickTaskState>;
  readonly metrics: Metrics;
  readonly indicators: LiveIndicators;
  readonly api: FastifyInstance | null;
  /** Lands the log in the lake's bronze layer; null when lake.bronze.enabled is false. */
  bronze: BronzeWriter | null = null;
  /** The lake database, models, SQL and jobs; null when lake.enabled is false. */
  lakehouse: Lakehouse | null = null;
  /** Final candles kept for API history beyond the rings; null when the lake is off. */
  warehouse: CandleWarehouse | null = null;
  /** The PostgreSQL warehouse (warehouse.kind postgres): history for serve, rows for Grafana. */
  pg: PgWarehouse | null = null;
  /** Writes final candles, indicators and KPIs from the log into `pg` (process instances). */
  pgWriter: PgWarehouseWriter | null = null;
  /** Cached history answers: shared through Redis when configured, else in process. */
  readonly #cache: ResponseCache;
  readonly #tasks = new Map<number, TickTask>();
  readonly #candleOps = new Map<number, CandleOperator>();
  readonly #dedupOps = new Map<number, DedupOperator>();
  readonly #now: () => number;
  #lateEvents = 0;
  /** Final candles the tick pipelines emitted (revisions included): what the candle topics receive. */
  #finalCandles = 0;
  #lastIngestAt = 0;
  #url: string | null = null;
  #wroteServerInfo = false;
  #closed = false;

  private constructor(o: PlatformOptions, log: Log, instruments: readonly Instrument[], fanout: RedisFanout | null) {
    this.config = o.config;
    this.logger = o.logger;
    this.log = log;
    this.role = o.config.role;
    this.fanout = fanout;
    this.#cache = fanout ?? new MemoryCache();
    this.#now = o.now ?? Date.now;
    const c = o.config;
    const calendarOfExchange = exchangeCalendars(c);
    const exchangeOf = new Map(instruments.map((i) => [i.symbol, i.exchange]));
    // Symbols outside the instrument list (accepted by policy) trade around the clock in UTC days.
    const calendarOf = (symbol: string): MarketCalendar => calendarOfExchange(exchangeOf.get(symbol) ?? 'CRYPTO');
    this.calendarOf = calendarOf;
    this.calendarOfExchange = calendarOfExchange;

    // The store hands every candle its rings evict to the indicators and asks them for values.
    this.indicators = new LiveIndicators({
      specs: c.processing.indicators,
      create: createIndicator,
      sessionOf: (candle: Candle) => calendarOf(candle.symbol).localDate(candle.start),
    });
    this.store = new LiveStore({ depths: c.live.depths, indicators: this.indicators });
    this.store.setInstruments([...instruments]);
    const store = this.store;
    let live: LiveSink = {
      ticks: (events) => store.applyTicks(events),
      candles: (candles) => store.applyCandles(candles),
      kpis: (kpis) => store.applyKpis(kpis),
    };
    // A process instance's live store is on the serve instances: publish to them instead.
    if (this.role === 'process' && fanout !== null) {
      this.#publisher = new LiveFanoutPublisher({ publish: (m) => fanout.publishLive(m), instance: `${hostname()}:${process.pid}`, intervalMs: FANOUT_INTERVAL_MS });
      live = this.#publisher;
    }
    const knownSymbols = new Set(instruments.map((i) => i.symbol));
    this.ingest = new IngestWriter({
      log,
      source: c.source,
      now: this.#now,
      policy: (now) => ({
        now,
        maxFutureMs: c.ingest.maxFutureMs,
        maxPastMs: o.acceptHistory ? Number.POSITIVE_INFINITY : c.ingest.maxPastMs,
        knownSymbols: c.ingest.unknownSymbols === 'reject' ? knownSymbols : null,
      }),
      onAccepted: () => {
        this.#lastIngestAt = this.#now();
      },
    });
    this.runner = new PartitionRunner<TickTaskState>({
      log,
      topic: TICKS_TOPIC,
      group: 'processors',
      name: 'ticks',
      // On Kafka a partition may move to a process on another machine: its state goes on the log too.
      checkpoints: c.log.kind === 'kafka' ? new LogCheckpointStore({ log, partitions: c.log.partitions, retentionMs: CHECKPOINT_RETENTION_MS }) : new FileCheckpointStore(join(resolve(c.dataDir), 'checkpoints')),
      checkpointIntervalMs: c.processing.checkpointIntervalMs,
      ...(c.log.kind === 'kafka' ? { checkpointRefreshMs: CHECKPOINT_RETENTION_MS / 4 } : {}),
      onCommitError: (err) => this.logger.warn({ err }, 'the group refused an offset commit (partition moved); its checkpoint is saved'),
      onAssignment: ({ assigned, revoked }) => {
        if (c.log.kind === 'kafka') this.logger.info({ assigned, revoked }, 'ticks partitions reassigned');
      },
      now: this.#now,
      createTask: (partition) => {
        let task: TickTask | null = null;
        const candles = new CandleOperator({
          intervals: [...INTERVALS],
          calendarOf,
          allowedLatenessMs: c.processing.allowedLatenessMs,
          fillGaps: c.processing.fillGaps,
          includeExtendedHours: c.processing.includeExtendedHours,
          // The live store copies each candle at once and the log gets its JSON during the
          // call: no copy per update is needed (see liveOutput).
          liveOutput: true,
          onLate: (event, info) => {
            this.#lateEvents++;
            task?.late(event, info);
          },
        });
        const dedup = new DedupOperator({ window: c.processing.dedupWindow });
        task = new TickTask({
          partition,
          log,
          dedup,
          candles,
          // Every consumer keeps or sends the newest KPI only (live store, hub, fan-out, the kpis topic at each timer).
          kpis: new KpiOperator({ calendarOf, liveOutput: true, ...(o.prevCloses ? { prevCloses: o.prevCloses } : {}) }),
          live,
          idleWatermarkMs: o.idleWatermarks === false ? Number.POSITIVE_INFINITY : c.processing.idleWatermarkMs,
          publishKpis: c.warehouse.kind === 'postgres',
          onCorrupt: (record, err) => this.logger.error({ err, partition: record.partition, offset: record.offset }, 'undecodable record in ticks; skipped'),
          onFinals: (n) => {
            this.#finalCandles += n;
          },
        });
        this.#tasks.set(partition, task);
        this.#candleOps.set(partition, candles);
        this.#dedupOps.set(partition, dedup);
        return task;
      },
      onError: (err) => this.logger.error({ err }, 'stream processing stopped'),
    });
    this.metrics = new Metrics();
    this.#registerMetrics();
    const webDir = o.webDir ?? shippedWebDir();
    this.api =
      o.serve === false
        ? null
        : !runs(this.role, 'serve')
          ? buildOpsApi({
              role: this.role,
              health: () => this.health(),
              metrics: () => this.metrics.text(),
              metricsContentType: this.metrics.contentType,
              log,
              pipeline: this.#pipelineSource(),
              ...(this.role === 'lake' && c.lake.enabled ? { lake: this.#lakeApi() } : {}),
            })
          : buildApi({
            store: this.store,
            health: () => this.health(),
            metrics: () => this.metrics.text(),
            metricsContentType: this.metrics.contentType,
            log,
            markets: { calendarOf: calendarOfExchange, now: this.#now },
            pipeline: this.#pipelineSource(),
            ...(webDir === null ? {} : { webDir }),
            indicatorFallback: indicatorSeries,
            validateIndicatorSpec: (spec: string) => void parseIndicatorSpec(spec),
            // A serve instance of a split deployment has no lake database: SQL and jobs are on the lake instance.
            ...(c.lake.enabled && this.role === 'all' ? { lake: this.#lakeApi() } : {}),
            ...(c.lake.enabled || c.warehouse.kind === 'postgres' ? { candleHistory: (symbol: string, interval: Interval, q: RangeQuery) => this.#history(symbol, interval, q) } : {}),
            stream: {
              maxPerSecondPerSymbol: c.stream.maxPerSecondPerSymbol,
              maxBufferedBytes: c.stream.maxBufferedBytes,
              ...(o.latencyProbe === undefined ? {} : { latencyProbe: o.latencyProbe }),
            },
            logger: false,
          });
  }

  readonly calendarOf: (symbol: string) => MarketCalendar;
  readonly calendarOfExchange: (exchange: ExchangeCode) => MarketCalendar;

  static async start(o: PlatformOptions): Promise<Platform> {
    const c = o.config;
    checkRole(c);
    setHeapGrowingPercent(c.processing.heapGrowingPercent);
    const dataDir = resolve(c.dataDir);
    await mkdir(dataDir, { recursive: true });
    const fanout = c.redis.url === null ? null : await RedisFanout.connect({ url: c.redis.url, prefix: c.redis.prefix, logger: o.logger });
    let log: Log;
    try {
      log = await openLog(c, o.logger);
    } catch (err) {
      await fanout?.close();
      throw err;
    }
    const platform = new Platform(o, log, o.instruments ?? defaultUniverse(), fanout);
    const role = platform.role;
    try {
      await platform.#ensureTopics();
      if (runs(role, 'serve')) {
        await platform.#rebuildLiveState();
        // Live updates of the symbols the process instances own.
        if (role === 'serve' && fanout !== null) await fanout.onLive((m) => platform.#applyLive(m));
        if (fanout !== null) await fanout.onRefresh((n) => platform.store.notify(REFRESH_CHANNEL, n.what, n));
      }
      if (c.warehouse.kind === 'postgres') {
        platform.pg = await PgWarehouse.open({ url: c.warehouse.postgres.url, poolSize: c.warehouse.postgres.poolSize, logger: o.logger });
        if (runs(role, 'process')) {
          platform.pgWriter = await PgWarehouseWriter.open({
            log,
            warehouse: platform.pg,
            topics: INTERVALS.map((interval) => ({ interval, topic: candlesTopic(interval) })),
            kpiTopic: KPIS_TOPIC,
            indicators: {
              specs: c.processing.indicators,
              create: createIndicator,
              parse: parseIndicatorSpec,
              sessionOf: (candle: Candle) => platform.calendarOf(candle.symbol).localDate(candle.start),
            },
            logger: o.logger,
          });
          platform.pgWriter.start();
        }
      }
      if (runs(role, 'process')) await platform.runner.start();
      if (c.lake.enabled && runs(role, 'lake')) {
        const lakehouse = await Lakehouse.open({
          lakeDir: join(dataDir, 'lake'),
          settings: c.lake,
          // lake.storage.kind s3: the lake's files also in the bucket (an empty lake is restored from it).
          objectStore: await createObjectStore(c.lake.storage, o.logger),
          reference: { instruments: platform.store.instruments(), calendarOf: platform.calendarOfExchange, ...(o.prevCloses ? { previousCloses: o.prevCloses } : {}) },
          logger: o.logger,
        });
        platform.lakehouse = lakehouse;
        platform.warehouse = await CandleWarehouse.open({
          log,
          connect: () => lakehouse.db.connect(),
          topics: c.lake.warehouse.intervals.map((interval) => ({ interval, topic: candlesTopic(interval) })),
          logger: o.logger,
        });
        platform.warehouse.start();
        if (c.lake.bronze.enabled) {
          platform.bronze = await BronzeWriter.open({
            log,
            lakeDir: join(dataDir, 'lake'),
            flushIntervalMs: c.lake.bronze.flushIntervalMs,
            flushRows: c.lake.bronze.flushRows,
            onCommit: (files) => lakehouse.registerFiles(files),
            logger: o.logger,
          });
          platform.bronze.start();
          const bronze = platform.bronze;
          lakehouse.beforeIncremental = () => bronze.requestFlush();
        }
        // The gold tables in PostgreSQL for Grafana, and a refresh notice for the dashboards.
        const pg = platform.pg;
        const goldSync = pg === null ? null : new PgGoldSync({ lake: lakehouse.db, project: lakehouse.runner.project, pool: pg.pool, logger: o.logger });
        lakehouse.afterIncremental = async () => {
          await goldSync?.sync();
        };
        // The notice goes out once the run is in the job history (after the gold mirror above), so
        // a dashboard that reloads on it finds the run listed and the new rows in place.
        lakehouse.jobs.onRecorded = (run) => {
          if (run.job !== 'lake.incremental' || run.status !== 'success') return;
          const notice = { what: 'lake.incremental', at: Date.now() };
          // Every serve instance hears it through Redis; without Redis only this one serves.
          if (fanout !== null) fanout.publishRefresh(notice);
          else if (runs(role, 'serve')) platform.store.notify(REFRESH_CHANNEL, notice.what, notice);
        };
        if (goldSync !== null) void goldSync.sync().catch((err: unknown) => o.logger.warn({ err }, 'mirroring the gold tables to PostgreSQL failed; the next incremental run tries again'));
      }
      if (platform.api !== null && o.serve !== false) {
        const address = await platform.api.listen({ port: c.port, host: c.host });
        platform.#url = address.replace('0.0.0.0', 'localhost').replace('127.0.0.1', 'localhost');
        // Other commands on this data directory (sql, jobs) talk to the API of an instance that has it.
        if (runs(role, 'serve')) {
          const info: ServerInfo = { pid: process.pid, url: platform.#url, startedAt: Date.now() };
          await writeFile(serverInfoPath(c), JSON.stringify(info));
          platform.#wroteServerInfo = true;
        }
      }
      // Jobs start last: a catch-up run must not hold up the API.
      void platform.lakehouse?.start().catch((err: unknown) => o.logger.error({ err }, 'lake jobs did not start'));
    } catch (err) {
      await platform.close().catch(() => undefined);
      throw err;
    }
    return platform;
  }

  /** Final candles beyond the live rings: PostgreSQL when configured (cached), else the lake database. */
  #history(symbol: string, interval: Interval, q: RangeQuery): Promise<Candle[]> {
    const pg = this.pg;
    if (pg !== null) return cached(this.#cache, `candles:${symbol}:${interval}:${q.from ?? ''}:${q.to ?? ''}:${q.limit ?? ''}`, this.config.redis.cacheTtlMs, () => pg.candles(symbol, interval, q));
    return this.warehouse?.candles(symbol, interval, q) ?? Promise.resolve([]);
  }

  #applyLive(m: LiveMessage): void {
    this.store.applyTicks(m.ticks);
    this.store.applyCandles(m.candles);
    this.store.applyKpis(m.kpis);
  }

  get url(): string | null {
    return this.#url;
  }

  async #ensureTopics(): Promise<void> {
    const c = this.config.log;
    const partitions = c.partitions;
    await this.log.ensureTopic(TICKS_TOPIC, { partitions, retentionMs: c.retentionMs, ...(c.retentionBytes ? { retentionBytes: c.retentionBytes } : {}) });
    await this.log.ensureTopic(DLQ_TOPIC, { partitions: 1, retentionMs: c.retentionMs });
    await this.log.ensureTopic(LATE_TOPIC, { partitions, retentionMs: c.retentionMs });
    await this.log.ensureTopic(KPIS_TOPIC, { partitions, retentionMs: KPIS_RETENTION_MS });
    for (const iv of INTERVALS) await this.log.ensureTopic(candlesTopic(iv), { partitions, retentionMs: CANDLE_RETENTION_MS[iv] });
  }

  /**
   * Restores the live rings and indicators from the durable final candles: read each candle
   * topic's recent history (the ring depth) into the store in order; candles beyond the depth go
   * on to the indicators as the rings evict them. Forming candles come back from the processors'
   * checkpoints and the replayed ticks.
   */
  async #rebuildLiveState(): Promise<void> {
    const infos = await this.log.topics();
    for (const iv of INTERVALS) {
      const info = infos.find((t) => t.name === candlesTopic(iv));
      if (info === undefined) continue;
      const latest = new Map<string, Candle>();
      for (const p of info.partitions) {
        if (p.endOffset <= p.startOffset) continue;
        const last = await this.log.read({ topic: info.name, partition: p.partition }, p.endOffset - 1, 1);
        const lastTs = last[0]?.timestamp ?? 0;
        let offset = await this.#offsetForTime(info.name, p.partition, lastTs - (this.config.live.depths[iv] ?? DEFAULT_DEPTHS[iv]) * INTERVAL_MS[iv], p.startOffset, p.endOffset);
        while (offset < p.endOffset) {
          const records = await this.log.read({ topic: info.name, partition: p.partition }, offset, 50_000);
          if (records.length === 0) break;
          for (const r of records) {
            const candle = JSON.parse(Buffer.from(r.value).toString('utf8')) as Candle;
            latest.set(`${candle.symbol}|${candle.start}`, candle);
          }
          offset = (records[records.length - 1] as { offset: number }).offset + 1;
        }
      }
      const candles = [...latest.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : a.start - b.start));
      this.store.applyCandles(candles);
    }
  }

  /** First offset whose record timestamp is >= ts (binary search over reads; timestamps are event time). */
  async #offsetForTime(topic: string, partition: number, ts: number, lo: number, hi: number): Promise<number> {
    let a = lo;
    let b = hi;
    while (a < b) {
      const mid = Math.floor((a + b) / 2);
      const r = await this.log.read({ topic, partition }, mid, 1);
      if ((r[0]?.timestamp ?? Number.POSITIVE_INFINITY) < ts) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  health(): { status: 'ok' | 'degraded' | 'down'; components: Record<string, { status: 'ok' | 'degraded' | 'down'; lagMs?: number; detail?: string; [k: string]: unknown }> } {
    const now = this.#now();
    const progress = this.runner.progress();
    let watermark = Number.NEGATIVE_INFINITY;
    for (const t of this.#tasks.values()) watermark = Math.max(watermark, t.stats().watermark);
    const processing: 'ok' | 'degraded' | 'down' = this.runner.running ? 'ok' : 'down';
    const ingestAge = this.#lastIngestAt === 0 ? null : now - this.#lastIngestAt;
    const role = this.role;
    const components = {
      log: { status: this.#closed ? ('down' as const) : ('ok' as const), detail: describeLog(this.config), ...(this.config.log.kind === 'journal' ? { fsync: this.config.log.fsync } : {}) },
      ...(this.fanout === null ? {} : { redis: this.#redisHealth(this.fanout) }),
      ...(runs(role, 'ingest')
        ? {
            ingest: {
              status: ingestAge !== null && ingestAge > 30_000 ? ('degraded' as const) : ('ok' as const),
              ...(ingestAge === null ? { detail: 'no events yet' } : { lagMs: ingestAge }),
              ...this.ingest.stats(),
            },
          }
        : {}),
      ...(runs(role, 'process')
        ? { processing: { status: processing, ...(Number.isFinite(watermark) ? { lagMs: Math.max(0, now - watermark), watermark } : {}), partitions: progress } }
        : {}),
      ...(runs(role, 'serve') ? { live: { status: 'ok' as const, ...this.store.stats() } } : {}),
      ...(this.pgWriter === null ? {} : { warehouse: this.#warehouseHealth(this.pgWriter) }),
      ...(this.bronze === null ? {} : { lake: this.#lakeHealth(this.bronze, now) }),
      ...(this.lakehouse === null ? {} : { jobs: this.#jobsHealth(this.lakehouse) }),
      ...(this.lakehouse?.mirror ? { storage: this.#storageHealth(this.lakehouse.mirror.stats()) } : {}),
    };
    const statuses = Object.values(components).map((x) => x.status);
    const status = statuses.includes('down') ? 'down' : statuses.includes('degraded') ? 'degraded' : 'ok';
    return { status, components };
  }

  /** Degraded while Redis is unreachable: live fan-out and the shared cache pause (the log keeps everything). */
  #redisHealth(fanout: RedisFanout): { status: 'ok' | 'degraded'; detail?: string } & Record<string, unknown> {
    const s = fanout.stats();
    return { status: s.connection === 'ready' ? 'ok' : 'degraded', ...(s.connection === 'ready' ? {} : { detail: `redis connection ${s.connection}` }), ...s };
  }

  /** Degraded while uploads to the object store fail or fall a minute behind (the local lake keeps everything). */
  #storageHealth(s: ReturnType<LakeMirror['stats']>): { status: 'ok' | 'degraded'; detail?: string; lagMs: number } & Record<string, unknown> {
    const behind = s.lagMs > 60_000;
    return {
      status: s.lastError !== null || behind ? 'degraded' : 'ok',
      ...(s.lastError !== null ? { detail: `${s.location}: ${s.lastError}` } : behind ? { detail: `${s.location}: ${s.pendingFiles} files not uploaded yet` } : {}),
      lagMs: s.lagMs,
      location: s.location,
      pendingFiles: s.pendingFiles,
      uploadedFiles: s.uploadedFiles,
      failures: s.failures,
    };
  }

  /** Degraded while the PostgreSQL writer is retrying (the log keeps its input meanwhile). */
  #warehouseHealth(writer: PgWarehouseWriter): { status: 'ok' | 'degraded'; detail?: string } & Record<string, unknown> {
    const s = writer.stats();
    return { status: s.failing > 0 ? 'degraded' : 'ok', ...(s.failing > 0 && s.lastError !== null ? { detail: `PostgreSQL: ${s.lastError}` } : {}), ...s };
  }

  /** Degraded while flushes fail or when the last one is three flush intervals old with rows waiting. */
  #lakeHealth(bronze: BronzeWriter, now: number): { status: 'ok' | 'degraded'; lagMs?: number; detail?: string } & Record<string, unknown> {
    const s = bronze.stats();
    const stale = s.buffered > 0 && s.lastFlushAt !== null && now - s.lastFlushAt > 3 * this.config.lake.bronze.flushIntervalMs;
    return {
      status: s.lastError !== null || stale ? 'degraded' : 'ok',
      ...(s.lastFlushAt === null ? { detail: 'no bronze flush yet' } : { lagMs: now - s.lastFlushAt }),
      ...s,
    };
  }

  /** Degraded while a job's latest run failed (every retry used); the detail says which and why. */
  #jobsHealth(lake: Lakehouse): { status: 'ok' | 'degraded'; detail?: string } & Record<string, unknown> {
    const runs = [...lake.jobs.lastRuns().values()];
    const failed = runs.filter((r) => r.status === 'failed');
    return {
      status: failed.length > 0 ? 'degraded' : 'ok',
      ...(failed.length > 0 ? { detail: failed.map((r) => `${r.job}: ${r.error ?? 'failed'}`).join('; ') } : runs.length === 0 ? { detail: 'no job run yet' } : {}),
      last: Object.fromEntries(runs.map((r) => [r.job, { status: r.status, at: r.startedAt, durationMs: Math.round(r.durationMs), rows: r.rows }])),
    };
  }

  #registerMetrics(): void {
    const m = this.metrics;
    m.counter('stockstream_ingest_events_total', 'Events accepted at ingress, by result.', () => {
      const s = this.ingest.stats();
      return [
        [{ result: 'accepted' }, s.accepted],
        [{ result: 'rejected' }, s.rejected],
      ];
    }, ['result']);
    m.counter('stockstream_ingest_rejects_total', 'Events refused at ingress (dead-lettered), by rule.', () =>
      Object.entries(this.ingest.stats().rejectsByRule).map(([rule, n]) => [{ rule }, n] as const), ['rule']);
    m.counter('stockstream_processed_records_total', 'Records processed by the tick pipelines.', () => this.runner.stats().processed);
    m.counter('stockstream_candles_final_total', 'Final candles emitted by the tick pipelines, revisions included (what the candle topics receive).', () => this.#finalCandles);
    m.counter('stockstream_stream_messages_total', 'Messages sent to WebSocket clients (several may share a frame).', () => this.#streamStats()?.messagesWritten ?? 0);
    m.gauge('stockstream_stream_clients', 'WebSocket clients connected.', () => this.#streamStats()?.clients ?? 0);
    m.counter('stockstream_lake_bronze_rows_total', 'Rows written to the lake\'s bronze layer (Parquet), committed.', () => this.bronze?.stats().rowsWritten ?? 0);
    m.counter('stockstream_late_events_total', 'Events later than the allowed lateness (written to ticks.late).', () => this.#lateEvents);
    m.counter('stockstream_duplicate_events_total', 'Events dropped as duplicates by id.', () => {
      let n = 0;
      for (const d of this.#dedupOps.values()) n += d.dropped;
      return n;
    });
    m.gauge('stockstream_processing_lag_seconds', 'Wall clock minus event-time watermark, per partition.', () =>
      [...this.#tasks.entries()].map(([p, t]) => [{ partition: String(p) }, Math.max(0, (this.#now() - t.stats().watermark) / 1000)] as const).filter(([, v]) => Number.isFinite(v)), ['partition']);
    m.gauge('stockstream_log_stored_bytes', 'Bytes retained in the journal, per topic.', () => this.#topicBytes, ['topic']);
    m.gauge('stockstream_live_symbols', 'Symbols with live state.', () => this.store.stats().symbols);
    m.counter(
      'stockstream_string_table_misses_total',
      'Symbol and source lookups that made a fresh string (steady growth: more symbols share a set of the string table than it has ways).',
      stringTableMisses,
    );
  }

  #topicBytes: [Record<string, string>, number][] = [];

  /** The WebSocket hub's counters where this instance serves the API; null elsewhere. */
  #streamStats(): StreamHubStats | null {
    return this.api !== null && runs(this.role, 'serve') ? streamHubOf(this.api).stats() : null;
  }

  /**
   * The Pipeline view's stages: the counters the Prometheus metrics above read, for the
   * components this role runs (the API adds the WebSocket stage where it serves). Bronze counts
   * once the lake has opened (it opens after the API is built).
   */
  #pipelineSource(): PipelineSource {
    const c = this.config;
    const role = this.role;
    const stages: PipelineStage[] = [];
    if (runs(role, 'ingest')) {
      stages.push({ stage: 'ingest', label: 'Events accepted', total: () => this.ingest.stats().accepted });
      stages.push({ stage: 'rejects', label: 'Events rejected (dead-lettered)', total: () => this.ingest.stats().rejected });
    }
    if (runs(role, 'process')) {
      stages.push({ stage: 'process', label: 'Records processed', total: () => this.runner.stats().processed });
      stages.push({ stage: 'candles', label: 'Final candles emitted', total: () => this.#finalCandles });
    }
    if (runs(role, 'lake') && c.lake.enabled && c.lake.bronze.enabled) {
      stages.push({ stage: 'bronze', label: 'Rows landed in bronze', total: () => this.bronze?.stats().rowsWritten ?? 0 });
    }
    return {
      stages,
      lagMs: () => {
        const out: Record<string, number> = {};
        for (const [name, comp] of Object.entries(this.health().components)) if (typeof comp.lagMs === 'number') out[name] = comp.lagMs;
        return out;
      },
      lateEvents: () => (runs(role, 'process') ? this.#lateEvents : null),
      now: this.#now,
    };
  }

  /** The lake routes' view of the lakehouse, which opens after the API is built. */
  #lakeApi(): LakeApi {
    return lakeApiOf(() => {
      if (this.lakehouse === null) throw new StockStreamError('SS_LAKE_IO', 'The lake is still opening (or failed to open; see the server log); try again in a moment.');
      return this.lakehouse;
    });
  }

  /** Refreshes values that need I/O to read (called by the CLI on a timer). */
  async refreshMetrics(): Promise<void> {
    const topics = await this.log.topics();
    this.#topicBytes = topics.map((t) => [{ topic: t.name }, t.partitions.reduce((s, p) => s + p.bytes, 0)]);
  }

  /** The end offsets of `ticks` now: a caller waits for processing to reach them. */
  async ticksEnd(): Promise<Map<number, number>> {
    const info = (await this.log.topics()).find((t) => t.name === TICKS_TOPIC);
    return new Map((info?.partitions ?? []).map((p) => [p.partition, p.endOffset]));
  }

  /** Shuts down in order: API, processing (flush, checkpoint, commit), bronze (flush, commit), lake jobs and database, then the journal. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Each step runs even if an earlier one failed (the journal and DuckDB must close); the first error is rethrown.
    const errors: unknown[] = [];
    const step = async (fn: () => Promise<unknown> | undefined): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    await step(() => this.api?.close());
    if (this.#wroteServerInfo) await step(() => rm(serverInfoPath(this.config), { force: true }));
    await step(() => this.runner.stop());
    this.#publisher?.close();
    await step(() => this.fanout?.close());
    // Jobs first: a scheduled run must not ask the bronze writer to flush while it stops.
    await step(() => this.lakehouse?.jobs.stop());
    await step(() => this.bronze?.stop());
    await step(() => this.warehouse?.stop());
    await step(() => this.pgWriter?.stop());
    await step(() => this.pg?.close());
    await step(() => this.lakehouse?.close());
    await step(() => this.log.close());
    if (errors.length > 0) throw errors[0];
  }
}

/**
 * The market calendar of each exchange as the configuration sets it (the simulator's demo mode
 * keeps every market open; holidays from `calendars.holidays`), made once per exchange.
 */
export function exchangeCalendars(c: Readonly<Config>): (exchange: ExchangeCode) => MarketCalendar {
  const alwaysOpen = c.source === 'simulator' && c.simulator.calendar === 'always-open';
  const calendars = new Map<ExchangeCode, MarketCalendar>();
  return (ex) => {
    let cal = calendars.get(ex);
    if (cal === undefined) {
      const holidays = ex === 'CRYPTO' ? undefined : c.calendars.holidays[ex];
      cal = calendarFor(ex, { alwaysOpen, ...(holidays === undefined ? {} : { holidays }) });
      calendars.set(ex, cal);
    }
    return cal;
  };
}

/** Where a running `up` says how to reach it, so other commands use its API instead of the locked files. */
export interface ServerInfo {
  pid: number;
  url: string;
  startedAt: number;
}

export function serverInfoPath(config: Readonly<Config>): string {
  return dataPath(config, 'server.json');
}

/** The running platform on this data directory, if its process is alive. */
export async function runningServer(config: Readonly<Config>): Promise<ServerInfo | null> {
  let info: ServerInfo;
  try {
    info = JSON.parse(await readFile(serverInfoPath(config), 'utf8')) as ServerInfo;
  } catch {
    return null;
  }
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    // EPERM: alive but another user's; ESRCH: gone (a crash left the file).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return typeof info.url === 'string' ? info : null;
}

export function dataPath(config: Readonly<Config>, ...parts: string[]): string {
  return join(resolve(config.dataDir), ...parts);
}

