import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../../src/log/index.js';
import type { LogRecord } from '../../../src/log/log.js';
import { FileCheckpointStore, PartitionRunner, WatermarkTracker, type PartitionTask } from '../../../src/processors/runtime/index.js';

/** Sums record values per partition; its state is the sum, so any loss or doubling shows. */
class SumTask implements PartitionTask<{ sum: number; seen: number }> {
  sum = 0;
  seen = 0;
  closed = false;
  process(records: readonly LogRecord[]): void {
    for (const r of records) {
      this.sum += Number(Buffer.from(r.value).toString());
      this.seen++;
    }
  }
  onTimer(): void {}
  async flush(): Promise<void> {}
  snapshot(): { sum: number; seen: number } {
    return { sum: this.sum, seen: this.seen };
  }
  restore(s: { sum: number; seen: number }): void {
    this.sum = s.sum;
    this.seen = s.seen;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(): Promise<{ dir: string; log: Journal }> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-runner-'));
  dirs.push(dir);
  const log = await Journal.open({ dir: join(dir, 'journal'), fsync: 'never', retentionCheckMs: 0 });
  await log.ensureTopic('in', { partitions: 3 });
  return { dir, log };
}

function runner<T extends SumTask = SumTask>(
  log: Journal,
  dir: string,
  tasks: Map<number, T>,
  checkpointIntervalMs = 1_000_000,
  options: { make?: () => T; checkpoints?: FileCheckpointStore; timerIntervalMs?: number } = {},
): PartitionRunner<{ sum: number; seen: number }> {
  return new PartitionRunner({
    log,
    topic: 'in',
    group: 'g',
    name: 'sum',
    checkpoints: options.checkpoints ?? new FileCheckpointStore(join(dir, 'checkpoints')),
    checkpointIntervalMs,
    ...(options.timerIntervalMs === undefined ? {} : { timerIntervalMs: options.timerIntervalMs }),
    pollTimeoutMs: 5,
    createTask: (p) => {
      const t = options.make?.() ?? (new SumTask() as T);
      tasks.set(p, t);
      return t;
    },
  });
}

async function appendNumbers(log: Journal, from: number, to: number): Promise<void> {
  const records = [];
  for (let i = from; i <= to; i++) records.push({ key: `k${i % 17}`, value: Buffer.from(String(i)) });
  await log.append('in', records);
}

const total = (tasks: Map<number, SumTask>): number => [...tasks.values()].reduce((s, t) => s + t.sum, 0);

/** Counts records in process() and sums them in complete(), noting whether a turn of the event loop came between. */
class TwoPartTask extends SumTask {
  pending: number[] = [];
  /** process() calls whose setImmediate ran before their complete(). */
  turnsBetween = 0;
  completes = 0;
  #turned = false;
  /** Wall time each complete() spends (busy), to exceed the runner's budget per loop turn. */
  completeMs = 0;
  /** The loop turn (see `turn`) of each complete() that had work. */
  completeTurns: number[] = [];
  override process(records: readonly LogRecord[]): void {
    // Queues behind deferred work, as the contract allows: complete() keeps log order.
    for (const r of records) this.pending.push(Number(Buffer.from(r.value).toString()));
    this.seen += records.length;
    this.#turned = false;
    setImmediate(() => {
      this.#turned = true;
    });
  }
  complete(): boolean {
    if (this.pending.length === 0) return true;
    if (this.#turned) this.turnsBetween++;
    this.completes++;
    this.completeTurns.push(turn);
    const until = performance.now() + this.completeMs;
    while (performance.now() < until);
    for (const v of this.pending) this.sum += v;
    this.pending = [];
    return true;
  }
  override onTimer(): void {
    this.complete();
  }
  override snapshot(): { sum: number; seen: number } {
    this.complete();
    return super.snapshot();
  }
}

/** complete() calls with work, over every SlicedTask, to order them. */
let slicedCalls = 0;

/** Sums one deferred value per 0.1 ms unit of work and stops at the deadline, as TickTask slices its candles. */
class SlicedTask extends SumTask {
  pending: number[] = [];
  /** Number (see slicedCalls) of its first complete() call with work, and of the one that finished it. */
  firstCall = -1;
  finishedCall = -1;
  /** complete() calls that stopped with work left. */
  unfinished = 0;
  /** Snapshots taken while deferred work was queued (each would do all of it at once). */
  snapshotsWithPending = 0;
  snapshots = 0;
  override process(records: readonly LogRecord[]): void {
    for (const r of records) this.pending.push(Number(Buffer.from(r.value).toString()));
    this.seen += records.length;
  }
  complete(deadline = Number.POSITIVE_INFINITY): boolean {
    if (this.pending.length === 0) return true;
    const call = ++slicedCalls;
    if (this.firstCall < 0) this.firstCall = call;
    while (this.pending.length > 0) {
      const until = performance.now() + 0.1;
      while (performance.now() < until);
      this.sum += this.pending.shift() as number;
      if (this.pending.length > 0 && performance.now() >= deadline) {
        this.unfinished++;
        return false;
      }
    }
    if (this.finishedCall < 0) this.finishedCall = call;
    return true;
  }
  override onTimer(): void {
    this.complete();
  }
  override snapshot(): { sum: number; seen: number } {
    this.snapshots++;
    if (this.pending.length > 0) this.snapshotsWithPending++;
    this.complete();
    return super.snapshot();
  }
}

/** Event-loop turns counted by a self-rescheduling setImmediate while a test needs it. */
let turn = 0;
function countTurns(): () => void {
  let on = true;
  const next = (): void => {
    turn++;
    if (on) setImmediate(next);
  };
  setImmediate(next);
  return () => {
    on = false;
  };
}

describe('PartitionRunner', () => {
  it('completes each task\'s deferred work after one event-loop turn, and waitFor includes it', async () => {
    const { dir, log } = await setup();
    const tasks = new Map<number, TwoPartTask>();
    const r = runner(log, dir, tasks, 1_000_000, { make: () => new TwoPartTask() });
    await r.start();
    for (let i = 0; i < 10; i++) {
      await appendNumbers(log, i * 100 + 1, (i + 1) * 100);
      await r.waitFor(await ends(log));
      expect(total(tasks), `after waitFor every record up to ${(i + 1) * 100} is summed, deferred part included`).toBe(((i + 1) * 100 * ((i + 1) * 100 + 1)) / 2);
    }
    const t = [...tasks.values()];
    expect(t.reduce((n, x) => n + x.completes, 0), 'the runner called complete()').toBeGreaterThan(0);
    expect(t.reduce((n, x) => n + x.turnsBetween, 0), 'every complete() came after an event-loop turn').toBe(t.reduce((n, x) => n + x.completes, 0));
    await r.stop();
    await log.close();
  });

  it('spreads one poll\'s deferred work over loop turns when it takes longer than the budget', async () => {
    const { dir, log } = await setup();
    const tasks = new Map<number, TwoPartTask>();
    // No timer in the window: onTimer would complete everything in one turn.
    const r = runner(log, dir, tasks, 1_000_000, {
      timerIntervalMs: 1_000_000,
      make: () => {
        const t = new TwoPartTask();
        t.completeMs = 3;
        return t;
      },
    });
    await r.start();
    const stop = countTurns();
    try {
      // One append over all three partitions, so one poll takes a batch of each.
      await appendNumbers(log, 1, 300);
      await r.waitFor(await ends(log));
      expect(total(tasks), 'waitFor returns only once every deferred part is done').toBe((300 * 301) / 2);
      const turns = [...tasks.values()].flatMap((t) => t.completeTurns);
      expect(turns.length, 'each partition completed its batch').toBe(3);
      expect(new Set(turns).size, `3 ms of deferred work per partition, over a 0.25 ms budget: one partition per loop turn (turns ${turns.join(', ')})`).toBe(3);
    } finally {
      stop();
      await r.stop();
      await log.close();
    }
  });

  it('goes on with a partition\'s unfinished deferred work on later turns, the others\' in between, and snapshots it only once that is done', async () => {
    const { dir, log } = await setup();
    const tasks = new Map<number, SlicedTask>();
    // A checkpoint round on every turn: each one meets deferred work when the rule is missing.
    const r = runner(log, dir, tasks, 1, { timerIntervalMs: 1_000_000, make: () => new SlicedTask() });
    await r.start();
    try {
      for (let i = 0; i < 3; i++) {
        await appendNumbers(log, i * 200 + 1, (i + 1) * 200);
        await r.waitFor(await ends(log));
        expect(total(tasks), `waitFor returns only once every deferred unit up to ${(i + 1) * 200} is summed`).toBe(((i + 1) * 200 * ((i + 1) * 200 + 1)) / 2);
        if (i === 0) {
          const t = [...tasks.values()];
          const firsts = t.map((x) => x.firstCall);
          const finishes = t.map((x) => x.finishedCall);
          expect(Math.max(...firsts), `an unfinished partition goes to the back: every partition starts (calls ${firsts.join(', ')}) before any finishes (${finishes.join(', ')})`).toBeLessThan(Math.min(...finishes));
        }
      }
      const t = [...tasks.values()];
      expect(t.reduce((n, x) => n + x.unfinished, 0), '~20 ms of deferred work per batch, 0.25 ms per turn: complete() stops with work left, again and again').toBeGreaterThan(30);
      expect(t.reduce((n, x) => n + x.snapshots, 0), 'periodic snapshots were taken during the run').toBeGreaterThan(3);
      expect(t.reduce((n, x) => n + x.snapshotsWithPending, 0), 'no periodic snapshot is taken while its partition has deferred work queued (it would do it all in one turn)').toBe(0);
    } finally {
      await r.stop();
      await log.close();
    }
  });

  it('takes the snapshot anyway once a checkpoint round has waited a second for deferred work', async () => {
    const { dir, log } = await setup();
    const tasks = new Map<number, SlicedTask>();
    const r = runner(log, dir, tasks, 1, { timerIntervalMs: 1_000_000, make: () => new SlicedTask() });
    await r.start();
    try {
      // ~1.5 s of deferred work over three partitions, done 0.25 ms a turn: all three still have
      // some when the first round turns one second old.
      await appendNumbers(log, 1, 15_000);
      await r.waitFor(await ends(log));
      expect(total(tasks), 'every unit is summed once, whoever did it').toBe((15_000 * 15_001) / 2);
      expect([...tasks.values()].reduce((n, x) => n + x.snapshotsWithPending, 0), 'a round a second old snapshots a partition with deferred work (the snapshot completes it)').toBeGreaterThan(0);
    } finally {
      await r.stop();
      await log.close();
    }
  });

  it('processes every partition and resumes from its checkpoint after a clean stop', async () => {
    const { dir, log } = await setup();
    await appendNumbers(log, 1, 500);
    const first = new Map<number, SumTask>();
    const r1 = runner(log, dir, first);
    await r1.start();
    await r1.waitFor(await ends(log));
    await r1.stop();
    expect(total(first), 'every record of every partition is processed once').toBe((500 * 501) / 2);
    expect([...first.values()].every((t) => t.closed), 'stop closes every task').toBe(true);

    await appendNumbers(log, 501, 700);
    const second = new Map<number, SumTask>();
    const r2 = runner(log, dir, second);
    await r2.start();
    await r2.waitFor(await ends(log));
    await r2.stop();
    expect(total(second), 'restored state plus only the new records: nothing lost, nothing doubled').toBe((700 * 701) / 2);
    await log.close();
  });

  it('after a stop without checkpointing the tail, replays only what came after the last checkpoint', async () => {
    const { dir, log } = await setup();
    await appendNumbers(log, 1, 300);
    const first = new Map<number, SumTask>();
    const r1 = runner(log, dir, first);
    await r1.start();
    await r1.waitFor(await ends(log));
    await r1.checkpoint();
    await appendNumbers(log, 301, 400);
    await r1.waitFor(await ends(log));
    // A crash: the state for 301..400 is lost with the process; no further checkpoint is written.
    const crashedProgress = r1.progress();
    expect(crashedProgress.some((p) => p.checkpointed < p.offset), 'the checkpoint lags what was processed').toBe(true);
    await r1.abort();

    const second = new Map<number, SumTask>();
    const r2 = runner(log, dir, second);
    await r2.start();
    await r2.waitFor(await ends(log));
    expect(total(second), 'the restart restores 1..300 from the checkpoint and replays 301..400 once').toBe((400 * 401) / 2);
    expect([...second.values()].reduce((s, t) => s + t.seen, 0), 'seen counts match: no record twice').toBe(400);
    await r2.stop();
    await log.close();
  });
});

describe('PartitionRunner periodic checkpoints', () => {
  it('keep processing while a checkpoint is written, and a snapshot waits only for outputs made before it', async () => {
    const { dir, log } = await setup();
    let release: () => void = () => undefined;
    const saveGate = new Promise<void>((r) => (release = r));
    let saves = 0;
    // A disk that takes as long as the test wants to write a checkpoint.
    class SlowStore extends FileCheckpointStore {
      override async save<S>(name: string, cp: Parameters<FileCheckpointStore['save']>[1] & { state: S }): Promise<void> {
        await saveGate;
        saves++;
        return super.save(name, cp);
      }
    }
    const tasks = new Map<number, SumTask>();
    const r = runner(log, dir, tasks, 1, { checkpoints: new SlowStore(join(dir, 'checkpoints')) });
    await r.start();
    await appendNumbers(log, 1, 100);
    await r.waitFor(await ends(log));
    // The first round is now blocked in save(); input keeps flowing and is processed meanwhile.
    await appendNumbers(log, 101, 300);
    await r.waitFor(await ends(log));
    expect(total(tasks), 'records after the snapshot are processed while its checkpoint is still being written').toBe((300 * 301) / 2);
    expect(saves, 'no checkpoint has been written yet: the disk is still blocked').toBe(0);
    release();
    await r.stop();
    expect(saves, 'the blocked round and the final checkpoint were written once the disk answered').toBeGreaterThan(0);
    const again = new Map<number, SumTask>();
    const r2 = runner(log, dir, again);
    await r2.start();
    await r2.waitFor(await ends(log));
    await r2.stop();
    expect(total(again), 'the checkpoint written at stop covers everything: the restart replays nothing twice').toBe((300 * 301) / 2);
    await log.close();
  });
});

async function ends(log: Journal): Promise<Map<number, number>> {
  const info = (await log.topics()).find((t) => t.name === 'in');
  return new Map((info?.partitions ?? []).map((p) => [p.partition, p.endOffset]));
}

describe('WatermarkTracker', () => {
  it('follows the largest event time and never goes back', () => {
    const w = new WatermarkTracker({ idleMs: 1000 });
    expect(w.observe(100, 0), 'first event time sets the watermark').toBe(100);
    expect(w.observe(50, 1), 'an older event does not move it back').toBeNull();
    expect(w.value, 'the watermark stays at the maximum').toBe(100);
  });

  it('moves with the wall clock only once the input has been idle for idleMs', () => {
    const w = new WatermarkTracker({ idleMs: 1000 });
    w.observe(10_000, 0);
    expect(w.idle(999), 'not idle yet').toBeNull();
    expect(w.idle(1500), 'idle 500 ms past the threshold: event time advances by 500 ms').toBe(10_500);
  });
});
