import { createIndicator } from './create-indicator.js';
import type { OhlcvBar } from './indicator.js';
import { parseIndicatorSpec } from './spec.js';

export interface IndicatorTable {
  rows: number;
  /** spec (as given, trimmed) → output name → values aligned to the input rows, null in warm-up. */
  indicators: Record<string, Record<string, (number | null)[]>>;
}

/**
 * Batch indicators for `stockstream indicators` (ARCHITECTURE.md §5). It drives the same streaming
 * classes as the live pipeline (§2 "one code path for stream and batch"), one indicator at a time
 * over all rows so each loop stays monomorphic. All specs are validated before any work starts.
 */
export function computeIndicators(rows: readonly OhlcvBar[], specs: readonly string[]): IndicatorTable {
  const parsed = specs.map((s) => ({ key: String(s).trim(), spec: parseIndicatorSpec(s) }));
  const indicators: IndicatorTable['indicators'] = {};
  const n = rows.length;
  for (const { key, spec } of parsed) {
    if (Object.hasOwn(indicators, key)) continue;
    const indicator = createIndicator(spec);
    const outputs = indicator.outputs;
    const columns: Record<string, (number | null)[]> = {};
    if (outputs.length === 1) {
      const column = new Array<number | null>(n);
      for (let i = 0; i < n; i++) column[i] = indicator.update(rows[i] as OhlcvBar) as number | null;
      columns[outputs[0] as string] = column;
    } else {
      const cols = outputs.map(() => new Array<number | null>(n).fill(null));
      for (let i = 0; i < n; i++) {
        const v = indicator.update(rows[i] as OhlcvBar) as Record<string, number> | null;
        if (v === null) continue;
        for (let o = 0; o < outputs.length; o++) (cols[o] as (number | null)[])[i] = v[outputs[o] as string] as number;
      }
      outputs.forEach((name, o) => (columns[name] = cols[o] as (number | null)[]));
    }
    indicators[key] = columns;
  }
  return { rows: n, indicators };
}
