import {
  EventReject,
  encodeEventInto,
  maxEncodedSize,
  parseEvent,
  validateEvent,
  type MarketEvent,
  type RejectRule,
  type ValidationPolicy,
} from '../../domain/index.js';
import type { Log, ProducerRecord } from '../../log/log.js';

export const TICKS_TOPIC = 'ticks';
export const DLQ_TOPIC = 'ticks.dlq';

/**
 * A dead-letter record, as JSON in `ticks.dlq`: why the input was refused and the input itself,
 * so a fix can be replayed.
 */
export interface DeadLetter {
  readonly rule: RejectRule;
  readonly field: string;
  readonly value: unknown;
  readonly message: string;
  readonly source: string;
  readonly raw: unknown;
  readonly receivedAt: number;
}

export interface IngestWriterOptions {
  log: Log;
  /** The validation window moves with the clock, so the policy is read per batch. */
  policy: (now: number) => ValidationPolicy;
  /** Names the source in dead letters. */
  source: string;
  now?: () => number;
  onAccepted?: (events: readonly MarketEvent[]) => void;
  onRejected?: (rejects: readonly DeadLetter[]) => void;
}

export interface IngestResult {
  accepted: number;
  rejected: number;
}

/** JSON-safe copy of a raw value for the dead-letter record (texts are kept as they came). */
/** The raw record as a dead letter carries it (long lines cut); ReplayResume matches by it. */
export function rawForDlq(raw: unknown): unknown {
  if (typeof raw === 'string') return raw.length > 4096 ? `${raw.slice(0, 4096)}…` : raw;
  return raw;
}

function safeValue(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (v === undefined) return null;
  return v;
}

/** Where batches are encoded before one copy to a buffer of their exact size; grows as needed. */
let scratch = Buffer.allocUnsafe(1 << 20);

/**
 * Records for `ticks`: every event encoded into one buffer, each value a view of it. One
 * allocation per batch instead of a pooled Buffer per event: fewer objects and ArrayBuffers for
 * the young-generation GC to trace and copy while the append waits for its flush. Events are
 * encoded into the scratch against a bound from string lengths, then copied once to a buffer of
 * the exact size (what the journal's tail keeps): sizing first cost a second pass over every
 * string. The views are plain Uint8Arrays (all a ProducerRecord needs): Buffer#subarray builds a
 * FastBuffer through argument checks, ~60 ns against ~22 ns for the constructor in a microbenchmark.
 */
function encodeBatch(events: readonly MarketEvent[]): ProducerRecord[] {
  const n = events.length;
  const ends = new Int32Array(n);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const e = events[i] as MarketEvent;
    const room = maxEncodedSize(e);
    if (pos + room > scratch.length) {
      const grown = Buffer.allocUnsafe(Math.max(scratch.length * 2, pos + room));
      scratch.copy(grown, 0, 0, pos);
      scratch = grown;
    }
    pos = encodeEventInto(e, scratch, pos);
    ends[i] = pos;
  }
  const buf = Buffer.allocUnsafe(pos);
  scratch.copy(buf, 0, 0, pos);
  const ab = buf.buffer;
  const base = buf.byteOffset;
  const records = new Array<ProducerRecord>(n);
  for (let i = 0, at = 0; i < n; i++) {
    const e = events[i] as MarketEvent;
    const end = ends[i] as number;
    records[i] = { key: e.symbol, value: new Uint8Array(ab, base + at, end - at), timestamp: e.ts, payload: e };
    at = end;
  }
  return records;
}

/**
 * The ingress of the tickerplant: every raw record is validated exactly once here. Good events
 * are encoded and appended to `ticks` keyed by symbol (per-symbol order); rejects go to
 * `ticks.dlq` with the field, the value and the rule. `write` resolves only once both appends are
 * durable, which is when a source may acknowledge its input (ARCHITECTURE.md §2.4-2.5).
 */
export class IngestWriter {
  readonly #o: IngestWriterOptions;
  readonly #now: () => number;
  #accepted = 0;
  #rejected = 0;
  readonly #rejectsByRule = new Map<RejectRule, number>();

  constructor(options: IngestWriterOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  async write(batch: readonly unknown[]): Promise<IngestResult> {
    const now = this.#now();
    const policy = this.#o.policy(now);
    const events: MarketEvent[] = [];
    let dead: DeadLetter[] | null = null;
    for (let i = 0; i < batch.length; i++) {
      const raw = batch[i];
      const result = typeof raw === 'string' ? parseEvent(raw, policy) : validateEvent(raw, policy);
      if (result instanceof EventReject) {
        (dead ??= []).push({
          rule: result.rule,
          field: result.field,
          value: safeValue(result.value),
          message: result.message,
          source: this.#o.source,
          raw: rawForDlq(raw),
          receivedAt: now,
        });
        continue;
      }
      events.push(result);
    }
    const pending: Promise<unknown>[] = [];
    if (events.length > 0) pending.push(this.#o.log.append(TICKS_TOPIC, encodeBatch(events)));
    if (dead !== null) {
      const dlq: ProducerRecord[] = dead.map((d) => ({
        key: typeof (d.raw as { symbol?: unknown })?.symbol === 'string' ? ((d.raw as { symbol: string }).symbol) : d.source,
        value: Buffer.from(JSON.stringify(d)),
        timestamp: now,
        headers: { rule: d.rule, field: d.field },
      }));
      pending.push(this.#o.log.append(DLQ_TOPIC, dlq));
    }
    await Promise.all(pending);
    this.#accepted += events.length;
    if (events.length > 0) this.#o.onAccepted?.(events);
    if (dead !== null) {
      this.#rejected += dead.length;
      for (const d of dead) this.#rejectsByRule.set(d.rule, (this.#rejectsByRule.get(d.rule) ?? 0) + 1);
      this.#o.onRejected?.(dead);
    }
    return { accepted: events.length, rejected: dead?.length ?? 0 };
  }

  stats(): { accepted: number; rejected: number; rejectsByRule: Record<string, number> } {
    return { accepted: this.#accepted, rejected: this.#rejected, rejectsByRule: Object.fromEntries(this.#rejectsByRule) };
  }
}
