import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { calendarFor, type CalendarOptions } from '../../../src/domain/calendar/index.js';
import type { ExchangeCode, Instrument, MarketCalendar } from '../../../src/domain/index.js';
import { BronzeWriter, LakeDatabase, ModelRunner, indicatorsModel, loadModelProject, type LakeReferenceData } from '../../../src/lakehouse/index.js';
import { Journal } from '../../../src/log/index.js';
import { DLQ_TOPIC, IngestWriter, TICKS_TOPIC } from '../../../src/sources/ingest/index.js';
import { mulberry32 } from '../../fixtures/random.js';

/** The project's shipped models: the tests run exactly what users run. */
export const MODELS_DIR = resolve(import.meta.dirname, '../../../models');

export const INSTRUMENTS: Instrument[] = [
  { symbol: 'AAPL', name: 'Apple', exchange: 'NASDAQ', currency: 'USD', sector: 'Information Technology', sharesOutstanding: 15_000_000_000 },
  { symbol: 'MSFT', name: 'Microsoft', exchange: 'NASDAQ', currency: 'USD', sector: 'Information Technology', sharesOutstanding: 7_400_000_000 },
  { symbol: 'JPM', name: 'JPMorgan', exchange: 'NYSE', currency: 'USD', sector: 'Financials', sharesOutstanding: 2_900_000_000 },
  { symbol: 'HPG', name: 'Hoa Phat', exchange: 'HOSE', currency: 'VND', sector: 'Materials', sharesOutstanding: 6_396_000_000 },
];

export function referenceData(calendar: CalendarOptions = {}, previousCloses?: ReadonlyMap<string, number>): LakeReferenceData {
  const cals = new Map<ExchangeCode, MarketCalendar>();
  return {
    instruments: INSTRUMENTS,
    ...(previousCloses ? { previousCloses } : {}),
    calendarOf(ex) {
      let c = cals.get(ex);
      if (c === undefined) {
        c = calendarFor(ex, calendar);
        cals.set(ex, c);
      }
      return c;
    },
  };
}

export interface LakeFixture {
  dir: string;
  log: Journal;
  ingest: IngestWriter;
  lake: LakeDatabase;
  bronze: BronzeWriter;
  runner: ModelRunner;
  /** Appends raw inputs through ingest (validation, DLQ) and lands them in bronze. */
  land(inputs: readonly unknown[]): Promise<void>;
  close(): Promise<void>;
}

export async function openLake(options: { now: number; calendar?: CalendarOptions; dir?: string; modelsDir?: string; previousCloses?: ReadonlyMap<string, number> }): Promise<LakeFixture> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ss-lake-'));
  const log = await Journal.open({ dir: join(dir, 'journal'), fsync: 'never', retentionCheckMs: 0 });
  await log.ensureTopic(TICKS_TOPIC, { partitions: 2 });
  await log.ensureTopic(DLQ_TOPIC, { partitions: 1 });
  const ingest = new IngestWriter({ log, source: 'test', now: () => options.now, policy: (now) => ({ now, maxFutureMs: 86_400_000 * 30, maxPastMs: Number.POSITIVE_INFINITY, knownSymbols: null }) });
  const lake = await LakeDatabase.open({ lakeDir: join(dir, 'lake'), file: join(dir, 'lake', 'lake.duckdb'), threads: 1 });
  const bronze = await BronzeWriter.open({ log, lakeDir: join(dir, 'lake'), onCommit: (files) => lake.registerFiles(files) });
  const project = await loadModelProject(options.modelsDir ?? MODELS_DIR);
  const runner = await ModelRunner.open({ lake, project, reference: referenceData(options.calendar, options.previousCloses), operators: { indicators: indicatorsModel() } });
  let closed = false;
  return {
    dir,
    log,
    ingest,
    lake,
    bronze,
    runner,
    async land(inputs) {
      await ingest.write(inputs);
      await bronze.drain();
      await bronze.flush();
    },
    async close() {
      if (closed) return;
      closed = true;
      await bronze.stop();
      await lake.close();
      await log.close();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `days` trading days from `firstDay` (epoch ms of a UTC midnight) of trades for the fixture's
 * symbols: `perWindow` in each regular window at random times, prices on a random walk (VND in
 * whole 50s), ids `<idPrefix><n>`. In event-time order.
 */
export function sessionTrades(seed: number, o: { firstDay: number; days: number; perWindow: number; idPrefix?: string }): Record<string, unknown>[] {
  const rand = mulberry32(seed);
  const ref = referenceData();
  const out: Record<string, unknown>[] = [];
  let id = 0;
  for (const inst of INSTRUMENTS) {
    const cal = ref.calendarOf(inst.exchange);
    let price = inst.currency === 'VND' ? 27_000 : 100 + rand() * 200;
    for (let d = 0, n = 0; n < o.days; d++) {
      const day = cal.day(new Date(o.firstDay + d * 86_400_000).toISOString().slice(0, 10));
      if (day === null) continue;
      n++;
      for (const w of day.regular) {
        for (let k = 0; k < o.perWindow; k++) {
          price = Math.max(1, price * (1 + (rand() - 0.5) * 0.03));
          const px = inst.currency === 'VND' ? Math.round(price / 50) * 50 : Math.round(price * 100) / 100;
          out.push({ kind: 'trade', symbol: inst.symbol, ts: w.start + Math.floor(rand() * (w.end - w.start)), source: 'test', id: `${o.idPrefix ?? 't'}${id++}`, price: px, size: 1 + Math.floor(rand() * 500) });
        }
      }
    }
  }
  return out.sort((a, b) => (a.ts as number) - (b.ts as number));
}
