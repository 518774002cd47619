import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { StockStreamError } from '../../shared/errors.js';

/**
 * A checkpoint is the operator state of one partition together with the input offsets it covers
 * and the output positions it had written. It is the source of truth for where a restart
 * resumes; group offsets are committed to the log right after it, for visibility and lag.
 */
export interface Checkpoint<State> {
  readonly version: 1;
  readonly topic: string;
  readonly partition: number;
  /** Next input offset to process. */
  readonly offset: number;
  readonly state: State;
  readonly writtenAt: number;
}

/** Durable JSON checkpoints: write to a temporary file, fsync, rename over, fsync the folder. */
export class CheckpointStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(name: string, partition: number): string {
    return join(this.#dir, `${name}-p${partition}.json`);
  }

  async save<State>(name: string, checkpoint: Checkpoint<State>): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const path = this.#path(name, checkpoint.partition);
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(checkpoint));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    const dir = await open(this.#dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async load<State>(name: string, partition: number): Promise<Checkpoint<State> | null> {
    const path = this.#path(name, partition);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StockStreamError('SS_PROCESS_STATE', `checkpoint ${path}: cannot be read (${(err as Error).message})`, { cause: err });
    }
    try {
      const cp = JSON.parse(text) as Checkpoint<State>;
      if (cp.version !== 1 || cp.partition !== partition || typeof cp.offset !== 'number') throw new Error('unexpected shape');
      return cp;
    } catch (err) {
      throw new StockStreamError(
        'SS_PROCESS_STATE',
        `checkpoint ${path}: is not a valid checkpoint (${(err as Error).message}); delete it to rebuild state from the log`,
        { cause: err, context: { path } },
      );
    }
  }
}
