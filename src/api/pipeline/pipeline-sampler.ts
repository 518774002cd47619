/**
 * Throughput per pipeline stage for the dashboard's Pipeline view. The counters are the ones the
 * Prometheus metrics read (ingest, runner, bronze, stream hub `stats()`); this only remembers a
 * few seconds of their values so a rate comes from the server, not from each browser's polling.
 */

/** One stage's running total, read from the component's own counter. */
export interface PipelineStage {
  /** Stable id: ingest, rejects, process, candles, bronze, stream. */
  readonly stage: string;
  /** What the total counts, for people. */
  readonly label: string;
  readonly total: () => number;
}

export interface StageRate {
  stage: string;
  label: string;
  total: number;
  /** Growth of the total over the window, per second (0 while the window is empty or the counter went back). */
  perSecond: number;
}

export interface PipelineRates {
  at: number;
  /** The span the rates are over: from the oldest sample kept to `at`. */
  windowMs: number;
  stages: StageRate[];
}

export interface PipelineSamplerOptions {
  stages: readonly PipelineStage[];
  now?: () => number;
  /** Default 1 s. */
  intervalMs?: number;
  /** Rates are over about this long; default 10 s. */
  windowMs?: number;
}

interface Sample {
  readonly at: number;
  readonly totals: readonly number[];
}

export class PipelineSampler {
  readonly #stages: readonly PipelineStage[];
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #windowMs: number;
  readonly #samples: Sample[] = [];
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(options: PipelineSamplerOptions) {
    this.#stages = options.stages;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#windowMs = options.windowMs ?? 10_000;
    if (!(this.#intervalMs > 0 && this.#windowMs >= this.#intervalMs)) {
      throw new RangeError(`pipeline sampler: expected 0 < intervalMs <= windowMs, got intervalMs ${this.#intervalMs} and windowMs ${this.#windowMs}`);
    }
  }

  get stages(): readonly PipelineStage[] {
    return this.#stages;
  }

  /** Samples now and then every interval; the timer never keeps the process alive. */
  start(): void {
    if (this.#timer !== null) return;
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Records every stage's total now, and forgets samples older than the window (keeping one to measure from). */
  sample(): void {
    const at = this.#now();
    this.#samples.push({ at, totals: this.#stages.map((s) => s.total()) });
    while (this.#samples.length > 1 && at - (this.#samples[1] as Sample).at >= this.#windowMs) this.#samples.shift();
  }

  /**
   * Totals read now; rates from the oldest sample within the window to now, so they move as
   * soon as counters do and settle to the mean over the window.
   */
  rates(): PipelineRates {
    const at = this.#now();
    const base = this.#samples.find((s) => at - s.at <= this.#windowMs) ?? this.#samples[this.#samples.length - 1];
    const dt = base === undefined ? 0 : at - base.at;
    const stages = this.#stages.map((s, i): StageRate => {
      const total = s.total();
      const before = base?.totals[i] ?? total;
      const perSecond = dt > 0 ? Math.max(0, Math.round(((total - before) * 10_000) / dt) / 10) : 0;
      return { stage: s.stage, label: s.label, total, perSecond };
    });
    return { at, windowMs: dt, stages };
  }
}
