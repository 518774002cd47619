import { type OhlcvBar, createIndicator } from '../../../../src/processors/indicators/index.js';

/** Streams `bars` through a fresh indicator; outputs aligned to the bars, null during warm-up. */
export function streamOutputs(spec: string, bars: readonly OhlcvBar[]): { first: number; outputs: Record<string, (number | null)[]> } {
  const ind = createIndicator(spec);
  const outputs: Record<string, (number | null)[]> = {};
  for (const o of ind.outputs) outputs[o] = [];
  let first = bars.length;
  bars.forEach((bar, i) => {
    const v = ind.update(bar);
    if (v !== null && first === bars.length) first = i;
    for (const o of ind.outputs) {
      const col = outputs[o] as (number | null)[];
      if (v === null) col.push(null);
      else col.push(typeof v === 'number' ? v : (v as Record<string, number>)[o] as number);
    }
  });
  return { first, outputs };
}
