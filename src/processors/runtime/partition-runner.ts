import type { Log, LogConsumer, LogRecord, TopicPartition } from '../../log/log.js';
import type { CheckpointStore } from './checkpoint-store.js';

/**
 * The work one input partition needs: the operators of a pipeline plus where their outputs go.
 * `process` never throws for bad records (it dead-letters them); a throw is a bug and stops the
 * runner so state and offsets never diverge.
 */
export interface PartitionTask<State> {
  process(records: readonly LogRecord[], now: number): void;
  onTimer(now: number): void;
  /** Resolves once every output produced so far is durable. */
  flush(): Promise<void>;
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
  now?: () => number;
  onError?: (err: unknown) => void;
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
 * each checkpoint interval wait for outputs to be durable, save operator state with the offsets it
 * covers, then commit those offsets to the group. A restart restores each partition's state and
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
  #checkpointing: Promise<void> = Promise.resolve();

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
    for (const tp of consumer.assignment()) await this.#assign(consumer, tp);
    this.#running = true;
    this.#loop = this.#run(consumer);
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
        const records = await consumer.poll({ maxRecords: this.#o.maxRecords ?? 20_000, timeoutMs: this.#o.pollTimeoutMs ?? 100 });
        const now = this.#now();
        if (records.length > 0) this.#dispatch(records, now);
        if (now - lastTimer >= timerEvery) {
          lastTimer = now;
          for (const task of this.#tasks.values()) task.onTimer(now);
        }
        if (now - lastCheckpoint >= this.#o.checkpointIntervalMs) {
          lastCheckpoint = now;
          await this.checkpoint();
        }
      }
    } catch (err) {
      // Stop here: state and offsets must never diverge. stop() still checkpoints what is consistent.
      this.#running = false;
      this.#failure = err;
      this.#o.onError?.(err);
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
        const slice = start === 0 && end === records.length ? records : records.slice(start, end);
        task.process(slice, now);
        this.#next.set(partition, (records[end - 1] as LogRecord).offset + 1);
        this.#processed += end - start;
      }
      start = end;
    }
    this.#batches++;
  }

  /**
   * Flushes outputs, saves every partition's state with its offset, then commits the offsets.
   * Calls are serialised: the loop's periodic checkpoint and an explicit one never interleave.
   */
  checkpoint(): Promise<void> {
    const next = this.#checkpointing.then(() => this.#checkpointNow());
    this.#checkpointing = next.catch(() => undefined);
    return next;
  }

  async #checkpointNow(): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === null) return;
    const commits = [];
    for (const [partition, task] of this.#tasks) {
      await task.flush();
      const offset = this.#next.get(partition) ?? 0;
      const prev = this.#checkpointed.get(partition);
      if (prev !== undefined && prev.offset === offset && prev.at > 0) continue;
      const at = this.#now();
      await this.#o.checkpoints.save(this.#o.name, {
        version: 1,
        topic: this.#o.topic,
        partition,
        offset,
        state: task.snapshot(),
        writtenAt: at,
      });
      this.#checkpointed.set(partition, { offset, at });
      commits.push({ topic: this.#o.topic, partition, offset });
    }
    if (commits.length > 0) await consumer.commit(commits);
  }

  /** Resolves when every assigned partition has processed up to `endOffsets` (partition → end). */
  async waitFor(endOffsets: ReadonlyMap<number, number>, pollMs = 20): Promise<void> {
    for (;;) {
      let done = true;
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
