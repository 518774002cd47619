import type { Log, LogConsumer, LogRecord, TopicPartition } from '../../log/log.js';
import type { CheckpointStore } from './checkpoint-store.js';

/** Wall time of deferred work per loop turn before the runner polls again (PartitionTask.complete). */
const COMPLETE_BUDGET_MS = 0.25;
/**
 * How long a periodic checkpoint waits for a partition's deferred work to drain before it takes
 * the snapshot anyway (PartitionTask.snapshot completes all of it at once).
 */
const SNAPSHOT_WAIT_MS = 1_000;

/**
 * The work one input partition needs: the operators of a pipeline plus where their outputs go.
 * `process` never throws for bad records (it dead-letters them); a throw is a bug and stops the
 * runner so state and offsets never diverge.
 */
export interface PartitionTask<State> {
  process(records: readonly LogRecord[], now: number): void;
  /**
   * Does the work `process` deferred, oldest first, until `performance.now()` reaches
   * `deadline` (default: all of it), making progress on every call; returns whether none is
   * left. The runner calls it once the event loop has had a turn after a poll's batches were
   * processed, so the urgent part of every partition's batch (what subscribers wait for) goes out
   * before the heavier part of any, with a deadline COMPLETE_BUDGET_MS ahead, polling again in
   * between. `process` may run while earlier batches' deferred work is pending (a task queues it
   * in log order); a task must finish pending work itself before onTimer, snapshot, flush and
   * close, so state and offsets never diverge whoever calls first.
   */
  complete?(deadline?: number): boolean;
  onTimer(now: number): void;
  /**
   * Resolves once every output produced before this call is durable; outputs produced later do
   * not delay it (a checkpoint taken under load must not wait for an idle moment).
   */
  flush(): Promise<void>;
  /** A copy of the state that later processing does not change (it is written in the background). */
  snapshot(): State;
  restore(state: State, now: number): void;
  close(): Promise<void>;
}

export interface PartitionRunnerOptions<State> {
  log: Log;
  topic: string;
  group: string;
  /** Checkpoint file prefix; one checkpoint per partition. */
  name: string;
  checkpoints: CheckpointStore;
  createTask: (partition: number) => PartitionTask<State>;
  checkpointIntervalMs: number;
  /** Wall-clock timer period for idle watermarks. Default 200 ms. */
  timerIntervalMs?: number;
  /** Records per poll. Default 20,000. */
  maxRecords?: number;
  /** How long a poll waits for input before timers run. Default 100 ms. */
  pollTimeoutMs?: number;
  /**
   * Rewrite an unchanged partition's checkpoint when it is this old (ms), so a store that
   * expires old records (a log topic's retention) always keeps one. Default: never.
   */
  checkpointRefreshMs?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
  /** Told when the group refused an offset commit (after a rebalance moved the partition); not fatal, the checkpoint is the truth. */
  onCommitError?: (err: unknown) => void;
  /** Told when partitions are assigned to or taken from this member. */
  onAssignment?: (change: { assigned: number[]; revoked: number[] }) => void;
}

export interface PartitionProgress {
  readonly partition: number;
  /** Next offset to process. */
  readonly offset: number;
  /** Offset of the last checkpoint (what a restart resumes from). */
  readonly checkpointed: number;
  readonly lastCheckpointAt: number;
}

/**
 * Runs a pipeline over every assigned partition of one topic: poll a batch, process it, and at
 * each checkpoint interval snapshot operator state with the offsets it covers, then (in the
 * background, while processing goes on) wait for the outputs produced before the snapshot to be
 * durable, save the checkpoint and commit those offsets to the group. A periodic checkpoint
 * snapshots one partition per loop turn, so its cost is spread instead of stalling every
 * partition's input at once (tick-to-client latency, BENCHMARKS.md). A restart restores each partition's state and
 * resumes at its checkpointed offset, so only input since the checkpoint is replayed; outputs are
 * idempotent upserts, so replaying them converges (ARCHITECTURE.md §2.4). A partition without a
 * checkpoint starts from the earliest retained offset, rebuilding its state from the log.
 */
export class PartitionRunner<State> {
  readonly #o: PartitionRunnerOptions<State>;
  readonly #now: () => number;
  readonly #tasks = new Map<number, PartitionTask<State>>();
  readonly #next = new Map<number, number>();
  readonly #checkpointed = new Map<number, { offset: number; at: number }>();
  #consumer: LogConsumer | null = null;
  #running = false;
  #loop: Promise<void> | null = null;
  #processed = 0;
  #batches = 0;
  #failure: unknown = null;
  /** Background checkpoint writes, in snapshot order. */
  #persisting: Promise<void> = Promise.resolve();
  #persistsInFlight = 0;
  /** Partitions whose tasks hold deferred work (PartitionTask.complete), oldest first. */
  #deferred = new Set<number>();
  /** Partitions the current periodic checkpoint round has yet to snapshot, and when it began. */
  #round: number[] = [];
  #roundAt = 0;

  constructor(options: PartitionRunnerOptions<State>) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Why the processing loop stopped by itself, or null. */
  get failure(): unknown {
    return this.#failure;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    const consumer = await this.#o.log.consumer({ group: this.#o.group, topics: [this.#o.topic], reset: 'earliest' });
    this.#consumer = consumer;
    await this.#sync(consumer);
    this.#running = true;
    this.#loop = this.#run(consumer);
  }

  /** Partitions this member runs now. */
  partitions(): number[] {
    return [...this.#tasks.keys()].sort((a, b) => a - b);
  }

  /**
   * Follows the group's assignment (it changes when members join or leave, ARCHITECTURE.md §4
   * "Log"): a partition taken away stops here, its outputs flushed (the checkpoint already
   * saved is what its new owner resumes from, so the replay since converges by idempotent
   * upserts); a partition given resumes from its checkpoint in the shared store.
   */
  async #sync(consumer: LogConsumer): Promise<void> {
    const owned = consumer.assignment().filter((tp) => tp.topic === this.#o.topic);
    if (owned.length === this.#tasks.size && owned.every((tp) => this.#tasks.has(tp.partition))) return;
    const ownedSet = new Set(owned.map((tp) => tp.partition));
    const revoked = [...this.#tasks.keys()].filter((p) => !ownedSet.has(p));
    for (const p of revoked) {
      const task = this.#tasks.get(p) as PartitionTask<State>;
      this.#tasks.delete(p);
      this.#next.delete(p);
      this.#checkpointed.delete(p);
      this.#deferred.delete(p);
      this.#round = this.#round.filter((x) => x !== p);
      await task.close();
    }
    const assigned: number[] = [];
    for (const tp of owned) {
      if (this.#tasks.has(tp.partition)) continue;
      await this.#assign(consumer, tp);
      assigned.push(tp.partition);
    }
    this.#o.onAssignment?.({ assigned, revoked });
  }

  async #assign(consumer: LogConsumer, tp: TopicPartition): Promise<void> {
    const task = this.#o.createTask(tp.partition);
    const cp = await this.#o.checkpoints.load<State>(this.#o.name, tp.partition);
    const now = this.#now();
    if (cp !== null) {
      task.restore(cp.state, now);
      await consumer.seek(tp, { offset: cp.offset });
      this.#next.set(tp.partition, cp.offset);
      this.#checkpointed.set(tp.partition, { offset: cp.offset, at: cp.writtenAt });
    } else {
      await consumer.seek(tp, 'earliest');
      this.#next.set(tp.partition, 0);
      this.#checkpointed.set(tp.partition, { offset: 0, at: 0 });
    }
    this.#tasks.set(tp.partition, task);
  }

  async #run(consumer: LogConsumer): Promise<void> {
    const timerEvery = this.#o.timerIntervalMs ?? 200;
    let lastTimer = this.#now();
    let lastCheckpoint = this.#now();
    try {
      while (this.#running) {
        await this.#sync(consumer);
        // With deferred work queued, only look for input that is already there.
        const records = await consumer.poll({ maxRecords: this.#o.maxRecords ?? 20_000, timeoutMs: this.#deferred.size > 0 ? 0 : (this.#o.pollTimeoutMs ?? 100) });
        const now = this.#now();
        if (records.length > 0) this.#dispatch(records, now);
        if (this.#deferred.size > 0) {
          // One loop turn (the flushes that setImmediate queued during processing run first),
          // then deferred work, oldest partition first, until the budget is spent.
          await new Promise((resolve) => setImmediate(resolve));
          this.#completeSome();
        }
        if (now - lastTimer >= timerEvery) {
          lastTimer = now;
          // onTimer completes a task's deferred work first.
          for (const task of this.#tasks.values()) task.onTimer(now);
          // A new set, not clear(): see StreamHub#runFlushPass on what clear() keeps alive.
          this.#deferred = new Set();
        }
        // A new round starts only when the last one is written: a slow disk delays checkpoints
        // instead of queueing snapshots without bound.
        if (this.#round.length === 0 && this.#persistsInFlight === 0 && now - lastCheckpoint >= this.#o.checkpointIntervalMs) {
          lastCheckpoint = now;
          this.#round = [...this.#tasks.keys()];
          this.#roundAt = now;
        }
        // A partition whose deferred work is still queued (a second boundary's candles) is left
        // for a later turn, unless the round is SNAPSHOT_WAIT_MS old: its snapshot would do that
        // work all at once.
        if (this.#round.length > 0) {
          let at = this.#round.findIndex((p) => !this.#deferred.has(p));
          if (at < 0 && now - this.#roundAt >= SNAPSHOT_WAIT_MS) at = 0;
          if (at >= 0) this.#snapshot(this.#round.splice(at, 1)[0] as number);
        }
        if (this.#failure !== null) throw this.#failure;
      }
    } catch (err) {
      // Stop here: state and offsets must never diverge. stop() still checkpoints what is consistent.
      this.#running = false;
      this.#failure = err;
      this.#o.onError?.(err);
    }
  }

  /**
   * Deferred work of the partitions waiting longest, until COMPLETE_BUDGET_MS is spent; a
   * partition left unfinished goes to the back of the queue, so the others' work does not pile up
   * behind it. When event time crosses a second, each partition's candle work is a few
   * milliseconds (~250 one-second candles turn final); done all at once it would hold every tick
   * that became durable meanwhile for 5-15 ms, so the loop polls again in between.
   */
  #completeSome(): void {
    const deadline = performance.now() + COMPLETE_BUDGET_MS;
    for (const partition of this.#deferred) {
      const done = this.#tasks.get(partition)?.complete?.(deadline) !== false;
      this.#deferred.delete(partition);
      if (!done) this.#deferred.add(partition);
      if (performance.now() >= deadline) break;
    }
  }

  #dispatch(records: readonly LogRecord[], now: number): void {
    // Records come in offset order per partition; hand each partition its contiguous runs.
    let start = 0;
    while (start < records.length) {
      const partition = (records[start] as LogRecord).partition;
      let end = start + 1;
      while (end < records.length && (records[end] as LogRecord).partition === partition) end++;
      const task = this.#tasks.get(partition);
      if (task !== undefined) {
        // A consumer that restarted its fetch (a broker came back) may hand out records this task
        // already has in its state: processing them again would count them twice.
        const next = this.#next.get(partition) ?? 0;
        let from = start;
        while (from < end && (records[from] as LogRecord).offset < next) from++;
        if (from < end) {
          task.process(from === 0 && end === records.length ? records : records.slice(from, end), now);
          if (task.complete !== undefined) this.#deferred.add(partition);
          this.#next.set(partition, (records[end - 1] as LogRecord).offset + 1);
          this.#processed += end - from;
        }
      }
      start = end;
    }
    this.#batches++;
  }

  /**
   * Takes one partition's state and offset now, then queues the write: outputs produced before
   * the snapshot become durable, the checkpoint is saved, the offset committed.
   */
  #snapshot(partition: number): void {
    const task = this.#tasks.get(partition);
    const consumer = this.#consumer;
    if (task === undefined || consumer === null) return;
    const offset = this.#next.get(partition) ?? 0;
    const prev = this.#checkpointed.get(partition);
    const at = this.#now();
    if (prev !== undefined && prev.offset === offset && prev.at > 0 && at - prev.at < (this.#o.checkpointRefreshMs ?? Number.POSITIVE_INFINITY)) return;
    const state = task.snapshot();
    this.#deferred.delete(partition);
    const outputs = task.flush();
    const topic = this.#o.topic;
    this.#persistsInFlight++;
    const write = this.#persisting.then(async () => {
      try {
        await outputs;
        await this.#o.checkpoints.save(this.#o.name, { version: 1, topic, partition, offset, state, writtenAt: at });
        // Only while still owned: a partition handed over meanwhile has a new owner's progress.
        if (this.#tasks.get(partition) === task) this.#checkpointed.set(partition, { offset, at });
        // The group's offset is for lag and visibility; after a rebalance the broker refuses the
        // old owner's commit, which loses nothing since the checkpoint is already saved.
        await consumer.commit([{ topic, partition, offset }]).catch((err: unknown) => this.#o.onCommitError?.(err));
      } finally {
        this.#persistsInFlight--;
      }
    });
    // The chain goes on after a failure so later calls settle; the failure itself stops the loop.
    this.#persisting = write.catch((err: unknown) => {
      this.#failure ??= err;
    });
  }

  /**
   * Snapshots every partition now, then resolves once those checkpoints (and every one queued
   * before) are saved and committed. Rejects if any of them failed.
   */
  async checkpoint(): Promise<void> {
    this.#round = [];
    for (const partition of this.#tasks.keys()) this.#snapshot(partition);
    await this.#persisting;
    if (this.#failure !== null) throw this.#failure;
  }

  /** Resolves when every assigned partition has processed up to `endOffsets` (partition → end), deferred work included. */
  async waitFor(endOffsets: ReadonlyMap<number, number>, pollMs = 20): Promise<void> {
    for (;;) {
      let done = this.#deferred.size === 0;
      for (const [p, end] of endOffsets) if ((this.#next.get(p) ?? 0) < end) done = false;
      if (done) return;
      if (!this.#running) throw this.#failure ?? new Error('runner stopped before reaching the requested offsets');
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  progress(): PartitionProgress[] {
    return [...this.#tasks.keys()].map((partition) => ({
      partition,
      offset: this.#next.get(partition) ?? 0,
      checkpointed: this.#checkpointed.get(partition)?.offset ?? 0,
      lastCheckpointAt: this.#checkpointed.get(partition)?.at ?? 0,
    }));
  }

  stats(): { processed: number; batches: number } {
    return { processed: this.#processed, batches: this.#batches };
  }

  /**
   * Stops without a final checkpoint, as a crash would (tests; fatal errors elsewhere). A later
   * start resumes from the last checkpoint and replays what came after it.
   */
  async abort(): Promise<void> {
    if (this.#consumer === null) return;
    this.#running = false;
    await this.#loop;
    // A checkpoint already queued may land or not; either way state and offsets agree.
    await this.#persisting;
    await this.#consumer.close();
    this.#consumer = null;
  }

  /** Stops polling, flushes, checkpoints, commits and closes: a clean shutdown loses nothing. */
  async stop(): Promise<void> {
    if (this.#consumer === null) return;
    this.#running = false;
    await this.#loop;
    if (this.#failure === null) await this.checkpoint();
    for (const task of this.#tasks.values()) await task.close();
    await this.#consumer.close();
    this.#consumer = null;
  }
}
