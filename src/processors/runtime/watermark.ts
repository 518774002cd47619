/**
 * Event-time watermark of one partition: the largest event time seen, minus an optional delay.
 * When input goes quiet (no events for `idleMs` of wall-clock time) the watermark keeps moving
 * with the wall clock from the last event time, so a quiet market's open buckets still close.
 * Replays at `max` speed never idle mid-stream, so their event time is not dragged by the clock.
 */
export class WatermarkTracker {
  readonly #delayMs: number;
  readonly #idleMs: number;
  #maxTs = Number.NEGATIVE_INFINITY;
  #lastInputAt = 0;
  #watermark = Number.NEGATIVE_INFINITY;

  constructor(options: { delayMs?: number; idleMs: number }) {
    this.#delayMs = options.delayMs ?? 0;
    this.#idleMs = options.idleMs;
  }

  get value(): number {
    return this.#watermark;
  }

  get maxEventTime(): number {
    return this.#maxTs;
  }

  /** Records event times seen at wall time `now`; returns the new watermark if it advanced, else null. */
  observe(maxTsInBatch: number, now: number): number | null {
    // Never backwards: a batch's candles may be computed after a later batch was taken (TickTask).
    if (now > this.#lastInputAt) this.#lastInputAt = now;
    if (maxTsInBatch > this.#maxTs) this.#maxTs = maxTsInBatch;
    return this.#advance(this.#maxTs - this.#delayMs);
  }

  /** Input arrived at wall time `now`, whatever its event time: the partition is not idle. */
  active(now: number): void {
    if (now > this.#lastInputAt) this.#lastInputAt = now;
  }

  /** Called on the wall-clock timer: advances an idle partition. Returns the new watermark or null. */
  idle(now: number): number | null {
    if (this.#maxTs === Number.NEGATIVE_INFINITY) return null;
    const quiet = now - this.#lastInputAt;
    if (quiet < this.#idleMs) return null;
    return this.#advance(this.#maxTs - this.#delayMs + (quiet - this.#idleMs));
  }

  #advance(candidate: number): number | null {
    if (candidate <= this.#watermark) return null;
    this.#watermark = candidate;
    return candidate;
  }

  snapshot(): { maxTs: number | null; watermark: number | null } {
    return {
      maxTs: Number.isFinite(this.#maxTs) ? this.#maxTs : null,
      watermark: Number.isFinite(this.#watermark) ? this.#watermark : null,
    };
  }

  restore(s: { maxTs: number | null; watermark: number | null }, now: number): void {
    this.#maxTs = s.maxTs ?? Number.NEGATIVE_INFINITY;
    this.#watermark = s.watermark ?? Number.NEGATIVE_INFINITY;
    this.#lastInputAt = now;
  }
}
