import type { RawRecord } from '../source.js';
import { Simulator, type SimulatorOptions } from './simulator.js';

export interface SimulatorRate {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSec: number;
}

/**
 * Raw generation speed in virtual mode: events/s of the generator alone (no sink, no JSON), in
 * batches like the run loop. A benchmark helper, not a test assertion.
 */
export function measureSimulatorRate(events = 1_000_000, options: Partial<SimulatorOptions> = {}): SimulatorRate {
  const sim = new Simulator({ seed: 1, startTs: Date.UTC(2024, 0, 2, 14, 30), ...options, clock: 'virtual' });
  const batchSize = options.batchSize ?? 4_096;
  const start = performance.now();
  let done = 0;
  while (done < events) {
    const batch: RawRecord[] = [];
    done += sim.generate(batch, Math.min(batchSize, events - done));
  }
  const seconds = (performance.now() - start) / 1000;
  return { events: done, seconds, eventsPerSec: done / seconds };
}
