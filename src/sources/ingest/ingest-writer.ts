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
import type { Log, ProducerRecord, RecordCodec } from '../../log/log.js';

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

/**
 * Ticks as log records (Log.appendItems): keyed by symbol (per-symbol order), at event time, the
 * binary event codec as the value, and the event itself as the in-process payload.
 */
const EVENT_RECORDS: RecordCodec<MarketEvent> = {
  key: (e) => e.symbol,
  timestamp: (e) => e.ts,
  maxBytes: maxEncodedSize,
  write: (e, buf, view, pos) => encodeEventInto(e, buf, pos, view),
};

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
    if (events.length > 0) pending.push(this.#o.log.appendItems(TICKS_TOPIC, events, EVENT_RECORDS));
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
