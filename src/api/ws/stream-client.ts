/**
 * One WebSocket subscriber's coalescing and backpressure state.
 *
 * Wire format (server → client): a JSON array of messages per frame,
 *   [{"channel":"candles:1m","symbol":"AAPL","data":{...Candle}},{"channel":"kpis","symbol":"MSFT","data":{...Kpi}}]
 * and, for a refused client message, one object: {"channel":"error","data":{"code","message"}}.
 *
 * Each (lane, symbol) has one Slot holding only its latest unsent value, so pending state is
 * bounded by the subscriptions however slow the client reads. A lane is the channel, except that
 * `ticks` has one lane for trades and one for quotes (a quote must not replace the last trade).
 */

/**
 * What the client needs from a socket; `ws`'s WebSocket satisfies it. Frames are UTF-8 JSON
 * handed over as bytes with `binary: false`, so they go out as text frames.
 */
export interface StreamSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  send(data: Uint8Array, options: { binary: boolean }): void;
}

/** Scheduling seams, so coalescing is tested with a manual clock instead of wall time. */
export interface StreamClock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setImmediate(fn: () => void): void;
}

export interface StreamCounters {
  framesWritten: number;
  messagesWritten: number;
  /** Updates replaced by a newer one while waiting for their (channel, symbol) rate slot. */
  coalesced: number;
  /** Updates replaced while the client was backpressured (its buffer over the limit). */
  dropped: number;
  /** Times a backpressured client drained and got the latest values as one snapshot frame. */
  drainSnapshots: number;
  /** Error replies not sent because the client was not reading. */
  errorsSuppressed: number;
}

/** Settings and shared parts handed to each client by the hub. */
export interface ClientContext {
  readonly minIntervalMs: number;
  readonly maxBufferedBytes: number;
  readonly drainPollMs: number;
  readonly clock: StreamClock;
  readonly counters: StreamCounters;
  readonly onFrameWritten: ((messages: number, writtenAt: number, items: readonly unknown[]) => void) | undefined;
  /** Asks the hub to flush this client in its next setImmediate pass (one pass per loop turn). */
  markDue(client: StreamClient): void;
  /** JSON of a data value, cached across clients within one flush pass. */
  serialize(data: unknown): string;
  /** Where frames are assembled, shared by the hub's clients (one flush at a time). */
  readonly frames: FrameWriter;
}

const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Assembles a frame's UTF-8 bytes in one reused buffer and hands out an exact-size copy, whose
 * bytes live outside the JavaScript heap. A frame concatenated as a string instead leaves a rope
 * of small strings, its flattened copy and the JSON pieces on the young generation, and the
 * sampling heap profiler showed frames as the largest share of what survives each scavenge in
 * the latency benchmark (~350 bytes per tick); scavenge time grows with what survives.
 */
export class FrameWriter {
  #buf = Buffer.allocUnsafe(64 * 1024);
  #at = 0;

  begin(): void {
    this.#buf[0] = OPEN_BRACKET;
    this.#at = 1;
  }

  byte(b: number): void {
    if (this.#at === this.#buf.length) this.#grow(1);
    this.#buf[this.#at++] = b;
  }

  bytes(b: Uint8Array): void {
    if (this.#at + b.length > this.#buf.length) this.#grow(b.length);
    this.#buf.set(b, this.#at);
    this.#at += b.length;
  }

  /** UTF-8 of `s` (at most 3 bytes per UTF-16 unit, so the room check is exact enough). */
  text(s: string): void {
    if (this.#at + 3 * s.length > this.#buf.length) this.#grow(3 * s.length);
    this.#at += this.#buf.write(s, this.#at);
  }

  /** Closes the array and returns the frame's bytes, copied out of the scratch buffer. */
  finish(): Buffer {
    this.byte(CLOSE_BRACKET);
    return Buffer.from(this.#buf.subarray(0, this.#at));
  }

  #grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(2 * this.#buf.length, this.#at + need));
    this.#buf.copy(next, 0, 0, this.#at);
    this.#buf = next;
  }
}

const OPEN = 1;
const TEXT = { binary: false } as const;

class Slot {
  /** UTF-8 of `{"channel":…,"symbol":…,"data":`, encoded once. */
  readonly prefix: Buffer;
  readonly isCandle: boolean;
  data: unknown = null;
  /** A candle of an earlier bucket that a newer bucket replaced before it went out; see offer(). */
  prev: unknown = null;
  pending = false;
  lastSent = -Infinity;
  dueAt = 0;
  constructor(channel: string, symbol: string) {
    this.prefix = Buffer.from(`{"channel":${JSON.stringify(channel)},"symbol":${JSON.stringify(symbol)},"data":`);
    this.isCandle = channel.startsWith('candles:');
  }
}

export class StreamClient {
  readonly id: number;
  readonly #socket: StreamSocket;
  readonly #ctx: ClientContext;
  /** channel → subscribed symbols ("*" for all). */
  readonly #subs = new Map<string, Set<string>>();
  /** lane → symbol → slot. */
  readonly #slots = new Map<string, Map<string, Slot>>();
  #due = new Set<Slot>();
  readonly #waiting = new Set<Slot>();
  #timer: unknown = null;
  #timerAt = Infinity;
  #drainTimer: unknown = null;
  #blocked = false;
  #closed = false;
  #slotCount = 0;
  readonly #onTimer = (): void => this.#wake();
  readonly #onDrainPoll = (): void => this.#pollDrain();

  constructor(id: number, socket: StreamSocket, ctx: ClientContext) {
    this.id = id;
    this.#socket = socket;
    this.#ctx = ctx;
  }

  get blocked(): boolean {
    return this.#blocked;
  }

  /** Values held for sending: at most one (two for a candle crossing buckets) per slot. */
  get pendingCount(): number {
    return this.#due.size + this.#waiting.size;
  }

  get slotCount(): number {
    return this.#slotCount;
  }

  subscriptions(): ReadonlyMap<string, ReadonlySet<string>> {
    return this.#subs;
  }

  isSubscribed(channel: string, symbol: string): boolean {
    const set = this.#subs.get(channel);
    return set !== undefined && (set.has('*') || set.has(symbol));
  }

  addSubscription(channel: string, symbol: string): void {
    let set = this.#subs.get(channel);
    if (set === undefined) {
      set = new Set();
      this.#subs.set(channel, set);
    }
    set.add(symbol);
  }

  /** Removes a subscription and the slots it alone kept alive. */
  removeSubscription(channel: string, lanes: readonly string[], symbol: string): void {
    const set = this.#subs.get(channel);
    if (set === undefined || !set.delete(symbol)) return;
    if (set.size === 0) this.#subs.delete(channel);
    for (const lane of lanes) {
      const bySymbol = this.#slots.get(lane);
      if (bySymbol === undefined) continue;
      for (const [s, slot] of bySymbol) {
        if (symbol !== '*' && s !== symbol) continue;
        if (this.isSubscribed(channel, s)) continue;
        this.#due.delete(slot);
        this.#waiting.delete(slot);
        bySymbol.delete(s);
        this.#slotCount--;
      }
    }
  }

  /**
   * A store update for a subscribed (lane, symbol). Goes out in the next flush when its rate
   * slot is open, else waits for it; either way a newer update replaces the held one.
   */
  offer(lane: string, channel: string, symbol: string, data: unknown): void {
    if (this.#closed) return;
    const slot = this.#slot(lane, channel, symbol);
    if (slot.pending) {
      if (slot.isCandle && (slot.data as { start: number }).start !== (data as { start: number }).start) {
        // The held candle is the last version of an earlier bucket; keep it so its final values
        // reach the client instead of being replaced by the next bucket's first update.
        if (slot.prev !== null) this.#countReplaced();
        slot.prev = slot.data;
      } else {
        this.#countReplaced();
      }
      slot.data = data;
      return;
    }
    slot.data = data;
    slot.pending = true;
    if (this.#blocked) {
      this.#due.add(slot);
      return;
    }
    const now = this.#ctx.clock.now();
    if (now - slot.lastSent >= this.#ctx.minIntervalMs) {
      this.#due.add(slot);
      this.#ctx.markDue(this);
      return;
    }
    slot.dueAt = slot.lastSent + this.#ctx.minIntervalMs;
    this.#waiting.add(slot);
    if (slot.dueAt < this.#timerAt) this.#arm(slot.dueAt, now);
  }

  /** A subscribe snapshot value: sent with the next flush regardless of the rate slot. */
  offerSnapshot(lane: string, channel: string, symbol: string, data: unknown): void {
    if (this.#closed) return;
    const slot = this.#slot(lane, channel, symbol);
    slot.data = data;
    slot.prev = null;
    slot.pending = true;
    this.#waiting.delete(slot);
    this.#due.add(slot);
  }

  /** Writes every due message as one frame, unless the socket is backpressured. */
  flush(): void {
    if (this.#closed || this.#blocked || this.#due.size === 0) return;
    const socket = this.#socket;
    if (socket.readyState !== OPEN) return;
    if (socket.bufferedAmount > this.#ctx.maxBufferedBytes) {
      this.#block();
      return;
    }
    const now = this.#ctx.clock.now();
    const ctx = this.#ctx;
    const w = ctx.frames;
    w.begin();
    let messages = 0;
    const items: unknown[] | null = ctx.onFrameWritten === undefined ? null : [];
    for (const slot of this.#due) {
      if (slot.prev !== null) {
        if (messages > 0) w.byte(COMMA);
        w.bytes(slot.prefix);
        w.text(ctx.serialize(slot.prev));
        w.byte(CLOSE_BRACE);
        messages++;
        items?.push(slot.prev);
        slot.prev = null;
      }
      if (messages > 0) w.byte(COMMA);
      w.bytes(slot.prefix);
      w.text(ctx.serialize(slot.data));
      w.byte(CLOSE_BRACE);
      messages++;
      items?.push(slot.data);
      slot.data = null;
      slot.pending = false;
      slot.lastSent = now;
    }
    // A new set, not clear(): see StreamHub#runFlushPass on what clear() keeps alive.
    this.#due = new Set();
    socket.send(w.finish(), TEXT);
    ctx.counters.framesWritten++;
    ctx.counters.messagesWritten += messages;
    if (items !== null) ctx.onFrameWritten?.(messages, ctx.clock.now(), items);
    if (socket.bufferedAmount > ctx.maxBufferedBytes) this.#block();
  }

  /** Sends a one-off error reply; skipped when the client is not reading, to keep memory bounded. */
  sendError(code: string, message: string): void {
    const socket = this.#socket;
    if (this.#closed || socket.readyState !== OPEN) return;
    if (this.#blocked || socket.bufferedAmount > this.#ctx.maxBufferedBytes) {
      this.#ctx.counters.errorsSuppressed++;
      return;
    }
    socket.send(JSON.stringify({ channel: 'error', data: { code, message } }));
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) this.#ctx.clock.clearTimeout(this.#timer);
    if (this.#drainTimer !== null) this.#ctx.clock.clearTimeout(this.#drainTimer);
    this.#timer = null;
    this.#drainTimer = null;
    this.#due.clear();
    this.#waiting.clear();
    this.#slots.clear();
    this.#slotCount = 0;
  }

  #countReplaced(): void {
    if (this.#blocked) this.#ctx.counters.dropped++;
    else this.#ctx.counters.coalesced++;
  }

  #slot(lane: string, channel: string, symbol: string): Slot {
    let bySymbol = this.#slots.get(lane);
    if (bySymbol === undefined) {
      bySymbol = new Map();
      this.#slots.set(lane, bySymbol);
    }
    let slot = bySymbol.get(symbol);
    if (slot === undefined) {
      slot = new Slot(channel, symbol);
      bySymbol.set(symbol, slot);
      this.#slotCount++;
    }
    return slot;
  }

  #arm(at: number, now: number): void {
    if (this.#timer !== null) this.#ctx.clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#ctx.clock.setTimeout(this.#onTimer, Math.max(0, at - now));
  }

  /** Rate-slot timer: moves every waiting slot whose time has come to due, then flushes. */
  #wake(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    if (this.#closed) return;
    const now = this.#ctx.clock.now();
    let next = Infinity;
    for (const slot of this.#waiting) {
      if (slot.dueAt <= now) {
        this.#waiting.delete(slot);
        this.#due.add(slot);
      } else if (slot.dueAt < next) {
        next = slot.dueAt;
      }
    }
    if (next !== Infinity) this.#arm(next, now);
    // Through the hub's flush pass, so clients whose slots open in the same timers phase share
    // one serialization of each value.
    if (this.#due.size > 0) this.#ctx.markDue(this);
  }

  /**
   * Stops deltas: everything held waits in `due` (one value per slot) until the socket drains
   * below half the limit, then goes out as one snapshot frame.
   */
  #block(): void {
    this.#blocked = true;
    for (const slot of this.#waiting) this.#due.add(slot);
    this.#waiting.clear();
    if (this.#timer !== null) this.#ctx.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Infinity;
    // `ws` has no drain event on the WebSocket itself; polling bufferedAmount is cheap and only
    // runs while this client is blocked.
    this.#drainTimer = this.#ctx.clock.setTimeout(this.#onDrainPoll, this.#ctx.drainPollMs);
  }

  #pollDrain(): void {
    this.#drainTimer = null;
    if (this.#closed || this.#socket.readyState !== OPEN) return;
    if (this.#socket.bufferedAmount > this.#ctx.maxBufferedBytes / 2) {
      this.#drainTimer = this.#ctx.clock.setTimeout(this.#onDrainPoll, this.#ctx.drainPollMs);
      return;
    }
    this.#blocked = false;
    if (this.#due.size > 0) {
      this.#ctx.counters.drainSnapshots++;
      this.#ctx.markDue(this);
    }
  }
}
