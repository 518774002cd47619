import crypto from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BRONZE_START_AT_FILE,
  BronzeWriter,
  BucketCatalog,
  CATALOG_PREFIX,
  LakeDatabase,
  LakeMirror,
  Lakehouse,
  ModelRunner,
  createObjectStore,
  ParquetExporter,
  SqlQueryService,
  indicatorsModel,
  loadModelProject,
  maintainLake,
  type BronzeStartAt,
  type LakeMirrorOptions,
} from '../../../src/lakehouse/index.js';
import type { S3ObjectStore } from '../../../src/lakehouse/storage/s3/index.js';
import { loadConfig } from '../../../src/shared/config/index.js';
import { StockStreamError } from '../../../src/shared/errors.js';
import { FaultProxy, PASS, SLOW_DOWN, alwaysFail, seededFaults } from '../../fixtures/fault-proxy.js';
import { mulberry32, testSeed } from '../../fixtures/random.js';
import { MODELS_DIR, openLake, referenceData, type LakeFixture } from '../models/lake-fixture.js';
import { S3, multipartUploads, openStore, removePrefix, s3Unavailable, uniquePrefix } from './s3-fixture.js';

// Monday 10 to Wednesday 12 March 2025: NYSE/NASDAQ regular hours 13:30–20:00Z.
const DAY1 = Date.parse('2025-03-10T13:30:00Z');
const DAY2 = Date.parse('2025-03-11T13:30:00Z');
const DAY3 = Date.parse('2025-03-12T13:30:00Z');
const NOW = Date.parse('2025-03-13T12:00:00Z');
const SYMBOLS = ['AAPL', 'MSFT', 'JPM'];

/** `n` seeded trades of SYMBOLS in the regular session of `day`, ids `<tag><i>`, plus one input ingest rejects. */
function trades(seed: number, day: number, n: number, tag: string): unknown[] {
  const rand = mulberry32(seed);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const symbol = SYMBOLS[Math.floor(rand() * SYMBOLS.length)] as string;
    out.push({ kind: 'trade', symbol, ts: day + Math.floor(rand() * 6.5 * 3_600_000), source: 'test', id: `${tag}${i}`, price: Math.round(10_000 + rand() * 2000) / 100, size: 1 + Math.floor(rand() * 300) });
  }
  out.push({ kind: 'trade', symbol: 'AAPL', ts: day, source: 'test', id: `${tag}bad`, price: -1, size: 1 });
  return out;
}

/** Every Parquet file of a lake directory (bronze and exports), as lake-relative '/' paths. */
function lakeFiles(lakeDir: string): string[] {
  return (readdirSync(lakeDir, { recursive: true }) as string[])
    .filter((p) => p.endsWith('.parquet') && !p.startsWith('_'))
    .map((p) => relative(lakeDir, join(lakeDir, p)).split(sep).join('/'))
    .sort();
}

/** S3Proxy's name for a PUT in progress: `<key>-<uuid v4>`. */
const IN_FLIGHT = /^(.*)-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const md5 = (file: string): string => crypto.createHash('md5').update(readFileSync(file)).digest('hex');

/** What a user sees of the lake: every layer's rows in a fixed order (run ids aside: they number runs, not data). */
async function snapshot(lake: LakeDatabase): Promise<Record<string, readonly unknown[][]>> {
  const sql = new SqlQueryService(lake, { maxRows: 1_000_000 });
  const out: Record<string, readonly unknown[][]> = {};
  for (const t of ['bronze.ticks', 'bronze.rejects', 'silver.ticks', 'gold.ohlc_1m', 'gold.ohlc_daily', 'gold.indicators_daily', 'gold.data_quality']) {
    const [schema, name] = t.split('.') as [string, string];
    const cols = (await sql.query(`SELECT column_name FROM duckdb_columns() WHERE schema_name = '${schema}' AND table_name = '${name}' AND column_name NOT IN ('_run_id', 'received_at') ORDER BY column_index`)).rows.map((r) => String(r[0]));
    out[t] = (await sql.query(`SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM ${t} ORDER BY ALL`)).rows;
  }
  return out;
}

async function openRunner(lake: LakeDatabase): Promise<ModelRunner> {
  return ModelRunner.open({ lake, project: await loadModelProject(MODELS_DIR), reference: referenceData(), operators: { indicators: indicatorsModel() } });
}

const missing = await s3Unavailable();

if (missing !== null) {
  describe('LakeMirror', () => {
    it.skip(missing, () => undefined);
  });
} else {
  describe('LakeMirror (S3Proxy)', () => {
    const cleanups: (() => Promise<unknown> | unknown)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    function tempDir(): string {
      const d = mkdtempSync(join(tmpdir(), 'ss-mirror-'));
      cleanups.push(() => rmSync(d, { recursive: true, force: true }));
      return d;
    }

    async function lakeFixture(): Promise<LakeFixture> {
      const f = await openLake({ now: NOW });
      cleanups.push(() => f.close());
      return f;
    }

    function prefixFor(what: string): string {
      const prefix = uniquePrefix(what);
      cleanups.push(() => removePrefix(prefix));
      return prefix;
    }

    async function proxied(rule: Parameters<typeof FaultProxy.start>[1]): Promise<FaultProxy> {
      const proxy = await FaultProxy.start(S3.endpoint, rule);
      cleanups.push(() => proxy.close());
      return proxy;
    }

    async function mirror(lake: LakeDatabase, store: S3ObjectStore, o: Partial<LakeMirrorOptions> = {}): Promise<LakeMirror> {
      const m = await LakeMirror.open({ lake, store, retryBaseMs: 20, retryMaxMs: 200, ...o });
      cleanups.push(() => m.close(0));
      return m;
    }

    /** The bucket's view: the catalog, and the data objects under the prefix. */
    async function bucket(prefix: string): Promise<{ catalog: BucketCatalog; keys: string[] }> {
      const store = openStore(prefix);
      try {
        const catalog = (await BucketCatalog.read(store)) as BucketCatalog;
        const keys = (await store.list('')).map((o) => o.key).filter((k) => !k.startsWith(CATALOG_PREFIX));
        return { catalog, keys };
      } finally {
        store.close();
      }
    }

    /** The bucket holds exactly the lake's files, each byte-identical (by MD5) to the local one, and nothing is under way. */
    async function expectMirrored(lakeDir: string, prefix: string, why: string): Promise<void> {
      const { catalog, keys } = await bucket(prefix);
      const local = lakeFiles(lakeDir);
      expect(keys, `${why}: the bucket's objects are the lake's files`).toEqual(local);
      expect([...catalog.files.keys()].sort(), `${why}: the bucket's catalog lists exactly them`).toEqual(local);
      for (const p of local) expect(catalog.files.get(p)?.md5, `${why}: ${p} in the bucket is the local file`).toBe(md5(join(lakeDir, ...p.split('/'))));
      expect(catalog.open, `${why}: no transaction is left open`).toEqual([]);
      expect(await multipartUploads(prefix), `${why}: no multipart upload lingers`).toEqual([]);
    }

    it('mirrors bronze flushes, exports, compaction and retention; a lake restored from the bucket into an empty directory answers every query the same', async () => {
      const seed = testSeed(404);
      const f = await lakeFixture();
      const prefix = prefixFor('mirror');
      const m = await mirror(f.lake, openStore(prefix));
      // Three flushes per day: three small files per (date, symbol), compacted below.
      for (const [i, day] of [DAY1, DAY1, DAY1, DAY2, DAY2, DAY2].entries()) await f.land(trades(seed + i, day, 300, `t${i}-`));
      expect((await f.runner.run()).status).toBe('success');
      await new ParquetExporter(f.lake).export(['gold.ohlc_1m', 'gold.ohlc_daily']);
      await m.sync();
      await expectMirrored(f.lake.lakeDir, prefix, `seed ${seed}: after flushes and exports`);

      const compacted = await maintainLake(f.lake, { before: '2025-03-11', bronzeRetentionDays: 0, silverRetentionDays: 0, now: NOW });
      // Rejects are dated by arrival (the 13th): only the 10th's tick partitions are closed.
      expect(compacted.compacted, 'the 10th’s partitions were merged').toBe(SYMBOLS.length);
      await m.sync();
      await expectMirrored(f.lake.lakeDir, prefix, `seed ${seed}: after compaction the merged files replace the small ones in the bucket too`);
      expect(m.stats(), 'the deletes of compaction reached the bucket').toMatchObject({ pendingFiles: 0, lagMs: 0, lastError: null });
      expect(m.stats().deletedFiles, 'three small files per merged partition were deleted').toBeGreaterThanOrEqual(3 * SYMBOLS.length);

      // Land a later day after the compaction, then restore from the bucket alone. (Its events are
      // not late: the models flag outliers from context, and a full refresh sees late events in
      // the context of earlier ones that an incremental run had already flagged.)
      await f.land(trades(seed + 9, DAY3, 200, 'next-'));
      expect((await f.runner.run()).status).toBe('success');
      await m.sync();
      const before = await snapshot(f.lake);
      expect(before['bronze.ticks']?.length, 'every trade landed').toBe(6 * 300 + 200);
      const bronzeFiles = lakeFiles(f.lake.lakeDir).filter((p) => p.startsWith('bronze/'));
      const ends = (await f.log.topics()).flatMap((t) => t.partitions.filter((p) => p.endOffset > 0).map((p) => ({ topic: t.name, partition: p.partition, offset: p.endOffset })));

      const dir2 = tempDir();
      const lake2 = await LakeDatabase.open({ lakeDir: join(dir2, 'lake'), file: join(dir2, 'lake', 'lake.duckdb'), threads: 1 });
      cleanups.push(() => lake2.close());
      const m2 = await mirror(lake2, openStore(prefix));
      expect(m2.stats().restored?.files, 'every bronze file of the bucket was restored').toBe(bronzeFiles.length);
      expect(lakeFiles(lake2.lakeDir), 'the restored lake holds the same bronze files (exports are rebuilt by the models, not downloaded)').toEqual(bronzeFiles);
      for (const p of bronzeFiles) expect(md5(join(lake2.lakeDir, ...p.split('/'))), `${p} restored byte-exact`).toBe(md5(join(f.lake.lakeDir, ...p.split('/'))));
      const startAt = JSON.parse(readFileSync(join(lake2.lakeDir, '_state', BRONZE_START_AT_FILE), 'utf8')) as BronzeStartAt;
      expect(startAt, 'the bronze writer is told the restored files end where the log ends: nothing to land again').toEqual({ group: 'lake.bronze', offsets: ends.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1)) });

      const runner2 = await openRunner(lake2);
      expect((await runner2.run()).status, 'the first run on the restored lake rebuilds silver and gold').toBe('success');
      const after = await snapshot(lake2);
      for (const t of Object.keys(before)) expect(after[t], `seed ${seed}: the restored lake answers ${t} exactly as the original`).toEqual(before[t]);
      await m2.sync();
      expect(m2.stats().uploadedFiles, 'restored files are recognised as already in the bucket: nothing goes up again').toBe(0);
      await expectMirrored(f.lake.lakeDir, prefix, 'the restore left the bucket as it was');
      await m2.close();

      // Retention drops the 10th locally; its objects leave the bucket too.
      const dropped = await maintainLake(f.lake, { before: '2025-03-11', bronzeRetentionDays: 2, silverRetentionDays: 0, now: NOW });
      expect(dropped.bronzeDatesDropped, 'the 10th is past a two-day retention on the 13th').toBeGreaterThan(0);
      await m.sync();
      await expectMirrored(f.lake.lakeDir, prefix, 'after retention');
      expect((await bucket(prefix)).keys.filter((k) => k.includes('date=2025-03-10')), 'no object of the dropped date is left').toEqual([]);
    });

    it('a lake restored on a new machine lands again what the old one landed but had not mirrored yet: nothing lost, nothing doubled', async () => {
      const seed = testSeed(505);
      const f = await lakeFixture();
      const prefix = prefixFor('lag');
      const proxy = await proxied(() => PASS);
      const m = await mirror(f.lake, openStore(prefix, { endpoint: proxy.url, maxAttempts: 2 }));
      await f.land(trades(seed, DAY1, 400, 'a-'));
      await m.sync();

      // S3 refuses everything: the next flush is committed locally, its upload fails and is rolled back.
      proxy.setRule(alwaysFail(SLOW_DOWN));
      await f.land(trades(seed + 1, DAY2, 300, 'b-'));
      const waiting = m.sync(20_000);
      const err = (await waiting.then(
        () => null,
        (e: unknown) => e,
      )) as StockStreamError;
      expect(err, 'the mirror reports the failure').toBeInstanceOf(StockStreamError);
      expect(err.code).toBe('SS_LAKE_STORAGE');
      expect(err.message, 'the error names the bucket, the key and the S3 code').toMatch(new RegExp(`s3://${S3.bucket}/${prefix}.*SlowDown \\(HTTP 503\\) on all 2 attempts`));
      const s = m.stats();
      expect(s.lastError, 'stats carry the last error').toContain('SlowDown');
      expect(s.pendingFiles, 'the failed changes wait to be retried').toBeGreaterThan(0);
      expect(s.lagMs, 'and their lag is measured').toBeGreaterThanOrEqual(0);
      await m.close(0);
      const { catalog, keys } = await bucket(prefix);
      expect(keys.some((k) => /\/date=2025-03-11\//.test(k)), 'no object of the failed flush is in the bucket').toBe(false);
      expect(catalog.open, 'the failed transaction was rolled back and closed').toEqual([]);
      expect(keys.sort(), 'the bucket holds exactly what its catalog lists').toEqual([...catalog.files.keys()].sort());

      // The machine is lost; a new one restores from the bucket and reads the same log.
      await f.bronze.stop();
      await f.lake.close();
      const dir2 = tempDir();
      const lake2 = await LakeDatabase.open({ lakeDir: join(dir2, 'lake'), file: join(dir2, 'lake', 'lake.duckdb'), threads: 1 });
      cleanups.push(() => lake2.close());
      const m2 = await mirror(lake2, openStore(prefix));
      const bronze2 = await BronzeWriter.open({ log: f.log, lakeDir: lake2.lakeDir, onCommit: (files) => lake2.registerFiles(files) });
      cleanups.push(() => bronze2.stop());
      expect(existsSync(join(lake2.lakeDir, '_state', BRONZE_START_AT_FILE)), 'the writer applied the restore’s start and removed the file').toBe(false);
      await bronze2.drain();
      await bronze2.flush();
      const runner2 = await openRunner(lake2);
      expect((await runner2.run()).status).toBe('success');
      const sql = new SqlQueryService(lake2);
      const [row] = (await sql.query('SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE id LIKE \'b-%\') FROM bronze.ticks')).rows;
      expect(row, `seed ${seed}: every accepted trade of both flushes is in the restored lake exactly once`).toEqual([700, 700, 300]);
      const [rejects] = (await sql.query('SELECT count(*) FROM bronze.rejects')).rows;
      expect(rejects, 'both rejects, once each').toEqual([2]);
      await m2.sync();
      await expectMirrored(lake2.lakeDir, prefix, 'the new machine’s mirror brought the bucket up to date');
    });

    it('under injected S3 faults the bucket converges, and a reader listing it never sees an object its catalog does not reference, nor finds a live one missing', async () => {
      const seed = testSeed(606);
      const f = await lakeFixture();
      const prefix = prefixFor('faults');
      const proxy = await proxied(seededFaults(seed, { rate: 0.25 }));
      const m = await mirror(f.lake, openStore(prefix, { endpoint: proxy.url, maxAttempts: 20 }), { checkpointEvery: 3, concurrency: 3 });

      const problems: string[] = [];
      let reading = true;
      let reads = 0;
      const reader = (async () => {
        const store = openStore(prefix);
        try {
          while (reading) {
            const before = await BucketCatalog.read(store);
            const keys = (await store.list('')).map((o) => o.key).filter((k) => !k.startsWith(CATALOG_PREFIX));
            const after = await BucketCatalog.read(store);
            if (before === null || after === null) continue;
            const referenced = new Set([...before.referenced(), ...after.referenced()]);
            let again: Set<string> | null = null;
            for (const k of keys) {
              // S3Proxy's filesystem backend writes a PUT to `<key>-<uuid>` beside the key and renames
              // it when complete, and lists it meanwhile (AbstractNio2BlobStore.putBlob; S3 and MinIO
              // do not): such a name must still belong to a key the catalog references.
              const inFlight = IN_FLIGHT.exec(k)?.[1];
              const known = (set: Set<string>): boolean => set.has(k) || (inFlight !== undefined && set.has(inFlight));
              if (known(referenced)) continue;
              // The same listing quirk can drop open/<seq> (a sibling PUT completing while the catalog
              // lists open/): an object of an open transaction is then named by a third read, unless
              // it really is an orphan, which stays unnamed (or, after a rollback, gone).
              again ??= new Set((await BucketCatalog.read(store))?.referenced() ?? []);
              if (!known(again) && (await store.getBytes(k)) !== null) problems.push(`listed ${k}, which no catalog read (seq ${before.seq}, ${after.seq}, then a third) references`);
            }
            const listed = new Set(keys);
            for (const k of before.files.keys()) {
              if (!after.files.has(k) || listed.has(k)) continue;
              // S3Proxy's listing drops the rest of a directory when a file in it is renamed away
              // while it lists (a PUT completing: AbstractNio2BlobStore.listHelper ignores the
              // NoSuchFileException): a live object missing from a listing must also be unreadable.
              const still = await BucketCatalog.read(store);
              if (still?.files.has(k) && (await store.getBytes(k)) === null) problems.push(`${k} is live in three catalog reads (seq ${before.seq}, ${after.seq}, ${still.seq}) but does not exist`);
            }
            reads++;
          }
        } finally {
          store.close();
        }
      })();

      for (const [i, day] of [DAY1, DAY1, DAY1, DAY2, DAY2].entries()) {
        await f.land(trades(seed + i, day, 200, `f${i}-`));
        if (i === 2) {
          expect((await f.runner.run()).status).toBe('success');
          await new ParquetExporter(f.lake).export(['gold.ohlc_1m', 'gold.ohlc_daily']);
        }
      }
      expect((await f.runner.run()).status).toBe('success');
      await maintainLake(f.lake, { before: '2025-03-11', bronzeRetentionDays: 0, silverRetentionDays: 0, now: NOW });
      await new ParquetExporter(f.lake).export(['gold.ohlc_1m', 'gold.ohlc_daily']);
      await m.sync(120_000);
      reading = false;
      await reader;

      expect(problems, `seed ${seed}: the bucket never showed an object outside its catalog, nor lacked a live one (${reads} reads)`).toEqual([]);
      expect(reads, 'the reader read while the mirror worked').toBeGreaterThan(2);
      expect(proxy.faults().length, `seed ${seed}: faults were injected`).toBeGreaterThan(5);
      expect(m.stats().store.retries, `seed ${seed}: and retried`).toBeGreaterThan(0);
      await expectMirrored(f.lake.lakeDir, prefix, `seed ${seed}: after the faults`);
    });

    it('rolls back what a failed transaction uploaded, and catches up once S3 heals', async () => {
      const f = await lakeFixture();
      const prefix = prefixFor('heal');
      // Uploads of data files fail on every attempt; the catalog's own writes go through.
      const proxy = await proxied(() => PASS);
      const m = await mirror(f.lake, openStore(prefix, { endpoint: proxy.url, maxAttempts: 2 }), { concurrency: 1 });
      await m.sync();
      let failing = 0;
      proxy.setRule((req) => (req.method === 'PUT' && /\/bronze\//.test(req.url) && failing++ >= 2 ? { kind: 'reset-request' } : PASS));
      await f.land(trades(1, DAY1, 300, 'h-'));
      const waiting = m.sync(20_000).catch((e: unknown) => e);
      expect(await waiting, 'the transaction failed').toBeInstanceOf(StockStreamError);
      const { catalog, keys } = await bucket(prefix);
      expect(catalog.files.size, 'nothing became live').toBe(0);
      expect(keys, 'the two files that did go up before the failure were deleted again: no object outside the catalog').toEqual([]);
      proxy.setRule(() => PASS);
      await m.sync(20_000);
      await expectMirrored(f.lake.lakeDir, prefix, 'after S3 healed');
      expect(m.stats().failures, 'failed transactions are counted').toBeGreaterThan(0);
    });

    it('a queue past its bound turns into a full comparison and still converges', async () => {
      const f = await lakeFixture();
      const prefix = prefixFor('overflow');
      const proxy = await proxied(() => PASS);
      const m = await mirror(f.lake, openStore(prefix, { endpoint: proxy.url }), { maxQueuedFiles: 2, batchFiles: 2 });
      await m.sync();
      // Hold the mirror back (every request slowed by a failure first) while several flushes commit.
      proxy.setRule(seededFaults(7, { rate: 0.5, faults: [SLOW_DOWN] }));
      for (let i = 0; i < 3; i++) await f.land(trades(10 + i, DAY1, 200, `o${i}-`));
      proxy.setRule(() => PASS);
      await m.sync(60_000);
      expect(m.stats().overflows, 'more than two changed files waited at once').toBeGreaterThan(0);
      await expectMirrored(f.lake.lakeDir, prefix, 'after the overflow');
    });

    it('Lakehouse.open with createObjectStore(config.lake.storage) mirrors what the lakehouse commits and restores an empty lake on a new machine', async () => {
      const prefix = prefixFor('lakehouse');
      const config = loadConfig({
        env: {},
        overrides: {
          'lake.storage.kind': 's3',
          'lake.storage.s3.bucket': S3.bucket,
          'lake.storage.s3.prefix': prefix,
          'lake.storage.s3.endpoint': S3.endpoint,
          'lake.storage.s3.region': S3.region,
          'lake.storage.s3.accessKeyId': S3.accessKeyId,
          'lake.storage.s3.secretAccessKey': S3.secretAccessKey,
        },
      });
      const settings = { ...config.lake, jobs: { ...config.lake.jobs, enabled: false } };
      expect(await createObjectStore(loadConfig({ env: {} }).lake.storage), 'lake.storage.kind local: no object store').toBeNull();

      const f = await lakeFixture();
      const dir1 = tempDir();
      const lakehouse = await Lakehouse.open({ lakeDir: join(dir1, 'lake'), settings, reference: referenceData(), objectStore: await createObjectStore(config.lake.storage) });
      cleanups.push(() => lakehouse.close());
      const bronze = await BronzeWriter.open({ log: f.log, lakeDir: join(dir1, 'lake'), group: 'lakehouse-test', onCommit: (files) => lakehouse.registerFiles(files) });
      cleanups.push(() => bronze.stop());
      lakehouse.beforeIncremental = () => bronze.requestFlush();
      await f.ingest.write(trades(3, DAY1, 300, 'lh-'));
      expect((await lakehouse.jobs.run('lake.incremental')).status, 'the incremental job lands bronze, runs the models and exports gold').toBe('success');
      await bronze.stop();
      await lakehouse.close();
      expect(lakeFiles(lakehouse.db.lakeDir).some((p) => p.startsWith('gold/')), 'the job exported gold Parquet').toBe(true);
      await expectMirrored(lakehouse.db.lakeDir, prefix, 'close waited for the mirror: bronze and the gold exports are in the bucket');

      const dir2 = tempDir();
      const restored = await Lakehouse.open({ lakeDir: join(dir2, 'lake'), settings, reference: referenceData(), objectStore: await createObjectStore(config.lake.storage) });
      cleanups.push(() => restored.close());
      expect(restored.mirror?.stats().restored?.files, 'the new lake was restored from the bucket').toBe(lakeFiles(lakehouse.db.lakeDir).filter((p) => p.startsWith('bronze/')).length);
      expect((await restored.runner.run()).status).toBe('success');
      const [row] = (await restored.sql.query("SELECT count(*), count(DISTINCT id) FROM bronze.ticks WHERE id LIKE 'lh-%'")).rows;
      expect(row, 'every trade, once').toEqual([300, 300]);
    });

    it('refuses a location that holds another lake', async () => {
      const prefix = prefixFor('conflict');
      const a = await lakeFixture();
      await a.land(trades(1, DAY1, 50, 'a-'));
      const ma = await mirror(a.lake, openStore(prefix));
      await ma.sync();
      const b = await lakeFixture();
      await b.land(trades(2, DAY1, 50, 'b-'));
      const err = (await LakeMirror.open({ lake: b.lake, store: openStore(prefix) }).catch((e: unknown) => e)) as StockStreamError;
      expect(err.code, 'a lake with files of its own is not mixed into another lake’s bucket').toBe('SS_LAKE_STORAGE_CONFLICT');
      expect(err.message).toContain(prefix);
      expect(err.message, 'the message says what to do').toContain('lake.storage.s3.prefix');

      // A lake already mirrored elsewhere is not paired with this location either.
      const other = prefixFor('conflict-b');
      const mb = await LakeMirror.open({ lake: b.lake, store: openStore(other) });
      await mb.close();
      const again = (await LakeMirror.open({ lake: b.lake, store: openStore(prefix) }).catch((e: unknown) => e)) as StockStreamError;
      expect(again.code).toBe('SS_LAKE_STORAGE_CONFLICT');
      expect(again.message, 'names both lakes').toContain(ma.stats().lakeId);
      await expectMirrored(a.lake.lakeDir, prefix, 'the refused lakes changed nothing in the bucket');
    });
  });
}
