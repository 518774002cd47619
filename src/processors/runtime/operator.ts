/**
 * The operator contract (ARCHITECTURE.md §4 "Operator"), after Arroyo's ArrowOperator: every
 * stage of stream processing is an operator that takes batches and writes its outputs into the
 * array it is given (no per-event promises or closures). Every hook has a pass-through default in
 * `BaseOperator`, so an operator overrides only what it needs.
 *
 * Order of calls made by the runner for one partition:
 *   restore(state)? → (processBatch | onWatermark | onTimer)* → onCheckpoint()* → close()
 * Watermarks are event-time, epoch ms, and never go backwards.
 */
export interface Operator<In, Out, State = unknown> {
  readonly name: string;
  /** Processes a batch in arrival order; pushes outputs to `out`. */
  processBatch(batch: readonly In[], out: Out[]): void;
  /** Event time has advanced to `watermark`: close what it completes. */
  onWatermark(watermark: number, out: Out[]): void;
  /** Wall-clock tick from the runner (epoch ms): idle work, expiry. */
  onTimer(now: number, out: Out[]): void;
  /** A JSON-serialisable snapshot of the state; restoring it and replaying later input converges. */
  onCheckpoint(): State;
  restore(state: State): void;
  /** End of stream: flush what is open. */
  close(out: Out[]): void;
}

export abstract class BaseOperator<In, Out, State = unknown> implements Operator<In, Out, State> {
  abstract readonly name: string;

  processBatch(batch: readonly In[], out: Out[]): void {
    for (let i = 0; i < batch.length; i++) out.push(batch[i] as unknown as Out);
  }

  onWatermark(_watermark: number, _out: Out[]): void {}

  onTimer(_now: number, _out: Out[]): void {}

  onCheckpoint(): State {
    return undefined as State;
  }

  restore(_state: State): void {}

  close(_out: Out[]): void {}
}
