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
/**
 * Candles `complete` hands on between deadline checks. At a second boundary each costs ~4 µs
 * (live store and indicators, JSON, log append): ~0.13 ms a slice, half the runner's budget.
 */
const EMIT_SLICE = 32;
/**
 * Queued events up to which `complete` keeps to its deadline: a few milliseconds of a live feed
 * (20,000 ticks/s make ~100 a partition in the ~8 ms of a second boundary). A pipeline that falls
 * behind (a replay at full speed, polls of up to 20,000 records) gets its backlog completed in one
 * call instead, so deferred work and the memory it holds stay bounded whatever the deadline.
 */
const MAX_QUEUED_EVENTS = 5_000;
const NO_EVENTS: MarketEvent[] = [];

/**
 * With the candle operator's liveOutput a slot touched in several watermark steps of one batch
 * is in `all` once per step, each entry the same object in its latest state: keep it once (ten
 * 100 ms steps per 1 s bucket would put every final 1 s candle on the log ten times). A batch
 * within one step (most, when ticks come a few at a time) needs no Set.
 */
function once(all: Candle[], mayRepeat: boolean): Candle[] {
  return mayRepeat && all.length > 1 ? [...new Set(all)] : all;
}

export function candlesTopic(interval: Interval): string {
  return `${CANDLES_TOPIC_PREFIX}${interval}`;
}

/** Where live results go: the live store and the stream hub; ticks and KPIs once per batch, a batch's candles in one call or in slices of up to 32 (TickTask.complete). */
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
  /** Told how many final candles (revisions included) were appended to the candle topics, per append. */
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
  /** Index in #pending of the next batch whose candles `complete` computes. */
  #head = 0;
  /** Events in #pending from #head on. */
  #queuedEvents = 0;
  /**
   * Candles of the batch being handed downstream, and the next one to hand: `complete` stops
   * between slices of EMIT_SLICE when its deadline passes, and the next call goes on here before
   * it computes another batch, so outputs keep log order.
   */
  #emitting: Candle[] | null = null;
  #emitFrom = 0;

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
    this.#queuedEvents += fresh.length;
    // Input came even if it crossed no grid line: the partition is not idle. Without this, a
    // replay whose event time advances less than one step per idleWatermarkMs of wall time (a
    // busy machine) gets idle watermarks dragged ahead by the wall clock, and its later ticks are
    // all refused as late. Activity moves no watermark, so event-time decisions stay independent
    // of polling.
    if (records.length > 0) this.#watermark.active(now);
  }

  /**
   * Candles of the batches `process` took, in log order: the operator's calls for a batch, then
   * its candles handed to the live store and final ones appended to the log, EMIT_SLICE at a
   * time. Stops once `performance.now()` reaches `deadline` (checked after each batch's operator
   * calls and each slice, so every call makes progress) unless more than MAX_QUEUED_EVENTS events
   * waited when it was called, and returns whether nothing is left.
   * When event time crosses a second, ~250 one-second candles per partition turn final at once:
   * in slices, the runner polls between them and a tick that became durable meanwhile waits for
   * one slice or one batch's operator calls (the watermark step, ~0.4 ms), not for the whole burst.
   */
  complete(deadline = Number.POSITIVE_INFINITY): boolean {
    const bounded = deadline !== Number.POSITIVE_INFINITY && this.#queuedEvents <= MAX_QUEUED_EVENTS;
    for (;;) {
      const emitting = this.#emitting;
      if (emitting !== null) {
        const to = Math.min(emitting.length, this.#emitFrom + EMIT_SLICE);
        this.#emitRange(emitting, this.#emitFrom, to);
        this.#emitFrom = to;
        if (to === emitting.length) this.#emitting = null;
      } else if (this.#head < this.#pending.length) {
        const i = this.#head++;
        const batch = this.#pending[i] as MarketEvent[];
        this.#pending[i] = NO_EVENTS;
        this.#queuedEvents -= batch.length;
        const candles = this.#candles(batch, this.#pendingAt[i] as number);
        if (candles.length > 0) {
          this.#emitting = candles;
          this.#emitFrom = 0;
        }
      }
      if (this.#emitting === null && this.#head === this.#pending.length) {
        this.#pending.length = 0;
        this.#pendingAt.length = 0;
        this.#head = 0;
        return true;
      }
      if (bounded && performance.now() >= deadline) return false;
    }
  }

  /**
   * The operator calls for one processed batch, in log order; returns the candles they touched,
   * each once, for `complete` to hand on. Late events go to their topic at once.
   */
  #candles(fresh: MarketEvent[], now: number): Candle[] {
    let maxTs = this.#watermark.maxEventTime;
    // The watermark moves where event time crosses a WATERMARK_STEP_MS grid line, found in log
    // order: the operator sees the same watermark calls however the log is polled or a restart
    // splits it, so late/amend decisions and revisions replay identically.
    const candles: Candle[] = [];
    // Operator calls that put candles in `candles`: each call lists a candle once, so only more
    // than one can repeat it (see `once`).
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
    this.#appendLate();
    return once(candles, calls > 1);
  }

  onTimer(now: number): void {
    this.complete();
    const wm = this.#watermark.idle(now);
    const candles: Candle[] = [];
    if (wm !== null) this.#o.candles.onWatermark(wm, candles);
    this.#o.candles.onTimer(now, candles);
    const unique = once(candles, true);
    this.#emitRange(unique, 0, unique.length);
    this.#appendLate();
    if (this.#kpis.size > 0) {
      const records: ProducerRecord[] = [];
      for (const k of this.#kpis.values()) records.push({ key: k.symbol, partition: this.#o.partition, value: Buffer.from(JSON.stringify(k)), timestamp: k.ts });
      this.#kpis = new Map();
      this.#track(this.#o.log.append(KPIS_TOPIC, records));
    }
  }

  /** Hands candles[from, to) to the live store and appends the final ones to their topics. */
  #emitRange(candles: Candle[], from: number, to: number): void {
    if (to <= from) return;
    this.#o.live.candles(from === 0 && to === candles.length ? candles : candles.slice(from, to));
    const finals = new Map<Interval, ProducerRecord[]>();
    for (let i = from; i < to; i++) {
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

  #appendLate(): void {
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
    this.#head = 0;
    this.#queuedEvents = 0;
    this.#emitting = null;
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
