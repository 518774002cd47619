import { backoffMs } from './backoff';

/**
 * The live stream: one WebSocket to /api/stream shared by every view.
 *
 * Wire format (ARCHITECTURE.md §5): the client sends
 *   {"type":"subscribe"|"unsubscribe","symbols":[...],"channels":[...]}
 * and the server sends {"channel","symbol","data"} messages, several possibly batched in one
 * frame as a JSON array. Subscriptions are reference-counted per (channel, symbol) so two views
 * can share one; after a reconnect every live subscription is sent again and `onReconnect`
 * listeners refetch what they may have missed meanwhile.
 */

export type ConnectionState = 'connecting' | 'open' | 'reconnecting';

export interface StreamMessage {
  channel: string;
  symbol: string;
  data: unknown;
}

type Handler = (m: StreamMessage) => void;

export class LiveStream {
  readonly #url: string;
  #ws: WebSocket | null = null;
  #state: ConnectionState = 'connecting';
  #attempt = 0;
  #retryAt = 0;
  readonly #handlers = new Map<string, Set<Handler>>();
  /** Reference counts of what the server was asked for, by `channel|symbol`. */
  readonly #refs = new Map<string, number>();
  readonly #stateListeners = new Set<(s: ConnectionState, retryAt: number) => void>();
  readonly #reconnectListeners = new Set<() => void>();
  #everOpen = false;

  constructor(url: string) {
    this.#url = url;
    this.#connect();
  }

  /** Called with the state now and on every change; `retryAt` (epoch ms) is set while reconnecting. */
  onState(fn: (s: ConnectionState, retryAt: number) => void): () => void {
    this.#stateListeners.add(fn);
    fn(this.#state, this.#retryAt);
    return () => this.#stateListeners.delete(fn);
  }

  /** Called after a reconnect (not the first connect): data sent while away is lost, so refetch. */
  onReconnect(fn: () => void): () => void {
    this.#reconnectListeners.add(fn);
    return () => this.#reconnectListeners.delete(fn);
  }

  /** Subscribes `fn` to each channel for each symbol ("*": all); returns the unsubscribe function. */
  subscribe(symbols: readonly string[], channels: readonly string[], fn: Handler): () => void {
    const keys: string[] = [];
    const fresh: { symbol: string; channel: string }[] = [];
    for (const channel of channels) {
      for (const symbol of symbols) {
        const key = `${channel}|${symbol}`;
        keys.push(key);
        let set = this.#handlers.get(key);
        if (set === undefined) this.#handlers.set(key, (set = new Set()));
        set.add(fn);
        const n = (this.#refs.get(key) ?? 0) + 1;
        this.#refs.set(key, n);
        if (n === 1) fresh.push({ symbol, channel });
      }
    }
    this.#sendGrouped('subscribe', fresh);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const gone: { symbol: string; channel: string }[] = [];
      for (const key of keys) {
        this.#handlers.get(key)?.delete(fn);
        const n = (this.#refs.get(key) ?? 1) - 1;
        if (n <= 0) {
          this.#refs.delete(key);
          this.#handlers.delete(key);
          const [channel, symbol] = key.split('|') as [string, string];
          gone.push({ channel, symbol });
        } else this.#refs.set(key, n);
      }
      this.#sendGrouped('unsubscribe', gone);
    };
  }

  #sendGrouped(type: 'subscribe' | 'unsubscribe', items: readonly { symbol: string; channel: string }[]): void {
    if (items.length === 0 || this.#ws === null || this.#ws.readyState !== WebSocket.OPEN) return;
    const byChannel = new Map<string, string[]>();
    for (const { symbol, channel } of items) {
      let list = byChannel.get(channel);
      if (list === undefined) byChannel.set(channel, (list = []));
      list.push(symbol);
    }
    for (const [channel, symbols] of byChannel) {
      for (let i = 0; i < symbols.length; i += 1000) this.#ws.send(JSON.stringify({ type, symbols: symbols.slice(i, i + 1000), channels: [channel] }));
    }
  }

  #setState(s: ConnectionState): void {
    this.#state = s;
    for (const fn of this.#stateListeners) fn(s, this.#retryAt);
  }

  #connect(): void {
    const ws = new WebSocket(this.#url);
    this.#ws = ws;
    ws.onopen = () => {
      this.#attempt = 0;
      this.#retryAt = 0;
      this.#sendGrouped(
        'subscribe',
        [...this.#refs.keys()].map((k) => {
          const [channel, symbol] = k.split('|') as [string, string];
          return { channel, symbol };
        }),
      );
      this.#setState('open');
      if (this.#everOpen) for (const fn of this.#reconnectListeners) fn();
      this.#everOpen = true;
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(ev.data);
      } catch {
        return;
      }
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) this.#dispatch(m as StreamMessage);
    };
    ws.onclose = () => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      const wait = backoffMs(this.#attempt++);
      this.#retryAt = Date.now() + wait;
      this.#setState('reconnecting');
      setTimeout(() => this.#connect(), wait);
    };
  }

  #dispatch(m: StreamMessage): void {
    if (typeof m !== 'object' || m === null || typeof m.channel !== 'string') return;
    const exact = this.#handlers.get(`${m.channel}|${m.symbol}`);
    if (exact) for (const fn of exact) fn(m);
    const all = this.#handlers.get(`${m.channel}|*`);
    if (all) for (const fn of all) if (!exact?.has(fn)) fn(m);
  }
}
