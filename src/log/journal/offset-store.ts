/**
 * Committed consumer-group offsets: one JSON file per group in `<dir>/~groups/` ('~' cannot occur
 * in a topic name, so it never collides with a topic directory). A commit rewrites the group's file
 * atomically (temp file, fdatasync, rename, fsync of the directory), so after a crash the file
 * holds either the previous or the new commit, never a mix. Commits of one group are serialized.
 *
 *   { "version": 1, "offsets": { "<topic>": { "<partition>": <next offset to read> } } }
 */

import fs from 'node:fs';
import path from 'node:path';
import { StockStreamError } from '../../shared/errors.js';
import type { CommitOffset } from '../log.js';
import { mkdirp, writeFileAtomic } from './fs-io.js';

type GroupOffsets = Map<string, Map<number, number>>;

export class OffsetStore {
  readonly #dir: string;
  readonly #sync: boolean;
  readonly #groups = new Map<string, GroupOffsets>();
  readonly #chains = new Map<string, Promise<void>>();

  private constructor(dir: string, sync: boolean) {
    this.#dir = dir;
    this.#sync = sync;
  }

  static async open(dir: string, sync: boolean): Promise<OffsetStore> {
    const store = new OffsetStore(dir, sync);
    await mkdirp(dir);
    for (const name of await fs.promises.readdir(dir)) {
      const file = path.join(dir, name);
      if (name.includes('.tmp-')) {
        await fs.promises.rm(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const group = decodeURIComponent(name.slice(0, -5));
      let parsed: { version?: number; offsets?: Record<string, Record<string, number>> };
      try {
        parsed = JSON.parse(await fs.promises.readFile(file, 'utf8')) as typeof parsed;
      } catch (err) {
        throw new StockStreamError(
          'SS_LOG_CORRUPT',
          `Expected committed offsets as JSON in ${file}, but it does not parse (${String(err)}). Delete the file to make group '${group}' start from its reset policy.`,
          { cause: err, context: { file, group } },
        );
      }
      const offsets: GroupOffsets = new Map();
      for (const [topic, parts] of Object.entries(parsed.offsets ?? {})) {
        const m = new Map<number, number>();
        for (const [p, o] of Object.entries(parts)) m.set(Number(p), o);
        offsets.set(topic, m);
      }
      store.#groups.set(group, offsets);
    }
    return store;
  }

  committed(group: string, topic: string, partition: number): number | null {
    return this.#groups.get(group)?.get(topic)?.get(partition) ?? null;
  }

  commit(group: string, offsets: readonly CommitOffset[]): Promise<void> {
    const prev = this.#chains.get(group) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.#write(group, offsets));
    this.#chains.set(group, next);
    return next;
  }

  async #write(group: string, offsets: readonly CommitOffset[]): Promise<void> {
    // Build the new state aside and make it visible only once it is durable.
    const current = this.#groups.get(group) ?? new Map<string, Map<number, number>>();
    const updated: GroupOffsets = new Map();
    for (const [t, m] of current) updated.set(t, new Map(m));
    for (const o of offsets) {
      let m = updated.get(o.topic);
      if (m === undefined) updated.set(o.topic, (m = new Map()));
      m.set(o.partition, o.offset);
    }
    const json: Record<string, Record<string, number>> = {};
    for (const [t, m] of updated) json[t] = Object.fromEntries(m);
    await writeFileAtomic(path.join(this.#dir, `${encodeURIComponent(group)}.json`), JSON.stringify({ version: 1, offsets: json }), this.#sync);
    this.#groups.set(group, updated);
  }

  /** Waits for commits in progress. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()]);
  }
}
