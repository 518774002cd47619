import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, type JournalOptions } from '../../src/log/index.js';

/** Real journals in temp folders for API tests, closed and removed by `closeAll` (afterEach). */
export class TempJournals {
  readonly #open: Journal[] = [];
  readonly #dirs: string[] = [];

  async open(options: Partial<JournalOptions> = {}): Promise<Journal> {
    const dir = await mkdtemp(join(tmpdir(), 'ss-api-log-'));
    this.#dirs.push(dir);
    const j = await Journal.open({ dir, fsync: 'never', retentionCheckMs: 0, ...options });
    this.#open.push(j);
    return j;
  }

  async closeAll(): Promise<void> {
    for (const j of this.#open.splice(0)) await j.close();
    for (const d of this.#dirs.splice(0)) await rm(d, { recursive: true, force: true });
  }
}
