import { INTERVALS } from '../../domain/index.js';
import { StockStreamError } from '../../shared/errors.js';

/**
 * Wire format (client → server), one JSON object per text frame:
 *   {"type":"subscribe","symbols":["AAPL","MSFT"],"channels":["ticks","candles:1m","kpis"]}
 *   {"type":"unsubscribe","symbols":["*"],"channels":["kpis"]}
 * "*" in symbols means every symbol, including ones that appear later.
 */
export interface ClientMessage {
  type: 'subscribe' | 'unsubscribe';
  symbols: string[];
  channels: string[];
}

/** Notices that data behind the non-live panels changed (a lake run); subscribe with symbols ["*"]. */
export const REFRESH_CHANNEL = 'refresh';
export const STREAM_CHANNELS: readonly string[] = Object.freeze(['ticks', 'kpis', ...INTERVALS.map((i) => `candles:${i}`), REFRESH_CHANNEL]);
/** Per message; bounds the work one message can cause. */
export const MAX_SYMBOLS_PER_MESSAGE = 1_000;

const SYMBOL_RE = /^[A-Z0-9][A-Z0-9.\-:/^=_]{0,31}$/;

function bad(message: string): StockStreamError {
  return new StockStreamError('SS_API_BAD_REQUEST', message);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

export function parseClientMessage(text: string): ClientMessage | StockStreamError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad(`message: expected JSON like {"type":"subscribe","symbols":["AAPL"],"channels":["kpis"]}, got invalid JSON ${show(text)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return bad(`message: expected a JSON object with type, symbols and channels, got ${show(value)}`);
  }
  const o = value as Record<string, unknown>;
  const type = o['type'];
  if (type !== 'subscribe' && type !== 'unsubscribe') {
    return bad(`type: expected "subscribe" or "unsubscribe", got ${show(type)}`);
  }
  const symbols = o['symbols'];
  if (!Array.isArray(symbols) || symbols.length === 0) {
    return bad(`symbols: expected a non-empty array of tickers or ["*"], got ${show(symbols)}`);
  }
  if (symbols.length > MAX_SYMBOLS_PER_MESSAGE) {
    return bad(`symbols: at most ${MAX_SYMBOLS_PER_MESSAGE} per message, got ${symbols.length}; use ["*"] for every symbol or split the message`);
  }
  for (const s of symbols) {
    if (typeof s !== 'string' || (s !== '*' && !SYMBOL_RE.test(s))) {
      return bad(`symbols: expected upper-case tickers like "AAPL" or "*", got ${show(s)}`);
    }
  }
  const channels = o['channels'];
  if (!Array.isArray(channels) || channels.length === 0) {
    return bad(`channels: expected a non-empty array from ${STREAM_CHANNELS.join(', ')}, got ${show(channels)}`);
  }
  for (const c of channels) {
    if (typeof c !== 'string' || !STREAM_CHANNELS.includes(c)) {
      return bad(`channels: expected one of ${STREAM_CHANNELS.join(', ')}, got ${show(c)}`);
    }
  }
  return { type, symbols: [...new Set(symbols as string[])], channels: [...new Set(channels as string[])] };
}
