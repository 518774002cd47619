-- Classic single- and two-bar candlestick patterns on the daily and one-minute bars.
-- Shapes (body = |close − open|, range = high − low, shadows above and below the body):
--   doji            body ≤ 10 % of range
--   hammer          lower shadow ≥ 2 × body, upper shadow ≤ 25 % of range, after a falling bar
--   hanging_man     the hammer's shape after a rising bar
--   inverted_hammer upper shadow ≥ 2 × body, lower shadow ≤ 25 % of range, after a falling bar
--   shooting_star   the inverted hammer's shape after a rising bar
--   bullish_engulfing / bearish_engulfing  the body engulfs the previous, opposite body
--   marubozu        body ≥ 95 % of range
-- These are the textbook rules, not TA-Lib's CDL* functions (which scale by recent averages).
WITH bars AS (
  SELECT symbol, '1d' AS interval, start, open, high, low, close FROM {{ ref('gold.ohlc_daily') }}
  UNION ALL
  SELECT symbol, '1m' AS interval, start, open, high, low, close FROM {{ ref('gold.ohlc_1m') }}
),
shaped AS (
  SELECT *,
    abs(close - open) AS body,
    high - low AS range,
    high - greatest(open, close) AS upper,
    least(open, close) - low AS lower,
    lag(open) OVER w AS p_open,
    lag(close) OVER w AS p_close
  FROM bars
  WINDOW w AS (PARTITION BY symbol, interval ORDER BY start)
),
found AS (
  SELECT symbol, interval, start, 'doji' AS pattern, 'neutral' AS direction FROM shaped WHERE range > 0 AND body <= 0.1 * range
  UNION ALL
  SELECT symbol, interval, start, CASE WHEN p_close < p_open THEN 'hammer' ELSE 'hanging_man' END, CASE WHEN p_close < p_open THEN 'bullish' ELSE 'bearish' END
  FROM shaped WHERE range > 0 AND body > 0.1 * range AND lower >= 2 * body AND upper <= 0.25 * range AND p_close IS NOT NULL AND p_close <> p_open
  UNION ALL
  SELECT symbol, interval, start, CASE WHEN p_close < p_open THEN 'inverted_hammer' ELSE 'shooting_star' END, CASE WHEN p_close < p_open THEN 'bullish' ELSE 'bearish' END
  FROM shaped WHERE range > 0 AND body > 0.1 * range AND upper >= 2 * body AND lower <= 0.25 * range AND p_close IS NOT NULL AND p_close <> p_open
  UNION ALL
  SELECT symbol, interval, start, 'bullish_engulfing', 'bullish' FROM shaped
  WHERE p_close < p_open AND close > open AND open <= p_close AND close >= p_open AND body > abs(p_close - p_open)
  UNION ALL
  SELECT symbol, interval, start, 'bearish_engulfing', 'bearish' FROM shaped
  WHERE p_close > p_open AND close < open AND open >= p_close AND close <= p_open AND body > abs(p_close - p_open)
  UNION ALL
  SELECT symbol, interval, start, 'marubozu', CASE WHEN close > open THEN 'bullish' ELSE 'bearish' END FROM shaped WHERE range > 0 AND body >= 0.95 * range
)
SELECT * FROM found
ORDER BY start, symbol, interval, pattern
