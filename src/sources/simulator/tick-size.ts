import type { ExchangeCode } from '../../domain/index.js';

/**
 * Minimum price increments.
 * - NYSE/NASDAQ: $0.01 at or above $1, $0.0001 below (SEC Reg NMS Rule 612).
 * - HOSE: 10 VND below 10,000; 50 VND from 10,000 to below 50,000; 100 VND from 50,000 (HOSE trading
 *   regulation for stocks and fund certificates).
 * - HNX: 100 VND flat.
 * - CRYPTO: 0.01.
 */
export function tickSize(exchange: ExchangeCode, price: number): number {
  switch (exchange) {
    case 'HOSE':
      return price < 10_000 ? 10 : price < 50_000 ? 50 : 100;
    case 'HNX':
      return 100;
    case 'NYSE':
    case 'NASDAQ':
      return price < 1 ? 0.0001 : 0.01;
    case 'CRYPTO':
      return 0.01;
  }
}

export type TickRounding = 'floor' | 'ceil' | 'nearest';

/**
 * Rounds onto the exchange's tick grid. Sub-unit ticks are computed in integer tick counts and
 * divided back (n / 100 is the double nearest to the decimal n/100, so 190.07 prints as 190.07);
 * tiered grids are re-checked because rounding can cross a tier boundary (49,990 → 50,000).
 */
export function roundToTick(exchange: ExchangeCode, price: number, mode: TickRounding): number {
  const tick = tickSize(exchange, price);
  const rounded = onGrid(price, tick, mode);
  const tick2 = tickSize(exchange, rounded);
  return tick2 === tick ? rounded : onGrid(rounded, tick2, mode);
}

/** The next price on the grid strictly above `price` (which must already be on the grid). */
export function tickUp(exchange: ExchangeCode, price: number): number {
  return roundToTick(exchange, price + tickSize(exchange, price) * 1.000001, 'floor');
}

/** True when `price` sits on the exchange's grid (within float noise for cent grids). */
export function isOnTick(exchange: ExchangeCode, price: number): boolean {
  const tick = tickSize(exchange, price);
  const n = price / tick;
  return Math.abs(n - Math.round(n)) < 1e-6;
}

function onGrid(price: number, tick: number, mode: TickRounding): number {
  if (tick >= 1) {
    const n = mode === 'floor' ? Math.floor(price / tick + 1e-9) : mode === 'ceil' ? Math.ceil(price / tick - 1e-9) : Math.round(price / tick);
    return n * tick;
  }
  const scale = Math.round(1 / tick);
  const x = price * scale;
  const n = mode === 'floor' ? Math.floor(x + 1e-7) : mode === 'ceil' ? Math.ceil(x - 1e-7) : Math.round(x);
  return n / scale;
}
