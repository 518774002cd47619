import { Redis } from 'ioredis';
import { StockStreamError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { parseLiveMessage, type LiveMessage } from './live-fanout.js';
import type { ResponseCache } from './response-cache.js';

export interface RedisFanoutOptions {
  url: string;
  /** Prefix of every channel and key (`redis.prefix`). */
  prefix: string;
  logger?: Logger;
}

/** A dashboard refresh notice: something behind non-live panels changed (a lake job ran, instruments changed). */
export interface RefreshNotice {
  what: string;
  at: number;
  [k: string]: unknown;
}

/**
 * Redis for scale out (ARCHITECTURE.md §2.1, fan-out/cache = in-process | Redis): live updates
 * from `process` instances to every `serve` instance over pub/sub (`<prefix>live`), dashboard
 * refresh notices (`<prefix>refresh`) and the API cache (`<prefix>cache:<key>` with a TTL).
 * Pub/sub is at-most-once by design: live state is a view, the log stays the truth, and a serve
 * instance that missed messages is corrected by the next update of each symbol. Publishing
 * never queues while Redis is away (an offline queue would grow without bound under market
 * load): the message is dropped and counted.
 */
export class RedisFanout implements ResponseCache {
  readonly #o: RedisFanoutOptions;
  readonly #pub: Redis;
  #sub: Redis | null = null;
  readonly #live: ((m: LiveMessage) => void)[] = [];
  readonly #refresh: ((n: RefreshNotice) => void)[] = [];
  #published = 0;
  #dropped = 0;
  #received = 0;
  #malformed = 0;

  private constructor(o: RedisFanoutOptions, pub: Redis) {
    this.#o = o;
    this.#pub = pub;
  }

  static async connect(options: RedisFanoutOptions): Promise<RedisFanout> {
    const pub = client(options, 'publisher');
    try {
      await pub.connect();
    } catch (err) {
      pub.disconnect();
      throw unreachable(options.url, err);
    }
    return new RedisFanout(options, pub);
  }

  get liveChannel(): string {
    return `${this.#o.prefix}live`;
  }

  get refreshChannel(): string {
    return `${this.#o.prefix}refresh`;
  }

  publishLive(message: LiveMessage): void {
    this.#send(this.liveChannel, JSON.stringify(message));
  }

  publishRefresh(notice: RefreshNotice): void {
    this.#send(this.refreshChannel, JSON.stringify(notice));
  }

  #send(channel: string, text: string): void {
    if (this.#pub.status !== 'ready') {
      this.#dropped++;
      return;
    }
    this.#published++;
    this.#pub.publish(channel, text).catch(() => {
      this.#dropped++;
    });
  }

  /** Subscribes (on a connection of its own, as Redis requires) and calls `handler` with each live message. */
  async onLive(handler: (m: LiveMessage) => void): Promise<void> {
    this.#live.push(handler);
    await this.#subscriber();
  }

  async onRefresh(handler: (n: RefreshNotice) => void): Promise<void> {
    this.#refresh.push(handler);
    await this.#subscriber();
  }

  async #subscriber(): Promise<void> {
    if (this.#sub !== null) return;
    const sub = client(this.#o, 'subscriber');
    this.#sub = sub;
    sub.on('message', (channel: string, text: string) => {
      this.#received++;
      if (channel === this.liveChannel) {
        const m = parseLiveMessage(text);
        if (m === null) {
          this.#malformed++;
          return;
        }
        for (const h of this.#live) h(m);
      } else if (channel === this.refreshChannel) {
        let n: RefreshNotice;
        try {
          n = JSON.parse(text) as RefreshNotice;
        } catch {
          this.#malformed++;
          return;
        }
        for (const h of this.#refresh) h(n);
      }
    });
    try {
      await sub.connect();
      // ioredis subscribes again by itself after a reconnect.
      await sub.subscribe(this.liveChannel, this.refreshChannel);
    } catch (err) {
      throw unreachable(this.#o.url, err);
    }
  }

  async get(key: string): Promise<string | null> {
    if (this.#pub.status !== 'ready') return null;
    return this.#pub.get(`${this.#o.prefix}cache:${key}`).catch(() => null);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (this.#pub.status !== 'ready') return;
    await this.#pub.set(`${this.#o.prefix}cache:${key}`, value, 'PX', ttlMs).catch(() => undefined);
  }

  stats(): { connection: string; published: number; dropped: number; received: number; malformed: number } {
    return { connection: this.#pub.status, published: this.#published, dropped: this.#dropped, received: this.#received, malformed: this.#malformed };
  }

  async close(): Promise<void> {
    await Promise.all([this.#pub.quit().catch(() => this.#pub.disconnect()), this.#sub?.quit().catch(() => this.#sub?.disconnect())]);
  }
}

function client(o: RedisFanoutOptions, role: string): Redis {
  const redis = new Redis(o.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectionName: `stockstream-${role}`,
    // Reconnect for ever, backing off to 2 s: Redis restarts must not need a StockStream restart.
    retryStrategy: (attempt) => Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)),
  });
  redis.on('error', (err: Error) => o.logger?.debug({ err, role }, 'redis connection error'));
  return redis;
}

function unreachable(url: string, err: unknown): StockStreamError {
  const safe = url.replace(/\/\/[^@/]*@/, '//***@');
  return new StockStreamError('SS_CONFIG_INVALID', `redis.url: cannot connect to ${safe} (${(err as Error).message}). Start Redis there or fix redis.url (STOCKSTREAM_REDIS__URL).`, { cause: err });
}
