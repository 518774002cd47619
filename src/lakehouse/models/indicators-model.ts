import { computeIndicators, type OhlcvBar } from '../../processors/indicators/index.js';
import { StockStreamError } from '../../shared/errors.js';
import type { TsModelOperator, TsModelRun } from './model-runner.js';
import { sqlString } from '../../shared/sql.js';

/** Column name of one indicator output: `rsi:14` → rsi_14, `macd:12:26:9` signal → macd_12_26_9_signal. */
export function indicatorColumn(spec: string, output: string): string {
  const base = spec.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_');
  return output === 'value' ? base : `${base}_${output}`;
}

function specsOf(run: TsModelRun): string[] {
  const specs = run.params.specs;
  if (!Array.isArray(specs) || specs.length === 0 || !specs.every((s) => typeof s === 'string')) {
    throw new StockStreamError('SS_MODEL_INVALID', `${run.target}: params.specs: expected a list of indicator specs such as ['sma:20', 'rsi:14'], got ${JSON.stringify(specs)}`);
  }
  return specs as string[];
}


/** Rows inserted per INSERT statement. */
const INSERT_ROWS = 500;

/**
 * The `indicators` TypeScript model operator (issue 3: "Indicators in gold come from the same
 * TypeScript operators as live"): it reads the input bars per symbol in time order and runs
 * `computeIndicators`, the batch driver of the streaming indicator classes the live pipeline
 * uses, so gold equals live for the same bars. One row per input bar, one column per output.
 *
 * Incremental: indicators depend on the whole history before a bar, so every symbol with a new
 * or amended bar is recomputed from its first bar (daily history is short: ~252 bars a year).
 */
export function indicatorsModel(): TsModelOperator {
  return {
    async run(run: TsModelRun): Promise<number> {
      const specs = specsOf(run);
      // Output names come from the indicators themselves; this also validates every spec up front.
      const probe = computeIndicators([], specs).indicators;
      const columns = Object.entries(probe).flatMap(([spec, outs]) => Object.keys(outs).map((o) => ({ spec, output: o, name: indicatorColumn(spec, o) })));
      const ddl = `symbol VARCHAR NOT NULL, date DATE NOT NULL, start BIGINT NOT NULL, ${columns.map((c) => `"${c.name}" DOUBLE`).join(', ')}, _run_id BIGINT NOT NULL`;
      const conn = run.conn;
      let symbols: string[] | null = null;
      if (run.incremental) {
        symbols = (await (await conn.runAndReadAll(`SELECT DISTINCT symbol FROM ${run.increment} ORDER BY symbol`)).getRowObjectsJS()).map((r) => String(r.symbol));
        if (symbols.length === 0) return 0;
        await conn.run(`DELETE FROM ${run.target} WHERE symbol IN (${symbols.map((v) => sqlString(v)).join(', ')})`);
      } else {
        await conn.run(`CREATE OR REPLACE TABLE ${run.target} (${ddl})`);
      }
      const where = symbols === null ? '' : `WHERE symbol IN (${symbols.map((v) => sqlString(v)).join(', ')})`;
      const reader = await conn.runAndReadAll(`SELECT symbol, CAST(date AS VARCHAR) AS date, start, open, high, low, close, volume FROM ${run.input} ${where} ORDER BY symbol, start`);
      const rows = reader.getRowObjectsJS();
      let written = 0;
      let batch: string[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        await conn.run(`INSERT INTO ${run.target} VALUES ${batch.join(', ')}`);
        written += batch.length;
        batch = [];
      };
      for (let i = 0; i < rows.length; ) {
        const symbol = String(rows[i]?.symbol);
        let j = i;
        while (j < rows.length && String(rows[j]?.symbol) === symbol) j++;
        const bars: OhlcvBar[] = [];
        for (let k = i; k < j; k++) {
          const r = rows[k] as Record<string, unknown>;
          bars.push({ open: Number(r.open), high: Number(r.high), low: Number(r.low), close: Number(r.close), volume: Number(r.volume), session: String(r.date) });
        }
        const table = computeIndicators(bars, specs).indicators;
        for (let k = 0; k < bars.length; k++) {
          const r = rows[i + k] as Record<string, unknown>;
          const values = columns.map((c) => {
            const v = table[c.spec]?.[c.output]?.[k];
            // Through a string cast: DuckDB reads a bare 0.1234… literal as DECIMAL, and DECIMAL → DOUBLE may round twice.
            return v === null || v === undefined || !Number.isFinite(v) ? 'NULL' : `'${v}'::DOUBLE`;
          });
          batch.push(`(${sqlString(symbol)}, DATE ${sqlString(String(r.date))}, ${Number(r.start)}, ${values.join(', ')}, ${run.runId})`);
          if (batch.length >= INSERT_ROWS) await flush();
        }
        i = j;
      }
      await flush();
      return written;
    },
  };
}
