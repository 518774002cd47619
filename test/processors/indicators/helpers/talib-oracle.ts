import { createRequire } from 'node:module';
import type { IndicatorSpec, OhlcvBar } from '../../../../src/processors/indicators/index.js';

interface TalibResult {
  begIndex: number;
  nbElement: number;
  result: Record<string, number[]>;
}
interface Talib {
  execute(params: Record<string, unknown>): TalibResult;
}

// talib is a CommonJS native addon and a dev-only test oracle: it never reaches src/.
const talib = createRequire(import.meta.url)('talib') as Talib;

/** TA-Lib output name → our output name, per function. */
const OUTPUTS: Record<string, Record<string, string>> = {
  MACD: { outMACD: 'macd', outMACDSignal: 'signal', outMACDHist: 'histogram' },
  BBANDS: { outRealUpperBand: 'upper', outRealMiddleBand: 'middle', outRealLowerBand: 'lower' },
  STOCH: { outSlowK: 'k', outSlowD: 'd' },
};

/** Runs the TA-Lib function behind `spec` over `bars`; outputs aligned to the bars, null before begIndex. */
export function talibCompute(spec: IndicatorSpec, bars: readonly OhlcvBar[]): { begIndex: number; outputs: Record<string, (number | null)[]> } {
  const n = bars.length;
  const close = bars.map((b) => b.close);
  const hlc = { high: bars.map((b) => b.high), low: bars.map((b) => b.low), close };
  let name: string;
  let params: Record<string, unknown>;
  switch (spec.kind) {
    case 'sma':
    case 'ema':
    case 'wma':
    case 'rsi':
    case 'roc':
      name = spec.kind.toUpperCase();
      params = { inReal: close, optInTimePeriod: spec.period };
      break;
    case 'atr':
    case 'adx':
    case 'cci':
    case 'willr':
      name = spec.kind.toUpperCase();
      params = { ...hlc, optInTimePeriod: spec.period };
      break;
    case 'mfi':
      name = 'MFI';
      params = { ...hlc, volume: bars.map((b) => b.volume), optInTimePeriod: spec.period };
      break;
    case 'obv':
      name = 'OBV';
      params = { inReal: close, volume: bars.map((b) => b.volume) };
      break;
    case 'macd':
      name = 'MACD';
      params = { inReal: close, optInFastPeriod: spec.fast, optInSlowPeriod: spec.slow, optInSignalPeriod: spec.signal };
      break;
    case 'bbands':
      name = 'BBANDS';
      params = { inReal: close, optInTimePeriod: spec.period, optInNbDevUp: spec.k, optInNbDevDn: spec.k, optInMAType: 0 };
      break;
    case 'stoch':
      name = 'STOCH';
      params = {
        ...hlc,
        optInFastK_Period: spec.fastK,
        optInSlowK_Period: spec.slowK,
        optInSlowK_MAType: 0,
        optInSlowD_Period: spec.slowD,
        optInSlowD_MAType: 0,
      };
      break;
    case 'vwap':
      throw new Error('vwap is not a TA-Lib function; use vwapReference');
  }
  const res = talib.execute({ name, startIdx: 0, endIdx: n - 1, ...params });
  const rename = OUTPUTS[name] ?? { outReal: 'value' };
  const outputs: Record<string, (number | null)[]> = {};
  for (const [talibName, ours] of Object.entries(rename)) {
    const values = res.result[talibName];
    if (values === undefined) throw new Error(`talib ${name} returned no ${talibName}`);
    const col = new Array<number | null>(n).fill(null);
    for (let i = 0; i < res.nbElement; i++) col[res.begIndex + i] = values[i] as number;
    outputs[ours] = col;
  }
  // With too few bars TA-Lib reports begIndex 0 and no elements: the first valid index is "none".
  return { begIndex: res.nbElement === 0 ? n : res.begIndex, outputs };
}

/** The straightforward session VWAP the streaming one must equal: recompute each session's sums from scratch. */
export function vwapReference(bars: readonly OhlcvBar[]): (number | null)[] {
  const out: (number | null)[] = [];
  let start = 0;
  for (let i = 0; i < bars.length; i++) {
    if (i > 0 && bars[i]?.session !== bars[i - 1]?.session) start = i;
    let pv = 0;
    let vol = 0;
    for (let j = start; j <= i; j++) {
      const b = bars[j] as OhlcvBar;
      pv += ((b.high + b.low + b.close) / 3) * b.volume;
      vol += b.volume;
    }
    out.push(vol > 0 ? pv / vol : null);
  }
  return out;
}

/** |a - b| within 1e-9 relative, or 1e-9 absolute near zero (the contract's tolerance). */
export function closeEnough(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
}
