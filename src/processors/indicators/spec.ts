import { StockStreamError } from '../../shared/errors.js';

/**
 * Indicator specs as users write them (ARCHITECTURE.md §5): `sma:N ema:N wma:N rsi:N macd:F:S:G
 * bbands:N:K atr:N stoch:K:SK:D adx:N cci:N willr:N mfi:N obv roc:N vwap`. Period bounds are
 * TA-Lib's (each function's optInTimePeriod range), so every spec we accept TA-Lib accepts too.
 */
export type PeriodKind = 'sma' | 'ema' | 'wma' | 'rsi' | 'atr' | 'adx' | 'cci' | 'willr' | 'mfi' | 'roc';

export type IndicatorSpec =
  | { kind: PeriodKind; spec: string; period: number }
  | { kind: 'macd'; spec: string; fast: number; slow: number; signal: number }
  | { kind: 'bbands'; spec: string; period: number; k: number }
  | { kind: 'stoch'; spec: string; fastK: number; slowK: number; slowD: number }
  | { kind: 'obv'; spec: string }
  | { kind: 'vwap'; spec: string };

export const MAX_PERIOD = 100_000;

/** Smallest period TA-Lib accepts for each one-period indicator. */
const MIN_PERIOD: Record<PeriodKind, number> = {
  sma: 2,
  ema: 2,
  wma: 2,
  rsi: 2,
  atr: 1,
  adx: 2,
  cci: 2,
  willr: 2,
  mfi: 2,
  roc: 1,
};

const EXAMPLES: Record<IndicatorSpec['kind'], string> = {
  sma: 'sma:20',
  ema: 'ema:20',
  wma: 'wma:20',
  rsi: 'rsi:14',
  atr: 'atr:14',
  adx: 'adx:14',
  cci: 'cci:20',
  willr: 'willr:14',
  mfi: 'mfi:14',
  roc: 'roc:10',
  macd: 'macd:12:26:9',
  bbands: 'bbands:20:2',
  stoch: 'stoch:14:3:3',
  obv: 'obv',
  vwap: 'vwap',
};

const PARAMS: Record<IndicatorSpec['kind'], readonly string[]> = {
  sma: ['period'],
  ema: ['period'],
  wma: ['period'],
  rsi: ['period'],
  atr: ['period'],
  adx: ['period'],
  cci: ['period'],
  willr: ['period'],
  mfi: ['period'],
  roc: ['period'],
  macd: ['fast period', 'slow period', 'signal period'],
  bbands: ['period', 'stddev multiplier'],
  stoch: ['fast %K period', 'slow %K period', 'slow %D period'],
  obv: [],
  vwap: [],
};

export const INDICATOR_KINDS = Object.freeze(Object.keys(EXAMPLES)) as readonly IndicatorSpec['kind'][];

function isKind(name: string): name is IndicatorSpec['kind'] {
  return Object.hasOwn(EXAMPLES, name);
}

function specError(spec: string, what: string, example: string): StockStreamError {
  return new StockStreamError('SS_INDICATOR_SPEC', `indicator "${spec}": ${what}; e.g. ${example}`, {
    context: { spec },
  });
}

/** Parses and validates one spec; the result's `spec` is canonical (lower case, no spaces, K as a plain number). */
export function parseIndicatorSpec(input: string): IndicatorSpec {
  const text = String(input).trim();
  const parts = text.split(':').map((p) => p.trim());
  const name = (parts[0] ?? '').toLowerCase();
  if (!isKind(name)) {
    throw new StockStreamError(
      'SS_INDICATOR_SPEC',
      `indicator "${text}": unknown indicator "${name}"; expected one of ${INDICATOR_KINDS.join(', ')}, e.g. rsi:14 or macd:12:26:9`,
      { context: { spec: text } },
    );
  }
  const example = EXAMPLES[name];
  const names = PARAMS[name];
  const args = parts.slice(1);
  if (args.length !== names.length) {
    const expected = names.length === 0 ? 'no parameters' : `${names.length} parameter${names.length > 1 ? 's' : ''} (${names.join(', ')})`;
    throw specError(text, `expected ${expected}, got ${args.length}`, example);
  }
  const int = (i: number, min: number): number => {
    const raw = args[i] as string;
    const v = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(v) || v < min) {
      throw specError(text, `${names[i]} must be an integer >= ${min}, got "${raw}"`, example);
    }
    if (v > MAX_PERIOD) throw specError(text, `${names[i]} must be at most ${MAX_PERIOD} (TA-Lib's limit), got "${raw}"`, example);
    return v;
  };
  switch (name) {
    case 'obv':
    case 'vwap':
      return { kind: name, spec: name };
    case 'macd': {
      const fast = int(0, 2);
      const slow = int(1, 2);
      // TA-Lib documents signal >= 1, but its MACD takes the EMA lookback of 1 as -1 and returns
      // memory it never wrote (begIndex one bar early, a first value like 4e-322): no oracle, refused.
      const signal = int(2, 2);
      if (fast >= slow) {
        throw specError(text, `fast period must be smaller than slow period, got fast ${fast} and slow ${slow}`, example);
      }
      return { kind: name, spec: `macd:${fast}:${slow}:${signal}`, fast, slow, signal };
    }
    case 'bbands': {
      const period = int(0, 2);
      const raw = args[1] as string;
      const k = /^\d*\.?\d+$|^\d+\.$/.test(raw) ? Number(raw) : Number.NaN;
      if (!(k > 0) || !Number.isFinite(k)) {
        throw specError(text, `stddev multiplier must be a positive number, got "${raw}"`, example);
      }
      return { kind: name, spec: `bbands:${period}:${k}`, period, k };
    }
    case 'stoch': {
      const fastK = int(0, 1);
      const slowK = int(1, 1);
      const slowD = int(2, 1);
      return { kind: name, spec: `stoch:${fastK}:${slowK}:${slowD}`, fastK, slowK, slowD };
    }
    default: {
      const period = int(0, MIN_PERIOD[name]);
      return { kind: name, spec: `${name}:${period}`, period };
    }
  }
}
