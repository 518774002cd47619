import { copyCandle, type Candle, type Kpi, type MarketEvent } from '../../domain/index.js';

/**
 * One fan-out message: what changed in the live state of the symbols a process instance owns
 * since its previous message. Wire format (JSON, UTF-8), on channel `<prefix>live`:
 *
 *   {"v": 1, "from": "<instance id>", "seq": n,
 *    "ticks":   [MarketEvent, ...],   newest trade and newest quote per symbol in the window
 *    "candles": [Candle, ...],        every final candle, then the newest forming one per (symbol, interval)
 *    "kpis":    [Kpi, ...]}           newest per symbol
 *
 * Ticks are thinned to the newest per symbol and kind: the stream hub sends clients at most
 * `stream.maxPerSecondPerSymbol` updates anyway, and the live store keeps only the newest.
 */
export interface LiveMessage {
  v: 1;
  from: string;
  seq: number;
  ticks: MarketEvent[];
  candles: Candle[];
  kpis: Kpi[];
}

/** Where the live changes of one window go (Redis pub/sub, or a test's array). */
export type LivePublish = (message: LiveMessage) => void;

/**
 * The live sink of a `process` instance whose live store lives elsewhere (`serve` instances):
 * coalesces the pipeline's per-batch live output and publishes it every `intervalMs`. Final
 * candles are copied when they come (the candle operator reuses its objects for the next
 * bucket); forming candles and KPIs are kept by reference and serialized at publish time, so a
 * symbol updated a thousand times in a window costs one map write per update and one
 * serialization per window.
 */
export class LiveFanoutPublisher {
  readonly #publish: LivePublish;
  readonly #from: string;
  #seq = 0;
  #trades = new Map<string, MarketEvent>();
  #quotes = new Map<string, MarketEvent>();
  #finals: Candle[] = [];
  #forming = new Map<string, Candle>();
  #kpis = new Map<string, Kpi>();
  #timer: NodeJS.Timeout | null = null;

  constructor(options: { publish: LivePublish; instance: string; intervalMs: number }) {
    this.#publish = options.publish;
    this.#from = options.instance;
    this.#timer = setInterval(() => this.flush(), options.intervalMs);
    this.#timer.unref();
  }

  ticks(events: readonly MarketEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as MarketEvent;
      if (e.kind === 'trade') this.#trades.set(e.symbol, e);
      else if (e.kind === 'quote') this.#quotes.set(e.symbol, e);
    }
  }

  candles(candles: readonly Candle[]): void {
    for (let i = 0; i < candles.length; i++) {
      const c = candles[i] as Candle;
      const key = `${c.symbol}|${c.interval}`;
      if (c.final) {
        this.#finals.push(copyCandle(c));
        // A forming version kept from before would be older than this final one.
        if (this.#forming.get(key)?.start === c.start) this.#forming.delete(key);
      } else this.#forming.set(key, c);
    }
  }

  kpis(kpis: readonly Kpi[]): void {
    for (let i = 0; i < kpis.length; i++) this.#kpis.set((kpis[i] as Kpi).symbol, kpis[i] as Kpi);
  }

  /** Publishes what changed since the last call (nothing when nothing did). */
  flush(): void {
    if (this.#trades.size + this.#quotes.size + this.#finals.length + this.#forming.size + this.#kpis.size === 0) return;
    const message: LiveMessage = {
      v: 1,
      from: this.#from,
      seq: ++this.#seq,
      ticks: [...this.#trades.values(), ...this.#quotes.values()],
      candles: [...this.#finals, ...this.#forming.values()],
      kpis: [...this.#kpis.values()],
    };
    this.#trades = new Map();
    this.#quotes = new Map();
    this.#finals = [];
    this.#forming = new Map();
    this.#kpis = new Map();
    this.#publish(message);
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.flush();
  }
}

/** Checks a message from the wire before it reaches the live store; null when it is not one. */
export function parseLiveMessage(text: string): LiveMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null) return null;
  const o = m as Partial<LiveMessage>;
  if (o.v !== 1 || !Array.isArray(o.ticks) || !Array.isArray(o.candles) || !Array.isArray(o.kpis)) return null;
  return o as LiveMessage;
}
