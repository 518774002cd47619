import type { Candle, MarketEvent } from '../../../src/domain/index.js';
import type { CandleOperator } from '../../../src/processors/candles/index.js';
import type { Target } from '../../golden/candles/random-session.js';

/** Adapts the operator to the step driver shared with the reference model. */
export function operatorTarget(op: CandleOperator): Target {
  return {
    batch(events: readonly MarketEvent[]): Candle[] {
      const out: Candle[] = [];
      op.processBatch(events, out);
      return out;
    },
    watermark(wm: number): Candle[] {
      const out: Candle[] = [];
      op.onWatermark(wm, out);
      return out;
    },
  };
}
