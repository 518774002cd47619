/**
 * A cache of API answers with a time to live: in process when embedded, Redis when several
 * `serve` instances should share it (RedisFanout implements it too).
 */
export interface ResponseCache {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
}

/** The in-process cache: a map with expiry times, pruned as it is written. */
export class MemoryCache implements ResponseCache {
  readonly #entries = new Map<string, { value: string; until: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get(key: string): Promise<string | null> {
    const e = this.#entries.get(key);
    if (e === undefined) return Promise.resolve(null);
    if (e.until <= this.#now()) {
      this.#entries.delete(key);
      return Promise.resolve(null);
    }
    return Promise.resolve(e.value);
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    if (this.#entries.size >= this.#maxEntries) {
      const now = this.#now();
      for (const [k, e] of this.#entries) if (e.until <= now) this.#entries.delete(k);
      // Still full of live entries: drop the oldest written (Map keeps insertion order).
      if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
    }
    this.#entries.delete(key);
    this.#entries.set(key, { value, until: this.#now() + ttlMs });
    return Promise.resolve();
  }
}

/** The cached answer of `key`, or `load()`'s, stored for `ttlMs`. Answers are JSON text. */
export async function cached<T>(cache: ResponseCache, key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
  const hit = await cache.get(key);
  if (hit !== null) return JSON.parse(hit) as T;
  const value = await load();
  await cache.set(key, JSON.stringify(value), ttlMs);
  return value;
}
