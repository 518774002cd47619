/**
 * The U-shaped intraday activity curve: trading is heaviest just after the open and before the
 * close and quietest at midday (Admati & Pfleiderer 1988; Jain & Joh 1988). `x` is the position in
 * the session, 0 at the open and 1 at the close. The curve is normalised to a time-average of 1 so
 * that `ratePerSec` stays the average event rate over a session.
 */

/** Length of the synthetic day used when no session calendar is given: NYSE's 6.5 hours. */
export const SYNTHETIC_DAY_MS = 23_400_000;

const OPEN_BOOST = 2.2;
const CLOSE_BOOST = 1.6;
const DECAY = 0.05;
const BOWL = 0.3;

function raw(x: number): number {
  const c = 2 * x - 1;
  return 1 + OPEN_BOOST * Math.exp(-x / DECAY) + CLOSE_BOOST * Math.exp(-(1 - x) / DECAY) + BOWL * c * c;
}

const MEAN = ((): number => {
  const n = 10_000;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += raw((i + 0.5) / n);
  return sum / n;
})();

export function intradayIntensity(x: number): number {
  const clamped = x < 0 ? 0 : x > 1 ? 1 : x;
  return raw(clamped) / MEAN;
}
