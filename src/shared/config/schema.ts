import { z } from 'zod';

/**
 * The one configuration schema: `stockstream.yaml`, `STOCKSTREAM_*` environment variables and CLI
 * flags all land here, are validated once at start, and the result is frozen. Each field's
 * default and meaning sit next to it (the fastify/platformatic pattern). Unknown keys are errors,
 * so a typo never silently falls back to a default.
 */
const port = z.number().int().min(0).max(65_535);
const positiveInt = z.number().int().positive();
const nonNegative = z.number().min(0);
const depth = z.number().int().positive().max(100_000);

const holidays = z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD'));

export const configSchema = z
  .object({
    /** HTTP port of the API and dashboard; 0 picks a free one. */
    port: port.default(8080),
    /** Interface to listen on. Use 0.0.0.0 to serve other machines. */
    host: z.string().min(1).default('127.0.0.1'),
    /** Where the journal, checkpoints and lake live. */
    dataDir: z.string().min(1).default('./data'),
    /**
     * What this process runs (`up --role`): `all` is the whole platform in one process; with
     * `log.kind: kafka` several processes share the work: `ingest` (sources → log), `process`
     * (tick pipelines and the warehouse writer, scaled by partitions in a consumer group), `lake`
     * (bronze, models, jobs) and `serve` (API and dashboard, live updates through Redis).
     */
    role: z.enum(['all', 'ingest', 'process', 'lake', 'serve']).default('all'),
    /** The market data source `up` starts with. */
    source: z.enum(['simulator', 'replay']).default('simulator'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    simulator: z
      .object({
        /** Same seed, same market (with the virtual clock). */
        seed: z.number().int().default(42),
        /** Events per second across all symbols. */
        ratePerSec: positiveInt.max(2_000_000).default(2_000),
        /** Share of events that are quotes. */
        quoteRatio: z.number().min(0).max(0.95).default(0.3),
        /**
         * `always-open` keeps every market trading so the quick start is live at any hour;
         * `faithful` follows each exchange's sessions, lunch breaks and holidays.
         */
        calendar: z.enum(['always-open', 'faithful']).default('always-open'),
      })
      .strict()
      .prefault({}),
    replay: z
      .object({
        file: z.string().min(1).optional(),
        /** Multiple of event time, or `max` for as fast as the pipeline takes it. */
        speed: z.union([z.literal('max'), z.number().positive()]).default(1),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        /**
         * `always`: fsync before each ack; `batch`: one fsync per group commit; `never`: OS cache.
         * `groupCommitMs` is the least time between two flushes. 0 flushes as soon as the previous
         * flush ends, and every append that came in meanwhile shares it: group commit with no added
         * wait (p50 latency 1 ms instead of 2 ms here at the same throughput).
         */
        fsync: z.enum(['always', 'batch', 'never']).default('batch'),
        groupCommitMs: nonNegative.max(1_000).default(0),
        segmentBytes: positiveInt.min(1_048_576).default(64 * 1_048_576),
        partitions: positiveInt.max(256).default(4),
        /** Ticks are kept this long (ms); default seven days. */
        retentionMs: positiveInt.default(7 * 86_400_000),
        retentionBytes: positiveInt.optional(),
        /** `journal`: the embedded log under <dataDir>/journal; `kafka`: Apache Kafka (scale out, `up --role`). */
        kind: z.enum(['journal', 'kafka']).default('journal'),
        kafka: z
          .object({
            /** Bootstrap brokers as host:port (env: comma-separated). */
            brokers: z
              .preprocess((v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter((x) => x.length > 0) : v), z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1))
              .default(['127.0.0.1:9092']),
            clientId: z.string().min(1).default('stockstream'),
            /** Prepended to every topic and consumer group, so several deployments share a cluster (e.g. `prod.`). */
            topicPrefix: z.string().regex(/^[a-zA-Z0-9._-]*$/, 'expected letters, digits, . _ or -').default(''),
            /** Replication factor of the topics StockStream creates (3 on a production cluster). */
            replicationFactor: positiveInt.max(16).default(1),
            /** A group member that sends no heartbeat for this long is removed and its partitions move (ms). */
            sessionTimeoutMs: positiveInt.min(1_000).default(10_000),
            heartbeatIntervalMs: positiveInt.default(1_000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    warehouse: z
      .object({
        /**
         * Where final candles, indicators, KPIs and alerts are served from for history: `duckdb` is
         * the lake database (embedded); `postgres` the PostgreSQL warehouse (scale out, Grafana).
         */
        kind: z.enum(['duckdb', 'postgres']).default('duckdb'),
        postgres: z
          .object({
            /** libpq connection URL, e.g. postgres://user:password@host:5432/stockstream. */
            url: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').default('postgres://stockstream:stockstream@127.0.0.1:5432/stockstream'),
            /** Connections in the pool. */
            poolSize: positiveInt.max(100).default(4),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    redis: z
      .object({
        /**
         * Redis for live fan-out between instances, the API cache and the dashboard refresh channel.
         * Unset: all of it stays in process (embedded). Required by `up --role serve|process` on Kafka.
         */
        url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// URL').nullable().default(null),
        /** Prefix of every channel and key, so several deployments can share one Redis. */
        prefix: z.string().min(1).default('stockstream:'),
        /** Time to live of cached API answers (ms). */
        cacheTtlMs: positiveInt.default(2_000),
      })
      .strict()
      .prefault({}),
    ingest: z
      .object({
        /** `reject` refuses symbols not in `instruments` (to the dead-letter topic); `accept` takes any. */
        unknownSymbols: z.enum(['accept', 'reject']).default('reject'),
        /** Refuse events this far ahead of the wall clock (ms). */
        maxFutureMs: positiveInt.default(60_000),
        /** Refuse events this far behind the wall clock (ms); replay accepts any age. */
        maxPastMs: positiveInt.default(7 * 86_400_000),
      })
      .strict()
      .prefault({}),
    processing: z
      .object({
        /** Event ids remembered for dedup, per partition: each id for at least this many later ids, at most twice. */
        dedupWindow: positiveInt.default(100_000),
        /** A late event within this many ms after its candle closed amends it (rev + 1). */
        allowedLatenessMs: nonNegative.default(2_000),
        /** Fill gaps inside sessions with flat zero-volume candles. */
        fillGaps: z.boolean().default(true),
        /** Build candles from pre- and post-market trades too. */
        includeExtendedHours: z.boolean().default(false),
        /** With no input for this long (wall clock), event time advances with the clock so quiet markets still close candles. */
        idleWatermarkMs: positiveInt.default(1_000),
        /** Operator state is checkpointed this often; a restart replays only what came since. */
        checkpointIntervalMs: positiveInt.default(10_000),
        /**
         * How far the JavaScript heap's old generation may grow past its live size before a full
         * GC, in percent (V8's --heap-growing-percent, set for the whole process when the platform
         * starts); 0 leaves it to V8. At most 300 (a factor of 4, V8's own largest). See
         * apps/heap-growth.ts for why the default is 200.
         */
        heapGrowingPercent: z.number().int().min(0).max(300).default(200),
        /** Indicators maintained live for every symbol and interval. */
        indicators: z
          .array(z.string().min(1))
          .default(['sma:20', 'ema:20', 'rsi:14', 'macd:12:26:9', 'bbands:20:2', 'atr:14', 'vwap']),
      })
      .strict()
      .prefault({}),
    live: z
      .object({
        /**
         * Candles kept in memory per symbol, by interval; unset intervals keep the live store's
         * DEFAULT_DEPTHS (1s: 120, 1m: 390, 5m: 78, 15m: 52, 1h: 35, 1d: 30: under 100 KB per live
         * symbol with the default indicators). Each slot costs 68 bytes per symbol; indicator
         * values are derived from the candles on request. History beyond is the warehouse's job.
         */
        depths: z
          .object({ '1s': depth, '1m': depth, '5m': depth, '15m': depth, '1h': depth, '1d': depth })
          .partial()
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    lake: z
      .object({
        /** The lakehouse: lake database, SQL models, scheduled jobs and SQL (bronze can be turned off alone). */
        enabled: z.boolean().default(true),
        bronze: z
          .object({
            /** Land the log's ticks and dead letters in Parquet under <dataDir>/lake/bronze. */
            enabled: z.boolean().default(true),
            /** Flush buffered rows at least this often (ms). */
            flushIntervalMs: positiveInt.default(10_000),
            /** Flush as soon as this many rows are buffered. */
            flushRows: positiveInt.default(100_000),
          })
          .strict()
          .prefault({}),
        warehouse: z
          .object({
            /** Final candles of these intervals are kept in the lake database's serving.candles; the API reads history beyond the live rings from it. */
            intervals: z.array(z.enum(['1s', '1m', '5m', '15m', '1h', '1d'])).default(['1m', '5m', '15m', '1h', '1d']),
          })
          .strict()
          .prefault({}),
        storage: z
          .object({
            /** `local`: the lake under <dataDir>/lake; `s3`: its files also in an S3-compatible bucket. */
            kind: z.enum(['local', 's3']).default('local'),
            s3: z
              .object({
                bucket: z.string().min(1).default('stockstream'),
                /** Key prefix inside the bucket (no leading slash), e.g. `lake/`. */
                prefix: z.string().regex(/^(?!\/)/, 'must not start with /').default('lake/'),
                /** Endpoint of an S3-compatible server (MinIO, S3Proxy); unset: AWS S3 of `region`. */
                endpoint: z.string().url().nullable().default(null),
                region: z.string().min(1).default('us-east-1'),
                /** Unset: the AWS default credential chain (env, profile, instance role). */
                accessKeyId: z.string().min(1).nullable().default(null),
                secretAccessKey: z.string().min(1).nullable().default(null),
                /** Path-style URLs (http://host/bucket/key), which MinIO and S3Proxy need. */
                forcePathStyle: z.boolean().default(true),
                /** Files larger than this go up in parts of this size (bytes; S3's minimum part is 5 MiB). */
                partSizeBytes: positiveInt.min(5 * 1_048_576).default(8 * 1_048_576),
                /** Attempts per request before the upload fails (exponential backoff). */
                maxAttempts: positiveInt.max(20).default(5),
              })
              .strict()
              .prefault({}),
          })
          .strict()
          .prefault({}),
        /** DuckDB worker threads for models and SQL. */
        threads: positiveInt.max(64).default(2),
        /** DuckDB memory limit for the lake database, e.g. '2GB'. */
        memoryLimit: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as 512MB or 2GB').default('2GB'),
        /** Directory of the SQL models (bronze/ silver/ gold/); default: the models shipped with StockStream. */
        modelsDir: z.string().min(1).nullable().default(null),
        /** Values for {{ var('name') }} in the models (allowed_lateness_ms, dedup_window_ms, atr_window_ms, outlier_atr_multiple, …). */
        vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
        sql: z
          .object({
            /** Rows a query returns at most (more are cut and flagged truncated). */
            maxRows: positiveInt.default(10_000),
            /** Time a query may run (ms). */
            timeoutMs: positiveInt.default(30_000),
          })
          .strict()
          .prefault({}),
        jobs: z
          .object({
            /** Run the scheduled jobs in `up`. */
            enabled: z.boolean().default(true),
            /** After downtime: one run for all missed slots, each missed slot, or none. */
            catchUp: z.enum(['one', 'all', 'none']).default('one'),
            incremental: z.object({ schedule: z.string().min(1).default('* * * * *') }).strict().prefault({}),
            maintenance: z.object({ schedule: z.string().min(1).default('30 2 * * *') }).strict().prefault({}),
            /** Attempts after a failure, with exponential backoff from backoffMs. */
            retries: z.number().int().min(0).max(10).default(2),
            backoffMs: positiveInt.default(5_000),
          })
          .strict()
          .prefault({}),
        retention: z
          .object({
            /** Delete bronze dates older than this many days (0 keeps everything). */
            bronzeDays: z.number().int().min(0).default(0),
            /** Delete silver rows older than this many days (0 keeps everything). */
            silverDays: z.number().int().min(0).default(0),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    stream: z
      .object({
        maxPerSecondPerSymbol: positiveInt.max(1_000).default(60),
        maxBufferedBytes: positiveInt.default(1_048_576),
      })
      .strict()
      .prefault({}),
    calendars: z
      .object({
        holidays: z
          .object({ NYSE: holidays.optional(), NASDAQ: holidays.optional(), HOSE: holidays.optional(), HNX: holidays.optional() })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
