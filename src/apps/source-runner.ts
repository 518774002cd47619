import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../shared/config/index.js';
import { StockStreamError } from '../shared/errors.js';
import { ReplayResume } from '../sources/ingest/index.js';
import { ReplaySource } from '../sources/replay/index.js';
import { Simulator } from '../sources/simulator/index.js';
import type { RawRecord, Source } from '../sources/source.js';
import { dataPath, type Platform } from './platform.js';

/** Builds the source the configuration names. */
export function createSource(config: Readonly<Config>, platform: Platform, startTs = Date.now()): Source {
  if (config.source === 'simulator') {
    const s = config.simulator;
    return new Simulator({
      seed: s.seed,
      ratePerSec: s.ratePerSec,
      quoteRatio: s.quoteRatio,
      clock: 'realtime',
      startTs,
      // Ids stay unique across restarts of the same seed: dedup must not drop a new run's events.
      runId: startTs.toString(36),
      ...(s.calendar === 'faithful'
        ? { sessionPhase: (exchange, ts) => platform.calendarOfExchange(exchange).phaseAt(ts) }
        : {}),
    });
  }
  const file = config.replay.file;
  if (file === undefined) {
    throw new StockStreamError('SS_CONFIG_INVALID', 'source is "replay" but no file is set; pass --file <path> or set replay.file');
  }
  return new ReplaySource({ file, speed: config.replay.speed });
}

export interface SourceRun {
  /** Resolves when the source ends (end of file, or stop()). */
  done: Promise<{ records: number; resumedAt: number }>;
  stop(): Promise<void>;
}

/**
 * Connects a source to the platform's ingest. A replayed file resumes exactly once after a
 * crash (ReplayResume); a live source simply continues.
 */
export async function runSource(platform: Platform, source: Source, options: { resumeInput?: string; resumeKey?: string } = {}): Promise<SourceRun> {
  let resume: ReplayResume | null = null;
  if (options.resumeInput !== undefined) {
    const path = resolve(options.resumeInput);
    const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
      throw new StockStreamError('SS_CLI_FILE', `${path}: cannot be read (${err.code ?? err.message}); check the path`, { cause: err });
    });
    resume = await ReplayResume.open({
      // One resume record per key: a backfill of several files resumes each where it stopped.
      path: dataPath(platform.config, 'checkpoints', `${options.resumeKey ?? 'replay-source'}.json`),
      log: platform.log,
      input: `${path}:${st.size}:${st.mtimeMs}`,
    });
  }
  let records = 0;
  const sink = async (batch: RawRecord[]): Promise<void> => {
    const fresh = resume === null ? batch : resume.filter(batch);
    if (fresh.length > 0) await platform.ingest.write(fresh);
    records += batch.length;
    if (resume !== null) await resume.advance(batch.length);
  };
  const done = source.run(sink).then(async () => {
    if (resume !== null) await resume.advance(0, Date.now(), true);
    return { records, resumedAt: resume?.resumedAt ?? 0 };
  });
  return { done, stop: () => source.stop() };
}
