import { decodeEvent, type Candle, type Interval, type Kpi, type MarketEvent } from '../../domain/index.js';
import type { Log, LogRecord, ProducerRecord } from '../../log/log.js';
import type { CandleOperator } from '../candles/index.js';
import type { DedupOperator, DedupState } from '../dedup/index.js';
import type { KpiOperator, KpiState } from '../kpis/index.js';
import type { PartitionTask } from '../runtime/partition-runner.js';
import { WatermarkTracker } from '../runtime/watermark.js';

export const CANDLES_TOPIC_PREFIX = 'candles.';
/** Event-time granularity of watermark advances (1s buckets end on this grid). */
export const WATERMARK_STEP_MS = 100;
export const LATE_TOPIC = 'ticks.late';
/** Newest KPIs per symbol, for the warehouse (value: JSON Kpi, key: symbol). */
export const KPIS_TOPIC = 'kpis';

export function candlesTopic(interval: Interval): string {
  return `${CANDLES_TOPIC_PREFIX}${interval}`;
}

/** Where live results go: the live store and the stream hub; called once per batch. */
export interface LiveSink {
  ticks(events: readonly MarketEvent[]): void;
  /** With the candle operator's liveOutput, these objects change in place later: copy what you keep. */
  candles(candles: readonly Candle[]): void;
  kpis(kpis: readonly Kpi[]): void;
}

export interface TickTaskState {
  dedup: DedupState;
  candles: unknown;
  kpis: KpiState;
  watermark: { maxTs: number | null; watermark: number | null };
}

export interface TickTaskOptions {
  partition: number;
  log: Log;
  dedup: DedupOperator;
  candles: CandleOperator;
  kpis: KpiOperator;
  live: LiveSink;
  idleWatermarkMs: number;
  /** Append each symbol's newest KPIs to KPIS_TOPIC at every timer (a warehouse consumes them). Default false. */
  publishKpis?: boolean;
  /** Called with records that cannot be decoded (never expected: the log's CRC guards them). */
  onCorrupt?: (record: LogRecord, err: unknown) => void;
  /** Told how many final candles (revisions included) a batch appended to the candle topics. */
  onFinals?: (count: number) => void;
}

/**
 * The real-time pipeline of one `ticks` partition: decode → dedup → candles (6 intervals) and KPIs
 * → live store (whose ring evictions feed the indicators). Final candles and amendments are appended to `candles.<interval>` in
 * the same partition (keyed by symbol; idempotent by symbol+interval+start+rev), late events to
 * `ticks.late`. Forming candles are only live state: a restart rebuilds them from the checkpoint
 * plus the replayed ticks.
 */
export class TickTask implements PartitionTask<TickTaskState> {
  readonly #o: TickTaskOptions;
  readonly #watermark: WatermarkTracker;
  /** Settles when every output appended so far is durable (rejects if one failed). */
  #outputs: Promise<void> = Promise.resolve();
  readonly #late: ProducerRecord[] = [];
  /** Newest KPIs per symbol since the last timer, when publishing them. */
  #kpis = new Map<string, Kpi>();
  #decodeErrors = 0;
  /**
   * Deduplicated events of the batches whose candles `complete` has yet to compute, oldest first,
   * with the wall time each was processed at (parallel arrays: no object per batch).
   */
  readonly #pending: MarketEvent[][] = [];
  readonly #pendingAt: number[] = [];

  constructor(options: TickTaskOptions) {
    this.#o = options;
    this.#watermark = new WatermarkTracker({ idleMs: options.idleWatermarkMs });
  }

  /** For the candle operator's `onLate`: queue the late event for `ticks.late`. */
  late(event: MarketEvent, info: { interval: Interval; bucketStart: number; watermark: number }): void {
    this.#late.push({
      key: event.symbol,
      partition: this.#o.partition,
      value: Buffer.from(JSON.stringify({ event, ...info })),
      timestamp: event.ts,
    });
  }

  /**
   * The urgent part of a batch: decode, dedup, KPIs, and the ticks and KPIs to the live store
   * (whose subscribers' frames go out in the next loop turn). Candles — and with them the
   * finalisation burst when event time crosses a second, ~250 candles per partition — wait for
   * `complete`, so a tick's frame never waits behind candle work, not even this partition's: a
   * batch may be processed while earlier ones still wait for their candles, which `complete`
   * then computes in log order (dedup and KPIs do not depend on candles).
   */
  process(records: readonly LogRecord[], now: number): void {
    const events: MarketEvent[] = [];
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as LogRecord;
      // In-process records carry the validated event itself; otherwise decode the bytes.
      if (r.payload !== undefined) {
        events.push(r.payload as MarketEvent);
        continue;
      }
      try {
        events.push(decodeEvent(r.value));
      } catch (err) {
        this.#decodeErrors++;
        this.#o.onCorrupt?.(r, err);
      }
    }
    const fresh: MarketEvent[] = [];
    this.#o.dedup.processBatch(events, fresh);
    const kpis: Kpi[] = [];
    this.#o.kpis.processBatch(fresh, kpis);
    this.#o.live.ticks(fresh);
    this.#o.live.kpis(kpis);
    if (this.#o.publishKpis === true) for (let i = 0; i < kpis.length; i++) this.#kpis.set((kpis[i] as Kpi).symbol, kpis[i] as Kpi);
    this.#pending.push(fresh);
    this.#pendingAt.push(now);
    // Input came even if it crossed no grid line: the partition is not idle. Without this, a
    // replay whose event time advances less than one step per idleWatermarkMs of wall time (a
    // busy machine) gets idle watermarks dragged ahead by the wall clock, and its later ticks are
    // all refused as late. Activity moves no watermark, so event-time decisions stay independent
    // of polling.
    if (records.length > 0) this.#watermark.active(now);
  }

  /** Candles of every batch `process` took and `complete` has not, in log order. */
  complete(): void {
    const pending = this.#pending;
    if (pending.length === 0) return;
    const at = this.#pendingAt;
    for (let i = 0; i < pending.length; i++) this.#candles(pending[i] as MarketEvent[], at[i] as number);
    pending.length = 0;
    at.length = 0;
  }

  /** Candles for one processed batch: operator calls in log order, then outputs. */
  #candles(fresh: MarketEvent[], now: number): void {
    let maxTs = this.#watermark.maxEventTime;
    // The watermark moves where event time crosses a WATERMARK_STEP_MS grid line, found in log
    // order: the operator sees the same watermark calls however the log is polled or a restart
    // splits it, so late/amend decisions and revisions replay identically.
    const candles: Candle[] = [];
    // Operator calls that put candles in `candles`: each call lists a candle once, so only more
    // than one can repeat it (see #emitCandles).
    let calls = 0;
    let listed = 0;
    const wmNow = this.#watermark.value;
    let step = Number.isFinite(wmNow) ? Math.floor(wmNow / WATERMARK_STEP_MS) : Number.NEGATIVE_INFINITY;
    let from = 0;
    for (let i = 0; i < fresh.length; i++) {
      const ts = (fresh[i] as MarketEvent).ts;
      if (ts <= maxTs) continue;
      maxTs = ts;
      const g = Math.floor(ts / WATERMARK_STEP_MS);
      if (g <= step) continue;
      step = g;
      if (i > from) {
        this.#o.candles.processBatch(from === 0 && i === fresh.length ? fresh : fresh.slice(from, i), candles);
        if (candles.length > listed) calls++;
        listed = candles.length;
      }
      from = i;
      const wm = this.#watermark.observe(g * WATERMARK_STEP_MS, now);
      if (wm !== null) {
        this.#o.candles.onWatermark(wm, candles);
        if (candles.length > listed) calls++;
        listed = candles.length;
      }
    }
    if (from < fresh.length) this.#o.candles.processBatch(from === 0 ? fresh : fresh.slice(from), candles);
    if (candles.length > listed) calls++;
    this.#emitCandles(candles, calls > 1);
  }

  onTimer(now: number): void {
    this.complete();
    const wm = this.#watermark.idle(now);
    const candles: Candle[] = [];
    if (wm !== null) this.#o.candles.onWatermark(wm, candles);
    this.#o.candles.onTimer(now, candles);
    this.#emitCandles(candles, true);
    if (this.#kpis.size > 0) {
      const records: ProducerRecord[] = [];
      for (const k of this.#kpis.values()) records.push({ key: k.symbol, partition: this.#o.partition, value: Buffer.from(JSON.stringify(k)), timestamp: k.ts });
      this.#kpis = new Map();
      this.#track(this.#o.log.append(KPIS_TOPIC, records));
    }
  }

  #emitCandles(all: Candle[], mayRepeat: boolean): void {
    // With the candle operator's liveOutput a slot touched in several watermark steps of one
    // batch is in `all` once per step, each entry the same object in its latest state: emit it
    // once (ten 100 ms steps per 1 s bucket put every final 1 s candle on the log ten times).
    // A batch within one step (most, when ticks come a few at a time) needs no Set.
    const candles = mayRepeat && all.length > 1 ? [...new Set(all)] : all;
    if (candles.length > 0) {
      this.#o.live.candles(candles);
      const finals = new Map<Interval, ProducerRecord[]>();
      for (let i = 0; i < candles.length; i++) {
        const c = candles[i] as Candle;
        if (!c.final) continue;
        let list = finals.get(c.interval);
        if (list === undefined) finals.set(c.interval, (list = []));
        list.push({ key: c.symbol, partition: this.#o.partition, value: Buffer.from(JSON.stringify(c)), timestamp: c.start });
      }
      let count = 0;
      for (const [interval, records] of finals) {
        count += records.length;
        this.#track(this.#o.log.append(candlesTopic(interval), records));
      }
      if (count > 0) this.#o.onFinals?.(count);
    }
    if (this.#late.length > 0) this.#track(this.#o.log.append(LATE_TOPIC, this.#late.splice(0)));
  }

  #track(append: Promise<unknown>): void {
    const outputs = Promise.all([this.#outputs, append]).then(() => undefined);
    // Marked handled here; the failure still reaches whoever awaits flush() (the checkpoint).
    outputs.catch(() => undefined);
    this.#outputs = outputs;
  }

  flush(): Promise<void> {
    this.complete();
    return this.#outputs;
  }

  snapshot(): TickTaskState {
    this.complete();
    return {
      dedup: this.#o.dedup.onCheckpoint(),
      candles: this.#o.candles.onCheckpoint(),
      kpis: this.#o.kpis.onCheckpoint(),
      watermark: this.#watermark.snapshot(),
    };
  }

  restore(state: TickTaskState, now: number): void {
    this.#pending.length = 0;
    this.#pendingAt.length = 0;
    this.#o.dedup.restore(state.dedup);
    this.#o.candles.restore(state.candles as never);
    this.#o.kpis.restore(state.kpis);
    this.#watermark.restore(state.watermark, now);
  }

  stats(): { decodeErrors: number; watermark: number } {
    return { decodeErrors: this.#decodeErrors, watermark: this.#watermark.value };
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
